package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestCSRFMiddleware sends each way a token can come, or not, through the
// middleware New uses, to a handler that answers 200 when reached.
func TestCSRFMiddleware(t *testing.T) {
	t.Parallel()
	browser := newCSRFToken()   // the token in the browser's cookie
	tossed := newCSRFToken()    // a pair someone else planted
	const session = "session-1" // a live staff session's cookie
	h := &Handler{Dev: false, SessionKey: []byte("csrf-test-session-key-0123456789"),
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Staff: &fakeStaff{sessions: map[string]*db.StaffSession{session: {Staff: db.Staff{ID: 1, Email: "a@example.com", Role: domain.RoleAdmin}, ExpiresAt: time.Now().Add(time.Hour)}}}}
	staffToken := h.staffCSRF(session)

	form := func(token string) io.Reader {
		return strings.NewReader(url.Values{"_csrf": {token}, "x": {"1"}}.Encode())
	}
	multi := func(token string) (io.Reader, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("_csrf", token)
		_ = w.Close()
		return &b, w.FormDataContentType()
	}
	tests := []struct {
		name    string
		method  string
		query   string
		body    func() (io.Reader, string)
		header  map[string]string
		cookie  string // the browser token's cookie ("" none)
		staff   string // the staff session cookie ("" none)
		status  int
		crossed bool // refused as from another site
	}{
		{name: "GET needs no token", method: http.MethodGet, status: http.StatusOK},
		{name: "form token matches the cookie", cookie: browser, body: urlencoded(form(browser)), status: http.StatusOK},
		{name: "multipart token", cookie: browser, body: func() (io.Reader, string) { return multi(browser) }, status: http.StatusOK},
		{name: "header token, for scripts", cookie: browser, header: map[string]string{"X-CSRF-Token": browser}, status: http.StatusOK},
		{name: "no token", cookie: browser, body: urlencoded(form("")), status: http.StatusForbidden},
		{name: "wrong token", cookie: browser, body: urlencoded(form(tossed)), status: http.StatusForbidden},
		{name: "no cookie", body: urlencoded(form(browser)), status: http.StatusForbidden},
		{name: "token in the query string only", cookie: browser, query: "?_csrf=" + browser, body: urlencoded(strings.NewReader("x=1")), status: http.StatusForbidden},
		{name: "same-origin still needs the token", cookie: browser, body: urlencoded(form("")), header: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: http.StatusForbidden},
		{name: "same-origin with the token", cookie: browser, body: urlencoded(form(browser)), header: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: http.StatusOK},
		{name: "none (typed) with the token", cookie: browser, body: urlencoded(form(browser)), header: map[string]string{"Sec-Fetch-Site": "none"}, status: http.StatusOK},
		{name: "same-site refused even with the token", cookie: browser, body: urlencoded(form(browser)), header: map[string]string{"Sec-Fetch-Site": "same-site"}, status: http.StatusForbidden, crossed: true},
		{name: "cross-site refused even with the token", cookie: browser, body: urlencoded(form(browser)), header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusForbidden, crossed: true},
		{name: "a cross-site GET is a link, let through", method: http.MethodGet, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusOK},
		{name: "staff: the session's token", cookie: browser, staff: session, body: urlencoded(form(staffToken)), status: http.StatusOK},
		{name: "staff: a tossed cookie and its token", cookie: tossed, staff: session, body: urlencoded(form(tossed)), status: http.StatusForbidden},
		{name: "staff: the browser's own cookie token", cookie: browser, staff: session, body: urlencoded(form(browser)), status: http.StatusForbidden},
		{name: "staff: a session's token in the header", staff: session, header: map[string]string{"X-CSRF-Token": staffToken}, status: http.StatusOK},
		{name: "a stale session is no session", cookie: browser, staff: "stale", body: urlencoded(form(browser)), status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // not parallel: fakeStaff counts its lookups
			e := echo.New()
			e.HTTPErrorHandler = h.errorHandler
			var seen string
			ok := func(c echo.Context) error {
				seen, _ = c.Get(csrfContextKey).(string)
				return c.String(http.StatusOK, "ok")
			}
			e.Use(checkText, h.csrf(func(echo.Context) bool { return false }))
			e.GET("/admin/x", ok)
			e.POST("/admin/x", ok)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader
			ct := ""
			if tt.body != nil {
				body, ct = tt.body()
			}
			req := httptest.NewRequest(method, "/admin/x"+tt.query, body)
			if ct != "" {
				req.Header.Set(echo.HeaderContentType, ct)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: csrfCookieHost, Value: tt.cookie})
			}
			if tt.staff != "" {
				req.AddCookie(&http.Cookie{Name: staffCookieHost, Value: tt.staff})
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%d, want %d\n%s", rec.Code, tt.status, rec.Body)
			}
			if crossed := strings.Contains(rec.Body.String(), "another website") || strings.Contains(rec.Body.String(), "annen nettside"); crossed != tt.crossed {
				t.Errorf("refused as from another site: %v, want %v\n%s", crossed, tt.crossed, rec.Body)
			}
			if tt.status != http.StatusOK {
				return
			}
			want := browser
			if tt.staff == session {
				want = staffToken
			}
			if tt.cookie == "" && tt.staff != session {
				want = "" // a new one: only its shape is known
			}
			if seen == "" || (want != "" && seen != want) {
				t.Errorf("the page's token %q, want %q", seen, want)
			}
			ck := csrfCookieOf(rec)
			if ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || !validCSRFToken(ck.Value) {
				t.Errorf("cookie %+v, want a __Host- one: Secure, HttpOnly, Path=/, no Domain", ck)
			}
			if tt.cookie != "" && ck != nil && ck.Value != tt.cookie {
				t.Errorf("the browser's token changed to %q", ck.Value)
			}
		})
	}
}

func urlencoded(r io.Reader) func() (io.Reader, string) {
	return func() (io.Reader, string) { return r, echo.MIMEApplicationForm }
}

func csrfCookieOf(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == csrfCookieHost || c.Name == csrfCookieDev {
			return c
		}
	}
	return nil
}

// TestCSRFCookieName: __Host- outside dev; a plain name in dev, where the
// service runs on plain http and a __Host- cookie (always Secure) would be
// refused off localhost.
func TestCSRFCookieName(t *testing.T) {
	t.Parallel()
	for dev, want := range map[bool]string{false: "__Host-onboard_csrf", true: "onboard_csrf"} {
		h := &Handler{Dev: dev, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		e := echo.New()
		e.Use(h.csrf(func(echo.Context) bool { return false }))
		e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		ck := csrfCookieOf(rec)
		if ck == nil || ck.Name != want || ck.Secure == dev {
			t.Errorf("dev %v: cookie %+v, want %s (Secure %v)", dev, ck, want, !dev)
		}
	}
	// A cookie not of the token's shape is replaced, not echoed into pages.
	h := &Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := echo.New()
	e.Use(h.csrf(func(echo.Context) bool { return false }))
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, c.Get(csrfContextKey).(string)) })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: csrfCookieHost, Value: "<script>"})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if !validCSRFToken(rec.Body.String()) {
		t.Errorf("page token %q", rec.Body)
	}
}
