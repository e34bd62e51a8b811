package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const packageRoute = "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/"

// getAnon calls the simulator without a token, with optional headers.
func (e *env) getAnon(path string, header map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return response{resp.StatusCode, resp.Header, readAll(e.t, resp)}
}

func TestPackageByURN(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, value, lang     string
		wantURN, wantName     string
		assignable, delegable bool
	}{
		{name: "full URN", value: "urn:altinn:accesspackage:skatt-naering", wantURN: "urn:altinn:accesspackage:skatt-naering", wantName: "Skatt næring", assignable: true, delegable: true},
		{name: "code only", value: "skattegrunnlag", wantURN: pkgSkatt, wantName: "Skattegrunnlag", assignable: true, delegable: true},
		{name: "URL-encoded, upper case", value: url.PathEscape("URN:ALTINN:ACCESSPACKAGE:REGNSKAPSFORER-LONN"), wantURN: pkgLonn, wantName: "Regnskapsfører lønn", delegable: true},
		{name: "code is matched after a colon", value: "lonn", wantURN: "urn:altinn:accesspackage:lonn", wantName: "Lønn", assignable: true, delegable: true},
		{name: "client-only in English", value: "ansvarlig-revisor", lang: "en", wantURN: pkgRevisor, wantName: "Auditor in charge", delegable: true},
		{name: "admin-type in Nynorsk", value: "hovedadministrator", lang: "nn", wantURN: "urn:altinn:accesspackage:hovedadministrator", wantName: "Hovudadministrator", assignable: true},
		{name: "unusable", value: "eksplisitt", lang: "en-GB", wantURN: pkgEksplisitt, wantName: "Explicit service delegation"},
		{name: "only the first language counts", value: "skatt-naering", lang: "fr, en;q=0.9", wantURN: "urn:altinn:accesspackage:skatt-naering", wantName: "Skatt næring", assignable: true, delegable: true},
		{name: "eng", value: "klientadministrator", lang: "eng", wantURN: "urn:altinn:accesspackage:klientadministrator", wantName: "Client administrator", assignable: true},
		{name: "no translation falls back to Bokmål", value: "vergemal-bank-representasjon-dagligbank", lang: "en",
			wantURN: "urn:altinn:accesspackage:vergemal-bank-representasjon-dagligbank", wantName: "Representasjon dagligbank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.getAnon(packageRoute+tt.value, map[string]string{"Accept-Language": tt.lang})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if m["urn"] != tt.wantURN || m["name"] != tt.wantName || m["isAssignable"] != tt.assignable || m["isDelegable"] != tt.delegable {
				t.Errorf("got urn %v name %v assignable %v delegable %v", m["urn"], m["name"], m["isAssignable"], m["isDelegable"])
			}
			if id, _ := m["id"].(string); id == "" || m["description"] == "" {
				t.Errorf("package %v", m)
			}
			area, _ := m["area"].(map[string]any)
			typ, _ := m["type"].(map[string]any)
			if area["name"] == "" || area["urn"] == "" || area["packages"] != nil || typ["name"] == "" || !cmp.Equal(m["resources"], []any{}) {
				t.Errorf("area %v type %v resources %v", area, typ, m["resources"])
			}
		})
	}
	// Altinn's GUIDs where the contract notes name them.
	for value, id := range map[string]string{
		"skatt-naering": "1dba50d6-f604-48e9-bd41-82321b13e85c", "regnskapsforer-med-signeringsrettighet": "955d5779-3e2b-4098-b11d-0431dc41ddbe",
		"klientadministrator": "0195efb8-7c80-7e82-9b4f-7d63e773bbca",
	} {
		if got := e.getAnon(packageRoute+value, nil).json(t)["id"]; got != id {
			t.Errorf("%s: id %v, want %s", value, got, id)
		}
	}
	// Not found: an unknown code, and parts of codes (the match is "ends with :<code>").
	for _, value := range []string{"nope", "signeringsrettighet", "naering", "accesspackage"} {
		if r := e.getAnon(packageRoute+value, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: %d %s", value, r.status, r.body)
		}
	}
	// X-Accept-Partial-Translation: false gives Bokmål for a package not fully translated.
	r := e.getAnon(packageRoute+"vergemal-bank-ta-opp-lan-kreditter", map[string]string{"Accept-Language": "en", "X-Accept-Partial-Translation": "false"})
	if m := r.json(t); m["name"] != "Ta opp lån/kreditter" || m["area"].(map[string]any)["name"] != "Bank" {
		t.Errorf("no partial translation: %v", m)
	}
	r = e.getAnon(packageRoute+"skattegrunnlag", map[string]string{"Accept-Language": "en", "X-Accept-Partial-Translation": "false"})
	if m := r.json(t); m["name"] != "Tax base" {
		t.Errorf("fully translated: %v", m["name"])
	}
}

