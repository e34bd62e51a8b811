package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/password"
	"github.com/onboard-altinn/onboard/views"
)

// StaffStore is the part of the database staff sign-in and the staff page
// (admin_staff.go) use.
type StaffStore interface {
	SignInFailures(ctx context.Context, email, ip string) (domain.SignInFailures, error)
	SignIn(ctx context.Context, a db.SignInAttempt, check func(s *db.Staff) bool) (db.SignInResult, error)
	StaffBySession(ctx context.Context, token string) (*db.StaffSession, error)
	DeleteStaffSession(ctx context.Context, token string) error
	DeleteExpiredStaffSessions(ctx context.Context) (int64, error)
	AddAudit(ctx context.Context, e db.AuditEntry) error

	ListStaff(ctx context.Context) ([]db.Staff, error)
	StaffByID(ctx context.Context, id int64) (*db.Staff, error)
	CreateStaff(ctx context.Context, n db.NewStaff) (*db.Staff, error)
	SetStaffRole(ctx context.Context, id int64, role domain.Role, by db.AuditEntry) (*db.Staff, error)
	DisableStaff(ctx context.Context, id int64, by db.AuditEntry) error
	UnlockSignIn(ctx context.Context, id int64, by db.AuditEntry) (*db.Staff, error)
	RecentSignInFailures(ctx context.Context) (map[int64]int, error)

	PasswordStore // admin_account.go: changing and resetting passwords
}

// The staff session's cookie. Outside dev it is a __Host- cookie (Secure,
// Path=/, no Domain), which a page on a sibling subdomain cannot set: no
// one can plant their own session in a staff member's browser (signing them
// into the planter's account). In dev over plain http the browser would
// refuse a __Host- cookie, so it keeps the plain name, limited to /admin.
const (
	staffCookieDev  = "onboard_staff"
	staffCookieHost = "__Host-onboard_staff"
	staffContextKey = "onboard.staff_session"
	// noStaffContextKey marks a request whose staff cookie was looked up
	// and found no live session.
	noStaffContextKey = "onboard.no_staff_session"

	adminLoginPath  = "/admin/login"
	adminLogoutPath = "/admin/logout"
	adminHomePath   = "/admin/"

	// DefaultStaffSessionTTL is how long a staff session lasts when
	// Handler.StaffSessionTTL is not set.
	DefaultStaffSessionTTL = 8 * time.Hour

	// maxHashWait is how long a sign-in waits for a free hash slot (see
	// hashSlots) before it is told to try again.
	maxHashWait = 10 * time.Second

	maxEmailLen = 254
)

// requireStaff lets a request through only with a live staff session whose
// role is at least minRole. Without one, a GET is sent to sign in (and back
// afterwards) and anything else answers 401; a lower role answers 403. The
// session is in the context for the handler: see staffFrom. A minRole that is
// not a role lets nobody through.
func (h *Handler) requireStaff(minRole domain.Role) echo.MiddlewareFunc {
	need := domain.RoleRank(minRole)
	if need < 0 {
		need = len(domain.Roles)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s, err := h.staffSession(c)
			if err != nil {
				return err
			}
			if s == nil {
				if _, err := c.Cookie(h.staffCookieName()); err == nil {
					h.clearStaffCookie(c) // expired or signed out elsewhere
				}
				if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
					return c.Redirect(http.StatusSeeOther, adminLoginPath+"?next="+url.QueryEscape(adminNext(c.Request().URL.RequestURI())))
				}
				return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
			}
			if domain.RoleRank(s.Staff.Role) < need {
				return h.adminError(c, http.StatusForbidden, "admin.error.403")
			}
			return next(c)
		}
	}
}

// staffSession returns the request's live session, looking it up once per
// request (a miss too: a made-up or expired cookie is not looked up again by
// the body limits, CSRF and the access check); nil when there is none.
func (h *Handler) staffSession(c echo.Context) (*db.StaffSession, error) {
	if s, ok := c.Get(staffContextKey).(*db.StaffSession); ok {
		return s, nil
	}
	if c.Get(noStaffContextKey) != nil {
		return nil, nil
	}
	ck, err := c.Cookie(h.staffCookieName())
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, nil
	}
	s, err := h.Staff.StaffBySession(c.Request().Context(), ck.Value)
	if errors.Is(err, db.ErrNotFound) {
		c.Set(noStaffContextKey, true)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.Set(staffContextKey, s)
	return s, nil
}

// staffFrom is the signed-in staff member, for handlers behind requireStaff;
// nil anywhere else.
func staffFrom(c echo.Context) *db.Staff {
	if s, ok := c.Get(staffContextKey).(*db.StaffSession); ok {
		return &s.Staff
	}
	return nil
}

