package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

// fakeStaff knows sessions by token; nothing else is used by requireStaff.
type fakeStaff struct {
	StaffStore
	sessions map[string]*db.StaffSession
	lookups  int
}

func (f *fakeStaff) StaffBySession(_ context.Context, token string) (*db.StaffSession, error) {
	f.lookups++
	if s, ok := f.sessions[token]; ok {
		return s, nil
	}
	return nil, db.ErrNotFound
}

func TestRequireStaff(t *testing.T) {
	t.Parallel()
	session := func(id int64, role string) *db.StaffSession {
		return &db.StaffSession{Staff: db.Staff{ID: id, Email: role + "@example.com", Role: domain.Role(role)}, ExpiresAt: time.Now().Add(time.Hour)}
	}
	tests := []struct {
		name     string
		method   string
		token    string
		minRole  string
		status   int
		location string
	}{
		{"no session, GET", http.MethodGet, "", string(domain.RoleViewer), http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fthing%3Fq%3D1"},
		{"no session, HEAD", http.MethodHead, "", string(domain.RoleViewer), http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fthing%3Fq%3D1"},
		{"no session, POST", http.MethodPost, "", string(domain.RoleViewer), http.StatusUnauthorized, ""},
		{"unknown token, GET", http.MethodGet, "stale", string(domain.RoleViewer), http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fthing%3Fq%3D1"},
		{"unknown token, POST", http.MethodPost, "stale", string(domain.RoleOperator), http.StatusUnauthorized, ""},
		{"viewer reads", http.MethodGet, "viewer", string(domain.RoleViewer), http.StatusOK, ""},
		{"viewer may not act", http.MethodPost, "viewer", string(domain.RoleOperator), http.StatusForbidden, ""},
		{"viewer may not look at operator pages", http.MethodGet, "viewer", string(domain.RoleOperator), http.StatusForbidden, ""},
		{"operator acts", http.MethodPost, "operator", string(domain.RoleOperator), http.StatusOK, ""},
		{"operator may not manage staff", http.MethodPost, "operator", string(domain.RoleAdmin), http.StatusForbidden, ""},
		{"admin does everything", http.MethodPost, "admin", string(domain.RoleOperator), http.StatusOK, ""},
		{"admin manages staff", http.MethodGet, "admin", string(domain.RoleAdmin), http.StatusOK, ""},
		{"an unknown required role lets nobody in", http.MethodGet, "admin", "root", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &fakeStaff{sessions: map[string]*db.StaffSession{
				"viewer": session(1, string(domain.RoleViewer)), "operator": session(2, string(domain.RoleOperator)), "admin": session(3, string(domain.RoleAdmin)),
			}}
			h := &Handler{Staff: store, Dev: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			e := echo.New()
			e.HTTPErrorHandler = h.errorHandler
			var seen *db.Staff
			ok := func(c echo.Context) error {
				seen = staffFrom(c)
				return c.String(http.StatusOK, "ok")
			}
			// Two layers, as the dashboard has them: the group's viewer check,
			// then the route's own.
			e.Add(tt.method, "/admin/thing", ok, h.requireStaff(domain.RoleViewer), h.requireStaff(domain.Role(tt.minRole)))

			req := httptest.NewRequest(tt.method, "/admin/thing?q=1", nil)
			if tt.token != "" {
				req.AddCookie(&http.Cookie{Name: staffCookieDev, Value: tt.token})
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tt.status || rec.Header().Get("Location") != tt.location {
				t.Fatalf("%s: %d Location %q, want %d %q\n%s", tt.method, rec.Code, rec.Header().Get("Location"), tt.status, tt.location, rec.Body)
			}
			if tt.token != "" && store.lookups > 1 {
				t.Errorf("the session was looked up %d times in one request", store.lookups)
			}
			switch tt.status {
			case http.StatusOK:
				if seen == nil || string(seen.Role) != tt.token {
					t.Errorf("staffFrom = %+v, want the %s", seen, tt.token)
				}
			case http.StatusForbidden, http.StatusUnauthorized:
				if !strings.Contains(rec.Body.String(), `data-testid="error"`) {
					t.Errorf("want the error page:\n%s", rec.Body)
				}
			}
			if tt.token == "stale" && !strings.Contains(rec.Header().Get("Set-Cookie"), staffCookieDev+"=;") {
				t.Errorf("a stale session cookie should be cleared, Set-Cookie %q", rec.Header().Get("Set-Cookie"))
			}
		})
	}
}

func TestAdminNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"dashboard page", "/admin/onboardings?status=pending", "/admin/onboardings?status=pending"},
		{"group root", "/admin", "/admin"},
		{"empty", "", "/admin/"},
		{"customer page", "/onboard/standard", "/admin/"},
		{"other host", "//evil.example/admin/", "/admin/"},
		{"backslash host", "/\\evil.example", "/admin/"},
		{"absolute URL", "https://evil.example/admin/", "/admin/"},
		{"the sign-in page itself", "/admin/login?next=/admin/x", "/admin/"},
		{"lookalike prefix", "/administrator", "/admin/"},
	}
	for _, tt := range tests {
		if got := adminNext(tt.in); got != tt.want {
			t.Errorf("%s: adminNext(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// memStaff is an in-memory StaffStore for tests that go through the whole
// sign-in (without its rate limit); staff management is not in it.
type memStaff struct {
	StaffStore
	staff    map[string]*db.Staff
	sessions map[string]*db.StaffSession
	audit    []db.AuditEntry
}

func (m *memStaff) SignIn(_ context.Context, a db.SignInAttempt, check func(*db.Staff) bool) (db.SignInResult, error) {
	email := a.Email
	if !db.ValidEmail(email) {
		email = ""
	}
	s := m.staff[email]
	if !check(s) {
		failure := db.AuditEntry{Actor: email, Action: db.AuditSignInFailed, IP: a.IP}
		if email == "" {
			failure.Actor = db.NotAnEmailActor
		}
		m.audit = append(m.audit, failure)
		return db.SignInResult{}, nil
	}
	token := "token-" + s.Email
	m.sessions[token] = &db.StaffSession{Staff: *s, ExpiresAt: time.Now().Add(a.SessionTTL)}
	m.audit = append(m.audit, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: db.AuditSignIn, IP: a.IP})
	return db.SignInResult{Staff: s, Token: token, Expires: m.sessions[token].ExpiresAt}, nil
}

func (m *memStaff) StaffBySession(_ context.Context, token string) (*db.StaffSession, error) {
	if s, ok := m.sessions[token]; ok {
		return s, nil
	}
	return nil, db.ErrNotFound
}

func (m *memStaff) DeleteStaffSession(_ context.Context, token string) error {
	delete(m.sessions, token)
	return nil
}

func (m *memStaff) DeleteExpiredStaffSessions(context.Context) (int64, error) { return 0, nil }

func (m *memStaff) SignInFailures(context.Context, string, string) (domain.SignInFailures, error) {
	return domain.SignInFailures{Now: time.Now()}, nil
}

func (m *memStaff) AddAudit(_ context.Context, e db.AuditEntry) error {
	m.audit = append(m.audit, e)
	return nil
}

// TestSignInNeverLogsThePassword signs in wrongly and rightly through the
// whole server and looks for the password in the logs and the audit entries.
func TestSignInNeverLogsThePassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-Passw0rd-that-is-long"
	hash, err := password.Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	store := &memStaff{staff: map[string]*db.Staff{"alice@example.com": {ID: 1, Email: "alice@example.com", PasswordHash: hash, Role: domain.RoleAdmin}},
		sessions: map[string]*db.StaffSession{}}
	logs := &syncBuffer{}
	h := &Handler{Staff: store, Dev: true, StaffSessionTTL: time.Hour, SubmitPerMinute: 60,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	srv := httptest.NewServer(New(h))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, pw := range []string{secret + "x", secret} {
		res, err := client.Get(srv.URL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token:\n%s", body)
		}
		res, err = client.PostForm(srv.URL+"/admin/login", url.Values{"email": {"alice@example.com"}, "password": {pw}, "_csrf": {string(m[1])}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), secret) {
			t.Fatalf("the response shows the password:\n%s", body)
		}
		if pw == secret && (res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/") {
			t.Fatalf("sign-in: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	if !strings.Contains(logs.String(), "/admin/login") {
		t.Fatalf("the requests should have been logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("a log line holds the password:\n%s", logs.String())
	}
	if len(store.audit) != 2 || store.audit[0].Action != db.AuditSignInFailed || store.audit[1].Action != db.AuditSignIn {
		t.Fatalf("audit = %+v", store.audit)
	}
	if strings.Contains(fmt.Sprintf("%+v", store.audit), secret) {
		t.Fatal("an audit entry holds the password")
	}
}

// TestSignInWithAPasswordAsEmail pastes a password into the email field:
// the failure is audited under a placeholder, never as typed.
func TestSignInWithAPasswordAsEmail(t *testing.T) {
	t.Parallel()
	const pasted = "Tr0ub4dor&3-pasted-in-the-wrong-field"
	store := &memStaff{staff: map[string]*db.Staff{}, sessions: map[string]*db.StaffSession{}}
	logs := &syncBuffer{}
	h := &Handler{Staff: store, Dev: true, SubmitPerMinute: 60, Log: slog.New(slog.NewTextHandler(logs, nil))}
	srv := httptest.NewServer(New(h))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(srv.URL + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token:\n%s", body)
	}
	res, err = client.PostForm(srv.URL+"/admin/login", url.Values{"email": {pasted}, "password": {"x"}, "_csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	if len(store.audit) != 1 || store.audit[0].Actor != db.NotAnEmailActor || store.audit[0].Action != db.AuditSignInFailed {
		t.Fatalf("audit = %+v", store.audit)
	}
	if strings.Contains(logs.String(), pasted) {
		t.Fatalf("a log line holds what was pasted:\n%s", logs.String())
	}
}

// TestHashSlots fills every password-hash slot and checks that the next
// waits, then gives up; it is not parallel, as the slots are the process's.
func TestHashSlots(t *testing.T) {
	ctx := context.Background()
	var releases []func()
	for range maxConcurrentHashes {
		release, err := acquireHashSlot(ctx, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	start := time.Now()
	if _, err := acquireHashSlot(ctx, 50*time.Millisecond); err == nil || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("a hash beyond the cap should wait and then fail, err = %v after %v", err, time.Since(start))
	}
	releases[0]()
	releases[0]() // giving a slot back twice frees one slot, not two
	release, err := acquireHashSlot(ctx, time.Second)
	if err != nil {
		t.Fatalf("a freed slot should be taken: %v", err)
	}
	if _, err := acquireHashSlot(ctx, 10*time.Millisecond); err == nil {
		t.Fatal("a second release must not free a second slot")
	}
	release()
	for _, r := range releases[1:] {
		r()
	}
	if len(hashSlots) != 0 {
		t.Fatalf("%d slots still taken", len(hashSlots))
	}
}

// syncBuffer collects log lines written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// heldBackStaff is memStaff with failures that hold every attempt back.
type heldBackStaff struct {
	*memStaff
	f domain.SignInFailures
}

func (h heldBackStaff) SignInFailures(context.Context, string, string) (domain.SignInFailures, error) {
	return h.f, nil
}

// TestSignInHeldBack: the throttle's answer is a 429 with Retry-After and
// the wait in words; when it is the address's rule and the service does not
// read addresses from a proxy, the log names ONBOARD_BEHIND_PROXY.
func TestSignInHeldBack(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name        string
		f           domain.SignInFailures
		behindProxy bool
		retryAfter  string
		words       string
		hint        bool
	}{
		{"one address, many emails", domain.SignInFailures{Address: domain.Failures{N: 1000, Last: now}, Now: now}, false, "10", "Try again in 10 seconds.", true},
		{"the same, read from the proxy", domain.SignInFailures{Address: domain.Failures{N: 1000, Last: now}, Now: now}, true, "10", "Try again in 10 seconds.", false},
		{"one address, one email", domain.SignInFailures{Pair: domain.Failures{N: 50, Last: now}, Now: now}, false, "300", "Try again in 5 minutes.", false},
		{"many addresses, one email", domain.SignInFailures{Email: domain.Failures{N: 50, Last: now}, Now: now}, false, "30", "Try again in 30 seconds.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			store := heldBackStaff{&memStaff{staff: map[string]*db.Staff{}, sessions: map[string]*db.StaffSession{}}, tt.f}
			h := &Handler{Staff: store, Dev: true, SubmitPerMinute: 60, BehindProxy: tt.behindProxy,
				Log: slog.New(slog.NewTextHandler(logs, nil))}
			srv := httptest.NewServer(New(h))
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			get, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/login", nil)
			get.Header.Set("Accept-Language", "en")
			res, err := client.Do(get)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
			if m == nil {
				t.Fatalf("no CSRF token:\n%s", body)
			}
			post, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/login", strings.NewReader(url.Values{
				"email": {"alice@example.com"}, "password": {"whatever"}, "_csrf": {string(m[1])}}.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			post.Header.Set("Accept-Language", "en")
			res, err = client.Do(post)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != tt.retryAfter || !strings.Contains(string(body), tt.words) {
				t.Fatalf("%d Retry-After %q, want 429 %s and %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), tt.retryAfter, tt.words, body)
			}
			if len(store.audit) != 0 {
				t.Errorf("a held-back attempt is no failure: %+v", store.audit)
			}
			if hint := strings.Contains(logs.String(), "ONBOARD_BEHIND_PROXY"); hint != tt.hint {
				t.Errorf("log names ONBOARD_BEHIND_PROXY: %v, want %v\n%s", hint, tt.hint, logs.String())
			}
		})
	}
}
