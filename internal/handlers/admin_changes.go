package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// Audit actions of change requests.
const (
	AuditChange        = "onboarding.change"
	AuditChangeRefresh = "onboarding.change_refresh"
	AuditChangeCancel  = "onboarding.change_cancel"
)

// lackingShown is how many lacking customers the changes page lists per
// product; the count covers them all, and a campaign takes them all.
const lackingShown = 200

// changesPage lists, per standard product, the connected customers whose
// system user differs from what the product asks for now, with the form
// that starts a change-request campaign for them. For an agent product it
// says that a change is not possible: a new system user is needed.
func (h *Handler) changesPage(c echo.Context) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	m := views.ChangesPage{AdminPage: h.adminPage(c, "admin.changes.heading")}
	for _, p := range h.Products {
		cp := views.ChangeProduct{ID: p.ID, Name: p.DisplayName(lang), Agent: p.Kind == domain.KindAgent,
			Grants: h.productView(p, lang).Grants}
		if !cp.Agent {
			list, total, err := h.Dashboard.LackingOnboardings(ctx, p.ID, p.Rights, p.AccessPackages, lackingShown)
			if err != nil {
				return err
			}
			if cp.Live, err = h.Dashboard.LiveChangeCount(ctx, p.ID); err != nil {
				return err
			}
			cp.Total, cp.Shown = total, len(list)
			for i := range list {
				o := &list[i]
				d := onboarding.Lacks(o, p)
				r := views.LackingRow{ID: o.ID, URL: detailPath(o.ID), OrgNo: orgno.Format(o.OrgNo),
					Lacks: grantViews(lang, d.RequiredRights, d.RequiredPackages),
					Extra: grantViews(lang, d.UnwantedRights, d.UnwantedPackages)}
				if o.CustomerRef != nil {
					r.CustomerRef = *o.CustomerRef
				}
				if o.ConnectedAt != nil {
					r.Connected = when(c, *o.ConnectedAt)
				}
				cp.Rows = append(cp.Rows, r)
			}
			if canAct(c) && total > 0 {
				cp.CampaignURL = views.ChangeCampaignPath
			}
		}
		m.Products = append(m.Products, cp)
	}
	return render(c, http.StatusOK, views.AdminChangesPage(m))
}

// changeSection builds the detail page's change requests: what the system
// user holds and lacks now, each change request with the actions on it, and
// "request change" where the role and the onboarding allow it.
func (h *Handler) changeSection(c echo.Context, o *domain.Onboarding) (views.ChangeSection, error) {
	lang := langOf(c)
	crs, err := h.Dashboard.ChangeRequests(c.Request().Context(), o.ID)
	if err != nil {
		return views.ChangeSection{}, err
	}
	// A status that allows a change shows what the system user holds and
	// lacks (or, for an agent one, why it cannot change).
	changeable := domain.Allows(o.Status, domain.ActionChange)
	s := views.ChangeSection{Agent: h.changeAgent(o), Show: changeable || len(crs) > 0}
	p, known := h.product(o.Product)
	if changeable && known && !s.Agent {
		rights, packages := onboarding.Granted(o, p)
		s.Held = grantViews(lang, rights, packages)
		d := onboarding.Lacks(o, p)
		s.Lacks = grantViews(lang, d.RequiredRights, d.RequiredPackages)
		s.Extra = grantViews(lang, d.UnwantedRights, d.UnwantedPackages)
	}
	live := false
	base := detailPath(o.ID)
	for _, cr := range crs {
		r := views.ChangeRow{ID: cr.ID, Status: string(cr.Status), Created: when(c, cr.CreatedAt), Cause: string(cr.Cause), Actor: cr.Actor,
			Add:    grantViews(lang, cr.RequiredRights, cr.RequiredPackages),
			Remove: grantViews(lang, cr.UnwantedRights, cr.UnwantedPackages)}
		if cr.CheckedAt != nil {
			r.Checked = when(c, *cr.CheckedAt)
		}
		if cr.Status == domain.ChangePending && cr.ConfirmURL != nil {
			r.ConfirmURL = *cr.ConfirmURL
		}
		if cr.ErrorCode != nil {
			r.ErrorCode = *cr.ErrorCode
		}
		if cr.ErrorMessage != nil {
			r.ErrorMessage = *cr.ErrorMessage
		}
		if cr.Live() {
			live = true
			if canAct(c) {
				r.RefreshURL = base + "/changes/" + cr.ID + "/refresh"
				r.CancelURL = base + "/changes/" + cr.ID + "/cancel"
			}
		}
		s.Rows = append(s.Rows, r)
	}
	if canAct(c) && h.changeRefusal(o) == "" && !live {
		s.RequestURL = base + "/change"
	}
	return s, nil
}

