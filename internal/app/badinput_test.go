package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

func TestInvalidOrgNumbersKeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct{ name, typed, message string }{
		{"empty", "", "Skriv inn organisasjonsnummeret."},
		{"too short", "1234", "Et organisasjonsnummer har 9 siffer."},
		{"letters", "31424829x", "Bruk bare siffer"},
		{"check digit", "314 248 296", "Dette er ikke et gyldig organisasjonsnummer."},
		{"script", `<script>alert(1)</script>`, "Bruk bare siffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			// Post/redirect/get: the refused number comes back by a 303 to
			// the form (a GET), never as the POST's own page.
			post := e.submitOrg(b, "standard", tt.typed)
			if post.status != http.StatusSeeOther || !strings.HasPrefix(post.location, "/onboard/standard/org?") {
				t.Fatalf("status %d Location %q, want 303 to the form", post.status, post.location)
			}
			res := b.get(e.web.URL + post.location)
			if res.status != http.StatusOK {
				t.Fatalf("the form after a refused number: %d", res.status)
			}
			if !strings.Contains(res.body, tt.message) || !strings.Contains(res.body, `aria-invalid="true"`) {
				t.Fatalf("the inline message %q tied to the field is missing:\n%s", tt.message, res.body)
			}
			if strings.Contains(res.body, "<script>alert") {
				t.Fatal("typed script must be escaped")
			}
			kept := tt.typed[:min(len(tt.typed), 20)] // the field takes 20 characters
			if !strings.Contains(res.body, `value="`+html.EscapeString(kept)+`"`) {
				t.Fatalf("what was typed (%q) should be kept in the field:\n%s", tt.typed, res.body)
			}
		})
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM onboardings`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("invalid numbers must store nothing: %d rows (%v)", n, err)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.get(e.web.URL + "/onboard/standard/org") // gets the CSRF cookie
	for name, form := range map[string]url.Values{
		"missing": {"orgno": {org}},
		"forged":  {"orgno": {org}, "_csrf": {"forged-token-forged-token-forged"}},
	} {
		res := b.post(e.web.URL+"/onboard/standard/org", form)
		if res.status != http.StatusForbidden || !strings.Contains(res.body, `data-testid="error"`) {
			t.Errorf("%s CSRF token: %d, want 403 with the error page", name, res.status)
		}
	}
	// A cross-site form post is refused even with a valid token.
	token := csrfOf(t, b.get(e.web.URL+"/onboard/standard/org"))
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/onboard/standard/org",
		strings.NewReader(url.Values{"orgno": {org}, "_csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := b.do(req); res.status != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", res.status)
	}
	if e.simRequestsFor(org) != 0 {
		t.Fatal("a refused post must not reach Altinn")
	}
}

func TestBadRequestsGetClearPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	form := b.get(e.web.URL + "/onboard/standard/org")
	big := url.Values{"orgno": {strings.Repeat("9", 64<<10)}, "_csrf": {csrfOf(t, form)}}
	tests := []struct {
		name   string
		res    page
		status int
	}{
		{"oversize body", b.post(e.web.URL+"/onboard/standard/org", big), http.StatusRequestEntityTooLarge},
		{"unknown return reference", b.get(e.web.URL + "/return?ref=AAAAAAAAAAAAAAAAAAAAAA"), http.StatusNotFound},
		{"malformed return reference", b.get(e.web.URL + "/return?ref=%3Cscript%3E"), http.StatusNotFound},
		{"missing return reference", b.get(e.web.URL + "/return"), http.StatusNotFound},
		{"unknown status page", b.get(e.web.URL + "/status/AAAAAAAAAAAAAAAAAAAAAA"), http.StatusNotFound},
		{"unknown product", b.get(e.web.URL + "/onboard/nope"), http.StatusNotFound},
		{"unknown path", b.get(e.web.URL + "/wp-admin.php"), http.StatusNotFound},
		{"wrong method", b.post(e.web.URL+"/status/AAAAAAAAAAAAAAAAAAAAAA", url.Values{"_csrf": {csrfOf(t, form)}}), http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if tt.res.status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, tt.res.status, tt.status)
		}
		if !strings.Contains(tt.res.body, `data-testid="error"`) {
			t.Errorf("%s: want the error page, got:\n%s", tt.name, tt.res.body)
		}
		if leak := insidesRE.FindString(tt.res.body); leak != "" {
			t.Errorf("%s: page leaks internals (%q)", tt.name, leak)
		}
	}
}

func TestLanguageSwitchIsNoOpenRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for next, want := range map[string]string{
		"/onboard/standard":     "/onboard/standard",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
	} {
		res := e.browser().get(e.web.URL + "/lang/en?next=" + url.QueryEscape(next))
		if res.status != http.StatusSeeOther || res.location != want {
			t.Errorf("next=%q: %d Location %q, want %q", next, res.status, res.location, want)
		}
	}
	b := e.browser()
	b.get(e.web.URL + "/lang/en?next=/")
	if p := b.get(e.web.URL + "/onboard/standard"); !strings.Contains(p.body, "Give SmartCloud access in Altinn") ||
		!strings.Contains(p.body, `<html lang="en">`) {
		t.Fatalf("after switching, the page should be in English:\n%s", p.body)
	}
	// Accept-Language picks English when no choice was made.
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/onboard/standard", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	if p := e.browser().do(req); !strings.Contains(p.body, `<html lang="en">`) {
		t.Fatal("Accept-Language: en should give English")
	}
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_DEV": "false", "ONBOARD_SUPPORT_EMAIL": "support@example.com", "ONBOARD_PUBLIC_URL": "https://onboard.example.com"})
	b := e.browser()
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/onboard/standard/org", nil)
	req.Header.Set("X-Forwarded-Proto", "https") // as behind the TLS-terminating proxy
	res := b.do(req)
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q must forbid inline script and framing", csp)
	}
	if strings.Contains(res.body, "<script") || strings.Contains(res.body, " style=") || strings.Contains(res.body, "onclick") {
		t.Error("pages must have no inline script or style")
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := res.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// The flow cookie (which browser started which onboarding) is set on submit.
	submit := b.post(e.web.URL+"/onboard/standard/confirm", url.Values{"orgno": {org}, "checked": {"false"}, "_csrf": {csrfOf(t, res)}})
	cookies := append(res.header.Values("Set-Cookie"), submit.header.Values("Set-Cookie")...)
	flow := false
	for _, c := range cookies {
		flow = flow || strings.HasPrefix(c, "onboard_flow=")
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Secure") || !strings.Contains(c, "SameSite=Lax") {
			t.Errorf("cookie outside dev must be HttpOnly, Secure and SameSite: %s", c)
		}
	}
	if !flow {
		t.Errorf("submit set no flow cookie: %v", cookies)
	}
	if res.header.Get("Strict-Transport-Security") == "" {
		t.Error("HSTS must be on outside dev")
	}
	// Also when the proxy does not say the request came in over https
	// (the retest found none then), on every kind of answer.
	for _, path := range []string{"/onboard/standard/org", "/admin/login", "/api/v1/onboardings", "/healthz", "/no-such-page"} {
		if got := e.browser().get(e.web.URL + path).header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
			t.Errorf("%s without X-Forwarded-Proto: HSTS %q", path, got)
		}
	}
}

func TestSubmitIsRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_SUBMIT_RATE_PER_MINUTE": "1"})
	b := e.browser()
	limited := false
	for i := 0; i < 6; i++ {
		res := e.submitAndConfirm(b, "standard", org)
		if res.status == http.StatusTooManyRequests {
			limited = true
			if !strings.Contains(res.body, "Vent et minutt") {
				t.Fatalf("429 page should say to wait:\n%s", res.body)
			}
			break
		}
	}
	if !limited {
		t.Fatal("6 submits in a row at 1 per minute were never refused")
	}
}

func TestStatusPageThrottlesAltinnReads(t *testing.T) {
	t.Parallel()
	for _, down := range []bool{false, true} {
		e := newEnv(t, map[string]string{"ONBOARD_STATUS_REFRESH_INTERVAL": "1h"})
		want := domain.StatusPending
		if down {
			// Altinn down: the onboarding stays requesting, and every view would
			// otherwise look it up again.
			e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 503})
			want = domain.StatusRequesting
		}
		e.submitAndConfirm(e.browser(), "standard", org)
		o := e.onboardingForOrg(org)
		before := e.app.Sim.Stats().Calls
		for i := 0; i < 5; i++ {
			if st, _ := outcomeOf(t, e.browser().get(e.web.URL+"/status/"+o.Ref)); st != string(want) {
				t.Fatalf("down=%v: status %q, want %q", down, st, want)
			}
		}
		for k, v := range e.app.Sim.Stats().Calls {
			if v != before[k] {
				t.Fatalf("down=%v: reloading a fresh status page called Altinn (%s: %d → %d)", down, k, before[k], v)
			}
		}
	}
}

func TestDatesFollowTheLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.startFlow(b, "standard", org)
	o := e.onboardingForOrg(org)
	for _, c := range []struct{ lang, want string }{
		{"nb", `\d{1,2}\.[\s\x{a0}](januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)[\s\x{a0}]20\d\d[\s\x{a0}]kl\.[\s\x{a0}]\d\d:\d\d`},
		{"nn", `\d{1,2}\.[\s\x{a0}](januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)[\s\x{a0}]20\d\d[\s\x{a0}]kl\.[\s\x{a0}]\d\d:\d\d`},
		{"en", `\d{1,2}[\s\x{a0}](January|February|March|April|May|June|July|August|September|October|November|December)[\s\x{a0}]20\d\d[\s\x{a0}]at[\s\x{a0}]\d\d:\d\d`},
	} {
		b.get(e.web.URL + "/lang/" + c.lang + "?next=/")
		page := b.get(e.web.URL + "/status/" + o.Ref)
		if !regexp.MustCompile(c.want).MatchString(page.body) {
			t.Errorf("%s page should write the last check as %s:\n%s", c.lang, c.want, page.body)
		}
		if regexp.MustCompile(`\d\d\.\d\d\.20\d\d`).MatchString(page.body) {
			t.Errorf("%s page writes a date in numbers too: one format per language", c.lang)
		}
	}
}
