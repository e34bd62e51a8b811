package app_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// dsProbe reads what Designsystemet does to a page: whether its stylesheets
// and the Altinn theme loaded, and the colours a primary button and a link
// are drawn in.
const dsProbe = `(() => {
	const css = [...document.styleSheets].map(s => s.href || "");
	const style = getComputedStyle(document.body);
	return {
		components: css.some(h => h.endsWith("/designsystemet/index.css")),
		theme: css.some(h => h.endsWith("/designsystemet/altinn.css")),
		accent: style.getPropertyValue("--ds-color-accent-base-default").trim().toLowerCase(),
		scheme: document.body.dataset.colorScheme || "",
	};
})()`

type dsState struct {
	Components, Theme bool
	Accent, Scheme    string
}

// TestBrowserDesignsystemetPhone walks the dashboard and the customer's
// pages at a phone's 390 px in Designsystemet's look: every page loads the
// components and the Altinn theme in the light scheme, nothing lies off the
// screen (a table scrolls in its own box), axe finds nothing (shot), and each
// is saved as screenshots/ds-390-*.png.
func TestBrowserDesignsystemetPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleAdmin))
	e.dashSeed(dashRow{orgNo: org, kind: "standard", status: string(domain.StatusConnected), created: time.Now().Add(-time.Hour)})
	pending := e.dashSeed(dashRow{orgNo: "310000019", kind: "standard", status: string(domain.StatusPending), created: time.Now()})

	b := newTab(t, chromium, screenshotDir(t), flow{product: "ds-390", width: 390, height: 844, phone: true})
	b.prefix = "ds-390"
	b.do("sign in", chromedp.Navigate(e.web.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=email]`), "olga@example.com"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), staffPassword),
		b.click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=onboardings]`)))
	for _, p := range []struct{ name, lang, path string }{
		{"admin-list", "nb", "/admin/"},
		{"admin-detail", "nb", "/admin/onboardings/" + pending.id},
		{"admin-funnel", "en", "/admin/funnel"},
		{"admin-systemusers", "nb", "/admin/systemusers"},
		{"admin-staff", "nb", "/admin/staff"},
		{"admin-setup", "en", "/admin/setup"},
		{"start", "nn", "/onboard/standard"},
		{"org", "en", "/onboard/standard/org"},
	} {
		b.do("open "+p.path, chromedp.Navigate(e.web.URL+"/lang/"+p.lang+"?next="+url.QueryEscape(p.path)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=`+p.lang+`] main`)))
		b.shot(p.lang + "-" + p.name)
		s := get(b, "Designsystemet on "+p.path, chromedp.Evaluate[dsState](dsProbe))
		if !s.Components || !s.Theme || s.Scheme != "light" {
			t.Errorf("%s: Designsystemet's components loaded %v, the Altinn theme %v, colour scheme %q; want both, light", p.path, s.Components, s.Theme, s.Scheme)
		}
		if s.Accent != "#0062ba" { // the Altinn theme's accent, no brand colours set
			t.Errorf("%s: the accent is %q, want the Altinn theme's #0062ba", p.path, s.Accent)
		}
	}
	b.noConsoleErrors()
}

// TestBrowserBrandColours checks the vendor's colours reach what the
// customer sees: brand.css overrides Designsystemet's accent tokens, so the
// primary button is drawn in ONBOARD_BRAND_PRIMARY_COLOR with white text,
// and the header names the vendor beside the product.
func TestBrowserBrandColours(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(brandLogoSVG), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, map[string]string{
		"ONBOARD_VENDOR_NAME":         "Regnskap Vest",
		"ONBOARD_BRAND_NAME":          "Lønn og faktura",
		"ONBOARD_BRAND_LOGO_FILE":     logo,
		"ONBOARD_BRAND_PRIMARY_COLOR": "#7a1f5c",
		"ONBOARD_BRAND_ACCENT_COLOR":  "#4d1139",
	})
	b := newTab(t, chromium, screenshotDir(t), flow{product: "ds-brand", width: 1280, height: 900})
	b.prefix = "ds-brand"
	b.do("open the start page", chromedp.Navigate(e.web.URL+"/onboard/standard"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=start]`)))
	b.shot("start")
	s := get(b, "Designsystemet", chromedp.Evaluate[dsState](dsProbe))
	if s.Accent != "#7a1f5c" {
		t.Errorf("the accent token is %q, want the brand's #7a1f5c", s.Accent)
	}
	colours := get(b, "the start button's colours", chromedp.Evaluate[[]string](
		`(() => { const s = getComputedStyle(document.querySelector("[data-testid=start]")); return [s.backgroundColor, s.color]; })()`))
	if len(colours) != 2 || colours[0] != "rgb(122, 31, 92)" || colours[1] != "rgb(255, 255, 255)" {
		t.Errorf("the start button is drawn %v, want white on the brand's rgb(122, 31, 92)", colours)
	}
	b.wantText("[data-testid=vendor]", "Regnskap Vest")
	b.wantText("[data-testid=brand]", "Lønn og faktura")
	b.noConsoleErrors()
}
