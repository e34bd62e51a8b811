package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestFlowNynorsk: a customer who asks for nynorsk (the switch, or the
// browser's Accept-Language) walks the whole flow in nynorsk, in Altinn's
// terms, and the date is written in words; the dashboard, which speaks
// bokmål and English, answers a nynorsk reader in bokmål.
func TestFlowNynorsk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()

	sw := b.get(e.web.URL + "/lang/nn?next=%2Fonboard%2Fstandard")
	if sw.status != http.StatusSeeOther || sw.location != "/onboard/standard" {
		t.Fatalf("/lang/nn: %d Location %q, want 303 to /onboard/standard", sw.status, sw.location)
	}
	nynorsk := func(what string, p page, want ...string) {
		t.Helper()
		if !strings.Contains(p.body, `<html lang="nn">`) {
			t.Errorf("%s is not in nynorsk (html lang):\n%s", what, p.body)
		}
		for _, w := range want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s does not say %q:\n%s", what, w, p.body)
			}
		}
		if regexp.MustCompile(`(?i)systembruker|virksomhet|\bikke\b`).MatchString(p.body) {
			t.Errorf("%s has bokmål or the old term:\n%s", what, p.body)
		}
	}
	start := b.get(e.web.URL + "/onboard/standard")
	nynorsk("the start page", start, "tilgang i Altinn", "systemtilgang", "tilgangsstyrar")
	form := b.get(e.web.URL + "/onboard/standard/org")
	nynorsk("the number page", form, "Gå vidare til Altinn")

	confirm := e.startFlow(b, "standard", "314 248 295")
	back := e.decide(b, confirm, "approve")
	outcome := e.returnTo(b, back.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusConnected) {
		t.Fatalf("outcome = %q, want connected", st)
	}
	nynorsk("the status page", outcome, "er kopla til verksemda", "Sist sjekka i Altinn")
	if !regexp.MustCompile(`\d{1,2}\. (januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember) \d{4} kl\.\x{a0}\d\d:\d\d`).MatchString(outcome.body) {
		t.Errorf("the status page does not write the date in words:\n%s", outcome.body)
	}

	// The browser's own wish, without the switch.
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/onboard/standard", nil)
	req.Header.Set("Accept-Language", "nn-NO, nb;q=0.9, en;q=0.8")
	nynorsk("the start page by Accept-Language", e.browser().do(req), "systemtilgang")

	login := b.get(e.web.URL + "/admin/login")
	if login.status != http.StatusOK || !strings.Contains(login.body, `<html lang="nb">`) {
		t.Errorf("the dashboard's sign-in for a nynorsk reader: %d, want bokmål:\n%s", login.status, login.body)
	}
}
