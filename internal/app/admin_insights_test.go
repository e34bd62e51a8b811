package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// insightStaff is a browser signed in as a new staff member with role.
func (e *env) insightStaff(email, role string) *browser {
	e.t.Helper()
	e.addStaff(email, role)
	b := e.browser()
	if res := e.signIn(b, email, staffPassword, "/admin/"); res.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d\n%s", role, res.status, res.body)
	}
	return b
}

// insightConnect runs the wizard for orgNo and has the customer decide at
// Altinn ("approve" or "reject"); "" leaves the request pending.
func (e *env) insightConnect(orgNo, decision string) *domain.Onboarding {
	e.t.Helper()
	b := e.browser()
	confirm := e.startFlow(b, "standard", orgNo)
	if decision != "" {
		e.returnTo(b, e.decide(b, confirm, decision).location)
	}
	return e.onboardingForOrg(orgNo)
}

func insightCount(t *testing.T, p page, testid string) int {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(testid) + `" data-count="(\d+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no %s count on the page:\n%s", testid, p.body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestAdminFunnel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()

	// Three onboardings through the real flow: approved, rejected, pending.
	if o := e.insightConnect("314248295", "approve"); o.Status != domain.StatusConnected {
		t.Fatalf("approved one: %s", o.Status)
	}
	if o := e.insightConnect("310000019", "reject"); o.Status != domain.StatusRejected {
		t.Fatalf("rejected one: %s", o.Status)
	}
	if o := e.insightConnect("310000027", ""); o.Status != domain.StatusPending {
		t.Fatalf("pending one: %s", o.Status)
	}
	// Rows with chosen times, in March 2025 (UTC+1 in Oslo): connected after
	// 1, 2, 3, 4 and 10 hours on the 1st, nothing on the 2nd, two on the 3rd.
	for i, r := range []struct{ created, connected, status string }{
		{"2025-03-01T00:00:00Z", "2025-03-01T01:00:00Z", "connected"},
		{"2025-03-01T08:00:00Z", "2025-03-01T10:00:00Z", "connected"},
		{"2025-03-01T09:00:00Z", "2025-03-01T12:00:00Z", "connected"},
		{"2025-03-01T10:00:00Z", "2025-03-01T14:00:00Z", "connected"},
		{"2025-03-01T11:00:00Z", "2025-03-01T21:00:00Z", "connected"},
		{"2025-03-03T12:00:00Z", "", "expired"},
		{"2025-03-03T22:59:59Z", "", "pending"},
		{"2025-03-03T23:00:00Z", "", "pending"}, // 4 March in Oslo
	} {
		var connected *string
		if r.connected != "" {
			connected = &r.connected
		}
		_, err := e.db.Pool.Exec(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, altinn_request_id,
				created_at, connected_at)
			VALUES ($1, 'standard', 'standard', '991825827_smartcloud', $2, $2, $3, gen_random_uuid(), $4, $5)`,
			fmt.Sprintf("ref-seeded-%08d", i), fmt.Sprintf("%09d", 200000000+i), r.status, r.created, connected)
		if err != nil {
			t.Fatal(err)
		}
	}

	b := e.insightStaff("vera@example.com", string(domain.RoleViewer)) // viewers may look

	// The default period is the last 30 days, today included.
	res := b.get(e.web.URL + "/admin/funnel")
	if res.status != http.StatusOK {
		t.Fatalf("funnel: %d\n%s", res.status, res.body)
	}
	want := map[string]int{
		"funnel-started": 3, "funnel-sent": 3, "funnel-returned": 2, "funnel-accepted": 1,
		"funnel-connected": 1, "funnel-rejected": 1, "funnel-expired": 0,
	}
	for step, n := range want {
		if got := insightCount(t, res, step); got != n {
			t.Errorf("%s = %d, want %d", step, got, n)
		}
	}
	today := time.Now().In(insightOslo(t)).Format(time.DateOnly)
	if !strings.Contains(res.body, `value="`+today+`"`) {
		t.Errorf("the form should show the period, ending today (%s)", today)
	}
	insightCheckChart(t, res, 30)
	if !strings.Contains(res.body, `data-testid="funnel-median"`) {
		t.Errorf("one connected today: the page should show the time to connect")
	}

	// The seeded period: median and p90 as percentile_disc takes them (the
	// 3rd and the 5th of 1, 2, 3, 4 and 10 hours), one bucket per day, an
	// empty day included, the 4th (Oslo) left out.
	res = b.get(e.web.URL + "/admin/funnel?from=2025-03-01&to=2025-03-03")
	if res.status != http.StatusOK {
		t.Fatalf("funnel: %d\n%s", res.status, res.body)
	}
	if got := insightCount(t, res, "funnel-started"); got != 7 {
		t.Errorf("started = %d, want 7", got)
	}
	if got := insightCount(t, res, "funnel-expired"); got != 1 {
		t.Errorf("expired = %d, want 1", got)
	}
	if !strings.Contains(res.body, `data-testid="funnel-median">3 t<`) || !strings.Contains(res.body, `data-testid="funnel-p90">10 t<`) {
		t.Errorf("median 3 h and p90 10 h expected:\n%s", res.body)
	}
	insightCheckChart(t, res, 3)
	// The days in words, as every date on the dashboard (i18n.Date).
	for _, day := range []string{`<tr data-date="2025-03-01"><th scope="row">1. mars 2025</th><td class="num">5</td><td class="num">5</td>`,
		`<tr data-date="2025-03-02"><th scope="row">2. mars 2025</th><td class="num">0</td><td class="num">0</td>`,
		`<tr data-date="2025-03-03"><th scope="row">3. mars 2025</th><td class="num">2</td><td class="num">0</td>`} {
		if !strings.Contains(res.body, day) {
			t.Errorf("the numbers table lacks %s", day)
		}
	}

	// Bad periods get the form back with a 400.
	for _, q := range []string{"from=2025-13-01&to=2025-03-03", "from=yesterday", "to=2025-02-30",
		"from=2025-03-04&to=2025-03-03", "from=2023-01-01&to=2025-01-02", "from=0001-01-01&to=0001-01-02"} {
		res := b.get(e.web.URL + "/admin/funnel?" + q)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, `data-testid="funnel-error"`) ||
			strings.Contains(res.body, `data-testid="funnel-chart"`) {
			t.Errorf("%s: %d, want 400 with the form's error\n%s", q, res.status, res.body)
		}
	}
	if res := b.get(e.web.URL + "/admin/funnel?from=2023-01-03&to=2025-01-03"); res.status != http.StatusOK {
		t.Errorf("exactly two years: %d", res.status)
	}
}

