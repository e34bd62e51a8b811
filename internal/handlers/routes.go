package handlers

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/static"
	"github.com/onboard-altinn/onboard/views"
)

// New builds the Echo server: the middleware every request passes, then
// every route (Routes).
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
	e.Use(dropBadRequestID) // requestid.go: a client's X-Request-Id only if 1-64 of [A-Za-z0-9._-], else RequestID makes one
	e.Use(middleware.RequestID())
	e.Use(h.requestLogger())
	e.Use(h.hsts)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ContentSecurityPolicy: h.csp(),
		ReferrerPolicy:        "same-origin",
	}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: 45 * time.Second}))
	// Every body is small but a campaign's upload, which gets a limit of
	// its own, and only from a browser with a live staff session; both come
	// before anything reads the body (CSRF does).
	isUpload := func(c echo.Context) bool {
		if c.Request().Method != http.MethodPost || c.Path() != campaignsPath {
			return false
		}
		// A live session of one who may make campaigns (an operator or
		// an admin), looked up once (staffSession keeps it), not any
		// cookie: a made-up one, or a viewer's, gets the small limit.
		s, err := h.staffSession(c)
		return err == nil && s != nil && s.Staff.Role.AtLeast(domain.RoleOperator)
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "16K", Skipper: isUpload}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxUpload,
		Skipper: func(c echo.Context) bool { return !isUpload(c) }}))
	e.Use(checkText) // input.go: valid UTF-8 without NUL, the one check on the way in
	// csrf.go: the token from the body or X-CSRF-Token only, bound to the
	// staff session, other sites' posts refused. Not for static files,
	// machines (ops) or the API, which has keys and no cookies.
	e.Use(h.csrf(func(c echo.Context) bool {
		return strings.HasPrefix(c.Path(), static.Prefix) || strings.HasPrefix(c.Path(), BrandPrefix) || opsPaths[c.Path()] || isAPI(c)
	}))

	h.Routes(e)
	return e
}

// Routes registers every route the server answers: one function per
// surface, each listing every route of its surface with the route's own
// middleware (rate limits, access checks), so this file is the one hop from
// a URL to its handler. What every request passes (security headers, the
// request timeout, body limits, CSRF) is in New. README.md's route list
// (## Routes) is this table with a line on each route's purpose;
// TestRoutesMatchREADME fails when the two differ.
func (h *Handler) Routes(e *echo.Echo) {
	h.customerRoutes(e)  // the wizard, status pages, hand-off, static files
	h.dashboardRoutes(e) // /admin/: the support dashboard
	h.apiRoutes(e)       // /api/: the JSON API for the vendor's product
	h.opsRoutes(e)       // probes and metrics
}

// customerRoutes are the pages a customer sees (wizard.go, handoff.go,
// changes.go), the language switch, and the files those pages load. None
// needs a session: what a browser may see or do to an onboarding is decided
// by its signed flow cookie (cookies.go). Routes that may call Altinn share
// a per-address limit; status pages, reloaded by people waiting, get a
// generous one of their own.
func (h *Handler) customerRoutes(e *echo.Echo) {
	submitLimit := addressLimit(rate.Limit(h.SubmitPerMinute/60), max(3, int(h.SubmitPerMinute/4)))
	statusLimit := addressLimit(rate.Limit(1), 30)

	e.GET("/", h.home)
	e.GET("/start", h.handoffStart, submitLimit) // handoff.go: the vendor's signed hand-off
	e.GET("/onboard/:product", h.start)
	e.GET("/onboard/:product/org", h.org)
	e.POST("/onboard/:product/org", h.submit)                     // wizard.go: 303 to the form or the confirm page
	e.GET("/onboard/:product/confirm", h.confirmOrg, statusLimit) // "is this the right company?" (Enhetsregisteret)
	e.POST("/onboard/:product/confirm", h.submitConfirmed, submitLimit)
	e.GET("/onboard/:product/known", h.known)     // someone else's organisation: nothing about it
	e.GET("/return", h.altinnReturn, submitLimit) // config.ReturnPath: the URL registered at Altinn
	e.GET("/status/:ref", h.status, statusLimit)
	e.POST("/status/:ref/retry", h.retry, submitLimit)
	e.GET("/change/:ref", h.changeStatus, statusLimit) // changes.go: a change request's outcome
	e.GET("/lang/:lang", h.setLang)
	// clients.go: the accountant logs in with ID-porten and adds the
	// firm's clients to a connected client system (404 without ID-porten).
	e.POST("/clients/:ref/login", h.clientsLogin, submitLimit)
	e.GET(config.IDPortenCallbackPath, h.idportenCallback, submitLimit)
	e.GET("/clients/:ref", h.clientsPage, submitLimit) // reads Altinn's lists
	e.POST("/clients/:ref/add", h.clientsAsk(false), submitLimit)
	e.POST("/clients/:ref/remove", h.clientsAsk(true), submitLimit)
	e.POST("/clients/:ref/logout", h.clientsLogout, submitLimit)
	e.GET("/clients/:ref/progress", h.clientsProgress, statusLimit)
	e.GET(views.MailStopPath+":id", h.mailStop, statusLimit) // mail.go: a message's opt-out link (signed)
	e.POST(views.MailStopPath+":id", h.mailStop, submitLimit)
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))
	e.GET(BrandPrefix+":hash/:name", h.brandFile) // brand.go: the vendor's logo and colours
}

