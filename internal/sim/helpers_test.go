package sim

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testClientID  = "test-client"
	testKID       = "test-kid"
	vendorOrg     = "991825827"
	systemID      = "991825827_smartcloud"
	customerOrg   = "314248295"
	otherClientID = "other-client"
	otherKID      = "other-kid"
	otherVendor   = "310000027"
	otherSystemID = "310000027_bakesystem"
	serviceScope  = "skatteetaten:testapi"
	reqPath       = "/authentication/api/v1/systemuser/request/vendor"
	pkgSkatt      = "urn:altinn:accesspackage:skattegrunnlag"
	pkgSign       = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
	pkgLonn       = "urn:altinn:accesspackage:regnskapsforer-lonn"
	returnURL     = "https://vendor.example/onboard/return"
)

// allScopes are the scopes the test clients may ask for.
var allScopes = []string{ScopeRequestWrite, ScopeRequestRead, ScopeRegisterWrite, serviceScope, authorizedPartiesScope}

// testKey is the RSA key of the test clients, made once per test binary.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// otherKey is an RSA key no client has registered.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running simulator with a test clock and two registered vendors.
type env struct {
	t     *testing.T
	sim   *Server
	url   string
	clock *testClock
}

// testSeed is DefaultSeed plus a second vendor's system and the test client on the
// default system, so that system-user tokens can be tested.
func testSeed() Seed {
	seed := DefaultSeed()
	seed.Systems[0].ClientIDs = []string{testClientID}
	seed.Systems = append(seed.Systems, System{
		ID:             otherSystemID,
		VendorOrgNo:    otherVendor,
		Name:           map[string]string{"nb": "Bakesystem"},
		Rights:         seed.Systems[0].Rights,
		AccessPackages: seed.Systems[0].AccessPackages,
	})
	return seed
}

// newEnv starts a simulator on an httptest server. Options adjust the config.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)}
	cfg := Config{
		PublicURL: "http://" + ts.Listener.Addr().String(),
		Seed:      testSeed(),
		Now:       clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	pemKey := publicPEM(t, &testKey().PublicKey)
	for _, c := range []Client{
		{ClientID: testClientID, OrgNo: vendorOrg, KeyID: testKID, PublicKeyPEM: pemKey, Scopes: allScopes},
		{ClientID: otherClientID, OrgNo: otherVendor, KeyID: otherKID, PublicKeyPEM: pemKey, Scopes: allScopes},
	} {
		if err := s.AddClient(c); err != nil {
			t.Fatalf("AddClient: %v", err)
		}
	}
	if err := s.AddRedirectURL(systemID, returnURL); err != nil {
		t.Fatalf("AddRedirectURL: %v", err)
	}
	return &env{t: t, sim: s, url: cfg.PublicURL, clock: clock}
}

func publicPEM(t *testing.T, k *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// claims returns a valid grant's claims for the client at the simulator's clock.
func (e *env) claims(clientID string, scopes ...string) jwt.MapClaims {
	now := e.clock.Now().Unix()
	return jwt.MapClaims{
		"aud":   e.url + "/",
		"iss":   clientID,
		"iat":   now,
		"exp":   now + 60,
		"jti":   newUUID(),
		"scope": strings.Join(scopes, " "),
	}
}

// sign signs claims as a grant with the test key.
func (e *env) sign(claims jwt.MapClaims, kid string) string {
	e.t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testKey())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// postToken posts a grant to /token and returns the status and decoded body.
func (e *env) postToken(assertion string) (int, map[string]any) {
	e.t.Helper()
	form := "grant_type=" + grantTypeJWTBearer + "&assertion=" + assertion
	resp, err := http.Post(e.url+"/token", "application/x-www-form-urlencoded", strings.NewReader(form))
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

// tokenFor gets an access token for the client with the scopes.
func (e *env) tokenFor(clientID, kid string, scopes ...string) string {
	e.t.Helper()
	status, body := e.postToken(e.sign(e.claims(clientID, scopes...), kid))
	if status != http.StatusOK {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body["access_token"].(string)
}

// token gets an access token for the test vendor with every vendor scope.
func (e *env) token() string {
	return e.tokenFor(testClientID, testKID, ScopeRequestWrite, ScopeRequestRead, ScopeRegisterWrite)
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

// do calls the simulator. body is sent as is when it is a string, as JSON otherwise.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// create posts a standard request and fails the test unless the status is want.
func (e *env) create(token string, body map[string]any, want int) map[string]any {
	e.t.Helper()
	r := e.do("POST", reqPath, token, body)
	if r.status != want {
		e.t.Fatalf("create: status %d, want %d: %s", r.status, want, r.body)
	}
	return r.json(e.t)
}

// createAgent posts an agent request and fails the test unless the status is want.
func (e *env) createAgent(token string, body map[string]any, want int) map[string]any {
	e.t.Helper()
	r := e.do("POST", reqPath+"/agent", token, body)
	if r.status != want {
		e.t.Fatalf("create agent: status %d, want %d: %s", r.status, want, r.body)
	}
	return r.json(e.t)
}

// standardBody is a valid standard request body for the org.
func standardBody(org string) map[string]any {
	return map[string]any{
		"systemId":   systemID,
		"partyOrgNo": org,
		"rights": []any{map[string]any{"resource": []any{
			map[string]any{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"},
		}}},
		"accessPackages": []any{map[string]any{"urn": pkgSkatt}},
	}
}

// agentBody is a valid agent request body for the org.
func agentBody(org string) map[string]any {
	return map[string]any{
		"systemId":       systemID,
		"partyOrgNo":     org,
		"accessPackages": []any{map[string]any{"urn": pkgSign}, map[string]any{"urn": pkgLonn}},
	}
}

// with returns a copy of body with the key set (or removed when v is nil and del).
func with(body map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// without returns a copy of body without the keys.
func without(body map[string]any, keys ...string) map[string]any {
	out := with(body)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// validOrg returns the i-th valid org number above 311000000.
func validOrg(i int) string {
	n := 0
	for base := 31100000; ; base++ {
		for d := 0; d <= 9; d++ {
			s := fmt.Sprintf("%d%d", base, d)
			if validOrgNo(s) {
				if n == i {
					return s
				}
				n++
			}
		}
	}
}

// problemCode returns the code and status of a problem body.
func problemCode(t *testing.T, r response) (string, float64) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want problem+json; body %s", ct, r.body)
	}
	m := r.json(t)
	code, _ := m["code"].(string)
	status, _ := m["status"].(float64)
	return code, status
}

// readAll reads a response body.
func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
