package campaigns

import (
	"net/mail"
	"testing"
)

// FuzzPlainAddress: every address plainAddress lets through without
// parsing is one net/mail reads as exactly itself, with no name; and
// validEmail says what it said before the shortcut.
func FuzzPlainAddress(f *testing.F) {
	for _, s := range []string{"post@kunde.no", "a.b+c_d-e@sub.example.com", "a..b@x.no", ".a@x.no", "a.@x.no",
		"a@x..no", "a@.x.no", "a@x.no.", "@x.no", "a@", "a@@x.no", "a@b@c", "\"a b\"@x.no", "Kari <kari@x.no>",
		"kari@[127.0.0.1]", "kåri@x.no", "a@x.no ", " a@x.no", "a(c)@x.no", "a@x-.no", "A@X.NO", "1@2", "-@-", "+@_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := mail.ParseAddress(s)
		parsed := err == nil && a.Address == s && a.Name == ""
		if plainAddress(s) && !parsed {
			t.Fatalf("%q passes as plain, but net/mail reads it as %v, %v", s, a, err)
		}
		if validEmail(s) != parsed {
			t.Fatalf("validEmail(%q) = %v, net/mail %v", s, validEmail(s), parsed)
		}
	})
}
