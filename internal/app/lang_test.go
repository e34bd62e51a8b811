package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

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
	nynorsk("the number page", form, "Gå vidare")
	nynorsk("the company page", e.companyPage(b, "standard", "314 248 295"), "Er dette rett verksemd?", "Ja, gå vidare til Altinn")

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

// TestHandoffNynorsk: a vendor's hand-off may ask for nynorsk; the
// onboarding keeps it, every page after it speaks it, and a refused token
// that asks for nynorsk is refused in nynorsk.
func TestHandoffNynorsk(t *testing.T) {
	t.Parallel()
	e := handoffEnv(t, nil)
	b := e.browser()
	claims := e.handoffClaims()
	claims["lang"] = "nn"
	res := e.handoff(b, signHS(t, claims, handoffSecret))
	if res.status != http.StatusSeeOther {
		t.Fatalf("hand-off in nynorsk: %d, want 303\n%s", res.status, res.body)
	}
	if o := e.onboardingForOrg(org); o.Lang != "nn" {
		t.Fatalf("onboarding lang %q, want nn", o.Lang)
	}
	outcome := e.returnTo(b, e.decide(b, res.location, "approve").location)
	if !strings.Contains(outcome.body, `<html lang="nn">`) || !strings.Contains(outcome.body, "Tilbake til SmartCloud") ||
		!strings.Contains(outcome.body, "er kopla til verksemda") {
		t.Fatalf("the status page after a nynorsk hand-off is not in nynorsk:\n%s", outcome.body)
	}

	expired := e.handoffClaims()
	expired["lang"], expired["iat"], expired["exp"] = "nn", time.Now().Add(-time.Hour).Unix(), time.Now().Add(-59*time.Minute).Unix()
	refused(t, e.handoff(e.browser(), signHS(t, expired, handoffSecret)), http.StatusBadRequest, "Lenka du kom frå, har gått ut")
}
