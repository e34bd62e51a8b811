package handoff

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParsePublicKey reads the vendor's public key file as configured
// (ONBOARD_HANDOFF_PUBLIC_KEY_FILE): never a panic; a key it takes is an
// RSA key of 2048 bits or more (RS256) or a P-256 key (ES256), with the
// matching algorithm; a refusal is an error and no key.
func FuzzParsePublicKey(f *testing.F) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pkix := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			f.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	for _, s := range [][]byte{pkix(&rk.PublicKey), pkix(&ek.PublicKey), pkix(&e384.PublicKey),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rk.PublicKey)}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}),
		[]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), []byte("no key"), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		key, alg, err := parsePublicKey(in)
		if err != nil {
			if key != nil || alg != "" {
				t.Fatalf("a refusal (%v) with key %T and alg %q", err, key, alg)
			}
			return
		}
		switch k := key.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < 2048 || alg != "RS256" {
				t.Fatalf("an RSA key of %d bits taken for %q", k.N.BitLen(), alg)
			}
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() || alg != "ES256" {
				t.Fatalf("an EC key on %v taken for %q", k.Curve.Params().Name, alg)
			}
		default:
			t.Fatalf("a %T taken", key)
		}
	})
}

// FuzzCheckReturnURL is the hand-off's return_url (and the cookie that
// carries it back): a URL it accepts is absolute, https (or http to a
// loopback host in dev), without user info, on an allowlisted host, and a
// browser resolving it lands on that same host; every refusal wraps
// ErrReturnURL.
func FuzzCheckReturnURL(f *testing.F) {
	for _, s := range []string{"https://vendor.example/app/onboarded?c=cust-42", "https://VENDOR.example:443/x",
		"https://vendor.example:8443/x", "https://app.vendor.example/x", "http://vendor.example/x",
		"http://127.0.0.1:8080/back", "http://localhost/back", "https://evil.example/", "//vendor.example/x",
		"https://vendor.example@evil.example/", "https://evil.example\\@vendor.example/", "https://vendor.example%2f@evil.example",
		"javascript:alert(1)", "https:vendor.example", "https://vendor.example\r\nSet-Cookie: x=y", "https://[::1]/x",
		"https://vendor.example./x", "HTTPS://vendor.example/x", ""} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, dev bool) {
		v := &Verifier{cfg: Config{ReturnHosts: []string{"vendor.example", "127.0.0.1:8080"}, Dev: dev}}
		err := v.checkReturnURL(raw)
		if err != nil {
			if !errors.Is(err, ErrReturnURL) {
				t.Fatalf("checkReturnURL(%q) = %v, want ErrReturnURL", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.User != nil || u.Opaque != "" {
			t.Fatalf("accepted %q: %v %+v", raw, perr, u)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && dev && isLoopback(u.Hostname()):
		default:
			t.Fatalf("accepted %q with scheme %q (dev %v)", raw, u.Scheme, dev)
		}
		host := strings.ToLower(u.Hostname())
		if host != "vendor.example" && host != "127.0.0.1" {
			t.Fatalf("accepted %q for host %q", raw, u.Host)
		}
		// Resolved against another site, as a browser does a Location, it
		// must still name the same host.
		base, _ := url.Parse("https://onboard.example/start")
		if r := base.ResolveReference(u); !strings.EqualFold(r.Hostname(), host) {
			t.Fatalf("accepted %q, which resolves to host %q", raw, r.Host)
		}
	})
}
