package brreg

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/orgno"
)

// FuzzParse checks the rules any answer body must keep: parse never
// panics; an accepted entity is about the asked number, has a clean name
// (valid UTF-8, no control characters, bounded) unless it is deleted, a
// live sub-unit has a valid parent, and DeletedOn is a date or empty.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		entityJSON,
		`{"organisasjonsnummer":"923609016","slettedato":"2019-01-02"}`,
		`{"organisasjonsnummer":"923609016","navn":"X","slettedato":"garbage"}`,
		`{"organisasjonsnummer":"923609016","navn":"A\u0000B","overordnetEnhet":"971524960"}`,
		`{"organisasjonsnummer":"923609016","navn":"` + strings.Repeat("Å", 1000) + `"}`,
		`{"organisasjonsnummer":923609016}`, `[]`, `null`, ``, `{`, "\xff",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, sub bool) {
		e, err := parse(body, numFound, sub)
		if err != nil {
			if e != (Entity{}) {
				t.Fatalf("a refusal returned %+v", e)
			}
			return
		}
		if e.OrgNo != numFound {
			t.Fatalf("entity about %q", e.OrgNo)
		}
		if !utf8.ValidString(e.Name) || utf8.RuneCountInString(e.Name) > maxNameRunes || strings.TrimSpace(e.Name) != e.Name {
			t.Fatalf("name %q not clean", e.Name)
		}
		for _, r := range e.Name {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("name %q has control character %U", e.Name, r)
			}
		}
		if !e.Deleted && e.Name == "" {
			t.Fatal("a live entity without a name")
		}
		if e.DeletedOn != "" && (!e.Deleted || !datePattern.MatchString(e.DeletedOn)) {
			t.Fatalf("DeletedOn %q (deleted %v)", e.DeletedOn, e.Deleted)
		}
		if e.ParentOrgNo != "" {
			if _, err := orgno.Normalize(e.ParentOrgNo); err != nil || !sub {
				t.Fatalf("parent %q (sub %v)", e.ParentOrgNo, sub)
			}
		}
		if sub && !e.Deleted && e.ParentOrgNo == "" {
			t.Fatal("a live sub-unit without a parent")
		}
	})
}
