package sim

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	idpClientID   = "test-idporten-client"
	idpKID        = "test-idporten-kid"
	idpRedirect   = "https://vendor.example/onboard/idporten/callback"
	secretClient  = "test-secret-client"
	clientSecret  = "a-long-enough-client-secret"
	loginScopes   = "openid " + ScopeClientDelegationsRead + " " + ScopeClientDelegationsWrite
	pickerTitle   = "Simulert ID-porten – ingen ekte innlogging"
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-more"
	otherVerifier = "another-verifier-that-is-long-enough-for-pkce-0123456789"
)

// challengeOf is the S256 code_challenge of a verifier.
func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// addIDPClients registers a private_key_jwt client and a client_secret_post one.
func (e *env) addIDPClients() {
	e.t.Helper()
	for _, c := range []IDPortenClient{
		DevIDPortenClient("https://vendor.example/onboard", idpKID, publicPEM(e.t, &testKey().PublicKey)),
		{ClientID: secretClient, RedirectURIs: []string{idpRedirect}, AuthMethod: AuthClientSecretPost, Secret: clientSecret},
	} {
		if c.ClientID == IDPortenDevClientID {
			c.ClientID = idpClientID
		}
		if err := e.sim.AddIDPortenClient(c); err != nil {
			e.t.Fatal(err)
		}
	}
}

// authzParams is a valid authorization request for the test client.
func authzParams() url.Values {
	return url.Values{
		"client_id": {idpClientID}, "redirect_uri": {idpRedirect}, "response_type": {"code"},
		"scope": {loginScopes}, "state": {"st-123"}, "nonce": {"nonce-456"},
		"code_challenge": {challengeOf(testVerifier)}, "code_challenge_method": {"S256"},
		"acr_values": {acrHigh},
	}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pick posts the picker's form for the person (pid "" cancels) and returns
// the redirect's query.
func (e *env) pick(params url.Values, pid string) (int, url.Values) {
	e.t.Helper()
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	if pid == "" {
		form.Set("cancel", "1")
	} else {
		form.Set("pid", pid)
	}
	resp, err := noRedirect.PostForm(e.url+idportenBase+"/authorize", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, loc.Query()
}

// code logs the person in and returns the authorization code.
func (e *env) code(params url.Values, pid string) string {
	e.t.Helper()
	status, q := e.pick(params, pid)
	if status != http.StatusFound || q.Get("code") == "" {
		e.t.Fatalf("login: %d %v", status, q)
	}
	return q.Get("code")
}

// assertion is a private_key_jwt client assertion for the client.
func (e *env) assertion(clientID string, edit func(jwt.MapClaims)) string {
	e.t.Helper()
	now := e.clock.Now().Unix()
	c := jwt.MapClaims{"iss": clientID, "sub": clientID, "aud": e.sim.IDPortenIssuer(), "iat": now, "exp": now + 60, "jti": newUUID()}
	if edit != nil {
		edit(c)
	}
	return e.sign(c, idpKID)
}

// codeForm is a valid token request for the code.
func (e *env) codeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {idpRedirect},
		"code_verifier": {testVerifier}, "client_id": {idpClientID},
		"client_assertion_type": {clientAssertionType}, "client_assertion": {e.assertion(idpClientID, nil)},
	}
}

// idpToken posts to ID-porten's token endpoint.
func (e *env) idpToken(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.PostForm(e.url+idportenBase+"/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatalf("token body: %v", err)
	}
	return resp.StatusCode, body
}

