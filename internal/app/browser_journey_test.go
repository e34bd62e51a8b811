package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// journeyPage is one page of the customer's journey as one browser sees it.
type journeyPage struct {
	name  string
	path  string
	owner *browser // whose cookies the page is opened with; nil: a browser that started nothing
	// want are the CSS selectors the page must show; never are those it must not.
	want, never []string
}

// TestBrowserJourney opens every page and state a customer can meet, in
// bokmål, nynorsk and English, on a desktop (1280 px) and a phone (390 px):
// the start, number and company pages, every status of the onboarding (as
// the browser that started it), the page a stranger gets for a known
// number, and a missing page. Each is checked with axe-core (0 violations),
// for sideways scrolling and broken images, and saved under screenshots/;
// its words must be in the page's language (the three languages' texts of a
// page differ) and in Altinn's current terms (systemtilgang, never
// systembruker; no raw access-package URNs).
func TestBrowserJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, map[string]string{
		// The states set up below stay put while the browser looks at them.
		"ONBOARD_STATUS_REFRESH_INTERVAL": "1h",
		"ONBOARD_VENDOR_URL":              "https://app.smartcloud.example/",
		// Each size and language is another customer at another address
		// (X-Forwarded-For below): one address opening ~70 status pages in
		// half a minute is what the status pages' limit answers 429 to.
		"ONBOARD_BEHIND_PROXY": "true",
	})
	pages := e.journeyPages()
	texts := map[string]map[string]string{} // page → lang → main's text
	customer := 0                           // the last part of each run's address
	for _, size := range []flow{{width: 1280, height: 900}, {width: 390, height: 844, phone: true}} {
		for _, lang := range i18n.Languages {
			name := lang + "-" + map[bool]string{true: "phone", false: "desktop"}[size.phone]
			f := size
			f.product = "journey-" + name
			customer++
			t.Run(name, func(t *testing.T) {
				b := newTab(t, chromium, screenshotDir(t), f)
				b.do("come from this customer's own address", chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
					_, err := cdp.Call(ctx, tt, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{
						"Accept-Language": "nb-NO,nb;q=0.9,no;q=0.8",
						"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", customer),
					}})
					return err
				}))
				for _, p := range pages {
					b.openAs(e, p.owner, lang, p.path)
					for _, sel := range p.want {
						if n := get(b, sel, chromedp.Evaluate[int](`document.querySelectorAll(`+jsQuote(sel)+`).length`)); n == 0 {
							t.Errorf("%s %s: nothing matches %s", name, p.name, sel)
						}
					}
					for _, sel := range p.never {
						if n := get(b, sel, chromedp.Evaluate[int](`document.querySelectorAll(`+jsQuote(sel)+`).length`)); n != 0 {
							t.Errorf("%s %s: %s must not be on the page", name, p.name, sel)
						}
					}
					text := get(b, "the page's text", chromedp.Evaluate[string](`document.body.innerText`))
					for _, bad := range forbiddenWords[lang] {
						if strings.Contains(strings.ToLower(text), bad) {
							t.Errorf("%s %s: the page says %q:\n%s", name, p.name, bad, text)
						}
					}
					if texts[p.name] == nil {
						texts[p.name] = map[string]string{}
					}
					texts[p.name][lang] = get(b, "main's text", chromedp.Evaluate[string](`document.querySelector("main").innerText`))
					b.shot(p.name)
				}
			})
		}
	}
	for _, p := range pages {
		for i, a := range i18n.Languages {
			for _, c := range i18n.Languages[i+1:] {
				if texts[p.name][a] == texts[p.name][c] {
					t.Errorf("%s reads the same in %s and %s:\n%s", p.name, a, c, texts[p.name][a])
				}
			}
		}
	}
}

