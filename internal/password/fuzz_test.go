package password

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// FuzzParse checks the rules any stored hash must keep: parse never
// panics; what it accepts stays within the bounds that keep one check from
// costing a gigabyte or a minute, and is exactly the PHC string it would
// write back (one spelling per hash, so a corrupt or hand-edited row is
// refused, not half read); what it refuses, no password matches.
func FuzzParse(f *testing.F) {
	real, err := Hash("correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		real, Dummy, "",
		"$argon2id$v=19$m=19456,t=2,p=1$$",
		"$argon2id$v=19$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g$",
		"$argon2i$v=19$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=16$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=4294967295,t=2,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=4294967297,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=2,p=257$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=2,p=1junk$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=+19456,t=02,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456, t=2, p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhg==$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhh$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9h",
		"$argon2id$v=19$m=19456,t=2,p=1$0Hsb28-_myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$argon2id$v=19$m=19456,t=2,p=1$\n0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		strings.Repeat("$", 6), strings.Repeat("$argon2id", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hash string) {
		p, ok := parse(hash)
		if !ok {
			if Verify(hash, "") || Verify(hash, "correct horse battery staple") {
				t.Fatalf("a refused hash %q matches a password", hash)
			}
			return
		}
		if p.memory < 8*1024 || p.memory > 1024*1024 || p.time < 1 || p.time > 16 || p.threads < 1 || p.threads > 16 ||
			len(p.salt) < 8 || len(p.key) < 16 || len(p.key) > 64 {
			t.Fatalf("parse(%q) accepted parameters out of bounds: %+v", hash, p)
		}
		if len(p.salt) > len(hash) {
			t.Fatalf("parse(%q): a %d-byte salt from a %d-byte hash", hash, len(p.salt), len(hash))
		}
		again := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
			base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
		if again != hash {
			t.Fatalf("parse accepted %q, which written back is %q: not the one spelling of that hash", hash, again)
		}
	})
}