// idportenTokens logs the person in with the scopes and returns the token answer.
func (e *env) idportenTokens(pid, scope string) map[string]any {
	e.t.Helper()
	p := authzParams()
	p.Set("scope", scope)
	status, body := e.idpToken(e.codeForm(e.code(p, pid)))
	if status != http.StatusOK {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body
}

// exchange exchanges a token at Altinn and returns the status and body.
func (e *env) exchange(token string) (int, string) {
	e.t.Helper()
	r := e.do("GET", exchangePath, token, nil)
	return r.status, string(r.body)
}

// altinnToken logs the person in and exchanges the access token.
func (e *env) altinnToken(pid string) string {
	e.t.Helper()
	return e.altinnTokenScopes(pid, loginScopes)
}

func (e *env) altinnTokenScopes(pid, scope string) string {
	e.t.Helper()
	status, body := e.exchange(e.idportenTokens(pid, scope)["access_token"].(string))
	if status != http.StatusOK {
		e.t.Fatalf("exchange: %d %s", status, body)
	}
	return body
}

// jwksKey fetches ID-porten's JWKS and returns the key with the kid.
func (e *env) jwksKey(kid string) *rsa.PublicKey {
	e.t.Helper()
	r := e.do("GET", idportenBase+"/jwks.json", "", nil)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		e.t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["kid"] == kid {
			n, _ := base64.RawURLEncoding.DecodeString(k["n"])
			ex, _ := base64.RawURLEncoding.DecodeString(k["e"])
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
		}
	}
	e.t.Fatalf("kid %q not in the JWKS %s", kid, r.body)
	return nil
}

// verifyIDP verifies a token from ID-porten against its JWKS.
func (e *env) verifyIDP(raw string) jwt.MapClaims {
	e.t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		return e.jwksKey(t.Header["kid"].(string)), nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		e.t.Fatalf("verify %s: %v", raw, err)
	}
	return claims
}

func TestIDPortenDiscovery(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", idportenBase+"/.well-known/openid-configuration", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("discovery: %d", r.status)
	}
	d := r.json(t)
	iss := e.url + "/idporten"
	if d["issuer"] != iss || d["authorization_endpoint"] != iss+"/authorize" || d["token_endpoint"] != iss+"/token" || d["jwks_uri"] != iss+"/jwks.json" {
		t.Errorf("discovery %v", d)
	}
	if got := d["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
		t.Errorf("PKCE methods %v", got)
	}
	if e.sim.IDPortenIssuer() != iss {
		t.Errorf("IDPortenIssuer %q", e.sim.IDPortenIssuer())
	}
}

// TestIDPortenPicker checks the picker page: a simulation, clearly, with the
// seed's persons, no script, and the request carried in the form.
func TestIDPortenPicker(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	r := e.do("GET", idportenBase+"/authorize?"+authzParams().Encode(), "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("authorize: %d %s", r.status, r.body)
	}
	page := string(r.body)
	for _, want := range []string{"<title>" + pickerTitle, pickerTitle, "Kari Fjellheim", PersonClientAdmin, "Vera Vestrheim", "Ola Berg",
		"klientadministrator", "Fjellheim Regnskap AS (310000019)", acrHigh, `name="nonce" value="nonce-456"`} {
		if !strings.Contains(page, want) {
			t.Errorf("picker lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("the picker must work without JavaScript and forbid scripts")
	}
	status, q := e.pick(authzParams(), "")
	if status != http.StatusFound || q.Get("error") != "access_denied" || q.Get("state") != "st-123" {
		t.Errorf("cancel: %d %v", status, q)
	}
	bad := authzParams()
	form := url.Values{}
	for k, v := range bad {
		form[k] = v
	}
	form.Set("pid", "01010112345")
	resp, err := noRedirect.PostForm(e.url+idportenBase+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown person: %d", resp.StatusCode)
	}
}

// TestIDPortenAuthorizeRefused checks each bad authorization request: a bad
// client or redirect URI is shown, never redirected to; the rest go back to
// the redirect URI with the OAuth error, the state when given, and iss.
func TestIDPortenAuthorizeRefused(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	for _, tt := range []struct {
		name     string
		edit     func(url.Values)
		redirect bool
		code     string
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nobody") }, false, "invalid_client"},
		{"unregistered redirect", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, false, "invalid_request"},
		{"redirect with a suffix", func(v url.Values) { v.Set("redirect_uri", idpRedirect+"/x") }, false, "invalid_request"},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "token") }, true, "unsupported_response_type"},
		{"no openid", func(v url.Values) { v.Set("scope", ScopeClientDelegationsRead) }, true, "invalid_scope"},
		{"unknown scope", func(v url.Values) { v.Set("scope", "openid altinn:other") }, true, "invalid_scope"},
		{"no state", func(v url.Values) { v.Del("state") }, true, "invalid_request"},
		{"no nonce", func(v url.Values) { v.Del("nonce") }, true, "invalid_request"},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, true, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, true, "invalid_request"},
		{"no PKCE method", func(v url.Values) { v.Del("code_challenge_method") }, true, "invalid_request"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, true, "invalid_request"},
		{"low acr", func(v url.Values) { v.Set("acr_values", acrLow) }, true, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := authzParams()
			tt.edit(p)
			r := e.do("GET", idportenBase+"/authorize?"+p.Encode(), "", nil)
			if !tt.redirect {
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tt.code) || r.header.Get("Location") != "" {
					t.Fatalf("want a 400 page with %s, got %d %s", tt.code, r.status, r.header.Get("Location"))
				}
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), idpRedirect+"?") {
				t.Fatalf("want a redirect, got %d %q", r.status, r.header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("error") != tt.code || q.Get("iss") != e.sim.IDPortenIssuer() || q.Get("code") != "" {
				t.Errorf("redirect %v", q)
			}
			if want := p.Get("state"); q.Get("state") != want {
				t.Errorf("state %q, want %q", q.Get("state"), want)
			}
			// The picker's form is checked the same way.
			if status, fq := e.pick(p, PersonClientAdmin); status != http.StatusFound || fq.Get("error") != tt.code {
				t.Errorf("picker POST: %d %v", status, fq)
			}
		})
	}
}

