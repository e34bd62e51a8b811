package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CSRF protection (issue 13, pentest: cookie tossing). Echo's CSRF
// middleware cannot do three things this needs: it lets a POST with
// Sec-Fetch-Site same-origin through without the token (and renders a
// placeholder token for such browsers), its form: lookup also reads the
// query string, and its token is only ever the cookie's. So this is a small
// one of our own, with Echo's error (middleware.ErrCSRFInvalid, a 403) and
// its context key ("csrf", which the views read).
const (
	csrfField      = "_csrf"        // the form field of every form in views/
	csrfHeader     = "X-CSRF-Token" // for scripts
	csrfContextKey = "csrf"         // the token for the page's forms
	csrfCookieDev  = "onboard_csrf" // in dev, see csrfCookieName
	csrfCookieHost = "__Host-onboard_csrf"
	csrfCookieAge  = 24 * time.Hour
)

// errCrossSite refuses an unsafe request that the browser says came from
// another site, or a sibling subdomain (Sec-Fetch-Site cross-site or
// same-site): before any token is looked at. The error map gives it words.
var errCrossSite = echo.NewHTTPError(http.StatusForbidden, "csrf: a form sent from another site")

// csrfCookieName is the browser token's cookie. Outside dev it has the
// __Host- prefix, so the browser takes it only from this host over HTTPS,
// with Path=/ and no Domain: a page on a sibling subdomain cannot set or
// overwrite it (cookie tossing). In dev the service runs on plain http
// (http://localhost, or a LAN address from a phone), where a __Host- cookie,
// which must be Secure, would be refused outside localhost; so dev keeps a
// plain name.
func (h *Handler) csrfCookieName() string {
	if h.Dev {
		return csrfCookieDev
	}
	return csrfCookieHost
}

// csrf checks every unsafe request (not GET, HEAD, OPTIONS or TRACE) that
// skip lets through:
//  1. Sec-Fetch-Site same-site or cross-site is refused (errCrossSite):
//     nothing on another site, a sibling subdomain included, posts here.
//     same-origin, none (typed in the address bar) or no header at all (an
//     older browser, a script) go on to the token.
//  2. The token must be in the body (form field _csrf, urlencoded or
//     multipart) or in the X-CSRF-Token header; never the query string,
//     which lands in logs, Referer headers and browser history.
//  3. It must be the one this browser has. Without a staff session that is
//     the random token in the browser's cookie (double submit); with a live
//     staff session it is bound to the session (staffCSRF), so a cookie and
//     token that someone else put in the browser do not pass for signed-in
//     staff, and signing in (a new session) changes it.
//
// Every request it checks gets the token for its page's forms in the
// context (csrfContextKey) and the cookie renewed.
func (h *Handler) csrf(skip func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skip(c) {
				return next(c)
			}
			r := c.Request()
			unsafe := !safeMethod(r.Method)
			if site := strings.ToLower(r.Header.Get(echo.HeaderSecFetchSite)); unsafe && (site == "same-site" || site == "cross-site") {
				return errCrossSite
			}
			browser := ""
			if ck, err := c.Cookie(h.csrfCookieName()); err == nil && validCSRFToken(ck.Value) {
				browser = ck.Value
			}
			if browser == "" {
				browser = newCSRFToken()
			}
			want := browser
			s, err := h.staffSession(c)
			if err != nil {
				return err
			}
			if s != nil {
				ck, _ := c.Cookie(h.staffCookieName()) // there, or there would be no session
				want = h.staffCSRF(ck.Value)
			}
			if unsafe {
				got := r.Header.Get(csrfHeader)
				if got == "" {
					got = postedCSRF(r)
				}
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
					return middleware.ErrCSRFInvalid
				}
			}
			h.setCSRFCookie(c, browser)
			c.Set(csrfContextKey, want)
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
			return next(c)
		}
	}
}

// rotateCSRF gives the browser a new random token, at sign-in and sign-out:
// a token someone else planted before does not outlive either. A page
// rendered after it in the same request uses the new token.
func (h *Handler) rotateCSRF(c echo.Context) {
	t := newCSRFToken()
	h.setCSRFCookie(c, t)
	if _, ok := c.Get(csrfContextKey).(string); ok {
		if s, _ := h.staffSession(c); s == nil {
			c.Set(csrfContextKey, t)
		}
	}
}

// setCSRFCookie sets the token cookie, replacing one set earlier in the
// same response.
func (h *Handler) setCSRFCookie(c echo.Context, token string) {
	name := h.csrfCookieName()
	hdr := c.Response().Header()
	kept := hdr.Values(echo.HeaderSetCookie)[:0:0]
	for _, v := range hdr.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(v, name+"=") {
			kept = append(kept, v)
		}
	}
	hdr.Del(echo.HeaderSetCookie)
	for _, v := range kept {
		hdr.Add(echo.HeaderSetCookie, v)
	}
	c.SetCookie(&http.Cookie{
		Name: name, Value: token, Path: "/", MaxAge: int(csrfCookieAge.Seconds()),
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
}

// staffCSRF is the form token of the staff session whose cookie holds
// sessionToken: an HMAC under the session key, so it is the same on every
// instance, changes with every new session, and tells nothing of the
// session's own token.
func (h *Handler) staffCSRF(sessionToken string) string {
	return base64.RawURLEncoding.EncodeToString(h.mac("csrf", sessionToken))
}

// postedCSRF is the _csrf field of a form body (urlencoded or multipart),
// which checkText, before this, has parsed (and refused when it did not
// parse, a body over its limit being the body limit's 413); "" for
// anything else. r.PostForm holds the body's fields only, never the query
// string's.
func postedCSRF(r *http.Request) string {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return r.PostForm.Get(csrfField)
	}
	return ""
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// newCSRFToken is 32 random bytes, base64url: 43 characters.
func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// validCSRFToken accepts only what newCSRFToken makes, so a cookie of
// another shape is replaced rather than echoed into pages.
func validCSRFToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
