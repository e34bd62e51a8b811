package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/sim"
)

// TestBrowserClients walks the accountant's flow in headless chromium in
// bokmål, with forms and links only (the pages carry no script of their
// own): at 1280 px "Legg til klienter" on the connected page, the simulated
// ID-porten's person picker, the clients page, a search, "legg til alle",
// the progress page when done; at 390 px a second login, a removal of one
// chosen client and its progress. axe finds nothing on any page (shot),
// nothing lies off the screen, and the console stays clean.
func TestBrowserClients(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	e, o, _ := clientsEnv(t)
	e.startJobs()
	status := e.web.URL + "/status/" + o.Ref

	login := func(b *tab) {
		b.do("open the connected page", chromedp.Navigate(status), chromedp.WaitVisible(chromedp.CSS(`[data-testid=add-clients]`)))
		b.do("Legg til klienter", b.click(`[data-testid=add-clients]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=sim-login-`+sim.PersonClientAdmin+`]`)))
		b.do("log in as Kari", b.click(`[data-testid=sim-login-`+sim.PersonClientAdmin+`]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-table]`)))
	}
	waitDone := func(b *tab) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			pr, err := e.app.Clients.ProgressOf(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if pr.InFlight == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d clients still in flight after 30 s", pr.InFlight)
			}
			time.Sleep(50 * time.Millisecond) // polling, with the deadline above
		}
		b.do("the progress page when done", chromedp.Navigate(e.web.URL+"/clients/"+o.Ref+"/progress"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-done]`)))
	}

	wide := newTab(t, chromium, screenshotDir(t), flow{product: "clients-1280", width: 1280, height: 900})
	login(wide)
	wide.shot("nb-clients")
	wide.do("search", chromedp.SendKeys(chromedp.CSS(`[data-testid=clients-search]`), "kystbakeriet"),
		wide.click(`[data-testid=clients-apply]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-shown][data-shown="1"]`)))
	wide.shot("nb-search")
	wide.do("back to all", chromedp.Navigate(e.web.URL+"/clients/"+o.Ref), chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-add-all]`)))
	wide.do("legg til alle", wide.click(`[data-testid=clients-add-all]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-progress]`)))
	waitDone(wide)
	wide.wantText(`#clients-bar-text`, "ferdig")
	wide.shot("nb-progress")
	wide.noConsoleErrors()

	phone := newTab(t, chromium, screenshotDir(t), flow{product: "clients-390", width: 390, height: 844, phone: true})
	login(phone)
	phone.shot("nb-clients")
	phone.do("choose one and remove it", phone.click(`[data-testid=client-row][data-delegated=true] [data-testid=client-check]`),
		phone.click(`[data-testid=clients-remove-chosen]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=clients-progress]`)))
	waitDone(phone)
	phone.shot("nb-progress")
	phone.noConsoleErrors()
	if s := e.app.Sim.Stats(); s.ClientsRemoved != 1 || s.ClientsAddedAgain != 0 {
		t.Errorf("sim: %d removed, %d added again; want 1 and 0", s.ClientsRemoved, s.ClientsAddedAgain)
	}
}
