package sealed

import (
	"bytes"
	"errors"
	"testing"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := New(key, "login")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(key, "other purpose")
	otherKey, _ := New(bytes.Repeat([]byte{8}, 32), "login")
	secret := []byte("eyJhbGciOi.the-token.sig")
	s := box.Seal(secret, "row-1")
	if bytes.Contains(s, secret) {
		t.Fatal("the sealed value holds the secret in the clear")
	}
	if bytes.Equal(s, box.Seal(secret, "row-1")) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if got, err := box.Open(s, "row-1"); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := bytes.Clone(s)
	tampered[len(tampered)-1] ^= 1
	for name, c := range map[string]struct {
		box *Box
		val []byte
		row string
	}{
		"another row":     {box, s, "row-2"},
		"another purpose": {other, s, "row-1"},
		"another key":     {otherKey, s, "row-1"},
		"tampered":        {box, tampered, "row-1"},
		"truncated":       {box, s[:10], "row-1"},
		"empty":           {box, nil, "row-1"},
		"other version":   {box, append([]byte{2}, s[1:]...), "row-1"},
	} {
		if _, err := c.box.Open(c.val, c.row); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open err = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	t.Parallel()
	if _, err := New(make([]byte, 31), "x"); err == nil {
		t.Error("a 31-byte key was taken")
	}
	if _, err := New(key, ""); err == nil {
		t.Error("no purpose was taken")
	}
}

func FuzzOpen(f *testing.F) {
	box, _ := New(key, "login")
	f.Add(box.Seal([]byte("x"), "r"), "r")
	f.Add([]byte{1, 2, 3}, "")
	f.Fuzz(func(t *testing.T, val []byte, row string) {
		plain, err := box.Open(val, row)
		if err == nil && !bytes.Equal(box.Seal(plain, row)[:1], []byte{version}) {
			t.Fatal("opened a value of another version")
		}
	})
}
