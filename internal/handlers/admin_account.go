package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/password"
	"github.com/onboard-altinn/onboard/views"
)

// PasswordStore is the part of the database the password pages use: a
// staff member's own change, an admin's reset of another account, and the
// reset code's use. It is part of StaffStore.
type PasswordStore interface {
	PasswordFailures(ctx context.Context, staffID int64, since time.Time) (int, error)
	ChangePassword(ctx context.Context, a db.PasswordChange, check func(currentHash string) bool) (db.PasswordChangeResult, error)
	CreatePasswordReset(ctx context.Context, n db.NewPasswordReset) (*db.PasswordReset, error)
	PasswordResetByCode(ctx context.Context, code string) (*db.ResetCode, error)
	UsePasswordReset(ctx context.Context, u db.UseReset) (*db.UseResetResult, error)
}

const (
	// DefaultResetTTL is how long an admin's reset code works when
	// Handler.StaffResetTTL is not set.
	DefaultResetTTL = 24 * time.Hour

	// A staff member's own password change is refused for passwordWindow
	// once the account has this many wrong current passwords since its
	// last change: a session left open is no way to guess the password.
	// (Only the session's holder can try, so this holds back no one else.)
	passwordWindow      = 15 * time.Minute
	maxPasswordFailures = 5
)

func rules() views.PasswordRules {
	return views.PasswordRules{MinLen: password.MinLen, MaxLen: password.MaxLen}
}

// newPasswordProblem is the error of a new password typed twice, as the
// form's error key and field; "" when it keeps the rules.
func newPasswordProblem(pw, again string) (key, field string) {
	switch err := password.Check(pw); {
	case errors.Is(err, password.ErrTooShort):
		return "admin.account.err.short", "new"
	case err != nil:
		return "admin.account.err.long", "new"
	case pw != again:
		return "admin.account.err.mismatch", "confirm"
	}
	return "", ""
}

// accountPasswordForm is the signed-in staff member's "change password"
// page; ?done= says what just happened.
func (h *Handler) accountPasswordForm(c echo.Context) error {
	m := views.AccountPassword{}
	switch c.QueryParam("done") {
	case "changed", "reset":
		m.DoneKey = "admin.account.done." + c.QueryParam("done")
	}
	return h.renderAccountPassword(c, http.StatusOK, m)
}

func (h *Handler) renderAccountPassword(c echo.Context, status int, m views.AccountPassword) error {
	m.AdminPage = h.adminPage(c, "admin.account.heading")
	m.PasswordRules, m.PostURL = rules(), views.AccountPasswordPath
	if status != http.StatusOK {
		h.logger().WarnContext(c.Request().Context(), "password not changed",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "status", status, "reason", m.ErrorKey)
	}
	return render(c, status, views.AccountPasswordPage(m))
}

// changeOwnPassword changes the signed-in staff member's password: the
// current one must be right (wrong ones are counted and limited, like
// sign-ins), the new one keep the rules and be typed twice. Every other
// session of the account ends; this one stays.
func (h *Handler) changeOwnPassword(c echo.Context) error {
	ctx := c.Request().Context()
	me := staffFrom(c)
	ck, err := c.Cookie(h.staffCookieName())
	if me == nil || err != nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	current, pw, again := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	m := views.AccountPassword{}
	switch {
	case current == "":
		m.ErrorKey, m.ErrorField = "admin.account.err.current", "current"
	default:
		m.ErrorKey, m.ErrorField = newPasswordProblem(pw, again)
		if m.ErrorKey == "" && pw == current {
			m.ErrorKey, m.ErrorField = "admin.account.err.same", "new"
		}
	}
	if m.ErrorKey != "" {
		return h.renderAccountPassword(c, http.StatusBadRequest, m)
	}
	since := time.Now().Add(-passwordWindow)
	// A first look before any hashing; ChangePassword counts again under
	// its lock.
	if n, err := h.Staff.PasswordFailures(ctx, me.ID, since); err != nil {
		return err
	} else if n >= maxPasswordFailures {
		return h.passwordLimited(c)
	}
	release, err := acquireHashSlot(ctx, maxHashWait)
	if err != nil {
		c.Response().Header().Set("Retry-After", "10")
		m.ErrorKey = "admin.signin.busy"
		return h.renderAccountPassword(c, http.StatusServiceUnavailable, m)
	}
	defer release()
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	cctx, cancel := changeContext(c)
	defer cancel()
	res, err := h.Staff.ChangePassword(cctx, db.PasswordChange{StaffID: me.ID, KeepSession: ck.Value, NewHash: hash,
		IP: c.RealIP(), Since: since, MaxFailures: maxPasswordFailures},
		func(currentHash string) bool {
			return len(current) <= password.MaxLen && password.Verify(currentHash, current)
		})
	release()
	switch {
	case errors.Is(err, db.ErrNotFound), errors.Is(err, db.ErrStaffDisabled):
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	case err != nil:
		return err
	case res.Limited:
		return h.passwordLimited(c)
	case !res.Changed:
		m.ErrorKey, m.ErrorField = "admin.account.err.wrong", "current"
		return h.renderAccountPassword(c, http.StatusBadRequest, m)
	}
	h.logger().InfoContext(ctx, "staff password changed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"staff_id", me.ID, "sessions_ended", res.SessionsEnded)
	return c.Redirect(http.StatusSeeOther, views.AccountPasswordPath+"?done=changed")
}

func (h *Handler) passwordLimited(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "900")
	return h.renderAccountPassword(c, http.StatusTooManyRequests, views.AccountPassword{
		ErrorKey: "admin.account.err.limited", ErrorField: "current"})
}

