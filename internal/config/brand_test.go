package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrandSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	if err := os.WriteFile(png, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, map[string]string{
		"ONBOARD_BRAND_NAME": "SmartCloud", "ONBOARD_BRAND_LOGO_FILE": png,
		"ONBOARD_BRAND_PRIMARY_COLOR": "#0B5FA5",
		"ONBOARD_SUPPORT_EMAIL":       "hjelp@example.no", "ONBOARD_SUPPORT_PHONE": "+47 22 00 00 00",
		"ONBOARD_SUPPORT_URL": "https://example.no/hjelp",
	})
	if err != nil {
		t.Fatal(err)
	}
	b := c.Brand
	if b.Name != "SmartCloud" || b.LogoType != "image/png" || b.Primary != "#0b5fa5" || b.Accent != "#084c84" ||
		b.SupportEmail != "hjelp@example.no" || b.SupportPhone != "+47 22 00 00 00" || b.SupportURL != "https://example.no/hjelp" {
		t.Fatalf("brand: %+v", b)
	}
	if r := ContrastWithWhite(b.Accent); r < MinBrandContrast {
		t.Fatalf("derived accent %s has contrast %.2f", b.Accent, r)
	}
}

func TestInvalidBrandSettingsAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.svg", append([]byte(`<svg xmlns="http://www.w3.org/2000/svg">`), bytes.Repeat([]byte(" "), MaxLogoBytes)...))
	jpeg := write("logo.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
	text := write("logo.svg", []byte("hello, not an image"))
	script := write("evil.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"named colour", map[string]string{"ONBOARD_BRAND_PRIMARY_COLOR": "blue"}, `ONBOARD_BRAND_PRIMARY_COLOR "blue" must be a hex colour #rrggbb`},
		{"short hex", map[string]string{"ONBOARD_BRAND_PRIMARY_COLOR": "#05a"}, "must be a hex colour #rrggbb"},
		{"css injection", map[string]string{"ONBOARD_BRAND_ACCENT_COLOR": "#000000;} body{display:none"}, "ONBOARD_BRAND_ACCENT_COLOR"},
		{"low contrast primary", map[string]string{"ONBOARD_BRAND_PRIMARY_COLOR": "#7fb3e0"}, "ONBOARD_BRAND_PRIMARY_COLOR #7fb3e0 has contrast 2.23:1"},
		{"low contrast accent", map[string]string{"ONBOARD_BRAND_ACCENT_COLOR": "#ffcc00"}, "below the 4.5:1 WCAG 2.1 AA needs"},
		{"oversize logo", map[string]string{"ONBOARD_BRAND_LOGO_FILE": big}, "is larger than 256 KiB"},
		{"jpeg logo", map[string]string{"ONBOARD_BRAND_LOGO_FILE": jpeg}, "is not an SVG or PNG image"},
		{"text logo", map[string]string{"ONBOARD_BRAND_LOGO_FILE": text}, "is not an SVG or PNG image"},
		{"svg with script", map[string]string{"ONBOARD_BRAND_LOGO_FILE": script}, "SVG with a script"},
		{"missing logo", map[string]string{"ONBOARD_BRAND_LOGO_FILE": filepath.Join(dir, "nope.svg")}, "ONBOARD_BRAND_LOGO_FILE"},
		{"bad email", map[string]string{"ONBOARD_SUPPORT_EMAIL": "Support <a@b.no>"}, "ONBOARD_SUPPORT_EMAIL"},
		{"bad phone", map[string]string{"ONBOARD_SUPPORT_PHONE": "call us"}, "ONBOARD_SUPPORT_PHONE"},
		{"external javascript url", map[string]string{"ONBOARD_SUPPORT_URL": "javascript:alert(1)"}, "ONBOARD_SUPPORT_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
