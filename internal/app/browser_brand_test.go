package app_test

import (
	"os"
	"path/filepath"
	"testing"
)

// The wizard in the vendor's look, in a 320 px panel (the narrowest a
// vendor may embed it in, and a small phone): every step is checked for
// sideways scrolling, broken images and WCAG 2.1 AA (shot), and saved as
// screenshots/branded-320-*.png.
func TestBrowserBrandedNarrow(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	t.Parallel()
	chromium := chromiumPath(t)
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(brandLogoSVG), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, map[string]string{ // first, so its servers outlive the browser
		"ONBOARD_BRAND_NAME":          "SmartCloud Regnskap og Lønn",
		"ONBOARD_BRAND_LOGO_FILE":     logo,
		"ONBOARD_BRAND_PRIMARY_COLOR": "#7a1f5c",
		"ONBOARD_SUPPORT_EMAIL":       "kundeservice-regnskap@smartcloud.example",
		"ONBOARD_SUPPORT_PHONE":       "+47 22 00 00 00",
		"ONBOARD_SUPPORT_URL":         "https://smartcloud.example/hjelp",
	})
	f := flow{product: "standard", width: 320, height: 640, phone: true}
	b := newTab(t, chromium, screenshotDir(t), f)
	b.prefix = "branded-320"
	walkWizard(t, b, e, f)
}
