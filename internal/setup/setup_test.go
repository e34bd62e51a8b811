package setup

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

const (
	sysID       = "991825827_smartcloud"
	right       = "ske-krav-og-betalinger"
	pkgStandard = "urn:altinn:accesspackage:skattegrunnlag"
	pkgClient   = "urn:altinn:accesspackage:regnskapsforer-lonn"
	pkgAdmin    = "urn:altinn:accesspackage:tilgangsstyrer"
	// productScope is the default products' system-user scope in sim mode.
	productScope = "altinn:accessmanagement/authorizedparties"
)

// load builds a config from the defaults (the simulator's demo products)
// with vars on top.
func load(t *testing.T, vars map[string]string) *config.Config {
	t.Helper()
	env := map[string]string{"ONBOARD_DATA_DIR": t.TempDir()}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDefinitionsOfTheDefaultProducts(t *testing.T) {
	t.Parallel()
	cfg := load(t, nil)
	got, err := Definitions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []Wanted{{
		System: altinn.RegisteredSystem{
			ID:     sysID,
			Vendor: altinn.Vendor{Authority: "iso6523-actorid-upis", ID: "0192:991825827"},
			Name:   map[string]string{"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
			Description: map[string]string{
				"nb": "SmartCloud henter og sender opplysninger for kundene sine med en systembruker i Altinn.",
				"nn": "SmartCloud hentar og sender opplysningar for kundane sine med ein systembrukar i Altinn.",
				"en": "SmartCloud fetches and sends information for its customers with an Altinn system user.",
			},
			// The agent product's package is in the union; rights come
			// from standard products only.
			Rights:              []altinn.Right{Right(right)},
			AccessPackages:      []altinn.AccessPackage{{URN: pkgStandard}, {URN: pkgClient}},
			ClientIDs:           []string{config.SimClientID},
			AllowedRedirectURLs: []string{"http://localhost:8080/return"},
			IsVisible:           true,
		},
		Products: cfg.Products,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("definitions (-want +got):\n%s", diff)
	}
}

func TestDefinitionsOfConfiguredProducts(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{
		"ONBOARD_PUBLIC_URL": "https://onboard.example.no",
		"ONBOARD_PRODUCTS": `[
		 {"id":"a","kind":"standard","systemId":"991825827_one","rights":["r1","r2"],"accessPackages":["` + pkgStandard + `"],
		  "systemName":{"nb":"Én","en":"One"},"systemDescription":{"nb":"Beskrivelse"}},
		 {"id":"b","kind":"standard","systemId":"991825827_one","rights":["r2","r3"],"accessPackages":["URN:altinn:accesspackage:SKATTEGRUNNLAG"]},
		 {"id":"c","kind":"agent","systemId":"991825827_two","accessPackages":["` + pkgClient + `"]}]`,
	})
	got, err := Definitions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].System.ID != "991825827_one" || got[1].System.ID != "991825827_two" {
		t.Fatalf("systems: %+v", got)
	}
	one, two := got[0], got[1]
	if diff := cmp.Diff([]altinn.Right{Right("r1"), Right("r2"), Right("r3")}, one.System.Rights); diff != "" {
		t.Errorf("rights are the union, each once (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]altinn.AccessPackage{{URN: pkgStandard}}, one.System.AccessPackages); diff != "" {
		t.Errorf("packages compare without case (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"nb": "Én", "nn": "Én", "en": "One"}, one.System.Name); diff != "" || !one.NameSet {
		t.Errorf("configured name, nn from nb (-want +got):\n%s", diff)
	}
	if one.System.Description["en"] != "Beskrivelse" || !one.DescriptionSet {
		t.Errorf("a description only in nb fills en: %v", one.System.Description)
	}
	if len(two.System.Rights) != 0 || two.NameSet || two.System.Name["nn"] != "SmartCloud" {
		t.Errorf("agent system: %+v", two.System)
	}
	if two.System.AllowedRedirectURLs[0] != "https://onboard.example.no/return" {
		t.Errorf("redirect: %v", two.System.AllowedRedirectURLs)
	}
}

func TestVendorOrgNo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		id, org string
		ok      bool
	}{
		{"991825827_smartcloud", "991825827", true},
		{"991825827_a_b", "991825827", true},
		{"991825827", "", false},
		{"99182582_x", "", false},
		{"99182582a_x", "", false},
		{"991825827_", "", false},
		{"991825827_a b", "", false},
	} {
		org, err := VendorOrgNo(tt.id)
		if org != tt.org || (err == nil) != tt.ok {
			t.Errorf("VendorOrgNo(%q) = %q, %v", tt.id, org, err)
		}
		if err != nil && !strings.Contains(err.Error(), "<vendor orgno>_<name>") {
			t.Errorf("VendorOrgNo(%q): the error does not say the form: %v", tt.id, err)
		}
	}
}

// TestSameRedirectURL is systemregister.md §5's table of Altinn's rule.
func TestSameRedirectURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, a, b string
		same       bool
	}{
		{"identical", "https://h.no/return", "https://h.no/return", true},
		{"query ignored", "https://h.no/return?ref=abc", "https://h.no/return", true},
		{"fragment ignored", "https://h.no/return#x", "https://h.no/return?y=1", true},
		{"host case", "https://H.NO/return", "https://h.no/return", true},
		{"scheme case", "HTTPS://h.no/return", "https://h.no/return", true},
		{"default https port", "https://h.no:443/return", "https://h.no/return", true},
		{"default http port", "http://localhost:80/return", "http://localhost/return", true},
		{"empty path is /", "https://h.no", "https://h.no/", true},
		{"empty path with query", "https://h.no?x=1", "https://h.no/", true},
		{"blanks around", " https://h.no/return ", "https://h.no/return", true},
		{"path case", "https://h.no/Return", "https://h.no/return", false},
		{"trailing slash on a path", "https://h.no/return/", "https://h.no/return", false},
		{"sub-path", "https://h.no/return/x", "https://h.no/return", false},
		{"http vs https", "http://h.no/return", "https://h.no/return", false},
		{"other port", "https://h.no:8443/return", "https://h.no/return", false},
		{"other host", "https://g.no/return", "https://h.no/return", false},
		{"relative", "/return", "/return", false},
		{"not a URL", "::", "::", false},
		{"ipv6", "https://[::1]:443/return", "https://[::1]/return", true},
	} {
		if got := SameRedirectURL(tt.a, tt.b); got != tt.same {
			t.Errorf("%s: SameRedirectURL(%q, %q) = %v", tt.name, tt.a, tt.b, got)
		}
		if got := SameRedirectURL(tt.b, tt.a); got != tt.same {
			t.Errorf("%s: not symmetric", tt.name)
		}
	}
}

