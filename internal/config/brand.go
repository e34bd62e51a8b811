package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLogoBytes is the largest ONBOARD_BRAND_LOGO_FILE accepted.
const MaxLogoBytes = 256 << 10

// MinBrandContrast is WCAG 2.1 AA's contrast for normal text: the brand
// colours are backgrounds under white button text.
const MinBrandContrast = 4.5

// Brand is the vendor's look on every customer page. Empty fields keep the
// service's own look.
type Brand struct {
	Name         string // ONBOARD_BRAND_NAME; empty: "Koble til Altinn" in the page's language
	Logo         []byte // ONBOARD_BRAND_LOGO_FILE, read at start
	LogoType     string // "image/svg+xml" or "image/png"
	Primary      string // ONBOARD_BRAND_PRIMARY_COLOR, #rrggbb lower case
	Accent       string // ONBOARD_BRAND_ACCENT_COLOR, #rrggbb (hover/pressed); derived from Primary when empty
	SupportEmail string // ONBOARD_SUPPORT_EMAIL
	SupportPhone string // ONBOARD_SUPPORT_PHONE
	SupportURL   string // ONBOARD_SUPPORT_URL
}

var (
	hexColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	phoneRE    = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{2,24}$`)
	pngMagic   = []byte("\x89PNG\r\n\x1a\n")
)

func loadBrand(get func(k, def string) string) (Brand, []error) {
	var errs []error
	b := Brand{
		Name:         get("ONBOARD_BRAND_NAME", ""),
		SupportEmail: get("ONBOARD_SUPPORT_EMAIL", ""),
		SupportPhone: get("ONBOARD_SUPPORT_PHONE", ""),
		SupportURL:   get("ONBOARD_SUPPORT_URL", ""),
	}
	if utf8.RuneCountInString(b.Name) > 60 {
		errs = append(errs, errors.New("ONBOARD_BRAND_NAME must be at most 60 characters"))
	}
	for _, c := range []struct {
		name string
		dst  *string
	}{{"ONBOARD_BRAND_PRIMARY_COLOR", &b.Primary}, {"ONBOARD_BRAND_ACCENT_COLOR", &b.Accent}} {
		v := get(c.name, "")
		if v == "" {
			continue
		}
		if !hexColorRE.MatchString(v) {
			errs = append(errs, fmt.Errorf("%s %q must be a hex colour #rrggbb, such as #0b5fa5", c.name, v))
			continue
		}
		v = strings.ToLower(v)
		if r := ContrastWithWhite(v); r < MinBrandContrast {
			errs = append(errs, fmt.Errorf("%s %s has contrast %.2f:1 with white text, below the %.1f:1 WCAG 2.1 AA needs: choose a darker colour", c.name, v, r, MinBrandContrast))
			continue
		}
		*c.dst = v
	}
	if b.Accent == "" && b.Primary != "" {
		b.Accent = darken(b.Primary, 0.8)
	}
	if f := get("ONBOARD_BRAND_LOGO_FILE", ""); f != "" {
		logo, typ, err := readLogo(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("ONBOARD_BRAND_LOGO_FILE: %w", err))
		}
		b.Logo, b.LogoType = logo, typ
	}
	if b.SupportEmail != "" {
		if a, err := mail.ParseAddress(b.SupportEmail); err != nil || a.Address != b.SupportEmail {
			errs = append(errs, fmt.Errorf("ONBOARD_SUPPORT_EMAIL %q must be a plain address such as support@example.no", b.SupportEmail))
		}
	}
	if b.SupportPhone != "" && !phoneRE.MatchString(b.SupportPhone) {
		errs = append(errs, fmt.Errorf("ONBOARD_SUPPORT_PHONE %q must be a phone number such as +47 22 00 00 00", b.SupportPhone))
	}
	if b.SupportURL != "" {
		if u, err := url.Parse(b.SupportURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			errs = append(errs, fmt.Errorf("ONBOARD_SUPPORT_URL %q must be an absolute http(s) URL", b.SupportURL))
		}
	}
	return b, errs
}

// readLogo reads an SVG or PNG logo of at most MaxLogoBytes.
func readLogo(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLogoBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(b) > MaxLogoBytes {
		return nil, "", fmt.Errorf("%s is larger than %d KiB", path, MaxLogoBytes>>10)
	}
	switch {
	case bytes.HasPrefix(b, pngMagic):
		return b, "image/png", nil
	case isSVG(b):
		if bytes.Contains(bytes.ToLower(b), []byte("<script")) {
			return nil, "", fmt.Errorf("%s is an SVG with a script in it", path)
		}
		return b, "image/svg+xml", nil
	}
	return nil, "", fmt.Errorf("%s is not an SVG or PNG image", path)
}

func isSVG(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	s := strings.ToLower(string(b))
	i := strings.Index(s, "<svg")
	if i < 0 {
		return false
	}
	// Only a prolog, comments, a doctype and white space before <svg.
	head := strings.TrimSpace(s[:i])
	return head == "" || strings.HasPrefix(head, "<?xml") || strings.HasPrefix(head, "<!--") || strings.HasPrefix(head, "<!doctype")
}

// ContrastWithWhite is the WCAG contrast ratio of white on hex (#rrggbb).
func ContrastWithWhite(hex string) float64 {
	l := luminance(hex)
	return 1.05 / (l + 0.05)
}

func channels(hex string) [3]float64 {
	var out [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		out[i] = float64(v)
	}
	return out
}

func luminance(hex string) float64 {
	c := channels(hex)
	var lin [3]float64
	for i, v := range c {
		s := v / 255
		if s <= 0.03928 {
			lin[i] = s / 12.92
		} else {
			lin[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2]
}

func darken(hex string, f float64) string {
	c := channels(hex)
	return fmt.Sprintf("#%02x%02x%02x", int(c[0]*f), int(c[1]*f), int(c[2]*f))
}

// Contrast is the WCAG contrast ratio of two colours (#rrggbb), at least 1.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Mix is the colour t of the way from a to b (#rrggbb): Mix(c, "#ffffff", 0.9)
// is a light tint of c.
func Mix(a, b string, t float64) string {
	ca, cb := channels(a), channels(b)
	var out [3]int
	for i := range 3 {
		out[i] = int(math.Round(ca[i] + (cb[i]-ca[i])*t))
	}
	return fmt.Sprintf("#%02x%02x%02x", out[0], out[1], out[2])
}

// Darken scales a colour's channels by f (0 black … 1 unchanged).
func Darken(hex string, f float64) string { return darken(hex, f) }
