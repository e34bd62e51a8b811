package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBrregRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const base = "/enhetsregisteret/api"
	for _, tc := range []struct {
		name   string
		path   string
		status int
		want   map[string]any // fields the body must have
		absent []string       // fields it must not have
	}{
		{name: "seeded org, upper case", path: "/enheter/" + customerOrg, status: 200,
			want:   map[string]any{"organisasjonsnummer": customerOrg, "navn": "LUNEFULL HANDLEKRAFTIG TIGER AS", "konkurs": false},
			absent: []string{"slettedato", "overordnetEnhet"}},
		{name: "any valid number: a name from its digits", path: "/enheter/311093363", status: 200,
			want: map[string]any{"organisasjonsnummer": "311093363", "navn": "NORDRE ELV KONSULT AS"}},
		{name: "malformed: check digit", path: "/enheter/311093364", status: 400},
		{name: "malformed: length", path: "/enheter/31109336", status: 400},
		{name: "malformed sub-unit", path: "/underenheter/abcdefghi", status: 400},
		{name: "deleted", path: "/enheter/" + BrregDeleted, status: 200,
			want: map[string]any{"organisasjonsnummer": BrregDeleted, "slettedato": "2023-06-30", "navn": "NEDLAGT TESTFIRMA AS"}},
		{name: "removed", path: "/enheter/" + BrregRemoved, status: 410,
			want: map[string]any{"organisasjonsnummer": BrregRemoved, "slettedato": "2020-02-03"}, absent: []string{"navn", "_links"}},
		{name: "unknown", path: "/enheter/" + BrregUnknown, status: 404},
		{name: "unknown sub-unit", path: "/underenheter/" + BrregUnknown, status: 404},
		{name: "an entity is no sub-unit", path: "/underenheter/" + customerOrg, status: 404},
		{name: "the sub-unit is no entity", path: "/enheter/" + BrregSubUnit, status: 404},
		{name: "sub-unit", path: "/underenheter/" + BrregSubUnit, status: 200,
			want: map[string]any{"organisasjonsnummer": BrregSubUnit, "overordnetEnhet": BrregSubUnitParent, "navn": "LUNEFULL HANDLEKRAFTIG TIGER AS AVD BERGEN"}},
		{name: "bankrupt", path: "/enheter/" + BrregBankrupt, status: 200, want: map[string]any{"konkurs": true, "underAvvikling": false}},
		{name: "winding up", path: "/enheter/" + BrregWindingUp, status: 200, want: map[string]any{"konkurs": false, "underAvvikling": true}},
		{name: "unavailable", path: "/enheter/" + BrregUnavailable, status: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", base+tc.path, "", nil)
			if r.status != tc.status {
				t.Fatalf("GET %s: %d %s, want %d", tc.path, r.status, r.body, tc.status)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q without a versioned Accept", ct)
			}
			m := r.json(t)
			for k, v := range tc.want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v (%s)", k, m[k], v, r.body)
				}
			}
			for _, k := range tc.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%s present: %s", k, r.body)
				}
			}
			if tc.status == 200 {
				links, _ := m["_links"].(map[string]any)
				self, _ := links["self"].(map[string]any)
				if href, _ := self["href"].(string); !strings.HasSuffix(href, base+tc.path) {
					t.Errorf("_links.self.href = %q", href)
				}
			}
		})
	}
}

// TestBrregVersionedMediaType: asked for the v2 type, the register answers in it.
func TestBrregVersionedMediaType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for path, ct := range map[string]string{
		"/enhetsregisteret/api/enheter/" + customerOrg:       "application/vnd.brreg.enhetsregisteret.enhet.v2+json",
		"/enhetsregisteret/api/underenheter/" + BrregSubUnit: "application/vnd.brreg.enhetsregisteret.underenhet.v2+json",
	} {
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Header.Set("Accept", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(got, ct) {
			t.Errorf("%s: %d %q, want 200 %q", path, resp.StatusCode, got, ct)
		}
	}
}

// TestBrregWithoutAnyValidOrg: only the seed's organisations exist then.
func TestBrregWithoutAnyValidOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Seed.AnyValidOrg = false })
	if r := e.do("GET", "/enhetsregisteret/api/enheter/311093363", "", nil); r.status != 404 {
		t.Errorf("an unseeded number: %d, want 404", r.status)
	}
	if r := e.do("GET", "/enhetsregisteret/api/enheter/"+customerOrg, "", nil); r.status != 200 {
		t.Errorf("a seeded number: %d, want 200", r.status)
	}
}

// TestBrregSlowAndFaults: the slow number answers late, and faults match
// the register's paths like any other.
func TestBrregSlowAndFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/enhetsregisteret/api/enheter/"+BrregSlow, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the slow number answered %d within 100ms", resp.StatusCode)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow number: %v", err)
	}
	remove := e.sim.Inject(Fault{Path: "/enhetsregisteret/api/enheter/", Status: 429, Times: 1})
	defer remove()
	if r := e.do("GET", "/enhetsregisteret/api/enheter/"+customerOrg, "", nil); r.status != 429 {
		t.Errorf("with a fault: %d, want 429", r.status)
	}
	if r := e.do("GET", "/enhetsregisteret/api/enheter/"+customerOrg, "", nil); r.status != 200 {
		t.Errorf("after the fault: %d, want 200", r.status)
	}
}
