package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// usedKey finds a literal key passed to a T function: T("a.b"), m.T("a.b"),
// i18n.T(lang, "a.b"). Keys built at run time ("status." + s) are not seen.
var usedKey = regexp.MustCompile(`\bT\((?:[A-Za-z_][A-Za-z0-9_.]*, )?"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)

// TestEveryUsedKeyExists reads the views and the Go code that render texts
// and fails on a literal key that no language has, which a page would show
// raw.
func TestEveryUsedKeyExists(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pattern := range []string{"../../views/*.templ", "../../views/*.go", "../*/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d files to read; run from internal/i18n", len(files))
	}
	seen := 0
	for _, f := range files {
		if filepath.Ext(f) == ".go" && regexp.MustCompile(`(_templ|_test)\.go$`).MatchString(f) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usedKey.FindAllStringSubmatch(string(b), -1) {
			seen++
			// nb and en have every key; nynorsk falls back to bokmål
			// (TestEveryKeyInEveryLanguage holds it to the customer keys).
			for _, lang := range []string{Default, "en"} {
				if _, ok := messages()[lang][m[1]]; !ok {
					t.Errorf("%s uses key %q, missing in %s", f, m[1], lang)
				}
			}
		}
	}
	if seen < 100 {
		t.Errorf("found only %d keys in use; is the pattern still right?", seen)
	}
}
