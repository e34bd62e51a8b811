package orgno

import (
	"errors"
	"strings"
	"testing"
)

// FuzzNormalize checks the rules any input must keep: Normalize never
// panics; it either refuses with one of its four errors and no number, or
// returns nine ASCII digits that are exactly the input's digits, pass the
// check again unchanged (also as Format writes them) and carry the right
// mod-11 check digit.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"314248295", "314 248 295", "  314248295\t", "314\u00a0248\u00a0295", "314\u202f248\u202f295",
		"974760673", "000000000", "314248296", "100000010", "31424829", "3142482950",
		"31424829a", "314-248-295", "<script>alert(1)</script>", "", "   ", "\u00a0", "３14248295",
		"314248295\n", "\x00314248295", "\xff\xfe", "31424829\u0665", "+314248295", "-31424829",
		strings.Repeat("9", 10000), strings.Repeat(" ", 1000) + "314248295",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			if n != "" {
				t.Fatalf("Normalize(%q) = %q with error %v: a refusal must not return a number", s, n, err)
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrCharacters) && !errors.Is(err, ErrCheckDigit) {
				t.Fatalf("Normalize(%q): error %v is none of the four", s, err)
			}
			return
		}
		if len(n) != 9 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("Normalize(%q) = %q: not nine ASCII digits", s, n)
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		if digits != n {
			t.Fatalf("Normalize(%q) = %q, but the input's digits are %q", s, n, digits)
		}
		sum := 0
		for i, w := range weights {
			sum += int(n[i]-'0') * w
		}
		if (sum+int(n[8]-'0'))%11 != 0 {
			t.Fatalf("Normalize(%q) = %q accepted with a wrong check digit", s, n)
		}
		for _, again := range []string{n, Format(n)} {
			if m, err := Normalize(again); err != nil || m != n {
				t.Fatalf("Normalize(%q) = %q, %v: %q does not round-trip", again, m, err, n)
			}
		}
	})
}
