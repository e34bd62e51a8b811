package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserCampaign: an operator pastes a list into the campaign form,
// reads the validation report, starts the campaign and watches the progress
// bar move without the page reloading (campaign.js), until the page shows
// the campaign done.
func TestBrowserCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	e.startJobs()
	list := strings.Join(append(distinctOrgs(500, 12), "310000018"), "\n")

	b := newTab(t, chromium, screenshotDir(t), flow{product: "campaign", width: 1280, height: 900})
	b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "olga@example.com"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
		b.click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=campaign-form]`)))
	b.shot("form")
	b.do("fill in the form", chromedp.SendKeys(chromedp.CSS(`[data-testid=campaign-name]`), "Altinn 2-kunder"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=campaign-paste]`), list),
		chromedp.SetValue(chromedp.CSS(`[data-testid=campaign-concurrency]`), "2"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=campaign-rate]`), "3"),
		b.click(`[data-testid=campaign-check]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=campaign-status][data-status=draft]`)))
	b.wantText("[data-testid=invalid-row]", "Kontrollsifferet stemmer ikke")
	b.shot("report")

	b.do("start", b.click(`[data-testid=campaign-start]`))
	b.waitUntil("the running page", `document.readyState === "complete" && !!document.querySelector("[data-testid=campaign-status][data-status=running]")`)
	// A mark on the page: a reload would wipe it.
	get(b, "a mark", chromedp.Evaluate[bool](`window.__sameDocument = true`))
	b.waitUntil("the bar to move", `window.__sameDocument === true &&
		Number(document.querySelector("[data-testid=progress-text]").dataset.finished) >= 3 &&
		Number(document.getElementById("progress").value) >= 3`)
	b.shot("running")
	// When the campaign ends the page reloads itself once, to show the
	// actions that now apply.
	b.waitUntil("the done page", `document.readyState === "complete" && !!document.querySelector("[data-testid=campaign-status][data-status=done]")`)
	if got := get(b, "the bar", chromedp.Evaluate[float64](`document.getElementById("progress").value`)); got != 12 {
		t.Errorf("the finished campaign's bar is at %v, want 12", got)
	}
	b.shot("done")
	b.noConsoleErrors()
}
