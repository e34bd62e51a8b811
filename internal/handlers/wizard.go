package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/brreg"
	"github.com/onboard-altinn/onboard/internal/clients"
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
		Product: h.productView(p, lang), Vendor: h.Vendor, OrgURL: orgPath(p.ID),
	}))
}

// orgPath, confirmPath and knownPath are the wizard's number form, its
// "is this the right company?" page and the page a browser that did not
// start an existing onboarding gets.
func orgPath(product string) string     { return "/onboard/" + product + "/org" }
func confirmPath(product string) string { return "/onboard/" + product + "/confirm" }
func knownPath(product string) string   { return "/onboard/" + product + "/known" }

// orgErrorCodes name, in the form's URL, why a number was sent back: a
// fixed set, each with its words, so nothing the browser sends is shown as
// a key.
var orgErrorCodes = map[string]string{
	"empty": "org.err.empty", "length": "org.err.length", "chars": "org.err.chars", "check": "org.err.check",
	"unknown": "org.err.unknown", "deleted": "org.err.deleted",
}

var orgErrorCodeOf = map[error]string{
	orgno.ErrEmpty: "empty", orgno.ErrLength: "length", orgno.ErrCharacters: "chars", orgno.ErrCheckDigit: "check",
}

// orgErrorKeys are the words of a number orgno refused (the dashboard's
// new-onboarding form uses them too).
var orgErrorKeys = func() map[error]string {
	m := map[error]string{}
	for err, code := range orgErrorCodeOf {
		m[err] = orgErrorCodes[code]
	}
	return m
}()

// maxTyped is how much of what was typed goes back into the form.
const maxTyped = 20

// backToForm sends the browser to the number form (post/redirect/get) with
// what was typed and why it was refused, so Back from Altinn later lands on
// a page, never on a form to resubmit.
func backToForm(c echo.Context, product, typed, code string) error {
	if r := []rune(typed); len(r) > maxTyped {
		typed = string(r[:maxTyped])
	}
	q := url.Values{}
	if typed != "" {
		q.Set("orgno", typed)
	}
	if code != "" {
		q.Set("err", code)
	}
	u := orgPath(product)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, u)
}

// org asks for the organisation number; after a refused number (a 303
// from submit or the confirm page) it shows what was typed and why.
func (h *Handler) org(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	lang := langOf(c)
	csrf, _ := c.Get("csrf").(string)
	value := c.QueryParam("orgno")
	if r := []rune(value); len(r) > maxTyped {
		value = string(r[:maxTyped])
	}
	m := views.OrgForm{
		Page:    h.page(c, i18n.T(lang, orgHeadingKey(p))),
		Product: h.productView(p, lang), Action: orgPath(p.ID), BackURL: "/onboard/" + p.ID,
		CSRF: csrf, Value: value, ErrorKey: orgErrorCodes[c.QueryParam("err")],
	}
	if m.ErrorKey != "" {
		// The page's title says something needs fixing, as its summary does.
		m.Title = i18n.T(lang, "err.summary") + ": " + m.Title
	}
	return render(c, http.StatusOK, views.OrgPage(m))
}

func orgHeadingKey(p config.Product) string {
	if p.Kind == domain.KindAgent {
		return "org.heading.agent"
	}
	return "org.heading"
}

// submit validates the number and sends the browser on with a 303: to the
// form with the error, or to the page that asks whether this is the right
// company. Nothing is stored and Altinn is not called yet.
func (h *Handler) submit(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	typed := c.FormValue("orgno")
	n, err := orgno.Normalize(typed)
	if err != nil {
		return backToForm(c, p.ID, typed, orgErrorCodeOf[err])
	}
	return c.Redirect(http.StatusSeeOther, confirmPath(p.ID)+"?orgno="+n)
}

