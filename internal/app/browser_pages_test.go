package app_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserPages checks with axe-core, in bokmål and in English, the pages
// the walks through the wizard and the dashboard do not reach: the home
// page, an outcome that failed, a status page opened in another browser, a
// refused hand-off, a missing page, and every dashboard page an admin sees.
func TestBrowserPages(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	admin := e.addStaff("ada@example.com", string(domain.RoleAdmin))
	viewer := e.addStaff("vera@example.com", string(domain.RoleViewer))
	// A wrong password for vera: the staff page shows it and offers to clear
	// her sign-in delay (signin_throttle_test.go).
	if res := e.signIn(e.browser(), "vera@example.com", "a wrong password", ""); res.status != 401 {
		t.Fatalf("vera's wrong password: %d", res.status)
	}
	// A customer who rejected the request in Altinn.
	hb := e.browser()
	back := hb.get(e.decide(hb, e.startFlow(hb, "standard", org), "reject").location)
	if !strings.HasPrefix(back.location, "/status/") {
		t.Fatalf("return from Altinn: %d Location %q", back.status, back.location)
	}
	rejected := e.onboardingForOrg(org)
	// A connected customer, a change request Altinn found needed nothing,
	// and a campaign waiting to start with a row that will not be sent.
	cb := e.browser()
	connectedOrg := distinctOrgs(950, 1)[0]
	e.returnTo(cb, e.decide(cb, e.startFlow(cb, "standard", connectedOrg), "approve").location)
	connected := e.onboardingForOrg(connectedOrg)
	cr, err := e.app.Onboardings.RequestChange(context.Background(), connected, domain.CauseStaff, "test")
	if err != nil {
		t.Fatal(err)
	}
	// A connected customer whose system-user token Maskinporten refuses:
	// the service's client id was taken off the system (MP-303).
	nb := e.browser()
	notUsableOrg := distinctOrgs(970, 1)[0]
	e.returnTo(nb, e.decide(nb, e.startFlow(nb, "standard", notUsableOrg), "approve").location)
	notUsable := e.onboardingForOrg(notUsableOrg)
	systemID, clientID := e.app.Config.Products[0].SystemID, e.app.Config.MaskinportenClientID
	if err := e.app.Sim.RemoveClientID(systemID, clientID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Onboardings.TestConnection(context.Background(), notUsable, domain.CauseStaff, "test"); err != nil ||
		notUsable.Usable == nil || *notUsable.Usable {
		t.Fatalf("test connection: %v, usable %v", err, notUsable.Usable)
	}
	if err := e.app.Sim.AddClientID(systemID, clientID); err != nil {
		t.Fatal(err)
	}
	camp, err := e.app.Campaigns.Create(context.Background(), campaigns.NewCampaign{Name: "Altinn 2", Product: "standard",
		Concurrency: 2, Rate: 5, Data: []byte(strings.Join(distinctOrgs(960, 3), "\n") + "\n310000018\n"), CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}

	pages := []struct{ name, path string }{
		{"home", "/"},
		{"rejected", back.location},
		{"handoff-refused", "/start?token=not-a-token"},
		{"not-found", "/no-such-page"},
		{"admin-detail", "/admin/onboardings/" + rejected.ID},
		{"admin-new", "/admin/onboardings/new"},
		{"admin-funnel", "/admin/funnel"},
		{"admin-systemusers", "/admin/systemusers"},
		{"admin-problems-stuck", "/admin/problems?section=stuck"},
		{"admin-staff", "/admin/staff"},
		{"admin-staff-disable", "/admin/staff/" + strconv.FormatInt(viewer.ID, 10) + "/disable"},
		{"admin-apikeys", "/admin/apikeys"},
		{"admin-setup", "/admin/setup"},
		{"admin-campaigns", "/admin/campaigns"},
		{"admin-campaign-new", "/admin/campaigns/new"},
		{"admin-campaign", "/admin/campaigns/" + camp.ID},
		{"admin-campaign-cancel", "/admin/campaigns/" + camp.ID + "?confirm=cancel"},
		{"admin-changes", "/admin/changes"},
		{"admin-change-confirm", "/admin/onboardings/" + connected.ID + "/change"},
		{"admin-connected", "/admin/onboardings/" + connected.ID},
		{"admin-not-usable", "/admin/onboardings/" + notUsable.ID},
		{"admin-testconnection", "/admin/onboardings/" + connected.ID + "/testconnection"},
		{"admin-list-not-usable", "/admin/onboardings?usability=not_usable"},
		{"change-outcome", "/change/" + cr.Ref},
	}
	// One browser per language, one after the other: each has the flow's
	// 60 s for its pages, each with axe (a loaded 2-core machine took 68 s
	// for both languages in one).
	for _, lang := range []string{"nb", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := newTab(t, chromium, screenshotDir(t), flow{product: "pages-" + lang, width: 1280, height: 900})
			b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
				chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), admin.Email),
				chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
				b.click(`[data-testid=sign-in]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=onboardings]`)))
			for _, p := range pages {
				b.do("open "+p.path, chromedp.Navigate(e.web.URL+"/lang/"+lang+"?next="+url.QueryEscape(p.path)),
					chromedp.WaitVisible(chromedp.CSS(`html[lang=`+lang+`] main`)))
				b.shot(p.name)
			}
		})
	}
}