func TestSeedPackagesJoinTheCatalogue(t *testing.T) {
	const custom = "urn:altinn:accesspackage:simulert-pakke"
	e := newEnv(t, func(cfg *Config) {
		sys := &cfg.Seed.Systems[0]
		// A package the catalogue lacks, and flags added to a client-only one.
		sys.AccessPackages = append(sys.AccessPackages, Package{URN: custom, ClientDelegable: true}, Package{URN: pkgRevisor, Assignable: true})
	})
	m := e.getAnon(packageRoute+"simulert-pakke", nil).json(t)
	if m["urn"] != custom || m["isDelegable"] != true || m["isAssignable"] != false {
		t.Errorf("seed package: %v", m)
	}
	if m := e.getAnon(packageRoute+"ansvarlig-revisor", nil).json(t); m["isDelegable"] != true || m["isAssignable"] != true {
		t.Errorf("seed flags added to the catalogue's: %v", m)
	}
	// The request API follows the merged flags.
	tok := e.token()
	e.createAgent(tok, with(agentBody(customerOrg), "accessPackages", packages(custom)), http.StatusCreated)
	e.create(tok, with(standardBody(customerOrg), "accessPackages", packages(pkgRevisor)), http.StatusCreated)
}

func TestResource(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		id, wantType string
		wantTitleEN  string
		delegable    bool
		wantOwner    string
	}{
		{id: "ske-krav-og-betalinger", wantType: "Default", wantTitleEN: "Claims and payments", delegable: true, wantOwner: "974761076"},
		{id: "app_ttd_min-app", wantType: "Default", wantTitleEN: "app_ttd_min-app", delegable: true},
		{id: ResourceMaskinportenMVA, wantType: "MaskinportenSchema", wantTitleEN: "VAT API (Maskinporten)", wantOwner: "974761076"},
		{id: ResourceMaskinportenAareg, wantType: "MaskinportenSchema", wantTitleEN: "Aa register API (Maskinporten)", wantOwner: "889640782"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := e.getAnon("/resourceregistry/api/v1/resource/"+tt.id, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			title, _ := m["title"].(map[string]any)
			owner, _ := m["hasCompetentAuthority"].(map[string]any)
			if m["identifier"] != tt.id || m["resourceType"] != tt.wantType || m["delegable"] != tt.delegable ||
				title["en"] != tt.wantTitleEN || title["nb"] == "" {
				t.Errorf("resource %v", m)
			}
			if tt.wantOwner != "" && owner["organization"] != tt.wantOwner {
				t.Errorf("owner %v, want %s", owner, tt.wantOwner)
			}
		})
	}
	for _, id := range []string{"Not-Plausible", "a", "x%20y"} {
		if r := e.getAnon("/resourceregistry/api/v1/resource/"+id, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: %d %s", id, r.status, r.body)
		}
	}
	// Without AnyResource only the built-in and seed resources exist.
	strict := newEnv(t, func(cfg *Config) {
		cfg.Seed.AnyResource = false
		sys := &cfg.Seed.Systems[0]
		sys.Rights = append(sys.Rights, Right{Resource: []AttributePair{{ID: resourceAttr, Value: "seed-ressurs"}}})
	})
	for id, want := range map[string]int{"app_ttd_min-app": 404, "seed-ressurs": 200, "ske-krav-og-betalinger": 200} {
		if r := strict.getAnon("/resourceregistry/api/v1/resource/"+id, nil); r.status != want {
			t.Errorf("without AnyResource, %s: %d, want %d", id, r.status, want)
		}
	}
}

