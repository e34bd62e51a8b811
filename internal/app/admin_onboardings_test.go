package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// dashStaff is a browser signed in as a new staff member with role.
func (e *env) dashStaff(email, role string) (*browser, *db.Staff) {
	e.t.Helper()
	s := e.addStaff(email, role)
	b := e.browser()
	if res := e.signIn(b, email, staffPassword, ""); res.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d\n%s", email, res.status, res.body)
	}
	return b, s
}

func (e *env) dashSimCalls() int {
	n := 0
	for _, v := range e.app.Sim.Stats().Calls {
		n += v
	}
	return n
}

func (e *env) dashAuditFor(o *domain.Onboarding) []db.AuditEntry {
	e.t.Helper()
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{OnboardingID: o.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	return log
}

func (e *env) dashReload(o *domain.Onboarding) *domain.Onboarding {
	e.t.Helper()
	fresh, err := e.db.OnboardingByID(context.Background(), o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return fresh
}

func (e *env) dashCount(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// dashOrgNos returns n distinct organisation numbers with a right check digit.
func dashOrgNos(n int) []string {
	weights := []int{3, 2, 7, 6, 5, 4, 3, 2}
	var out []string
	for base := 31000000; len(out) < n; base++ {
		digits := strconv.Itoa(base)
		sum := 0
		for i, w := range weights {
			sum += int(digits[i]-'0') * w
		}
		check := (11 - sum%11) % 11
		if check == 10 {
			continue
		}
		out = append(out, digits+strconv.Itoa(check))
	}
	return out
}

func dashRef(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// dashRow is what the list test knows about one inserted onboarding.
type dashRow struct {
	id, ref, orgNo, kind, status, customerRef, requestID string
	escalated                                            bool
	created                                              time.Time
}

// dashSeed inserts an onboarding through the db layer and then gives it a
// status, a creation time and the rest with plain SQL, as history would.
func (e *env) dashSeed(s dashRow) dashRow {
	e.t.Helper()
	ctx := context.Background()
	var p config.Product
	for _, c := range e.app.Config.Products {
		if string(c.Kind) == s.kind {
			p = c
		}
	}
	ext := s.orgNo
	if p.ExternalRef != "" {
		ext = p.ExternalRef
	}
	s.ref = dashRef(e.t)
	o, err := e.db.CreateOnboarding(ctx, db.NewOnboarding{Ref: s.ref, Product: p.ID, Kind: p.Kind, SystemID: p.SystemID,
		OrgNo: s.orgNo, ExternalRef: ext, CustomerRef: s.customerRef, Lang: "nb", Cause: domain.CauseSystem})
	if err != nil {
		e.t.Fatal(err)
	}
	s.id = o.ID
	var reqID *string
	if s.requestID != "" {
		reqID = &s.requestID
	}
	_, err = e.db.Pool.Exec(ctx, `UPDATE onboardings SET status = $2, escalated = $3, created_at = $4, altinn_request_id = $5
		WHERE id = $1`, o.ID, s.status, s.escalated, s.created, reqID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

var (
	dashRowRE   = regexp.MustCompile(`data-testid="onboarding-row" data-id="([0-9a-f-]{36})"`)
	dashNextRE  = regexp.MustCompile(`href="([^"]*)" rel="next" data-testid="next-page"`)
	dashCountRE = regexp.MustCompile(`data-testid="count-([a-z]+)" data-count="([0-9]+)"`)
	dashHrefRE  = regexp.MustCompile(`<a href="([^"]*)" class="[^"]*" data-testid="count-([a-z]+)"`)
)

// dashListPage is one list page as the test reads it: the row ids in order, and
// the next page's URL ("" on the last page).
func dashListPage(t *testing.T, p page) (ids []string, next string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("list: %d\n%s", p.status, p.body)
	}
	for _, m := range dashRowRE.FindAllStringSubmatch(p.body, -1) {
		ids = append(ids, m[1])
	}
	if m := dashNextRE.FindStringSubmatch(p.body); m != nil {
		next = html.UnescapeString(m[1])
	}
	return ids, next
}

// dashWalk follows the next links from path and returns every page's ids.
func (e *env) dashWalk(b *browser, path string) [][]string {
	e.t.Helper()
	var pages [][]string
	for path != "" {
		ids, next := dashListPage(e.t, b.get(e.web.URL+path))
		pages = append(pages, ids)
		if len(pages) > 50 {
			e.t.Fatal("more than 50 pages: the next links loop")
		}
		path = next
	}
	return pages
}

// dashExpect is the ids of the seeded rows that keep accepts, newest first.
func dashExpect(rows []dashRow, keep func(dashRow) bool) []string {
	var sel []dashRow
	for _, r := range rows {
		if keep(r) {
			sel = append(sel, r)
		}
	}
	slices.SortFunc(sel, func(a, b dashRow) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	ids := make([]string, 0, len(sel))
	for _, r := range sel {
		ids = append(ids, r.id)
	}
	return ids
}

func TestAdminOnboardingsWithoutSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	csrf := csrfOf(t, b.get(e.web.URL+"/admin/login"))
	id := uuid.NewString()
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{"list", http.MethodGet, "/admin/onboardings?status=pending"},
		{"csv", http.MethodGet, "/admin/onboardings.csv"},
		{"detail", http.MethodGet, "/admin/onboardings/" + id},
		{"new form", http.MethodGet, "/admin/onboardings/new"},
		{"renew confirmation", http.MethodGet, "/admin/onboardings/" + id + "/renew"},
		{"cancel confirmation", http.MethodGet, "/admin/onboardings/" + id + "/cancel"},
		{"create", http.MethodPost, "/admin/onboardings/new"},
		{"refresh", http.MethodPost, "/admin/onboardings/" + id + "/refresh"},
		{"verify", http.MethodPost, "/admin/onboardings/" + id + "/verify"},
		{"renew", http.MethodPost, "/admin/onboardings/" + id + "/renew"},
		{"cancel", http.MethodPost, "/admin/onboardings/" + id + "/cancel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.method == http.MethodGet {
				res := b.get(e.web.URL + tt.path)
				if want := "/admin/login?next=" + url.QueryEscape(tt.path); res.status != http.StatusSeeOther || res.location != want {
					t.Fatalf("GET %s: %d Location %q, want 303 to %q", tt.path, res.status, res.location, want)
				}
				return
			}
			res := b.post(e.web.URL+tt.path, url.Values{"_csrf": {csrf}, "confirm": {"yes"}, "product": {"standard"}, "orgno": {org}})
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `data-testid="sign-in-link"`) {
				t.Fatalf("POST %s: %d, want 401 with a sign-in link\n%s", tt.path, res.status, res.body)
			}
		})
	}
	if n := e.dashCount("onboardings"); n != 0 {
		t.Fatalf("%d onboardings exist after refused requests", n)
	}
}

func TestAdminOnboardingsViewerReadsButCannotAct(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))

	// A viewer reads everything: the list, the detail page, the export, but
	// is offered no actions.
	detail := viewer.get(e.web.URL + "/admin/onboardings/" + o.ID)
	if detail.status != http.StatusOK || !strings.Contains(detail.body, `data-testid="timeline"`) {
		t.Fatalf("detail for a viewer: %d\n%s", detail.status, detail.body)
	}
	for _, offered := range []string{`data-testid="actions"`, `data-testid="new-onboarding"`, "/refresh"} {
		if strings.Contains(detail.body, offered) || strings.Contains(viewer.get(e.web.URL+"/admin/onboardings").body, offered) {
			t.Errorf("a viewer is offered %s", offered)
		}
	}
	if ids, _ := dashListPage(t, viewer.get(e.web.URL+"/admin/onboardings")); !slices.Equal(ids, []string{o.ID}) {
		t.Fatalf("list for a viewer: %v", ids)
	}
	if res := viewer.get(e.web.URL + "/admin/onboardings.csv"); res.status != http.StatusOK || !strings.Contains(res.body, o.ID) {
		t.Fatalf("viewers may export: %d\n%s", res.status, res.body)
	}

	csrf := csrfOf(t, detail)
	before, events, audit, calls := e.dashReload(o), len(e.events(o)), e.dashCount("audit_log"), e.dashSimCalls()
	base := "/admin/onboardings/" + o.ID
	for _, path := range []string{base + "/refresh", base + "/verify", base + "/renew", base + "/cancel", "/admin/onboardings/new"} {
		res := viewer.post(e.web.URL+path, url.Values{"_csrf": {csrf}, "confirm": {"yes"}, "product": {"standard"}, "orgno": {"311 000 002"}})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, `data-status="403"`) {
			t.Errorf("viewer POST %s: %d, want 403\n%s", path, res.status, res.body)
		}
	}
	for _, path := range []string{base + "/renew", base + "/cancel", "/admin/onboardings/new"} {
		if res := viewer.get(e.web.URL + path); res.status != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d, want 403", path, res.status)
		}
	}
	after := e.dashReload(o)
	if after.Version != before.Version || after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("the onboarding changed: %+v -> %+v", before, after)
	}
	if n := len(e.events(o)); n != events {
		t.Errorf("events %d -> %d", events, n)
	}
	if n := e.dashCount("audit_log"); n != audit {
		t.Errorf("audit entries %d -> %d", audit, n)
	}
	if n := e.dashCount("onboardings"); n != 1 {
		t.Errorf("%d onboardings, want 1", n)
	}
	if n := e.dashSimCalls(); n != calls {
		t.Errorf("Altinn was called: %d -> %d calls", calls, n)
	}
}

func TestAdminOnboardingListFiltersSearchAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	statuses := []string{string(domain.StatusPending), string(domain.StatusConnected), string(domain.StatusRejected), string(domain.StatusExpired),
		string(domain.StatusFailed), string(domain.StatusCancelled), string(domain.StatusRequesting)}
	orgs := dashOrgNos(120)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, oslo)
	var rows []dashRow
	for i := range 120 {
		s := dashRow{orgNo: orgs[i], kind: string(domain.KindStandard), status: statuses[i%len(statuses)],
			created: start.Add(time.Duration(i) * 7 * time.Hour)}
		if i == 69 { // the same instant as row 70, right on the first page boundary: ties are paged by id
			s.created = start.Add(70 * 7 * time.Hour)
		}
		if i%3 == 0 {
			s.kind = string(domain.KindAgent)
		}
		if i%4 == 0 {
			s.customerRef = fmt.Sprintf("KUNDE-%03d", i)
		}
		if s.status == string(domain.StatusPending) && i%2 == 0 {
			s.escalated = true
		}
		if s.status != string(domain.StatusRequesting) {
			s.requestID = uuid.NewString()
		}
		rows = append(rows, e.dashSeed(s))
	}
	b, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))

	// The whole list in pages of 50: newest first, disjoint, complete.
	all := dashExpect(rows, func(dashRow) bool { return true })
	pages := e.dashWalk(b, "/admin/onboardings")
	if len(pages) != 3 || len(pages[0]) != 50 || len(pages[1]) != 50 || len(pages[2]) != 20 {
		t.Fatalf("page sizes: %d pages %v", len(pages), dashLens(pages))
	}
	if got := slices.Concat(pages...); !slices.Equal(got, all) {
		t.Fatalf("the pages are not the list newest first:\n got %v\nwant %v", got, all)
	}
	// The home page is the same list.
	if ids, _ := dashListPage(t, b.get(e.web.URL+"/admin/")); !slices.Equal(ids, pages[0]) {
		t.Fatal("/admin/ is not the list's first page")
	}

	// The counts cover every status for the other filters, and each links to its status.
	home := b.get(e.web.URL + "/admin/onboardings?kind=agent")
	counts := map[string]int{}
	for _, m := range dashCountRE.FindAllStringSubmatch(home.body, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	want := map[string]int{"all": 0}
	for _, s := range []string{"started", "requesting", "pending", "accepted", "connected", "rejected", "expired", "failed", "cancelled", "revoked"} {
		want[s] = 0
	}
	for _, r := range rows {
		if r.kind == string(domain.KindAgent) {
			want[r.status]++
			want["all"]++
		}
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts for agent: %v, want %v", counts, want)
	}
	links := map[string]string{}
	for _, m := range dashHrefRE.FindAllStringSubmatch(home.body, -1) {
		links[m[2]] = html.UnescapeString(m[1])
	}
	if links["pending"] != "/admin/onboardings?kind=agent&status=pending" || links["all"] != "/admin/onboardings?kind=agent" {
		t.Fatalf("count links: %v", links)
	}

	day := func(d int) string { return start.AddDate(0, 0, d).Format(time.DateOnly) }
	inDays := func(r dashRow, from, to int) bool {
		lo := time.Date(2025, 3, 1+from, 0, 0, 0, 0, oslo)
		hi := time.Date(2025, 3, 1+to+1, 0, 0, 0, 0, oslo)
		return !r.created.Before(lo) && r.created.Before(hi)
	}
	tests := []struct {
		name  string
		query string
		keep  func(dashRow) bool
	}{
		{"status", "status=pending", func(r dashRow) bool { return r.status == string(domain.StatusPending) }},
		{"kind", "kind=agent", func(r dashRow) bool { return r.kind == string(domain.KindAgent) }},
		{"escalated", "escalated=1", func(r dashRow) bool { return r.escalated }},
		{"dates inclusive", "from=" + day(3) + "&to=" + day(9), func(r dashRow) bool { return inDays(r, 3, 9) }},
		{"combined", "kind=standard&status=connected&from=" + day(5), func(r dashRow) bool {
			return r.kind == string(domain.KindStandard) && r.status == string(domain.StatusConnected) && inDays(r, 5, 1000)
		}},
		{"org number with spaces", "q=" + url.QueryEscape(rows[17].orgNo[:3]+" "+rows[17].orgNo[3:6]+" "+rows[17].orgNo[6:]),
			func(r dashRow) bool { return r.id == rows[17].id }},
		{"customer ref", "q=KUNDE-040", func(r dashRow) bool { return r.id == rows[40].id }},
		{"request id", "q=" + strings.ToUpper(rows[50].requestID), func(r dashRow) bool { return r.id == rows[50].id }},
		{"our ref", "q=" + rows[61].ref, func(r dashRow) bool { return r.id == rows[61].id }},
		{"search and filter that exclude each other", "q=" + rows[61].ref + "&status=" + dashOtherStatus(rows[61].status), func(dashRow) bool { return false }},
		{"no match", "q=nothing-like-this", func(dashRow) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := dashExpect(rows, tt.keep)
			// Small pages, so the filtered lists cross page boundaries too.
			pages := e.dashWalk(b, "/admin/onboardings?limit=7&"+tt.query)
			got := slices.Concat(pages...)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %d rows %v\nwant %d rows %v", tt.query, len(got), got, len(want), want)
			}
			for i, p := range pages {
				if len(p) > 7 || (i < len(pages)-1 && len(p) != 7) {
					t.Fatalf("page sizes %v", dashLens(pages))
				}
			}
			if len(want) > 7 && len(pages) < 2 {
				t.Fatalf("expected several pages, got %v", dashLens(pages))
			}
		})
	}

	// The form shows the filters again, and the search is escaped.
	res := b.get(e.web.URL + "/admin/onboardings?q=%3Cb%3Ex%3C%2Fb%3E&status=failed&escalated=1")
	if res.status != http.StatusOK || !strings.Contains(res.body, `value="&lt;b&gt;x&lt;/b&gt;"`) ||
		!strings.Contains(res.body, `<option value="failed" selected>`) || strings.Contains(res.body, "<b>x</b>") {
		t.Fatalf("the form should show the filters again, escaped:\n%s", res.body)
	}
	// A page size above the maximum is capped, not refused.
	if ids, next := dashListPage(t, b.get(e.web.URL+"/admin/onboardings?limit=100000")); len(ids) != 120 || next != "" {
		t.Fatalf("limit=100000: %d rows, next %q", len(ids), next)
	}
	bad := []string{"after=not-a-cursor", "after=" + base64.RawURLEncoding.EncodeToString([]byte("1,x")),
		"status=nope", "kind=both", "escalated=maybe", "from=2025-13-01", "to=yesterday", "limit=0", "limit=x",
		"q=" + strings.Repeat("9", 201)}
	for _, q := range bad {
		if res := b.get(e.web.URL + "/admin/onboardings?" + q); res.status != http.StatusBadRequest || !strings.Contains(res.body, `data-status="400"`) {
			t.Errorf("%s: %d, want a 400 page", q, res.status)
		}
	}
}