func TestSameRight(t *testing.T) {
	t.Parallel()
	two := altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: "a"}, {ID: "urn:altinn:org", Value: "b"}}}
	swapped := altinn.Right{Action: "read", Resource: []altinn.AttributePair{{ID: "urn:altinn:org", Value: "b"}, {ID: "URN:altinn:resource", Value: "a"}}}
	if !SameRight(two, swapped) || SameRight(two, Right("a")) || !SameRight(Right("a"), Right("a")) || SameRight(Right("a"), Right("A")) {
		t.Error("SameRight does not follow Altinn's rule: pairs in any order, the action ignored, values exact")
	}
	if RightName(Right("a")) != "a" || RightName(two) != "urn:altinn:resource=a+urn:altinn:org=b" {
		t.Errorf("RightName: %q, %q", RightName(Right("a")), RightName(two))
	}
}

// kinds says which test packages are client-only.
func kinds(urn string) (bool, bool) {
	switch strings.ToLower(urn) {
	case pkgClient:
		return true, true
	case pkgStandard, pkgAdmin:
		return false, true
	}
	return false, false
}

// altinnHas is what the register holds in the merge tests: the service's
// right and client, another vendor-owned client, another redirect URL, a
// package and a right the configuration does not mention, names of its own.
func altinnHas() *altinn.RegisteredSystem {
	return &altinn.RegisteredSystem{
		ID: sysID, Vendor: altinn.Vendor{ID: "0192:991825827"},
		Name:                map[string]string{"nb": "SmartCloud Regnskap", "nn": "SmartCloud Rekneskap", "en": "SmartCloud Accounting", "se": "SmartCloud"},
		Description:         map[string]string{"nb": "Gammel"},
		Rights:              []altinn.Right{Right(right), Right("other-right")},
		AccessPackages:      []altinn.AccessPackage{{URN: pkgAdmin}},
		ClientIDs:           []string{"other-client"},
		AllowedRedirectURLs: []string{"https://other.example/return", "HTTP://LOCALHOST:8080/return?x=1"},
		IsVisible:           true,
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	cfg := load(t, nil)
	wants, err := Definitions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := wants[0]
	owned := want
	owned.NameSet = true
	owned.System.Name = map[string]string{"nb": "Ny", "nn": "Ny", "en": "New"}

	tests := []struct {
		name        string
		want        Wanted
		have        *altinn.RegisteredSystem
		prune       bool
		create      bool
		changes     []Change
		kept        []Kept
		visible     bool
		redirects   []string
		clients     []string
		packageURNs []string
	}{
		{
			name: "not registered: create it all", want: want, create: true,
			changes: []Change{
				{"name.nb", "", "SmartCloud"}, {"name.nn", "", "SmartCloud"}, {"name.en", "", "SmartCloud"},
				{"description.nb", "", want.System.Description["nb"]}, {"description.nn", "", want.System.Description["nn"]},
				{"description.en", "", want.System.Description["en"]},
				{"rights", "", right}, {"accessPackages", "", pkgStandard}, {"accessPackages", "", pkgClient},
				{"clientId", "", config.SimClientID}, {"allowedRedirectUrls", "", "http://localhost:8080/return"},
				{"isVisible", "true", "false"},
			},
			redirects: []string{"http://localhost:8080/return"}, clients: []string{config.SimClientID},
			packageURNs: []string{pkgStandard, pkgClient},
		},
		{
			name: "registered: add what is missing, keep the rest", want: want, have: altinnHas(),
			changes: []Change{
				// Altinn's names are kept (not owned); the missing
				// description languages are filled in.
				{"description.nn", "", want.System.Description["nn"]}, {"description.en", "", want.System.Description["en"]},
				{"accessPackages", "", pkgStandard}, {"accessPackages", "", pkgClient},
				{"clientId", "", config.SimClientID},
				// The return URL is there by Altinn's rule (host case,
				// query): nothing to add.
				{"isVisible", "true", "false"},
			},
			kept: []Kept{{"name.se", "SmartCloud"}, {"rights", "other-right"}, {"accessPackages", pkgAdmin},
				{"clientId", "other-client"}, {"allowedRedirectUrls", "https://other.example/return"}},
			redirects:   []string{"https://other.example/return", "HTTP://LOCALHOST:8080/return?x=1"},
			clients:     []string{"other-client", config.SimClientID},
			packageURNs: []string{pkgAdmin, pkgStandard, pkgClient},
		},
		{
			name: "prune drops what the configuration does not own", want: owned, have: altinnHas(), prune: true,
			changes: []Change{
				{"name.nb", "SmartCloud Regnskap", "Ny"}, {"name.nn", "SmartCloud Rekneskap", "Ny"}, {"name.en", "SmartCloud Accounting", "New"},
				{"name.se", "SmartCloud", ""},
				{"description.nn", "", want.System.Description["nn"]}, {"description.en", "", want.System.Description["en"]},
				{"rights", "other-right", ""},
				{"accessPackages", pkgAdmin, ""}, {"accessPackages", "", pkgStandard}, {"accessPackages", "", pkgClient},
				{"clientId", "other-client", ""}, {"clientId", "", config.SimClientID},
				{"allowedRedirectUrls", "https://other.example/return", ""},
				{"isVisible", "true", "false"},
			},
			redirects:   []string{"HTTP://LOCALHOST:8080/return?x=1"},
			clients:     []string{config.SimClientID},
			packageURNs: []string{pkgStandard, pkgClient},
		},
		{
			name: "nothing to change", want: want, prune: true,
			have: &altinn.RegisteredSystem{ID: sysID, Vendor: altinn.Vendor{ID: "0192:991825827"},
				Name: want.System.Name, Description: want.System.Description, Rights: want.System.Rights,
				AccessPackages: want.System.AccessPackages, ClientIDs: []string{config.SimClientID},
				AllowedRedirectURLs: []string{"http://localhost:8080/return"}, IsVisible: false},
			redirects: []string{"http://localhost:8080/return"}, clients: []string{config.SimClientID},
			packageURNs: []string{pkgStandard, pkgClient},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Merge(tt.want, tt.have, tt.prune, kinds)
			if p.Create != tt.create || p.SystemID != sysID {
				t.Errorf("Create = %v, SystemID %q", p.Create, p.SystemID)
			}
			if diff := cmp.Diff(tt.changes, p.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.kept, p.Kept); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.redirects, p.Body.AllowedRedirectURLs); diff != "" {
				t.Errorf("redirect URLs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.clients, p.Body.ClientIDs); diff != "" {
				t.Errorf("client ids (-want +got):\n%s", diff)
			}
			var urns []string
			for _, pkg := range p.Body.AccessPackages {
				urns = append(urns, pkg.URN)
			}
			if diff := cmp.Diff(tt.packageURNs, urns); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if p.Body.IsVisible || p.Body.Vendor.ID != "0192:991825827" || p.Body.Vendor.Authority != "iso6523-actorid-upis" {
				t.Errorf("body: isVisible %v (a client-only package makes it false), vendor %+v", p.Body.IsVisible, p.Body.Vendor)
			}
			// Diffing the body against itself finds nothing: the plan is
			// what a second apply would see.
			if again := Diff(p.Body, p.Body); len(again) != 0 {
				t.Errorf("a body differs from itself: %v", again)
			}
		})
	}
}