// dashboardRoutes is the support dashboard under /admin/ (admin_*.go).
// Signing in is open; everything else is in the /admin group, which needs a
// viewer's session, and so also guards unknown /admin/… paths before their
// 404. Viewers read; a route that acts adds operator; staff, API keys (a key
// can do whatever the API does) and Setup are admin only, their groups
// guarding unknown paths under them too. Pages offer only what the role
// allows (canAct), but these lines are what the server enforces.
func (h *Handler) dashboardRoutes(e *echo.Echo) {
	operator, admin := h.requireStaff(domain.RoleOperator), h.requireStaff(domain.RoleAdmin)

	e.GET(adminLoginPath, h.adminLoginForm) // admin_auth.go
	e.POST(adminLoginPath, h.adminLogin)
	// A new password with an admin's one-time reset code (admin_account.go),
	// signed out; limited per address, as the code is checked before hashing.
	resetLimit := addressLimit(rate.Limit(1), 20)
	e.GET(views.ResetPath, h.resetForm, resetLimit)
	e.POST(views.ResetPath, h.resetSubmit, resetLimit)

	g := e.Group("/admin", h.requireStaff(domain.RoleViewer))
	g.GET("", redirectTo(adminHomePath))
	g.GET("/", h.onboardingList) // the dashboard home is the onboarding list
	g.POST("/logout", h.adminLogout)
	g.GET("/account/password", h.accountPasswordForm) // admin_account.go: one's own password
	g.POST("/account/password", h.changeOwnPassword)

	// Onboardings (admin_onboardings.go).
	g.GET("/onboardings", h.onboardingList)
	g.GET("/onboardings.csv", h.onboardingCSV)
	g.GET("/onboardings/new", h.newOnboardingForm, operator)
	g.POST("/onboardings/new", h.createOnboarding, operator)
	g.GET("/onboardings/:id", h.withOnboarding(h.onboardingDetail))
	g.POST("/onboardings/:id/refresh", h.withOnboarding(h.refreshOnboarding), operator)
	g.POST("/onboardings/:id/verify", h.withOnboarding(h.verifyOnboarding), operator)
	g.GET("/onboardings/:id/renew", h.withOnboarding(h.confirmRenew), operator)
	g.POST("/onboardings/:id/renew", h.withOnboarding(h.renewOnboarding), operator)
	g.GET("/onboardings/:id/cancel", h.withOnboarding(h.confirmCancel), operator)
	g.POST("/onboardings/:id/cancel", h.withOnboarding(h.cancelOnboarding), operator)
	g.GET("/onboardings/:id/testconnection", h.withOnboarding(h.confirmTestConnection), operator)
	g.POST("/onboardings/:id/testconnection", h.withOnboarding(h.testConnection), operator)
	g.POST("/onboardings/:id/webhooks/:delivery/redeliver", h.withOnboarding(h.redeliverWebhook), operator) // admin_webhooks.go

	// Change requests (admin_changes.go).
	g.GET("/changes", h.changesPage)
	g.GET("/onboardings/:id/change", h.withOnboarding(h.confirmChange), operator)
	g.POST("/onboardings/:id/change", h.withOnboarding(h.requestChange), operator)
	g.POST("/onboardings/:id/changes/:cr/refresh", h.withOnboarding(h.withChange(h.refreshChange)), operator)
	g.GET("/onboardings/:id/changes/:cr/cancel", h.withOnboarding(h.withChange(h.cancelChange)), operator)
	g.POST("/onboardings/:id/changes/:cr/cancel", h.withOnboarding(h.withChange(h.cancelChange)), operator)

	// The funnel and the system users at Altinn (admin_insights.go).
	g.GET("/funnel", h.adminFunnel)
	g.GET("/systemusers", h.adminSystemUsers)
	g.POST("/systemusers/:id/import", h.adminImportSystemUser, operator)

	// Bulk campaigns (admin_campaigns.go), when the service has them.
	if h.Campaigns != nil && h.CampaignStore != nil {
		g.GET("/campaigns", h.campaignList)
		g.GET("/campaigns/new", h.newCampaignForm, operator)
		g.POST("/campaigns", h.createCampaign, operator)
		g.POST("/campaigns/change", h.createChangeCampaign, operator)
		g.GET("/campaigns/:id", h.withCampaign(h.campaignDetail))
		g.GET("/campaigns/:id/progress", h.withCampaign(h.campaignProgress))
		g.GET("/campaigns/:id/links.csv", h.withCampaign(h.campaignLinks))
		g.POST("/campaigns/:id/:action", h.withCampaign(h.campaignAct), operator)
	}

	// Support's one place for problems (admin_problems.go).
	g.GET("/problems", h.problemsPage)
	g.POST("/problems/webhooks/:delivery/redeliver", h.redeliverProblem, operator)

	// Staff accounts (admin_staff.go): admins only.
	staff := g.Group("/staff", admin)
	staff.GET("", h.staffList)
	staff.POST("", h.addStaff)
	staff.POST("/:id/role", h.withStaff(h.setStaffRole))
	staff.GET("/:id/disable", h.withStaff(h.confirmDisableStaff))
	staff.POST("/:id/disable", h.withStaff(h.disableStaff))
	staff.GET("/:id/reset", h.withStaff(h.confirmResetStaff)) // admin_account.go
	staff.POST("/:id/reset", h.withStaff(h.resetStaffPassword))
	staff.POST("/:id/unlock", h.withStaff(h.unlockStaffSignIn)) // clears the sign-in throttle

	// API keys (admin_apikeys.go): admins only.
	keys := g.Group("/apikeys", admin)
	keys.GET("", h.apiKeyList)
	keys.POST("", h.addAPIKey)
	keys.POST("/:id/revoke", h.revokeAPIKey)

	g.GET("/setup", h.adminSetup, admin) // admin_setup.go: the set-up checks

	// Email to customers (mail.go): every message, and the pause (admins);
	// 404 when the service makes no mail.
	g.GET("/mail", h.mailAdmin)
	g.POST("/mail/pause", h.mailPause, admin)
}