func dashOtherStatus(s string) string {
	if s == string(domain.StatusPending) {
		return string(domain.StatusConnected)
	}
	return string(domain.StatusPending)
}

func dashLens(pages [][]string) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}

func TestAdminOnboardingsCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	refs := []string{
		`Kunde, AS`,               // a comma
		`Sier "hei"`,              // quotes
		"to\nlinjer",              // a newline
		`=HYPERLINK("http://x")`,  // formulas
		`+47 123`,                 //
		`-2+3`,                    //
		`@SUM(A1)`,                //
		"\t=1",                    // a tab before a formula
		`ACME;=cmd|' /C calc'!A0`, // the pentest's: a formula after a ; (issue 13)
		"a\n@SUM(A1)",             // and after a line break
	}
	// What the export says for each: an apostrophe before each formula
	// trigger that starts the value or follows a separator.
	wants := []string{
		`Kunde, AS`, `Sier "hei"`, "to\nlinjer", `'=HYPERLINK("http://x")`, `'+47 123`, `'-2+3`, `'@SUM(A1)`,
		"'\t'=1", `ACME;'=cmd|' /C calc'!A0`, "a\n'@SUM(A1)",
	}
	orgs := dashOrgNos(len(refs) + 1)
	var rows []dashRow
	for i, ref := range refs {
		rows = append(rows, e.dashSeed(dashRow{orgNo: orgs[i], kind: string(domain.KindStandard), status: string(domain.StatusPending),
			customerRef: ref, requestID: uuid.NewString(), created: at.Add(time.Duration(i) * time.Minute)}))
	}
	other := e.dashSeed(dashRow{orgNo: orgs[len(refs)], kind: string(domain.KindAgent), status: string(domain.StatusConnected),
		customerRef: "agent-one", created: at.Add(time.Hour)})
	b, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))

	res := b.get(e.web.URL + "/admin/onboardings.csv?kind=standard&status=pending")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.header.Get("Content-Disposition"), `attachment; filename="onboardings-`) {
		t.Fatalf("export: %d %v\n%s", res.status, res.header, res.body)
	}
	records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, res.body)
	}
	header := records[0]
	if header[0] != "id" || !slices.Contains(header, "org_no") || !slices.Contains(header, "customer_ref") || !slices.Contains(header, "status") {
		t.Fatalf("header row: %v", header)
	}
	col := func(name string) int { return slices.Index(header, name) }
	if len(records) != 1+len(refs) {
		t.Fatalf("%d data rows, want %d (the filter left out the agent one)", len(records)-1, len(refs))
	}
	wantRef := map[string]string{}
	for i, r := range rows {
		wantRef[r.id] = wants[i]
	}
	for i, rec := range records[1:] {
		if len(rec) != len(header) {
			t.Fatalf("row %d has %d cells, header %d", i, len(rec), len(header))
		}
		// Newest first, as in the list.
		if want := rows[len(rows)-1-i].id; rec[col("id")] != want {
			t.Fatalf("row %d is %s, want %s", i, rec[col("id")], want)
		}
		if rec[col("id")] == other.id || rec[col("kind")] != "standard" || rec[col("status")] != "pending" {
			t.Fatalf("row %d does not match the filter: %v", i, rec)
		}
		if got, want := rec[col("customer_ref")], wantRef[rec[col("id")]]; got != want {
			t.Errorf("customer_ref %q, want %q", got, want)
		}
		if rec[col("created_at")] != rows[len(rows)-1-i].created.Format(time.RFC3339) {
			t.Errorf("created_at %q", rec[col("created_at")])
		}
	}
	for _, raw := range []string{`"Kunde, AS"`, `"Sier ""hei"""`, "\"to\nlinjer\"", `"'=HYPERLINK(""http://x"")"`, `,'@SUM(A1),`, `,ACME;'=cmd|' /C calc'!A0,`} {
		if !strings.Contains(res.body, raw) {
			t.Errorf("the body lacks %q", raw)
		}
	}

	// A search narrows the export too; and the export is audited.
	res = b.get(e.web.URL + "/admin/onboardings.csv?q=agent-one")
	if records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll(); err != nil || len(records) != 2 || records[1][0] != other.id {
		t.Fatalf("search export: %v %v", err, records)
	}
	if res := b.get(e.web.URL + "/admin/onboardings.csv?q=nothing"); strings.Count(res.body, "\n") != 1 {
		t.Fatalf("an empty export is the header row alone:\n%q", res.body)
	}
	if res := b.get(e.web.URL + "/admin/onboardings.csv?status=bogus"); res.status != http.StatusBadRequest {
		t.Fatalf("bad filter: %d", res.status)
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if log[0].Action != "onboarding.export" || log[0].Actor != "vera@example.com" || log[0].Detail["rows"] != float64(0) {
		t.Fatalf("the last export's audit entry: %+v", log[0])
	}
}

