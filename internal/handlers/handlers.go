// Package handlers serves the customer wizard over HTTP. Handlers are methods
// on Handler, whose fields are its explicit dependencies; every route is in
// routes.go.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/grants"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/static"
	"github.com/onboard-altinn/onboard/views"
)

// Onboardings is the service layer the wizard and the dashboard use.
type Onboardings interface {
	Start(ctx context.Context, in onboarding.StartInput) (*domain.Onboarding, bool, error)
	Continue(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	Refresh(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	Renew(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	Cancel(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	Import(ctx context.Context, su altinn.SystemUser, cause domain.Cause, actor string) (*domain.Onboarding, error)
	RecordReturn(ctx context.Context, o *domain.Onboarding, withCookie bool) error
	// TestConnection proves a connected onboarding usable (usability).
	TestConnection(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	// Change requests (changes.go, admin_changes.go).
	RequestChange(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) (*domain.ChangeRequest, error)
	RefreshChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error
	CancelChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error
	RecordChangeReturn(ctx context.Context, cr *domain.ChangeRequest, withCookie bool) error
	// Audited runs one staff action and records it (who, from where, what
	// it did) in the transaction of the action's last write.
	Audited(ctx context.Context, a onboarding.Audit, o *domain.Onboarding, run func(ctx context.Context) error) error
	// SystemUsers lists a system's system users at Altinn (bysystem), and
	// FindSystemUser reads one of the products' systems' by id.
	SystemUsers(ctx context.Context, systemID string) ([]altinn.SystemUser, error)
	FindSystemUser(ctx context.Context, id string) (*altinn.SystemUser, error)
}

// Store is the part of the database the handlers read directly.
type Store interface {
	OnboardingByRef(ctx context.Context, ref string) (*domain.Onboarding, error)
	OnboardingByID(ctx context.Context, id string) (*domain.Onboarding, error)
	ChangeRequestByRef(ctx context.Context, ref string) (*domain.ChangeRequest, error)
}

// Handler holds what the wizard's handlers need.
type Handler struct {
	// badKeys holds back addresses that keep sending bad API keys (badkeys.go).
	badKeys badKeys
	// macs are HMAC-SHA256 states under SessionKey for reuse (cookies.go mac).
	macs sync.Pool
	// systemUsers is the system-users page's copy of Altinn's lists
	// (admin_systemusers_cache.go).
	systemUsers systemUserLists

	Onboardings     Onboardings
	Store           Store
	Products        []config.Product
	Vendor          string // the vendor's name as customers know it
	Sim             bool   // running against the simulator: show the test-mode banner
	Dev             bool   // local development: cookies without Secure
	SessionKey      []byte
	ConfirmHosts    []string
	AltinnPortalURL string
	SubmitPerMinute float64
	BehindProxy     bool
	Log             *slog.Logger
	// MinRefreshInterval stops a reload storm on one return link from turning
	// into a storm of Altinn calls.
	MinRefreshInterval time.Duration
	// Staff signs the support staff in to the dashboard under /admin/.
	Staff StaffStore
	// StaffSessionTTL is how long a staff session lasts (default 8h).
	StaffSessionTTL time.Duration
	// StaffResetTTL is how long an admin's password reset code works
	// (default DefaultResetTTL, 24h).
	StaffResetTTL time.Duration
	// Dashboard reads the onboarding list, history and audit log.
	Dashboard DashboardStore
	// Insights reads the funnel and known system users.
	Insights InsightStore
	// Ready reports whether the service can do its work (/readyz): the
	// database answers and its schema is current.
	Ready func(ctx context.Context) error
	// Metrics is served on /metrics (nil: a 404); MetricsToken, when set,
	// is the bearer token a scrape must send. Requests, when set, is told
	// of every request the server answers.
	Metrics      http.Handler
	MetricsToken []byte
	// MetricsOpen serves /metrics without a token; without either it is
	// refused (dev, or ONBOARD_METRICS_OPEN, opens it).
	MetricsOpen bool
	Requests    RequestObserver
	// WebhookLog reads an onboarding's webhook deliveries for its detail
	// page; Redeliver sends one again (nil when no URLs are configured:
	// nothing is offered). See admin_webhooks.go.
	WebhookLog WebhookLog
	Redeliver  Redeliverer
	// Problems reads the Problems page (admin_problems.go).
	Problems ProblemStore
	// Handoff checks the vendor product's signed /start tokens (nil: the
	// hand-off is not configured and /start is a 404). See handoff.go.
	Handoff HandoffVerifier
	// APIKeys serves the JSON API under /api/v1 and the API keys page
	// (api.go, admin_apikeys.go); PublicURL (no trailing slash) makes the
	// API's hand-off URLs absolute.
	APIKeys   APIStore
	PublicURL string
	// Brand is the vendor's look: name, logo, colours and support contact
	// on every customer page (brand.go).
	Brand config.Brand
	// VendorURL is the vendor's product (ONBOARD_VENDOR_URL; "": none),
	// the connected page's "Back to <vendor>" when no hand-off named one.
	VendorURL string
	// Campaigns runs bulk campaigns and CampaignStore reads them (both nil:
	// no campaign pages); a new campaign's pace defaults to
	// CampaignConcurrency at once and CampaignRate a second.
	Campaigns           CampaignService
	CampaignStore       CampaignStore
	CampaignConcurrency int
	CampaignRate        float64
	// Register looks the customer's number up in Enhetsregisteret (nil:
	// no lookup; the wizard goes on without a name). See register.go.
	Register Register
	// Setup runs the set-up checks for the admins' Setup page (nil: no
	// page). See admin_setup.go.
	Setup SetupChecker
	// Grants names rights and access packages in words from Altinn's
	// metadata (nil: the service's own names). See productView.
	Grants *grants.Cache
	// Mail serves the customer's opt-out page and the dashboard's mail
	// page (nil: the service makes no mail). See mail.go.
	Mail        *MailPages
	brandOnce   sync.Once
	brandAssets *brandAssets

	// Clients is the accountant's flow: ID-porten logins and an agent
	// onboarding's clients (nil: the connected page points to Altinn's
	// portal only, and /clients/ is a 404). See clients.go. IDPortenIssuer
	// is where the login's forms lead (the pages' form-action).
	Clients        ClientService
	IDPortenIssuer string
	// ClientRows reads an agent onboarding's clients for the API and the
	// dashboard (api_clients.go; nil: none are listed).
	ClientRows ClientStore
}

func (h *Handler) page(c echo.Context, title string) views.Page {
	lang := langOf(c)
	p := views.Page{
		Lang: lang, Title: title, Sim: h.Sim,
		LangLinks: langLinks(lang, c.Request().URL.RequestURI(), staffPath(c.Request().URL.Path)),
		CSSURL:    static.URL("style.css"), LogoURL: static.URL("logo.svg"), LogoType: "image/svg+xml",
		BrandName: h.Brand.Name, Support: h.support(), Vendor: h.Vendor,
		DesignCSSURLs: []string{static.URL(static.DesignsystemetCSS), static.URL(static.DesignsystemetTheme)},
	}
	if b := h.brand(); b.LogoURL() != "" {
		p.LogoURL, p.LogoType = b.LogoURL(), h.Brand.LogoType
	}
	p.BrandCSSURL = h.brand().CSSURL()
	p.LangURL = switchURL(p.LangLinks)
	return p
}

func (h *Handler) product(id string) (config.Product, bool) {
	return config.FindProduct(h.Products, id)
}

// productView is a product as a page shows it, its rights and packages
// named in words (namedGrants).
func (h *Handler) productView(p config.Product, lang string) views.Product {
	v := views.Product{ID: p.ID, Name: p.DisplayName(lang), Agent: p.Kind == domain.KindAgent, URL: "/onboard/" + p.ID}
	// The cache bounds its own wait (a second, once a day at most), so a
	// page needs no context of its own here.
	v.Grants = h.namedGrants(context.Background(), lang, p.Rights, p.AccessPackages)
	return v
}

// namedGrants names rights and access packages as Altinn does in lang (the
// Grants cache), else by the service's own names, else the id in words:
// Label and Description are for customers, ID for staff only.
func (h *Handler) namedGrants(ctx context.Context, lang string, rights, packages []string) []views.Grant {
	rs, ps := h.Grants.Names(ctx, lang, rights, packages)
	gs := make([]views.Grant, 0, len(rights)+len(packages))
	for i, r := range rights {
		gs = append(gs, views.Grant{Label: rs[i].Name, Description: rs[i].Description, ID: r})
	}
	for i, a := range packages {
		gs = append(gs, views.Grant{Label: ps[i].Name, Description: ps[i].Description, ID: a})
	}
	return gs
}

func label(lang, key, fallback string) string {
	if s := i18n.T(lang, key); s != key {
		return s
	}
	return fallback
}

// render writes a templ component as the response with the given status.
func render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}
