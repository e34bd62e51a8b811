package app_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserProblems opens the Problems page in headless chromium, with a
// problem in every section, at 1280 px and on a 390 px phone, in bokmål and
// English, each checked with axe (0 violations) and for sideways scrolling;
// the operator sends a given-up webhook delivery again from the page and
// reads the notice.
func TestBrowserProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	ep := newVendorEndpoint(t, always(http.StatusServiceUnavailable))
	e := webhookEnv(t, ep)
	ctx := context.Background()
	e.addStaff("olga@example.com", string(domain.RoleOperator))

	// A webhook given up: customer A's events were two days old at their
	// first attempt.
	e.startFlow(e.browser(), "standard", org)
	a := e.onboardingForOrg(org)
	n := len(e.statusChanges(a))
	if _, err := e.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET retry_since = now() - interval '48 hours 1 minute'`); err != nil {
		t.Fatal(err)
	}
	e.startJobs()
	e.waitDeliveries(a, n, func(d db.WebhookDelivery) bool { return d.Status == db.WebhookFailed })
	// The other sections' customers as history left them (no check is due,
	// so the running jobs leave them be).
	seed := func(orgNo, status, set string, args ...any) string {
		r := e.dashSeed(dashRow{orgNo: orgNo, kind: "standard", status: status, created: time.Now().Add(-2 * time.Hour)})
		if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET next_check_at = NULL, status_at = now() - interval '1 hour'`+set+
			` WHERE id = $1`, append([]any{r.id}, args...)...); err != nil {
			t.Fatal(err)
		}
		return r.id
	}
	orgs := distinctOrgs(1700, 3)
	seed(orgs[0], string(domain.StatusConnected), `, usable = false, usable_outcome = 'not_usable', usable_code = 'MP-303',
		usable_message = 'MP-303: the system user is not for this client', usable_checked_at = now(), usable_since = now()`)
	seed(orgs[1], string(domain.StatusFailed), `, error_code = 'altinn_refused', error_message = 'AUTH-00001: the request was refused'`)
	seed(orgs[2], string(domain.StatusRequesting), ``)
	e.addMail(a.ID, domain.MailLink, domain.MailRefused, "550 5.1.1 <kunde@example.com>: Recipient address rejected", time.Now())

	for _, f := range []flow{
		{product: "problems", width: 1280, height: 900},
		{product: "problems-390", width: 390, height: 844, phone: true},
	} {
		b := newTab(t, chromium, screenshotDir(t), f)
		b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/login?next="+url.QueryEscape(problemsPath)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "olga@example.com"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
			b.click(`[data-testid=sign-in]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=problems-webhooks]`)))
		for _, s := range problemSections {
			sel := `[data-testid=problem-` + s + `]`
			if got := len(get(b, "the "+s+" rows", chromedp.Nodes(chromedp.CSSAll(sel)))); got == 0 {
				t.Errorf("%s: no %s rows", f.product, s)
			}
		}
		b.wantText(`[data-testid=problems-mail]`, "Recipient address rejected")
		b.shot("nb")
		b.do("English", chromedp.Navigate(e.web.URL+"/lang/en?next="+url.QueryEscape(problemsPath)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=problems-webhooks]`)))
		b.wantText(`[data-testid=problems-stuck]`, "more than 15 minutes")
		b.shot("en")
		if !f.phone {
			b.do("redeliver", b.click(`[data-testid=problem-webhooks] [data-testid=redeliver]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=done]`)))
			b.shot("redelivered")
			b.do("open the customer", b.click(`[data-testid=problem-failed] [data-testid=open-onboarding]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=detail-status][data-status=failed]`)))
		}
		b.noConsoleErrors()
	}
}
