package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// The CSRF regressions of issue 13's penetration test: a token in the query
// string, cookie tossing from a sibling subdomain, a token that outlives a
// sign-in, and same-site posts. Each sends the attack through the real
// server and checks that it is refused and nothing changed.

// roleOf is an account's role in the database now.
func (e *env) roleOf(email string) domain.Role {
	e.t.Helper()
	return e.staffNamed(email).Role
}

// liveAPIKeys counts the API keys not revoked.
func (e *env) liveAPIKeys() int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// postWith posts form to path as b, with extra request headers.
func (b *browser) postWith(u string, form url.Values, hdr map[string]string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

func TestCSRFTokenOnlyFromTheBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("vera@example.com", string(domain.RoleViewer))
	vera := e.staffNamed("vera@example.com")

	// A customer's form with the right token, but in the query string.
	b := e.browser()
	token := csrfOf(t, b.get(e.web.URL+"/onboard/standard/org"))
	if res := b.post(e.web.URL+"/onboard/standard/org?_csrf="+url.QueryEscape(token), url.Values{"orgno": {org}}); res.status != http.StatusForbidden ||
		!strings.Contains(res.body, `data-testid="error"`) {
		t.Fatalf("customer form, token in the query: %d, want 403 with the error page\n%s", res.status, res.body)
	}
	// The same token in the body goes through (the page's own form).
	if res := b.post(e.web.URL+"/onboard/standard/org", url.Values{"orgno": {org}, "_csrf": {token}}); res.status != http.StatusSeeOther {
		t.Fatalf("customer form, token in the body: %d", res.status)
	}

	// A staff role change with the admin's right token, in the query string.
	admin := e.signedIn("boss@example.com")
	token = csrfOf(t, admin.get(e.web.URL+"/admin/staff"))
	res := admin.post(e.web.URL+staffPath(vera, "role")+"?_csrf="+url.QueryEscape(token), url.Values{"role": {"admin"}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, `data-testid="error"`) {
		t.Fatalf("role change, token in the query: %d, want 403\n%s", res.status, res.body)
	}
	if got := e.roleOf("vera@example.com"); got != domain.RoleViewer {
		t.Fatalf("the refused role change was made: %s", got)
	}
	// A script may send it in X-CSRF-Token.
	if res := admin.postWith(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"operator"}}, map[string]string{"X-CSRF-Token": token}); res.status != http.StatusSeeOther {
		t.Fatalf("role change, token in the header: %d\n%s", res.status, res.body)
	}
	if got := e.roleOf("vera@example.com"); got != domain.RoleOperator {
		t.Fatalf("role after the header's change: %s", got)
	}
}

// TestCSRFCookieTossing: a page on a sibling subdomain puts its own CSRF
// cookie into a signed-in admin's browser and posts forms carrying the
// matching token. The token of a staff session is bound to the session, so
// neither a role change nor an API key's revocation goes through.
func TestCSRFCookieTossing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("mallory@example.com", string(domain.RoleViewer))
	mallory := e.staffNamed("mallory@example.com")
	admin := e.signedIn("boss@example.com")
	e.createAPIKey(admin, "ERP")
	list := admin.get(e.web.URL + "/admin/apikeys")
	revoke := regexp.MustCompile(`action="(/admin/apikeys/\d+/revoke)"`).FindStringSubmatch(list.body)
	if revoke == nil {
		t.Fatalf("no revoke form:\n%s", list.body)
	}

	// The attacker's own pair: a cookie and token from a browser of theirs.
	attacker := e.browser()
	tossed := csrfOf(t, attacker.get(e.web.URL+"/onboard/standard/org"))
	u, _ := url.Parse(e.web.URL)
	var name string
	for _, c := range attacker.c.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "onboard_csrf") {
			name = c.Name
		}
	}
	if name == "" {
		t.Fatal("the attacker's browser got no CSRF cookie")
	}
	// Tossed into the admin's jar, replacing the admin's own cookie.
	admin.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: tossed, Path: "/"}})

	if res := admin.post(e.web.URL+staffPath(mallory, "role"), url.Values{"role": {"admin"}, "_csrf": {tossed}}); res.status != http.StatusForbidden {
		t.Fatalf("role change with a tossed cookie and token: %d, want 403\n%s", res.status, res.body)
	}
	if res := admin.post(e.web.URL+revoke[1], url.Values{"_csrf": {tossed}}); res.status != http.StatusForbidden {
		t.Fatalf("key revocation with a tossed cookie and token: %d, want 403\n%s", res.status, res.body)
	}
	if got := e.roleOf("mallory@example.com"); got != domain.RoleViewer {
		t.Fatalf("mallory's role became %s", got)
	}
	if n := e.liveAPIKeys(); n != 1 {
		t.Fatalf("%d live API keys, want the 1 not revoked", n)
	}
	for _, c := range e.staffChanges() {
		if strings.Contains(c, "role_changed") {
			t.Fatalf("a refused change was audited: %v", e.staffChanges())
		}
	}
	// The admin's own pages still work: their forms carry the session's token.
	if res := admin.post(e.web.URL+revoke[1], url.Values{"_csrf": {csrfOf(t, admin.get(e.web.URL+"/admin/apikeys"))}}); res.status != http.StatusSeeOther {
		t.Fatalf("the admin's own revoke: %d\n%s", res.status, res.body)
	}
}

