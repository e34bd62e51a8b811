package handlers

import (
	"regexp"
	"testing"

	"github.com/onboard-altinn/onboard/internal/config"
)

// TestBrandCSS checks that the vendor's colours become Designsystemet's
// accent tokens, every one of them, and that each pair a page draws with
// them keeps WCAG 2.1 AA contrast, for colours at the edge of what the
// config accepts too.
func TestBrandCSS(t *testing.T) {
	t.Parallel()
	tokenRE := regexp.MustCompile(`--ds-color-accent-([a-z-]+): (#[0-9a-f]{6});`)
	tests := []struct {
		name, primary, accent string
	}{
		{name: "plum", primary: "#7a1f5c", accent: "#4d1139"},
		{name: "Altinn blue", primary: "#0062ba", accent: "#004f96"},
		{name: "grey at the contrast limit", primary: "#767676", accent: "#5e5e5e"},
		{name: "green, accent derived", primary: "#0b7a3e", accent: "#096231"},
		{name: "accent lighter than primary", primary: "#1a1a1a", accent: "#0b5fa5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []string{tt.primary, tt.accent} {
				if config.ContrastWithWhite(c) < config.MinBrandContrast {
					t.Fatalf("%s: the config would refuse it; pick a test colour it accepts", c)
				}
			}
			css := string(brandCSS(tt.primary, tt.accent))
			if !regexp.MustCompile(`(?m)^:root, \[data-color-scheme\] \{$`).MatchString(css) {
				t.Errorf("the tokens must be set where the theme sets them (:root and [data-color-scheme]):\n%s", css)
			}
			tok := map[string]string{}
			for _, m := range tokenRE.FindAllStringSubmatch(css, -1) {
				tok[m[1]] = m[2]
			}
			// The whole accent scale of the theme, so nothing stays Altinn blue.
			for _, name := range []string{"background-default", "background-tinted", "surface-default", "surface-tinted",
				"surface-hover", "surface-active", "border-subtle", "border-default", "border-strong", "text-subtle",
				"text-default", "base-default", "base-hover", "base-active", "base-contrast-subtle", "base-contrast-default"} {
				if tok[name] == "" {
					t.Errorf("no --ds-color-accent-%s in\n%s", name, css)
				}
			}
			if tok["base-default"] != tt.primary || tok["base-hover"] != tt.accent {
				t.Errorf("base %s, hover %s; want the primary %s and the accent %s", tok["base-default"], tok["base-hover"], tt.primary, tt.accent)
			}
			for _, p := range []struct {
				fg, bg string
				min    float64
			}{
				{"base-contrast-default", "base-default", 4.5}, // a primary button's text
				{"base-contrast-default", "base-hover", 4.5},
				{"base-contrast-default", "base-active", 4.5},
				{"text-subtle", "background-default", 4.5}, // links, secondary buttons
				{"text-subtle", "surface-tinted", 4.5},
				{"text-subtle", "surface-hover", 4.5}, // a secondary button under the mouse
				{"text-subtle", "surface-active", 4.5},
				{"text-default", "surface-active", 7},
				{"border-default", "background-default", 3}, // WCAG 1.4.11, non-text
			} {
				if r := config.Contrast(tok[p.fg], tok[p.bg]); r < p.min {
					t.Errorf("%s %s on %s %s: contrast %.2f, want at least %.1f", p.fg, tok[p.fg], p.bg, tok[p.bg], r, p.min)
				}
			}
		})
	}
}