func TestMergeKeepsVisibilityAndStoredVendor(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"ONBOARD_AGENT_ACCESS_PACKAGES": "none"})
	wants, err := Definitions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, visible := range []bool{true, false} {
		have := &altinn.RegisteredSystem{ID: sysID, Vendor: altinn.Vendor{ID: "991825827"}, IsVisible: visible}
		p := Merge(wants[0], have, false, kinds)
		if p.Body.IsVisible != visible {
			t.Errorf("without client-only packages Altinn's isVisible %v is kept, got %v", visible, p.Body.IsVisible)
		}
		if p.Body.Vendor.ID != "991825827" {
			t.Errorf("the PUT must carry the stored vendor id verbatim, got %q", p.Body.Vendor.ID)
		}
	}
	// A package whose kind is unknown is noted.
	wants[0].System.AccessPackages = append(wants[0].System.AccessPackages, altinn.AccessPackage{URN: "urn:altinn:accesspackage:x"})
	if p := Merge(wants[0], nil, false, kinds); !cmp.Equal(p.Unknown, []string{"urn:altinn:accesspackage:x"}) {
		t.Errorf("Unknown = %v", p.Unknown)
	}
	if p := Merge(wants[0], &altinn.RegisteredSystem{ID: sysID, IsDeleted: true}, false, kinds); !p.Deleted {
		t.Error("a deleted system is not flagged")
	}
}