// TestCSRFTokenChangesAtSignIn: a token from before signing in (a form
// someone planted, or a page left open) is no good afterwards.
func TestCSRFTokenChangesAtSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("vera@example.com", string(domain.RoleViewer))
	vera := e.staffNamed("vera@example.com")
	b := e.browser()
	before := csrfOf(t, b.get(e.web.URL+"/admin/login"))
	u, _ := url.Parse(e.web.URL)
	cookieBefore := ""
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "onboard_csrf" {
			cookieBefore = c.Value
		}
	}
	if res := b.post(e.web.URL+"/admin/login", url.Values{"email": {"boss@example.com"}, "password": {staffPassword}, "_csrf": {before}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", res.status, res.body)
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "onboard_csrf" && c.Value == cookieBefore {
			t.Fatal("the CSRF cookie was not rotated at sign-in")
		}
	}
	if res := b.post(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"admin"}, "_csrf": {before}}); res.status != http.StatusForbidden {
		t.Fatalf("a token from before the sign-in: %d, want 403", res.status)
	}
	if got := e.roleOf("vera@example.com"); got != domain.RoleViewer {
		t.Fatalf("role became %s", got)
	}
	after := csrfOf(t, b.get(e.web.URL+"/admin/staff"))
	if after == before {
		t.Fatal("the dashboard's token is the one from before the sign-in")
	}
	// Signing in again (a new session) changes it once more.
	home := b.get(e.web.URL + "/admin/")
	if res := b.post(e.web.URL+"/admin/logout", url.Values{"_csrf": {csrfOf(t, home)}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.status)
	}
	if res := e.signIn(b, "boss@example.com", staffPassword, ""); res.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", res.status)
	}
	if res := b.post(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"admin"}, "_csrf": {after}}); res.status != http.StatusForbidden {
		t.Fatalf("the first session's token in the second: %d, want 403", res.status)
	}
	if res := b.post(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"operator"}, "_csrf": {csrfOf(t, b.get(e.web.URL+"/admin/staff"))}}); res.status != http.StatusSeeOther {
		t.Fatalf("the second session's own token: %d", res.status)
	}
}

// TestCSRFSameSiteIsRefused: a post the browser marks as from a sibling
// subdomain (Sec-Fetch-Site: same-site), or another site, is refused before
// its token is looked at, even a valid one.
func TestCSRFSameSiteIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("vera@example.com", string(domain.RoleViewer))
	vera := e.staffNamed("vera@example.com")
	admin := e.signedIn("boss@example.com")
	token := csrfOf(t, admin.get(e.web.URL+"/admin/staff"))
	for _, site := range []string{"same-site", "cross-site"} {
		res := admin.postWith(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"admin"}, "_csrf": {token}}, map[string]string{"Sec-Fetch-Site": site})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "annen nettside") {
			t.Fatalf("%s post with a valid token: %d, want 403 saying so\n%s", site, res.status, res.body)
		}
	}
	if got := e.roleOf("vera@example.com"); got != domain.RoleViewer {
		t.Fatalf("role became %s", got)
	}
	// A customer's form too, and nothing reaches Altinn.
	b := e.browser()
	ct := csrfOf(t, b.get(e.web.URL+"/onboard/standard/org"))
	if res := b.postWith(e.web.URL+"/onboard/standard/org", url.Values{"orgno": {org}, "_csrf": {ct}}, map[string]string{"Sec-Fetch-Site": "same-site"}); res.status != http.StatusForbidden {
		t.Fatalf("customer same-site post: %d", res.status)
	}
	// same-origin and none go on to the token, which must still be right.
	for _, site := range []string{"same-origin", "none"} {
		if res := admin.postWith(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"admin"}}, map[string]string{"Sec-Fetch-Site": site}); res.status != http.StatusForbidden {
			t.Fatalf("%s post without a token: %d, want 403", site, res.status)
		}
	}
	if res := admin.postWith(e.web.URL+staffPath(vera, "role"), url.Values{"role": {"operator"}, "_csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"}); res.status != http.StatusSeeOther {
		t.Fatalf("same-origin post with the token: %d", res.status)
	}
	// The API is not for browsers: no cookies, no CSRF, keys only; a
	// client's same-site header changes nothing there (an empty create is
	// the API's own 4xx, not a CSRF 403).
	key := e.createAPIKey(admin, "ERP")
	if res := e.api(nil, http.MethodPost, "/api/v1/onboardings", key, "{}", "Sec-Fetch-Site", "same-site"); res.status == http.StatusForbidden ||
		res.status < 400 || res.status >= 500 {
		t.Fatalf("API post with Sec-Fetch-Site: %d\n%s", res.status, res.body)
	}
	if e.simRequestsFor(org) != 0 {
		t.Fatal("a refused post reached Altinn")
	}
}

