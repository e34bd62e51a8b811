package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

const accountPath = "/admin/account/password"

// changePassword posts the change form from b's own page.
func (e *env) changePassword(b *browser, current, pw, again string) page {
	e.t.Helper()
	form := b.get(e.web.URL + accountPath)
	if form.status != http.StatusOK || !strings.Contains(form.body, `data-testid="password-form"`) {
		e.t.Fatalf("password page: %d\n%s", form.status, form.body)
	}
	return b.post(e.web.URL+accountPath, url.Values{"current": {current}, "new": {pw}, "confirm": {again}, "_csrf": {csrfOf(e.t, form)}})
}

// signsIn reports whether email and pw sign in (a 303), else it is a 401.
func (e *env) signsIn(email, pw string) bool {
	e.t.Helper()
	switch res := e.signIn(e.browser(), email, pw, ""); res.status {
	case http.StatusSeeOther:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		e.t.Fatalf("sign-in as %s: %d", email, res.status)
		return false
	}
}

// signedInStill reports whether b's staff session still opens the dashboard.
func (e *env) signedInStill(b *browser) bool {
	e.t.Helper()
	res := b.get(e.web.URL + "/admin/")
	switch {
	case res.status == http.StatusOK:
		return true
	case res.status == http.StatusSeeOther && strings.HasPrefix(res.location, "/admin/login"):
		return false
	}
	e.t.Fatalf("dashboard: %d %q", res.status, res.location)
	return false
}

