package i18n

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// staffOnly are the texts only staff read: the dashboard (admin.*), the
// campaign pages, the set-up checks (onboard doctor and the Setup page) and
// usability (the detail page; the API says it in English). They need bokmål
// and English; in nynorsk they read bokmål.
var staffOnly = []string{"admin.", "campaign.", "setup.", "usability."}

// customerKey reports whether a customer may read the text of key.
func customerKey(key string) bool {
	for _, p := range staffOnly {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	return true
}

func TestEveryKeyInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"nb", "en"} {
		for _, b := range []string{"nb", "en"} {
			for k := range messages()[a] {
				if _, ok := messages()[b][k]; !ok {
					t.Errorf("key %q is in %s but missing in %s", k, a, b)
				}
			}
		}
	}
	customers := 0
	for k := range messages()["nb"] {
		if !customerKey(k) {
			continue
		}
		customers++
		if _, ok := messages()["nn"][k]; !ok {
			t.Errorf("customer key %q is missing in nn", k)
		}
	}
	if customers < 100 {
		t.Errorf("only %d customer keys; is staffOnly too wide?", customers)
	}
	// A nynorsk text is for a key bokmål has too, and one a customer reads.
	for k := range messages()["nn"] {
		if _, ok := messages()["nb"][k]; !ok {
			t.Errorf("key %q is in nn but missing in nb", k)
		}
		if !customerKey(k) {
			t.Errorf("key %q is staff only but has a nynorsk text (the dashboard reads bokmål)", k)
		}
	}
}