// TestCSRFCookieOutsideDev: outside dev the token's cookie has the __Host-
// prefix, so only this host over HTTPS can set it: Secure, Path=/, no
// Domain.
func TestCSRFCookieOutsideDev(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_DEV": "false", "ONBOARD_SUPPORT_EMAIL": "support@example.com", "ONBOARD_PUBLIC_URL": "https://onboard.example.com"})
	for _, path := range []string{"/onboard/standard/org", "/admin/login"} {
		res := e.browser().get(e.web.URL + path)
		var found bool
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if strings.HasSuffix(c.Name, "onboard_csrf") {
				found = true
				if c.Name != "__Host-onboard_csrf" || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly {
					t.Errorf("%s: CSRF cookie %+v, want __Host-onboard_csrf, Secure, Path=/, no Domain, HttpOnly", path, c)
				}
			}
		}
		for _, raw := range res.header.Values("Set-Cookie") {
			if strings.Contains(raw, "onboard_csrf") && strings.Contains(strings.ToLower(raw), "domain=") {
				t.Errorf("%s: the CSRF cookie names a Domain: %s", path, raw)
			}
		}
		if !found {
			t.Errorf("%s: no CSRF cookie in %v", path, res.header.Values("Set-Cookie"))
		}
	}
	// The plain name is not read outside dev: a sibling could set that one.
	b := e.browser()
	token := csrfOf(t, b.get(e.web.URL+"/onboard/standard/org"))
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/onboard/standard/org", strings.NewReader(url.Values{"orgno": {org}, "_csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fresh := e.browser()
	req.AddCookie(&http.Cookie{Name: "onboard_csrf", Value: token})
	if res := fresh.do(req); res.status != http.StatusForbidden {
		t.Fatalf("a plain onboard_csrf cookie outside dev: %d, want 403", res.status)
	}

	// The staff session's cookie is a __Host- one too: a sibling subdomain
	// cannot plant its own session (signing a staff member into the
	// planter's account). The test's jar sends no Secure cookie over plain
	// http, so the sign-in carries its CSRF cookie by hand.
	e.addStaff("olga@example.com", "operator")
	login := e.browser().get(e.web.URL + "/admin/login")
	var csrf *http.Cookie
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == "__Host-onboard_csrf" {
			csrf = c
		}
	}
	if csrf == nil {
		t.Fatalf("no CSRF cookie on the sign-in page: %v", login.header.Values("Set-Cookie"))
	}
	req, _ = http.NewRequest(http.MethodPost, e.web.URL+"/admin/login", strings.NewReader(url.Values{"email": {"olga@example.com"},
		"password": {staffPassword}, "_csrf": {csrfOf(t, login)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	res := e.browser().do(req)
	var staff *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if strings.HasSuffix(c.Name, "onboard_staff") {
			staff = c
		}
	}
	if res.status != http.StatusSeeOther || staff == nil || staff.Name != "__Host-onboard_staff" || !staff.Secure ||
		staff.Path != "/" || staff.Domain != "" || !staff.HttpOnly {
		t.Fatalf("sign-in outside dev: %d, staff cookie %+v; want __Host-onboard_staff, Secure, Path=/, no Domain, HttpOnly", res.status, staff)
	}
}
