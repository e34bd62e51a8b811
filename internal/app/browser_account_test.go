package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserAccountPassword walks the staff password pages in headless
// chromium, with axe at 0 on each: a staff member changes her own password
// (a wrong current one first); an admin resets another's, copies the link
// with the copy button, and the other staff member opens it, sets a new
// password and is signed in; the link then says it is used.
func TestBrowserAccountPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	const bossPw, olgaPw = "the boss's brand new passphrase", "olga picked this after a reset"

	b := newTab(t, chromium, screenshotDir(t), flow{product: "account", width: 1280, height: 900})
	b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "boss@example.com"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
		b.click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=nav-password]`)))
	b.do("open the password page", b.click(`[data-testid=nav-password]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=password-form]`)))
	b.wantText("[data-testid=password-rules]", "minst 12 tegn")
	b.shot("change-form")

	b.do("a wrong current password", chromedp.SendKeys(chromedp.CSS(`[data-testid=current]`), "not my password at all"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=new]`), bossPw),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=confirm]`), bossPw),
		b.click(`[data-testid=password-submit]`))
	b.waitUntil("the error", `document.readyState === "complete" && !!document.querySelector("[data-testid=password-error]")`)
	b.wantText("[data-testid=current-error]", "Det nåværende passordet er feil")
	b.shot("change-wrong")

	b.do("change it", chromedp.SendKeys(chromedp.CSS(`[data-testid=current]`), staffPassword),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=new]`), bossPw),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=confirm]`), bossPw),
		b.click(`[data-testid=password-submit]`))
	b.waitUntil("the done message", `document.readyState === "complete" && !!document.querySelector("[data-testid=done]")`)
	b.wantText("[data-testid=done]", "Passordet er endret")
	b.shot("changed")
	if !e.signsIn("boss@example.com", bossPw) || e.signsIn("boss@example.com", staffPassword) {
		t.Fatal("after the change the new password should sign in and the old not")
	}

	// The admin resets olga's password from the staff page.
	b.do("open the staff page", chromedp.Navigate(e.web.URL+"/admin/staff"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=staff]`)))
	b.do("ask to reset olga's password", b.click(`[data-testid=staff-row][data-email="olga@example.com"] [data-testid=reset-password-link]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-form][data-action=reset]`)))
	b.wantText("[data-testid=confirm-email]", "olga@example.com")
	b.shot("reset-confirm")
	b.do("confirm", b.click(`[data-testid=confirm-yes]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=reset-code]`)))
	// The copy buttons are there with script; copying says so.
	b.waitUntil("the copy button", `!!document.querySelector("[data-testid=copy-reset-link]") && document.querySelector("[data-testid=copy-reset-link]").offsetParent !== null`)
	b.do("copy the link", b.click(`[data-testid=copy-reset-link]`))
	b.waitUntil("the copied message", `document.querySelector("[data-testid=copy-reset-link-status]").textContent.includes("Kopiert")`)
	link := get(b, "the link", chromedp.Value(chromedp.CSS(`[data-testid=reset-link]`)))
	if !strings.HasPrefix(link, e.web.URL+"/admin/reset?code=") {
		t.Fatalf("the link is %q", link)
	}
	b.shot("reset-code")

	// Olga, in a browser of her own, opens the link.
	o := newTab(t, chromium, screenshotDir(t), flow{product: "account-reset", width: 1280, height: 900})
	o.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=reset-form]`)))
	o.wantText("[data-testid=reset-for]", "olga@example.com")
	o.shot("reset-form")
	o.do("set a new password", chromedp.SendKeys(chromedp.CSS(`[data-testid=new]`), olgaPw),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=confirm]`), olgaPw),
		o.click(`[data-testid=reset-submit]`))
	o.waitUntil("signed in", `document.readyState === "complete" && !!document.querySelector("[data-testid=done]")`)
	o.wantText("[data-testid=staff-email]", "olga@example.com")
	o.shot("reset-done")
	o.do("open the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=reset-problem][data-reason=used]`)))
	o.wantText("[data-testid=reset-problem]", "allerede brukt")
	o.shot("reset-used")
	if !e.signsIn("olga@example.com", olgaPw) {
		t.Fatal("olga's new password does not sign in")
	}
	b.noConsoleErrorsBut(func(m string) bool { return failedLoad(m, "400", "/admin/account/password") })
	o.noConsoleErrorsBut(func(m string) bool { return failedLoad(m, "410", "/admin/reset") })
}

// noConsoleErrorsBut is noConsoleErrors, except for the messages allowed
// says are the flow's own: the 400 of a form sent back with its error and
// the 410 of a used code's page, which chromium logs as failed loads.
func (b *tab) noConsoleErrorsBut(allowed func(msg string) bool) {
	b.t.Helper()
	b.nmark++
	mark := fmt.Sprintf("%s%d", consoleMark, b.nmark)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`console.debug(`+strconv.Quote(mark)+`), true`)); err != nil {
		b.fail("console mark", err)
	}
	for seen := ""; seen != mark; {
		select {
		case seen = <-b.marks:
		case <-b.ctx.Done():
			b.t.Fatalf("the browser console's stream never showed %s: %v", mark, b.ctx.Err())
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if !allowed(m) {
			b.t.Errorf("browser console: %s", m)
		}
	}
}

// failedLoad reports whether a console message is chromium's note that
// the page at path (with or without a query) answered status.
func failedLoad(msg, status, path string) bool {
	return strings.Contains(msg, "status of "+status) && strings.Contains(msg, path)
}
