package grants_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/grants"
)

// FuzzReadable turns a grant id Altinn (or a product's configuration) gave
// into words for a page: never a panic, no dash or underscore left, no
// leading or doubled space, and valid UTF-8 for valid UTF-8 in.
func FuzzReadable(f *testing.F) {
	for _, s := range []string{"urn:altinn:accesspackage:regnskapsforer-lonn", "ske-krav-og-betalinger", "URN:ALTINN:x_y",
		"urn:", "  a--b__c  ", "ærlig-talt", "\xff-x", "", "urn:altinn:resource:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got := grants.Readable(id)
		if strings.ContainsAny(got, "-_") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Readable(%q) = %q", id, got)
		}
		if utf8.ValidString(id) && !utf8.ValidString(got) {
			t.Fatalf("Readable(%q) = %q: not valid UTF-8", id, got)
		}
	})
}
