package sim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const (
	pkgEksplisitt = "urn:altinn:accesspackage:eksplisitt"
	pkgAdminType  = "urn:altinn:accesspackage:tilgangsstyrer"
	newSystemID   = vendorOrg + "_nytt"
)

// regBody is a valid POST body for a new, visible system of the test vendor.
func regBody(id string) map[string]any {
	return map[string]any{
		"id":                  id,
		"vendor":              map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + vendorOrg},
		"name":                map[string]any{"nb": "Nytt", "nn": "Nytt", "en": "New"},
		"description":         map[string]any{"nb": "Beskrivelse", "nn": "Skildring", "en": "Description"},
		"rights":              rights(rightKrav),
		"accessPackages":      packages(pkgSkatt),
		"clientId":            []any{"new-client"},
		"allowedRedirectUrls": []any{"https://Vendor.Example/ny"},
	}
}

// defaultPutBody is a whole PUT body that keeps the default system as the seed
// has it, with the test client and the return URL.
func defaultPutBody() map[string]any {
	return map[string]any{
		"id":                  systemID,
		"vendor":              map[string]any{"ID": "0192:" + vendorOrg},
		"name":                map[string]any{"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
		"description":         map[string]any{"nb": "Regnskap og lønn i skyen"},
		"rights":              rights(rightKrav),
		"accessPackages":      packages(pkgSkatt, pkgSign, pkgLonn),
		"clientId":            []any{testClientID},
		"isVisible":           false,
		"allowedRedirectUrls": []any{returnURL},
	}
}

// regToken is a token of the test vendor with the system register scope only.
func (e *env) regToken() string {
	return e.tokenFor(testClientID, testKID, ScopeRegisterWrite)
}

// otherRegToken is a token of the other vendor with the system register scope.
func (e *env) otherRegToken() string {
	return e.tokenFor(otherClientID, otherKID, ScopeRegisterWrite)
}

// vldCodes returns the codes of a validation problem, in order, failing the test
// unless the answer is one.
func vldCodes(t *testing.T, r response) []string {
	t.Helper()
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("want a 400 problem, got %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var p struct {
		Type, Title, Code, StatusDescription string
		Status                               int
		ValidationErrors                     []map[string]any
		TraceID                              string
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "urn:altinn:error:STD-00000" || p.Code != "STD-00000" || p.Status != 400 ||
		p.Title != "One or more validation errors occurred." || p.StatusDescription != "Bad Request" || p.TraceID == "" {
		t.Errorf("problem envelope %s", r.body)
	}
	var codes []string
	for _, v := range p.ValidationErrors {
		code, _ := v["code"].(string)
		paths, _ := v["paths"].([]any)
		if title, _ := v["title"].(string); title == "" || len(paths) != 1 ||
			!strings.HasPrefix(paths[0].(string), "/registersystemrequest/") {
			t.Errorf("validation error %v", v)
		}
		codes = append(codes, code)
	}
	return codes
}

// systemUserGrant asks for a system-user token for the test client and org.
func (e *env) systemUserGrant(org string) (int, map[string]any) {
	c := e.claims(testClientID, serviceScope)
	c["authorization_details"] = []any{map[string]any{
		"type":           "urn:altinn:systemuser",
		"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + org},
	}}
	return e.postToken(e.sign(c, testKID))
}

// registerTokenWithoutConsumer is a valid simulator token with the system
// register scope and no consumer claim.
func (e *env) registerTokenWithoutConsumer() string {
	e.t.Helper()
	now := e.clock.Now().Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": e.url + "/", "scope": ScopeRegisterWrite, "iat": now, "exp": now + 60,
	})
	tok.Header["kid"] = e.sim.kid
	s, err := tok.SignedString(e.sim.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// getSystem reads GET vendor/{id} and fails the test unless it answers 200.
func (e *env) getSystem(tok, id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", registerBase+"/"+id, tok, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", id, r.status, r.body)
	}
	return r.json(e.t)
}

