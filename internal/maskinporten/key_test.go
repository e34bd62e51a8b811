package maskinporten_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

func TestParsePrivateKeyPEM(t *testing.T) {
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecSEC1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		pem     []byte
		wantErr string // "" means the test key is expected
	}{
		{name: "PKCS#1", pem: pkcs1},
		{name: "PKCS#8", pem: pkcs8},
		{name: "PKCS#8 after a public key", pem: append(maskinporten.PublicKeyPEM(&testKey().PublicKey), pkcs8...)},
		{name: "EC in PKCS#8", pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), wantErr: "needs RSA"},
		{name: "EC in SEC 1", pem: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecSEC1}), wantErr: "needs an unencrypted RSA key"},
		{name: "garbage", pem: []byte("this is not a key"), wantErr: "no PEM private key block"},
		{name: "public key only", pem: maskinporten.PublicKeyPEM(&testKey().PublicKey), wantErr: "no PEM private key block"},
		{name: "corrupt PKCS#1", pem: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der[:40]}), wantErr: "parse PKCS#1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := maskinporten.ParsePrivateKeyPEM(tt.pem)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParsePrivateKeyPEM: %v", err)
				}
				if !k.Equal(testKey()) {
					t.Error("parsed key differs from the encoded one")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "maskinporten: ") {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			for line := range strings.Lines(string(tt.pem)) {
				if line = strings.TrimSpace(line); len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
					t.Errorf("error quotes the key material: %v", err)
				}
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "dev")
	path := filepath.Join(dir, "maskinporten.pem")

	k1, created, err := maskinporten.LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKey = created %v, %v; want a new key", created, err)
	}
	if k1.N.BitLen() != 2048 {
		t.Errorf("key has %d bits, want 2048", k1.N.BitLen())
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", p, got, want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("key file is not a PKCS#8 PEM")
	}

	k2, created, err := maskinporten.LoadOrCreateKey(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateKey = created %v, %v; want the stored key", created, err)
	}
	if !k1.Equal(k2) {
		t.Error("reloaded key differs from the created one")
	}

	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := maskinporten.LoadOrCreateKey(bad); err == nil {
		t.Error("LoadOrCreateKey accepted a garbage file")
	}
	if b, _ := os.ReadFile(bad); string(b) != "garbage" {
		t.Error("LoadOrCreateKey overwrote an unreadable key file")
	}
}

func TestPublicKeyPEM(t *testing.T) {
	block, rest := pem.Decode(maskinporten.PublicKeyPEM(&testKey().PublicKey))
	if block == nil || block.Type != "PUBLIC KEY" || len(rest) != 0 {
		t.Fatalf("not a single PUBLIC KEY block: %v", block)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !testKey().PublicKey.Equal(pub) {
		t.Error("round-tripped public key differs")
	}
	if got := maskinporten.PublicKeyPEM(nil); got != nil {
		t.Errorf("PublicKeyPEM(nil) = %q, want nil", got)
	}
}