// auditText is every audit entry's actor, action and details as text, to
// look for secrets in.
func (e *env) auditText() string {
	e.t.Helper()
	var s string
	err := e.db.Pool.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(actor || ' ' || action || ' ' || coalesce(detail::text, ''), E'\n'), '') FROM audit_log`).Scan(&s)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestAccountChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice := e.addStaff("alice@example.com", string(domain.RoleViewer))
	b := e.signedIn("alice@example.com")
	other := e.signedIn("alice@example.com") // another browser of hers
	const newPw = "a brand new passphrase for alice"

	home := b.get(e.web.URL + "/admin/")
	if !strings.Contains(home.body, `href="`+accountPath+`" data-testid="nav-password"`) {
		t.Fatalf("the header should link to the password page:\n%s", home.body)
	}
	form := b.get(e.web.URL + accountPath)
	if !strings.Contains(form.body, `data-testid="password-rules">Det nye passordet må ha minst 12 tegn og høyst 1024 byte.`) {
		t.Fatalf("the page should say the rules:\n%s", form.body)
	}

	refusals := []struct {
		name, current, pw, again, field, msg string
	}{
		{"no current password", "", newPw, newPw, "current", "Skriv inn det nåværende passordet ditt."},
		{"too short", staffPassword, "short one", "short one", "new", "Det nye passordet er for kort."},
		{"too long", staffPassword, strings.Repeat("x", 1025), strings.Repeat("x", 1025), "new", "Det nye passordet er for langt."},
		{"typed differently", staffPassword, newPw, newPw + "!", "confirm", "De to nye passordene er ikke like."},
		{"the same as now", staffPassword, staffPassword, staffPassword, "new", "det samme som det nåværende"},
		{"wrong current password", "not the password at all", newPw, newPw, "current", "Det nåværende passordet er feil."},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			res := e.changePassword(b, r.current, r.pw, r.again)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, `data-testid="password-error" data-field-name="`+r.field+`"`) ||
				!strings.Contains(res.body, r.msg) || !strings.Contains(res.body, `aria-invalid="true"`) {
				t.Fatalf("%d, want 400 with %q on %s\n%s", res.status, r.msg, r.field, res.body)
			}
			if strings.Contains(res.body, newPw) || (r.current != "" && strings.Contains(res.body, r.current)) {
				t.Fatal("the page shows a typed password")
			}
		})
	}
	if res := b.post(e.web.URL+accountPath, url.Values{"current": {staffPassword}, "new": {newPw}, "confirm": {newPw}}); res.status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d, want 403", res.status)
	}
	if !e.signedInStill(other) || !e.signsIn("alice@example.com", staffPassword) {
		t.Fatal("refused changes must change nothing")
	}

	res := e.changePassword(b, staffPassword, newPw, newPw)
	if res.status != http.StatusSeeOther || res.location != accountPath+"?done=changed" {
		t.Fatalf("change: %d %q\n%s", res.status, res.location, res.body)
	}
	if done := b.get(e.web.URL + res.location); !strings.Contains(done.body, `data-testid="done"`) ||
		!strings.Contains(done.body, "Passordet er endret. Du er logget ut alle andre steder.") {
		t.Fatalf("after the change:\n%s", done.body)
	}
	if !e.signedInStill(b) {
		t.Fatal("the session the change was made in should stay")
	}
	if e.signedInStill(other) {
		t.Fatal("her other session should have ended")
	}
	if e.signsIn("alice@example.com", staffPassword) {
		t.Fatal("the old password still signs in")
	}
	if !e.signsIn("alice@example.com", newPw) {
		t.Fatal("the new password does not sign in")
	}

	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var changed, failed int
	for _, l := range log {
		switch l.Action {
		case db.AuditPasswordChanged:
			changed++
			if l.StaffID == nil || *l.StaffID != alice.ID || l.Actor != "alice@example.com" || l.IP != "127.0.0.1" ||
				l.Detail["sessions_ended"] != float64(2) { // other's, and the sign-in that checked nothing had changed
				t.Errorf("the change's audit entry: %+v", l)
			}
		case db.AuditPasswordChangeFailed:
			failed++
		}
	}
	if changed != 1 || failed != 1 {
		t.Fatalf("audit: %d changes and %d failures, want 1 and 1 (only the wrong current password is a failure)", changed, failed)
	}
	if a := e.auditText(); strings.Contains(a, newPw) || strings.Contains(a, staffPassword) {
		t.Fatal("the audit log holds a password")
	}
}

// TestAccountWrongPasswordIsLimited: wrong current passwords are counted
// like failed sign-ins; after five the form refuses even the right one.
func TestAccountWrongPasswordIsLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("mallory@example.com", string(domain.RoleViewer))
	b := e.signedIn("mallory@example.com")
	const newPw = "taken over by somebody else"
	for i := range 5 {
		if res := e.changePassword(b, "guess number "+strconv.Itoa(i), newPw, newPw); res.status != http.StatusBadRequest {
			t.Fatalf("guess %d: %d, want 400", i, res.status)
		}
	}
	res := e.changePassword(b, staffPassword, newPw, newPw)
	if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "For mange forsøk med feil nåværende passord") ||
		res.header.Get("Retry-After") == "" {
		t.Fatalf("the sixth try: %d, want 429\n%s", res.status, res.body)
	}
	if !e.signsIn("mallory@example.com", staffPassword) || e.signsIn("mallory@example.com", newPw) {
		t.Fatal("the password must not have changed")
	}
}

var (
	resetCodeRE = regexp.MustCompile(`id="reset-code" value="([^"]+)"`)
	resetLinkRE = regexp.MustCompile(`id="reset-link" value="([^"]+)"`)
	reasonRE    = regexp.MustCompile(`data-testid="reset-problem" data-reason="([a-z]+)" data-status="([0-9]+)"`)
)