// changeRefusal is the reason, as an i18n key, that a change request cannot
// be asked for the onboarding, or "" when it can: the rulebook's refusal
// (an agent system user, or not connected with a known system user), an
// agent product, or a product no longer configured.
func (h *Handler) changeRefusal(o *domain.Onboarding) string {
	err := o.Check(domain.ActionChange)
	switch {
	case err == nil && h.changeAgent(o):
		err = onboarding.ErrAgentChange // the product became an agent one
	case err == nil:
		if _, ok := h.product(o.Product); !ok {
			err = onboarding.ErrUnknownProduct
		}
	}
	if err != nil {
		return failureOf(err).Key
	}
	return ""
}

// confirmChange shows what a change request would ask the customer to
// approve, with the form that sends it.
func (h *Handler) confirmChange(c echo.Context, o *domain.Onboarding) error {
	if key := h.changeRefusal(o); key != "" {
		return h.notPossible(c, o, key)
	}
	lang := langOf(c)
	p, _ := h.product(o.Product)
	d := onboarding.Lacks(o, p)
	return render(c, http.StatusOK, views.ChangeConfirmPage(views.ChangeConfirm{
		AdminPage: h.adminPage(c, "admin.confirm.change.heading"),
		PostURL:   detailPath(o.ID) + "/change", BackURL: detailPath(o.ID),
		OrgNo: orgno.Format(o.OrgNo), ProductName: p.DisplayName(lang),
		Add:    grantViews(lang, d.RequiredRights, d.RequiredPackages),
		Remove: grantViews(lang, d.UnwantedRights, d.UnwantedPackages),
	}))
}

// requestChange asks Altinn for a change request that brings the system
// user to what its product asks for now, after confirmation. One already
// live is followed instead of making another.
func (h *Handler) requestChange(c echo.Context, o *domain.Onboarding) error {
	if key := h.changeRefusal(o); key != "" {
		return h.notPossible(c, o, key)
	}
	if !confirmed(c) {
		return h.confirmChange(c, o)
	}
	return h.actChange(c, o, "change", AuditChange, func(ctx context.Context, actor string) (*domain.ChangeRequest, error) {
		return h.Onboardings.RequestChange(ctx, o, domain.CauseStaff, actor)
	})
}

// withChange loads the change request named by :cr for fn; it must belong
// to the onboarding.
func (h *Handler) withChange(fn func(echo.Context, *domain.Onboarding, *domain.ChangeRequest) error) func(echo.Context, *domain.Onboarding) error {
	return func(c echo.Context, o *domain.Onboarding) error {
		id := c.Param("cr")
		if !db.IsUUID(id) {
			return h.adminError(c, http.StatusNotFound, "admin.error.notfound")
		}
		cr, err := h.Dashboard.ChangeRequestByID(c.Request().Context(), strings.ToLower(id))
		if errors.Is(err, db.ErrNotFound) || (err == nil && cr.OnboardingID != o.ID) {
			return h.adminError(c, http.StatusNotFound, "admin.error.notfound")
		}
		if err != nil {
			return err
		}
		return fn(c, o, cr)
	}
}

