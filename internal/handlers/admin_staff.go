package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/views"
)

// staffURL is the path of an account's action.
func staffURL(id int64, action string) string {
	return views.StaffPath + "/" + strconv.FormatInt(id, 10) + "/" + action
}

// staffList shows every account and the form to add one; after an action,
// ?done= and ?id= say what happened to which account.
func (h *Handler) staffList(c echo.Context) error {
	m := views.StaffList{Add: views.StaffAddForm{Role: string(domain.RoleViewer)}}
	switch c.QueryParam("done") {
	case "role", "disabled", "unlocked":
		m.DoneKey = "admin.staff.done." + c.QueryParam("done")
	}
	return h.renderStaffList(c, http.StatusOK, m)
}

// renderStaffList fills in the accounts and renders the page with the
// given status (a 4xx when the add form comes back with an error).
func (h *Handler) renderStaffList(c echo.Context, status int, m views.StaffList) error {
	list, err := h.Staff.ListStaff(c.Request().Context())
	if err != nil {
		return err
	}
	failures, err := h.Staff.RecentSignInFailures(c.Request().Context())
	if err != nil {
		return err
	}
	m.AdminPage = h.adminPage(c, "admin.staff.heading")
	m.Roles, m.AddURL = roleNames(), views.StaffPath
	me := staffFrom(c)
	doneID := c.QueryParam("id")
	for _, s := range list {
		id := strconv.FormatInt(s.ID, 10)
		r := views.StaffRow{ID: id, Email: s.Email, Role: string(s.Role), Created: day(c, s.CreatedAt),
			Self: me != nil && me.ID == s.ID}
		if s.DisabledAt != nil {
			r.Disabled = day(c, *s.DisabledAt)
		}
		if !r.Self {
			r.RoleURL = staffURL(s.ID, "role")
			if s.DisabledAt == nil {
				r.DisableURL = staffURL(s.ID, "disable")
				r.ResetURL = staffURL(s.ID, "reset")
				if r.Failures = failures[s.ID]; r.Failures > 0 {
					r.UnlockURL = staffURL(s.ID, "unlock")
				}
			}
		}
		if m.DoneKey != "" && id == doneID {
			m.DoneEmail = s.Email
		}
		m.Rows = append(m.Rows, r)
	}
	return render(c, status, views.StaffListPage(m))
}

// addStaff creates an account with a generated password and shows the
// password once. A bad email or role, or one that has an account already,
// brings the form back with what was typed. The password is made here
// (generatePassword) rather than typed by the admin: a generated one is
// strong, and nobody has to make one up on the spot.
func (h *Handler) addStaff(c echo.Context) error {
	ctx := c.Request().Context()
	me := staffFrom(c)
	if me == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	typed := strings.TrimSpace(c.FormValue("email"))
	if len(typed) > maxEmailLen {
		typed = typed[:maxEmailLen]
	}
	form := views.StaffAddForm{Email: typed, Role: c.FormValue("role")}
	email := db.NormalizeEmail(typed)
	switch {
	case !db.ValidEmail(email):
		form.ErrorKey = "admin.staff.err.email"
	case !domain.Role(form.Role).Valid():
		form.Role, form.ErrorKey = string(domain.RoleViewer), "admin.staff.err.role"
	}
	if form.ErrorKey != "" {
		return h.staffFormProblem(c, http.StatusBadRequest, form)
	}

	password := generatePassword()
	hash, err := hashPasswordInSlot(ctx, password)
	if err != nil {
		return err
	}
	s, err := h.Staff.CreateStaff(ctx, db.NewStaff{Email: email, PasswordHash: hash, Role: domain.Role(form.Role),
		Actor: me.Email, ActorID: &me.ID, IP: c.RealIP()})
	if errors.Is(err, db.ErrConflict) {
		form.ErrorKey = "admin.staff.err.exists"
		return h.staffFormProblem(c, http.StatusConflict, form)
	}
	if err != nil {
		return err
	}
	h.logger().InfoContext(ctx, "staff account added", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "staff_id", s.ID, "role", s.Role)
	return render(c, http.StatusOK, views.StaffCreatedPage(views.StaffCreated{
		AdminPage: h.adminPage(c, "admin.staff.created.heading"),
		Email:     s.Email, Role: string(s.Role), Password: password, BackURL: views.StaffPath,
	}))
}

func (h *Handler) staffFormProblem(c echo.Context, status int, form views.StaffAddForm) error {
	h.logger().WarnContext(c.Request().Context(), "staff account not added",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "status", status, "reason", form.ErrorKey)
	return h.renderStaffList(c, status, views.StaffList{Add: form})
}

// generatePassword makes a new account's first password: 26 characters of
// base32 from crypto/rand, 128 bits, well over password.MinLen.
func generatePassword() string { return rand.Text() }