// adminPage is the staff layout's model for the request's staff member.
func (h *Handler) adminPage(c echo.Context, titleKey string) views.AdminPage {
	p := views.AdminPage{Page: h.page(c, i18n.T(langOf(c), titleKey)), LogoutURL: adminLogoutPath}
	p.CSRF, _ = c.Get("csrf").(string)
	if s := staffFrom(c); s != nil {
		p.StaffEmail, p.StaffRole = s.Email, string(s.Role)
	}
	return p
}

// adminError answers with an error page inside the staff layout.
func (h *Handler) adminError(c echo.Context, status int, msgKey string) error {
	h.logger().WarnContext(c.Request().Context(), "staff request refused",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "method", c.Request().Method,
		"path", c.Request().URL.Path, "status", status)
	m := views.AdminError{AdminPage: h.adminPage(c, "error.heading"), Status: status, Message: i18n.T(langOf(c), msgKey)}
	if status == http.StatusUnauthorized {
		m.SignInURL = adminLoginPath
	}
	return render(c, status, views.AdminErrorPage(m))
}

// adminNext is where to go after signing in: a path under /admin/ on this
// site, never another host and never the sign-in page itself.
func adminNext(next string) string {
	p := localPath(next)
	if (p != "/admin" && !strings.HasPrefix(p, "/admin/") && !strings.HasPrefix(p, "/admin?")) ||
		strings.HasPrefix(p, adminLoginPath) {
		return adminHomePath
	}
	return p
}

func (h *Handler) renderLogin(c echo.Context, status int, email, next, errKey string) error {
	return render(c, status, views.AdminLoginPage(views.AdminLogin{
		AdminPage: h.adminPage(c, "admin.signin.heading"),
		Action:    adminLoginPath, Next: adminNext(next), Email: email, ErrorKey: errKey,
	}))
}

// adminLoginForm is the sign-in page; a signed-in browser goes straight on.
func (h *Handler) adminLoginForm(c echo.Context) error {
	next := c.QueryParam("next")
	s, err := h.staffSession(c)
	if err != nil {
		return err
	}
	if s != nil {
		return c.Redirect(http.StatusSeeOther, adminNext(next))
	}
	return h.renderLogin(c, http.StatusOK, "", next, "")
}