// dashStaffActed checks that the action left an audit entry by s and that the
// timeline holds events caused by s: the staff event, and (for those that
// call Altinn) each call in ops.
func (e *env) dashStaffActed(o *domain.Onboarding, s *db.Staff, action string, ops ...string) db.AuditEntry {
	e.t.Helper()
	var entry *db.AuditEntry
	for _, a := range e.dashAuditFor(o) {
		if a.Action == action {
			entry = &a
			break
		}
	}
	if entry == nil || entry.Actor != s.Email || entry.StaffID == nil || *entry.StaffID != s.ID ||
		entry.OnboardingID == nil || *entry.OnboardingID != o.ID || entry.IP != "127.0.0.1" {
		e.t.Fatalf("no audit entry %s by %s: %+v", action, s.Email, e.dashAuditFor(o))
	}
	staffEvent := false
	var calls []string
	for _, ev := range e.events(o) {
		if ev.Cause != domain.CauseStaff || ev.Actor != s.Email {
			continue
		}
		switch ev.Kind {
		case domain.EventStaff:
			staffEvent = staffEvent || strings.HasPrefix(ev.Message, action)
		case domain.EventAltinnCall:
			calls = append(calls, ev.Operation)
		}
	}
	if !staffEvent {
		e.t.Errorf("no staff event for %s in the timeline", action)
	}
	for _, op := range ops {
		if !contains(calls, op) {
			e.t.Errorf("%s: the timeline lacks the Altinn call %q by %s: %v", action, op, s.Email, calls)
		}
	}
	return *entry
}

