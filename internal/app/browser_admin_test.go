package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserDashboard signs a support operator in to the dashboard in
// headless chromium, filters the list, opens an onboarding and cancels it,
// saving a screenshot of each page under <repo>/screenshots/.
func TestBrowserDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	// Two customers: one connected, one still waiting for approval.
	connected := e.browser()
	e.returnTo(connected, e.decide(connected, e.startFlow(connected, "standard", org), "approve").location)
	e.startFlow(e.browser(), "standard", "310000019")
	pending := e.onboardingForOrg("310000019")

	b := newTab(t, chromium, screenshotDir(t), flow{product: "dashboard", width: 1280, height: 900})
	b.do("open the dashboard", chromedp.Navigate(e.web.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)))
	b.shot("signin")
	b.do("sign in", chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "olga@example.com"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
		b.click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=onboardings]`)))
	b.wantText("[data-testid=staff-email]", "olga@example.com")
	if n := len(get(b, "the rows", chromedp.Nodes(chromedp.CSSAll(`[data-testid=onboarding-row]`)))); n != 2 {
		t.Fatalf("the list shows %d onboardings, want 2", n)
	}
	b.shot("list")

	b.do("filter on pending", chromedp.SetValue(chromedp.CSS(`[data-testid=filter-status]`), string(domain.StatusPending)),
		b.click(`[data-testid=apply-filters]`))
	// The unfiltered list has a pending row too, so wait for the filtered
	// page itself rather than for a row that is there already.
	b.waitUntil("the filtered page", `new URL(location.href).searchParams.get("status") === "pending" && document.readyState === "complete"`)
	rows := get(b, "the filtered rows", chromedp.Nodes(chromedp.CSSAll(`[data-testid=onboarding-row]`)))
	if len(rows) != 1 || rows[0].AttributeValue("data-id") != pending.ID {
		t.Fatalf("filtered on pending: %d rows, want only %s", len(rows), pending.ID)
	}
	b.shot("filtered")

	b.do("open the onboarding", b.click(`[data-testid=open-onboarding]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=detail-status]`)))
	b.wantText("[data-testid=orgno]", "310 000 019")
	if u := get(b, "the confirm link", chromedp.Value(chromedp.CSS(`[data-testid=confirm-url]`))); !strings.HasPrefix(u, e.sim.URL+"/accessmanagement/") {
		t.Errorf("the copyable confirm link is %q, want Altinn's confirm page", u)
	}
	b.shot("detail")

	b.do("ask to cancel", b.click(`[data-testid=action-cancel]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-yes]`)))
	b.shot("cancel-confirm")
	b.do("confirm the cancel", b.click(`[data-testid=confirm-yes]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=done]`)))
	if st := get(b, "the status", chromedp.AttributeValue(chromedp.CSS(`[data-testid=detail-status]`), "data-status")); st.Value != string(domain.StatusCancelled) {
		t.Errorf("after cancelling the status is %q, want cancelled", st.Value)
	}
	b.shot("cancelled")
	b.noConsoleErrors()

	if got := e.onboardingForOrg("310000019"); got.Status != domain.StatusCancelled {
		t.Fatalf("database: %q, want cancelled", got.Status)
	}
	if e.simRequestsFor("310000019") != 0 {
		t.Fatal("the request should be deleted at Altinn")
	}
}