// refreshChange re-reads a live change request from Altinn now.
func (h *Handler) refreshChange(c echo.Context, o *domain.Onboarding, cr *domain.ChangeRequest) error {
	if !cr.Live() {
		return h.refuse(c, o, onboarding.ErrChangeEnded)
	}
	return h.actChange(c, o, "changerefresh", AuditChangeRefresh, func(ctx context.Context, actor string) (*domain.ChangeRequest, error) {
		return cr, h.Onboardings.RefreshChange(ctx, o, cr, domain.CauseStaff, actor)
	})
}

// changeCancelPage asks before withdrawing a change request.
func (h *Handler) changeCancelPage(c echo.Context, o *domain.Onboarding, cr *domain.ChangeRequest) error {
	return render(c, http.StatusOK, views.ActionConfirmPage(views.ActionConfirm{
		AdminPage: h.adminPage(c, "admin.confirm.changecancel.heading"),
		Action:    "changecancel", PostURL: detailPath(o.ID) + "/changes/" + cr.ID + "/cancel", BackURL: detailPath(o.ID),
		OrgNo: orgno.Format(o.OrgNo), ProductName: h.productName(o.Product, langOf(c)), Status: string(o.Status),
	}))
}

// cancelChange withdraws a live change request (deleted at Altinn), after
// confirmation, so a new one can be asked for.
func (h *Handler) cancelChange(c echo.Context, o *domain.Onboarding, cr *domain.ChangeRequest) error {
	if !cr.Live() {
		return h.refuse(c, o, onboarding.ErrChangeEnded)
	}
	if c.Request().Method != http.MethodPost || !confirmed(c) {
		return h.changeCancelPage(c, o, cr)
	}
	return h.actChange(c, o, "changecancel", AuditChangeCancel, func(ctx context.Context, actor string) (*domain.ChangeRequest, error) {
		return cr, h.Onboardings.CancelChange(ctx, o, cr, domain.CauseStaff, actor)
	})
}

// actChange runs one staff action on a change request through the service
// and records it as act does: an audit entry and a staff event, written even
// when the action failed.
func (h *Handler) actChange(c echo.Context, o *domain.Onboarding, done, action string,
	run func(ctx context.Context, actor string) (*domain.ChangeRequest, error)) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	// The service records the action with its last write (as act says).
	var cr *domain.ChangeRequest
	describe := func(out onboarding.Outcome) (map[string]any, string) {
		if out.Change == nil {
			out.Change = cr // one it wrote nothing about: the change request run returned
		}
		return describeChange(action, out)
	}
	err := h.Onboardings.Audited(c.Request().Context(), actionAudit(c, s, action, describe), o,
		func(ctx context.Context) (err error) {
			cr, err = run(ctx, s.Email)
			return err
		})
	superseded := errors.Is(err, onboarding.ErrSuperseded)
	if superseded {
		err = nil
	}
	switch {
	case errors.Is(err, domain.ErrNotAllowed), errors.Is(err, onboarding.ErrChangeEnded),
		errors.Is(err, onboarding.ErrSystemUserReplaced):
		// Refused, by the rulebook or by Altinn's news: a 409 saying why.
		return h.refuse(c, o, err)
	case err != nil:
		return h.actionFailed(c, o, err)
	case superseded:
		return c.Redirect(http.StatusSeeOther, detailPath(o.ID))
	}
	return c.Redirect(http.StatusSeeOther, detailPath(o.ID)+"?done="+done)
}

// describeChange is how a change-request action's audit entry and staff
// event read: the change request and its status, the result and the error
// codes it and its onboarding are left with.
func describeChange(action string, out onboarding.Outcome) (map[string]any, string) {
	detail := map[string]any{"result": out.Result}
	msg := action + " by staff"
	if cr := out.Change; cr != nil {
		detail["change_request"], detail["status"] = cr.ID, cr.Status
		msg += ": change request " + cr.ID + " " + string(cr.Status)
		if cr.ErrorCode != nil {
			detail["change_error_code"] = *cr.ErrorCode
		}
	}
	switch out.Result {
	case onboarding.ResultSuperseded:
		msg = action + " by staff was overtaken by a concurrent change"
	case onboarding.ResultError:
		msg += " failed"
	}
	withErrorCode(detail, out.Onboarding)
	return detail, msg
}
