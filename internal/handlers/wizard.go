package handlers

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// home lists the products, or goes straight to the only one.
func (h *Handler) home(c echo.Context) error {
	if len(h.Products) == 1 {
		return c.Redirect(http.StatusSeeOther, "/onboard/"+h.Products[0].ID)
	}
	lang := langOf(c)
	m := views.ProductList{Page: h.page(c, i18n.T(lang, "start.choose"))}
	for _, p := range h.Products {
		m.Products = append(m.Products, h.productView(p, lang))
	}
	return render(c, http.StatusOK, views.ProductListPage(m))
}

// start says in plain words what the customer is about to allow, and why.
func (h *Handler) start(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	lang := langOf(c)
	return render(c, http.StatusOK, views.StartPage(views.Start{
		Page:    h.page(c, i18n.T(lang, "start.heading", h.Vendor)),
		Product: h.productView(p, lang), Vendor: h.Vendor, OrgURL: "/onboard/" + p.ID + "/org",
	}))
}

func (h *Handler) orgForm(c echo.Context, p config.Product, status int, value, errKey string) error {
	lang := langOf(c)
	csrf, _ := c.Get("csrf").(string)
	return render(c, status, views.OrgPage(views.OrgForm{
		Page:    h.page(c, i18n.T(lang, "org.heading")),
		Product: h.productView(p, lang), Action: "/onboard/" + p.ID + "/org", BackURL: "/onboard/" + p.ID,
		CSRF: csrf, Value: value, ErrorKey: errKey,
	}))
}

// org asks for the organisation number.
func (h *Handler) org(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	return h.orgForm(c, p, http.StatusOK, "", "")
}

var orgErrorKeys = map[error]string{
	orgno.ErrEmpty: "org.err.empty", orgno.ErrLength: "org.err.length",
	orgno.ErrCharacters: "org.err.chars", orgno.ErrCheckDigit: "org.err.check",
}

// submit validates the number, stores the onboarding, creates the Altinn
// request and sends the browser to Altinn's confirm page with a 303.
func (h *Handler) submit(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	typed := c.FormValue("orgno")
	n, err := orgno.Normalize(typed)
	if err != nil {
		if r := []rune(typed); len(r) > 20 {
			typed = string(r[:20])
		}
		return h.orgForm(c, p, http.StatusUnprocessableEntity, typed, orgErrorKeys[err])
	}
	o, started, err := h.Onboardings.Start(c.Request().Context(), onboarding.StartInput{
		Product: p.ID, OrgNo: n, Lang: langOf(c), Cause: domain.CauseCustomer,
	})
	if err := settled(err); err != nil {
		return err
	}
	// Only the browser that began it sees its details: typing a number
	// someone else already started with gives Altinn's page or the outcome.
	if started {
		h.addFlow(c, o.Ref)
	}
	return h.sendOn(c, o)
}

