package app_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// says reports whether a page holds the bokmål text of key.
func says(p page, key string) bool {
	return strings.Contains(p.body, html.EscapeString(i18n.T("nb", key)))
}

// TestOutcomeRequestGone: a pending request that disappears at Altinn fails
// the onboarding with request_gone, and the customer's page says so (the
// request is gone: make a new one), not that Altinn refused to create it;
// staff read the same cause. Trying again makes a new request.
func TestOutcomeRequestGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.startFlow(b, "standard", org)

	// Altinn no longer knows the request, by id or by external ref.
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Status: http.StatusNotFound,
		Body: `{"type":"urn:altinn:error:AUTH-00010","title":"Request not found","status":404,"code":"AUTH-00010"}`})
	o := e.onboardingForOrg(org)
	p := b.get(e.web.URL + "/status/" + o.Ref)
	customerPage(t, "status page", p)
	if st, _ := outcomeOf(t, p); st != string(domain.StatusFailed) {
		t.Fatalf("status page shows %q, want failed", st)
	}
	if o = e.onboardingForOrg(org); o.Status != domain.StatusFailed || deref(o.ErrorCode) != onboarding.CodeGone {
		t.Fatalf("db: %s %q, want failed request_gone", o.Status, deref(o.ErrorCode))
	}
	if !says(p, "outcome.gone") || !says(p, "outcome.gone.help") {
		t.Fatalf("the page does not say the request is gone:\n%s", p.body)
	}
	if says(p, "outcome.failed") || says(p, "outcome.failed.help") {
		t.Fatalf("the page says Altinn refused to create the request, which it did not:\n%s", p.body)
	}
	if !strings.Contains(p.body, `data-testid="retry">`+html.EscapeString(i18n.T("nb", "outcome.newrequest"))+`<`) {
		t.Fatalf("the try-again button should offer a new request:\n%s", p.body)
	}

	// Staff see the same cause on the dashboard.
	staff, _ := e.dashStaff("ola@example.com", string(domain.RoleOperator))
	if d := staff.get(e.web.URL + "/admin/onboardings/" + o.ID); d.status != http.StatusOK ||
		!says(d, "admin.status.help.failed.gone") || says(d, "admin.status.help.failed") {
		t.Fatalf("the detail page should explain the request is gone (%d):\n%s", d.status, d.body)
	}

	// Trying again makes a new request for the customer to approve.
	remove()
	retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, p)}})
	if retry.status != http.StatusSeeOther || !strings.Contains(retry.location, "/request?id=") {
		t.Fatalf("try again: %d Location %q, want a 303 to a new confirm page", retry.status, retry.location)
	}
	if o = e.onboardingForOrg(org); o.Status != domain.StatusPending {
		t.Fatalf("after trying again: %s, want pending", o.Status)
	}
}

// TestOutcomeRevokedStaysRevoked: a system user the customer deleted in
// Altinn takes its request with it. The status page says revoked, and keeps
// saying it on the next look (which finds the request gone too) instead of
// turning it into a failed request Altinn refused.
func TestOutcomeRevokedStaysRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	if st, _ := outcomeOf(t, e.returnTo(b, e.decide(b, confirm, "approve").location)); st != string(domain.StatusConnected) {
		t.Fatalf("after approving: %q, want connected", st)
	}
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
		t.Fatal(err)
	}
	for _, look := range []string{"first look", "second look"} {
		p := b.get(e.web.URL + "/status/" + o.Ref)
		customerPage(t, look, p)
		if st, _ := outcomeOf(t, p); st != string(domain.StatusRevoked) || !says(p, "outcome.revoked") || says(p, "outcome.failed") {
			t.Fatalf("%s: the page shows %q, want revoked and its words:\n%s", look, st, p.body)
		}
	}
	if o = e.onboardingForOrg(org); o.Status != domain.StatusRevoked {
		t.Fatalf("db: %s %q, want revoked", o.Status, deref(o.ErrorCode))
	}
}