func TestChangeString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    Change
		want string
	}{
		{Change{"rights", "", "x"}, "+ rights: x"},
		{Change{"clientId", "y", ""}, "- clientId: y"},
		{Change{"name.nn", "a", "b"}, `~ name.nn: "a" → "b"`},
		{Change{"isVisible", "true", "false"}, `~ isVisible: "true" → "false"`},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
	p := Plan{Changes: []Change{{"name.nb", "", "a"}, {"name.en", "", "b"}, {"rights", "", "x"}, {"isVisible", "true", "false"}}}
	if diff := cmp.Diff([]string{"name", "rights", "isVisible"}, p.Fields()); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

// keyPattern finds untranslated keys in a text.
var keyPattern = regexp.MustCompile(`\bsetup\.[a-z0-9.-]+`)

// translated fails the test when a text shows an i18n key or a formatting
// error in either language.
func translated(t *testing.T, texts ...Text) {
	t.Helper()
	for _, tx := range texts {
		for _, lang := range i18n.Languages {
			s := tx.In(lang)
			if keyPattern.MatchString(s) || strings.Contains(s, "%!") {
				t.Errorf("%s text %q is not translated or formatted: %q", lang, tx.Key, s)
			}
		}
	}
}

func TestExplainProbe(t *testing.T) {
	t.Parallel()
	cfg := load(t, nil)
	scope := altinn.ScopeSystemRegisterWrite
	mp := func(code, desc string) error {
		return &maskinporten.Error{StatusCode: 400, Code: code, Description: desc}
	}
	for _, tt := range []struct {
		name     string
		err      error
		clockBad bool
		detail   []string // in the English detail
		fix      []string // in the English fix
	}{
		{"MP-200", mp("invalid_scope", "MP-200 Invalid scope"), false, []string{"MP-200", scope, "not on the Maskinporten client onboard-dev"},
			[]string{"add " + scope, "Samarbeidsportalen"}},
		{"invalid_scope without a code", mp("invalid_scope", "nope"), false, []string{scope, "not on the Maskinporten client"}, []string{"Samarbeidsportalen"}},
		{"MP-250", mp("forbidden", "MP-250 Consumer has not been granted access to the scope"), false, []string{"not been given access", scope},
			[]string{"Digdir", "Samarbeidsportalen"}},
		{"MP-201", mp("invalid_scope", "MP-201 x"), false, []string{"not allowed for this kind of client"}, []string{"Samarbeidsportalen"}},
		{"MP-100", mp("invalid_grant", "MP-100 Client not found"), false, []string{"does not know the client onboard-dev"},
			[]string{"ONBOARD_MASKINPORTEN_CLIENT_ID", "ONBOARD_MASKINPORTEN_ISSUER"}},
		{"unknown kid", mp("invalid_grant", "Invalid assertion. Unknown key identifier (kid) for client"), false, []string{"kid was refused"},
			[]string{"ONBOARD_MASKINPORTEN_KID", "Samarbeidsportalen"}},
		{"MP-121", mp("invalid_grant", "MP-121 Expired key"), false, []string{"key"}, []string{"expires after a year"}},
		{"issue time", mp("invalid_grant", "Issue time is after now"), false, []string{"clock"}, []string{"clock", "NTP"}},
		{"a skewed clock wins over the scope", mp("invalid_scope", "MP-200 Invalid scope"), true, []string{"clock"}, []string{"clock"}},
		{"something else", mp("server_error", "Oops"), false, []string{"Oops"}, []string{"Samarbeidsportalen"}},
		{"no answer", errors.New("dial tcp: connection refused"), false, []string{"did not answer", "connection refused"},
			[]string{"ONBOARD_MASKINPORTEN_ISSUER"}},
	} {
		detail, fix := explainProbe(cfg, scope, tt.err, tt.clockBad)
		translated(t, detail, fix)
		for _, w := range tt.detail {
			if !strings.Contains(detail.In("en"), w) {
				t.Errorf("%s: detail %q lacks %q", tt.name, detail.In("en"), w)
			}
		}
		for _, w := range tt.fix {
			if !strings.Contains(fix.In("en"), w) {
				t.Errorf("%s: fix %q lacks %q", tt.name, fix.In("en"), w)
			}
		}
		if tt.clockBad && strings.Contains(detail.In("en"), "not on the Maskinporten client") {
			t.Errorf("%s: blames the scope, not the clock", tt.name)
		}
	}
}

func TestExplainRefusal(t *testing.T) {
	t.Parallel()
	vld := &altinn.Problem{Status: 400, Code: "STD-00000", Validation: []altinn.ValidationError{
		{Code: "AUTH.VLD-00018", Extensions: map[string]string{"Invalid Urn Details : ": "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		{Code: "AUTH.VLD-00004"},
		{Code: "AUTH.VLD-00099", Title: "Something new"},
	}}
	got := ExplainRefusal(vld)
	translated(t, got...)
	var lines []string
	for _, tx := range got {
		lines = append(lines, tx.In("en"))
	}
	want := []string{
		"AUTH.VLD-00018: a client-only access package on a system that is visible in the portal (isVisible must be false) (urn:altinn:accesspackage:regnskapsforer-lonn)",
		"AUTH.VLD-00004: a client id is already on another system",
		"AUTH.VLD-00099: Something new",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("refusal (-want +got):\n%s", diff)
	}
	for _, code := range vldCodes {
		translated(t, T("setup.vld."+code))
	}
	text := &altinn.Problem{Status: 404, Body: "System with ID 'x' not found."}
	if got := ExplainRefusal(text)[0].In("en"); got != "Altinn answered 404: System with ID 'x' not found." {
		t.Errorf("plain text: %q", got)
	}
	if got := ExplainRefusal(errors.New("dial tcp: refused"))[0].In("en"); got != "dial tcp: refused" {
		t.Errorf("transport: %q", got)
	}
}

// The fakes behind the checks.

type fakeProber struct {
	refuse map[string]error
	offset time.Duration // Maskinporten's clock minus ours
	// org is the client's organisation in the tokens' consumer claim
	// ("" for tokens without one).
	org   string
	mu    sync.Mutex
	asked []string
}

func (f *fakeProber) Probe(_ context.Context, scopes ...string) (*maskinporten.Result, error) {
	f.mu.Lock()
	f.asked = append(f.asked, strings.Join(scopes, " "))
	f.mu.Unlock()
	now := time.Now()
	date := now.Add(f.offset).Truncate(time.Second)
	if err := f.refuse[scopes[0]]; err != nil {
		var me *maskinporten.Error
		if errors.As(err, &me) {
			c := *me
			c.ServerDate = date
			return nil, &c
		}
		return nil, err
	}
	return &maskinporten.Result{AccessToken: fakeToken(f.org), Received: now, ServerDate: date}, nil
}

// fakeToken is an access token as Maskinporten's looks, with org in its
// consumer claim and a signature that says "secret".
func fakeToken(org string) string {
	claims := `{"scope":"x"}`
	if org != "" {
		claims = `{"consumer":{"authority":"iso6523-actorid-upis","ID":"0192:` + org + `"},"scope":"x"}`
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".secret"
}

type fakeRegister struct {
	systems map[string]*altinn.RegisteredSystem
	errs    map[string]error
	mu      sync.Mutex
	created []altinn.RegisteredSystem
	updated []altinn.RegisteredSystem
}

func (f *fakeRegister) GetSystem(_ context.Context, id string) (*altinn.RegisteredSystem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[id]; err != nil {
		return nil, err
	}
	s, ok := f.systems[id]
	if !ok {
		return nil, &altinn.Problem{Status: http.StatusNotFound}
	}
	c := *s
	return &c, nil
}

func (f *fakeRegister) CreateSystem(_ context.Context, s altinn.RegisteredSystem) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, s)
	return "guid", nil
}

func (f *fakeRegister) UpdateSystem(_ context.Context, s altinn.RegisteredSystem) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updated = append(f.updated, s)
	return nil
}

type fakePackages struct{ err error }

func (f fakePackages) Package(_ context.Context, urn string) (*altinn.PackageInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	clientOnly, known := kinds(urn)
	if !known {
		return nil, &altinn.Problem{Status: http.StatusNotFound}
	}
	return &altinn.PackageInfo{URN: urn, IsDelegable: urn != pkgAdmin, IsAssignable: !clientOnly}, nil
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		testKey = k
	})
	return testKey
}

