package maskinporten

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParsePrivateKeyPEM returns the first private key in pemBytes, which may be
// PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"); other blocks such as
// certificates are skipped. It returns an error for input without a private
// key block, for encrypted keys and for non-RSA keys, since Maskinporten
// accepts only RSA signatures. Errors never quote the input.
func ParsePrivateKeyPEM(pemBytes []byte) (*rsa.PrivateKey, error) {
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("maskinporten: no PEM private key block found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("maskinporten: parse PKCS#1 private key: %w", err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("maskinporten: parse PKCS#8 private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("maskinporten: private key is %T, Maskinporten needs RSA", k)
			}
			return rk, nil
		default:
			if strings.HasSuffix(block.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("maskinporten: unsupported %q PEM block, Maskinporten needs an unencrypted RSA key", block.Type)
			}
		}
	}
}

// LoadOrCreateKey returns the private key in the PEM file at path, or, when
// there is no such file, generates an RSA-2048 key and writes it there as
// PKCS#8 with mode 0600 (creating the parent directory with mode 0700), so
// that a development setup keeps its key (and its kid registration) across
// restarts. created reports whether the key was generated. It returns an
// error when the file cannot be read or written or holds no usable key.
func LoadOrCreateKey(path string) (key *rsa.PrivateKey, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err = ParsePrivateKeyPEM(b)
		if err != nil {
			return nil, false, fmt.Errorf("%w (in %s)", err, path)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("maskinporten: read key: %w", err)
	}

	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, false, fmt.Errorf("maskinporten: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("maskinporten: encode key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("maskinporten: create key directory: %w", err)
	}
	// O_EXCL: never overwrite a key another process has just written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("maskinporten: create key file: %w", err)
	}
	err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("maskinporten: write key file: %w", err)
	}
	return key, true, nil
}

// PublicKeyPEM returns k as a PKIX ("PUBLIC KEY") PEM block, the form the
// simulator's client registry and Maskinporten's self-service take. It
// returns nil for a nil key.
func PublicKeyPEM(k *rsa.PublicKey) []byte {
	if k == nil {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil // cannot happen for an *rsa.PublicKey
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
