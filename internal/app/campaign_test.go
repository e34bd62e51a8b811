package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// postCampaign fills in the new-campaign form: the list goes in as an
// uploaded file (or, with paste set, in the text box).
func (e *env) postCampaign(b *browser, name, product, list string, paste bool, concurrency, rate string) page {
	e.t.Helper()
	form := b.get(e.web.URL + "/admin/campaigns/new")
	if form.status != http.StatusOK {
		e.t.Fatalf("new campaign form: %d\n%s", form.status, form.body)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fields := map[string]string{"_csrf": csrfOf(e.t, form), "name": name, "product": product,
		"concurrency": concurrency, "rate": rate}
	if paste {
		fields["paste"] = list
	}
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if !paste {
		fw, _ := w.CreateFormFile("file", "customers.csv")
		_, _ = fw.Write([]byte(list))
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/campaigns", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// campaignAction presses one of a campaign page's buttons.
func (e *env) campaignAction(b *browser, id, action string) page {
	e.t.Helper()
	p := b.get(e.web.URL + "/admin/campaigns/" + id)
	return b.post(e.web.URL+"/admin/campaigns/"+id+"/"+action, url.Values{"_csrf": {csrfOf(e.t, p)}})
}

// waitCampaign waits until the campaign reaches status and returns it.
func waitCampaign(t *testing.T, store *db.DB, id, status string, within time.Duration) *db.Campaign {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := store.CampaignByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == status {
			return c
		}
		if time.Now().After(deadline) {
			p, _ := store.CampaignProgress(context.Background(), c)
			t.Fatalf("campaign is %s after %v, want %s (rows %v)", c.Status, within, status, p.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var campaignIDRE = regexp.MustCompile(`^/admin/campaigns/([0-9a-f-]{36})\?done=created$`)

func campaignIDOf(t *testing.T, p page) string {
	t.Helper()
	m := campaignIDRE.FindStringSubmatch(p.location)
	if p.status != http.StatusSeeOther || m == nil {
		t.Fatalf("create campaign: %d Location %q\n%s", p.status, p.location, p.body)
	}
	return m[1]
}

// createsPerOrg counts the simulator's request creates (201s) per
// organisation, deleted ones included: more than one is a duplicate.
func createsPerOrg(s *sim.Server) map[string]int {
	m := map[string]int{}
	for _, r := range s.Requests() {
		m[r.PartyOrgNo]++
	}
	return m
}

// TestCampaignReportRunAndExport: an operator uploads a list with every
// kind of bad row; the report lists each with its line before anything is
// sent; started, the campaign sends each valid organisation exactly once
// and ends done; the export has every valid row with its confirm link.
func TestCampaignReportRunAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_CAMPAIGN_RATE": "50"})
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	e.addStaff("vera@example.com", string(domain.RoleViewer))
	// One customer is connected already.
	connected := e.browser()
	e.returnTo(connected, e.decide(connected, e.startFlow(connected, "standard", validOrg(100)), "approve").location)

	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	good := distinctOrgs(1, 4)
	list := "organisasjonsnummer;kundereferanse;epost\n" +
		good[0] + ";=HYPERLINK(\"x\");a@example.com\n" +
		good[1] + ";k-2;\n" +
		"310000018;k-bad\n" + // line 4: check digit
		good[2] + "\n" +
		good[0] + ";again\n" + // line 6: duplicate of line 2
		validOrg(100) + "\n" + // line 7: connected already
		"12345\n" + // line 8: format
		good[3] + ";k-4;not-an-email\n" // line 9: email
	before := e.app.Sim.Stats().RequestsCreated
	id := campaignIDOf(t, e.postCampaign(b, "Altinn 2 migration", "standard", list, false, "3", "50"))

	b.get(e.web.URL + "/lang/en")
	report := b.get(e.web.URL + "/admin/campaigns/" + id + "?done=created")
	if report.status != http.StatusOK || !strings.Contains(report.body, `data-status="draft"`) {
		t.Fatalf("report: %d\n%s", report.status, report.body)
	}
	listed := map[string]string{} // line → the row's text
	for _, m := range regexp.MustCompile(`(?s)<tr data-testid="invalid-row" data-line="(\d+)">(.*?)</tr>`).FindAllStringSubmatch(report.body, -1) {
		listed[m[1]] = m[2]
	}
	want := map[string]string{"4": "check digit", "6": "line 2", "7": "Already connected", "8": "9 digits", "9": "email"}
	for line, words := range want {
		if !strings.Contains(listed[line], words) {
			t.Errorf("the report's line %s says %q, want %q", line, listed[line], words)
		}
	}
	if len(listed) != len(want) {
		t.Errorf("the report lists lines %v, want %v", listed, want)
	}
	if got := e.app.Sim.Stats().RequestsCreated; got != before {
		t.Fatalf("a draft sent %d requests to Altinn", got-before)
	}

	// A viewer sees the campaign but cannot start it.
	v := e.browser()
	e.signIn(v, "vera@example.com", staffPassword, "")
	if p := v.get(e.web.URL + "/admin/campaigns/" + id); p.status != http.StatusOK || strings.Contains(p.body, `data-testid="campaign-start"`) {
		t.Errorf("viewer: %d, start button shown: %v", p.status, strings.Contains(p.body, `data-testid="campaign-start"`))
	}
	if p := v.post(e.web.URL+"/admin/campaigns/"+id+"/start", url.Values{"_csrf": {csrfOf(t, v.get(e.web.URL+"/admin/campaigns"))}}); p.status != http.StatusForbidden {
		t.Errorf("viewer start: %d, want 403", p.status)
	}

	e.startJobs()
	if p := e.campaignAction(b, id, "start"); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", p.status, p.body)
	}
	c := waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)
	creates := createsPerOrg(e.app.Sim)
	for _, org := range good[:3] { // good[3] has a bad email
		if creates[org] != 1 {
			t.Errorf("%s: %d requests at Altinn, want 1", org, creates[org])
		}
		o := e.onboardingForOrg(org)
		if o.Status != domain.StatusPending {
			t.Errorf("%s: %s, want pending", org, o.Status)
		}
	}
	if creates["310000018"]+creates["12345"]+creates[good[3]] != 0 || creates[validOrg(100)] != 1 {
		t.Errorf("invalid rows reached Altinn: %v", creates)
	}
	p, err := e.db.CampaignProgress(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Items[db.ItemDone] != 3 || p.Items[db.ItemInvalid] != 5 || p.Statuses[string(domain.StatusPending)] != 3 {
		t.Errorf("progress %+v, want 3 done, 5 invalid, 3 pending", p)
	}

	// The export: one row per valid line, with the link to approve.
	ex := b.get(e.web.URL + "/admin/campaigns/" + id + "/links.csv")
	if ex.status != http.StatusOK || !strings.HasPrefix(ex.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", ex.status, ex.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(ex.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], []string{"line", "org_no", "customer_ref", "email", "row_state", "status", "confirm_url"}) {
		t.Fatalf("export:\n%s", ex.body)
	}
	for _, r := range rows[1:] {
		if r[5] != string(domain.StatusPending) || !strings.HasPrefix(r[6], e.sim.URL+"/accessmanagement/ui/systemuser/request?id=") {
			t.Errorf("export row %v: want pending with the simulator's confirm link", r)
		}
	}
	if rows[1][2] != `'=HYPERLINK("x")` {
		t.Errorf("a formula in a customer reference is exported as %q, want it defused", rows[1][2])
	}
	// The link works: the customer approves and is connected.
	cust := e.browser()
	if st, _ := outcomeOf(t, e.returnTo(cust, e.decide(cust, rows[1][6], "approve").location)); st != string(domain.StatusConnected) {
		t.Errorf("after approving from the exported link: %s", st)
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, a := range log {
		if a.Actor == "olga@example.com" && a.Detail["campaign"] == id {
			acts = append(acts, a.Action)
		}
	}
	for _, want := range []string{"campaign.create", "campaign.start", "campaign.export"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit of the campaign: %v, want %s", acts, want)
		}
	}
}

// TestCampaignFormErrors: what cannot become a campaign is said at the
// field, with what was typed kept, and never a 500.
func TestCampaignFormErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	for name, c := range map[string]struct {
		name, product, list, conc, rate string
		want                            string
	}{
		"no name":       {"", "standard", validOrg(1), "2", "5", "Give the campaign a name"},
		"no rows":       {"x", "standard", "orgnr\n\n", "2", "5", "Upload a file or paste"},
		"binary":        {"x", "standard", "\xff\xfe\x00", "2", "5", "not text"},
		"nul":           {"x", "standard", validOrg(1) + "\x00;ref", "2", "5", "not text"},
		"bad product":   {"x", "nope", validOrg(1), "2", "5", "Choose what"},
		"bad rate":      {"x", "standard", validOrg(1), "2", "fast", "calls per second"},
		"zero conc":     {"x", "standard", validOrg(1), "0", "5", "Calls at once"},
		"rate too big":  {"x", "standard", validOrg(1), "2", "1e9", "calls per second"},
		"rate too slow": {"x", "standard", validOrg(1), "2", "1e-12", "from 0.01"},
	} {
		b.get(e.web.URL + "/lang/en")
		p := e.postCampaign(b, c.name, c.product, c.list, true, c.conc, c.rate)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, c.want) || !strings.Contains(p.body, `data-testid="error-summary"`) {
			t.Errorf("%s: %d, want 422 saying %q\n%.2000s", name, p.status, c.want, p.body)
		}
	}
	if cs, _ := e.db.ListCampaigns(context.Background(), 10); len(cs) != 0 {
		t.Errorf("%d campaigns stored from bad forms", len(cs))
	}
}

// TestCampaignPastedWithoutMultipart: the form posted urlencoded (a script,
// or a browser that lost the form's enctype) cannot carry a file but its
// pasted list is read like the multipart one's, not refused as too large
// (issue 13: it answered 413 "Filen er for stor" for a 22-line paste).
func TestCampaignPastedWithoutMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	orgs := distinctOrgs(700, 22)
	form := b.get(e.web.URL + "/admin/campaigns/new")
	p := b.post(e.web.URL+"/admin/campaigns", url.Values{"_csrf": {csrfOf(t, form)}, "name": {"Pasted"},
		"product": {"standard"}, "concurrency": {"2"}, "rate": {"5"}, "paste": {"orgnr\n" + strings.Join(orgs, "\n")}})
	id := campaignIDOf(t, p)
	c, err := e.db.CampaignByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := e.db.CampaignProgress(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range prog.Items {
		total += n
	}
	if total != len(orgs) {
		t.Fatalf("the campaign holds %d rows (%v), want the %d pasted", total, prog.Items, len(orgs))
	}
}

// TestCampaignRateLimit: starts are spaced by the campaign's rate, measured
// on the times the service called Altinn.
func TestCampaignRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const n, rate = 15, 5.0
	var list strings.Builder
	for _, org := range distinctOrgs(200, n) {
		fmt.Fprintln(&list, org)
	}
	c, err := e.app.Campaigns.Create(context.Background(), campaigns.NewCampaign{Name: "rate", Product: "standard",
		Concurrency: 8, Rate: rate, Data: []byte(list.String()), CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// Runs hand over every second: the rate holds across runs too.
	e.app.CampaignRunner.Budget = time.Second
	e.startJobs()
	if _, err := e.app.Campaigns.Act(context.Background(), c.ID, campaigns.ActionStart); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, e.db, c.ID, db.CampaignDone, 30*time.Second)
	var at []time.Time
	rows, err := e.db.Pool.Query(context.Background(), `
		SELECT ev.at FROM onboarding_events ev JOIN campaign_items i ON i.onboarding_id = ev.onboarding_id
		WHERE i.campaign_id = $1 AND ev.kind = 'created' ORDER BY ev.at`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ts time.Time
		if err := rows.Scan(&ts); err != nil {
			t.Fatal(err)
		}
		at = append(at, ts)
	}
	if len(at) != n {
		t.Fatalf("%d onboardings started, want %d", len(at), n)
	}
	// No two seconds hold more than twice the rate, give or take the
	// scheduling jitter of a loaded machine at the edges.
	const window = 2 * time.Second
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < window {
			j++
		}
		if j-i > int(2*rate)+2 {
			t.Errorf("%d starts within %v from %v, want at most %v", j-i, window, at[i].Format("15:04:05.000"), 2*rate)
		}
	}
	if span, floor := at[n-1].Sub(at[0]), time.Duration(float64(n-1)/rate*float64(time.Second)); span < floor*9/10 {
		t.Errorf("%d starts took %v, faster than the rate allows (%v)", n, span, floor)
	}
}

// TestCampaignPauseResume: a paused campaign sends nothing more; resumed,
// it finishes with every organisation sent once.
func TestCampaignPauseResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	var list strings.Builder
	const n = 16
	for _, org := range distinctOrgs(300, n) {
		fmt.Fprintln(&list, org)
	}
	id := campaignIDOf(t, e.postCampaign(b, "pause me", "standard", list.String(), true, "2", "4"))
	e.startJobs()
	e.campaignAction(b, id, "start")
	// Without JavaScript a running campaign's page refreshes itself.
	if p := b.get(e.web.URL + "/admin/campaigns/" + id); !strings.Contains(p.body, `<noscript><meta http-equiv="refresh" content="5">`) {
		t.Errorf("the running campaign's page does not refresh itself without JavaScript:\n%.1500s", p.body)
	}
	waitFor(t, 20*time.Second, "some rows sent", func() bool { return e.app.Sim.Stats().RequestsCreated >= 3 })
	if p := e.campaignAction(b, id, "pause"); p.status != http.StatusSeeOther {
		t.Fatalf("pause: %d\n%s", p.status, p.body)
	}
	// The calls under way finish and the run ends (a paused campaign's run
	// claims no more rows and is not run again): from then on nothing can
	// send, which holds for as long as it stays paused.
	count := func(q string, args ...any) int {
		var k int
		if err := e.db.Pool.QueryRow(context.Background(), q, args...).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	const runs = `SELECT count(*) FROM river_job WHERE kind = 'campaign_run' AND state NOT IN ('completed', 'cancelled', 'discarded')`
	const working = `SELECT count(*) FROM campaign_items WHERE campaign_id = $1 AND state = 'working'`
	waitFor(t, 20*time.Second, "the paused campaign's run to end", func() bool { return count(runs) == 0 && count(working, id) == 0 })
	sent := e.app.Sim.Stats().RequestsCreated
	page := b.get(e.web.URL + "/admin/campaigns/" + id)
	if !strings.Contains(page.body, `data-status="paused"`) || !strings.Contains(page.body, `data-testid="campaign-resume"`) ||
		strings.Contains(page.body, `http-equiv="refresh"`) {
		t.Fatalf("paused page:\n%s", page.body)
	}
	if got := e.app.Sim.Stats().RequestsCreated; got != sent || sent >= n || count(runs) != 0 || count(working, id) != 0 {
		t.Fatalf("paused: %d requests, then %d (of %d), %d runs, %d rows working", sent, got, n, count(runs), count(working, id))
	}
	e.campaignAction(b, id, "resume")
	waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)
	for org, k := range createsPerOrg(e.app.Sim) {
		if k != 1 {
			t.Errorf("%s: %d requests, want 1", org, k)
		}
	}
	if got := e.app.Sim.Stats().RequestsCreated; got != n {
		t.Errorf("%d requests, want %d", got, n)
	}
	// A finished campaign cannot be paused; the page says so in words.
	if p := b.post(e.web.URL+"/admin/campaigns/"+id+"/pause", url.Values{"_csrf": {csrfOf(t, page)}}); p.status != http.StatusConflict {
		t.Errorf("pause a done campaign: %d, want 409", p.status)
	}
}