// withStaff loads the account named by :id, answering 404 when there is
// none, and refuses any action on the admin's own account: nobody demotes
// or disables themselves (and so locks the dashboard's last admin out).
func (h *Handler) withStaff(fn func(echo.Context, *db.Staff, *db.Staff) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		me := staffFrom(c)
		if me == nil {
			return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return h.staffProblem(c, http.StatusNotFound, "admin.staff.err.notfound")
		}
		s, err := h.Staff.StaffByID(c.Request().Context(), id)
		if errors.Is(err, db.ErrNotFound) {
			return h.staffProblem(c, http.StatusNotFound, "admin.staff.err.notfound")
		}
		if err != nil {
			return err
		}
		if s.ID == me.ID {
			return h.staffProblem(c, http.StatusForbidden, "admin.staff.err.self")
		}
		return fn(c, me, s)
	}
}

// staffAudit is who did a staff action, for the audit entry.
func staffAudit(c echo.Context, me *db.Staff) db.AuditEntry {
	return db.AuditEntry{StaffID: &me.ID, Actor: me.Email, IP: c.RealIP()}
}

// setStaffRole gives another account a new role. Setting the role it has
// already changes and records nothing.
func (h *Handler) setStaffRole(c echo.Context, me, s *db.Staff) error {
	role := c.FormValue("role")
	if !domain.Role(role).Valid() {
		return h.staffProblem(c, http.StatusBadRequest, "admin.staff.err.role")
	}
	ctx, cancel := changeContext(c)
	defer cancel()
	if _, err := h.Staff.SetStaffRole(ctx, s.ID, domain.Role(role), staffAudit(c, me)); err != nil {
		return h.staffChangeFailed(c, err)
	}
	return c.Redirect(http.StatusSeeOther, views.StaffPath+"?done=role&id="+url.QueryEscape(strconv.FormatInt(s.ID, 10)))
}

func (h *Handler) confirmDisableStaff(c echo.Context, _, s *db.Staff) error {
	if s.DisabledAt != nil {
		return c.Redirect(http.StatusSeeOther, views.StaffPath)
	}
	return h.staffConfirmPage(c, s)
}

func (h *Handler) staffConfirmPage(c echo.Context, s *db.Staff) error {
	return render(c, http.StatusOK, views.StaffDisableConfirmPage(views.StaffDisableConfirm{
		AdminPage: h.adminPage(c, "admin.staff.confirm.heading"),
		Email:     s.Email, Role: string(s.Role), PostURL: staffURL(s.ID, "disable"), BackURL: views.StaffPath,
	}))
}

// disableStaff disables another account and ends its sessions, after
// confirmation.
func (h *Handler) disableStaff(c echo.Context, me, s *db.Staff) error {
	if !confirmed(c) {
		return h.staffConfirmPage(c, s)
	}
	ctx, cancel := changeContext(c)
	defer cancel()
	if err := h.Staff.DisableStaff(ctx, s.ID, staffAudit(c, me)); err != nil {
		return h.staffChangeFailed(c, err)
	}
	h.logger().InfoContext(c.Request().Context(), "staff account disabled", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "staff_id", s.ID)
	return c.Redirect(http.StatusSeeOther, views.StaffPath+"?done=disabled&id="+url.QueryEscape(strconv.FormatInt(s.ID, 10)))
}

// unlockStaffSignIn clears another account's sign-in throttle (see
// domain.SignInWait): its email's failures, from every address, no longer
// count. For the real person held back by someone guessing their password;
// audited like every staff action.
func (h *Handler) unlockStaffSignIn(c echo.Context, me, s *db.Staff) error {
	ctx, cancel := changeContext(c)
	defer cancel()
	if _, err := h.Staff.UnlockSignIn(ctx, s.ID, staffAudit(c, me)); err != nil {
		return h.staffChangeFailed(c, err)
	}
	h.logger().InfoContext(c.Request().Context(), "staff sign-in throttle cleared", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "staff_id", s.ID)
	return c.Redirect(http.StatusSeeOther, views.StaffPath+"?done=unlocked&id="+url.QueryEscape(strconv.FormatInt(s.ID, 10)))
}

// changeContext lets a staff change, once asked for, finish and be audited
// even if the browser goes away meanwhile.
func changeContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
}

// staffChangeFailed answers a role change or disable the database refused.
func (h *Handler) staffChangeFailed(c echo.Context, err error) error {
	switch {
	case errors.Is(err, db.ErrLastAdmin):
		return h.staffProblem(c, http.StatusConflict, "admin.staff.err.lastadmin")
	case errors.Is(err, db.ErrNotFound):
		return h.staffProblem(c, http.StatusNotFound, "admin.staff.err.notfound")
	}
	return err
}

// staffProblem renders the staff page's error page, with the way back to
// the list.
func (h *Handler) staffProblem(c echo.Context, status int, msgKey string) error {
	h.logger().WarnContext(c.Request().Context(), "staff request refused",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "method", c.Request().Method,
		"path", c.Request().URL.Path, "status", status, "reason", msgKey)
	return render(c, status, views.StaffErrorPage(views.StaffError{
		AdminPage: h.adminPage(c, "error.heading"), Status: status, Message: i18n.T(langOf(c), msgKey), BackURL: views.StaffPath,
	}))
}

// roleNames lists every role's name, lowest first, for the role pickers.
func roleNames() []string {
	names := make([]string, len(domain.Roles))
	for i, r := range domain.Roles {
		names[i] = string(r)
	}
	return names
}
