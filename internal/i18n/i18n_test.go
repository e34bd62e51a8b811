package i18n

import "testing"

func TestEveryKeyInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, a := range Languages {
		for _, b := range Languages {
			for k := range messages[a] {
				if _, ok := messages[b][k]; !ok {
					t.Errorf("key %q is in %s but missing in %s", k, a, b)
				}
			}
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"english first", "en-GB,en;q=0.9,nb;q=0.8", "en"},
		{"norwegian", "nb-NO,nb;q=0.9", "nb"},
		{"no maps to nb", "no", "nb"},
		{"unsupported only", "de-DE,fr", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := FromAcceptLanguage(tt.in); got != tt.want {
			t.Errorf("%s: FromAcceptLanguage(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestMissingKeyShowsItself(t *testing.T) {
	t.Parallel()
	if got := T("en", "no.such.key"); got != "no.such.key" {
		t.Fatalf("T(missing) = %q", got)
	}
	if got := T("xx", "app.title"); got != T(Default, "app.title") {
		t.Fatalf("unknown language should fall back to default, got %q", got)
	}
}