// TestIDPortenLogin is a whole login: the picker, the code with state and
// iss, the token call with PKCE and private_key_jwt, the id token's claims
// verified against the JWKS, and a refresh.
func TestIDPortenLogin(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	status, q := e.pick(authzParams(), PersonClientAdmin)
	if status != http.StatusFound || q.Get("state") != "st-123" || q.Get("iss") != e.sim.IDPortenIssuer() || q.Get("code") == "" {
		t.Fatalf("login: %d %v", status, q)
	}
	st, body := e.idpToken(e.codeForm(q.Get("code")))
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"].(float64) != 120 || body["refresh_token"] == "" || body["scope"] != loginScopes {
		t.Errorf("token answer %v", body)
	}
	id := e.verifyIDP(body["id_token"].(string))
	now := float64(e.clock.Now().Unix())
	for k, want := range map[string]any{"iss": e.sim.IDPortenIssuer(), "aud": idpClientID, "pid": PersonClientAdmin, "nonce": "nonce-456",
		"acr": acrHigh, "iat": now, "exp": now + 120, "auth_time": now} {
		if id[k] != want {
			t.Errorf("id_token %s = %v, want %v", k, id[k], want)
		}
	}
	if amr, _ := id["amr"].([]any); len(amr) == 0 {
		t.Errorf("id_token amr %v", id["amr"])
	}
	if sub, _ := id["sub"].(string); sub == "" || sub == PersonClientAdmin {
		t.Errorf("sub %q must be pairwise, not the pid", sub)
	}
	at := e.verifyIDP(body["access_token"].(string))
	if at["scope"] != ScopeClientDelegationsRead+" "+ScopeClientDelegationsWrite || at["pid"] != PersonClientAdmin || at["client_id"] != idpClientID {
		t.Errorf("access token %v", at)
	}

	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)},
		"client_assertion_type": {clientAssertionType}, "client_assertion": {e.assertion(idpClientID, nil)}}
	st, again := e.idpToken(rf)
	if st != http.StatusOK || again["access_token"] == "" || again["refresh_token"] == body["refresh_token"] {
		t.Fatalf("refresh: %d %v", st, again)
	}
	rf.Set("client_assertion", e.assertion(idpClientID, nil))
	if st, b := e.idpToken(rf); st != http.StatusBadRequest || b["error"] != "invalid_grant" {
		t.Errorf("a spent refresh token: %d %v", st, b)
	}

	// A secret client logs in with client_secret_post.
	p := authzParams()
	p.Set("client_id", secretClient)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(p, PersonNoRole)}, "redirect_uri": {idpRedirect},
		"code_verifier": {testVerifier}, "client_id": {secretClient}, "client_secret": {clientSecret}}
	if st, b := e.idpToken(f); st != http.StatusOK || b["id_token"] == nil {
		t.Errorf("client_secret_post: %d %v", st, b)
	}
}

