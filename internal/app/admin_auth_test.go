package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

const staffPassword = "correct horse battery staple"

// addStaff creates a staff account the way `onboard staff add` does.
func (e *env) addStaff(email, role string) *db.Staff {
	e.t.Helper()
	hash, err := password.Hash(staffPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := e.db.CreateStaff(context.Background(), db.NewStaff{Email: email, PasswordHash: hash, Role: domain.Role(role), Actor: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// signIn opens the sign-in page and submits email and password.
func (e *env) signIn(b *browser, email, password, next string) page {
	e.t.Helper()
	form := b.get(e.web.URL + "/admin/login")
	if form.status != http.StatusOK {
		e.t.Fatalf("sign-in page: %d\n%s", form.status, form.body)
	}
	return b.post(e.web.URL+"/admin/login", url.Values{"email": {email}, "password": {password}, "next": {next},
		"_csrf": {csrfOf(e.t, form)}})
}

func staffCookieOf(t *testing.T, p page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "onboard_staff" || c.Name == "__Host-onboard_staff" { // dev, and outside dev
			return c
		}
	}
	t.Fatalf("no staff session cookie in %v", p.header["Set-Cookie"])
	return nil
}

func (e *env) auditActions(actor string) []string {
	e.t.Helper()
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var actions []string
	for i := len(log) - 1; i >= 0; i-- { // oldest first
		if log[i].Actor == actor && strings.HasPrefix(log[i].Action, "staff.sign") {
			actions = append(actions, log[i].Action)
		}
	}
	return actions
}

func TestAdminWithoutSessionIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	csrf := csrfOf(t, b.get(e.web.URL+"/admin/login"))
	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		location string
	}{
		{"dashboard", http.MethodGet, "/admin/", http.StatusSeeOther, "/admin/login?next=%2Fadmin%2F"},
		{"group root", http.MethodGet, "/admin", http.StatusSeeOther, "/admin/login?next=%2Fadmin"},
		{"with a query", http.MethodGet, "/admin/?status=pending", http.StatusSeeOther, "/admin/login?next=%2Fadmin%2F%3Fstatus%3Dpending"},
		{"unknown page", http.MethodGet, "/admin/onboardings/123", http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fonboardings%2F123"},
		{"sign-out", http.MethodPost, "/admin/logout", http.StatusUnauthorized, ""},
		{"unknown action", http.MethodPost, "/admin/onboardings/123/cancel", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res page
			if tt.method == http.MethodGet {
				res = b.get(e.web.URL + tt.path)
			} else {
				res = b.post(e.web.URL+tt.path, url.Values{"_csrf": {csrf}})
			}
			if res.status != tt.status || res.location != tt.location {
				t.Fatalf("%s %s: %d Location %q, want %d %q\n%s", tt.method, tt.path, res.status, res.location, tt.status, tt.location, res.body)
			}
			if tt.status == http.StatusUnauthorized && !strings.Contains(res.body, `data-testid="sign-in-link"`) {
				t.Fatalf("a 401 should offer to sign in:\n%s", res.body)
			}
		})
	}
}

func TestAdminSignInAndOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice := e.addStaff("alice@example.com", string(domain.RoleOperator))
	e.addStaff("dora@example.com", string(domain.RoleAdmin))
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE staff SET disabled_at = now() WHERE email = 'dora@example.com'`); err != nil {
		t.Fatal(err)
	}

	// Every failure looks the same: 401, one message, what was typed kept
	// in the email field and the password nowhere.
	failures := []struct{ name, email, password string }{
		{"wrong password", "alice@example.com", "correct horse battery stapler"},
		{"unknown email", "mallory@example.com", staffPassword},
		{"disabled account", "dora@example.com", staffPassword},
		{"empty password", "alice@example.com", ""},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			b := e.browser()
			res := e.signIn(b, f.email, f.password, "")
			if res.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", res.status)
			}
			if !strings.Contains(res.body, "Feil e-post eller passord.") || !strings.Contains(res.body, `data-testid="signin-error"`) {
				t.Fatalf("want the one generic message:\n%s", res.body)
			}
			if !strings.Contains(res.body, `value="`+f.email+`"`) {
				t.Errorf("the typed email should stay in the field")
			}
			if f.password != "" && strings.Contains(res.body, f.password) {
				t.Errorf("the page shows the password")
			}
			if c := res.header.Get("Set-Cookie"); strings.Contains(c, "onboard_staff=") {
				t.Errorf("a failure must not set a session cookie: %q", c)
			}
		})
	}

	b := e.browser()
	res := e.signIn(b, "Alice@Example.com", staffPassword, "/admin/?from=test")
	if res.status != http.StatusSeeOther || res.location != "/admin/?from=test" {
		t.Fatalf("sign-in: %d Location %q\n%s", res.status, res.location, res.body)
	}
	ck := staffCookieOf(t, res)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/admin" || ck.Secure ||
		ck.MaxAge < int((8*time.Hour-time.Minute).Seconds()) || ck.MaxAge > int((8*time.Hour).Seconds()) || len(ck.Value) < 43 {
		t.Fatalf("session cookie flags: %+v", ck)
	}
	home := b.get(e.web.URL + "/admin/")
	if home.status != http.StatusOK || !strings.Contains(home.body, `data-testid="staff-email">alice@example.com<`) ||
		!strings.Contains(home.body, `data-role="operator"`) || !strings.Contains(home.body, `data-testid="sign-out"`) {
		t.Fatalf("dashboard: %d\n%s", home.status, home.body)
	}
	if strings.Contains(home.body, staffPassword) {
		t.Fatal("the dashboard shows the password")
	}
	// Signed in, the sign-in page sends the browser on.
	if again := b.get(e.web.URL + "/admin/login?next=%2Fadmin%2Fx"); again.status != http.StatusSeeOther || again.location != "/admin/x" {
		t.Fatalf("sign-in page while signed in: %d %q", again.status, again.location)
	}

	// Sign-out ends the session on the server: a copy of the cookie is worthless.
	out := b.post(e.web.URL+"/admin/logout", url.Values{"_csrf": {csrfOf(t, home)}})
	if out.status != http.StatusSeeOther || out.location != "/admin/login" || staffCookieOf(t, out).MaxAge >= 0 {
		t.Fatalf("sign-out: %d %q %v", out.status, out.location, out.header["Set-Cookie"])
	}
	thief := e.browser()
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/admin/", nil)
	req.AddCookie(&http.Cookie{Name: "onboard_staff", Value: ck.Value})
	if old := thief.do(req); old.status != http.StatusSeeOther || !strings.HasPrefix(old.location, "/admin/login") {
		t.Fatalf("the old cookie after sign-out: %d %q", old.status, old.location)
	}

	if got, want := strings.Join(e.auditActions("alice@example.com"), " "),
		"staff.sign_in_failed staff.sign_in staff.sign_out"; got != want {
		t.Fatalf("audit for alice: %q, want %q", got, want)
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if out := log[0]; out.Action != db.AuditSignOut || out.StaffID == nil || *out.StaffID != alice.ID || out.IP != "127.0.0.1" {
		t.Fatalf("sign-out entry: %+v", out)
	}
	if got := strings.Join(e.auditActions("mallory@example.com"), " "); got != "staff.sign_in_failed" {
		t.Fatalf("a failed sign-in for an unknown email is audited too: %q", got)
	}
}

func TestAdminSessionCookieSecureOutsideDev(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_DEV": "false", "ONBOARD_SUPPORT_EMAIL": "support@example.com", "ONBOARD_PUBLIC_URL": "https://onboard.example"})
	e.addStaff("alice@example.com", string(domain.RoleViewer))
	// The CSRF cookie is Secure too, so this plain-HTTP client carries it by hand.
	b := e.browser()
	form := b.get(e.web.URL + "/admin/login")
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/login", strings.NewReader(url.Values{
		"email": {"alice@example.com"}, "password": {staffPassword}, "_csrf": {csrfOf(t, form)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range (&http.Response{Header: form.header}).Cookies() {
		req.AddCookie(c)
	}
	res := b.do(req)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", res.status, res.body)
	}
	if ck := staffCookieOf(t, res); ck.Name != "__Host-onboard_staff" || ck.Path != "/" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("outside dev the session cookie must be Secure: %+v", ck)
	}
}

func TestAdminExpiredSessionIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("alice@example.com", string(domain.RoleViewer))
	b := e.browser()
	if res := e.signIn(b, "alice@example.com", staffPassword, ""); res.status != http.StatusSeeOther || res.location != "/admin/" {
		t.Fatalf("sign-in: %d %q", res.status, res.location)
	}
	if res := b.get(e.web.URL + "/admin/"); res.status != http.StatusOK {
		t.Fatalf("dashboard: %d", res.status)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE staff_sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	res := b.get(e.web.URL + "/admin/")
	if res.status != http.StatusSeeOther || res.location != "/admin/login?next=%2Fadmin%2F" {
		t.Fatalf("expired session: %d %q", res.status, res.location)
	}
	if !strings.Contains(strings.Join(res.header["Set-Cookie"], " "), "onboard_staff=;") {
		t.Fatalf("the expired cookie should be cleared: %v", res.header["Set-Cookie"])
	}
}

func TestAdminSignInIsNoOpenRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("alice@example.com", string(domain.RoleViewer))
	for _, next := range []string{"//evil.example/", "https://evil.example/admin/", "/\\evil.example", "/onboard/standard"} {
		res := e.signIn(e.browser(), "alice@example.com", staffPassword, next)
		if res.status != http.StatusSeeOther || res.location != "/admin/" {
			t.Errorf("next %q: %d Location %q, want /admin/", next, res.status, res.location)
		}
	}
}

// TestAdminSignInRateLimitInParallel fires wrong passwords for one email all
// at once: the throttle is counted and recorded atomically per email, so no
// more than the free failures are checked (401) and every other one is held
// back (429). The throttle's other rules: signin_throttle_test.go.
func TestAdminSignInRateLimitInParallel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("alice@example.com", string(domain.RoleViewer))
	const n = 30
	// Each attempt has its own browser and CSRF token, fetched first, so the
	// posts can leave together.
	type attempt struct {
		b    *browser
		csrf string
	}
	attempts := make([]attempt, n)
	for i := range attempts {
		b := e.browser()
		attempts[i] = attempt{b, csrfOf(t, b.get(e.web.URL+"/admin/login"))}
	}
	start := make(chan struct{})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			form := url.Values{"email": {"alice@example.com"}, "password": {fmt.Sprintf("wrong password %d", i)}, "_csrf": {a.csrf}}
			req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := a.b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] > domain.SignInPair.Free || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
		t.Fatalf("statuses %v: want at most %d × 401 and the rest 429", count, domain.SignInPair.Free)
	}
	if got := len(e.auditActions("alice@example.com")); got != count[http.StatusUnauthorized] {
		t.Fatalf("%d failures audited for %d answered 401", got, count[http.StatusUnauthorized])
	}
	t.Logf("%d parallel wrong passwords: %d × 401, %d × 429", n, count[http.StatusUnauthorized], count[http.StatusTooManyRequests])
}

// TestAdminSignInWithAPasswordAsEmail: what is typed as the email lands in
// the audit log only when it is an email address; a password pasted into
// the field is recorded under a placeholder.
func TestAdminSignInWithAPasswordAsEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const pasted = "Tr0ub4dor&3 pasted in the wrong field"
	if res := e.signIn(e.browser(), pasted, "x", ""); res.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.status)
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Action != db.AuditSignInFailed || log[0].Actor != db.NotAnEmailActor {
		t.Fatalf("audit: %+v", log)
	}
	if strings.Contains(fmt.Sprintf("%+v", log), "Tr0ub4dor") {
		t.Fatal("the audit log holds what was pasted")
	}
}