// apiRoutes is the JSON API for the vendor's product (api.go): its OpenAPI
// document, open to all, and /api/v1, where every call needs a live API key
// (Authorization: Bearer), looked up on every request so a revoked key stops
// working at once, and each key gets its own rate limit. No cookies and no
// CSRF; errors are problem+json.
func (h *Handler) apiRoutes(e *echo.Echo) {
	e.GET("/api/openapi.json", openAPIDocument)

	g := e.Group("/api/v1", h.requireAPIKey, apiKeyLimit())
	g.POST("/onboardings", h.apiCreate)
	g.GET("/onboardings", h.apiList)
	g.GET("/onboardings/:id", h.apiGet)
	g.GET("/onboardings/:id/clients", h.apiClients) // api_clients.go
}

// opsRoutes are for machines (ops.go): plain text, no cookies, no CSRF
// (opsPaths). /metrics wants its bearer token when one is configured.
func (h *Handler) opsRoutes(e *echo.Echo) {
	e.GET("/healthz", healthz) // the process is up
	e.GET("/readyz", h.readyz) // and can do its work
	e.GET("/metrics", h.metrics)
}

// addressLimit lets each client address make r requests a second, in
// bursts of burst; beyond that it answers 429.
func addressLimit(r rate.Limit, burst int) echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: r, Burst: burst, ExpiresIn: forgetAfter(r, burst),
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error { return echo.ErrTooManyRequests },
	})
}

// forgetAfter is how long a rate limiter keeps an address (or key) it has
// not seen: until its bucket would be full again, and at least a minute. A
// new visitor starts with a full bucket, so forgetting one whose bucket has
// refilled changes no answer; keeping them longer only grows the limiter's
// map with every address seen (every customer is one), which a Go map never
// gives back (bench/wizard -soak, each customer at an address of its own,
// grew with them).
func forgetAfter(r rate.Limit, burst int) time.Duration {
	if r <= 0 {
		return 5 * time.Minute // a bucket that never refills: as before
	}
	return max(time.Duration(float64(burst)/float64(r)*float64(time.Second)), time.Minute)
}

// apiKeyLimit lets each API key make 10 requests a second, in bursts of
// 100 (requests without a key count by address); beyond that it answers a
// problem+json 429 with Retry-After.
func apiKeyLimit() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(10), Burst: 100, ExpiresIn: forgetAfter(10, 100),
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) {
			if k, ok := c.Get(apiKeyCtx).(*db.APIKey); ok {
				return k.Prefix, nil
			}
			return c.RealIP(), nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return problem(http.StatusTooManyRequests, "too many requests for this API key")
		},
	})
}

// redirectTo answers every request with a 303 to path.
func redirectTo(path string) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, path) }
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
	// The accountant's login posts, then is sent on to ID-porten (clients.go).
	if u, err := url.Parse(h.IDPortenIssuer); h.IDPortenIssuer != "" && err == nil && u.Host != "" {
		if o := u.Scheme + "://" + u.Host; !slices.Contains(formAction, o) {
			formAction = append(formAction, o)
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(formAction, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

// hsts sends Strict-Transport-Security on every answer outside dev, where
// the public URL is https: whatever the request came in on, since the
// TLS-terminating proxy in front may not say (X-Forwarded-Proto), and a
// browser ignores it over plain http anyway. (Echo's Secure middleware sends
// it only for a request it sees as https.)
func (h *Handler) hsts(next echo.HandlerFunc) echo.HandlerFunc {
	if h.Dev {
		return next
	}
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
		return next(c)
	}
}
