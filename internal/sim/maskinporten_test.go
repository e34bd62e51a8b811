package sim

import (
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

func TestMetadata(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/.well-known/oauth-authorization-server", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	m := r.json(t)
	want := map[string]any{
		"issuer":                                e.url + "/",
		"token_endpoint":                        e.url + "/token",
		"jwks_uri":                              e.url + "/jwk",
		"grant_types_supported":                 []any{"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"token_endpoint_auth_methods_supported": []any{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"RS256", "RS384", "RS512"},
		"authorization_details_types_supported":            []any{"urn:altinn:systemuser", "urn:altinn:consent"},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestTokenGood(t *testing.T) {
	e := newEnv(t)
	status, body := e.postToken(e.sign(e.claims(testClientID, ScopeRequestWrite, ScopeRequestRead), testKID))
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(599) ||
		body["scope"] != ScopeRequestWrite+" "+ScopeRequestRead {
		t.Errorf("response %v", body)
	}

	// The token verifies with the key published at /jwk and carries Maskinporten's claims.
	jwk := e.do("GET", "/jwk", "", nil).json(t)
	k := jwk["keys"].([]any)[0].(map[string]any)
	n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	eb, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(body["access_token"].(string), claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		t.Fatalf("parse access token: %v", err)
	}
	if tok.Header["kid"] != k["kid"] {
		t.Errorf("kid %v, jwk kid %v", tok.Header["kid"], k["kid"])
	}
	now := float64(e.clock.Now().Unix())
	want := jwt.MapClaims{
		"iss":        e.url + "/",
		"aud":        "unspecified",
		"client_id":  testClientID,
		"client_amr": "private_key_jwt",
		"consumer":   map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + vendorOrg},
		"scope":      ScopeRequestWrite + " " + ScopeRequestRead,
		"token_type": "Bearer",
		"iat":        now,
		"exp":        now + 599,
		"jti":        claims["jti"],
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("access token claims (-want +got):\n%s", diff)
	}
	if got := e.sim.Stats().TokensIssued; got != 1 {
		t.Errorf("TokensIssued = %d", got)
	}
}

func TestTokenRejectsBadGrants(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		claims    func(jwt.MapClaims)
		sign      func(jwt.MapClaims) string // default: the test key, testKID
		wantError string
		wantDesc  string
	}{
		{
			name: "bad signature",
			sign: func(c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
				tok.Header["kid"] = testKID
				s, _ := tok.SignedString(otherKey())
				return s
			},
			wantError: "invalid_grant", wantDesc: "MP-124",
		},
		{name: "wrong aud", claims: func(c jwt.MapClaims) { c["aud"] = "https://test.maskinporten.no/" }, wantError: "invalid_grant", wantDesc: "MP-110"},
		{name: "aud without trailing slash", claims: func(c jwt.MapClaims) { c["aud"] = e.url }, wantError: "invalid_grant", wantDesc: "MP-110"},
		{name: "token endpoint as aud", claims: func(c jwt.MapClaims) { c["aud"] = e.url + "/token" }, wantError: "invalid_grant", wantDesc: "token endpoint"},
		{name: "two audiences", claims: func(c jwt.MapClaims) { c["aud"] = []string{e.url + "/", "x"} }, wantError: "invalid_grant", wantDesc: "MP-110"},
		{name: "iat 30 s ago", claims: func(c jwt.MapClaims) { c["iat"] = c["iat"].(int64) - 30 }, wantError: "invalid_grant", wantDesc: "Issue time"},
		{name: "iat in the future", claims: func(c jwt.MapClaims) { c["iat"] = c["iat"].(int64) + 30; c["exp"] = c["iat"].(int64) + 30 }, wantError: "invalid_grant", wantDesc: "Issue time is after now"},
		{name: "lifetime over 120 s", claims: func(c jwt.MapClaims) { c["exp"] = c["iat"].(int64) + 121 }, wantError: "invalid_grant", wantDesc: "120"},
		{name: "exp before iat", claims: func(c jwt.MapClaims) { c["exp"] = c["iat"].(int64) - 1 }, wantError: "invalid_grant", wantDesc: "120"},
		{name: "expired", claims: func(c jwt.MapClaims) { c["iat"] = c["iat"].(int64) - 9; c["exp"] = c["iat"].(int64) + 8 }, wantError: "invalid_grant", wantDesc: "MP-130"},
		{name: "no iat", claims: func(c jwt.MapClaims) { delete(c, "iat") }, wantError: "invalid_grant", wantDesc: "iat"},
		{name: "no exp", claims: func(c jwt.MapClaims) { delete(c, "exp") }, wantError: "invalid_grant", wantDesc: "exp"},
		{name: "no jti", claims: func(c jwt.MapClaims) { delete(c, "jti") }, wantError: "invalid_request", wantDesc: "jti"},
		{
			name: "unknown kid",
			sign: func(c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
				tok.Header["kid"] = "nope"
				s, _ := tok.SignedString(testKey())
				return s
			},
			wantError: "invalid_grant", wantDesc: "Unknown key identifier",
		},
		{
			name: "kid of another client",
			sign: func(c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
				tok.Header["kid"] = otherKID
				s, _ := tok.SignedString(testKey())
				return s
			},
			wantError: "invalid_grant", wantDesc: "Unknown key identifier",
		},
		{
			name: "no kid",
			sign: func(c jwt.MapClaims) string {
				s, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(testKey())
				return s
			},
			wantError: "invalid_grant", wantDesc: "kid",
		},
		{
			name: "x5c instead of kid",
			sign: func(c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
				tok.Header["x5c"] = []string{"MIIB"}
				s, _ := tok.SignedString(testKey())
				return s
			},
			wantError: "invalid_grant", wantDesc: "x5c",
		},
		{
			name: "HS256",
			sign: func(c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
				tok.Header["kid"] = testKID
				s, _ := tok.SignedString([]byte("secret"))
				return s
			},
			wantError: "invalid_grant", wantDesc: "algorithm",
		},
		{name: "unknown client", claims: func(c jwt.MapClaims) { c["iss"] = "who" }, wantError: "invalid_grant", wantDesc: "MP-100"},
		{name: "scope not allowed", claims: func(c jwt.MapClaims) { c["scope"] = ScopeRequestWrite + " altinn:other.scope" }, wantError: "invalid_scope", wantDesc: "altinn:other.scope"},
		{name: "no scope", claims: func(c jwt.MapClaims) { delete(c, "scope") }, wantError: "invalid_scope", wantDesc: "MP-200"},
		{name: "extra claim nbf", claims: func(c jwt.MapClaims) { c["nbf"] = c["iat"] }, wantError: "invalid_request", wantDesc: "nbf"},
		{name: "extra claim sub", claims: func(c jwt.MapClaims) { c["sub"] = testClientID }, wantError: "invalid_request", wantDesc: "sub"},
		{name: "not a JWT", sign: func(jwt.MapClaims) string { return "abc.def" }, wantError: "invalid_request", wantDesc: "MP-011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.claims(testClientID, ScopeRequestWrite)
			if tt.claims != nil {
				tt.claims(c)
			}
			var assertion string
			if tt.sign != nil {
				assertion = tt.sign(c)
			} else {
				assertion = e.sign(c, testKID)
			}
			status, body := e.postToken(assertion)
			if status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", status)
			}
			if body["error"] != tt.wantError {
				t.Errorf("error %v, want %s", body["error"], tt.wantError)
			}
			if desc, _ := body["error_description"].(string); !strings.Contains(desc, tt.wantDesc) {
				t.Errorf("error_description %q does not mention %q", desc, tt.wantDesc)
			}
		})
	}
	if got := e.sim.Stats().TokensIssued; got != 0 {
		t.Errorf("TokensIssued = %d after only bad grants", got)
	}
}

func TestTokenRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	good := e.sign(e.claims(testClientID, ScopeRequestWrite), testKID)
	tests := []struct {
		name        string
		method      string
		contentType string
		form        string
		wantStatus  int
		wantError   string
	}{
		{"GET", "GET", "", "", http.StatusMethodNotAllowed, "invalid_request"},
		{"JSON body", "POST", "application/json", `{"grant_type":"x"}`, http.StatusBadRequest, "invalid_request"},
		{"wrong grant_type", "POST", "application/x-www-form-urlencoded", "grant_type=client_credentials&assertion=" + good, http.StatusBadRequest, "unsupported_grant_type"},
		{"no grant_type", "POST", "application/x-www-form-urlencoded", "assertion=" + good, http.StatusBadRequest, "invalid_request"},
		{"no assertion", "POST", "application/x-www-form-urlencoded", "grant_type=" + grantTypeJWTBearer, http.StatusBadRequest, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.url+"/token", strings.NewReader(tt.form))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := response{status: resp.StatusCode, header: resp.Header}
			r.body = readAll(t, resp)
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status, tt.wantStatus)
			}
			if got := r.json(t)["error"]; got != tt.wantError {
				t.Errorf("error %v, want %s", got, tt.wantError)
			}
		})
	}
}

func TestTokenRejectsReusedJTI(t *testing.T) {
	e := newEnv(t)
	c := e.claims(testClientID, ScopeRequestWrite)
	if status, body := e.postToken(e.sign(c, testKID)); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	// A new grant with the same jti, even one signed again, is refused.
	c["exp"] = c["exp"].(int64) + 1
	status, body := e.postToken(e.sign(c, testKID))
	if status != http.StatusBadRequest || !strings.Contains(body["error_description"].(string), "MP-012") {
		t.Errorf("reuse: %d %v", status, body)
	}
}

