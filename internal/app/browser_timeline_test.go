package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestBrowserTimeline opens an onboarding's detail page in headless
// chromium in bokmål and English after a real flow (a customer starts,
// looks at the status page three times, approves and comes back; a staff
// member refreshes): the timeline reads in the page's language, newest
// first, the three reads one line with a count, the technical details open
// on demand, the audit details are fields; axe finds nothing (shot). A
// waiting onboarding's confirm link has a copy button that copies. At
// 390 px the list does not scroll sideways and every row's status and name
// are on the screen without scrolling its table.
func TestBrowserTimeline(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	customer := e.browser()
	confirm := e.startFlow(customer, "standard", org)
	o := e.onboardingForOrg(org)
	for range 3 {
		customer.get(e.web.URL + "/status/" + o.Ref)
	}
	e.returnTo(customer, e.decide(customer, confirm, "approve").location)
	staff, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	detailPath := "/admin/onboardings/" + o.ID
	dashDoneAt(t, staff.post(e.web.URL+detailPath+"/refresh", url.Values{"_csrf": {csrfOf(t, staff.get(e.web.URL+detailPath))}}), o, "refresh")
	e.startFlow(e.browser(), "standard", "310000019")
	pending := e.onboardingForOrg("310000019")

	signIn := func(b *tab) {
		b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "olga@example.com"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
			b.click(`[data-testid=sign-in]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=onboardings]`)))
	}

	b := newTab(t, chromium, screenshotDir(t), flow{product: "timeline", width: 1280, height: 900})
	signIn(b)
	for _, lang := range []string{"nb", "en"} {
		b.do("open the detail page in "+lang, chromedp.Navigate(e.web.URL+"/lang/"+lang+"?next="+url.QueryEscape(detailPath)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=`+lang+`] [data-testid=timeline]`)))
		b.shot(lang + "-detail")
		texts := get(b, "the timeline's lines", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("[data-testid=event-text]")].map(e => e.offsetParent ? e.textContent : "")`))
		if len(texts) < 5 {
			t.Fatalf("%s: %d timeline lines: %q", lang, len(texts), texts)
		}
		for _, s := range texts {
			if s == "" {
				t.Errorf("%s: a timeline line is not visible", lang)
			}
			if lang == "nb" && tlEnglish.MatchString(strings.ReplaceAll(s, "olga@example.com", "")) {
				t.Errorf("nb: an English line: %q", s)
			}
		}
		wantFirst := map[string]string{"nb": "olga@example.com hentet status fra Altinn på nytt.", "en": "olga@example.com fetched the status from Altinn again."}[lang]
		if !strings.HasPrefix(texts[0], wantFirst) {
			t.Errorf("%s: the newest line is %q, want the staff refresh %q", lang, texts[0], wantFirst)
		}
		wantRepeat := map[string]string{"nb": "3 ganger", "en": "3 times"}[lang]
		if r := get(b, "the folded reads", chromedp.Evaluate[string](
			`(document.querySelector("[data-testid=event-repeat]") || {}).textContent || ""`)); !strings.HasPrefix(r, wantRepeat) {
			t.Errorf("%s: the folded line says %q, want %q…", lang, r, wantRepeat)
		}
		// The technical details are closed until asked for.
		b.do("open the technical details", b.click(`[data-testid=event-tech] summary`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=event-tech][open] .ev-call`)))
		b.shot(lang + "-detail-technical")
		if n := get(b, "the audit fields", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=audit-detail] dt").length`)); n == 0 {
			t.Errorf("%s: the audit details are not labelled fields", lang)
		}
	}

	// The confirm link's copy button: there with script, and it copies.
	b.do("open the waiting onboarding", chromedp.Navigate(e.web.URL+"/lang/nb?next="+url.QueryEscape("/admin/onboardings/"+pending.ID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-url]`)))
	b.waitUntil("the copy button", `(() => { const c = document.querySelector("[data-testid=copy-confirm-url]"); return !!c && c.offsetParent !== null; })()`)
	b.do("copy the link", b.click(`[data-testid=copy-confirm-url]`))
	b.waitUntil("the copied message", `document.querySelector("[data-testid=copy-confirm-url-status]").textContent.includes("Kopiert")`)
	b.shot("nb-detail-copied")
	b.noConsoleErrors()

	// The list on a phone: status and name first, on the screen.
	p := newTab(t, chromium, screenshotDir(t), flow{product: "timeline-390", width: 390, height: 844, phone: true})
	signIn(p)
	for _, lang := range []string{"nb", "en"} {
		p.do("open the list in "+lang, chromedp.Navigate(e.web.URL+"/lang/"+lang+"?next=/admin/"),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=`+lang+`] [data-testid=onboardings]`)))
		p.shot(lang + "-list") // no sideways scrolling of the page, axe at 0
		off := get(p, "the rows' status and name", chromedp.Evaluate[[]string](`(() => {
			const out = [], w = innerWidth;
			const heads = [...document.querySelectorAll("[data-testid=onboardings] thead th")].map(th => th.textContent.trim());
			for (const tr of document.querySelectorAll("[data-testid=onboarding-row]")) {
				const status = tr.querySelector("[data-testid=row-status] .ds-tag"), name = tr.querySelector("[data-testid=org-name]");
				for (const [what, el] of [["status", status], ["name", name]]) {
					const r = el.getBoundingClientRect();
					if (r.left < 0 || r.right > w) out.push(what + " of " + tr.dataset.id + " at " + r.left + "–" + r.right + " in " + w + " px");
				}
			}
			if (heads.length < 2) out.push("no header");
			else out.push("heads:" + heads[0] + "|" + heads[1]);
			return out;
		})()`))
		wantHeads := map[string]string{"nb": "heads:Status|Navn", "en": "heads:Status|Name"}[lang]
		for _, s := range off {
			if strings.HasPrefix(s, "heads:") {
				if !strings.HasPrefix(s, wantHeads) {
					t.Errorf("%s: the list's first columns are %q, want %q", lang, s, wantHeads)
				}
				continue
			}
			t.Errorf("%s at 390 px: off the screen: %s", lang, s)
		}
	}
	p.noConsoleErrors()
}