func TestRegisterAuth(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	readOnly := e.tokenFor(testClientID, testKID, ScopeRequestRead)
	otherTok := e.otherRegToken()
	sysPath := registerBase + "/" + systemID
	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", registerBase, nil},
		{"POST", registerBase, regBody(newSystemID)},
		{"GET", sysPath, nil},
		{"PUT", sysPath, defaultPutBody()},
		{"PUT", sysPath + "/rights", rights(rightKrav)},
		{"PUT", sysPath + "/accesspackages", packages(pkgSkatt)},
		{"DELETE", sysPath, nil},
		{"GET", sysPath + "/changelog", nil},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+strings.TrimPrefix(rt.path, registerBase), func(t *testing.T) {
			for _, tt := range []struct {
				name       string
				token      string
				wantStatus int
			}{
				{"no token", "", http.StatusUnauthorized},
				{"invalid token", "not-a-jwt", http.StatusUnauthorized},
				{"wrong scope", readOnly, http.StatusForbidden},
				{"without consumer", e.registerTokenWithoutConsumer(), http.StatusForbidden},
			} {
				r := e.do(rt.method, rt.path, tt.token, rt.body)
				if r.status != tt.wantStatus || len(r.body) != 0 {
					t.Errorf("%s: %d %q, want %d and an empty body", tt.name, r.status, r.body, tt.wantStatus)
				}
			}
			if rt.path == registerBase {
				return
			}
			// Another vendor's system: 403 with an empty body, not a 404.
			if r := e.do(rt.method, rt.path, otherTok, rt.body); r.status != http.StatusForbidden || len(r.body) != 0 {
				t.Errorf("another vendor's system: %d %q, want 403 and an empty body", r.status, r.body)
			}
		})
	}
	// POST for another vendor's org is 403 even when the body has validation errors.
	bad := with(regBody(otherVendor+"_x"), "vendor", map[string]any{"ID": "0192:" + otherVendor},
		"accessPackages", packages("urn:altinn:accesspackage:nope"))
	if r := e.do("POST", registerBase, tok, bad); r.status != http.StatusForbidden || len(r.body) != 0 {
		t.Errorf("POST for another org: %d %q, want 403", r.status, r.body)
	}
	// The .admin scope is accepted too.
	if err := e.sim.AddClient(Client{ClientID: testClientID, OrgNo: vendorOrg, KeyID: testKID,
		PublicKeyPEM: publicPEM(t, &testKey().PublicKey), Scopes: []string{ScopeRegisterAdmin}}); err != nil {
		t.Fatal(err)
	}
	admin := e.tokenFor(testClientID, testKID, ScopeRegisterAdmin)
	if r := e.do("GET", sysPath, admin, nil); r.status != http.StatusOK {
		t.Errorf("admin scope: %d %s", r.status, r.body)
	}
	// Nothing was changed by the refused calls.
	if sys, _ := e.sim.System(systemID); sys.Deleted || len(sys.Changelog) != 0 {
		t.Errorf("refused calls changed the system: %+v", sys)
	}
}

func TestRegisterGet(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	want := map[string]any{
		"id":             systemID,
		"vendor":         map[string]any{"ID": "0192:" + vendorOrg},
		"name":           map[string]any{"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
		"description":    map[string]any{"nb": "Regnskap og lønn i skyen", "nn": "Rekneskap og løn i skya", "en": "Accounting and payroll in the cloud"},
		"rights":         rights(rightKrav),
		"accessPackages": packages(pkgSkatt, pkgSign, pkgLonn),
		"isDeleted":      false,
		"clientId":       []any{testClientID},
		"isVisible":      false,
		// As .NET's Uri.ToString() writes it.
		"allowedRedirectUrls": []any{returnURL},
	}
	if diff := cmp.Diff(want, e.getSystem(tok, systemID)); diff != "" {
		t.Errorf("GET vendor/{id} (-want +got):\n%s", diff)
	}
	r := e.do("GET", registerBase+"/"+vendorOrg+"_nope", tok, nil)
	if code, status := problemCode(t, r); r.status != http.StatusNotFound || status != 404 || code != "" {
		t.Errorf("unknown system: %d %s", r.status, r.body)
	}

	// The list: the caller's systems only, without clientId, URLs or isDeleted.
	r = e.do("GET", registerBase, tok, nil)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET vendor: %d %s", r.status, r.body)
	}
	wantList := []map[string]any{{
		"systemId": systemID, "systemVendorOrgNumber": vendorOrg, "systemVendorOrgName": "",
		"name": want["name"], "description": want["description"], "rights": want["rights"],
		"accessPackages": want["accessPackages"], "isVisible": false,
	}}
	if diff := cmp.Diff(wantList, list); diff != "" {
		t.Errorf("GET vendor (-want +got):\n%s", diff)
	}
	if r := e.do("GET", registerBase+"/", tok, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), systemID) {
		t.Errorf("GET vendor/: %d %s", r.status, r.body)
	}
}

