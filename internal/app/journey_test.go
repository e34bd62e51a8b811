package app_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// The customer's journey (issue 11): post/redirect/get on the number form,
// the company confirmed from Enhetsregisteret (the simulator's fake
// register), strangers learning nothing, and what each state says next.

func TestTypoRedirectsToTheForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	post := e.submitOrg(b, "standard", "314 248 296")
	if post.status != http.StatusSeeOther || post.body != "" && strings.Contains(post.body, "<form") {
		t.Fatalf("a typo: %d, want a 303 and no page of its own\n%s", post.status, post.body)
	}
	u, err := url.Parse(post.location)
	if err != nil || u.Path != "/onboard/standard/org" || u.Query().Get("err") != "check" || u.Query().Get("orgno") != "314 248 296" {
		t.Fatalf("a typo: Location %q, want the form with err=check and what was typed", post.location)
	}
	// The form is a GET: Back (or a reload) shows it again, never
	// "Confirm Form Resubmission", and it stores nothing.
	for range 2 {
		form := b.get(e.web.URL + post.location)
		if form.status != http.StatusOK || !strings.Contains(form.body, `data-testid="orgno-error"`) ||
			!strings.Contains(form.body, `value="314 248 296"`) || !strings.Contains(form.body, "Dette er ikke et gyldig organisasjonsnummer") {
			t.Fatalf("the form after a typo (%d):\n%s", form.status, form.body)
		}
	}
	// An error code outside the fixed set shows no error at all.
	if p := b.get(e.web.URL + "/onboard/standard/org?err=outcome.heading&orgno=1"); strings.Contains(p.body, "orgno-error") ||
		strings.Contains(p.body, "Status for tilkoblingen") {
		t.Fatalf("an unknown error code was shown:\n%s", p.body)
	}
	// Then the right number: each step is a GET page or a POST answered
	// by a 303, all the way to Altinn, so Back from Altinn lands on a page.
	cp := e.companyPage(b, "standard", org)
	res := e.confirmOrg(b, "standard", cp)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, e.sim.URL) {
		t.Fatalf("confirm: %d %q, want 303 to Altinn", res.status, res.location)
	}
	if back := b.get(e.web.URL + "/onboard/standard/confirm?orgno=" + org); back.status != http.StatusOK {
		t.Fatalf("Back from Altinn to the company page: %d", back.status)
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM onboardings`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d onboardings (%v), want 1", n, err)
	}
}

func TestCompanyConfirmedFromTheRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name, orgNo string
		refused     string // the form's error code, or ""
		words       string // on the form (refused) or the company page
		checked     bool
		subUnit     bool
		storedName  string
	}{
		{name: "found", orgNo: org, words: "LUNEFULL HANDLEKRAFTIG TIGER AS", checked: true, storedName: "LUNEFULL HANDLEKRAFTIG TIGER AS"},
		{name: "deleted", orgNo: sim.BrregDeleted, refused: "deleted", words: "er slettet i Enhetsregisteret"},
		{name: "removed", orgNo: sim.BrregRemoved, refused: "deleted", words: "er slettet i Enhetsregisteret"},
		{name: "unknown", orgNo: sim.BrregUnknown, refused: "unknown", words: "Vi finner ingen virksomhet med dette nummeret"},
		{name: "sub-unit", orgNo: sim.BrregSubUnit, words: "314 248 295", checked: true, subUnit: true},
		{name: "register down", orgNo: sim.BrregUnavailable, words: "Vi fikk ikke sjekket navnet"},
		{name: "register slow", orgNo: sim.BrregSlow, words: "Vi fikk ikke sjekket navnet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			post := e.submitOrg(b, "standard", tt.orgNo)
			if post.status != http.StatusSeeOther || !strings.HasPrefix(post.location, "/onboard/standard/confirm?") {
				t.Fatalf("submit: %d %q", post.status, post.location)
			}
			start := time.Now()
			cp := b.get(e.web.URL + post.location)
			if took := time.Since(start); took > 2500*time.Millisecond {
				t.Fatalf("the company page took %v; the register may hold it 2 s at most", took)
			}
			if tt.refused != "" {
				if cp.status != http.StatusSeeOther || !strings.Contains(cp.location, "err="+tt.refused) {
					t.Fatalf("refused number: %d %q, want a 303 to the form with err=%s", cp.status, cp.location, tt.refused)
				}
				form := b.get(e.web.URL + cp.location)
				if form.status != http.StatusOK || !strings.Contains(form.body, tt.words) || !strings.Contains(form.body, `aria-invalid="true"`) {
					t.Fatalf("the form should say %q (%d):\n%s", tt.words, form.status, form.body)
				}
				return
			}
			if cp.status != http.StatusOK || !strings.Contains(cp.body, tt.words) {
				t.Fatalf("company page should say %q (%d):\n%s", tt.words, cp.status, cp.body)
			}
			if !strings.Contains(cp.body, `data-checked="`+map[bool]string{true: "true", false: "false"}[tt.checked]+`"`) {
				t.Fatalf("company page: checked should be %v:\n%s", tt.checked, cp.body)
			}
			if tt.subUnit {
				if !strings.Contains(cp.body, `href="/onboard/standard/confirm?orgno=314248295" data-testid="parent-link"`) ||
					strings.Contains(cp.body, `data-testid="confirm-company"`) {
					t.Fatalf("a sub-unit is offered its parent, not Altinn:\n%s", cp.body)
				}
				return
			}
			if tt.checked && (!strings.Contains(cp.body, `data-testid="company-name"`) || !strings.Contains(cp.body, "Aksjeselskap") ||
				!strings.Contains(cp.body, "314 248 295")) {
				t.Fatalf("company page lacks the name, form or number:\n%s", cp.body)
			}
			res := e.confirmOrg(b, "standard", cp)
			if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, e.sim.URL) {
				t.Fatalf("yes, continue: %d %q, want 303 to Altinn", res.status, res.location)
			}
			o := e.onboardingForOrg(tt.orgNo)
			if got := deref(o.OrgName); got != tt.storedName {
				t.Fatalf("stored name %q, want %q", got, tt.storedName)
			}
		})
	}

	t.Run("register hangs", func(t *testing.T) {
		const n = "311093363"
		e.app.Sim.Inject(sim.Fault{Path: "/enhetsregisteret/api/", Hang: true, Times: 1})
		b := e.browser()
		cp := b.get(e.web.URL + e.submitOrg(b, "standard", n).location)
		if cp.status != http.StatusOK || !strings.Contains(cp.body, `data-testid="register-unchecked"`) {
			t.Fatalf("a hanging register: %d\n%s", cp.status, cp.body)
		}
		// The form says the name was not checked, so the start does not
		// wait for the register again; the flow goes on with the number.
		if res := e.confirmOrg(b, "standard", cp); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, e.sim.URL) {
			t.Fatalf("yes, continue: %d %q", res.status, res.location)
		}
		if o := e.onboardingForOrg(n); o.OrgName != nil {
			t.Fatalf("stored name %q, want none", *o.OrgName)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		b := e.browser()
		cp := e.companyPage(b, "standard", org)
		res := b.post(e.web.URL+"/onboard/standard/confirm", url.Values{"orgno": {"314248296"}, "checked": {"true"}, "_csrf": {csrfOf(t, cp)}})
		if res.status != http.StatusSeeOther || !strings.Contains(res.location, "err=check") {
			t.Fatalf("a forged number on the confirm step: %d %q, want the form with err=check", res.status, res.location)
		}
	})
}

// knownBody is the neutral page with the number it names blanked out, to
// compare the pages of two organisations.
func knownBody(p page, orgNo string) string {
	return strings.ReplaceAll(p.body, orgNo[:3]+" "+orgNo[3:6]+" "+orgNo[6:], "ORGNO")
}

func TestStrangerLearnsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	customer := e.browser()
	confirm := e.startFlow(customer, "standard", org)
	outcome := e.returnTo(customer, e.decide(customer, confirm, "reject").location)
	rejected := e.onboardingForOrg(org)
	if rejected.Status != domain.StatusRejected {
		t.Fatalf("set-up: %s", rejected.Status)
	}
	// Another organisation, still pending, for the comparison.
	const other = "311093363"
	e.startFlow(e.browser(), "standard", other)

	calls := func() int {
		n := 0
		for k, v := range e.app.Sim.Stats().Calls {
			if !strings.Contains(k, "token") {
				n += v
			}
		}
		return n
	}
	before := calls()
	stranger := e.browser()
	res := e.submitAndConfirm(stranger, "standard", org)
	if res.status != http.StatusSeeOther || res.location != "/onboard/standard/known?orgno="+org {
		t.Fatalf("stranger: %d %q, want 303 to the known page", res.status, res.location)
	}
	if n := calls(); n != before {
		t.Fatalf("the stranger's submit made %d Altinn calls, want none", n-before)
	}
	known := stranger.get(e.web.URL + res.location)
	for _, secret := range []string{`data-testid="outcome"`, `data-testid="details"`, `data-testid="retry"`, `data-testid="continue"`,
		rejected.Ref, "avvist", "rejected", "/accessmanagement/ui/systemuser/request"} {
		if strings.Contains(known.body, secret) {
			t.Fatalf("the stranger's page shows %q:\n%s", secret, known.body)
		}
	}
	if !strings.Contains(known.body, `data-testid="neutral"`) || !strings.Contains(known.body, "Be SmartCloud om en ny lenke") {
		t.Fatalf("the neutral page should say how the real customer gets back:\n%s", known.body)
	}
	// The same page whatever the status: the pending one's reads the same.
	stranger2 := e.browser()
	res2 := e.submitAndConfirm(stranger2, "standard", other)
	known2 := stranger2.get(e.web.URL + res2.location)
	strip := regexp.MustCompile(`name="_csrf" value="[^"]*"|orgno(=|%3D)[0-9]+`)
	if a, b := strip.ReplaceAllString(knownBody(known, org), ""), strip.ReplaceAllString(knownBody(known2, other), ""); a != b {
		t.Fatalf("the neutral pages of a rejected and a pending onboarding differ:\n%s\n---\n%s", a, b)
	}
	// The customer's rejection stands.
	if o := e.onboardingForOrg(org); o.Status != domain.StatusRejected || *o.AltinnRequestID != *rejected.AltinnRequestID || o.ID != rejected.ID {
		t.Fatalf("after the stranger: %s request %v, want the same rejected onboarding", o.Status, o.AltinnRequestID)
	}
	// The browser that started it still goes on: typing the number again
	// renews its request, as "try again" does.
	again := e.submitAndConfirm(customer, "standard", org)
	if again.status != http.StatusSeeOther || !strings.Contains(again.location, "/request?id=") {
		t.Fatalf("the customer typing the number again: %d %q, want a new confirm page", again.status, again.location)
	}
	_ = outcome
}