// goodSystem is the default products' system as the simulator registers it.
func goodSystem() *altinn.RegisteredSystem {
	return &altinn.RegisteredSystem{ID: sysID, Vendor: altinn.Vendor{ID: "0192:991825827"},
		Name:                map[string]string{"nb": "SmartCloud"},
		Rights:              []altinn.Right{Right(right)},
		AccessPackages:      []altinn.AccessPackage{{URN: pkgStandard}, {URN: pkgClient}},
		ClientIDs:           []string{config.SimClientID},
		AllowedRedirectURLs: []string{"http://localhost:8080/return"}}
}

// service is a Service over the fakes for the default configuration.
func service(t *testing.T, vars map[string]string) (*Service, *fakeProber, *fakeRegister) {
	tokens := &fakeProber{refuse: map[string]error{}, org: "991825827"}
	reg := &fakeRegister{systems: map[string]*altinn.RegisteredSystem{sysID: goodSystem()}, errs: map[string]error{}}
	return &Service{Config: load(t, vars), Key: key(t), Tokens: tokens, Register: reg, Packages: fakePackages{}}, tokens, reg
}

// failing is "id: English line" of each check that did not pass.
func failing(r Report) []string {
	var out []string
	for _, c := range r.Results {
		if c.Status != OK {
			out = append(out, string(c.Status)+" "+c.ID+": "+c.Line("en"))
		}
	}
	return out
}

