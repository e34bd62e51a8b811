package handlers

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/static"
)

// New builds the Echo server with every route and middleware.
func New(h *Handler) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	if h.BehindProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}

	e.Use(h.observeRequests()) // ops.go: request metrics, outermost so the status is the one sent
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(h.requestLogger())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            hstsAge(h.Dev),
		ContentSecurityPolicy: h.csp(),
		ReferrerPolicy:        "same-origin",
	}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: 45 * time.Second}))
	// Every body is small but a campaign's upload, which gets a limit of
	// its own, and only from a browser with a staff session cookie (whether
	// it is live is checked later); both come before anything reads the body
	// (CSRF does).
	isUpload := func(c echo.Context) bool {
		if c.Request().Method != http.MethodPost || c.Path() != campaignsPath {
			return false
		}
		_, err := c.Cookie(staffCookie)
		return err == nil
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "16K", Skipper: isUpload}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxUpload,
		Skipper: func(c echo.Context) bool { return !isUpload(c) }}))
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf",
		CookieName:     "onboard_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   !h.Dev,
		CookieSameSite: http.SameSiteLaxMode,
		Skipper: func(c echo.Context) bool {
			return strings.HasPrefix(c.Path(), static.Prefix) || strings.HasPrefix(c.Path(), BrandPrefix) || opsPaths[c.Path()] || isAPI(c)
		},
	}))

	submitLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(h.SubmitPerMinute / 60), Burst: max(3, int(h.SubmitPerMinute/4)), ExpiresIn: 5 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error { return echo.ErrTooManyRequests },
	})

	// Status pages are reloaded by people waiting; a generous limit still
	// stops one address from hammering them.
	statusLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(1), Burst: 30, ExpiresIn: 5 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error { return echo.ErrTooManyRequests },
	})

	e.GET("/", h.home)
	e.GET("/start", h.handoffStart, submitLimit) // the vendor's signed hand-off
	e.GET("/onboard/:product", h.start)
	e.GET("/onboard/:product/org", h.org)
	e.POST("/onboard/:product/org", h.submit, submitLimit)
	e.GET("/return", h.altinnReturn, submitLimit) // config.ReturnPath: the URL registered at Altinn
	e.GET("/status/:ref", h.status, statusLimit)
	e.POST("/status/:ref/retry", h.retry, submitLimit)
	e.GET("/change/:ref", h.changeStatus, statusLimit) // changes.go: a change request's outcome
	e.GET("/lang/:lang", h.setLang)
	h.adminRoutes(e)
	h.apiRoutes(e)                                                                         // api.go: the JSON API for the vendor's product, keyed, no cookies
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") }) // the process is up
	e.GET("/readyz", h.readyz)                                                             // and can do its work
	e.GET("/metrics", h.metrics)
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))
	e.GET(BrandPrefix+":hash/:name", h.brandFile) // brand.go: the vendor's logo and colours
	return e
}

// csp allows no inline script at all, and lets forms lead only here and to
// Altinn's confirm hosts (a 303 after a POST is checked against form-action).
func (h *Handler) csp() string {
	formAction := []string{"'self'"}
	for _, host := range h.ConfirmHosts {
		formAction = append(formAction, "https://"+host)
		if hn, _, err := net.SplitHostPort(host); (err == nil && onboarding.IsLoopback(hn)) || onboarding.IsLoopback(host) {
			formAction = append(formAction, "http://"+host)
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(formAction, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

func hstsAge(dev bool) int {
	if dev {
		return 0
	}
	return 31536000
}