// sendOn sends the browser to Altinn when there is something to approve
// (the rulebook allows the confirm), and to the status page otherwise. The
// confirm URL was checked against the allowlist before it was stored.
func (h *Handler) sendOn(c echo.Context, o *domain.Onboarding) error {
	if o.Allows(domain.ActionConfirm) && o.ConfirmURL != nil && *o.ConfirmURL != "" {
		return c.Redirect(http.StatusSeeOther, *o.ConfirmURL)
	}
	return c.Redirect(http.StatusSeeOther, "/status/"+o.Ref)
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

func (h *Handler) onboardingByRef(c echo.Context, ref string) (*domain.Onboarding, error) {
	if !refPattern.MatchString(ref) {
		return nil, echo.ErrNotFound
	}
	o, err := h.Store.OnboardingByRef(c.Request().Context(), ref)
	if errors.Is(err, db.ErrNotFound) {
		return nil, echo.ErrNotFound
	}
	return o, err
}

// altinnReturn is the redirectUrl Altinn sends the browser back to. It
// carries nothing from Altinn: it only tells us to look, so it always
// re-reads the onboarding from Altinn (rate limited like the submit).
func (h *Handler) altinnReturn(c echo.Context) error {
	ref := c.QueryParam("ref")
	o, err := h.onboardingByRef(c, ref)
	if errors.Is(err, echo.ErrNotFound) && refPattern.MatchString(ref) {
		// Not an onboarding's reference: a change request's, maybe (changes.go).
		return h.changeReturn(c, ref)
	}
	if err != nil {
		return err
	}
	if err := h.Onboardings.RecordReturn(c.Request().Context(), o, h.ownsFlow(c, ref)); err != nil {
		return err
	}
	if err := settled(h.Onboardings.Refresh(c.Request().Context(), o, domain.CauseCustomer, "")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/status/"+o.Ref)
}

// status re-reads the onboarding from Altinn and shows where it stands:
// details and actions to the browser that started it, the outcome alone to
// anyone else holding the link.
func (h *Handler) status(c echo.Context) error {
	ref := c.Param("ref")
	o, err := h.onboardingByRef(c, ref)
	if err != nil {
		return err
	}
	if o.CheckedAt == nil || time.Since(*o.CheckedAt) >= h.MinRefreshInterval {
		if err := settled(h.Onboardings.Refresh(c.Request().Context(), o, domain.CauseCustomer, "")); err != nil {
			return err
		}
	}
	return h.renderOutcome(c, o)
}

func (h *Handler) renderOutcome(c echo.Context, o *domain.Onboarding) error {
	lang := langOf(c)
	p, _ := h.product(o.Product)
	m := views.Outcome{
		Page: h.page(c, i18n.T(lang, "outcome.heading")),
		Ref:  o.Ref, Status: string(o.Status), Escalated: o.Escalated, Agent: o.Kind == domain.KindAgent,
		Vendor: h.Vendor, RefreshURL: "/status/" + o.Ref, AltinnURL: h.AltinnPortalURL,
	}
	if o.ErrorCode != nil {
		m.ErrorCode = *o.ErrorCode
	}
	// The words come from the real cause: the status and the error code.
	t := outcomeTextOf(o.Status, m.ErrorCode)
	m.NoteKey, m.HelpKey, m.ContactUs = t.Note, t.Help, t.Contact
	if h.ownsFlow(c, o.Ref) {
		m.Detail = true
		m.OrgNo = orgno.Format(o.OrgNo)
		m.ProductName = p.DisplayName(lang)
		m.CSRF, _ = c.Get("csrf").(string)
		if o.CheckedAt != nil {
			m.CheckedAt = whenCustomer(c, *o.CheckedAt)
		}
		if o.Allows(domain.ActionConfirm) && o.ConfirmURL != nil {
			m.ConfirmURL = *o.ConfirmURL
		}
		if o.Allows(domain.ActionRetry) {
			m.RetryAction, m.RetryKey = "/status/"+o.Ref+"/retry", t.Retry
		}
	}
	m.BackURL = h.backURL(c, o.Ref)
	return render(c, http.StatusOK, views.OutcomePage(m))
}

// retry is "try again" on the status page: the service's Continue resends a
// request that never reached Altinn, or renews one the rulebook allows
// renewing (rejected, expired, failed or revoked); on a page out of date
// (the onboarding moved on meanwhile) it re-reads it, and the browser goes
// where it now stands. Only the browser that started the onboarding may do
// it.
func (h *Handler) retry(c echo.Context) error {
	ref := c.Param("ref")
	o, err := h.onboardingByRef(c, ref)
	if err != nil {
		return err
	}
	if !h.ownsFlow(c, ref) {
		return echo.ErrForbidden
	}
	if err := settled(h.Onboardings.Continue(c.Request().Context(), o, domain.CauseCustomer, "")); err != nil {
		return err
	}
	return h.sendOn(c, o)
}

// setLang is the language switch: a cookie, then back to the page.
func (h *Handler) setLang(c echo.Context) error {
	lang := c.Param("lang")
	if !i18n.Supported(lang) {
		return echo.ErrNotFound
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 60 * 60 * 24 * 365,
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next")))
}

// when shows a moment on the dashboard in Norwegian time, written the way
// the page's language writes dates (i18n.DateTime, with seconds).
func when(c echo.Context, t time.Time) string { return i18n.DateTime(langOf(c), t.In(oslo)) }

// whenCustomer shows a moment on a customer page in Norwegian time, one way
// per language: "2. desember 2026 kl. 14:05" (i18n.When).
func whenCustomer(c echo.Context, t time.Time) string { return i18n.When(langOf(c), t.In(oslo)) }

var oslo = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return l
	}
	return time.UTC
}()

// settled treats losing a race to a concurrent change as success for a
// customer page: the onboarding then holds the newer state, which is what
// the page shows.
func settled(err error) error {
	if errors.Is(err, onboarding.ErrSuperseded) {
		return nil
	}
	return err
}