// TestCampaignRestartNoDuplicates: an instance is stopped mid-campaign
// while Altinn is slow and sometimes stores a request but answers 500;
// another instance carries the campaign to the end, and no organisation
// gets two requests.
func TestCampaignRestartNoDuplicates(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 2, nil)
	for _, a := range c.apps {
		a.CampaignRunner.Budget = time.Second // hand over often, so a stop is quick
		a.CampaignRunner.Backoff = 100 * time.Millisecond
	}
	c.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/authentication/api/v1/systemuser/request/vendor", Latency: 100 * time.Millisecond})
	c.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/authentication/api/v1/systemuser/request/vendor",
		Status: http.StatusInternalServerError, AfterStore: true, Times: 3})
	const n = 40
	var list strings.Builder
	for _, org := range distinctOrgs(400, n) {
		fmt.Fprintln(&list, org)
	}
	ctx := context.Background()
	camp, err := c.apps[0].Campaigns.Create(ctx, campaigns.NewCampaign{Name: "restart", Product: "standard",
		Concurrency: 4, Rate: 8, Data: []byte(list.String()), CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apps[0].Jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.apps[0].Campaigns.Act(ctx, camp.ID, campaigns.ActionStart); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a quarter sent", func() bool { return c.Sim.Stats().RequestsCreated >= n/4 })
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := c.apps[0].Jobs.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	p, _ := c.check.CampaignProgress(ctx, camp)
	if p.Items[db.ItemDone] >= n {
		t.Fatalf("the campaign finished before the restart: %v", p.Items)
	}
	t.Logf("stopped with rows %v", p.Items)
	if err := c.apps[1].Jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = c.apps[1].Jobs.Stop(ctx)
	})
	waitCampaign(t, c.check, camp.ID, db.CampaignDone, 60*time.Second)
	creates := map[string]int{}
	for _, r := range c.Sim.Requests() {
		creates[r.PartyOrgNo]++
	}
	if len(creates) != n {
		t.Errorf("%d organisations at Altinn, want %d", len(creates), n)
	}
	for org, k := range creates {
		if k != 1 {
			t.Errorf("%s: %d requests at Altinn, want 1", org, k)
		}
	}
	p, _ = c.check.CampaignProgress(ctx, camp)
	if p.Items[db.ItemDone] != n || p.Statuses[string(domain.StatusPending)] != n {
		t.Errorf("rows %v, statuses %v: want all %d done and pending", p.Items, p.Statuses, n)
	}
}