// TestIDPortenTokenRefused checks each bad token request with RFC 6749's error.
func TestIDPortenTokenRefused(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	for _, tt := range []struct {
		name   string
		edit   func(e *env, f url.Values)
		status int
		code   string
	}{
		{"bad code", func(e *env, f url.Values) { f.Set("code", "not-a-code") }, 400, "invalid_grant"},
		{"reused code", func(e *env, f url.Values) {
			if st, b := e.idpToken(e.codeForm(f.Get("code"))); st != http.StatusOK {
				e.t.Fatalf("first use: %d %v", st, b)
			}
		}, 400, "invalid_grant"},
		{"wrong verifier", func(e *env, f url.Values) { f.Set("code_verifier", otherVerifier) }, 400, "invalid_grant"},
		{"no verifier", func(e *env, f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"wrong redirect_uri", func(e *env, f url.Values) { f.Set("redirect_uri", idpRedirect+"?x=1") }, 400, "invalid_grant"},
		{"expired code", func(e *env, f url.Values) {
			e.clock.Add(codeLifetime + time.Second)
			f.Set("client_assertion", e.assertion(idpClientID, nil))
		}, 400, "invalid_grant"},
		{"unknown client", func(e *env, f url.Values) {
			f.Set("client_id", "nobody")
			f.Set("client_assertion", e.assertion("nobody", nil))
		}, 401, "invalid_client"},
		{"assertion for the token endpoint", func(e *env, f url.Values) {
			f.Set("client_assertion", e.assertion(idpClientID, func(c jwt.MapClaims) { c["aud"] = e.url + "/idporten/token" }))
		}, 401, "invalid_client"},
		{"assertion by another key", func(e *env, f url.Values) {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": idpClientID, "sub": idpClientID,
				"aud": e.sim.IDPortenIssuer(), "iat": e.clock.Now().Unix(), "exp": e.clock.Now().Unix() + 60, "jti": newUUID()})
			tok.Header["kid"] = idpKID
			s, _ := tok.SignedString(otherKey())
			f.Set("client_assertion", s)
		}, 401, "invalid_client"},
		{"assertion without sub", func(e *env, f url.Values) {
			f.Set("client_assertion", e.assertion(idpClientID, func(c jwt.MapClaims) { delete(c, "sub") }))
		}, 401, "invalid_client"},
		{"assertion living too long", func(e *env, f url.Values) {
			f.Set("client_assertion", e.assertion(idpClientID, func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Unix() + 600 }))
		}, 401, "invalid_client"},
		{"reused assertion", func(e *env, f url.Values) {
			a := e.assertion(idpClientID, nil)
			g := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_assertion_type": {clientAssertionType}, "client_assertion": {a}}
			e.idpToken(g)
			f.Set("client_assertion", a)
		}, 401, "invalid_client"},
		{"secret for a key client", func(e *env, f url.Values) {
			f.Del("client_assertion")
			f.Del("client_assertion_type")
			f.Set("client_secret", clientSecret)
		}, 401, "invalid_client"},
		{"no client authentication", func(e *env, f url.Values) { f.Del("client_assertion"); f.Del("client_assertion_type") }, 401, "invalid_client"},
		{"code of another client", func(e *env, f url.Values) {
			p := authzParams()
			p.Set("client_id", secretClient)
			f.Set("code", e.code(p, PersonClientAdmin))
		}, 400, "invalid_grant"},
		{"unknown grant type", func(e *env, f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			f := e.codeForm(e.code(authzParams(), PersonClientAdmin))
			tt.edit(e, f)
			st, body := e.idpToken(f)
			if st != tt.status || body["error"] != tt.code || body["access_token"] != nil {
				t.Errorf("got %d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
}

// TestExchange checks Altinn's exchange of an ID-porten token: the access
// token gives an Altinn token with the person's claims and Altinn's added
// and the same exp; the id token, a Maskinporten token, an expired token and
// none are refused.
func TestExchange(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	tokens := e.idportenTokens(PersonClientAdmin, loginScopes)
	st, altinn := e.exchange(tokens["access_token"].(string))
	if st != http.StatusOK || strings.Count(altinn, ".") != 2 {
		t.Fatalf("exchange: %d %s", st, altinn)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(altinn, claims); err != nil {
		t.Fatal(err)
	}
	at := e.verifyIDP(tokens["access_token"].(string))
	if claims["iss"] != e.sim.AltinnIssuer() || claims["pid"] != PersonClientAdmin || claims["urn:altinn:authlevel"] != "4" ||
		claims["exp"] != at["exp"] || claims["scope"] != at["scope"] || claims["urn:altinn:userid"] == nil || claims["urn:altinn:party:uuid"] == nil {
		t.Errorf("Altinn token %v", claims)
	}
	for _, tt := range []struct {
		name  string
		token func() string
		want  int
	}{
		{"id token", func() string { return tokens["id_token"].(string) }, http.StatusForbidden},
		{"no altinn scope", func() string { return e.idportenTokens(PersonClientAdmin, "openid")["access_token"].(string) }, http.StatusForbidden},
		{"Maskinporten token", func() string { return e.token() }, http.StatusUnauthorized},
		{"garbage", func() string { return "abc.def.ghi" }, http.StatusUnauthorized},
		{"none", func() string { return "" }, http.StatusUnauthorized},
		{"expired", func() string {
			tok := tokens["access_token"].(string)
			e.clock.Add(120*time.Second + bearerLeeway + time.Second)
			return tok
		}, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			if st, body := e.exchange(tt.token()); st != tt.want {
				t.Errorf("exchange: %d %s, want %d", st, body, tt.want)
			}
		})
	}
}

// FuzzAuthorize feeds the authorize endpoint any query: it answers a page
// (200 or 400) or a redirect to a registered URI only, and never panics.
func FuzzAuthorize(f *testing.F) {
	s, err := New(Config{PublicURL: "http://sim.test", Seed: DefaultSeed()})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.AddIDPortenClient(IDPortenClient{ClientID: secretClient, RedirectURIs: []string{idpRedirect}, AuthMethod: AuthClientSecretPost, Secret: clientSecret}); err != nil {
		f.Fatal(err)
	}
	good := authzParams()
	good.Set("client_id", secretClient)
	f.Add(good.Encode())
	f.Add("client_id=" + secretClient + "&redirect_uri=" + url.QueryEscape(idpRedirect))
	f.Add("%zz&client_id=;;")
	f.Add("")
	h := s.Handler()
	f.Fuzz(func(t *testing.T, q string) {
		for _, method := range []string{"GET", "POST"} {
			var req *http.Request
			if method == "GET" {
				req = httptest.NewRequest("GET", "/idporten/authorize", nil)
				req.URL.RawQuery = q
			} else {
				req = httptest.NewRequest("POST", "/idporten/authorize", strings.NewReader(q+"&pid="+PersonClientAdmin))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest:
			case http.StatusFound:
				if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, idpRedirect+"?") {
					t.Fatalf("redirect to %q", loc)
				}
			default:
				t.Fatalf("%s %q: status %d", method, q, w.Code)
			}
		}
	})
}

// FuzzIDPortenToken feeds the token endpoint any form: it answers an OAuth
// error as JSON and never a token.
func FuzzIDPortenToken(f *testing.F) {
	s, err := New(Config{PublicURL: "http://sim.test", Seed: DefaultSeed()})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.AddIDPortenClient(DevIDPortenClient("https://vendor.example", idpKID, pemOf(&testKey().PublicKey))); err != nil {
		f.Fatal(err)
	}
	f.Add("grant_type=authorization_code&code=x&redirect_uri=y&code_verifier=" + testVerifier + "&client_id=" + IDPortenDevClientID + "&client_assertion_type=" + url.QueryEscape(clientAssertionType) + "&client_assertion=a.b.c")
	f.Add("grant_type=refresh_token&refresh_token=x&client_secret=s&client_id=c")
	f.Add("client_assertion=eyJhbGciOiJub25lIn0.eyJpc3MiOiJvbmJvYXJkLWRldi1pZHBvcnRlbiJ9.&client_assertion_type=" + url.QueryEscape(clientAssertionType))
	h := s.Handler()
	errPattern := regexp.MustCompile(`^[a-z_]+$`)
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest("POST", "/idporten/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body.Bytes(), err)
		}
		code, _ := body["error"].(string)
		if w.Code == http.StatusOK || body["access_token"] != nil || !errPattern.MatchString(code) {
			t.Fatalf("form %q: %d %v", form, w.Code, body)
		}
	})
}

