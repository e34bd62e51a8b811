package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

const (
	handoffSecret = "handoff-secret-0123456789abcdef-0123456789"
	vendorReturn  = "https://vendor.example/app/onboarded?c=cust-42"
)

func handoffEnv(t *testing.T, extra map[string]string) *env {
	t.Helper()
	settings := map[string]string{
		"ONBOARD_HANDOFF_HS256_SECRET": handoffSecret,
		"ONBOARD_HANDOFF_RETURN_HOSTS": "vendor.example",
	}
	for k, v := range extra {
		settings[k] = v
	}
	return newEnv(t, settings)
}

func randomJTI(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// handoffClaims is a valid token's claims for e; tests change one thing.
func (e *env) handoffClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"aud": e.web.URL, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": randomJTI(e.t),
		"org": org, "customer_ref": "cust-42", "lang": "en", "return_url": vendorReturn,
	}
}

func signHS(t *testing.T, claims jwt.MapClaims, secret string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) handoff(b *browser, token string) page {
	e.t.Helper()
	return b.get(e.web.URL + "/start?token=" + url.QueryEscape(token))
}

func (e *env) countOnboardings() int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM onboardings`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// refused checks a clear refusal page: a 4xx error page with the message in
// the expected language, not the wizard.
func refused(t *testing.T, p page, status int, text string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
	if !strings.Contains(p.body, `data-testid="error"`) || strings.Contains(p.body, `name="orgno"`) {
		t.Fatalf("want the error page, not the wizard:\n%s", p.body)
	}
	if !strings.Contains(p.body, text) {
		t.Fatalf("page lacks %q:\n%s", text, p.body)
	}
	if strings.Contains(p.body, "handoff:") || strings.Contains(p.body, "token is") || strings.Contains(p.body, "token%3D") {
		t.Fatalf("internal text on the page:\n%s", p.body)
	}
}

func TestHandoffValidPrefillsAndReturns(t *testing.T) {
	t.Parallel()
	e := handoffEnv(t, nil)
	b := e.browser()
	token := signHS(t, e.handoffClaims(), handoffSecret)

	res := e.handoff(b, token)
	if res.status != http.StatusSeeOther {
		t.Fatalf("hand-off: %d, want 303\n%s", res.status, res.body)
	}
	u, err := url.Parse(res.location)
	if err != nil || u.Host != strings.TrimPrefix(e.sim.URL, "http://") {
		t.Fatalf("hand-off: Location %q is not the simulator's confirm page", res.location)
	}
	o := e.onboardingForOrg(org)
	if o.Product != "standard" || o.CustomerRef == nil || *o.CustomerRef != "cust-42" || o.Lang != "en" {
		t.Fatalf("onboarding: product %q customer ref %v lang %q", o.Product, o.CustomerRef, o.Lang)
	}

	back := e.decide(b, res.location, "approve")
	outcome := e.returnTo(b, back.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusConnected) {
		t.Fatalf("outcome = %q, want connected", st)
	}
	if !strings.Contains(outcome.body, `href="`+strings.ReplaceAll(vendorReturn, "&", "&amp;")+`" data-testid="back-to-vendor"`) ||
		!strings.Contains(outcome.body, "Back to SmartCloud") {
		t.Fatalf("status page lacks the button back to the product:\n%s", outcome.body)
	}
	if !strings.Contains(outcome.body, "314 248 295") {
		t.Fatal("the browser that came with the token should see the organisation's details")
	}

	// Another browser holding the status link sees no way back.
	other := e.browser().get(e.web.URL + "/status/" + o.Ref)
	if strings.Contains(other.body, "back-to-vendor") {
		t.Fatal("the back button belongs to the browser that came with the token")
	}

	// The same token a second time, from anywhere, is refused.
	refused(t, e.handoff(e.browser(), token), http.StatusConflict, "already been used")
}

func TestHandoffRefusals(t *testing.T) {
	t.Parallel()
	e := handoffEnv(t, nil)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) string {
		c := e.handoffClaims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return signHS(t, c, handoffSecret)
	}
	now := time.Now()
	expired := e.handoffClaims()
	expired["iat"], expired["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-5*time.Minute).Unix()
	tooLong := e.handoffClaims()
	tooLong["exp"] = now.Add(30 * time.Minute).Unix()
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, e.handoffClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := jwt.NewWithClaims(jwt.SigningMethodRS256, e.handoffClaims()).SignedString(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	nb := e.handoffClaims()
	nb["lang"], nb["jti"] = "nb", nil
	delete(nb, "jti")

	const (
		invalid    = "The link you followed is not valid"
		isExpired  = "The link you followed has expired"
		badReturn  = "an address we do not know"
		badProduct = "a product we do not know"
	)
	for _, tc := range []struct {
		name, token string
		status      int
		text        string
	}{
		// Without a language in the token, the browser's (bokmål here).
		{"no token", "", 400, "Lenken du kom fra er ikke gyldig"},
		{"garbage", "not.a.jwt", 400, "Lenken du kom fra er ikke gyldig"},
		{"expired", signHS(t, expired, handoffSecret), 400, isExpired},
		{"lifetime over the maximum", signHS(t, tooLong, handoffSecret), 400, isExpired},
		{"alg none", none, 400, invalid},
		{"RS256 when HS256 is configured", rs, 400, invalid},
		{"bad signature", signHS(t, e.handoffClaims(), handoffSecret+"x"), 400, invalid},
		{"wrong audience", with("aud", "https://other.example"), 400, invalid},
		{"no exp", with("exp", nil), 400, invalid},
		{"no iat", with("iat", nil), 400, invalid},
		{"no jti", with("jti", nil), 400, invalid},
		{"no org", with("org", nil), 400, invalid},
		{"bad check digit", with("org", "314248296"), 400, invalid},
		{"no customer_ref", with("customer_ref", nil), 400, invalid},
		{"unknown lang", with("lang", "de"), 400, "Lenken du kom fra er ikke gyldig"},
		{"no return_url", with("return_url", nil), 400, invalid},
		{"return URL off the allowlist", with("return_url", "https://evil.example/x"), 400, badReturn},
		{"return URL lookalike host", with("return_url", "https://vendor.example.evil.example/x"), 400, badReturn},
		{"plain http return URL", with("return_url", "http://vendor.example/x"), 400, badReturn},
		{"unknown product", with("product", "gold"), 400, badProduct},
		{"refused in the token's language", signHS(t, nb, handoffSecret), 400, "Lenken du kom fra er ikke gyldig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, e.handoff(e.browser(), tc.token), tc.status, tc.text)
		})
	}
	if n := e.countOnboardings(); n != 0 {
		t.Fatalf("%d onboardings started by refused tokens", n)
	}

	// A refused token does not use up its jti: the same id signed properly works.
	c := e.handoffClaims()
	c["jti"] = "shared-id"
	refused(t, e.handoff(e.browser(), signHS(t, c, handoffSecret+"x")), 400, invalid)
	if res := e.handoff(e.browser(), signHS(t, c, handoffSecret)); res.status != http.StatusSeeOther {
		t.Fatalf("valid token after a forged one with its jti: %d\n%s", res.status, res.body)
	}
	c["iat"] = time.Now().Unix() // a new token with the same jti is a replay
	refused(t, e.handoff(e.browser(), signHS(t, c, handoffSecret)), http.StatusConflict, "already been used")
}

func TestHandoffPublicKey(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	f := filepath.Join(t.TempDir(), "vendor.pem")
	if err := os.WriteFile(f, pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, map[string]string{
		"ONBOARD_HANDOFF_PUBLIC_KEY_FILE": f,
		"ONBOARD_HANDOFF_RETURN_HOSTS":    "vendor.example",
	})

	// HS/RS confusion: an HS256 token keyed with the public key's bytes.
	refused(t, e.handoff(e.browser(), signHS(t, e.handoffClaims(), string(pubPEM))), 400, "The link you followed is not valid")
	// HS256 with any secret is not accepted when only a public key is configured.
	refused(t, e.handoff(e.browser(), signHS(t, e.handoffClaims(), handoffSecret)), 400, "The link you followed is not valid")

	c := e.handoffClaims()
	c["product"] = "agent"
	token, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	res := e.handoff(e.browser(), token)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, e.sim.URL) {
		t.Fatalf("RS256 hand-off: %d Location %q\n%s", res.status, res.location, res.body)
	}
	if o := e.onboardingForOrg(org); o.Product != "agent" {
		t.Fatalf("product %q, want agent (from the token)", o.Product)
	}
}

func TestHandoffOffWithoutKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if p := e.browser().get(e.web.URL + "/start?token=x"); p.status != http.StatusNotFound {
		t.Fatalf("/start without a hand-off key: %d, want 404", p.status)
	}
}