// lookup asks Enhetsregisteret about n; ok is false when it could not
// answer (or no register is configured), and the wizard goes on without a
// name.
func (h *Handler) lookup(c echo.Context, n string) (e brreg.Entity, ok bool, err error) {
	if h.Register == nil {
		return brreg.Entity{}, false, nil
	}
	e, err = h.Register.Lookup(c.Request().Context(), n)
	switch {
	case err == nil:
		return e, true, nil
	case errors.Is(err, brreg.ErrUnknown), errors.Is(err, brreg.ErrDeleted):
		return e, true, err
	default:
		h.logger().WarnContext(c.Request().Context(), "Enhetsregisteret lookup failed",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
		return brreg.Entity{}, false, nil
	}
}

// registerRefusal is the form's error code for a number the register
// knows no live organisation by, or "".
func registerRefusal(err error) string {
	switch {
	case errors.Is(err, brreg.ErrDeleted):
		return "deleted"
	case errors.Is(err, brreg.ErrUnknown):
		return "unknown"
	}
	return ""
}

// confirmOrg asks "is this the right company?" with its name, form and
// number from Enhetsregisteret. A number it does not know, or a deleted
// entity, goes back to the form with the reason; a sub-unit is offered its
// parent; when the register does not answer the page says so and the
// customer goes on with the number alone.
func (h *Handler) confirmOrg(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	typed := c.QueryParam("orgno")
	n, err := orgno.Normalize(typed)
	if err != nil {
		return backToForm(c, p.ID, typed, orgErrorCodeOf[err])
	}
	e, checked, err := h.lookup(c, n)
	if code := registerRefusal(err); code != "" {
		return backToForm(c, p.ID, orgno.Format(n), code)
	}
	lang := langOf(c)
	csrf, _ := c.Get("csrf").(string)
	m := views.OrgConfirm{
		Page:    h.page(c, i18n.T(lang, "confirm.heading")),
		Product: h.productView(p, lang), OrgNo: orgno.Format(n), Number: n,
		Action: confirmPath(p.ID), ChangeURL: orgPath(p.ID) + "?orgno=" + url.QueryEscape(orgno.Format(n)),
		CSRF: csrf, Checked: checked, Reservation: h.reserve(p.ID, n),
	}
	if checked {
		m.Name, m.Bankrupt, m.WindingUp = e.Name, e.Bankrupt, e.WindingUp
		if e.Form != "" {
			m.Form = label(lang, "orgform."+e.Form, e.Form)
		}
		if e.SubUnit() {
			if pn, err := orgno.Normalize(e.ParentOrgNo); err == nil {
				m.ParentOrgNo = orgno.Format(pn)
				m.ParentURL = confirmPath(p.ID) + "?orgno=" + pn
			}
		}
	}
	return render(c, http.StatusOK, views.OrgConfirmPage(m))
}

// submitConfirmed stores the onboarding, creates the Altinn request and sends the
// browser to Altinn's confirm page with a 303, for the number the customer
// confirmed (validated again, and its name read again from the register,
// never from the form). Only a new onboarding is started: when one exists
// for the organisation, the browser that started it goes on with it, and
// any other gets a page that says nothing about it.
func (h *Handler) submitConfirmed(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	typed := c.FormValue("orgno")
	n, err := orgno.Normalize(typed)
	if err != nil {
		return backToForm(c, p.ID, typed, orgErrorCodeOf[err])
	}
	var name string
	if c.FormValue("checked") == "true" {
		e, _, err := h.lookup(c, n)
		if code := registerRefusal(err); code != "" {
			return backToForm(c, p.ID, orgno.Format(n), code)
		}
		if !e.SubUnit() {
			name = e.Name
		}
	}
	ctx := c.Request().Context()
	// The reference the company page reserved: when this "yes" is a retry
	// of one a crash cut off, the onboarding found holds it, and this
	// browser is its starter although it never got the flow cookie.
	ref := h.reserved(p.ID, n, c.FormValue("reservation"))
	o, started, err := h.Onboardings.Start(ctx, onboarding.StartInput{
		Product: p.ID, OrgNo: n, Lang: langOf(c), Cause: domain.CauseCustomer, OrgName: name, OnlyNew: true, Ref: ref,
	})
	if errors.Is(err, onboarding.ErrExists) {
		if ref != "" && o.Ref == ref {
			started = true
		} else if !h.ownsFlow(c, o.Ref) {
			// Someone else's onboarding: nothing about it, nothing done to it.
			return c.Redirect(http.StatusSeeOther, knownPath(p.ID)+"?orgno="+n)
		}
		// This browser started it: carry on as with a new one.
		err = h.Onboardings.Continue(ctx, o, domain.CauseCustomer, "")
		if errors.Is(err, onboarding.ErrSuperseded) && o.Status == domain.StatusRequesting {
			// Another instance's save came first (the reconciler, after a
			// restart) but the request is not at Altinn yet as far as the
			// fresh copy says: carry on once more. Create looks up at Altinn
			// before it sends, so the request is never made twice.
			err = h.Onboardings.Continue(ctx, o, domain.CauseCustomer, "")
		}
	}
	if err := settled(err); err != nil {
		return err
	}
	if started {
		h.addFlow(c, o.Ref)
	}
	return h.sendOn(c, o)
}

// known is the page a browser gets that typed the number of an
// organisation someone else has an onboarding for. It reads nothing: it is
// the same whatever the onboarding's status, and says how the real
// customer gets back to it.
func (h *Handler) known(c echo.Context) error {
	p, ok := h.product(c.Param("product"))
	if !ok {
		return echo.ErrNotFound
	}
	lang := langOf(c)
	m := views.Known{
		Page: h.page(c, i18n.T(lang, "known.heading")), Vendor: h.Vendor,
		ChangeURL: orgPath(p.ID), AltinnURL: h.AltinnPortalURL, VendorURL: h.VendorURL,
	}
	if n, err := orgno.Normalize(c.QueryParam("orgno")); err == nil {
		m.OrgNo = orgno.Format(n)
	}
	return render(c, http.StatusOK, views.KnownPage(m))
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

// refreshAfter is how often a status page that waits for someone (the
// customer in Altinn, an access manager, or Altinn itself) reloads itself,
// by an HTTP Refresh header: no script, and unlike a meta refresh it can
// be turned off with a link (?refresh=off, WCAG 2.2.1).
const refreshAfter = 30

// waiting reports whether a status page shows a state that moves on by
// itself, and so refreshes itself.
func waiting(s domain.Status) bool {
	return s == domain.StatusPending || s == domain.StatusAccepted || s == domain.StatusRequesting
}

// autoRefresh sets the Refresh header on a waiting page unless the reader
// turned it off, and returns the link that turns it off (or on again).
func autoRefresh(c echo.Context, wait bool, path string) (on bool, toggleURL string) {
	if !wait {
		return false, ""
	}
	if c.QueryParam("refresh") == "off" {
		return false, path
	}
	c.Response().Header().Set("Refresh", strconv.Itoa(refreshAfter))
	return true, path + "?refresh=off"
}

func (h *Handler) renderOutcome(c echo.Context, o *domain.Onboarding) error {
	lang := langOf(c)
	p, _ := h.product(o.Product)
	m := views.Outcome{
		Page: h.page(c, i18n.T(lang, "outcome.heading")),
		Ref:  o.Ref, Status: string(o.Status), Escalated: o.Escalated, Agent: o.Kind == domain.KindAgent,
		Vendor: h.Vendor, RefreshURL: "/status/" + o.Ref, AltinnURL: h.AltinnPortalURL,
		ByCustomer: o.Origin == domain.OriginWizard, StartURL: "/onboard/" + o.Product,
	}
	if o.ErrorCode != nil {
		m.ErrorCode = *o.ErrorCode
	}
	// The words come from the real cause: the status and the error code.
	t := outcomeTextOf(o.Status, m.ErrorCode)
	m.NoteKey, m.HelpKey, m.ContactUs = t.Note, t.Help, t.Contact
	if m.ErrorCode == onboarding.CodeConfirmHost {
		m.ContactUs = true // its words ask the customer to contact the vendor
	}
	if h.ownsFlow(c, o.Ref) {
		m.Detail = true
		m.OrgNo = orgno.Format(o.OrgNo)
		if o.OrgName != nil {
			m.OrgName = *o.OrgName
		}
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
	// Back to the vendor: where the hand-off came from, else the vendor's
	// own address.
	m.BackURL = h.backURL(c, o.Ref)
	if m.BackURL == "" {
		m.BackURL = h.VendorURL
	}
	if h.Clients != nil && clients.Can(o) {
		// Anyone holding the link may log in: the login, not the
		// browser, proves the person may see the firm's clients.
		m.ClientsAction = clientsLoginAction(o.Ref)
		m.CSRF, _ = c.Get("csrf").(string)
	}
	m.AutoRefresh, m.RefreshToggleURL = autoRefresh(c, waiting(o.Status), m.RefreshURL)
	m.RefreshSeconds = refreshAfter
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

// when shows a moment on the dashboard in Norwegian time, in the same words
// as the customer pages (i18n.When): one date format per language.
func when(c echo.Context, t time.Time) string { return i18n.When(langOf(c), t.In(oslo)) }

// day shows a date on the dashboard, in Norwegian time: "2. desember 2026"
// (i18n.Date).
func day(c echo.Context, t time.Time) string { return i18n.Date(langOf(c), t.In(oslo)) }

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