func TestMetadataLang(t *testing.T) {
	for header, want := range map[string]string{
		"": "nb", "nb": "nb", "no": "nb", "nob": "nb", "nn": "nn", "nno": "nn", "NN-no": "nn", "en": "en", "en-GB": "en",
		"en_US": "en", "eng": "en", "sv": "nb", "en;q=0.5": "en", "de, en": "nb", " en , nb": "en",
	} {
		if got := metadataLang(header); got != want {
			t.Errorf("metadataLang(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestDotnetURI(t *testing.T) {
	for in, want := range map[string]string{
		"https://vg.no":                     "https://vg.no/",
		"HTTPS://VG.no:443/Path?q=A#F":      "https://vg.no/Path?q=A#F",
		"http://localhost:80":               "http://localhost/",
		"http://localhost:8080/return":      "http://localhost:8080/return",
		"https://h:8443/":                   "https://h:8443/",
		"relative/path":                     "relative/path",
		"https://vendor.example/a/b/?x=1&y": "https://vendor.example/a/b/?x=1&y",
	} {
		if got := dotnetURI(in); got != want {
			t.Errorf("dotnetURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskinportenClock(t *testing.T) {
	e := newEnv(t)
	dateOf := func(path string) time.Time {
		t.Helper()
		var r response
		if path == "/token" {
			resp, err := http.Post(e.url+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=x"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			r.header = resp.Header
		} else {
			r = e.getAnon(path, nil)
		}
		d, err := http.ParseTime(r.header.Get("Date"))
		if err != nil {
			t.Fatalf("%s: Date %q: %v", path, r.header.Get("Date"), err)
		}
		return d
	}
	routes := []string{"/.well-known/oauth-authorization-server", "/jwk", "/token"}
	for _, p := range routes {
		if got, want := dateOf(p), e.clock.Now().Truncate(time.Second); !got.Equal(want) {
			t.Errorf("%s: Date %v, want the simulator's clock %v", p, got, want)
		}
	}
	e.sim.SetMaskinportenClockOffset(30 * time.Second)
	for _, p := range routes {
		if got, want := dateOf(p), e.clock.Now().Add(30*time.Second).Truncate(time.Second); !got.Equal(want) {
			t.Errorf("%s with skew: Date %v, want %v", p, got, want)
		}
	}
	// A grant made on the client's (unskewed) clock is refused; one made on
	// Maskinporten's clock is accepted, and its token is valid for Altinn.
	status, body := e.postToken(e.sign(e.claims(testClientID, ScopeRegisterWrite), testKID))
	if desc, _ := body["error_description"].(string); status != http.StatusBadRequest || !strings.Contains(desc, "Issue time") {
		t.Errorf("grant on a skewed clock: %d %v", status, body)
	}
	c := e.claims(testClientID, ScopeRegisterWrite)
	c["iat"] = e.clock.Now().Add(30 * time.Second).Unix()
	c["exp"] = e.clock.Now().Add(90 * time.Second).Unix()
	status, body = e.postToken(e.sign(c, testKID))
	if status != http.StatusOK {
		t.Fatalf("grant on Maskinporten's clock: %d %v", status, body)
	}
	if r := e.do("GET", registerBase+"/"+systemID, body["access_token"].(string), nil); r.status != http.StatusOK {
		t.Errorf("token issued on a skewed clock: %d", r.status)
	}
	e.sim.SetMaskinportenClockOffset(0)
	if status, body := e.postToken(e.sign(e.claims(testClientID, ScopeRegisterWrite), testKID)); status != http.StatusOK {
		t.Errorf("after the skew is removed: %d %v", status, body)
	}
}

// TestDefaultProductTexts: every package and right the default products use
// (internal/config: demoRight, demoPackage, demoAgentPackages) has its name
// and description in bokmål, nynorsk and English, each its own.
func TestDefaultProductTexts(t *testing.T) {
	e := newEnv(t)
	for _, urn := range []string{pkgSkatt, pkgLonn, "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"} {
		seen := map[string]string{}
		for _, lang := range []string{"nb", "nn", "en"} {
			m := e.getAnon(packageRoute+url.PathEscape(urn), map[string]string{"Accept-Language": lang}).json(t)
			name, _ := m["name"].(string)
			desc, _ := m["description"].(string)
			if name == "" || desc == "" {
				t.Errorf("%s %s: name %q description %q", urn, lang, name, desc)
			}
			if other, dup := seen[desc]; dup {
				t.Errorf("%s: the description in %s is %s's", urn, lang, other)
			}
			seen[desc] = lang
		}
	}
	m := e.getAnon("/resourceregistry/api/v1/resource/ske-krav-og-betalinger", nil).json(t)
	for _, field := range []string{"title", "description", "rightDescription"} {
		texts, _ := m[field].(map[string]any)
		for _, lang := range []string{"nb", "nn", "en"} {
			if s, _ := texts[lang].(string); s == "" {
				t.Errorf("ske-krav-og-betalinger: no %s in %s", field, lang)
			}
		}
	}
}