// A "yes" whose answer never came back (the service crashed after storing
// the onboarding, before the flow cookie reached the browser) is posted
// again by the browser: the company page reserved the onboarding's
// reference, so the retry is its starter's and goes on to the same Altinn
// request. A reservation that is forged, or made for another number, makes
// nobody a starter.
func TestRetryOfALostYesGoesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	form := confirmForm(t, e.companyPage(b, "standard", org))
	if form.Get("reservation") == "" {
		t.Fatal("the company page reserves no reference")
	}
	confirmAt := e.web.URL + "/onboard/standard/confirm"
	first := b.post(confirmAt, form)
	if first.status != http.StatusSeeOther || !strings.HasPrefix(first.location, e.sim.URL+"/") {
		t.Fatalf("yes: %d %q, want a 303 to Altinn", first.status, first.location)
	}
	o := e.onboardingForOrg(org)
	if !strings.HasPrefix(form.Get("reservation"), o.Ref+".") {
		t.Fatalf("the onboarding's reference %q is not the one reserved (%q)", o.Ref, form.Get("reservation"))
	}
	// The answer is lost: the browser never got the flow cookie.
	web, _ := url.Parse(e.web.URL)
	b.c.Jar.SetCookies(web, []*http.Cookie{{Name: "onboard_flow", Value: "", Path: "/", MaxAge: -1}})
	again := b.post(confirmAt, form)
	if again.status != http.StatusSeeOther || again.location != first.location {
		t.Fatalf("the retried yes: %d %q, want a 303 to the same Altinn request %q", again.status, again.location, first.location)
	}
	if n := len(e.app.Sim.Requests()); n != 1 {
		t.Fatalf("Altinn holds %d requests after the retry, want 1", n)
	}
	// Now the browser holds the flow cookie: its status page has the details.
	if st := b.get(e.web.URL + "/status/" + o.Ref); !strings.Contains(st.body, `data-testid="outcome"`) {
		t.Fatalf("after the retry the starter's status page has no outcome:\n%s", st.body)
	}

	const other = "311093363"
	for name, reservation := range map[string]func(stranger *browser) string{
		"forged":           func(*browser) string { return o.Ref + ".AAAA" },
		"unsigned":         func(*browser) string { return o.Ref },
		"another number's": func(s *browser) string { return confirmForm(t, e.companyPage(s, "standard", other)).Get("reservation") },
	} {
		stranger := e.browser()
		f := confirmForm(t, e.companyPage(stranger, "standard", org))
		f.Set("reservation", reservation(stranger))
		res := stranger.post(confirmAt, f)
		if res.status != http.StatusSeeOther || res.location != "/onboard/standard/known?orgno="+org {
			t.Errorf("%s reservation: %d %q, want the neutral page", name, res.status, res.location)
		}
	}
}

func TestRefreshHeaderOnWaitingPagesOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	o := e.onboardingForOrg(org)
	pending := b.get(e.web.URL + "/status/" + o.Ref)
	if st, _ := outcomeOf(t, pending); st != "pending" || pending.header.Get("Refresh") != "30" {
		t.Fatalf("pending: %s Refresh %q, want 30", st, pending.header.Get("Refresh"))
	}
	if strings.Contains(pending.body, `http-equiv="refresh"`) || !strings.Contains(pending.body, `href="/status/`+o.Ref+`?refresh=off" data-testid="refresh-toggle"`) {
		t.Fatalf("pending: the page must say it refreshes, with a link that stops it:\n%s", pending.body)
	}
	off := b.get(e.web.URL + "/status/" + o.Ref + "?refresh=off")
	if off.header.Get("Refresh") != "" || !strings.Contains(off.body, `data-on="false"`) {
		t.Fatalf("refresh=off: Refresh %q\n%s", off.header.Get("Refresh"), off.body)
	}
	connected := e.returnTo(b, e.decide(b, confirm, "approve").location)
	if st, _ := outcomeOf(t, connected); st != "connected" || connected.header.Get("Refresh") != "" || strings.Contains(connected.body, "auto-refresh") {
		t.Fatalf("connected: %s Refresh %q, want none", st, connected.header.Get("Refresh"))
	}
	// A final state does not refresh either.
	b2 := e.browser()
	const other = "311093363"
	rejected := e.returnTo(b2, e.decide(b2, e.startFlow(b2, "standard", other), "reject").location)
	if rejected.header.Get("Refresh") != "" {
		t.Fatalf("rejected: Refresh %q, want none", rejected.header.Get("Refresh"))
	}
	// Nor do the wizard's own pages.
	if p := b.get(e.web.URL + "/onboard/standard/org"); p.header.Get("Refresh") != "" {
		t.Fatal("the form must not refresh itself")
	}
}