func (h *Handler) resetTTL() time.Duration {
	if h.StaffResetTTL > 0 {
		return h.StaffResetTTL
	}
	return DefaultResetTTL
}

// confirmResetStaff asks before resetting another account's password.
func (h *Handler) confirmResetStaff(c echo.Context, _, s *db.Staff) error {
	if s.DisabledAt != nil {
		return h.staffProblem(c, http.StatusConflict, "admin.reset.err.disabled")
	}
	return h.resetConfirmPage(c, s)
}

func (h *Handler) resetConfirmPage(c echo.Context, s *db.Staff) error {
	return render(c, http.StatusOK, views.StaffResetConfirmPage(views.StaffResetConfirm{
		AdminPage: h.adminPage(c, "admin.reset.confirm.heading"),
		Email:     s.Email, Role: string(s.Role), TTL: ttlWords(langOf(c), h.resetTTL()),
		PostURL: staffURL(s.ID, "reset"), BackURL: views.StaffPath,
	}))
}

// resetStaffPassword, once confirmed, makes a one-time code for another
// account to set a new password with and shows it (and its link) once:
// the old password stops working and every session of the account ends.
// The code is in no log line and no audit entry; the database has its hash.
func (h *Handler) resetStaffPassword(c echo.Context, me, s *db.Staff) error {
	if !confirmed(c) {
		return h.confirmResetStaff(c, me, s)
	}
	lock, err := hashPasswordInSlot(c.Request().Context(), rand.Text())
	if err != nil {
		return err
	}
	ctx, cancel := changeContext(c)
	defer cancel()
	r, err := h.Staff.CreatePasswordReset(ctx, db.NewPasswordReset{StaffID: s.ID, TTL: h.resetTTL(), LockHash: lock, By: staffAudit(c, me)})
	switch {
	case errors.Is(err, db.ErrStaffDisabled):
		return h.staffProblem(c, http.StatusConflict, "admin.reset.err.disabled")
	case err != nil:
		return h.staffChangeFailed(c, err)
	}
	h.logger().InfoContext(ctx, "staff password reset", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "staff_id", s.ID, "sessions_ended", r.SessionsEnded, "expires", r.Expires)
	lang := langOf(c)
	return render(c, http.StatusOK, views.StaffResetCreatedPage(views.StaffResetCreated{
		AdminPage: h.adminPage(c, "admin.reset.created.heading"),
		Email:     s.Email, Code: groupCode(r.Code),
		Link:    h.PublicURL + views.ResetPath + "?code=" + url.QueryEscape(r.Code),
		Expires: i18n.When(lang, r.Expires.In(oslo)), BackURL: views.StaffPath,
	}))
}

// ttlWords is how long a reset code works, in whole hours or minutes.
func ttlWords(lang string, d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return i18n.T(lang, "admin.reset.hours", int(d/time.Hour))
	}
	return i18n.T(lang, "admin.reset.minutes", max(1, int(d/time.Minute)))
}