var dashConfirmURLRE = regexp.MustCompile(`<input type="text" class="[^"]*\bcopy" id="confirm-url" readonly value="([^"]*)"[^>]*data-testid="confirm-url"`)

// dashConfirmURL is the copyable confirm link on a detail page, "" if none.
func dashConfirmURL(p page) string {
	if m := dashConfirmURLRE.FindStringSubmatch(p.body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func dashDoneAt(t *testing.T, res page, o *domain.Onboarding, done string) {
	t.Helper()
	if want := "/admin/onboardings/" + o.ID + "?done=" + done; res.status != http.StatusSeeOther || res.location != want {
		t.Fatalf("action: %d Location %q, want 303 to %q\n%s", res.status, res.location, want, res.body)
	}
}

func TestAdminActionRefreshAndVerify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID

	// Looking is not acting: the detail page does not call Altinn.
	calls := e.dashSimCalls()
	detail := b.get(path)
	if !strings.Contains(detail.body, `data-testid="detail-status" data-status="pending"`) || e.dashSimCalls() != calls {
		t.Fatalf("detail page before the refresh (calls %d -> %d):\n%s", calls, e.dashSimCalls(), detail.body)
	}
	dashDoneAt(t, b.post(path+"/refresh", url.Values{"_csrf": {csrfOf(t, detail)}}), o, "refresh")
	if o = e.dashReload(o); o.Status != domain.StatusConnected || o.SystemUserID == nil {
		t.Fatalf("after refresh: %q system user %v, want connected", o.Status, o.SystemUserID)
	}
	a := e.dashStaffActed(o, olga, "onboarding.refresh", "GET request/vendor/{id}", "GET systemuser/vendor/byquery")
	if a.Detail["from"] != "pending" || a.Detail["to"] != "connected" || a.Detail["result"] != "ok" {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	page := b.get(path + "?done=refresh")
	for _, want := range []string{`data-testid="done"`, `data-status="connected"`, `data-testid="action-verify"`,
		`data-testid="event-raw"`, `data-testid="audit-row" data-action="onboarding.refresh" data-actor="olga@example.com"`,
		`data-testid="event-actor">olga@example.com<`, *o.SystemUserID} {
		if !strings.Contains(page.body, want) {
			t.Errorf("detail page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `data-testid="action-cancel"`) {
		t.Error("a connected onboarding must not offer cancel")
	}

	// Verify asks byquery again.
	byquery := e.app.Sim.Stats().Calls["GET /authentication/api/v1/systemuser/vendor/byquery"]
	dashDoneAt(t, b.post(path+"/verify", url.Values{"_csrf": {csrfOf(t, page)}}), o, "verify")
	if n := e.app.Sim.Stats().Calls["GET /authentication/api/v1/systemuser/vendor/byquery"]; n != byquery+1 {
		t.Fatalf("byquery calls %d -> %d, want one more", byquery, n)
	}
	e.dashStaffActed(o, olga, "onboarding.verify", "GET systemuser/vendor/byquery")
	if o = e.dashReload(o); o.Status != domain.StatusConnected {
		t.Fatalf("after verify: %q", o.Status)
	}

	// The system user is deleted in Altinn: verify finds out.
	if err := e.app.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
		t.Fatal(err)
	}
	dashDoneAt(t, b.post(path+"/verify", url.Values{"_csrf": {csrfOf(t, page)}}), o, "verify")
	if o = e.dashReload(o); o.Status != domain.StatusRevoked {
		t.Fatalf("after the system user was deleted: %q, want revoked", o.Status)
	}

	// Verify is not possible on a pending one; nothing is called or written.
	other := dashOrgNos(1)[0]
	e.startFlow(e.browser(), "standard", other)
	p := e.onboardingForOrg(other)
	calls, audit := e.dashSimCalls(), e.dashCount("audit_log")
	res := b.post(e.web.URL+"/admin/onboardings/"+p.ID+"/verify", url.Values{"_csrf": {csrfOf(t, page)}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, `data-testid="back"`) {
		t.Fatalf("verify a pending one: %d\n%s", res.status, res.body)
	}
	if e.dashSimCalls() != calls || e.dashCount("audit_log") != audit {
		t.Fatal("a refused verify called Altinn or wrote the audit log")
	}
	if res := b.get(e.web.URL + "/admin/onboardings/" + uuid.NewString()); res.status != http.StatusNotFound {
		t.Fatalf("unknown id: %d", res.status)
	}
	if res := b.get(e.web.URL + "/admin/onboardings/not-a-uuid"); res.status != http.StatusNotFound {
		t.Fatalf("malformed id: %d", res.status)
	}
}

func TestAdminActionRenew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	oldReq := *o.AltinnRequestID
	if err := e.app.Sim.Reject(oldReq); err != nil {
		t.Fatal(err)
	}
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	detail := b.get(path)
	csrf := csrfOf(t, detail)
	if strings.Contains(detail.body, `data-testid="action-renew"`) {
		t.Fatal("renew offered for a pending onboarding")
	}
	if res := b.post(path+"/renew", url.Values{"_csrf": {csrf}, "confirm": {"yes"}}); res.status != http.StatusConflict {
		t.Fatalf("renew a pending one: %d, want 409", res.status)
	}
	dashDoneAt(t, b.post(path+"/refresh", url.Values{"_csrf": {csrf}}), o, "refresh")
	if o = e.dashReload(o); o.Status != domain.StatusRejected {
		t.Fatalf("after the customer rejected: %q", o.Status)
	}
	detail = b.get(path)
	if !strings.Contains(detail.body, `href="/admin/onboardings/`+o.ID+`/renew" data-testid="action-renew"`) {
		t.Fatalf("renew not offered for a rejected onboarding:\n%s", detail.body)
	}

	// Asking first: the GET and a POST without confirm=yes only show the question.
	calls, version := e.dashSimCalls(), o.Version
	for _, res := range []page{b.get(path + "/renew"), b.post(path+"/renew", url.Values{"_csrf": {csrf}})} {
		if res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="confirm-form" data-action="renew"`) ||
			!strings.Contains(res.body, `name="confirm" value="yes"`) {
			t.Fatalf("confirmation page: %d\n%s", res.status, res.body)
		}
	}
	if e.dashSimCalls() != calls || e.dashReload(o).Version != version {
		t.Fatal("the confirmation page acted")
	}

	dashDoneAt(t, b.post(path+"/renew", url.Values{"_csrf": {csrf}, "confirm": {"yes"}}), o, "renew")
	o = e.dashReload(o)
	if o.Status != domain.StatusPending || o.AltinnRequestID == nil || *o.AltinnRequestID == oldReq || o.ConfirmURL == nil {
		t.Fatalf("after renew: %+v, want pending with a new request", o)
	}
	var oldDeleted, newLive bool
	for _, r := range e.app.Sim.Requests() {
		oldDeleted = oldDeleted || (r.ID == oldReq && r.Deleted)
		newLive = newLive || (r.ID == *o.AltinnRequestID && !r.Deleted)
	}
	if !oldDeleted || !newLive || e.simRequestsFor(org) != 1 {
		t.Fatalf("at Altinn: old deleted %v, new live %v, live requests %d", oldDeleted, newLive, e.simRequestsFor(org))
	}
	e.dashStaffActed(o, olga, "onboarding.renew", "DELETE request/vendor/{id}", "POST request/vendor")
	page := b.get(path + "?done=renew")
	if dashConfirmURL(page) != *o.ConfirmURL || !strings.Contains(page.body, `data-testid="done"`) {
		t.Fatalf("after renew the page shows the new confirm link:\n%s", page.body)
	}
}

func TestAdminActionCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	req := *o.AltinnRequestID
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	detail := b.get(path)
	csrf := csrfOf(t, detail)
	if !strings.Contains(detail.body, `data-testid="action-cancel"`) {
		t.Fatal("cancel not offered for a pending onboarding")
	}
	if res := b.post(path+"/cancel", url.Values{"_csrf": {csrf}, "confirm": {"no"}}); res.status != http.StatusOK ||
		!strings.Contains(res.body, `data-action="cancel"`) || e.dashReload(o).Status != domain.StatusPending {
		t.Fatalf("cancel without confirm=yes must only ask: %d", res.status)
	}
	dashDoneAt(t, b.post(path+"/cancel", url.Values{"_csrf": {csrf}, "confirm": {"yes"}}), o, "cancel")
	if o = e.dashReload(o); o.Status != domain.StatusCancelled || o.ConfirmURL != nil {
		t.Fatalf("after cancel: %+v", o)
	}
	for _, r := range e.app.Sim.Requests() {
		if r.ID == req && !r.Deleted {
			t.Fatal("the request still lives at Altinn")
		}
	}
	e.dashStaffActed(o, olga, "onboarding.cancel", "DELETE request/vendor/{id}")
	if res := b.post(path+"/cancel", url.Values{"_csrf": {csrf}, "confirm": {"yes"}}); res.status != http.StatusConflict {
		t.Fatalf("cancelling twice: %d, want 409", res.status)
	}

	// A connected one has a system user that only the customer can delete: refused.
	other := dashOrgNos(1)[0]
	cb := e.browser()
	e.returnTo(cb, e.decide(cb, e.startFlow(cb, "standard", other), "approve").location)
	c := e.onboardingForOrg(other)
	if c.Status != domain.StatusConnected {
		t.Fatalf("setup: %q", c.Status)
	}
	calls, audit, events := e.dashSimCalls(), len(e.dashAuditFor(c)), len(e.events(c))
	cpath := e.web.URL + "/admin/onboardings/" + c.ID
	if page := b.get(cpath); strings.Contains(page.body, `data-testid="action-cancel"`) {
		t.Fatal("cancel offered for a connected onboarding")
	}
	for _, res := range []page{b.get(cpath + "/cancel"), b.post(cpath+"/cancel", url.Values{"_csrf": {csrf}, "confirm": {"yes"}})} {
		if res.status != http.StatusConflict || !strings.Contains(res.body, "systembruker") {
			t.Fatalf("cancel a connected one: %d, want 409 saying why\n%s", res.status, res.body)
		}
	}
	if c2 := e.dashReload(c); c2.Status != domain.StatusConnected || c2.Version != c.Version {
		t.Fatalf("the connected onboarding changed: %+v", c2)
	}
	if e.dashSimCalls() != calls || len(e.dashAuditFor(c)) != audit || len(e.events(c)) != events {
		t.Fatal("a refused cancel called Altinn or wrote something")
	}
}

func TestAdminActionCreateOnBehalf(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	form := b.get(e.web.URL + "/admin/onboardings/new")
	if form.status != http.StatusOK || !strings.Contains(form.body, `data-testid="product-standard"`) || !strings.Contains(form.body, `data-testid="product-agent"`) {
		t.Fatalf("new form: %d\n%s", form.status, form.body)
	}
	csrf := csrfOf(t, form)
	for _, bad := range []url.Values{
		{"product": {"standard"}, "orgno": {"314 248 296"}},
		{"product": {"standard"}, "orgno": {""}},
		{"product": {"nope"}, "orgno": {org}},
		{"orgno": {"<script>"}},
	} {
		bad.Set("_csrf", csrf)
		res := b.post(e.web.URL+"/admin/onboardings/new", bad)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error-summary"`) || strings.Contains(res.body, "<script>") {
			t.Errorf("%v: %d, want 422 with the form again\n%s", bad, res.status, res.body)
		}
	}
	if n := e.dashCount("onboardings"); n != 0 {
		t.Fatalf("invalid input created %d onboardings", n)
	}

	res := b.post(e.web.URL+"/admin/onboardings/new", url.Values{"_csrf": {csrf}, "product": {"standard"}, "orgno": {"314 248 295"}})
	o := e.onboardingForOrg(org)
	dashDoneAt(t, res, o, "create")
	if o.Status != domain.StatusPending || o.ConfirmURL == nil || o.Product != "standard" {
		t.Fatalf("created on behalf: %+v, want pending with a confirm URL", o)
	}
	evs := e.events(o)
	if evs[0].Kind != domain.EventCreated || evs[0].Cause != domain.CauseStaff || evs[0].Actor != olga.Email {
		t.Fatalf("first event: %+v, want created by staff olga", evs[0])
	}
	a := e.dashStaffActed(o, olga, "onboarding.create", "POST request/vendor")
	if a.Detail["started"] != true || a.Detail["org_no"] != org {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	page := b.get(e.web.URL + res.location)
	if dashConfirmURL(page) != *o.ConfirmURL || !strings.Contains(page.body, `data-testid="confirm-link"`) || !strings.Contains(page.body, `data-testid="done"`) {
		t.Fatalf("the detail page should show the link to send:\n%s", page.body)
	}
	// The link works for the customer: approving it connects the onboarding.
	cb := e.browser()
	back := e.decide(cb, *o.ConfirmURL, "approve")
	if st, _ := outcomeOf(t, e.returnTo(cb, back.location)); st != string(domain.StatusConnected) {
		t.Fatalf("the customer approved the staff-made request: %q", st)
	}

	// Again for the same customer: the live one is shown, not a second made.
	res = b.post(e.web.URL+"/admin/onboardings/new", url.Values{"_csrf": {csrf}, "product": {"standard"}, "orgno": {org}})
	dashDoneAt(t, res, o, "exists")
	if n := e.dashCount("onboardings"); n != 1 {
		t.Fatalf("%d onboardings, want 1", n)
	}
}
