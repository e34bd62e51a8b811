package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

var (
	setupCheckRE  = regexp.MustCompile(`data-testid="setup-check" data-check="([a-z]+)" data-status="([a-z]+)"`)
	setupChangeRE = regexp.MustCompile(`data-testid="setup-change" data-field="([^"]+)"`)
)

// setupChecks is the Setup page's checks as "id status", in order.
func setupChecks(body string) []string {
	var out []string
	for _, m := range setupCheckRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

func TestAdminSetupIsForAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("ada@example.com", string(domain.RoleAdmin))
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	e.addStaff("vic@example.com", string(domain.RoleViewer))

	if res := e.browser().get(e.web.URL + "/admin/setup"); res.status != http.StatusSeeOther || res.location != "/admin/login?next=%2Fadmin%2Fsetup" {
		t.Fatalf("no session: %d %q", res.status, res.location)
	}
	for _, email := range []string{"olga@example.com", "vic@example.com"} {
		b := e.signedIn(email)
		if res := b.get(e.web.URL + "/admin/setup"); res.status != http.StatusForbidden || strings.Contains(res.body, "setup-check") {
			t.Errorf("%s: %d", email, res.status)
		}
		if home := b.get(e.web.URL + "/admin/"); strings.Contains(home.body, `data-testid="nav-setup"`) {
			t.Errorf("%s sees the Setup link", email)
		}
	}

	admin := e.signedIn("ada@example.com")
	if home := admin.get(e.web.URL + "/admin/"); !strings.Contains(home.body, `href="/admin/setup" data-testid="nav-setup"`) {
		t.Error("an admin has no Setup link in the navigation")
	}
	res := admin.get(e.web.URL + "/admin/setup")
	if res.status != http.StatusOK {
		t.Fatalf("admin: %d\n%s", res.status, res.body)
	}
	checks := setupChecks(res.body)
	if len(checks) != 17 {
		t.Fatalf("checks: %v", checks)
	}
	for _, c := range checks {
		if !strings.HasSuffix(c, " ok") {
			t.Errorf("on the default set-up, %s", c)
		}
	}
	if !strings.Contains(res.body, `data-testid="setup-summary" data-ok="true"`) || !strings.Contains(res.body, "17 av 17 sjekker ok") {
		t.Error("no passing summary in bokmål")
	}
	// The register already has what the default products need.
	if !strings.Contains(res.body, `data-testid="setup-system" data-system="991825827_smartcloud" data-changes="0"`) ||
		!strings.Contains(res.body, `data-testid="setup-nochange"`) {
		t.Errorf("the default system shows changes:\n%s", res.body)
	}
	// Read-only: no form posts anything from the page's content.
	main := res.body[strings.Index(res.body, `<main`):]
	if strings.Contains(main, "<form") || strings.Contains(main, "<button") {
		t.Error("the Setup page has a form or a button")
	}
}

// TestAdminSetupShowsWhatIsWrong: with the return URL not registered, the
// page fails the redirect check with its fix, in English too, and the diff
// shows the URL apply would add; nothing is changed by looking.
func TestAdminSetupShowsWhatIsWrong(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_SIM_BREAK": "redirect"})
	e.addStaff("ada@example.com", string(domain.RoleAdmin))
	admin := e.signedIn("ada@example.com")
	admin.get(e.web.URL + "/lang/en?next=/admin/")
	for range 2 {
		res := admin.get(e.web.URL + "/admin/setup")
		if res.status != http.StatusOK {
			t.Fatalf("%d\n%s", res.status, res.body)
		}
		var failed []string
		for _, c := range setupChecks(res.body) {
			if !strings.HasSuffix(c, " ok") {
				failed = append(failed, c)
			}
		}
		if strings.Join(failed, ",") != "redirect fail" {
			t.Errorf("failed checks: %v", failed)
		}
		returnURL := e.app.Config.ReturnURL()
		for _, want := range []string{`data-ok="false"`, "16 of 17 checks ok, 1 failed",
			"does not allow the return URL " + returnURL, "Fix: add " + returnURL + " to the system&#39;s allowedRedirectUrls",
			"ONBOARD_PUBLIC_URL", "onboard system apply"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		var fields []string
		for _, m := range setupChangeRE.FindAllStringSubmatch(res.body, -1) {
			fields = append(fields, m[1])
		}
		if strings.Join(fields, ",") != "allowedRedirectUrls" || !strings.Contains(res.body, returnURL+"</td>") {
			t.Errorf("diff fields %v:\n%s", fields, res.body)
		}
	}
}
