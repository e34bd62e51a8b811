package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/config"
)

const brandLogoSVG = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><rect width="40" height="20" fill="#123456"/></svg>`

var (
	brandLogoRE = regexp.MustCompile(`<img src="(/brand/[0-9a-f]{12}/logo\.svg)"`)
	brandCSSRE  = regexp.MustCompile(`<link rel="stylesheet" href="(/brand/[0-9a-f]{12}/brand\.css)"`)
)

// The vendor's name, logo, colours and support contact are on every
// customer page, and the logo and colours are served from here under
// content-hashed, long-cached URLs.
func TestVendorBrandingOnCustomerPages(t *testing.T) {
	t.Parallel()
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(brandLogoSVG), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, map[string]string{
		"ONBOARD_BRAND_NAME":          "SmartCloud Regnskap",
		"ONBOARD_BRAND_LOGO_FILE":     logo,
		"ONBOARD_BRAND_PRIMARY_COLOR": "#7A1F5C",
		"ONBOARD_BRAND_ACCENT_COLOR":  "#4d1139",
		"ONBOARD_SUPPORT_EMAIL":       "support@smartcloud.example",
		"ONBOARD_SUPPORT_PHONE":       "+47 22 00 00 00",
		"ONBOARD_SUPPORT_URL":         "https://smartcloud.example/hjelp",
	})
	b := e.browser()

	// The status page of a started onboarding (waiting at Altinn).
	if res := e.submitAndConfirm(b, "standard", org); res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", res.status)
	}
	ref := e.onboardingForOrg(org).Ref
	pages := map[string]struct {
		path    string
		status  int
		contact bool // the page says "contact us" with the contact under it
	}{
		"start":  {"/onboard/standard", http.StatusOK, false},
		"org":    {"/onboard/standard/org", http.StatusOK, false},
		"status": {"/status/" + ref, http.StatusOK, false},
		"error":  {"/onboard/no-such-product", http.StatusNotFound, true},
	}
	var logoURL, cssURL string
	for name, pg := range pages {
		res := b.get(e.web.URL + pg.path)
		if res.status != pg.status {
			t.Fatalf("%s page: %d, want %d\n%s", name, res.status, pg.status, res.body)
		}
		for _, want := range []string{
			"SmartCloud Regnskap</span>", "· SmartCloud Regnskap</title>",
			`data-testid="support"`, `href="mailto:support@smartcloud.example"`,
			`href="tel:+4722000000"`, "+47 22 00 00 00", `href="https://smartcloud.example/hjelp"`,
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		if strings.Contains(res.body, "Koble til Altinn</span>") {
			t.Errorf("%s page still shows the default product name", name)
		}
		if pg.contact != strings.Contains(res.body, `data-testid="contact-us"`) {
			t.Errorf("%s page: contact-us block present = %v, want %v", name, !pg.contact, pg.contact)
		}
		m := brandLogoRE.FindStringSubmatch(res.body)
		c := brandCSSRE.FindStringSubmatch(res.body)
		if m == nil || c == nil {
			t.Fatalf("%s page lacks the brand logo or stylesheet:\n%s", name, res.body)
		}
		if i, j := strings.Index(res.body, "/style.css"), strings.Index(res.body, c[1]); i < 0 || j < i {
			t.Errorf("%s page: brand.css must be linked after style.css", name)
		}
		logoURL, cssURL = m[1], c[1]
		if strings.Contains(res.body, "style=") {
			t.Errorf("%s page has an inline style", name)
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") || !strings.Contains(csp, "style-src 'self';") {
			t.Errorf("%s page: CSP %q", name, csp)
		}
	}

	lg := b.get(e.web.URL + logoURL)
	if lg.status != http.StatusOK || lg.body != brandLogoSVG || lg.header.Get("Content-Type") != "image/svg+xml" ||
		lg.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("logo: %d %q %q", lg.status, lg.header.Get("Content-Type"), lg.header.Get("Cache-Control"))
	}
	css := b.get(e.web.URL + cssURL)
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") ||
		css.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.Contains(css.body, "--ds-color-accent-base-default: #7a1f5c;") ||
		!strings.Contains(css.body, "--ds-color-accent-base-hover: #4d1139;") ||
		!strings.Contains(css.body, "--ds-color-accent-base-contrast-default: #ffffff;") {
		t.Fatalf("brand.css: %d %q %q\n%s", css.status, css.header.Get("Content-Type"), css.header.Get("Cache-Control"), css.body)
	}
	if css.header.Get("Set-Cookie") != "" {
		t.Error("a cached brand file must not set a cookie")
	}
	// A hash that does not match the content is a 404, never stale content.
	for _, u := range []string{"/brand/000000000000/brand.css", "/brand/000000000000/logo.svg", strings.Replace(logoURL, "logo.svg", "logo.png", 1)} {
		if res := b.get(e.web.URL + u); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", u, res.status)
		}
	}
}

// Without branding the pages keep the service's own look: no brand.css, the
// default name, and in the simulator the example support contact.
func TestNoBrandingKeepsDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res := e.browser().get(e.web.URL + "/onboard/standard")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Koble til Altinn</span>") ||
		strings.Contains(res.body, "/brand/") || !strings.Contains(res.body, `data-testid="support"`) ||
		!strings.Contains(res.body, config.SimSupportEmail) {
		t.Fatalf("default look changed:\n%s", res.body)
	}
}