func TestRegisterCreate(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	body := with(regBody(newSystemID), "allowedRedirectUrls", []any{"https://Vendor.Example", "https://vendor.example:443/a?b=c", "http://localhost:8080/return"})
	r := e.do("POST", registerBase, tok, body)
	var internalID string
	if r.status != http.StatusOK || json.Unmarshal(r.body, &internalID) != nil {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	if g, ok := parseGUID(internalID); !ok || g != internalID {
		t.Errorf("POST answered %q, want the internal GUID", internalID)
	}
	got := e.getSystem(tok, newSystemID)
	want := map[string]any{
		"id": newSystemID, "vendor": map[string]any{"ID": "0192:" + vendorOrg},
		"name": body["name"], "description": body["description"],
		"rights": rights(rightKrav), "accessPackages": packages(pkgSkatt),
		"isDeleted": false, "clientId": []any{"new-client"},
		"isVisible":           true, // left out: true
		"allowedRedirectUrls": []any{"https://vendor.example/", "https://vendor.example/a?b=c", "http://localhost:8080/return"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created system (-want +got):\n%s", diff)
	}
	// The bare org number is a valid id too, and a hidden system may hold client-only
	// packages.
	bare := with(regBody(vendorOrg), "clientId", []any{}, "isVisible", false, "accessPackages", packages(pkgSign, pkgSkatt))
	if r := e.do("POST", registerBase, tok, bare); r.status != http.StatusOK {
		t.Errorf("bare org number id: %d %s", r.status, r.body)
	}
	// Names are case-insensitive and strings are trimmed (not list items).
	lower := `{"ID":"  ` + vendorOrg + `_lower ","VENDOR":{"id":" 0192:` + vendorOrg + ` "},"name":{"nb":"x"},"description":{},` +
		`"allowedredirecturls":["https://vendor.example/lower"],"accesspackages":[{"urn":" ` + pkgSkatt + ` "}]}`
	if r := e.do("POST", registerBase, tok, lower); r.status != http.StatusOK {
		t.Fatalf("lower-case names: %d %s", r.status, r.body)
	}
	if got := e.getSystem(tok, vendorOrg+"_lower"); !cmp.Equal(got["allowedRedirectUrls"], []any{"https://vendor.example/lower"}) ||
		!cmp.Equal(got["accessPackages"], packages(pkgSkatt)) {
		t.Errorf("lower-case names: %v", got)
	}
}

func TestRegisterCreateErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	body := regBody(newSystemID)
	right := func(id, value string) []any {
		return []any{map[string]any{"resource": []any{map[string]any{"id": id, "value": value}}}}
	}
	tests := []struct {
		name      string
		body      any
		wantCodes []string
		wantExt   string // the "Invalid Urn Details : " of VLD-00008
	}{
		{name: "vendor id without 0192, alone", body: with(body, "vendor", map[string]any{"ID": vendorOrg}, "id", "nope_x"),
			wantCodes: []string{"AUTH.VLD-00000"}},
		{name: "id of another org", body: with(body, "id", "310000027_x"), wantCodes: []string{"AUTH.VLD-00001"}},
		{name: "id without the org", body: with(body, "id", "smartcloud_x"), wantCodes: []string{"AUTH.VLD-00001"}},
		{name: "space in the id", body: with(body, "id", vendorOrg+"_my system"), wantCodes: []string{"AUTH.VLD-00013"}},
		{name: "id taken", body: with(body, "id", systemID), wantCodes: []string{"AUTH.VLD-00002"}},
		{name: "http redirect URL", body: with(body, "allowedRedirectUrls", []any{"http://vendor.example/r"}), wantCodes: []string{"AUTH.VLD-00005"}},
		{name: "relative redirect URL", body: with(body, "allowedRedirectUrls", []any{"/return"}), wantCodes: []string{"AUTH.VLD-00005"}},
		{name: "client id on another system", body: with(body, "clientId", []any{strings.ToUpper(testClientID)}), wantCodes: []string{"AUTH.VLD-00004"}},
		{name: "resource not in the registry", body: with(body, "rights", right(resourceAttr, "Not A Resource")), wantCodes: []string{"AUTH.VLD-00003"}},
		{name: "resource of a type not delegable", body: with(body, "rights", right(resourceAttr, ResourceMaskinportenMVA)), wantCodes: []string{"AUTH.VLD-00017"}},
		{name: "resource attribute not urn:altinn:resource", body: with(body, "rights", right("urn:altinn:org", "skd")), wantCodes: []string{"AUTH.VLD-00009"}},
		{name: "right without resource", body: with(body, "rights", []any{map[string]any{"resource": []any{}}}), wantCodes: []string{"AUTH.VLD-00009"}},
		{name: "duplicate rights", body: with(body, "rights", rights(rightKrav, rightKrav)), wantCodes: []string{"AUTH.VLD-00006"}},
		{name: "package URN of three parts", body: with(body, "accessPackages", packages("urn:altinn:skattegrunnlag")),
			wantCodes: []string{"AUTH.VLD-00008"}, wantExt: "Invalid format: urn:altinn:skattegrunnlag"},
		{name: "package not in the metadata", body: with(body, "accessPackages", packages("urn:altinn:accesspackage:nope")),
			wantCodes: []string{"AUTH.VLD-00008"}, wantExt: "Not found: urn:altinn:accesspackage:nope"},
		{name: "package neither assignable nor delegable", body: with(body, "accessPackages", packages(pkgEksplisitt), "isVisible", false),
			wantCodes: []string{"AUTH.VLD-00008"}, wantExt: "Not delegable: " + pkgEksplisitt},
		{name: "duplicate packages", body: with(body, "accessPackages", packages(pkgSkatt, pkgSkatt)), wantCodes: []string{"AUTH.VLD-00007"}},
		{name: "client-only package on a visible system", body: with(body, "accessPackages", packages(pkgSkatt, pkgLonn)), wantCodes: []string{"AUTH.VLD-00018"}},
		{name: "client-only package, isVisible true given", body: with(body, "accessPackages", packages(pkgSign), "isVisible", true), wantCodes: []string{"AUTH.VLD-00018"}},
		{name: "several at once", body: with(body, "id", "smartcloud", "rights", right(resourceAttr, "Not A Resource"),
			"accessPackages", packages(pkgLonn, pkgLonn, "urn:altinn:accesspackage:nope")),
			wantCodes: []string{"AUTH.VLD-00001", "AUTH.VLD-00003", "AUTH.VLD-00008", "AUTH.VLD-00007", "AUTH.VLD-00018"},
			wantExt:   "Not found: urn:altinn:accesspackage:nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", registerBase, tok, tt.body)
			if diff := cmp.Diff(tt.wantCodes, vldCodes(t, r)); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			var p struct{ ValidationErrors []map[string]any }
			_ = json.Unmarshal(r.body, &p)
			for _, v := range p.ValidationErrors {
				if v["code"] == "AUTH.VLD-00008" && v["Invalid Urn Details : "] != tt.wantExt {
					t.Errorf("Invalid Urn Details : %v, want %q", v["Invalid Urn Details : "], tt.wantExt)
				}
			}
		})
	}

	for _, tt := range []struct {
		name       string
		body       any
		wantStatus int
		wantText   string
		wantErrors string // a key of a ModelState problem's errors
	}{
		{name: "client id twice in the body", body: with(body, "clientId", []any{"c1", "c1"}), wantStatus: 409, wantText: "The System already exist: " + newSystemID},
		{name: "rights null", body: with(body, "rights", nil), wantStatus: 500},
		{name: "no name", body: without(body, "name"), wantStatus: 400, wantErrors: "Name"},
		{name: "no description", body: without(body, "description"), wantStatus: 400, wantErrors: "Description"},
		{name: "no vendor", body: without(body, "vendor"), wantStatus: 400, wantErrors: "Vendor"},
		{name: "empty id", body: with(body, "id", "  "), wantStatus: 400, wantErrors: "Id"},
		{name: "not JSON", body: "{", wantStatus: 400, wantErrors: "$"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", registerBase, tok, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantText != "" && (string(r.body) != tt.wantText || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain")) {
				t.Errorf("body %q (%s), want %q", r.body, r.header.Get("Content-Type"), tt.wantText)
			}
			if tt.wantErrors != "" {
				errs, _ := r.json(t)["errors"].(map[string]any)
				if errs[tt.wantErrors] == nil {
					t.Errorf("errors %v, want key %q", errs, tt.wantErrors)
				}
			}
		})
	}
	if _, ok := e.sim.System(newSystemID); ok {
		t.Error("a failing POST stored the system")
	}
}