// forbiddenWords are what no customer page says in a language: the old
// term for a system access, and raw ids of what is granted.
var forbiddenWords = map[string][]string{
	"nb": {"systembruker", "urn:altinn"},
	"nn": {"systembrukar", "systembruker", "urn:altinn", "virksomheten", "ikke "},
	"en": {"system user", "urn:altinn", "virksomhet"},
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// openAs opens path in lang with the cookies of owner's browser (none for
// nil), as that person would see it.
func (b *tab) openAs(e *env, owner *browser, lang, path string) {
	b.t.Helper()
	var cookies []*network.CookieParam
	if owner != nil {
		u, _ := url.Parse(e.web.URL)
		for _, c := range owner.c.Jar.Cookies(u) {
			cookies = append(cookies, &network.CookieParam{Name: c.Name, Value: c.Value, URL: e.web.URL + "/", HTTPOnly: true})
		}
	}
	b.do("open "+path+" as its owner",
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tt, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				return err
			}
			if len(cookies) == 0 {
				return nil
			}
			_, err := cdp.Call(ctx, tt, network.SetCookies, network.SetCookiesParams{Cookies: cookies})
			return err
		}),
		chromedp.Navigate(e.web.URL+"/lang/"+lang+"?next="+url.QueryEscape(path)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=`+lang+`] main`)))
}

// journeyPages sets up one onboarding in each state, each started by its
// own browser, and lists the pages to look at.
func (e *env) journeyPages() []journeyPage {
	t := e.t
	ctx := context.Background()
	orgs := distinctOrgs(930, 10)
	refresh := func(o *domain.Onboarding) {
		t.Helper()
		if err := e.app.Onboardings.Refresh(ctx, o, domain.CauseCustomer, ""); err != nil {
			t.Fatal(err)
		}
	}
	started := func(product, orgNo string) (*browser, *domain.Onboarding, string) {
		t.Helper()
		b := e.browser()
		confirm := e.startFlow(b, product, orgNo)
		return b, e.onboardingForOrg(orgNo), confirm
	}
	// Expired first: the simulator's clock goes forward for it alone.
	expiredB, expired, _ := started("standard", orgs[0])
	later := time.Now().Add(181 * 24 * time.Hour)
	e.app.Sim.SetNow(func() time.Time { return later })
	refresh(expired)
	e.app.Sim.SetNow(nil)

	pendingB, pending, _ := started("standard", orgs[1])
	escalatedB, escalated, _ := started("standard", orgs[2])
	if err := e.app.Sim.Escalate(*escalated.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	refresh(escalated)
	connectedB, connected, confirm := started("standard", orgs[3])
	e.returnTo(connectedB, e.decide(connectedB, confirm, "approve").location)
	agentB, agent, confirm := started("agent", orgs[4])
	e.returnTo(agentB, e.decide(agentB, confirm, "approve").location)
	rejectedB, rejected, confirm := started("standard", orgs[5])
	e.returnTo(rejectedB, e.decide(rejectedB, confirm, "reject").location)
	revokedB, revoked, confirm := started("standard", orgs[6])
	e.returnTo(revokedB, e.decide(revokedB, confirm, "approve").location)
	revoked = e.dashReload(revoked)
	if err := e.app.Sim.DeleteSystemUser(*revoked.SystemUserID); err != nil {
		t.Fatal(err)
	}
	refresh(revoked)
	cancelledB, cancelled, _ := started("standard", orgs[7])
	if err := e.app.Onboardings.Cancel(ctx, cancelled, domain.CauseStaff, "support@smartcloud.example"); err != nil {
		t.Fatal(err)
	}
	// Altinn refuses the request: the onboarding fails.
	e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: http.StatusBadRequest, Times: 1,
		Body: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"Bad request","status":400,"code":"AUTH-00000","detail":"party not found"}`})
	failedB := e.browser()
	e.submitAndConfirm(failedB, "standard", orgs[8])
	failed := e.onboardingForOrg(orgs[8])
	for _, o := range []struct {
		o    *domain.Onboarding
		want domain.Status
	}{{expired, domain.StatusExpired}, {pending, domain.StatusPending}, {escalated, domain.StatusPending},
		{connected, domain.StatusConnected}, {agent, domain.StatusConnected}, {rejected, domain.StatusRejected},
		{revoked, domain.StatusRevoked}, {cancelled, domain.StatusCancelled}, {failed, domain.StatusFailed}} {
		if got := e.dashReload(o.o).Status; got != o.want {
			t.Fatalf("set-up: %s is %s, want %s", o.o.OrgNo, got, o.want)
		}
	}
	// A stranger types the rejected customer's number.
	stranger := e.browser()
	strangerPage := e.submitAndConfirm(stranger, "standard", rejected.OrgNo)
	// A typo on the number page.
	typo := e.browser()
	typoPage := e.submitOrg(typo, "standard", "314248296")
	if typoPage.status != http.StatusSeeOther {
		t.Fatalf("a wrong number: %d, want 303 to the form", typoPage.status)
	}
	// The company page for a known number.
	companyPage := e.submitOrg(e.browser(), "standard", orgs[9])
	if companyPage.status != http.StatusSeeOther {
		t.Fatalf("a right number: %d, want 303 to the company page", companyPage.status)
	}
	// A customer started, then opened the link in another browser.
	elsewhere := e.browser()

	status := func(o *domain.Onboarding) string { return "/status/" + o.Ref }
	return []journeyPage{
		{name: "start", path: "/onboard/standard", want: []string{`[data-testid=start]`}},
		{name: "start-agent", path: "/onboard/agent", want: []string{`[data-testid=start]`}},
		{name: "org", path: "/onboard/standard/org", want: []string{`[data-testid=orgno]`}},
		{name: "org-agent", path: "/onboard/agent/org", want: []string{`[data-testid=orgno]`, `[data-testid=agent-hint]`}},
		{name: "org-typo", path: typoPage.location, want: []string{`[data-testid=error-summary]`, `[data-testid=orgno-error]`}},
		{name: "company", path: companyPage.location, want: []string{`[data-testid=company-name]`, `[data-testid=confirm-company]`}},
		{name: "pending", path: status(pending), owner: pendingB, want: []string{`[data-testid=continue]`, `[data-testid=auto-refresh]`}},
		{name: "escalated", path: status(escalated), owner: escalatedB, want: []string{`[data-testid=share-link]`}},
		{name: "connected", path: status(connected), owner: connectedB, want: []string{`[data-testid=back-to-vendor]`, `[data-testid=close-tab]`, `[data-testid=remove-access]`}, never: []string{`[data-testid=auto-refresh]`}},
		{name: "connected-agent", path: status(agent), owner: agentB, want: []string{`[data-testid=delegate-clients]`}},
		{name: "rejected", path: status(rejected), owner: rejectedB, want: []string{`[data-testid=retry]`}},
		{name: "expired", path: status(expired), owner: expiredB, want: []string{`[data-testid=retry]`}},
		{name: "revoked", path: status(revoked), owner: revokedB, want: []string{`[data-testid=retry]`}},
		{name: "cancelled", path: status(cancelled), owner: cancelledB},
		{name: "failed", path: status(failed), owner: failedB, want: []string{`[data-testid=contact-us]`}},
		{name: "stranger", path: strangerPage.location, owner: stranger, want: []string{`[data-testid=neutral]`},
			never: []string{`[data-testid=outcome]`, `[data-testid=details]`, `[data-testid=retry]`}},
		{name: "other-browser", path: status(pending), owner: elsewhere, want: []string{`[data-testid=other-browser]`},
			never: []string{`[data-testid=details]`, `[data-testid=continue]`}},
		{name: "not-found", path: "/no-such-page", want: []string{`[data-testid=error]`}},
	}
}

