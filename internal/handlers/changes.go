package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// changePath is the customer's page of one change request, by its return
// reference, as /status/:ref is of an onboarding.
func changePath(ref string) string { return "/change/" + ref }

// changeByRef loads a change request by its return reference, and its
// onboarding; anything unknown is a 404.
func (h *Handler) changeByRef(c echo.Context, ref string) (*domain.ChangeRequest, *domain.Onboarding, error) {
	if !refPattern.MatchString(ref) {
		return nil, nil, echo.ErrNotFound
	}
	ctx := c.Request().Context()
	cr, err := h.Store.ChangeRequestByRef(ctx, ref)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil, echo.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	o, err := h.Store.OnboardingByID(ctx, cr.OnboardingID)
	if err != nil {
		return nil, nil, err
	}
	return cr, o, nil
}

// ownsChange reports whether this browser may see the organisation behind a
// change request: the one that started its onboarding (or the change).
func (h *Handler) ownsChange(c echo.Context, o *domain.Onboarding, cr *domain.ChangeRequest) bool {
	return h.ownsFlow(c, o.Ref) || h.ownsFlow(c, cr.Ref)
}

// changeReturn is /return for a change request's reference. Like the
// return of a first request it carries nothing from Altinn: the change
// request is re-read from Altinn, and the browser sent to its page.
func (h *Handler) changeReturn(c echo.Context, ref string) error {
	cr, o, err := h.changeByRef(c, ref)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := h.Onboardings.RecordChangeReturn(ctx, cr, h.ownsChange(c, o, cr)); err != nil {
		return err
	}
	if err := changeSettled(h.Onboardings.RefreshChange(ctx, o, cr, domain.CauseCustomer, "")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, changePath(cr.Ref))
}

// changeStatus re-reads a change request from Altinn (throttled as the
// status page is) and shows where it stands: the organisation and the
// change only to the browser that started the onboarding, the outcome alone
// to anyone else holding the link.
func (h *Handler) changeStatus(c echo.Context) error {
	cr, o, err := h.changeByRef(c, c.Param("ref"))
	if err != nil {
		return err
	}
	if cr.Live() && (cr.CheckedAt == nil || time.Since(*cr.CheckedAt) >= h.MinRefreshInterval) {
		if err := changeSettled(h.Onboardings.RefreshChange(c.Request().Context(), o, cr, domain.CauseCustomer, "")); err != nil {
			return err
		}
	}
	lang := langOf(c)
	m := views.ChangeOutcome{
		Page: h.page(c, i18n.T(lang, "change.heading")),
		Ref:  cr.Ref, Status: string(cr.Status), Vendor: h.Vendor, RefreshURL: changePath(cr.Ref),
	}
	if cr.ErrorCode != nil {
		m.ErrorCode = *cr.ErrorCode
	}
	if cr.Status == domain.ChangePending && cr.ConfirmURL != nil {
		m.ConfirmURL = *cr.ConfirmURL
	}
	if h.ownsChange(c, o, cr) {
		m.Detail = true
		m.OrgNo = orgno.Format(o.OrgNo)
		m.ProductName = h.productName(o.Product, lang)
		m.Add = h.namedGrants(c.Request().Context(), lang, cr.RequiredRights, cr.RequiredPackages)
		m.Remove = h.namedGrants(c.Request().Context(), lang, cr.UnwantedRights, cr.UnwantedPackages)
		if cr.CheckedAt != nil {
			m.CheckedAt = whenCustomer(c, *cr.CheckedAt)
		}
	}
	wait := cr.Status == domain.ChangePending || cr.Status == domain.ChangeRequesting
	m.AutoRefresh, m.RefreshToggleURL = autoRefresh(c, wait, m.RefreshURL)
	m.RefreshSeconds = refreshAfter
	return render(c, http.StatusOK, views.ChangeOutcomePage(m))
}

// changeSettled is settled for change requests: besides a lost race, the
// refusals RefreshChange may end in (the system user is an agent one, or
// gone) are kept on the change request, which is what the page shows.
func changeSettled(err error) error {
	if errors.Is(err, onboarding.ErrAgentChange) || errors.Is(err, onboarding.ErrNotConnected) {
		return nil
	}
	return settled(err)
}

// grantViews labels rights and access packages for a page.
func grantViews(lang string, rights, packages []string) []views.Grant {
	var gs []views.Grant
	for _, r := range rights {
		gs = append(gs, views.Grant{Label: label(lang, "right."+r, r), ID: r})
	}
	for _, a := range packages {
		gs = append(gs, views.Grant{Label: label(lang, "package."+a, a), ID: a})
	}
	return gs
}

// changeAgent reports whether an onboarding's system user is an agent
// (client) one, which Altinn cannot change.
func (h *Handler) changeAgent(o *domain.Onboarding) bool {
	if o.Kind == domain.KindAgent {
		return true
	}
	p, ok := h.product(o.Product)
	return ok && p.Kind == domain.KindAgent
}
