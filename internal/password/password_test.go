package password

import (
	"strings"
	"testing"
)

func TestHash(t *testing.T) {
	t.Parallel()
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash = %q", h)
	}
	if h2, _ := Hash("correct horse battery staple"); h2 == h {
		t.Fatal("two hashes of one password must differ (random salt)")
	}
	if !Verify(h, "correct horse battery staple") {
		t.Fatal("the right password must match")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if Verify(h, wrong) {
			t.Errorf("%q must not match", wrong)
		}
	}
	for _, bad := range []string{"", "plain", "$2a$12$abcdefghijklmnopqrstuv", strings.Replace(h, "m=19456", "m=99999999", 1),
		strings.Replace(h, "t=2", "t=0", 1), strings.Replace(h, "$argon2id$", "$argon2i$", 1), h + "$x"} {
		if Verify(bad, "correct horse battery staple") {
			t.Errorf("a malformed hash %q must match nothing", bad)
		}
	}
	// The dummy hash must cost what a real one does, or an unknown email
	// answers faster than a wrong password.
	dummy, ok := parse(Dummy)
	if !ok || dummy.memory != argonMemory || dummy.time != argonTime || dummy.threads != argonThreads ||
		len(dummy.key) != argonKeyLen || len(dummy.salt) != argonSaltLen {
		t.Fatalf("Dummy does not use Hash's parameters: %+v", dummy)
	}
}

// TestVerifyStoredHashes: hashes already stored keep verifying: one made
// by the hashing code before it left internal/handlers, and the argon2
// reference implementation's argon2id test vector (src/test.c), whose
// parameters are not Hash's but are read from the hash.
func TestVerifyStoredHashes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ hash, password string }{
		{"$argon2id$v=19$m=19456,t=2,p=1$71GuDqReCJg+Ei2HYGHgQg$3v5RzUdHOLWX4i10oQEcP6t8GwGITkw2xfwpgqEYvMg", "correct horse battery staple"},
		{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password"},
	} {
		if !Verify(tt.hash, tt.password) {
			t.Errorf("%s: the password no longer matches", tt.hash)
		}
		if Verify(tt.hash, tt.password+" ") {
			t.Errorf("%s: a wrong password matches", tt.hash)
		}
	}
}
