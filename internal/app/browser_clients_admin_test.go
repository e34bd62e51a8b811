package app_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// TestBrowserClientsDashboard: an agent onboarding's clients on the
// dashboard's detail page (two added in Altinn's portal and noticed by the
// reconciler, one of them then removed), as a viewer sees it in bokmål and
// English at 1280 and 390 px: axe finds nothing (shot), the console stays
// clean.
func TestBrowserClientsDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	e, o, _ := clientsEnv(t)
	su := *o.SystemUserID
	var added []string
	for _, c := range e.app.Sim.FirmClients(sim.FirmOrgNo) {
		if len(added) == 2 {
			break
		}
		if err := e.app.Sim.DelegateClient(su, c.ClientID); err == nil {
			added = append(added, c.ClientID)
		}
	}
	if len(added) != 2 {
		t.Fatalf("the portal added %d clients", len(added))
	}
	e.reconcile(o)
	if err := e.app.Sim.RemoveClientDelegation(su, added[0]); err != nil {
		t.Fatal(err)
	}
	e.reconcile(o)
	if rows := e.clientRows(o.ID); rows[added[0]] != string(domain.ClientRemoved) || rows[added[1]] != string(domain.ClientDelegated) {
		t.Fatalf("rows after the reconciler: %v", rows)
	}
	e.addStaff("viewer@example.com", string(domain.RoleViewer))
	path := "/admin/onboardings/" + o.ID
	for _, f := range []flow{{product: "clients-admin-1280", width: 1280, height: 900}, {product: "clients-admin-390", width: 390, height: 844, phone: true}} {
		b := newTab(t, chromium, screenshotDir(t), f)
		b.do("sign in as a viewer", chromedp.Navigate(e.web.URL+"/admin/"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "viewer@example.com"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
			b.click(`[data-testid=sign-in]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=onboardings]`)))
		for _, lang := range []string{"nb", "en"} {
			b.do("open the detail page in "+lang, chromedp.Navigate(e.web.URL+"/lang/"+lang+"?next="+url.QueryEscape(path)),
				chromedp.WaitVisible(chromedp.CSS(`html[lang=`+lang+`] main`)))
			b.do("the clients section", chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-table]`)),
				chromedp.ScrollIntoView(chromedp.CSS(`[data-testid=clients-section]`)))
			b.wantText(`[data-testid=client-admin-row][data-state=removed]`, map[string]string{"nb": "i Altinns portal", "en": "in Altinn's portal"}[lang])
			b.shot(lang + "-clients")
		}
		b.noConsoleErrors()
	}
}
