// Package sealed keeps a secret (a person's tokens, a login's PKCE
// verifier) in the database without keeping it in the clear: AES-256-GCM
// under a key derived from the service's session key (HKDF-SHA256, one key
// per purpose), bound to the row it belongs to by the additional data, so a
// sealed value copied to another row does not open there.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// version is the first byte of every sealed value: the format, so a later
// one can be told apart.
const version = 1

// ErrOpen is a value that does not open: another key, another row, or
// tampered with.
var ErrOpen = errors.New("sealed: the value does not open with this key for this row")

// Box seals and opens values for one purpose.
type Box struct {
	aead cipher.AEAD
}

// New derives the purpose's key from the session key (32 bytes or more).
func New(sessionKey []byte, purpose string) (*Box, error) {
	if len(sessionKey) < 32 {
		return nil, errors.New("sealed: the session key must be at least 32 bytes")
	}
	if purpose == "" {
		return nil, errors.New("sealed: a purpose is required")
	}
	key, err := hkdf.Key(sha256.New, sessionKey, nil, "onboard sealed "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("sealed: derive the key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain for the row named by row (its id): version, nonce,
// ciphertext and tag.
func (b *Box) Seal(plain []byte, row string) []byte {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	out[0] = version
	_, _ = rand.Read(out[1:]) // never fails (crypto/rand)
	return b.aead.Seal(out, out[1:], plain, []byte(row))
}

// Open decrypts a value Seal made for the same row.
func (b *Box) Open(sealed []byte, row string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(row))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
