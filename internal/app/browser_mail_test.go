package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/mail"
)

// TestBrowserMail: the dashboard's mail page with the dev outbox's
// messages (their text opened) and the customer's opt-out page in nb, nn
// and en, question and answer, with axe at 0.
func TestBrowserMail(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, map[string]string{"ONBOARD_MAIL_INTERVAL": "1s"})
	e.addStaff("adam@example.com", string(domain.RoleAdmin))
	ctx := context.Background()
	var ids []string
	for i, lang := range []string{"nb", "nn", "en"} {
		o, err := e.db.CreateOnboarding(ctx, db.NewOnboarding{Ref: "mail-browser-ref-000" + lang, Product: "standard",
			Kind: "standard", SystemID: e.app.Config.Products[0].SystemID, OrgNo: validOrg(900 + i), ExternalRef: validOrg(900 + i),
			Lang: lang, Cause: domain.CauseAPI})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.SetMailContact(ctx, o.ID, "kunde-"+lang+"@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET status = 'pending',
			confirm_url = 'http://127.0.0.1:1/accessmanagement/ui/systemuser/request?id=x&DONTCHOOSEREPORTEE=true' WHERE id = $1`, o.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	e.startJobs()
	waitFor(t, 20*time.Second, "three messages in the outbox", func() bool {
		var n int
		_ = e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM mail_messages WHERE status = 'outbox'`).Scan(&n)
		return n == 3
	})

	b := newTab(t, chromium, screenshotDir(t), flow{product: "mail", width: 1280, height: 900})
	b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "adam@example.com"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
		b.click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=nav-mail]`)))
	b.do("open the mail page", b.click(`[data-testid=nav-mail]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-messages]`)))
	b.wantText("[data-testid=mail-mode]", "vises her")
	b.do("open a message's text", b.click(`[data-testid=mail-row] summary`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-text]`)))
	b.shot("outbox")
	b.do("pause", b.click(`[data-testid=mail-pause]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-paused]`)))
	b.shot("paused")

	words := map[string]string{"nb": "Stoppe e-postene?", "nn": "Stoppe e-postane?", "en": "Stop these emails?"}
	for i, lang := range []string{"nb", "nn", "en"} {
		c := newTab(t, chromium, screenshotDir(t), flow{product: "mail-stop-" + lang, width: 390, height: 844, phone: true})
		u := mail.StopURL(e.web.URL, sessionKeyOf(t, e), ids[i])
		c.do("open the link", chromedp.Navigate(e.web.URL+"/lang/"+lang), chromedp.Navigate(u),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-stop-form]`)))
		c.wantText("h1", words[lang])
		c.shot("question")
		c.do("stop", c.click(`[data-testid=mail-stop-submit]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-stop-done]`)))
		c.shot("done")
	}
	c := newTab(t, chromium, screenshotDir(t), flow{product: "mail-stop-forged", width: 1280, height: 900})
	c.do("a forged link", chromedp.Navigate(e.web.URL+"/mail/stop/"+ids[0]+"?t=forged"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mail-stop-invalid]`)))
	c.shot("invalid")
}

// sessionKeyOf is the key the instance signs with (the test setting).
func sessionKeyOf(t *testing.T, e *env) []byte {
	t.Helper()
	return e.app.Config.SessionKey
}