// TestBrowserBackAfterTypo is a customer who mistypes the number, corrects
// it, goes on to Altinn and then presses Back: every page in the history is
// a GET (post/redirect/get), so Back shows the company page and then the
// number form with its error, never the browser's "Confirm Form
// Resubmission".
func TestBrowserBackAfterTypo(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	b := newTab(t, chromium, screenshotDir(t), flow{product: "back-after-typo", width: 390, height: 844, phone: true})
	b.do("type a wrong number", chromedp.Navigate(e.web.URL+"/onboard/standard/org"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=orgno]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=orgno]`), "314248296"),
		b.click(`[data-testid=submit]`))
	b.waitUntil("the form with its error", `!!document.querySelector("[data-testid=orgno-error]")`)
	b.do("correct it", chromedp.Clear(chromedp.CSS(`[data-testid=orgno]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=orgno]`), org), b.click(`[data-testid=submit]`))
	b.waitUntil("the company page", `!!document.querySelector("[data-testid=confirm-company]")`)
	b.do("go on to Altinn", b.click(`[data-testid=confirm-company]`))
	b.waitUntil("Altinn's confirm page", `location.href.startsWith(`+jsQuote(e.sim.URL)+`)`)
	b.do("press Back", chromedp.NavigateBack())
	b.waitUntil("the company page again", `!!document.querySelector("[data-testid=confirm-company]")`)
	b.do("press Back again", chromedp.NavigateBack())
	b.waitUntil("the number form with its error", `!!document.querySelector("[data-testid=orgno-error]")`)
	if u := get(b, "the address", chromedp.Location()); !strings.Contains(u, "/onboard/standard/org") || strings.HasPrefix(u, "chrome-error") {
		t.Fatalf("Back after a typo is at %s, want the number form", u)
	}
	b.shot("form-after-back")
}

// TestBrowserBusyWhileAltinnIsSlow: while Altinn takes its time to make the
// request, the company page's "yes" says it is working (the busy line
// shown, the button disabled), so the customer neither waits in silence
// nor sends it twice; then Altinn's page comes.
func TestBrowserBusyWhileAltinnIsSlow(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	e := newEnv(t, map[string]string{"ONBOARD_ALTINN_TIMEOUT": "10s"}) // Altinn takes 4 s below
	b := newTab(t, chromium, screenshotDir(t), flow{product: "standard", width: 1280, height: 900})
	b.prefix = "busy"
	e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/authentication/api/v1/systemuser/request/vendor",
		Latency: 4 * time.Second, Times: 1})

	b.do("open the company page", chromedp.Navigate(e.web.URL+"/onboard/standard/confirm?orgno="+org),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-company]`)))
	// The script is deferred: the button can be visible before it runs, and
	// a click then sends the form without the busy state (as it would for a
	// customer without JavaScript). CI's loaded machine clicked that early.
	b.waitUntil("the page's script", `document.readyState === "complete" && window.onboardWizardJS === true`)
	if get(b, "the busy line before the click", chromedp.Evaluate[bool](`document.querySelector("[data-testid=busy]").hidden`)) != true {
		t.Fatal("the busy line shows before anything was sent")
	}
	// The page itself reports the busy state the moment it is reached (the
	// busy line about Altinn shown, the button disabled), on the console's
	// stream: a read from outside can be held up by the navigation under
	// way, and CI's loaded machine was then only answered on Altinn's page.
	// A mark from the company page means the state showed before Altinn's
	// page replaced it.
	busyMark := consoleMark + "busy"
	get(b, "the watch for the busy state", chromedp.Evaluate[bool](`(() => {
		const busy = document.querySelector("[data-testid=busy]"), yes = document.querySelector("[data-testid=confirm-company]");
		const seen = () => !busy.hidden && busy.textContent.includes("Altinn") && yes.disabled;
		const watch = new MutationObserver(() => { if (seen()) { watch.disconnect(); console.debug(`+jsQuote(busyMark)+`); } });
		watch.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["hidden", "disabled"]});
		return true; })()`))
	b.do("say yes", b.click(`[data-testid=confirm-company]`))
	for seen := ""; seen != busyMark; {
		select {
		case seen = <-b.marks:
		case <-time.After(10 * time.Second): // Altinn answers after 4 s: by then the company page is gone
			b.fail("wait for the busy state while Altinn is slow (the busy line about Altinn shown, the button disabled)",
				errors.New("the company page never reported it"))
		}
	}
	b.do("wait for Altinn", chromedp.WaitVisible(chromedp.CSS(`[data-testid=sim-approve]`)))
	if n := len(e.app.Sim.Requests()); n != 1 {
		t.Errorf("Altinn holds %d requests, want 1", n)
	}
	b.noConsoleErrors()
}