func insightOslo(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// insightCheckChart checks that the page draws the chart as inline SVG with
// one bucket per day, an accessible name, and the numbers as a table too.
func insightCheckChart(t *testing.T, p page, days int) {
	t.Helper()
	if !strings.Contains(p.body, `<svg`) || !strings.Contains(p.body, `data-testid="funnel-chart" data-days="`+strconv.Itoa(days)+`"`) {
		t.Fatalf("no chart of %d days:\n%s", days, p.body)
	}
	if got := strings.Count(p.body, `data-testid="chart-day"`); got != days {
		t.Errorf("chart has %d day buckets, want %d", got, days)
	}
	if !strings.Contains(p.body, `<title id="funnel-chart-title">`) || !strings.Contains(p.body, `aria-labelledby="funnel-chart-title funnel-chart-desc"`) {
		t.Errorf("the chart needs a title and a description")
	}
	if got := strings.Count(p.body, `<tr data-date="`); got != days {
		t.Errorf("the numbers table has %d days, want %d", got, days)
	}
	if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script") {
		t.Errorf("no inline styles or scripts: the CSP forbids them")
	}
}

// insightRowRE finds the rows of the system users page.
var insightRowRE = regexp.MustCompile(`(?s)<tr data-testid="systemuser" data-id="([^"]+)" data-known="(true|false)">(.*?)</tr>`)

// insightRows maps each system user id on the page to "known" or "unknown",
// with "+import" when it has an import button.
func insightRows(t *testing.T, p page) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, m := range insightRowRE.FindAllStringSubmatch(p.body, -1) {
		state := "unknown"
		if m[2] == "true" {
			state = "known"
		}
		if strings.Contains(m[3], `data-testid="import"`) {
			state += "+import"
		}
		rows[m[1]] = state
	}
	return rows
}

