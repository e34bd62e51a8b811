package setup

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

func resultByName(r Report, name string) (Result, bool) {
	for _, c := range r.Results {
		if c.Name.In("en") == name {
			return c, true
		}
	}
	return Result{}, false
}

// A service owner's scope that is on the client but not granted to the
// vendor itself (MP-250, or a bare forbidden) is fine: the access comes
// with the customer's system user.
func TestProductScopeWithoutDirectAccess(t *testing.T) {
	t.Parallel()
	for _, refusal := range []*maskinporten.Error{
		{StatusCode: 400, Code: "invalid_scope", Description: "MP-250 Consumer has not been granted access to the scope"},
		{StatusCode: 403, Code: "forbidden"},
	} {
		s, p, _ := service(t, nil)
		p.refuse[productScope] = refusal
		r := s.Check(context.Background())
		if !r.OK() {
			t.Fatalf("%v: not ok:\n%s", refusal, strings.Join(failing(r), "\n"))
		}
		c, ok := resultByName(r, "token for "+productScope+" (product standard, agent)")
		if !ok {
			t.Fatalf("no line for the product scope")
		}
		if line := c.Line("en"); !strings.Contains(line, "on the client") || !strings.Contains(line, "system user") {
			t.Errorf("line: %s", line)
		}
	}
}

// When Maskinporten does not answer at all, the clock line says so rather
// than blaming a missing Date header.
func TestClockSkipWhenMaskinportenDoesNotAnswer(t *testing.T) {
	t.Parallel()
	s, p, _ := service(t, nil)
	for _, sc := range append(Scopes, productScope) {
		p.refuse[sc] = errors.New("dial tcp: connection refused")
	}
	r := s.Check(context.Background())
	c, _ := resultByName(r, "clock")
	if c.Status != Skip || !strings.Contains(c.Line("en"), "Maskinporten did not answer") {
		t.Errorf("clock: %s", c.Line("en"))
	}
}

// The failure summary names the system of each per-system check.
func TestFailingNamesTheSystem(t *testing.T) {
	t.Parallel()
	s, _, reg := service(t, nil)
	reg.systems[sysID].ClientIDs = nil
	reg.systems[sysID].AllowedRedirectURLs = nil
	got := strings.Join(s.Check(context.Background()).Failing(), "; ")
	if want := "redirect URL on system " + sysID + "; client id on system " + sysID; got != want {
		t.Errorf("Failing = %q, want %q", got, want)
	}
}

func TestConsumerOrg(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ token, want string }{
		{fakeToken("123456789"), "123456789"},
		{fakeToken(""), ""},
		{"secret", ""},
		{"a.!!!.b", ""},
		{fakeToken("12345"), ""},
		// One Altinn example writes "id" in lower case (maskinporten.md §4, UNCONFIRMED).
		{"h." + base64.RawURLEncoding.EncodeToString([]byte(`{"consumer":{"authority":"iso6523-actorid-upis","id":"0192:123456789"}}`)) + ".s", "123456789"},
	} {
		if got := ConsumerOrg(tt.token); got != tt.want {
			t.Errorf("ConsumerOrg(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}

// listingRegister is a fakeRegister that also lists the vendor's systems.
type listingRegister struct{ *fakeRegister }

func (l listingRegister) ListSystems(context.Context) ([]altinn.SystemSummary, error) {
	var out []altinn.SystemSummary
	for id := range l.systems {
		out = append(out, altinn.SystemSummary{ID: id})
	}
	return out, nil
}

// The service's ExplainRefusal says what the package's cannot know: that
// a 403 comes from a system id of another organisation than the client's,
// and which system holds the client id of a VLD-00004.
func TestServiceExplainRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, p, reg := service(t, nil)
	p.org = "123456789"
	forbidden := errors.Join(altinn.ErrNotOwner, &altinn.Problem{Status: http.StatusForbidden})
	got := s.ExplainRefusal(ctx, sysID, forbidden)
	translated(t, got...)
	if line := got[0].In("en"); !strings.Contains(line, "starts with 991825827, but your Maskinporten client belongs to 123456789") {
		t.Errorf("403: %q", line)
	}
	// Same organisation: the plain explanation.
	p.org = "991825827"
	if line := s.ExplainRefusal(ctx, sysID, forbidden)[0].In("en"); line != T("setup.refused.owner").In("en") {
		t.Errorf("403, same org: %q", line)
	}

	vld := &altinn.Problem{Status: 400, Validation: []altinn.ValidationError{{Code: "AUTH.VLD-00004"}}}
	if line := s.ExplainRefusal(ctx, "991825827_new", vld)[0].In("en"); !strings.Contains(line, "client onboard-dev is already on another system") {
		t.Errorf("VLD-00004 without a list: %q", line)
	}
	s.Register = listingRegister{reg}
	got = s.ExplainRefusal(ctx, "991825827_new", vld)
	translated(t, got...)
	if line := got[0].In("en"); !strings.Contains(line, "client onboard-dev is already on system "+sysID) {
		t.Errorf("VLD-00004: %q", line)
	}
}

// The texts read as whole sentences, with the number of things in mind.
func TestWordings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text Text
		lang string
		want string
	}{
		{T("setup.detail.token.ok"), "nb", "Maskinporten utstedte et token"},
		{T("setup.detail.clock.ok", "0 s"), "nb", "innenfor 0 s av Maskinportens klokke"},
		{T("setup.detail.clock.ok", "0 s"), "en", "within 0 s of Maskinporten's clock"},
		{T("setup.detail.access.ok.one"), "nb", "den finnes på systemet"},
		{T("setup.detail.access.ok.one"), "en", "it is on the system"},
		{T("setup.detail.access.ok", 2), "en", "all 2 are on the system"},
	} {
		if got := tt.text.In(tt.lang); got != tt.want {
			t.Errorf("%s in %s = %q, want %q", tt.text.Key, tt.lang, got, tt.want)
		}
	}
	// One right: "it", not "them"; two: "them".
	one := func(vars map[string]string, setup func(r *fakeRegister)) Result {
		s, _, reg := service(t, vars)
		setup(reg)
		for _, c := range s.Check(context.Background()).Results {
			if c.ID == "access" && c.Status == Fail {
				return c
			}
		}
		t.Fatal("no failing access check")
		return Result{}
	}
	c := one(nil, func(r *fakeRegister) { r.systems[sysID].Rights = nil })
	if f := c.Fix.In("en"); !strings.HasPrefix(f, "add it ") {
		t.Errorf("one missing: %q", f)
	}
	if d := c.Detail.In("nb"); !strings.Contains(d, right) {
		t.Errorf("nb detail: %q", d)
	}
	c = one(nil, func(r *fakeRegister) { r.systems[sysID].Rights = nil; r.systems[sysID].AccessPackages = nil })
	if f := c.Fix.In("en"); !strings.HasPrefix(f, "add them ") {
		t.Errorf("two missing: %q", f)
	}
	// A product with one thing that is on the system.
	s, _, _ := service(t, nil)
	for _, c := range s.Check(context.Background()).Results {
		if c.ID == "access" && strings.Contains(c.Detail.In("en"), "all 1") {
			t.Errorf("singular: %s", c.Line("en"))
		}
	}
}