func TestRegisterResourcesWithoutAnyResource(t *testing.T) {
	e := newEnv(t, func(cfg *Config) { cfg.Seed.AnyResource = false })
	tok := e.regToken()
	// A plausible id that is not a built-in or seed resource does not exist.
	r := e.do("POST", registerBase, tok, with(regBody(newSystemID), "rights", rights("plausible-but-unknown")))
	if diff := cmp.Diff([]string{"AUTH.VLD-00003"}, vldCodes(t, r)); diff != "" {
		t.Errorf("unknown resource (-want +got):\n%s", diff)
	}
	// The seed's rights and the built-in resources exist.
	if r := e.do("POST", registerBase, tok, with(regBody(newSystemID), "rights", rights(rightKrav, rightMeld))); r.status != http.StatusOK {
		t.Errorf("built-in resources: %d %s", r.status, r.body)
	}
}

func TestRegisterPut(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	reqTok := e.token()
	userID := e.approvedUser(reqTok, standardBody(customerOrg))
	if status, body := e.systemUserGrant(customerOrg); status != http.StatusOK {
		t.Fatalf("system-user token before the PUT: %d %v", status, body)
	}

	// GET, modify, PUT: the whole system is replaced by the body.
	body := with(defaultPutBody(), "name", map[string]any{"nb": "SmartCloud 2"}, "rights", rights(rightKrav, rightMeld),
		"allowedRedirectUrls", []any{"https://Vendor.Example/ny"})
	if r := e.do("PUT", registerBase+"/"+systemID, tok, body); r.status != http.StatusOK || string(r.body) != "{\"succeeded\":true}\n" {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	got := e.getSystem(tok, systemID)
	if !cmp.Equal(got["name"], map[string]any{"nb": "SmartCloud 2"}) || !cmp.Equal(got["rights"], rights(rightKrav, rightMeld)) ||
		!cmp.Equal(got["allowedRedirectUrls"], []any{"https://vendor.example/ny"}) {
		t.Errorf("after PUT: %v", got)
	}
	// The redirect URLs are matched against the new list, by Altinn's rule.
	withURL := func(org, u string) map[string]any { return with(standardBody(org), "redirectUrl", u) }
	e.create(reqTok, withURL(validOrg(1), "https://vendor.example/ny?ref=1"), http.StatusCreated)
	if code, _ := problemCode(t, e.do("POST", reqPath, reqTok, withURL(validOrg(4), returnURL))); code != "AUTH-00021" {
		t.Errorf("old return URL after the PUT: %s, want AUTH-00021", code)
	}
	// A new request can use the new right.
	e.create(reqTok, with(standardBody(validOrg(2)), "rights", rights(rightMeld)), http.StatusCreated)

	// A PUT does not check redirect URLs.
	if r := e.do("PUT", registerBase+"/"+systemID, tok, with(defaultPutBody(), "allowedRedirectUrls", []any{"http://vendor.example/plain", "relative"})); r.status != http.StatusOK {
		t.Errorf("PUT with unchecked URLs: %d %s", r.status, r.body)
	}

	// Lists left out become empty and isVisible true, so the client link is gone and
	// the system user's token fails with MP-303; the system user itself is untouched.
	minimal := map[string]any{"id": systemID, "vendor": map[string]any{"ID": "0192:" + vendorOrg},
		"name": map[string]any{"nb": "SmartCloud"}, "description": map[string]any{}}
	if r := e.do("PUT", registerBase+"/"+systemID, tok, minimal); r.status != http.StatusOK {
		t.Fatalf("minimal PUT: %d %s", r.status, r.body)
	}
	got = e.getSystem(tok, systemID)
	for _, k := range []string{"rights", "accessPackages", "clientId", "allowedRedirectUrls"} {
		if !cmp.Equal(got[k], []any{}) {
			t.Errorf("%s after a PUT without it: %v, want []", k, got[k])
		}
	}
	if got["isVisible"] != true {
		t.Errorf("isVisible after a PUT without it: %v, want true", got["isVisible"])
	}
	status, tokBody := e.systemUserGrant(customerOrg)
	if desc, _ := tokBody["error_description"].(string); status != http.StatusBadRequest ||
		tokBody["error"] != "invalid_altinn_customer_configuration" || !strings.Contains(desc, "MP-303") {
		t.Errorf("system-user token after the client id was dropped: %d %v, want MP-303", status, tokBody)
	}
	if _, _, ok := e.sim.SystemUserRights(userID); !ok {
		t.Error("the PUT removed the system user")
	}
	// Putting the client id back makes the token work again.
	if r := e.do("PUT", registerBase+"/"+systemID, tok, defaultPutBody()); r.status != http.StatusOK {
		t.Fatalf("PUT back: %d %s", r.status, r.body)
	}
	if status, body := e.systemUserGrant(customerOrg); status != http.StatusOK {
		t.Errorf("system-user token after the fix: %d %v", status, body)
	}
}

func TestRegisterPutErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	// A deleted system of the test vendor.
	if r := e.do("POST", registerBase, tok, regBody(newSystemID)); r.status != http.StatusOK {
		t.Fatal(r.status, string(r.body))
	}
	if r := e.do("DELETE", registerBase+"/"+newSystemID, tok, nil); r.status != http.StatusOK {
		t.Fatal(r.status, string(r.body))
	}
	// A second system of the vendor holding a client id.
	second := with(regBody(vendorOrg+"_andre"), "clientId", []any{"second-client"})
	if r := e.do("POST", registerBase, tok, second); r.status != http.StatusOK {
		t.Fatal(r.status, string(r.body))
	}
	body := defaultPutBody()
	notFound := func(id string) string { return "System with ID '" + id + "' not found." }
	tests := []struct {
		name       string
		path       string
		body       any
		wantStatus int
		wantText   string
		wantCodes  []string
	}{
		{name: "unknown system", path: vendorOrg + "_nope", body: with(body, "id", vendorOrg+"_nope"), wantStatus: 404, wantText: notFound(vendorOrg + "_nope")},
		{name: "body vendor not the stored one", path: systemID, body: with(body, "vendor", map[string]any{"ID": "0192:" + otherVendor}), wantStatus: 404, wantText: notFound(systemID)},
		{name: "body vendor without 0192", path: systemID, body: with(body, "vendor", map[string]any{"ID": vendorOrg}), wantStatus: 404, wantText: notFound(systemID)},
		{name: "body id not the path's", path: systemID, body: with(body, "id", vendorOrg+"_annet"), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00012"}},
		{name: "deleted system", path: newSystemID, body: with(body, "id", newSystemID), wantStatus: 400, wantText: "Cannot update a system marked as deleted."},
		{name: "client id twice", path: systemID, body: with(body, "clientId", []any{testClientID, strings.ToUpper(testClientID)}), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00011"}},
		{name: "client id of another system", path: systemID, body: with(body, "clientId", []any{"second-client"}), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00004"}},
		{name: "client-only packages with isVisible left out", path: systemID, body: without(body, "isVisible"), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00018"}},
		{name: "unknown resource and package", path: systemID, body: with(body, "rights", rights("Not A Resource"), "accessPackages", packages("urn:altinn:accesspackage:nope")),
			wantStatus: 400, wantCodes: []string{"AUTH.VLD-00003", "AUTH.VLD-00008"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", registerBase+"/"+tt.path, tok, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantText != "" && (string(r.body) != tt.wantText || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain")) {
				t.Errorf("body %q (%s), want %q", r.body, r.header.Get("Content-Type"), tt.wantText)
			}
			if tt.wantCodes != nil {
				if diff := cmp.Diff(tt.wantCodes, vldCodes(t, r)); diff != "" {
					t.Errorf("codes (-want +got):\n%s", diff)
				}
			}
		})
	}
	if sys, _ := e.sim.System(systemID); len(sys.Changelog) != 0 || !slices.Equal(sys.ClientIDs, []string{testClientID}) {
		t.Errorf("failing PUTs changed the system: %+v", sys)
	}
}

func TestRegisterPutLists(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	path := registerBase + "/" + systemID
	tests := []struct {
		name       string
		path       string
		token      string
		body       any
		wantStatus int
		wantCodes  []string
	}{
		{name: "rights", path: path + "/rights", body: rights(rightMeld, rightKrav), wantStatus: 200},
		{name: "rights emptied", path: path + "/rights", body: []any{}, wantStatus: 200},
		{name: "rights: unknown and not delegable", path: path + "/rights", body: rights("Not A Resource", ResourceMaskinportenAareg), wantStatus: 400,
			wantCodes: []string{"AUTH.VLD-00003", "AUTH.VLD-00017"}},
		{name: "rights: duplicates", path: path + "/rights", body: rights(rightKrav, rightKrav), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00006"}},
		{name: "rights: not a list", path: path + "/rights", body: map[string]any{"resource": []any{}}, wantStatus: 400},
		{name: "rights: null", path: path + "/rights", body: "null", wantStatus: 400},
		{name: "rights: unknown system", path: registerBase + "/" + vendorOrg + "_nope/rights", body: rights(rightKrav), wantStatus: 500},
		// The stored isVisible (false) counts: client-only packages are fine.
		{name: "packages", path: path + "/accesspackages", body: packages(pkgSign, pkgSkatt, pkgAdminType), wantStatus: 200},
		{name: "packages: unusable and duplicated", path: path + "/accesspackages", body: packages(pkgEksplisitt, pkgSkatt, pkgSkatt), wantStatus: 400,
			wantCodes: []string{"AUTH.VLD-00008", "AUTH.VLD-00007"}},
		// The other vendor's system is visible (isVisible unset in its seed).
		{name: "packages: client-only on a visible system", path: registerBase + "/" + otherSystemID + "/accesspackages", token: e.otherRegToken(),
			body: packages(pkgLonn), wantStatus: 400, wantCodes: []string{"AUTH.VLD-00018"}},
		{name: "packages: unknown system", path: registerBase + "/" + vendorOrg + "_nope/accesspackages", body: packages(pkgSkatt), wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tok
			if tt.token != "" {
				token = tt.token
			}
			r := e.do("PUT", tt.path, token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCodes != nil {
				if diff := cmp.Diff(tt.wantCodes, vldCodes(t, r)); diff != "" {
					t.Errorf("codes (-want +got):\n%s", diff)
				}
			}
		})
	}
	got := e.getSystem(tok, systemID)
	if !cmp.Equal(got["rights"], []any{}) || !cmp.Equal(got["accessPackages"], packages(pkgSign, pkgSkatt, pkgAdminType)) {
		t.Errorf("after the list PUTs: rights %v, packages %v", got["rights"], got["accessPackages"])
	}
	// Only the list changed.
	if !cmp.Equal(got["clientId"], []any{testClientID}) || got["isVisible"] != false {
		t.Errorf("a list PUT changed other fields: %v", got)
	}
	// A deleted system cannot be changed.
	if r := e.do("DELETE", path, tok, nil); r.status != http.StatusOK {
		t.Fatal(r.status, string(r.body))
	}
	for _, p := range []string{path + "/rights", path + "/accesspackages"} {
		r := e.do("PUT", p, tok, []any{})
		if r.status != http.StatusBadRequest || string(r.body) != "Cannot update a system marked as deleted." {
			t.Errorf("PUT %s on a deleted system: %d %s", p, r.status, r.body)
		}
	}
}

func TestRegisterDelete(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	e.approvedUser(e.token(), standardBody(customerOrg))
	if status, body := e.systemUserGrant(customerOrg); status != http.StatusOK {
		t.Fatalf("token before delete: %d %v", status, body)
	}
	path := registerBase + "/" + systemID
	if r := e.do("DELETE", path, tok, nil); r.status != http.StatusOK || string(r.body) != "{\"succeeded\":true}\n" {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	// Still readable, marked deleted and without client links; gone from the list.
	got := e.getSystem(tok, systemID)
	if got["isDeleted"] != true || !cmp.Equal(got["clientId"], []any{}) {
		t.Errorf("deleted system: %v", got)
	}
	if r := e.do("GET", registerBase, tok, nil); string(r.body) != "[]\n" {
		t.Errorf("list after delete: %s", r.body)
	}
	// System-user tokens fail even with the client id put back by hand.
	if err := e.sim.AddClientID(systemID, testClientID); err != nil {
		t.Fatal(err)
	}
	if status, body := e.systemUserGrant(customerOrg); status != http.StatusBadRequest || body["error"] != "invalid_altinn_customer_configuration" {
		t.Errorf("token after delete: %d %v, want MP-303", status, body)
	}
	// A second delete answers 400; the id can never be used again.
	if r := e.do("DELETE", path, tok, nil); r.status != http.StatusBadRequest {
		t.Errorf("second DELETE: %d %s", r.status, r.body)
	}
	r := e.do("POST", registerBase, tok, with(regBody(systemID), "clientId", []any{}))
	if diff := cmp.Diff([]string{"AUTH.VLD-00002"}, vldCodes(t, r)); diff != "" {
		t.Errorf("POST of a deleted id (-want +got):\n%s", diff)
	}
	// Unknown: a 400 validation problem keyed "return".
	r = e.do("DELETE", registerBase+"/"+vendorOrg+"_nope", tok, nil)
	if errs, _ := r.json(t)["errors"].(map[string]any); r.status != http.StatusBadRequest || !cmp.Equal(errs["return"], []any{"System not found"}) {
		t.Errorf("DELETE unknown: %d %s", r.status, r.body)
	}
	// A system without client ids is deleted, but the answer is 400.
	otherTok := e.otherRegToken()
	if r := e.do("DELETE", registerBase+"/"+otherSystemID, otherTok, nil); r.status != http.StatusBadRequest {
		t.Errorf("DELETE without client ids: %d %s", r.status, r.body)
	}
	if sys, _ := e.sim.System(otherSystemID); !sys.Deleted {
		t.Error("the system without client ids was not deleted")
	}
}

func TestRegisterChangelog(t *testing.T) {
	e := newEnv(t)
	tok := e.regToken()
	r := e.do("POST", registerBase, tok, regBody(newSystemID))
	var internalID string
	if err := json.Unmarshal(r.body, &internalID); err != nil {
		t.Fatal(r.status, string(r.body))
	}
	path := registerBase + "/" + newSystemID
	put := with(regBody(newSystemID), "allowedRedirectUrls", []any{"https://vendor.example/ny"})
	for _, step := range []struct {
		method, path string
		body         any
	}{
		{"PUT", path, put},
		{"PUT", path + "/rights", rights(rightMeld)},
		{"PUT", path + "/accesspackages", packages(pkgSkatt, pkgAdminType)},
		{"DELETE", path, nil},
	} {
		if r := e.do(step.method, step.path, tok, step.body); r.status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", step.method, step.path, r.status, r.body)
		}
	}
	r = e.do("GET", path+"/changelog", tok, nil)
	var log []map[string]any
	if err := json.Unmarshal(r.body, &log); err != nil || r.status != http.StatusOK {
		t.Fatalf("changelog: %d %s", r.status, r.body)
	}
	var types []string
	for _, item := range log {
		types = append(types, item["changeType"].(string))
		if item["systemInternalId"] != internalID || item["changedByOrgNumber"] != vendorOrg || item["clientId"] != testClientID ||
			!createdPattern.MatchString(item["created"].(string)) {
			t.Errorf("changelog item %v", item)
		}
	}
	if diff := cmp.Diff([]string{"delete", "accesspackageupdate", "rightsupdate", "update", "create"}, types); diff != "" {
		t.Errorf("change types, newest first (-want +got):\n%s", diff)
	}
	if _, has := log[0]["changedData"]; has {
		t.Errorf("delete has changedData: %v", log[0])
	}
	wantData := []any{
		[]any{map[string]any{"Urn": pkgSkatt}, map[string]any{"Urn": pkgAdminType}},
		[]any{map[string]any{"Resource": []any{map[string]any{"Id": resourceAttr, "Value": rightMeld}}}},
		map[string]any{
			"Id": newSystemID, "Vendor": map[string]any{"ID": "0192:" + vendorOrg},
			"Name": put["name"], "Description": put["description"],
			"Rights":         []any{map[string]any{"Resource": []any{map[string]any{"Id": resourceAttr, "Value": rightKrav}}}},
			"AccessPackages": []any{map[string]any{"Urn": pkgSkatt}}, "ClientId": []any{"new-client"},
			"IsVisible": true, "AllowedRedirectUrls": []any{"https://vendor.example/ny"},
		},
	}
	for i, want := range wantData {
		if diff := cmp.Diff(want, log[i+1]["changedData"]); diff != "" {
			t.Errorf("changedData of %s (-want +got):\n%s", types[i+1], diff)
		}
	}
	if r := e.do("GET", registerBase+"/"+vendorOrg+"_nope/changelog", tok, nil); r.status != http.StatusNotFound ||
		string(r.body) != "System with ID '"+vendorOrg+"_nope' not found." {
		t.Errorf("changelog of an unknown system: %d %s", r.status, r.body)
	}
	// A seed system starts with an empty log.
	if r := e.do("GET", registerBase+"/"+systemID+"/changelog", tok, nil); r.status != http.StatusOK || string(r.body) != "[]\n" {
		t.Errorf("seed system's changelog: %d %s", r.status, r.body)
	}
}

func TestRegisterHooks(t *testing.T) {
	e := newEnv(t)
	e.approvedUser(e.token(), standardBody(customerOrg))
	// Idempotent, as the app runs them at every start.
	for range 2 {
		if err := e.sim.AddClientID(systemID, "second"); err != nil {
			t.Fatal(err)
		}
		if err := e.sim.AddRedirectURL(systemID, strings.Replace(returnURL, "vendor.example", "VENDOR.example", 1)); err != nil {
			t.Fatal(err)
		}
	}
	sys, _ := e.sim.System(systemID)
	if !slices.Equal(sys.ClientIDs, []string{testClientID, "second"}) || !slices.Equal(sys.AllowedRedirectURLs, []string{returnURL}) {
		t.Errorf("after adding twice: %v %v", sys.ClientIDs, sys.AllowedRedirectURLs)
	}
	if err := e.sim.RemoveClientID(systemID, testClientID); err != nil {
		t.Fatal(err)
	}
	if status, _ := e.systemUserGrant(customerOrg); status != http.StatusBadRequest {
		t.Errorf("token without the client id: %d", status)
	}
	if err := e.sim.RemoveRedirectURL(systemID, returnURL+"?state=x"); err != nil {
		t.Fatal(err)
	}
	if code, _ := problemCode(t, e.do("POST", reqPath, e.token(), with(standardBody(validOrg(3)), "redirectUrl", returnURL))); code != "AUTH-00026" {
		t.Errorf("request after the URL was removed: %s, want AUTH-00026", code)
	}
	for _, err := range []error{
		e.sim.AddClientID(vendorOrg+"_nope", "x"), e.sim.RemoveClientID(vendorOrg+"_nope", "x"), e.sim.RemoveRedirectURL(vendorOrg+"_nope", returnURL),
	} {
		if err == nil || !strings.Contains(err.Error(), "unknown system") {
			t.Errorf("hook on an unknown system: %v", err)
		}
	}
}