// adminLogin checks an email and password. Every failure gets the same
// answer (401 and "wrong email or password") after the same work: an unknown
// or disabled account is checked against a dummy hash. Failures are counted
// in the audit log, which is also what throttles them (domain.SignInWait):
// db.SignIn counts, checks and records under a per-email lock, so parallel
// attempts cannot all slip through. The throttle only ever delays, and says
// for how long; an unknown email is throttled like a known one. What was
// typed as the email is recorded as the failure's actor only when it is an
// email address.
func (h *Handler) adminLogin(c echo.Context) error {
	ctx := c.Request().Context()
	typed := strings.TrimSpace(c.FormValue("email"))
	email := db.NormalizeEmail(typed)
	pw := c.FormValue("password")
	next := c.FormValue("next")
	if len(typed) > maxEmailLen {
		typed = typed[:maxEmailLen]
	}
	if email == "" || pw == "" {
		return h.renderLogin(c, http.StatusUnauthorized, typed, next, "admin.signin.wrong")
	}
	if !db.ValidEmail(email) {
		email = "" // counted by address only, and audited as db.NotAnEmailActor
	}
	ip := c.RealIP()

	// A first look, before waiting for a hash slot, turns a flood at a
	// held-back email away cheaply; db.SignIn looks again under its lock.
	f, err := h.Staff.SignInFailures(ctx, email, ip)
	if err != nil {
		return err
	}
	if wait, limit := domain.SignInWait(f); wait > 0 {
		return h.signInLimited(c, typed, next, wait, limit)
	}

	release, err := acquireHashSlot(ctx, maxHashWait)
	if err != nil {
		h.logger().WarnContext(ctx, "staff sign-in waited too long for a password check",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "remote_ip", ip)
		c.Response().Header().Set("Retry-After", "10")
		return h.renderLogin(c, http.StatusServiceUnavailable, typed, next, "admin.signin.busy")
	}
	defer release()
	res, err := h.Staff.SignIn(ctx, db.SignInAttempt{
		Email: email, IP: ip, SessionTTL: h.staffSessionTTL(),
	}, func(s *db.Staff) bool {
		switch {
		case len(pw) > password.MaxLen:
			return false
		case s == nil:
			_ = password.Verify(password.Dummy, pw) // the same work as for a real account
			return false
		default:
			return password.Verify(s.PasswordHash, pw)
		}
	})
	release()
	if err != nil {
		return err
	}
	if res.Limited {
		_, limit := domain.SignInWait(res.Failures)
		return h.signInLimited(c, typed, next, res.Wait, limit)
	}
	if res.Staff == nil {
		return h.renderLogin(c, http.StatusUnauthorized, typed, next, "admin.signin.wrong")
	}

	if ck, err := c.Cookie(h.staffCookieName()); err == nil { // a new session replaces any old one
		if err := h.Staff.DeleteStaffSession(ctx, ck.Value); err != nil {
			return err
		}
	}
	if n, err := h.Staff.DeleteExpiredStaffSessions(ctx); err != nil {
		h.logger().WarnContext(ctx, "deleting expired staff sessions", "err", err)
	} else if n > 0 {
		h.logger().InfoContext(ctx, "deleted expired staff sessions", "count", n)
	}
	c.SetCookie(&http.Cookie{
		Name: h.staffCookieName(), Value: res.Token, Path: h.staffCookiePath(), Expires: res.Expires,
		MaxAge: max(1, int(time.Until(res.Expires).Seconds())), HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
	h.rotateCSRF(c) // the session's forms have a token of their own (csrf.go); the browser's starts afresh too
	return c.Redirect(http.StatusSeeOther, adminNext(next))
}

// signInLimited answers a sign-in the throttle holds back: 429, a
// Retry-After header, and the page saying in words when to try again. When
// it is the address's rule and the service does not read the client's
// address from the proxy, the log says what may be wrong: everyone behind
// one proxy shares its address.
func (h *Handler) signInLimited(c echo.Context, typed, next string, wait time.Duration, limit domain.SignInLimit) error {
	ctx := c.Request().Context()
	secs := int(math.Ceil(wait.Seconds()))
	h.logger().WarnContext(ctx, "staff sign-in throttled", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"remote_ip", c.RealIP(), "rule", string(limit), "retry_after_s", secs)
	if limit == domain.LimitAddress && !h.BehindProxy {
		h.logger().WarnContext(ctx, "many failed staff sign-ins from one address; if the service runs behind a proxy or load balancer, "+
			"set ONBOARD_BEHIND_PROXY=true so each client is counted by its own address", "remote_ip", c.RealIP())
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	lang := langOf(c)
	return render(c, http.StatusTooManyRequests, views.AdminLoginPage(views.AdminLogin{
		AdminPage: h.adminPage(c, "admin.signin.heading"),
		Action:    adminLoginPath, Next: adminNext(next), Email: typed,
		ErrorKey: "admin.signin.wait", ErrorText: i18n.T(lang, "admin.signin.wait", i18n.WaitWords(lang, time.Duration(secs)*time.Second)),
		ErrorHint: i18n.T(lang, "admin.signin.wait.hint"),
	}))
}

// adminLogout ends the session on the server, so the cookie is worthless
// even if a copy of it survives.
func (h *Handler) adminLogout(c echo.Context) error {
	ctx := c.Request().Context()
	s := staffFrom(c)
	if ck, err := c.Cookie(h.staffCookieName()); err == nil {
		if err := h.Staff.DeleteStaffSession(ctx, ck.Value); err != nil {
			return err
		}
	}
	if s != nil {
		if err := h.Staff.AddAudit(ctx, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: db.AuditSignOut, IP: c.RealIP()}); err != nil {
			return err
		}
	}
	h.clearStaffCookie(c)
	h.rotateCSRF(c)
	return c.Redirect(http.StatusSeeOther, adminLoginPath)
}

func (h *Handler) staffCookieName() string {
	if h.Dev {
		return staffCookieDev
	}
	return staffCookieHost
}

func (h *Handler) staffCookiePath() string {
	if h.Dev {
		return "/admin"
	}
	return "/" // a __Host- cookie must have Path=/
}

func (h *Handler) clearStaffCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: h.staffCookieName(), Value: "", Path: h.staffCookiePath(), MaxAge: -1,
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) staffSessionTTL() time.Duration {
	if h.StaffSessionTTL > 0 {
		return h.StaffSessionTTL
	}
	return DefaultStaffSessionTTL
}

// maxConcurrentHashes caps the argon2id hashes (package password) running at
// once in this process: each holds 19 MiB, so a burst of sign-ins queues
// for a slot instead of taking the memory. It is also the most sign-ins
// that hold a database connection at once (db.SignIn checks the password
// inside its transaction).
const maxConcurrentHashes = 4

// hashSlots is the process-wide semaphore behind maxConcurrentHashes: one
// per process, like the memory it protects, so it is not per Handler.
var hashSlots = make(chan struct{}, maxConcurrentHashes)

// acquireHashSlot waits up to wait (and no longer than ctx) for a hash slot
// and returns the function that gives it back; calling that more than once
// is harmless.
func acquireHashSlot(ctx context.Context, wait time.Duration) (release func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	select {
	case hashSlots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-hashSlots }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("handlers: waiting for a password hash slot: %w", ctx.Err())
	}
}

// hashPasswordInSlot is password.Hash inside a hash slot, for handlers.
func hashPasswordInSlot(ctx context.Context, plain string) (string, error) {
	release, err := acquireHashSlot(ctx, maxHashWait)
	if err != nil {
		return "", err
	}
	defer release()
	return password.Hash(plain)
}
