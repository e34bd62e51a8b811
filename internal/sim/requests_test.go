package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var createdPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$`)

func TestCreateStandard(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	r := e.do("POST", reqPath, tok, with(standardBody(customerOrg), "redirectUrl", returnURL+"?state=abc"))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := r.json(t)
	id, _ := got["id"].(string)
	if _, ok := parseGUID(id); !ok {
		t.Fatalf("id %q is not a GUID", id)
	}
	if loc := r.header.Get("Location"); loc != e.url+"/authentication/api/v1/systemuser/request/"+id {
		t.Errorf("Location %q", loc)
	}
	if !createdPattern.MatchString(got["created"].(string)) {
		t.Errorf("created %q is not ISO-8601 UTC with at most microseconds", got["created"])
	}
	want := map[string]any{
		"id":               id,
		"integrationTitle": "SmartCloud",
		"externalRef":      customerOrg,
		"systemId":         systemID,
		"partyOrgNo":       customerOrg,
		"rights": []any{map[string]any{"resource": []any{
			map[string]any{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"},
		}}},
		"accessPackages": []any{map[string]any{"urn": pkgSkatt}},
		"status":         "New",
		"redirectUrl":    returnURL + "?state=abc",
		"confirmUrl":     e.url + "/accessmanagement/ui/systemuser/request?id=" + id + "&DONTCHOOSEREPORTEE=true",
		"escalated":      false,
		"created":        got["created"],
		"timedOut":       false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	// The same body comes back from GET.
	if diff := cmp.Diff(want, e.do("GET", reqPath+"/"+id, tok, nil).json(t)); diff != "" {
		t.Errorf("GET (-want +got):\n%s", diff)
	}
	if st := e.sim.Stats(); st.RequestsCreated != 1 || st.Calls["POST "+reqPath] != 1 || st.Calls["GET "+reqPath+"/{id}"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCreateAgent(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	// Rights are not part of an agent body; sent anyway, they are ignored.
	r := e.do("POST", reqPath+"/agent", tok, with(agentBody(customerOrg), "rights", standardBody("")["rights"]))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := r.json(t)
	id := got["id"].(string)
	if _, has := got["rights"]; has {
		t.Errorf("agent response has rights: %v", got["rights"])
	}
	if _, has := got["redirectUrl"]; has {
		t.Errorf("redirectUrl should be omitted when null: %v", got)
	}
	if got["confirmUrl"] != e.url+"/accessmanagement/ui/systemuser/agentrequest?id="+id+"&DONTCHOOSEREPORTEE=true" {
		t.Errorf("confirmUrl %v", got["confirmUrl"])
	}
	if r.header.Get("Location") != e.url+"/authentication/api/v1/systemuser/request/"+id {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	// Agent and standard routes do not see each other's requests.
	if r := e.do("GET", reqPath+"/agent/"+id, tok, nil); r.status != http.StatusOK {
		t.Errorf("GET agent: %d", r.status)
	}
	if code, _ := problemCode(t, e.do("GET", reqPath+"/"+id, tok, nil)); code != "AUTH-00010" {
		t.Errorf("agent id on the standard route: %s", code)
	}
	std := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if code, _ := problemCode(t, e.do("GET", reqPath+"/agent/"+std["id"].(string), tok, nil)); code != "AUTH-00010" {
		t.Errorf("standard id on the agent route: %s", code)
	}
	// Same key, other kind: a separate request, not a duplicate.
	if got := e.createAgent(tok, agentBody(customerOrg), http.StatusOK); got["id"] != id {
		t.Errorf("agent duplicate returned %v", got["id"])
	}
}

func TestCreateErrors(t *testing.T) {
	// An admin-type package on the system: assignable, not client-delegable
	// (skattegrunnlag is both, systemregister.md §7).
	const pkgAdmin = "urn:altinn:accesspackage:tilgangsstyrer"
	e := newEnv(t, func(cfg *Config) {
		sys := &cfg.Seed.Systems[0]
		sys.AccessPackages = append(slices.Clone(sys.AccessPackages), Package{URN: pkgAdmin})
	})
	tok := e.token()
	otherTok := e.tokenFor(otherClientID, otherKID, ScopeRequestWrite, ScopeRequestRead)
	right := func(value string) []any {
		return []any{map[string]any{"resource": []any{map[string]any{"id": "urn:altinn:resource", "value": value}}}}
	}
	pkgs := func(urns ...string) []any {
		out := []any{}
		for _, u := range urns {
			out = append(out, map[string]any{"urn": u})
		}
		return out
	}
	std := standardBody(customerOrg)
	agent := agentBody(customerOrg)
	tests := []struct {
		name       string
		agent      bool
		token      string
		body       any
		wantStatus int
		wantCode   string
		wantExt    map[string]string
	}{
		{name: "unknown system", body: with(std, "systemId", "991825827_nope"), wantStatus: 404, wantCode: "AUTH-00011"},
		{name: "another vendor's system", token: otherTok, body: std, wantStatus: 404, wantCode: "AUTH-00011"},
		{name: "org not in Register", body: with(std, "partyOrgNo", "123456789"), wantStatus: 400, wantCode: "AUTH-00000"},
		{name: "redirect on a system without URLs", token: otherTok, body: with(std, "systemId", otherSystemID, "redirectUrl", returnURL), wantStatus: 400, wantCode: "AUTH-00026"},
		{name: "redirect not registered", body: with(std, "redirectUrl", "https://evil.example/return"), wantStatus: 400, wantCode: "AUTH-00021"},
		{name: "redirect sub-path", body: with(std, "redirectUrl", returnURL+"/more"), wantStatus: 400, wantCode: "AUTH-00021"},
		{name: "rights and packages null", body: without(std, "rights", "accessPackages"), wantStatus: 400, wantCode: "AUTH-00001"},
		{name: "rights and packages empty", body: with(std, "rights", []any{}, "accessPackages", []any{}), wantStatus: 400, wantCode: "AUTH-00059"},
		{name: "right not on the system", body: with(std, "rights", right("other-resource")), wantStatus: 400, wantCode: "AUTH-00001"},
		{name: "more rights than the system has", body: with(std, "rights", append(right("ske-krav-og-betalinger"), right("ske-krav-og-betalinger")...)), wantStatus: 400, wantCode: "AUTH-00001"},
		{name: "right with an extra attribute", body: with(std, "rights", []any{map[string]any{"resource": []any{
			map[string]any{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"},
			map[string]any{"id": "urn:altinn:org", "value": "skd"},
		}}}), wantStatus: 400, wantCode: "AUTH-00001"},
		{name: "package not on the system", body: with(std, "accessPackages", pkgs("urn:altinn:accesspackage:nope")), wantStatus: 400, wantCode: "AUTH-00063",
			wantExt: map[string]string{"NotFoundPackages": "urn:altinn:accesspackage:nope"}},
		{name: "more packages than the system has", body: with(std, "accessPackages", pkgs(pkgSkatt, pkgSkatt, pkgSkatt, pkgSkatt, pkgSkatt)), wantStatus: 400, wantCode: "AUTH-00063"},
		{name: "client package on a standard request", body: with(std, "accessPackages", pkgs(pkgSkatt, pkgLonn)), wantStatus: 400, wantCode: "AUTH-00064",
			wantExt: map[string]string{"NotDelegablePackages": pkgLonn}},
		{name: "agent without packages", agent: true, body: without(agent, "accessPackages"), wantStatus: 400, wantCode: "AUTH-00058"},
		{name: "agent with empty packages", agent: true, body: with(agent, "accessPackages", []any{}), wantStatus: 400, wantCode: "AUTH-00058"},
		{name: "agent with an assignable-only package", agent: true, body: with(agent, "accessPackages", pkgs(pkgAdmin)), wantStatus: 400, wantCode: "AUTH-00065",
			wantExt: map[string]string{"NotDelegablePackages": pkgAdmin}},
		{name: "agent with an unknown package", agent: true, body: with(agent, "accessPackages", pkgs("urn:x")), wantStatus: 400, wantCode: "AUTH-00063",
			wantExt: map[string]string{"NotFoundPackages": "urn:x"}},
		{name: "agent with an unknown system", agent: true, body: with(agent, "systemId", "991825827_nope"), wantStatus: 404, wantCode: "AUTH-00011"},
		{name: "externalRef too long to store", body: with(std, "externalRef", strings.Repeat("x", 256)), wantStatus: 404, wantCode: "AUTH-00012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := reqPath
			if tt.agent {
				path += "/agent"
			}
			token := tok
			if tt.token != "" {
				token = tt.token
			}
			r := e.do("POST", path, token, tt.body)
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			code, status := problemCode(t, r)
			if code != tt.wantCode || int(status) != tt.wantStatus {
				t.Errorf("code %s status %v, want %s %d", code, status, tt.wantCode, tt.wantStatus)
			}
			m := r.json(t)
			if m["type"] != "urn:altinn:error:"+tt.wantCode || m["title"] == "" || m["traceId"] == nil {
				t.Errorf("problem %v", m)
			}
			for k, v := range tt.wantExt {
				if m[k] != v {
					t.Errorf("%s = %v, want %q", k, m[k], v)
				}
			}
			if tt.wantExt == nil {
				for _, k := range []string{"NotFoundPackages", "NotDelegablePackages"} {
					if _, has := m[k]; has {
						t.Errorf("unexpected %s", k)
					}
				}
			}
		})
	}
	if got := len(e.sim.Requests()); got != 0 {
		t.Errorf("%d requests stored by failing creates", got)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	tests := []struct {
		name       string
		body       string
		ctype      string
		wantStatus int
		wantKey    string // a key of errors
	}{
		{name: "malformed JSON", body: `{"systemId": `, wantStatus: 400, wantKey: "$"},
		{name: "wrong type", body: `{"systemId":"` + systemID + `","partyOrgNo":314248295}`, wantStatus: 400, wantKey: "$.partyOrgNo"},
		{name: "missing systemId", body: `{"partyOrgNo":"` + customerOrg + `"}`, wantStatus: 400, wantKey: "SystemId"},
		{name: "blank partyOrgNo", body: `{"systemId":"` + systemID + `","partyOrgNo":"  "}`, wantStatus: 400, wantKey: "PartyOrgNo"},
		{name: "empty body", body: ``, wantStatus: 400, wantKey: "request"},
		{name: "null body", body: `null`, wantStatus: 400, wantKey: "request"},
		{name: "not JSON content type", body: `{}`, ctype: "text/plain", wantStatus: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.url+reqPath, strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := response{resp.StatusCode, resp.Header, readAll(t, resp)}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			code, _ := problemCode(t, r)
			if code != "" {
				t.Errorf("framework problem has code %q", code)
			}
			if tt.wantKey != "" {
				errs, _ := r.json(t)["errors"].(map[string]any)
				if _, ok := errs[tt.wantKey]; !ok {
					t.Errorf("errors %v lack %q", errs, tt.wantKey)
				}
			}
		})
	}
	// A relative redirectUrl is not a URI: Altinn most likely fails with a 500.
	if r := e.do("POST", reqPath, tok, with(standardBody(customerOrg), "redirectUrl", "/return")); r.status != 500 {
		t.Errorf("relative redirectUrl: %d %s", r.status, r.body)
	}
}

func TestCreateBodyIsLenient(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	// Pascal case, a capitalised nested property, padded strings, and the docs'
	// "externalReference", which Altinn ignores.
	body := `{"SystemId":"  ` + systemID + `  ","PARTYORGNO":" ` + customerOrg + `",
		"externalReference":"ignored","IntegrationTitle":"  Lønn  ",
		"Rights":[{"Resource":[{"Id":"urn:altinn:resource","Value":"ske-krav-og-betalinger"}]}]}`
	r := e.do("POST", reqPath, tok, body)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["systemId"] != systemID || m["partyOrgNo"] != customerOrg || m["externalRef"] != customerOrg || m["integrationTitle"] != "Lønn" {
		t.Errorf("body %v", m)
	}
	if m["accessPackages"] == nil {
		t.Errorf("accessPackages must be present even when empty: %v", m)
	}
}

func TestDuplicateReturnsExisting(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	first := e.create(tok, with(standardBody(customerOrg), "redirectUrl", returnURL+"?a=1"), http.StatusCreated)
	id := first["id"].(string)

	// Another body for the same key: 200 with the stored request, the new body ignored.
	second := e.create(tok, with(standardBody(customerOrg), "accessPackages", []any{}, "redirectUrl", returnURL+"?a=2"), http.StatusOK)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("duplicate differs (-first +second):\n%s", diff)
	}
	// Whatever the status: rejected requests come back too.
	if err := e.sim.Reject(id); err != nil {
		t.Fatal(err)
	}
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["id"] != id || got["status"] != "Rejected" {
		t.Errorf("after reject: %v", got)
	}
	// Delete, then create: a new request.
	if r := e.do("DELETE", reqPath+"/"+id, tok, nil); r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if got := e.create(tok, standardBody(customerOrg), http.StatusCreated); got["id"] == id {
		t.Errorf("new request has the old id")
	}
	if st := e.sim.Stats(); st.RequestsCreated != 2 {
		t.Errorf("RequestsCreated %d, want 2", st.RequestsCreated)
	}
}

func TestSystemUserExistsAfterApproval(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	created := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if err := e.sim.Approve(created["id"].(string)); err != nil {
		t.Fatal(err)
	}
	got := e.do("GET", reqPath+"/"+created["id"].(string), tok, nil).json(t)
	if got["status"] != "Accepted" {
		t.Errorf("status %v", got["status"])
	}
	for _, path := range []string{reqPath, reqPath + "/agent"} {
		body := standardBody(customerOrg)
		if strings.HasSuffix(path, "agent") {
			body = agentBody(customerOrg)
		}
		r := e.do("POST", path, tok, body)
		if code, _ := problemCode(t, r); code != "AUTH-00004" || r.status != 400 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	if err := e.sim.Approve(created["id"].(string)); err != ErrNotNew {
		t.Errorf("second approval: %v", err)
	}
}

func TestEmptyExternalRefQuirk(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	a := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	// externalRef "" misses the duplicate check but is stored as the org number.
	b := e.create(tok, with(standardBody(customerOrg), "externalRef", ""), http.StatusCreated)
	if b["id"] == a["id"] || b["externalRef"] != customerOrg {
		t.Fatalf("quirk: a=%v b=%v", a, b)
	}
	// Omitted again: the first request (the newest for the real key is b; both are New).
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["externalRef"] != customerOrg {
		t.Errorf("duplicate: %v", got)
	}
	if err := e.sim.Approve(a["id"].(string)); err != nil {
		t.Fatal(err)
	}
	// With a system user for the real key, "" still creates, and approving that fails.
	c := e.create(tok, with(standardBody(customerOrg), "externalRef", "  "), http.StatusCreated)
	if err := e.sim.Approve(c["id"].(string)); err != ErrSystemUserExists {
		t.Errorf("approve c: %v", err)
	}
	if err := e.sim.Approve(b["id"].(string)); err != ErrSystemUserExists {
		t.Errorf("approve b: %v", err)
	}
	if r := e.do("GET", reqPath+"/"+c["id"].(string), tok, nil).json(t); r["status"] != "New" {
		t.Errorf("c after failed approval: %v", r["status"])
	}
}

func TestRedirectMatching(t *testing.T) {
	allowed := []string{
		"https://vendor.example/onboard/return",
		"https://vendor.example:8443/p?fixed=1",
		"http://localhost:8080/cb",
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://vendor.example/onboard/return", true},
		{"https://vendor.example/onboard/return?state=x&ref=y", true},
		{"https://vendor.example/onboard/return#frag", true},
		{"https://VENDOR.example/onboard/return", true},
		{"HTTPS://vendor.example/onboard/return", true},
		{"https://vendor.example:443/onboard/return", true},
		{"https://vendor.example/onboard/return/", false},
		{"https://vendor.example/onboard/return/more", false},
		{"https://vendor.example/onboard", false},
		{"https://vendor.example/Onboard/Return", false},
		{"http://vendor.example/onboard/return", false},
		{"https://vendor.example:8443/onboard/return", false},
		{"https://vendor.example:8443/p", true},
		{"https://vendor.example:8443/p?other=2", true},
		{"https://vendor.example/p", false},
		{"https://sub.vendor.example/onboard/return", false},
		{"http://localhost:8080/cb?x=1", true},
		{"http://localhost:8081/cb", false},
		{"https://localhost:8080/cb", false},
	}
	for _, tt := range tests {
		got, err := redirectAllowed(allowed, tt.url)
		if err != nil || got != tt.want {
			t.Errorf("redirectAllowed(%q) = %v, %v; want %v", tt.url, got, err, tt.want)
		}
	}
}

func TestAddRedirectURL(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://vendor.example/x", true},
		{"http://localhost:3000/return", true},
		{"http://127.0.0.1:3000/return", true},
		{"http://[::1]:3000/return", true},
		{"http://vendor.example/x", false},
		{"/relative", false},
		{"ftp://vendor.example/x", false},
	} {
		if err := e.sim.AddRedirectURL(systemID, tt.url); (err == nil) != tt.ok {
			t.Errorf("AddRedirectURL(%q): %v", tt.url, err)
		}
	}
	if err := e.sim.AddRedirectURL("nope", "https://vendor.example/x"); err == nil {
		t.Error("unknown system accepted")
	}
	// A registered localhost URL works end to end.
	r := e.do("POST", reqPath, e.token(), with(standardBody(customerOrg), "redirectUrl", "http://localhost:3000/return?s=1"))
	if r.status != http.StatusCreated {
		t.Errorf("localhost redirect: %d %s", r.status, r.body)
	}
}

func TestGetRequestErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	otherTok := e.tokenFor(otherClientID, otherKID, ScopeRequestWrite, ScopeRequestRead)
	mine := e.create(tok, standardBody(customerOrg), http.StatusCreated)["id"].(string)

	r := e.do("GET", reqPath+"/not-a-guid", tok, nil)
	if code, _ := problemCode(t, r); r.status != 400 || code != "" {
		t.Errorf("non-GUID: %d %s", r.status, r.body)
	}
	if errs, _ := r.json(t)["errors"].(map[string]any); len(errs) == 0 {
		t.Errorf("non-GUID: no errors map: %s", r.body)
	}
	for _, tt := range []struct {
		name, path, token, code string
		status                  int
	}{
		{"unknown", reqPath + "/" + newUUID(), tok, "AUTH-00010", 404},
		{"another vendor's", reqPath + "/" + mine, otherTok, "AUTH-00011", 404},
		{"upper-case GUID", reqPath + "/" + strings.ToUpper(mine), tok, "", 200},
		{"by external ref", reqPath + "/byexternalref/" + systemID + "/" + customerOrg + "/" + customerOrg, tok, "", 200},
		{"by unknown external ref", reqPath + "/byexternalref/" + systemID + "/" + customerOrg + "/other", tok, "AUTH-00010", 404},
		{"by external ref, another vendor", reqPath + "/byexternalref/" + systemID + "/" + customerOrg + "/" + customerOrg, otherTok, "AUTH-00011", 404},
		{"agent by external ref", reqPath + "/agent/byexternalref/" + systemID + "/" + customerOrg + "/" + customerOrg, tok, "AUTH-00010", 404},
		{"by system, another vendor", reqPath + "/bysystem/" + systemID, otherTok, "AUTH-00011", 404},
		{"by unknown system", reqPath + "/bysystem/991825827_nope", tok, "AUTH-00011", 404},
		{"delete another vendor's", reqPath + "/" + mine, otherTok, "AUTH-00011", 404},
	} {
		method := "GET"
		if strings.HasPrefix(tt.name, "delete") {
			method = "DELETE"
		}
		r := e.do(method, tt.path, tt.token, nil)
		if r.status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		if tt.code != "" {
			if code, _ := problemCode(t, r); code != tt.code {
				t.Errorf("%s: code %s, want %s", tt.name, code, tt.code)
			}
		}
	}
	// The byexternalref path is not trimmed or defaulted, and a custom ref works.
	e.create(tok, with(standardBody(validOrg(1)), "externalRef", "kunde/1 a"), http.StatusCreated)
	p := reqPath + "/byexternalref/" + systemID + "/" + validOrg(1) + "/" + url.PathEscape("kunde/1 a")
	if r := e.do("GET", p, tok, nil); r.status != 200 {
		t.Errorf("escaped external ref: %d %s", r.status, r.body)
	}
}

func TestDeleteRequest(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	id := e.createAgent(tok, agentBody(customerOrg), http.StatusCreated)["id"].(string)
	// DELETE works on agent requests through the one route, in any status.
	if err := e.sim.Reject(id); err != nil {
		t.Fatal(err)
	}
	if r := e.do("DELETE", reqPath+"/"+id, tok, nil); r.status != 202 || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, path := range []string{reqPath + "/agent/" + id} {
		if code, _ := problemCode(t, e.do("GET", path, tok, nil)); code != "AUTH-00010" {
			t.Errorf("GET after delete: %s", code)
		}
	}
	if code, _ := problemCode(t, e.do("DELETE", reqPath+"/"+id, tok, nil)); code != "AUTH-00010" {
		t.Errorf("second delete: %s", code)
	}
	if r := e.do("DELETE", reqPath+"/"+id, e.tokenFor(testClientID, testKID, ScopeRequestRead), nil); r.status != 403 {
		t.Errorf("delete with read scope: %d", r.status)
	}
	if got := e.sim.Requests(); len(got) != 1 || !got[0].Deleted || got[0].Kind != "agent" {
		t.Errorf("Requests %+v", got)
	}
}

func TestRequestPagination(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	const n = 120
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		want[e.create(tok, standardBody(validOrg(i)), http.StatusCreated)["id"].(string)] = true
	}
	e.createAgent(tok, agentBody(customerOrg), http.StatusCreated) // not in the standard list
	deleted := e.create(tok, standardBody(validOrg(n)), http.StatusCreated)["id"].(string)
	e.do("DELETE", reqPath+"/"+deleted, tok, nil)

	got, pages := collect(t, e, tok, reqPath+"/bysystem/"+systemID)
	if diff := cmp.Diff([]int{50, 50, 20}, pages); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if len(got) != n {
		t.Fatalf("%d items, want %d", len(got), n)
	}
	for i, id := range got {
		if !want[id] {
			t.Errorf("unexpected id %s", id)
		}
		if i > 0 && got[i-1] >= id {
			t.Errorf("not ordered by id at %d", i)
		}
	}
	agents, _ := collect(t, e, tok, reqPath+"/agent/bysystem/"+systemID)
	if len(agents) != 1 {
		t.Errorf("agent list has %d items", len(agents))
	}
	// An empty list has links {} and data [].
	r := e.do("GET", reqPath+"/bysystem/"+systemID+"?token="+encodeToken("ffffffff-ffff-ffff-ffff-ffffffffffff"), tok, nil)
	if string(r.body) != "{\"links\":{},\"data\":[]}\n" {
		t.Errorf("empty page %s", r.body)
	}
	if r := e.do("GET", reqPath+"/bysystem/"+systemID+"?token=!!", tok, nil); r.status != 400 {
		t.Errorf("bad token: %d", r.status)
	}
}

func TestSystemUserPagination(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	const n = 55
	var ids []string
	for i := 0; i < n; i++ {
		body := standardBody(validOrg(i))
		path := reqPath
		if i%5 == 0 {
			body, path = agentBody(validOrg(i)), reqPath+"/agent"
		}
		r := e.do("POST", path, tok, body)
		id := r.json(t)["id"].(string)
		if err := e.sim.Approve(id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := e.sim.DeleteSystemUser(ids[3]); err != nil {
		t.Fatal(err)
	}
	wantIDs := append(append([]string{}, ids[:3]...), ids[4:]...)
	got, pages := collect(t, e, tok, "/authentication/api/v1/systemuser/vendor/bysystem/"+systemID)
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{50, 4}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	// The list needs systemregister.write.
	if r := e.do("GET", "/authentication/api/v1/systemuser/vendor/bysystem/"+systemID, e.tokenFor(testClientID, testKID, ScopeRequestRead, ScopeRequestWrite), nil); r.status != 403 {
		t.Errorf("without systemregister.write: %d", r.status)
	}
}

// collect follows links.next from path and returns the ids and the page sizes.
func collect(t *testing.T, e *env, tok, path string) ([]string, []int) {
	t.Helper()
	var ids []string
	var pages []int
	for next := e.url + path; next != ""; {
		if !strings.HasPrefix(next, e.url) {
			t.Fatalf("next %q is not absolute on the simulator", next)
		}
		r := e.do("GET", strings.TrimPrefix(next, e.url), tok, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.status, r.body)
		}
		m := r.json(t)
		data := m["data"].([]any)
		pages = append(pages, len(data))
		for _, d := range data {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		next, _ = m["links"].(map[string]any)["next"].(string)
		if len(pages) > 10 {
			t.Fatal("pagination does not end")
		}
	}
	return ids, pages
}

func TestByQueryAndCustomerDeletion(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	q := "/authentication/api/v1/systemuser/vendor/byquery?system-id=" + systemID + "&orgno=" + customerOrg
	id := e.create(tok, with(standardBody(customerOrg), "integrationTitle", "Regnskap"), http.StatusCreated)["id"].(string)

	r := e.do("GET", q, tok, nil)
	if code, status := problemCode(t, r); r.status != 404 || code != "" || status != 404 {
		t.Errorf("before approval: %d %s", r.status, r.body)
	}
	if err := e.sim.Approve(id); err != nil {
		t.Fatal(err)
	}
	r = e.do("GET", q, tok, nil)
	if r.status != 200 {
		t.Fatalf("byquery: %d %s", r.status, r.body)
	}
	got := r.json(t)
	want := map[string]any{
		"id": id, "integrationTitle": "Regnskap", "systemId": systemID, "productName": "",
		"reporteeOrgNo": customerOrg, "created": got["created"], "isDeleted": false,
		"supplierName": "SmartCloud AS", "supplierOrgno": vendorOrg, "externalRef": customerOrg,
		"userType": "standard",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("byquery (-want +got):\n%s", diff)
	}
	// external-ref defaults to orgno; another ref finds nothing.
	if r := e.do("GET", q+"&external-ref="+customerOrg, tok, nil); r.status != 200 {
		t.Errorf("explicit default ref: %d", r.status)
	}
	if r := e.do("GET", q+"&external-ref=x", tok, nil); r.status != 404 {
		t.Errorf("other ref: %d", r.status)
	}
	// Another vendor sees a bare 404; a missing orgno is a validation error; read
	// scope is not enough (byquery needs write).
	if r := e.do("GET", q, e.tokenFor(otherClientID, otherKID, ScopeRequestWrite), nil); r.status != 404 {
		t.Errorf("other vendor: %d", r.status)
	}
	if r := e.do("GET", "/authentication/api/v1/systemuser/vendor/byquery?system-id="+systemID, tok, nil); r.status != 400 {
		t.Errorf("no orgno: %d", r.status)
	}
	if r := e.do("GET", q, e.tokenFor(testClientID, testKID, ScopeRequestRead), nil); r.status != 403 {
		t.Errorf("read scope: %d", r.status)
	}

	// The customer deletes the system user in Altinn.
	if err := e.sim.DeleteSystemUser(id); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", q, tok, nil); r.status != 404 {
		t.Errorf("byquery after deletion: %d %s", r.status, r.body)
	} else if code, _ := problemCode(t, r); code != "" {
		t.Errorf("byquery 404 has code %s", code)
	}
	if code, _ := problemCode(t, e.do("GET", reqPath+"/"+id, tok, nil)); code != "AUTH-00010" {
		t.Errorf("GET request after deletion: %s", code)
	}
	if got := e.create(tok, standardBody(customerOrg), http.StatusCreated); got["id"] == id {
		t.Errorf("new request reuses the id")
	}
	if err := e.sim.DeleteSystemUser(id); err != ErrNotFound {
		t.Errorf("second deletion: %v", err)
	}
}

func TestTimedOutAfter180Days(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	id := e.create(tok, standardBody(customerOrg), http.StatusCreated)["id"].(string)
	start := e.clock.Now()
	e.sim.SetNow(func() time.Time { return start.Add(179 * 24 * time.Hour) })
	if got := e.do("GET", reqPath+"/"+id, tok, nil).json(t); got["timedOut"] != false {
		t.Errorf("at 179 days: %v", got["timedOut"])
	}
	// SetNow ages Altinn's data only: the token from before still works.
	e.sim.SetNow(func() time.Time { return start.Add(181 * 24 * time.Hour) })
	got := e.do("GET", reqPath+"/"+id, tok, nil).json(t)
	if got["timedOut"] != true || got["status"] != "New" {
		t.Errorf("at 181 days: timedOut %v status %v", got["timedOut"], got["status"])
	}
	// Nothing blocks a duplicate or an approval of an old request.
	if dup := e.create(tok, standardBody(customerOrg), http.StatusOK); dup["id"] != id {
		t.Errorf("duplicate: %v", dup["id"])
	}
	if err := e.sim.Approve(id); err != nil {
		t.Errorf("approve old request: %v", err)
	}
	// Back on Config.Now, the request is young again.
	e.sim.SetNow(nil)
	if got := e.do("GET", reqPath+"/"+id, tok, nil).json(t); got["timedOut"] != false {
		t.Errorf("after SetNow(nil): %v", got["timedOut"])
	}
}

func TestLegacy10d(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TimeoutMode = TimeoutLegacy10d })
	tok := e.token()
	first := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if _, has := first["timedOut"]; has {
		t.Errorf("legacy responses have no timedOut: %v", first)
	}
	e.clock.Add(9 * 24 * time.Hour)
	tok = e.token()
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["status"] != "New" {
		t.Errorf("day 9: %v", got["status"])
	}
	e.clock.Add(2 * 24 * time.Hour)
	tok = e.token()
	id := first["id"].(string)
	if got := e.do("GET", reqPath+"/"+id, tok, nil).json(t); got["status"] != "Timedout" {
		t.Errorf("day 11: %v", got["status"])
	}
	if err := e.sim.Approve(id); err != ErrNotNew {
		t.Errorf("approve a Timedout request: %v", err)
	}
	second := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if second["id"] == id || second["status"] != "New" {
		t.Errorf("fresh request: %v", second)
	}
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["id"] != second["id"] {
		t.Errorf("duplicate of the fresh request: %v", got["id"])
	}
	if _, err := New(Config{PublicURL: "http://x", TimeoutMode: "weekly"}); err == nil {
		t.Error("unknown TimeoutMode accepted")
	}
}

func TestConcurrentCreatesMakeOneRequest(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	const n = 20
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(standardBody(customerOrg))
			req, _ := http.NewRequest("POST", e.url+reqPath, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[200] != n-1 {
		t.Errorf("statuses %v, want one 201 and %d 200s", count, n-1)
	}
}