// resetPassword has admin b reset s's password, confirmed, and returns the
// code and link shown.
func (e *env) resetPassword(b *browser, s *db.Staff) (code, link string, p page) {
	e.t.Helper()
	confirm := b.get(e.web.URL + staffPath(s, "reset"))
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-testid="confirm-email">`+s.Email+`<`) {
		e.t.Fatalf("reset confirmation: %d\n%s", confirm.status, confirm.body)
	}
	p = b.post(e.web.URL+staffPath(s, "reset"), url.Values{"_csrf": {csrfOf(e.t, confirm)}, "confirm": {"yes"}})
	c, l := resetCodeRE.FindStringSubmatch(p.body), resetLinkRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || c == nil || l == nil {
		e.t.Fatalf("reset: %d\n%s", p.status, p.body)
	}
	return c[1], strings.ReplaceAll(l[1], "&amp;", "&"), p
}

// resetProblem is a reset page's refusal: its reason and status.
func resetProblem(t *testing.T, p page) (reason string, status int) {
	t.Helper()
	m := reasonRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("not a reset problem page (%d):\n%s", p.status, p.body)
	}
	n, _ := strconv.Atoi(m[2])
	if n != p.status {
		t.Fatalf("the page says %d, the answer is %d", n, p.status)
	}
	return m[1], n
}

// useReset opens link in b and sets pw with it; the answer to the POST.
func (e *env) useReset(b *browser, link, pw, again string) page {
	e.t.Helper()
	form := b.get(link)
	if form.status != http.StatusOK || !strings.Contains(form.body, `data-testid="reset-form"`) {
		e.t.Fatalf("reset form %s: %d\n%s", link, form.status, form.body)
	}
	code := regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(form.body)
	if code == nil {
		e.t.Fatalf("the link's form carries no code:\n%s", form.body)
	}
	return b.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrfOf(e.t, form)}, "code": {code[1]}, "via": {"link"},
		"new": {pw}, "confirm": {again}})
}

func TestAccountResetByAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	boss := e.addStaff("boss@example.com", string(domain.RoleAdmin))
	alice := e.addStaff("alice@example.com", string(domain.RoleViewer))
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	admin := e.signedIn("boss@example.com")
	aliceB := e.signedIn("alice@example.com")

	// Only admins reset, and not their own.
	for _, who := range []string{"olga@example.com", "alice@example.com"} {
		b := e.signedIn(who)
		csrf := csrfOf(t, b.get(e.web.URL+"/admin/"))
		if res := b.get(e.web.URL + staffPath(alice, "reset")); res.status != http.StatusForbidden {
			t.Fatalf("%s: GET reset: %d, want 403", who, res.status)
		}
		if res := b.post(e.web.URL+staffPath(alice, "reset"), url.Values{"_csrf": {csrf}, "confirm": {"yes"}}); res.status != http.StatusForbidden {
			t.Fatalf("%s: POST reset: %d, want 403", who, res.status)
		}
	}
	list := admin.get(e.web.URL + "/admin/staff")
	ownRow := regexp.MustCompile(`(?s)<tr data-testid="staff-row" data-id="` + strconv.FormatInt(boss.ID, 10) + `".*?</tr>`).FindString(list.body)
	if strings.Contains(ownRow, "reset-password-link") || !strings.Contains(list.body, `href="`+staffPath(alice, "reset")+`" data-testid="reset-password-link"`) {
		t.Fatalf("the reset action should be on others' rows only:\n%s", list.body)
	}
	if res := admin.get(e.web.URL + staffPath(boss, "reset")); res.status != http.StatusForbidden {
		t.Fatalf("resetting one's own password: %d, want 403 (the account page is for that)", res.status)
	}
	// A POST without confirm=yes only asks.
	if res := admin.post(e.web.URL+staffPath(alice, "reset"), url.Values{"_csrf": {csrfOf(t, list)}}); res.status != http.StatusOK ||
		!strings.Contains(res.body, `data-action="reset"`) || !e.signedInStill(aliceB) {
		t.Fatalf("an unconfirmed reset must only ask: %d", res.status)
	}
	if strings.Contains(e.auditText(), db.AuditPasswordReset) {
		t.Fatal("nothing reset yet")
	}

	if confirm := admin.get(e.web.URL + staffPath(alice, "reset")); !strings.Contains(confirm.body, "Koden virker én gang, i 24 timer.") {
		t.Fatalf("the confirmation should say the code's life (24 h by default):\n%s", confirm.body)
	}
	code, link, shown := e.resetPassword(admin, alice)
	if cc := shown.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the code's page must not be cached: %q", cc)
	}
	plain := db.NormalizeResetCode(code)
	if len(plain) < 26 || link != e.web.URL+"/admin/reset?code="+plain {
		t.Fatalf("code %q, link %q", code, link)
	}
	if !strings.Contains(shown.body, `data-copy="reset-link"`) || !strings.Contains(shown.body, `data-copy="reset-code"`) {
		t.Fatal("the code and the link should have copy buttons")
	}
	// Shown once: not on the staff page, nowhere in the database or the
	// audit log in the clear.
	if again := admin.get(e.web.URL + "/admin/staff"); strings.Contains(again.body, plain) || strings.Contains(again.body, code) {
		t.Fatal("the staff page shows the code again")
	}
	var rows string
	if err := e.db.Pool.QueryRow(context.Background(),
		`SELECT string_agg(row_to_json(r)::text, E'\n') FROM staff_password_resets r`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	var hashes int
	sum := sha256.Sum256([]byte(plain))
	if err := e.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM staff_password_resets WHERE code_hash = $1 AND staff_id = $2 AND created_by = $3`, sum[:], alice.ID, boss.ID).Scan(&hashes); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{plain, code, strings.ToLower(plain)} {
		if strings.Contains(rows, s) || strings.Contains(e.auditText(), s) {
			t.Fatalf("the code is in the database in the clear:\n%s", rows)
		}
	}
	if hashes != 1 {
		t.Fatalf("want the code's SHA-256 stored once for alice, made by boss:\n%s", rows)
	}
	// Her sessions ended, and her old password no longer works.
	if e.signedInStill(aliceB) {
		t.Fatal("alice's session should have ended")
	}
	if e.signsIn("alice@example.com", staffPassword) {
		t.Fatal("the old password still signs in after a reset")
	}

	// She follows the link; a bad new password brings the form back and
	// spends nothing.
	const newPw = "alice chose this one herself"
	anon := e.browser()
	if res := e.useReset(anon, link, "too short", "too short"); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, "Det nye passordet er for kort.") || !strings.Contains(res.body, `data-testid="reset-for">Nytt passord for <strong>alice@example.com</strong>`) {
		t.Fatalf("a short password: %d\n%s", res.status, res.body)
	}
	res := e.useReset(anon, link, newPw, newPw)
	if res.status != http.StatusSeeOther || res.location != accountPath+"?done=reset" {
		t.Fatalf("using the code: %d %q\n%s", res.status, res.location, res.body)
	}
	if done := anon.get(e.web.URL + res.location); done.status != http.StatusOK ||
		!strings.Contains(done.body, `data-testid="staff-email">alice@example.com<`) || !strings.Contains(done.body, "Det nye passordet ditt er lagret") {
		t.Fatalf("after the reset she should be signed in: %d\n%s", done.status, done.body)
	}
	if !e.signsIn("alice@example.com", newPw) || e.signsIn("alice@example.com", staffPassword) {
		t.Fatal("the new password should sign in, the old not")
	}

	// Used once: the link and the typed code are refused now, in words.
	if reason, status := resetProblem(t, e.browser().get(link)); reason != "used" || status != http.StatusGone {
		t.Fatalf("the link again: %s %d", reason, status)
	}
	later := e.browser()
	form := later.get(e.web.URL + "/admin/reset")
	res = later.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrfOf(t, form)}, "code": {code}, "new": {"yet another passphrase"}, "confirm": {"yet another passphrase"}})
	if reason, _ := resetProblem(t, res); reason != "used" || !strings.Contains(res.body, "allerede brukt") {
		t.Fatalf("the code typed again: %s\n%s", reason, res.body)
	}
	if !e.signsIn("alice@example.com", newPw) {
		t.Fatal("a refused code must change nothing")
	}

	want := []string{
		"boss@example.com staff.password_reset alice@example.com",
		"alice@example.com staff.password_reset_used alice@example.com",
	}
	if got := e.staffChanges(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAccountResetCodes: a typed code (in any case, with or without its
// dashes) works from the sign-in page's link; a newer code replaces an
// older one; an expired code says so in bokmål and English; a disabled
// account's code stops working.
func TestAccountResetCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_STAFF_RESET_TTL": "2h"})
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	bob := e.addStaff("bob@example.com", string(domain.RoleOperator))
	admin := e.signedIn("boss@example.com")
	// The code's life is the setting's.
	if confirm := admin.get(e.web.URL + staffPath(bob, "reset")); !strings.Contains(confirm.body, "Koden virker én gang, i 2 timer.") {
		t.Fatalf("the confirmation should say the code's life:\n%s", confirm.body)
	}

	// Typed: the sign-in page leads to the form.
	login := e.browser().get(e.web.URL + "/admin/login")
	if !strings.Contains(login.body, `href="/admin/reset" data-testid="use-code-link"`) {
		t.Fatalf("the sign-in page should lead to the code form:\n%s", login.body)
	}
	old, _, _ := e.resetPassword(admin, bob)
	var life float64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT extract(epoch FROM expires_at - created_at) FROM staff_password_resets
		WHERE staff_id = $1 AND used_at IS NULL`, bob.ID).Scan(&life); err != nil || life < 7190 || life > 7210 {
		t.Fatalf("the code works for %v s (%v), want 2 h", life, err)
	}
	code, _, _ := e.resetPassword(admin, bob)
	if reason, status := resetProblem(t, e.browser().get(e.web.URL+"/admin/reset?code="+db.NormalizeResetCode(old))); reason != "unknown" || status != http.StatusNotFound {
		t.Fatalf("a replaced code: %s %d", reason, status)
	}
	b := e.browser()
	form := b.get(e.web.URL + "/admin/reset")
	csrf := csrfOf(t, form)
	if res := b.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrf}, "code": {"NOT-A-REAL-CODE"}, "new": {"bob's own passphrase"}, "confirm": {"bob's own passphrase"}}); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, "Vi kjenner ikke igjen den koden") || !strings.Contains(res.body, `id="code" name="code" value="NOTAREALCODE"`) {
		t.Fatalf("a mistyped code: %d\n%s", res.status, res.body)
	}
	res := b.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrf}, "code": {" " + strings.ToLower(code) + " "},
		"new": {"bob's own passphrase"}, "confirm": {"bob's own passphrase"}})
	if res.status != http.StatusSeeOther || !e.signsIn("bob@example.com", "bob's own passphrase") {
		t.Fatalf("the typed code: %d\n%s", res.status, res.body)
	}

	// Expired: the code's expiry moved into the past in the database.
	code, link, _ := e.resetPassword(admin, bob)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE staff_password_resets
		SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE staff_id = $1 AND used_at IS NULL`, bob.ID); err != nil {
		t.Fatal(err)
	}
	nb := e.browser().get(link)
	if reason, status := resetProblem(t, nb); reason != "expired" || status != http.StatusGone || !strings.Contains(nb.body, "Denne engangskoden har gått ut på tid.") {
		t.Fatalf("expired, in bokmål: %s %d\n%s", reason, status, nb.body)
	}
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	en := e.browser().do(req)
	if reason, _ := resetProblem(t, en); reason != "expired" || !strings.Contains(en.body, "This one-time code has expired.") || !strings.Contains(en.body, `lang="en"`) {
		t.Fatalf("expired, in English:\n%s", en.body)
	}
	late := e.browser()
	form = late.get(e.web.URL + "/admin/reset")
	res = late.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrfOf(t, form)}, "code": {code}, "new": {"too late for this one"}, "confirm": {"too late for this one"}})
	if reason, _ := resetProblem(t, res); reason != "expired" {
		t.Fatalf("an expired code posted: %s", reason)
	}

	// Disabled after the reset: the code stops working, and a disabled
	// account offers no reset.
	_, link, _ = e.resetPassword(admin, bob)
	confirm := admin.get(e.web.URL + staffPath(bob, "disable"))
	if res := admin.post(e.web.URL+staffPath(bob, "disable"), url.Values{"_csrf": {csrfOf(t, confirm)}, "confirm": {"yes"}}); res.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.status)
	}
	if reason, _ := resetProblem(t, e.browser().get(link)); reason != "disabled" {
		t.Fatalf("a disabled account's code: %s", reason)
	}
	if res := admin.get(e.web.URL + staffPath(bob, "reset")); res.status != http.StatusConflict {
		t.Fatalf("resetting a disabled account: %d, want 409", res.status)
	}
}