// pemOf is a public key as PEM, for fuzz set-up without a *testing.T.
func pemOf(k *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestIDPortenClientSecretBasic checks client_secret_basic: the right secret
// gets the tokens, a wrong one 401 invalid_client with a Basic challenge, and
// a key client's empty Basic header (as x/oauth2's auto-detection sends first)
// is refused before the code is spent.
func TestIDPortenClientSecretBasic(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	const basicClient = "test-basic-client"
	if err := e.sim.AddIDPortenClient(IDPortenClient{ClientID: basicClient, RedirectURIs: []string{idpRedirect}, AuthMethod: AuthClientSecretBasic, Secret: clientSecret}); err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values, user, pass string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest("POST", e.url+idportenBase+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, resp.Header, body
	}
	p := authzParams()
	p.Set("client_id", basicClient)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(p, PersonClientAdmin)}, "redirect_uri": {idpRedirect}, "code_verifier": {testVerifier}}
	st, h, body := post(form, basicClient, "wrong-secret-but-long")
	if st != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong secret: %d %v %v", st, h, body)
	}
	if st, _, body := post(form, basicClient, clientSecret); st != http.StatusOK || body["id_token"] == nil {
		t.Errorf("right secret: %d %v", st, body)
	}

	f := e.codeForm(e.code(authzParams(), PersonClientAdmin))
	if st, _, body := post(f, idpClientID, ""); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("empty Basic for a key client: %d %v", st, body)
	}
	f.Set("client_assertion", e.assertion(idpClientID, nil))
	if st, body := e.idpToken(f); st != http.StatusOK {
		t.Errorf("the code after a refused client authentication: %d %v", st, body)
	}
}

// TestAdminIDPortenClient registers a client over the admin API and logs in with it.
func TestAdminIDPortenClient(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/_sim/idporten/clients", "", map[string]any{"clientId": secretClient, "redirectUris": []string{idpRedirect},
		"authMethod": AuthClientSecretPost, "secret": clientSecret})
	if r.status != http.StatusCreated {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	p := authzParams()
	p.Set("client_id", secretClient)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(p, PersonClientAdmin)}, "redirect_uri": {idpRedirect},
		"code_verifier": {testVerifier}, "client_id": {secretClient}, "client_secret": {clientSecret}}
	if st, b := e.idpToken(f); st != http.StatusOK {
		t.Errorf("token: %d %v", st, b)
	}
	for _, body := range []any{"{", map[string]any{"clientId": "x"}, map[string]any{"clientId": "x", "redirectUris": []string{idpRedirect}, "secret": "short", "authMethod": AuthClientSecretPost}, map[string]any{"clientid2": 1}} {
		if r := e.do("POST", "/_sim/idporten/clients", "", body); r.status != http.StatusBadRequest {
			t.Errorf("%v: %d", body, r.status)
		}
	}
}