// TestAltinnsTerms: customers read Altinn's current words. Altinn's pages
// say systemtilgang (system access), not systembruker (system user), and
// tilgangsstyrar in nynorsk; a nynorsk text has no bokmål giveaways. Staff
// texts keep "systembruker" for the technical object.
func TestAltinnsTerms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang string
		// parts are found anywhere ("systembruker" in "Systembrukeren" and
		// "klientsystembruker"); words are whole words only.
		parts, words []string
	}{
		{"nb", []string{"systembruker", "systembrukar"}, nil},
		{"nn", []string{"systembruker", "systembrukar", "tilgangsstyrer", "virksomhet", "forespørsel"},
			[]string{"ikke", "hva", "hvilke", "hvilken", "hvordan", "hvis", "bare", "noe", "mye", "kommer"}},
		{"en", []string{"system user", "system-user"}, nil},
	}
	// exceptions: "lang key" → why the key may use a word. None so far.
	exceptions := map[string]string{}
	for _, tt := range tests {
		var pats []*regexp.Regexp
		for _, w := range tt.parts {
			pats = append(pats, regexp.MustCompile(`(?i)`+regexp.QuoteMeta(w)))
		}
		for _, w := range tt.words {
			pats = append(pats, regexp.MustCompile(`(?i)(?:^|[^\pL])`+regexp.QuoteMeta(w)+`(?:$|[^\pL])`))
		}
		for k, s := range messages()[tt.lang] {
			if !customerKey(k) || exceptions[tt.lang+" "+k] != "" {
				continue
			}
			for _, p := range pats {
				if p.MatchString(s) {
					t.Errorf("%s %s: %q matches %s", tt.lang, k, s, p)
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
		{"no with a region", "no-NO", "nb"},
		{"nynorsk", "nn", "nn"},
		{"nynorsk before english", "nn, en;q=0.9", "nn"},
		{"nynorsk with a region", "nn-NO, en;q=0.9", "nn"},
		{"bokmål before nynorsk", "nb, nn;q=0.9", "nb"},
		{"nynorsk before bokmål", "nn, nb;q=0.9", "nn"},
		{"no before nynorsk", "no, nn;q=0.5", "nb"},
		{"english before nynorsk", "en, nn;q=0.5", "en"},
		{"nynorsk, case", "NN-no", "nn"},
		{"english, GB", "en-GB", "en"},
		{"english with a region", "en-US", "en"},
		{"english, norwegian region", "en-NO", "en"},
		{"case and underscore", "EN_us", "en"},
		{"q-values over order", "nb;q=0.3, en-GB;q=0.8", "en"},
		{"q-values over order, the other way", "en;q=0.2, de, nb-NO;q=0.5", "nb"},
		{"unsupported first", "de-DE, fr;q=0.9, en;q=0.5", "en"},
		{"q=0 is not wanted", "en;q=0, nb;q=0.1", "nb"},
		{"q=0 only", "en;q=0", ""},
		{"q=0 on a region leaves the rest", "en-GB;q=0, en-US;q=0.5", "en"},
		{"danish reads bokmål (CLDR)", "da", "nb"},
		{"swedish is not offered", "sv-SE", ""},
		{"wildcard only", "*", ""},
		{"unsupported only", "de-DE,fr", ""},
		{"unreadable weight", "en;q=abc", ""},
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

func TestDatesAndNumbersFollowTheLanguage(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 14, 5, 9, 0, time.UTC)
	for _, tt := range []struct{ lang, date, number string }{
		{"nb", "24. november 2026 kl.\u00a014:05", "1\u00a0234\u00a0567"},
		{"nn", "24. november 2026 kl.\u00a014:05", "1\u00a0234\u00a0567"},
		{"en", "24 November 2026 at 14:05", "1,234,567"},
	} {
		if got := DateTime(tt.lang, at); got != tt.date {
			t.Errorf("DateTime(%s) = %q, want %q", tt.lang, got, tt.date)
		}
		if got := Number(tt.lang, 1234567); got != tt.number {
			t.Errorf("Number(%s) = %q, want %q", tt.lang, got, tt.number)
		}
	}
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", -1000, "-1,000"},
		{"nb", 999, "999"},
		{"nn", 1000, "1\u00a0000"},
		{"nn", -12345, "-12\u00a0345"},
		{"en", 0, "0"},
		{"en", 100000, "100,000"},
	} {
		if got := Number(tt.lang, tt.n); got != tt.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

// TestCustomerDates: a customer page writes a moment one way per language,
// with the month's name.
func TestCustomerDates(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang       string
		at         time.Time
		date, when string
	}{
		{"nb", time.Date(2026, 12, 2, 14, 5, 9, 0, time.UTC), "2. desember 2026", "2. desember 2026 kl.\u00a014:05"},
		{"nn", time.Date(2026, 12, 2, 14, 5, 9, 0, time.UTC), "2. desember 2026", "2. desember 2026 kl.\u00a014:05"},
		{"en", time.Date(2026, 12, 2, 14, 5, 9, 0, time.UTC), "2 December 2026", "2 December 2026 at 14:05"},
		{"nb", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), "31. januar 2027", "31. januar 2027 kl.\u00a000:00"},
		{"nn", time.Date(2026, 5, 17, 9, 30, 0, 0, time.UTC), "17. mai 2026", "17. mai 2026 kl.\u00a009:30"},
		{"en", time.Date(2026, 5, 17, 23, 59, 59, 0, time.UTC), "17 May 2026", "17 May 2026 at 23:59"},
		{"xx", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), "1. mars 2026", "1. mars 2026 kl.\u00a008:00"},
	} {
		if got := Date(tt.lang, tt.at); got != tt.date {
			t.Errorf("Date(%s, %v) = %q, want %q", tt.lang, tt.at, got, tt.date)
		}
		if got := When(tt.lang, tt.at); got != tt.when {
			t.Errorf("When(%s, %v) = %q, want %q", tt.lang, tt.at, got, tt.when)
		}
	}
	// Every month has its name in every language.
	for _, lang := range Languages {
		for m := time.January; m <= time.December; m++ {
			got := Date(lang, time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC))
			if !regexp.MustCompile(`^1\.? \pL{3,} 2026$`).MatchString(got) {
				t.Errorf("Date(%s, %s) = %q", lang, m, got)
			}
		}
	}
}