// distinctOrgs returns n different valid organisation numbers from start
// on (validOrg skips a number whose check digit would be 10, so two
// neighbours can be the same).
func distinctOrgs(start, n int) []string {
	var out []string
	for k := start; len(out) < n; k++ {
		if o := validOrg(k); len(out) == 0 || out[len(out)-1] != o {
			out = append(out, o)
		}
	}
	return out
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestChangeCampaign: the product now asks for a right its connected
// customers lack; from the changes page, staff start a change-request
// campaign; it asks Altinn once per customer; the export has each
// customer's change link, and a customer who approves through it ends
// with the right. Agent products and a product nobody lacks anything for
// are refused with words.
func TestChangeCampaign(t *testing.T) {
	t.Parallel()
	base := newEnv(t, map[string]string{"ONBOARD_PRODUCTS": changeProducts(t, nil, []string{changePackage})})
	orgs := distinctOrgs(600, 3)
	for _, org := range orgs {
		b := base.browser()
		base.returnTo(b, base.decide(b, base.startFlow(b, "standard", org), "approve").location)
	}
	after := changeRedeploy(t, base, map[string]string{
		"ONBOARD_PRODUCTS": changeProducts(t, []string{changeRight}, []string{changePackage})})
	after.addStaff("olga@example.com", string(domain.RoleOperator))
	after.startJobs()
	b := after.browser()
	after.signIn(b, "olga@example.com", staffPassword, "")
	b.get(after.web.URL + "/lang/en")

	changes := b.get(after.web.URL + "/admin/changes")
	if changes.status != http.StatusOK {
		t.Fatalf("changes page: %d", changes.status)
	}
	start := func(product string) page {
		return b.post(after.web.URL+"/admin/campaigns/change", url.Values{"product": {product}, "_csrf": {csrfOf(t, changes)}})
	}
	if p := start("agent"); p.status != http.StatusConflict || !strings.Contains(p.body, "new system user") {
		t.Errorf("a change campaign for the agent product: %d\n%.1000s", p.status, p.body)
	}
	id := campaignIDOf(t, start("standard"))
	c, err := after.db.CampaignByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := after.db.CampaignProgress(context.Background(), c); c.Kind != db.CampaignChange || p.Valid != len(orgs) {
		t.Fatalf("change campaign %s with %d rows, want %d", c.Kind, p.Valid, len(orgs))
	}
	after.campaignAction(b, id, "start")
	waitCampaign(t, after.db, id, db.CampaignDone, 30*time.Second)

	perUser := map[string]int{}
	for _, cr := range base.app.Sim.ChangeRequests() {
		perUser[cr.SystemUserID]++
	}
	for _, org := range orgs {
		o := after.onboardingForOrg(org)
		crs := after.changeRequests(o)
		if len(crs) != 1 || crs[0].Status != domain.ChangePending || perUser[*o.SystemUserID] != 1 {
			t.Errorf("%s: %d change requests here (%v), %d at Altinn; want one pending", org, len(crs), crs, perUser[*o.SystemUserID])
		}
	}
	page := b.get(after.web.URL + "/admin/campaigns/" + id)
	if !strings.Contains(page.body, `data-testid="status-pending" data-count="3"`) {
		t.Errorf("the campaign page does not count 3 pending change requests:\n%s", page.body)
	}
	ex := b.get(after.web.URL + "/admin/campaigns/" + id + "/links.csv")
	rows, err := csv.NewReader(strings.NewReader(ex.body)).ReadAll()
	if err != nil || len(rows) != len(orgs)+1 {
		t.Fatalf("export (%v):\n%s", err, ex.body)
	}
	link := rows[1][6]
	if !strings.HasPrefix(link, base.sim.URL+"/accessmanagement/ui/systemuser/changerequest?id=") {
		t.Fatalf("the exported link %q is not Altinn's change confirm page", link)
	}
	cust := after.browser()
	if st := changeOutcomeOf(t, after.changeReturn(cust, after.decide(cust, link, "approve").location)); st != string(domain.ChangeAccepted) {
		t.Errorf("after approving from the exported link: %s", st)
	}
	if got := after.lacking([]string{changeRight}, []string{changePackage}); len(got) != 0 {
		t.Errorf("still lacking (the others have live change requests): %v", got)
	}
	// Nobody left to ask: said in words, and no empty campaign is made.
	if p := start("standard"); p.status != http.StatusConflict || !strings.Contains(p.body, "No connected customer lacks") {
		t.Errorf("a second change campaign: %d\n%.1000s", p.status, p.body)
	}
}

// TestCampaignCancelAndRetry: cancelling while rows are under way ends with
// every row finished (sent or cancelled), none left waiting; retrying the
// failed rows of a paused campaign leaves it paused.
func TestCampaignCancelAndRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.app.CampaignRunner.Backoff = 50 * time.Millisecond
	e.startJobs()
	create := "/authentication/api/v1/systemuser/request/vendor"

	// Cancel while two rows wait on a slow Altinn that then fails them: they
	// would be retried, but the campaign is gone, so they are cancelled.
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: create, Latency: 700 * time.Millisecond,
		Status: http.StatusServiceUnavailable})
	c, err := e.app.Campaigns.Create(ctx, campaigns.NewCampaign{Name: "cancel", Product: "standard",
		Concurrency: 2, Rate: 50, Data: []byte(strings.Join(distinctOrgs(800, 6), "\n")), CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionStart); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "two rows under way", func() bool {
		p, _ := e.db.CampaignProgress(ctx, c)
		return p.Items[db.ItemWorking] == 2
	})
	if _, err := e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionCancel); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "every row finished", func() bool {
		p, _ := e.db.CampaignProgress(ctx, c)
		return p.Finished == p.Valid
	})
	p, _ := e.db.CampaignProgress(ctx, c)
	if p.Items[db.ItemCancelled] != 6 {
		t.Errorf("rows %v, want all 6 cancelled", p.Items)
	}
	remove()

	// Retry on a paused campaign: the failed rows are queued, the campaign
	// stays paused until resumed.
	e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: create, Status: http.StatusBadRequest,
		Body: `{"title":"bad","status":400,"code":"AUTH-00001"}`, Times: 2})
	c, err = e.app.Campaigns.Create(ctx, campaigns.NewCampaign{Name: "retry", Product: "standard",
		Concurrency: 1, Rate: 50, Data: []byte(strings.Join(distinctOrgs(900, 3), "\n")), CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionStart); err != nil {
		t.Fatal(err)
	}
	c = waitCampaign(t, e.db, c.ID, db.CampaignDone, 10*time.Second)
	if p, _ := e.db.CampaignProgress(ctx, c); p.Items[db.ItemFailed] != 2 || p.Items[db.ItemDone] != 1 {
		t.Fatalf("rows %v, want 2 failed (Altinn refused) and 1 done", p.Items)
	}
	if got := campaigns.Actions(c, 2); !slices.Equal(got, []string{campaigns.ActionRetry}) {
		t.Errorf("a done campaign with failed rows offers %v", got)
	}
	// Pause is not possible when done; retry makes it run again; pause it
	// straight away and retry again: it stays paused.
	if _, err := e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionPause); !errors.Is(err, campaigns.ErrState) {
		t.Errorf("pause a done campaign: %v", err)
	}
	if _, err := e.db.SetCampaignStatus(ctx, c.ID, []string{db.CampaignDone}, db.CampaignPaused); err != nil {
		t.Fatal(err)
	}
	c, err = e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionRetry)
	if err != nil || c.Status != db.CampaignPaused {
		t.Fatalf("retry on a paused campaign: %v, status %s; want it still paused", err, c.Status)
	}
	if p, _ := e.db.CampaignProgress(ctx, c); p.Items[db.ItemQueued] != 2 {
		t.Errorf("rows %v, want the 2 failed ones queued again", p.Items)
	}
	if _, err := e.app.Campaigns.Act(ctx, c.ID, campaigns.ActionResume); err != nil {
		t.Fatal(err)
	}
	c = waitCampaign(t, e.db, c.ID, db.CampaignDone, 10*time.Second)
	if p, _ := e.db.CampaignProgress(ctx, c); p.Items[db.ItemDone] != 3 {
		t.Errorf("after the retry: rows %v, want 3 done", p.Items)
	}
}