func TestCheckPassesOnTheDefault(t *testing.T) {
	t.Parallel()
	s, tokens, _ := service(t, nil)
	r := s.Check(context.Background())
	if !r.OK() {
		t.Fatalf("not ok:\n%s", strings.Join(failing(r), "\n"))
	}
	if diff := cmp.Diff(append(slices.Clone(Scopes), productScope), tokens.asked); diff != "" {
		t.Errorf("one probe per scope (-want +got):\n%s", diff)
	}
	var ids []string
	for _, c := range r.Results {
		ids = append(ids, c.ID)
		translated(t, c.Name, c.Detail, c.Fix)
		if strings.Contains(c.Line("en"), "secret") {
			t.Errorf("a line shows the token: %s", c.Line("en"))
		}
	}
	want := []string{"key", "token", "token", "token", "token", "clock", "onesystem", "system", "access", "access", "kinds", "kinds",
		"redirect", "clientid", "publicurl", "confirmhosts", "env"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if got := r.Summary("en"); got != "17 of 17 checks ok, 0 failed, 0 skipped." {
		t.Errorf("summary %q", got)
	}
	if len(r.Failing()) != 0 {
		t.Errorf("failing: %v", r.Failing())
	}
}

// TestCheckFails breaks one thing at a time and checks that the check for
// it fails, names the thing, says where to fix it, and that what depends on
// it is skipped rather than passed.
func TestCheckFails(t *testing.T) {
	t.Parallel()
	mp200 := &maskinporten.Error{StatusCode: 400, Code: "invalid_scope", Description: "MP-200 Invalid scope"}
	for _, tt := range []struct {
		name  string
		vars  map[string]string
		setup func(s *Service, p *fakeProber, r *fakeRegister)
		fails map[string][]string // check id → words its line has
		skips []string            // check ids skipped
	}{
		{
			name:  "scope missing",
			setup: func(_ *Service, p *fakeProber, _ *fakeRegister) { p.refuse[altinn.ScopeSystemRegisterWrite] = mp200 },
			fails: map[string][]string{"token": {"FAIL", altinn.ScopeSystemRegisterWrite, "MP-200", "Samarbeidsportalen"}},
			skips: []string{"system", "access", "access", "redirect", "clientid"},
		},
		{
			name:  "key unusable",
			setup: func(s *Service, _ *fakeProber, _ *fakeRegister) { s.Key, s.KeyErr = nil, errors.New("no PEM block") },
			fails: map[string][]string{"key": {"no PEM block", "make run"}},
			skips: []string{"token", "token", "token", "token", "clock", "system", "access", "access", "redirect", "clientid"},
		},
		{
			name:  "system missing",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) { delete(r.systems, sysID) },
			fails: map[string][]string{"system": {sysID, "not in Altinn's system register", "onboard system apply"}},
			skips: []string{"access", "access", "redirect", "clientid"},
		},
		{
			name: "another organisation's system",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.errs[sysID] = errors.Join(altinn.ErrNotOwner, &altinn.Problem{Status: 403})
			},
			fails: map[string][]string{"system": {"another organisation owns", sysID, "your Maskinporten client's organisation number"}},
			skips: []string{"access", "access", "redirect", "clientid"},
		},
		{
			// The client belongs to another organisation than the one the
			// system id starts with: the fix names the client's.
			name:  "system id of another organisation than the client's",
			setup: func(_ *Service, p *fakeProber, _ *fakeRegister) { p.org = "123456789" },
			fails: map[string][]string{"system": {"system id " + sysID + " starts with 991825827", "client belongs to 123456789",
				"use one that starts with 123456789, your Maskinporten client's organisation"}},
			skips: []string{"access", "access", "redirect", "clientid"},
		},
		{
			name:  "product scope not on the client",
			setup: func(_ *Service, p *fakeProber, _ *fakeRegister) { p.refuse[productScope] = mp200 },
			fails: map[string][]string{"token": {"FAIL", "token for " + productScope + " (product standard, agent)", "MP-200", "Samarbeidsportalen"}},
		},
		{
			name: "two systems for one client",
			vars: map[string]string{"ONBOARD_PRODUCTS": `[{"id":"std","kind":"standard","systemId":"` + sysID + `","rights":["` + right + `"]},
				{"id":"agt","kind":"agent","systemId":"991825827_agent","accessPackages":["` + pkgClient + `"]}]`},
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				sys := goodSystem()
				sys.ID = "991825827_agent"
				sys.ClientIDs = nil
				r.systems[sys.ID] = sys
			},
			fails: map[string][]string{"onesystem": {sysID + ", 991825827_agent", "only one system", "MP-303", "isVisible false", "one instance"},
				"clientid": {"991825827_agent", config.SimClientID, "AUTH.VLD-00004", "one-system check"}},
		},
		{
			// A package that is of the wrong kind and missing: the access
			// line does not tell to add it.
			name: "admin package on an agent product, not on the system",
			vars: map[string]string{"ONBOARD_AGENT_ACCESS_PACKAGES": pkgAdmin},
			fails: map[string][]string{"kinds": {"product agent", pkgAdmin, "cannot be delegated"},
				"access": {"product agent", pkgAdmin, "would not help", "package kinds of product agent"}},
		},
		{
			name:  "system deleted",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) { r.systems[sysID].IsDeleted = true },
			fails: map[string][]string{"system": {"deleted", "never be used again"}},
			skips: []string{"access", "access", "redirect", "clientid"},
		},
		{
			name:  "right not on the system",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) { r.systems[sysID].Rights = nil },
			fails: map[string][]string{"access": {"product standard", right, "add it to the system with `onboard system apply`"}},
		},
		{
			name: "package not on the system",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.systems[sysID].AccessPackages = r.systems[sysID].AccessPackages[:1]
			},
			fails: map[string][]string{"access": {"product agent", pkgClient}},
		},
		{
			name: "return URL not registered",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.systems[sysID].AllowedRedirectURLs = []string{"https://x.example/return"}
			},
			fails: map[string][]string{"redirect": {"redirect URL on system " + sysID, "http://localhost:8080/return", "https://x.example/return", "ONBOARD_PUBLIC_URL", "AUTH-00021"}},
		},
		{
			name: "client id not on the system",
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.systems[sysID].ClientIDs = []string{"someone-else"}
			},
			fails: map[string][]string{"clientid": {"client id on system " + sysID, config.SimClientID, "MP-303", "onboard system apply"}},
		},
		{
			name:  "client-only package on a standard product",
			vars:  map[string]string{"ONBOARD_PRODUCTS": `[{"id":"std","kind":"standard","systemId":"` + sysID + `","accessPackages":["` + pkgClient + `"]}]`},
			fails: map[string][]string{"kinds": {"product std", pkgClient, "agent", "ONBOARD_PRODUCTS"}},
		},
		{
			name:  "admin package on an agent product",
			vars:  map[string]string{"ONBOARD_AGENT_ACCESS_PACKAGES": pkgAdmin},
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) { r.systems[sysID].AccessPackages[1].URN = pkgAdmin },
			fails: map[string][]string{"kinds": {"product agent", pkgAdmin, "cannot be delegated"}},
		},
		{
			name: "unknown package",
			vars: map[string]string{"ONBOARD_AGENT_ACCESS_PACKAGES": "urn:altinn:accesspackage:nope"},
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.systems[sysID].AccessPackages[1].URN = "urn:altinn:accesspackage:nope"
			},
			fails: map[string][]string{"kinds": {"knows no access package", "urn:altinn:accesspackage:nope"}},
		},
		{
			name:  "clock skew",
			setup: func(_ *Service, p *fakeProber, _ *fakeRegister) { p.offset = 30 * time.Second },
			fails: map[string][]string{"clock": {"behind", "30 s", "NTP"}},
		},
		{
			name: "clock skew refuses every grant: blamed, not the scope",
			setup: func(_ *Service, p *fakeProber, _ *fakeRegister) {
				p.offset = -45 * time.Second
				for _, sc := range append(slices.Clone(Scopes), productScope) {
					p.refuse[sc] = mp200
				}
			},
			fails: map[string][]string{"clock": {"ahead", "45 s"}, "token": {"clock"}},
			skips: []string{"system", "access", "access", "redirect", "clientid"},
		},
		{
			name: "http public URL in TT02",
			vars: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_DEV": "true", "ONBOARD_MASKINPORTEN_CLIENT_ID": "c",
				"ONBOARD_MASKINPORTEN_KID": "k", "ONBOARD_MASKINPORTEN_KEY": "x", "ONBOARD_PUBLIC_URL": "http://onboard.example"},
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) { r.systems[sysID].ClientIDs = []string{"c"} },
			fails: map[string][]string{"publicurl": {"http://onboard.example", "not https", "ONBOARD_PUBLIC_URL"},
				"redirect": {"http://onboard.example/return"}},
		},
		{
			name: "production confirm host and Maskinporten in TT02",
			vars: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_MASKINPORTEN_CLIENT_ID": "c", "ONBOARD_SESSION_KEY": strings.Repeat("k", 32),
				"ONBOARD_MASKINPORTEN_KID": "k", "ONBOARD_MASKINPORTEN_KEY": "x", "ONBOARD_PUBLIC_URL": "https://onboard.example",
				"ONBOARD_ALTINN_CONFIRM_HOSTS": "am.ui.altinn.no", "ONBOARD_MASKINPORTEN_ISSUER": "https://maskinporten.no/",
				"ONBOARD_SUPPORT_EMAIL": "support@smartcloud.example"},
			setup: func(_ *Service, _ *fakeProber, r *fakeRegister) {
				r.systems[sysID].ClientIDs = []string{"c"}
				r.systems[sysID].AllowedRedirectURLs = []string{"https://onboard.example/return"}
			},
			fails: map[string][]string{"confirmhosts": {"am.ui.altinn.no", "prod", "am.ui.tt02.altinn.no", "ONBOARD_ALTINN_CONFIRM_HOSTS"},
				"env": {"ONBOARD_MASKINPORTEN_ISSUER=https://maskinporten.no/", "test.maskinporten.no"}},
		},
		{
			name: "metadata down",
			setup: func(s *Service, _ *fakeProber, _ *fakeRegister) {
				s.Packages = fakePackages{err: errors.New("timeout")}
			},
			skips: []string{"kinds", "kinds"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, p, r := service(t, tt.vars)
			if tt.setup != nil {
				tt.setup(s, p, r)
			}
			rep := s.Check(context.Background())
			if rep.OK() {
				t.Fatal("the report is ok")
			}
			var skipped []string
			failed := map[string]bool{}
			for _, c := range rep.Results {
				translated(t, c.Name, c.Detail, c.Fix)
				switch c.Status {
				case Skip:
					skipped = append(skipped, c.ID)
				case Fail:
					words, ok := tt.fails[c.ID]
					if !ok {
						t.Errorf("unexpected failure: %s", c.Line("en"))
						continue
					}
					failed[c.ID] = true
					line := c.Line("en")
					for _, w := range words {
						if !strings.Contains(line, w) {
							t.Errorf("%s: line lacks %q:\n%s", c.ID, w, line)
						}
					}
					if c.Fix.Key == "" {
						t.Errorf("%s: no fix", c.ID)
					}
				}
			}
			for id := range tt.fails {
				if !failed[id] {
					t.Errorf("check %s did not fail:\n%s", id, strings.Join(failing(rep), "\n"))
				}
			}
			if diff := cmp.Diff(tt.skips, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlansAndApply(t *testing.T) {
	t.Parallel()
	s, _, r := service(t, nil)
	ctx := context.Background()
	plans, err := s.Plans(ctx, false)
	if err != nil || len(plans) != 1 {
		t.Fatalf("Plans = %v, %v", plans, err)
	}
	p := plans[0]
	if p.Create || len(p.Changes) == 0 {
		t.Fatalf("plan: %+v", p)
	}
	if sent, err := s.Apply(ctx, p); err != nil || !sent || len(r.updated) != 1 || len(r.created) != 0 {
		t.Fatalf("Apply = %v, %v; updated %d created %d", sent, err, len(r.updated), len(r.created))
	}
	if r.updated[0].IsVisible {
		t.Error("a system with a client-only package is sent visible")
	}
	// Once applied, there is nothing more to send.
	r.systems[sysID] = &r.updated[0]
	plans, _ = s.Plans(ctx, false)
	if len(plans[0].Changes) != 0 {
		t.Fatalf("after apply: %v", plans[0].Changes)
	}
	if sent, err := s.Apply(ctx, plans[0]); sent || err != nil || len(r.updated) != 1 {
		t.Fatalf("apply with nothing to change sent %v, %v", sent, err)
	}
	// Not registered: POST.
	delete(r.systems, sysID)
	plans, _ = s.Plans(ctx, false)
	if !plans[0].Create {
		t.Fatal("a missing system is not created")
	}
	if sent, err := s.Apply(ctx, plans[0]); !sent || err != nil || len(r.created) != 1 {
		t.Fatalf("create: %v %v", sent, err)
	}
	// Deleted, or unreadable: nothing is sent.
	r.systems[sysID] = &altinn.RegisteredSystem{ID: sysID, IsDeleted: true}
	plans, _ = s.Plans(ctx, false)
	if _, err := s.Apply(ctx, plans[0]); !errors.Is(err, ErrDeleted) {
		t.Errorf("deleted: %v", err)
	}
	r.errs[sysID] = errors.New("boom")
	plans, _ = s.Plans(ctx, false)
	if _, err := s.Apply(ctx, plans[0]); plans[0].Err == nil || err == nil {
		t.Errorf("unreadable: %v", err)
	}
	if len(r.created) != 1 || len(r.updated) != 1 {
		t.Errorf("something was sent: created %d updated %d", len(r.created), len(r.updated))
	}
	// Without metadata, the known client-only packages still hide the
	// system.
	delete(r.errs, sysID)
	delete(r.systems, sysID)
	s.Packages = fakePackages{err: errors.New("down")}
	plans, _ = s.Plans(ctx, false)
	if plans[0].Body.IsVisible || len(plans[0].Unknown) != 2 {
		t.Errorf("without metadata: visible %v, unknown %v", plans[0].Body.IsVisible, plans[0].Unknown)
	}
}