func TestConnectedPageSaysWhatComesNext(t *testing.T) {
	t.Parallel()
	const vendorURL = "https://app.smartcloud.example/"
	e := newEnv(t, map[string]string{"ONBOARD_VENDOR_URL": vendorURL})
	b := e.browser()
	connected := e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	for _, want := range []string{
		`href="` + vendorURL + `" data-testid="back-to-vendor"`, "Tilbake til SmartCloud",
		`data-testid="close-tab"`, "Du kan lukke denne fanen",
		`data-testid="remove-access"`, "Tilganger → Systemtilganger", `data-testid="altinn-manage-link"`,
		`data-testid="org-name"`, "LUNEFULL HANDLEKRAFTIG TIGER AS",
	} {
		if !strings.Contains(connected.body, want) {
			t.Fatalf("connected page lacks %q:\n%s", want, connected.body)
		}
	}
	// The back button is the page's last action.
	if i, j := strings.Index(connected.body, "back-to-vendor"), strings.LastIndex(connected.body, `data-testid="refresh"`); i < j {
		t.Fatal("Back to the vendor should come after the other actions")
	}

	// Without ONBOARD_VENDOR_URL or a hand-off there is no back button.
	e2 := newEnv(t, nil)
	b2 := e2.browser()
	plain := e2.returnTo(b2, e2.decide(b2, e2.startFlow(b2, "standard", org), "approve").location)
	if strings.Contains(plain.body, "back-to-vendor") || !strings.Contains(plain.body, `data-testid="close-tab"`) {
		t.Fatalf("no vendor URL: no back button, still the close-tab line:\n%s", plain.body)
	}
}

func TestAgentConnectedShowsTheDelegationSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	form := b.get(e.web.URL + "/onboard/agent/org")
	if !strings.Contains(form.body, `data-testid="agent-hint"`) || !strings.Contains(form.body, "ikke nummeret til en klient") {
		t.Fatalf("the agent number page must say whose number to type:\n%s", form.body)
	}
	outcome := e.returnTo(b, e.decide(b, e.startFlow(b, "agent", org), "approve").location)
	if st, _ := outcomeOf(t, outcome); st != "connected" {
		t.Fatalf("agent: %s", st)
	}
	for _, want := range []string{`data-testid="agent-next"`, `data-testid="delegate-clients"`, "Tilganger → Systemtilganger",
		"Legg til kunder", `data-testid="altinn-link"`, "Åpne Altinn og legg til klienter"} {
		if !strings.Contains(outcome.body, want) {
			t.Fatalf("agent connected page lacks %q:\n%s", want, outcome.body)
		}
	}
	if strings.Contains(outcome.body, `data-color="success"`) || strings.Contains(outcome.body, "connected-done") {
		t.Fatal("an agent system with no clients is not done: no green")
	}
}

func TestEscalatedShowsTheLinkToShare(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	outcome := e.returnTo(b, e.decide(b, confirm, "escalate").location)
	if st, esc := outcomeOf(t, outcome); st != "pending" || !esc {
		t.Fatalf("escalated: %s %v", st, esc)
	}
	for _, want := range []string{`readonly value="` + html.EscapeString(confirm) + `"`, `data-testid="share-link"`,
		`data-testid="copy-link"`, `hidden data-copy-wrap`, "tilgangsstyrer", "hovedadministrator"} {
		if !strings.Contains(outcome.body, want) {
			t.Fatalf("escalated page lacks %q:\n%s", want, outcome.body)
		}
	}
	// Another browser holding the status link gets no link.
	o := e.onboardingForOrg(org)
	if other := e.browser().get(e.web.URL + "/status/" + o.Ref); strings.Contains(other.body, "share-link") {
		t.Fatal("the link to share belongs to the browser that started it")
	}
}

func TestFinalStatesSayWhatComesNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	rejected := e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "reject").location)
	if !strings.Contains(rejected.body, `data-testid="next-step" data-next="rejected"`) || !strings.Contains(rejected.body, `data-testid="retry"`) {
		t.Fatalf("rejected page lacks its next step:\n%s", rejected.body)
	}
	o := e.onboardingForOrg(org)
	if err := e.app.Onboardings.Cancel(context.Background(), o, domain.CauseStaff, "staff@example.no"); err != nil {
		t.Fatal(err)
	}
	cancelled := b.get(e.web.URL + "/status/" + o.Ref)
	if !strings.Contains(cancelled.body, `data-next="cancelled"`) || !strings.Contains(cancelled.body, `href="/onboard/standard" data-testid="start-again"`) {
		t.Fatalf("cancelled page lacks its next step:\n%s", cancelled.body)
	}
}

func TestPrivacySentenceOnlyWhereTrue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.startFlow(b, "standard", org)
	byCustomer := e.onboardingForOrg(org)
	if p := e.browser().get(e.web.URL + "/status/" + byCustomer.Ref); !strings.Contains(p.body, `data-privacy="starter"`) ||
		!strings.Contains(p.body, "Detaljene ser den som startet tilkoblingen") {
		t.Fatalf("a customer's onboarding, seen from another browser:\n%s", p.body)
	}
	for cause, orgNo := range map[domain.Cause]string{domain.CauseStaff: "311093304", domain.CauseAPI: "311093312", domain.CauseCampaign: "311093320"} {
		o, _, err := e.app.Onboardings.Start(context.Background(), onboarding.StartInput{Product: "standard", OrgNo: orgNo,
			Lang: "nb", Cause: cause, Actor: "staff@example.no"})
		if err != nil {
			t.Fatal(err)
		}
		p := e.browser().get(e.web.URL + "/status/" + o.Ref)
		if !strings.Contains(p.body, `data-privacy="status"`) || strings.Contains(p.body, "den som startet") {
			t.Fatalf("%s: an onboarding nobody started in a browser must not say its starter sees details:\n%s", cause, p.body)
		}
	}
}