// lockedBuffer is a log the server writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLoggedEnv is newEnv (without the simulator's server) whose every log
// line, down to debug, goes to the returned buffer.
func newLoggedEnv(t *testing.T) (*env, *lockedBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := testVars(t, dbtest.NewURL(t), ln.Addr().String(), "http://"+ln.Addr().String())
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	logs := &lockedBuffer{}
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, db: store}
	e.web = &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Web}}
	e.web.Start()
	t.Cleanup(e.web.Close)
	return e, logs
}

// TestAccountSecretsNotLogged: a reset code, the passwords typed and the
// session cookie's token are in no log line, whatever happens to them:
// made, opened, refused (a short password, a typo), used, opened again;
// a password changed and a wrong one tried. Two uses of one code at the
// same moment: one sets the password, the other is told the code is used.
func TestAccountSecretsNotLogged(t *testing.T) {
	t.Parallel()
	e, logs := newLoggedEnv(t)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	vic := e.addStaff("vic@example.com", string(domain.RoleViewer))
	admin := e.signedIn("boss@example.com")
	const vicPw, bossPw = "vic's secret new passphrase", "boss's secret new passphrase"

	code, link, _ := e.resetPassword(admin, vic)
	if res := e.useReset(e.browser(), link, "short", "short"); res.status != http.StatusBadRequest {
		t.Fatalf("short: %d", res.status)
	}
	typo := e.browser()
	form := typo.get(e.web.URL + "/admin/reset")
	if res := typo.post(e.web.URL+"/admin/reset", url.Values{"_csrf": {csrfOf(t, form)}, "code": {code + "X"}, "new": {vicPw}, "confirm": {vicPw}}); res.status != http.StatusBadRequest {
		t.Fatalf("a typo: %d", res.status)
	}

	// Two browsers post the same code at once.
	browsers := []*browser{e.browser(), e.browser()}
	forms := make([]url.Values, len(browsers))
	for i, b := range browsers {
		f := b.get(link)
		forms[i] = url.Values{"_csrf": {csrfOf(t, f)}, "code": {db.NormalizeResetCode(code)}, "via": {"link"},
			"new": {vicPw + strconv.Itoa(i)}, "confirm": {vicPw + strconv.Itoa(i)}}
	}
	statuses := make([]int, len(browsers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/reset", strings.NewReader(forms[i].Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, s := range statuses {
		if s == http.StatusSeeOther {
			won = i
		} else if s != http.StatusGone {
			t.Fatalf("statuses %v: want one 303 and one 410", statuses)
		}
	}
	if won < 0 || statuses[0] == statuses[1] {
		t.Fatalf("statuses %v: want one 303 and one 410", statuses)
	}
	if !e.signsIn("vic@example.com", vicPw+strconv.Itoa(won)) || e.signsIn("vic@example.com", vicPw+strconv.Itoa(1-won)) {
		t.Fatal("the password should be the one of the use that won")
	}
	if reason, _ := resetProblem(t, e.browser().get(link)); reason != "used" {
		t.Fatalf("the link again: %s", reason)
	}

	if res := e.changePassword(admin, "a wrong password typed", bossPw, bossPw); res.status != http.StatusBadRequest {
		t.Fatalf("wrong current: %d", res.status)
	}
	if res := e.changePassword(admin, staffPassword, bossPw, bossPw); res.status != http.StatusSeeOther {
		t.Fatalf("change: %d", res.status)
	}

	all := logs.String()
	if !strings.Contains(all, "staff password reset") || !strings.Contains(all, "staff password changed") {
		t.Fatalf("the log should say what happened:\n%s", all)
	}
	u, _ := url.Parse(e.web.URL)
	var tokens []string
	for _, b := range append(browsers, admin) {
		for _, c := range b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/admin/"}) {
			if c.Name == "onboard_staff" {
				tokens = append(tokens, c.Value)
			}
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("want the staff cookies of the winner and the admin, got %d", len(tokens))
	}
	secrets := append([]string{code, db.NormalizeResetCode(code), strings.ToLower(db.NormalizeResetCode(code)),
		vicPw, bossPw, staffPassword, "a wrong password typed"}, tokens...)
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a log line holds a secret (%.6s…)", s)
		}
	}
	if a := e.auditText(); strings.Contains(a, db.NormalizeResetCode(code)) || strings.Contains(a, vicPw) {
		t.Error("the audit log holds a secret")
	}
}
