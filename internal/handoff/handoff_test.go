package handoff_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/onboard-altinn/onboard/internal/handoff"
)

type memJTIs struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memJTIs) UseHandoffJTI(_ context.Context, jti string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[jti] {
		return false, nil
	}
	m.seen[jti] = true
	return true, nil
}

const aud = "https://onboard.example"

func claims(jti string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"aud": aud, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": jti,
		"org": "314248295", "customer_ref": "c1", "lang": "nb", "return_url": "https://app.vendor.example/done",
	}
}

func ecKey(t *testing.T, curve elliptic.Curve) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestES256(t *testing.T) {
	k, pub := ecKey(t, elliptic.P256())
	v, err := handoff.New(handoff.Config{
		PublicKeyPEM: pub, ReturnHosts: []string{"app.vendor.example"}, MaxAge: 5 * time.Minute,
		Audience: aud, Products: []string{"standard", "agent"}, JTIs: &memJTIs{seen: map[string]bool{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Methods(); len(got) != 1 || got[0] != "ES256" {
		t.Fatalf("methods %v, want exactly [ES256]", got)
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims("a")).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if h.OrgNo != "314248295" || h.Product != "standard" || h.Lang != "nb" || h.CustomerRef != "c1" {
		t.Fatalf("hand-off %+v", h)
	}
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, handoff.ErrReplayed) {
		t.Fatalf("replay: %v, want ErrReplayed", err)
	}
	// HS256 keyed with the public key's PEM: the algorithm is not on the list.
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("b")).SignedString(pub)
	if _, err := v.Verify(context.Background(), hs); !errors.Is(err, handoff.ErrInvalid) {
		t.Fatalf("HS256 with the public key as secret: %v, want ErrInvalid", err)
	}
}

func TestNewRefusesWeakOrMissingKeys(t *testing.T) {
	_, p384 := ecKey(t, elliptic.P384())
	base := handoff.Config{ReturnHosts: []string{"x.example"}, MaxAge: time.Minute, Audience: aud,
		Products: []string{"standard"}, JTIs: &memJTIs{}}
	for name, mod := range map[string]func(*handoff.Config){
		"no key":       func(c *handoff.Config) {},
		"short secret": func(c *handoff.Config) { c.HS256Secret = []byte("short") },
		"P-384 key":    func(c *handoff.Config) { c.PublicKeyPEM = p384 },
		"not PEM":      func(c *handoff.Config) { c.PublicKeyPEM = []byte("hello") },
		"no hosts": func(c *handoff.Config) {
			c.HS256Secret = []byte("0123456789abcdef0123456789abcdef")
			c.ReturnHosts = nil
		},
	} {
		c := base
		mod(&c)
		if _, err := handoff.New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestReturnURLWithPort(t *testing.T) {
	v, err := handoff.New(handoff.Config{HS256Secret: []byte("0123456789abcdef0123456789abcdef"),
		ReturnHosts: []string{"vendor.example", "localhost:9000"}, MaxAge: time.Minute, Audience: aud,
		Products: []string{"standard"}, Dev: true, JTIs: &memJTIs{seen: map[string]bool{}}})
	if err != nil {
		t.Fatal(err)
	}
	for raw, ok := range map[string]bool{
		"https://vendor.example/x":      true,
		"https://VENDOR.example/x":      true,
		"https://vendor.example:8443/x": false,
		"http://localhost:9000/back":    true,
		"http://localhost:9001/back":    false,
		"http://vendor.example/x":       false,
		"https://user@vendor.example/x": false,
		"javascript:alert(1)":           false,
		"//vendor.example/x":            false,
		"https://vendor.example.evil/x": false,
	} {
		if err := v.CheckReturnURL(raw); (err == nil) != ok {
			t.Errorf("%s: err %v, want ok=%v", raw, err, ok)
		}
	}
}
