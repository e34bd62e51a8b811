package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/views"
)

// BrandPrefix is where the vendor's logo and colour stylesheet are served,
// under content-hashed URLs like the static files.
const BrandPrefix = "/brand/"

// brandAssets are the vendor's logo and generated stylesheet, made once.
type brandAssets struct {
	cfg      config.Brand
	css      []byte
	cssHash  string
	logoName string // "logo.svg" or "logo.png"; empty without a logo
	logoHash string
}

func newBrandAssets(b config.Brand) *brandAssets {
	a := &brandAssets{cfg: b}
	if b.Primary != "" {
		a.css = fmt.Appendf(nil, ":root { --brand: %s; --brand-dark: %s; }\n", b.Primary, b.Accent)
		a.cssHash = shortHash(a.css)
	}
	if len(b.Logo) > 0 {
		a.logoName = "logo.svg"
		if b.LogoType == "image/png" {
			a.logoName = "logo.png"
		}
		a.logoHash = shortHash(b.Logo)
	}
	return a
}

func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// CSSURL is the generated stylesheet's URL, empty when no colours are set.
func (a *brandAssets) CSSURL() string {
	if a.css == nil {
		return ""
	}
	return BrandPrefix + a.cssHash + "/brand.css"
}

// LogoURL is the vendor's logo's URL, empty when none is set.
func (a *brandAssets) LogoURL() string {
	if a.logoName == "" {
		return ""
	}
	return BrandPrefix + a.logoHash + "/" + a.logoName
}

func (h *Handler) brand() *brandAssets {
	h.brandOnce.Do(func() { h.brandAssets = newBrandAssets(h.Brand) })
	return h.brandAssets
}

// brandFile serves BrandPrefix+hash+"/"+name. A hash that does not match
// the current content is a 404, as for static files.
func (h *Handler) brandFile(c echo.Context) error {
	a := h.brand()
	hash, name := c.Param("hash"), c.Param("name")
	var body []byte
	var typ string
	switch {
	case name == "brand.css" && a.css != nil && hash == a.cssHash:
		body, typ = a.css, "text/css; charset=utf-8"
	case name != "" && name == a.logoName && hash == a.logoHash:
		body, typ = a.cfg.Logo, a.cfg.LogoType
	default:
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, typ, body)
}

// support is the vendor's support contact for the page footer.
func (h *Handler) support() views.Support {
	return views.Support{Email: h.Brand.SupportEmail, Phone: h.Brand.SupportPhone, URL: h.Brand.SupportURL}
}
