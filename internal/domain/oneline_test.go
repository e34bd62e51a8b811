package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	long := strings.Repeat("æ", 200) // 400 bytes
	for _, tt := range []struct{ in, want string }{
		{"550 5.1.1  user\r\nunknown\t", "550 5.1.1 user unknown"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"", ""},
		{long, strings.Repeat("æ", 150) + "…"},
	} {
		got := OneLine(tt.in)
		if got != tt.want {
			t.Errorf("OneLine(%.40q) = %.40q, want %.40q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || len(got) > maxErrorText+len("…") {
			t.Errorf("OneLine(%.40q) = %.40q: not one valid line of at most %d bytes", tt.in, got, maxErrorText)
		}
	}
}

// FuzzOneLine: whatever a vendor's webhook endpoint or a mail server
// answers, OneLine gives one line of valid UTF-8 without NUL (so Postgres
// stores it), at most 300 bytes and the "…", and a text already one such
// short line comes back as it was.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"550 5.1.1  user\r\nunknown\t", "bad \xff byte", "", strings.Repeat("æ", 200),
		"HTTP 500: <html>\x00</html>", "a\x00b", "ok", strings.Repeat("a", 299) + "æ", "\u2028line\u2029sep"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := OneLine(in)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\x00") || len(got) > maxErrorText+len("…") {
			t.Fatalf("OneLine(%q) = %q: not one storable line of at most %d bytes", in, got, maxErrorText)
		}
		if again := OneLine(got); again != got && len(got) <= maxErrorText {
			t.Fatalf("OneLine is not idempotent: %q then %q", got, again)
		}
	})
}