func TestTokenAcceptsRS512AndAudArray(t *testing.T) {
	e := newEnv(t)
	c := e.claims(testClientID, ScopeRequestRead)
	c["aud"] = []string{e.url + "/"}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS512, c)
	tok.Header["kid"] = testKID
	s, err := tok.SignedString(testKey())
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.postToken(s); status != http.StatusOK {
		t.Errorf("status %d: %v", status, body)
	}
}

func TestSystemUserToken(t *testing.T) {
	e := newEnv(t)
	details := func(org, ref string) []any {
		d := map[string]any{
			"type":           "urn:altinn:systemuser",
			"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + org},
		}
		if ref != "" {
			d["externalRef"] = ref
		}
		return []any{d}
	}
	grant := func(d any) (int, map[string]any) {
		c := e.claims(testClientID, serviceScope)
		c["authorization_details"] = d
		return e.postToken(e.sign(c, testKID))
	}

	// Before approval there is no system user: MP-303.
	status, body := grant(details(customerOrg, ""))
	if status != http.StatusBadRequest || body["error"] != "invalid_altinn_customer_configuration" {
		t.Fatalf("before approval: %d %v", status, body)
	}

	tok := e.token()
	created := e.create(tok, with(standardBody(customerOrg), "externalRef", "kunde-1"), http.StatusCreated)
	if err := e.sim.Approve(created["id"].(string)); err != nil {
		t.Fatal(err)
	}
	// The custom externalRef must be sent.
	if status, body := grant(details(customerOrg, "")); status != http.StatusBadRequest {
		t.Errorf("without externalRef: %d %v", status, body)
	}
	status, body = grant(details(customerOrg, "kunde-1"))
	if status != http.StatusOK {
		t.Fatalf("system-user token: %d %v", status, body)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(body["access_token"].(string), claims); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{
		"type":           "urn:altinn:systemuser",
		"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + customerOrg},
		"systemuser_id":  []any{created["id"]},
		"system_id":      systemID,
	}}
	if diff := cmp.Diff(want, claims["authorization_details"]); diff != "" {
		t.Errorf("authorization_details (-want +got):\n%s", diff)
	}

	for name, d := range map[string]any{
		"two elements":  append(details(customerOrg, "kunde-1"), details(customerOrg, "kunde-1")...),
		"unknown type":  []any{map[string]any{"type": "urn:altinn:other", "systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + customerOrg}}},
		"unknown field": []any{map[string]any{"type": "urn:altinn:systemuser", "systemuserorg": "x", "systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + customerOrg}}},
		"bad org":       details("12345", ""),
	} {
		if status, body := grant(d); status != http.StatusBadRequest || body["error"] != "invalid_authorization_details" {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
}

func TestBearerChecks(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	get := reqPath + "/bysystem/" + systemID

	// No token: 401, empty body, WWW-Authenticate.
	r := e.do("GET", get, "", nil)
	if r.status != http.StatusUnauthorized || len(r.body) != 0 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %q %v", r.status, r.body, r.header)
	}
	// A token the simulator did not issue (the grant itself) is refused.
	if r := e.do("GET", get, e.sign(e.claims(testClientID, ScopeRequestRead), testKID), nil); r.status != http.StatusUnauthorized {
		t.Errorf("foreign token: %d", r.status)
	}
	// A tampered token is refused.
	if r := e.do("GET", get, tok[:len(tok)-4]+"AAAA", nil); r.status != http.StatusUnauthorized {
		t.Errorf("tampered token: %d", r.status)
	}
	// The right scope is needed: write alone does not read.
	w := e.tokenFor(testClientID, testKID, ScopeRequestWrite)
	if r := e.do("GET", get, w, nil); r.status != http.StatusForbidden || len(r.body) != 0 {
		t.Errorf("missing scope: %d %q", r.status, r.body)
	}
	if r := e.do("GET", get, tok, nil); r.status != http.StatusOK {
		t.Errorf("good token: %d %s", r.status, r.body)
	}
	// Expired (599 s lifetime, 10 s leeway).
	e.clock.Add(610 * time.Second)
	if r := e.do("GET", get, tok, nil); r.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d", r.status)
	}
}

func TestBearerWithoutConsumer(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now().Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": e.url + "/", "scope": ScopeRequestWrite + " " + ScopeRequestRead, "iat": now, "exp": now + 60,
	})
	tok.Header["kid"] = e.sim.kid
	s, err := tok.SignedString(e.sim.key)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", reqPath, s, standardBody(customerOrg))
	if code, status := problemCode(t, r); code != "AUTH-00023" || status != 401 || r.status != 401 {
		t.Errorf("create: %d %s", r.status, r.body)
	}
	r = e.do("GET", reqPath+"/"+newUUID(), s, nil)
	if code, _ := problemCode(t, r); r.status != 401 || code != "" {
		t.Errorf("get: %d %s", r.status, r.body)
	}
}