// groupCode writes a code in groups of four, to read aloud or type.
func groupCode(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// resetForm is where a staff member sets a new password with a reset
// code: from the link (?code=, checked at once) or typed.
func (h *Handler) resetForm(c echo.Context) error {
	m := views.ResetForm{}
	if code := c.QueryParam("code"); code != "" {
		rc, err := h.Staff.PasswordResetByCode(c.Request().Context(), code)
		if err != nil {
			return h.resetFailed(c, err)
		}
		m.Code, m.Email = db.NormalizeResetCode(code), rc.Email
	}
	return h.renderResetForm(c, http.StatusOK, m)
}

func (h *Handler) renderResetForm(c echo.Context, status int, m views.ResetForm) error {
	m.AdminPage = h.adminPage(c, "admin.reset.heading")
	m.PasswordRules, m.PostURL, m.SignInURL = rules(), views.ResetPath, adminLoginPath
	return render(c, status, views.ResetFormPage(m))
}

// resetSubmit sets the new password with the code and signs the staff
// member in. A code that does not work gets a page that says why; a new
// password that breaks the rules brings the form back.
func (h *Handler) resetSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	code := db.NormalizeResetCode(c.FormValue("code"))
	pw, again := c.FormValue("new"), c.FormValue("confirm")
	m := views.ResetForm{Code: code}
	// From the link the code is a hidden field, and the form says whose it
	// is; typed, it stays a field to correct.
	fromLink := c.FormValue("via") == "link"
	if code == "" {
		m.ErrorKey, m.ErrorField = "admin.reset.err.code", "code"
		return h.renderResetForm(c, http.StatusBadRequest, m)
	}
	rc, err := h.Staff.PasswordResetByCode(ctx, code)
	if errors.Is(err, db.ErrNotFound) && !fromLink { // most likely a typo
		m.ErrorKey, m.ErrorField = "admin.reset.err.unknown", "code"
		return h.renderResetForm(c, http.StatusBadRequest, m)
	}
	if err != nil {
		return h.resetFailed(c, err)
	}
	if fromLink {
		m.Email = rc.Email
	}
	if m.ErrorKey, m.ErrorField = newPasswordProblem(pw, again); m.ErrorKey != "" {
		return h.renderResetForm(c, http.StatusBadRequest, m)
	}
	hash, err := hashPasswordInSlot(ctx, pw)
	if err != nil {
		c.Response().Header().Set("Retry-After", "10")
		m.ErrorKey = "admin.signin.busy"
		return h.renderResetForm(c, http.StatusServiceUnavailable, m)
	}
	cctx, cancel := changeContext(c)
	defer cancel()
	res, err := h.Staff.UsePasswordReset(cctx, db.UseReset{Code: code, NewHash: hash, IP: c.RealIP(), SessionTTL: h.staffSessionTTL()})
	if err != nil {
		return h.resetFailed(c, err)
	}
	if ck, err := c.Cookie(h.staffCookieName()); err == nil { // whoever was signed in here before is not any more
		if err := h.Staff.DeleteStaffSession(cctx, ck.Value); err != nil {
			return err
		}
	}
	h.logger().InfoContext(ctx, "staff password set with a reset code", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"staff_id", res.Staff.ID)
	c.SetCookie(&http.Cookie{
		Name: h.staffCookieName(), Value: res.Token, Path: h.staffCookiePath(), Expires: res.Expires,
		MaxAge: max(1, int(time.Until(res.Expires).Seconds())), HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusSeeOther, views.AccountPasswordPath+"?done=reset")
}

// resetFailed answers a reset code that does not work with a page that
// says why: expired or used (410), or not known (404, which is also what a
// code replaced by a newer one is).
func (h *Handler) resetFailed(c echo.Context, err error) error {
	m := views.ResetProblem{ResetURL: views.ResetPath, SignInURL: adminLoginPath}
	switch {
	case errors.Is(err, db.ErrResetExpired):
		m.Status, m.Reason = http.StatusGone, "expired"
	case errors.Is(err, db.ErrResetUsed):
		m.Status, m.Reason = http.StatusGone, "used"
	case errors.Is(err, db.ErrStaffDisabled):
		m.Status, m.Reason = http.StatusGone, "disabled"
	case errors.Is(err, db.ErrNotFound):
		m.Status, m.Reason = http.StatusNotFound, "unknown"
	default:
		return err
	}
	m.MessageKey = "admin.reset.problem." + m.Reason
	m.AdminPage = h.adminPage(c, "admin.reset.problem.heading")
	h.logger().WarnContext(c.Request().Context(), "reset code refused",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "status", m.Status, "reason", m.Reason)
	return render(c, m.Status, views.ResetProblemPage(m))
}