// insightOutsideWizard makes a system user the way a customer does in
// Altinn's portal: a request nobody here knows of, approved at once.
func (e *env) insightOutsideWizard(orgNo string) string {
	e.t.Helper()
	req, _, err := e.app.Altinn.CreateRequest(context.Background(), altinn.CreateRequest{
		SystemID: e.app.Config.Products[0].SystemID, PartyOrgNo: orgNo,
		Rights: []altinn.Right{{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"}}}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.app.Sim.Approve(req.ID); err != nil {
		e.t.Fatal(err)
	}
	return req.ID
}

func (e *env) insightOnboardings(orgNo string) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM onboardings WHERE org_no = $1`, orgNo).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) insightImportAudits() []db.AuditEntry {
	e.t.Helper()
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []db.AuditEntry
	for _, a := range log {
		if a.Action == "systemuser.import" {
			out = append(out, a)
		}
	}
	return out
}

func TestAdminSystemUsersAndImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const outsideOrg = "310000035"
	wizard := e.insightConnect(org, "approve")
	if wizard.SystemUserID == nil {
		t.Fatal("the wizard's onboarding has no system user")
	}
	known := *wizard.SystemUserID
	outside := e.insightOutsideWizard(outsideOrg)
	importURL := e.web.URL + "/admin/systemusers/" + outside + "/import"

	// Without a session: the page sends to sign-in, the action answers 401.
	anon := e.browser()
	for _, path := range []string{"/admin/systemusers", "/admin/funnel"} {
		if res := anon.get(e.web.URL + path); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/admin/login?next=") {
			t.Errorf("%s without a session: %d %q", path, res.status, res.location)
		}
	}
	anonCSRF := csrfOf(t, anon.get(e.web.URL+"/admin/login"))
	if res := anon.post(importURL, url.Values{"_csrf": {anonCSRF}}); res.status != http.StatusUnauthorized {
		t.Errorf("import without a session: %d, want 401", res.status)
	}

	// A viewer sees both, the outside one as unknown, and cannot import.
	viewer := e.insightStaff("vera@example.com", string(domain.RoleViewer))
	list := viewer.get(e.web.URL + "/admin/systemusers")
	if list.status != http.StatusOK {
		t.Fatalf("system users: %d\n%s", list.status, list.body)
	}
	if got := insightRows(t, list); got[known] != "known" || got[outside] != "unknown" || len(got) != 2 {
		t.Fatalf("viewer's rows = %v, want %s known and %s unknown without import buttons", got, known, outside)
	}
	if !strings.Contains(list.body, `href="/admin/onboardings/`+wizard.ID+`"`) {
		t.Errorf("a known system user links to its onboarding")
	}
	if insightCount(t, list, "unknown-count") != 1 {
		t.Errorf("one unknown expected")
	}
	if res := viewer.post(importURL, url.Values{"_csrf": {csrfOf(t, list)}}); res.status != http.StatusForbidden {
		t.Fatalf("viewer's import: %d, want 403\n%s", res.status, res.body)
	}
	if n := e.insightOnboardings(outsideOrg); n != 0 || len(e.insightImportAudits()) != 0 {
		t.Fatalf("a refused import changed something: %d onboardings, audits %v", n, e.insightImportAudits())
	}

	// An operator imports it: a connected onboarding and an audit entry.
	op := e.insightStaff("otto@example.com", string(domain.RoleOperator))
	list = op.get(e.web.URL + "/admin/systemusers?product=standard")
	if got := insightRows(t, list); got[outside] != "unknown+import" || got[known] != "known" {
		t.Fatalf("operator's rows = %v", got)
	}
	// The form's fields beyond the id are not trusted: a made-up org is ignored.
	res := op.post(importURL, url.Values{"_csrf": {csrfOf(t, list)}, "product": {"standard"}, "orgno": {"999999999"}})
	wantLoc := "/admin/systemusers?product=standard&imported=" + outside
	if res.status != http.StatusSeeOther || res.location != wantLoc {
		t.Fatalf("import: %d Location %q, want 303 to %q\n%s", res.status, res.location, wantLoc, res.body)
	}
	o := e.onboardingForOrg(outsideOrg)
	if o.Status != domain.StatusConnected || o.SystemUserID == nil || *o.SystemUserID != outside || o.Product != "standard" {
		t.Fatalf("imported onboarding: %+v", o)
	}
	audits := e.insightImportAudits()
	if len(audits) != 1 || audits[0].Actor != "otto@example.com" || audits[0].StaffID == nil ||
		audits[0].OnboardingID == nil || *audits[0].OnboardingID != o.ID || audits[0].IP != "127.0.0.1" {
		t.Fatalf("audit: %+v", audits)
	}
	after := op.get(e.web.URL + res.location)
	if got := insightRows(t, after); got[outside] != "known" {
		t.Fatalf("after the import the rows are %v", got)
	}
	if !strings.Contains(after.body, `data-testid="imported-notice"`) {
		t.Errorf("the list should say the import happened")
	}
	// A second click changes nothing.
	if res := op.post(importURL, url.Values{"_csrf": {csrfOf(t, after)}}); res.status != http.StatusSeeOther {
		t.Fatalf("second import: %d\n%s", res.status, res.body)
	}
	if n := e.insightOnboardings(outsideOrg); n != 1 || len(e.insightImportAudits()) != 1 {
		t.Fatalf("second import: %d onboardings, %d audits", n, len(e.insightImportAudits()))
	}
	// The funnel leaves imports out of its steps and counts them apart.
	funnel := op.get(e.web.URL + "/admin/funnel")
	if insightCount(t, funnel, "funnel-started") != 1 || insightCount(t, funnel, "funnel-imported") != 1 {
		t.Errorf("funnel after an import:\n%s", funnel.body)
	}

	// A system user Altinn does not list cannot be imported.
	gone := op.post(e.web.URL+"/admin/systemusers/9b2f7f5e-0000-4000-8000-000000000000/import", url.Values{"_csrf": {csrfOf(t, after)}})
	if gone.status != http.StatusNotFound || !strings.Contains(gone.body, `data-testid="error"`) {
		t.Fatalf("unknown id: %d\n%s", gone.status, gone.body)
	}
	if res := op.get(e.web.URL + "/admin/systemusers?product=nope"); res.status != http.StatusNotFound {
		t.Errorf("unknown product: %d", res.status)
	}
}

func TestAdminSystemUsersAltinnErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	outside := e.insightOutsideWizard("310000035")
	op := e.insightStaff("otto@example.com", string(domain.RoleOperator))
	csrf := csrfOf(t, op.get(e.web.URL+"/admin/"))
	const bysystem = "/authentication/api/v1/systemuser/vendor/bysystem/"
	tests := []struct {
		name  string
		fault sim.Fault
		text  string // what the page says, in bokmål
		code  string
	}{
		{"unavailable", sim.Fault{Path: bysystem, Status: http.StatusServiceUnavailable}, "Altinn svarte ikke", ""},
		{"not our system", sim.Fault{Path: bysystem, Status: http.StatusNotFound,
			Body: `{"type":"urn:altinn:error:AUTH-00011","title":"System not found","status":404,"code":"AUTH-00011"}`},
			"Altinn kjenner ikke systemet", "AUTH-00011"},
		{"malformed", sim.Fault{Path: bysystem, Malformed: true}, "Altinn ga et svar vi ikke kunne bruke", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remove := e.app.Sim.Inject(tt.fault)
			defer remove()
			for _, res := range []page{
				op.get(e.web.URL + "/admin/systemusers"),
				op.post(e.web.URL+"/admin/systemusers/"+outside+"/import", url.Values{"_csrf": {csrf}}),
			} {
				if res.status != http.StatusBadGateway || !strings.Contains(res.body, tt.text) {
					t.Errorf("%d, want 502 saying %q\n%s", res.status, tt.text, res.body)
				}
				if tt.code != "" && !strings.Contains(res.body, `<code data-testid="altinn-code">`+tt.code+`</code>`) {
					t.Errorf("the page should show Altinn's code %s", tt.code)
				}
				for _, internal := range []string{"altinn:", "bysystem", "GET systemuser", "malformed"} {
					if strings.Contains(res.body, internal) {
						t.Errorf("the page shows internal text %q", internal)
					}
				}
			}
		})
	}
	if n := e.insightOnboardings("310000035"); n != 0 || len(e.insightImportAudits()) != 0 {
		t.Fatalf("failed imports changed something: %d onboardings", n)
	}
}
