package maskinporten_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// FuzzTokenResponse is the token endpoint answering anything: any status,
// any body. The client must never panic; a success is a token (never an
// empty one) with a lifetime that is not negative; a refusal is an error
// (a non-2xx one an *Error whose Error() is one line of valid UTF-8, as it
// goes into logs and onto the Setup page), never a zero result.
func FuzzTokenResponse(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"access_token":"eyJraWQiOiJ4In0.e30.sig","token_type":"Bearer","expires_in":119,"scope":"altinn:authentication/systemuser.request.write"}`},
		{200, `{"access_token":"t","expires_in":0}`},
		{200, `{"access_token":"t","expires_in":-5}`},
		{200, `{"access_token":"t","expires_in":9223372036854775807}`},
		{200, `{"access_token":"t","expires_in":9223372037}`},
		{200, `{"access_token":"","expires_in":120}`},
		{200, `{"expires_in":120}`},
		{200, `{"access_token":12}`},
		{200, `null`},
		{200, ``},
		{400, `{"error":"invalid_grant","error_description":"Invalid assertion. Client authentication failed. Invalid JWT signature. (MP-007) [Correlation ID: 4d4c5e9a]"}`},
		{400, `{"error":"invalid_scope","error_description":"line one\nline two"}`},
		{401, `{"error":"invalid_client"}`},
		{403, "<html><body>Forbidden</body></html>"},
		{500, "\xff\xfe upstream"},
		{503, ""},
	} {
		f.Add(s.status, []byte(s.body))
	}
	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		c := newClient(t, srv, nil)
		if st < 200 || st > 599 {
			st = 200 + (st%400+400)%400 // a status net/http can send
		}
		mu.Lock()
		status, body = st, b
		mu.Unlock()
		res, err := c.Probe(context.Background(), "altinn:authentication/systemuser.request.write")
		if err != nil {
			if res != nil {
				t.Fatalf("an error (%v) with a result %+v", err, res)
			}
			var me *maskinporten.Error
			if st < 200 || st > 299 {
				if !errors.As(err, &me) || me.StatusCode != st {
					t.Fatalf("a %d answer gave %v, want an *Error with the status", st, err)
				}
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("the error is not one line of valid UTF-8: %q", msg)
			}
			return
		}
		if st < 200 || st > 299 {
			t.Fatalf("a %d answer was taken as a token", st)
		}
		if res == nil || res.AccessToken == "" {
			t.Fatalf("no error, but no token: %+v", res)
		}
		if res.ExpiresIn < 0 {
			t.Fatalf("expires_in in %q gave a negative lifetime %v", b, res.ExpiresIn)
		}
	})
}

// FuzzParsePrivateKeyPEM reads a key file as it may be configured: never
// a panic; a key it returns is a valid RSA key; an error never quotes the
// key material.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
	der, _ := x509.MarshalPKCS8PrivateKey(testKey())
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, s := range [][]byte{pkcs1, pkcs8, append(maskinporten.PublicKeyPEM(&testKey().PublicKey), pkcs8...),
		[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
		[]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
		[]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n"),
		[]byte("not a key"), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := maskinporten.ParsePrivateKeyPEM(in)
		if err != nil {
			if k != nil {
				t.Fatal("an error with a key")
			}
			for rest := in; ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				if enc := base64.StdEncoding.EncodeToString(b.Bytes); len(enc) >= 16 && strings.Contains(err.Error(), enc[:16]) {
					t.Fatalf("the error quotes the key: %v", err)
				}
			}
			return
		}
		if k == nil {
			t.Fatal("no error and no key")
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("a key that does not validate was taken: %v", err)
		}
	})
}
