package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

const problemsPath = "/admin/problems"

var problemSections = []string{"webhooks", "notusable", "failed", "stuck", "mail"}

// problemRows reads a Problems page's rows of one section: each row's id
// (the delivery's, the mail event's or the onboarding's) and the onboarding
// page it leads to.
func problemRows(t *testing.T, p page, section string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr data-testid="problem-` + section + `" data-id="([^"]+)">.*?href="(/admin/onboardings/[0-9a-f-]{36})" data-testid="open-onboarding"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(p.body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var problemRedeliverRE = regexp.MustCompile(`<form method="post" action="(/admin/problems/webhooks/([0-9]+)/redeliver)">`)

// TestProblemsPage is support's one place: with nothing wrong it says so in
// words; then a webhook endpoint that fails (given up for one customer,
// failing for all on another endpoint), a connected customer that is not
// usable, a failed and a stuck onboarding and a refused email each show in
// their section with its count, linked to their onboarding. A viewer reads
// it; an operator redelivers a given-up delivery from it, audited, and it
// leaves the list once delivered.
func TestProblemsPage(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	ep := newVendorEndpoint(t, func(int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	down := newVendorEndpoint(t, always(http.StatusBadGateway)) // never gets better
	e := webhookEnv(t, ep, down)
	ctx := context.Background()
	operator, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))

	// Nothing wrong: said in words, every count 0, linked from the nav.
	calm := viewer.get(e.web.URL + problemsPath)
	if calm.status != http.StatusOK || !strings.Contains(calm.body, `data-testid="no-problems"`) ||
		!strings.Contains(calm.body, "Ingen problemer nå.") || !strings.Contains(calm.body, `href="/admin/problems" data-testid="nav-problems"`) {
		t.Fatalf("the calm page: %d\n%s", calm.status, calm.body)
	}
	for _, s := range problemSections {
		if !strings.Contains(calm.body, `data-testid="none-`+s+`"`) || countOf(t, calm, "problems-"+s) != 0 {
			t.Errorf("calm page: section %s not empty in words", s)
		}
	}
	if !strings.Contains(calm.body, "Ingen problemer med webhooks") {
		t.Errorf("the calm page does not say there are no webhook problems")
	}

	// (a) Customer A's events are two days old at their first attempt to
	// the first endpoint: given up at once; to the other they keep failing.
	orgs := distinctOrgs(1500, 4)
	e.startFlow(e.browser(), "standard", orgs[0])
	a := e.onboardingForOrg(orgs[0])
	changes := len(e.statusChanges(a))
	if _, err := e.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET retry_since = now() - interval '48 hours 1 minute' WHERE url = $1`, ep.url()); err != nil {
		t.Fatal(err)
	}
	e.startJobs()
	e.waitDeliveries(a, 2*changes, func(d db.WebhookDelivery) bool {
		return (d.URL == ep.url() && d.Status == db.WebhookFailed) || (d.URL == down.url() && d.Status == db.WebhookPending && d.LastError != nil)
	})
	healthy.Store(true)

	// (c) Customer B: Altinn refuses the request.
	create := "/authentication/api/v1/systemuser/request/vendor"
	e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: create, Status: http.StatusBadRequest,
		Body: `{"title":"bad","status":400,"code":"AUTH-00001"}`, Times: 1})
	e.submitAndConfirm(e.browser(), "standard", orgs[1])
	b := e.onboardingForOrg(orgs[1])
	if b.Status != domain.StatusFailed {
		t.Fatalf("customer B: %s, want failed", b.Status)
	}

	// (b) Customer D connects; then the product's system loses the client
	// id, and the operator's Test connection finds it not usable.
	cb := e.browser()
	e.returnTo(cb, e.decide(cb, e.startFlow(cb, "standard", orgs[3]), "approve").location)
	d := e.onboardingForOrg(orgs[3])
	if err := e.app.Sim.RemoveClientID(e.app.Config.Products[0].SystemID, e.app.Config.MaskinportenClientID); err != nil {
		t.Fatal(err)
	}
	e.testConnection(operator, d)

	// (d) Customer C: Altinn does not answer; an hour later it is still
	// requesting (the hour set on its row, as history would).
	// Altinn stays down for creates to the end, so the reconciler cannot
	// settle it either.
	e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: create, Status: http.StatusServiceUnavailable})
	e.submitAndConfirm(e.browser(), "standard", orgs[2])
	c := e.onboardingForOrg(orgs[2])
	if c.Status != domain.StatusRequesting {
		t.Fatalf("customer C: %s, want requesting", c.Status)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET status_at = now() - interval '1 hour' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}

	// (e) An email to customer A was refused.
	e.addMail(a.ID, domain.MailReminder, domain.MailRefused, "550 5.1.1 no such user", time.Now())

	// Every delivery tried at least once: the webhook section holds still.
	waitFor(t, 20*time.Second, "every delivery tried", func() bool {
		var n int
		if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE attempts = 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	var wantHooks int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries
		WHERE status = 'failed' OR (status = 'pending' AND last_error IS NOT NULL)`).Scan(&wantHooks); err != nil {
		t.Fatal(err)
	}

	viewer.get(e.web.URL + "/lang/en")
	p := viewer.get(e.web.URL + problemsPath)
	t.Logf("%d webhook deliveries failing or given up", wantHooks)
	if p.status != http.StatusOK || strings.Contains(p.body, `data-testid="no-problems"`) {
		t.Fatalf("problems page: %d\n%s", p.status, p.body)
	}
	detail := func(o *domain.Onboarding) string { return "/admin/onboardings/" + o.ID }
	hooks := problemRows(t, p, "webhooks")
	if countOf(t, p, "problems-webhooks") != wantHooks || len(hooks) != wantHooks {
		t.Errorf("webhooks: count %d, %d rows; want %d", countOf(t, p, "problems-webhooks"), len(hooks), wantHooks)
	}
	var givenUp []string
	for _, dl := range e.deliveries(a) {
		id := strconv.FormatInt(dl.ID, 10)
		if hooks[id] != detail(a) {
			t.Errorf("delivery %d (%s) is not listed with customer A's page: %q", dl.ID, dl.Status, hooks[id])
		}
		if dl.Status == db.WebhookFailed {
			givenUp = append(givenUp, id)
		}
	}
	if !strings.Contains(p.body, "Given up") || !strings.Contains(p.body, "Failing, retried") || !strings.Contains(p.body, "HTTP 503") {
		t.Errorf("the webhook rows do not say given up, failing and the last answer")
	}
	for section, want := range map[string]map[string]string{
		"notusable": {d.ID: detail(d)},
		"failed":    {b.ID: detail(b)},
		"stuck":     {c.ID: detail(c)},
	} {
		if got := problemRows(t, p, section); !mapsEqual(got, want) || countOf(t, p, "problems-"+section) != len(want) {
			t.Errorf("%s: rows %v (count %d), want %v", section, got, countOf(t, p, "problems-"+section), want)
		}
	}
	if mail := problemRows(t, p, "mail"); len(mail) != 1 || !slices.Contains(mapValues(mail), detail(a)) || countOf(t, p, "problems-mail") != 1 {
		t.Errorf("mail: %v, want customer A's refused reminder", mail)
	}
	for _, words := range []string{"MP-303", "AUTH-00001", "more than 15 minutes", "550 5.1.1 no such user", ">Reminder<", "Connected, but not usable"} {
		if !strings.Contains(p.body, words) {
			t.Errorf("the page does not say %q", words)
		}
	}
	if strings.Contains(p.body, `data-testid="redeliver"`) {
		t.Errorf("a viewer is offered redeliver")
	}

	// The reconciler not reaching a waiting onboarding: seen as overdue
	// by a clock two days on (a test clock: the jobs keep the real one's
	// checks on time).
	later, err := e.db.Problems(ctx, db.ProblemQuery{StuckAfter: 15 * time.Minute, OverdueAfter: time.Hour, Limit: 100, Now: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range later.Stuck {
		reasons[s.ID] = s.Reason
	}
	if reasons[a.ID] != db.StuckOverdue || reasons[c.ID] != db.StuckRequesting || reasons[d.ID] != db.StuckOverdue || later.StuckCount != len(later.Stuck) {
		t.Errorf("two days on: stuck %v (count %d), want A and D overdue, C requesting", reasons, later.StuckCount)
	}

	// Redeliver: a viewer may not, nor anyone without the CSRF token.
	op := operator.get(e.web.URL + problemsPath)
	forms := problemRedeliverRE.FindAllStringSubmatch(op.body, -1)
	if len(forms) != wantHooks {
		t.Fatalf("the operator has %d redeliver forms, want %d", len(forms), wantHooks)
	}
	target := e.web.URL + problemsPath + "/webhooks/" + givenUp[0] + "/redeliver"
	audits := e.dashCount("audit_log")
	if res := viewer.post(target, url.Values{"_csrf": {csrfOf(t, p)}}); res.status != http.StatusForbidden {
		t.Errorf("viewer redeliver: %d, want 403", res.status)
	}
	if res := operator.post(target, url.Values{}); res.status != http.StatusForbidden && res.status != http.StatusBadRequest {
		t.Errorf("redeliver without CSRF: %d", res.status)
	}
	for _, bad := range []string{"999999", "x"} {
		if res := operator.post(e.web.URL+problemsPath+"/webhooks/"+bad+"/redeliver", url.Values{"_csrf": {csrfOf(t, op)}}); res.status != http.StatusNotFound {
			t.Errorf("redeliver %s: %d, want 404", bad, res.status)
		}
	}
	if e.dashCount("audit_log") != audits {
		t.Fatalf("a refused redeliver was audited")
	}
	// River has finished the given-up attempt's job first. (A redeliver in
	// the moment between the attempt being recorded and River marking its
	// job cancelled is lost: webhooks.Outbox.retryWhenDone leaves a job that
	// ended cancelled alone. Left for the webhooks owner; see the report.)
	gid, _ := strconv.ParseInt(givenUp[0], 10, 64)
	e.waitJobStates(gid, "cancelled")
	res := operator.post(target, url.Values{"_csrf": {csrfOf(t, op)}})
	if res.status != http.StatusSeeOther || res.location != problemsPath+"?done=redeliver#webhooks" {
		t.Fatalf("redeliver: %d Location %q\n%s", res.status, res.location, res.body)
	}
	id, _ := strconv.ParseInt(givenUp[0], 10, 64)
	e.waitDeliveries(a, 2*changes, func(dl db.WebhookDelivery) bool { return dl.ID != id || dl.Status == db.WebhookDelivered })
	entry := e.dashStaffActed(a, olga, "webhook.redeliver")
	if entry.Detail["delivery_id"] != float64(id) || entry.Detail["from"] != db.WebhookFailed {
		t.Errorf("audit detail %v", entry.Detail)
	}
	after := operator.get(e.web.URL + res.location)
	if !strings.Contains(after.body, `data-testid="done"`) {
		t.Errorf("no notice after the redeliver")
	}
	if _, listed := problemRows(t, after, "webhooks")[givenUp[0]]; listed || countOf(t, after, "problems-webhooks") != wantHooks-1 {
		t.Errorf("the delivered delivery is still listed (count %d, was %d)", countOf(t, after, "problems-webhooks"), wantHooks)
	}

	// Without a session the page asks to sign in.
	if res := e.browser().get(e.web.URL + problemsPath); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/admin/login") {
		t.Errorf("without a session: %d %q", res.status, res.location)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestProblemsAndCampaignWithRealMail: with the in-process SMTP server, a
// campaign's customers are mailed their link; the server refuses one
// address (550), and the Problems page lists that customer's refused link
// mail with the server's words, linked to its onboarding, and not the one
// whose mail went. Three days on (the mail jobs' test clock) the waiting
// customer is reminded, and the campaign page counts that reminder.
func TestProblemsAndCampaignWithRealMail(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	e := newEnv(t, mailSettings(srv))
	clock := &mailClock{}
	e.app.Mail.Sweep.Now = clock.now
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	b.get(e.web.URL + "/lang/en")
	orgs := distinctOrgs(1900, 2)
	list := orgs[0] + ";k-0;anna@example.com\n" + orgs[1] + ";k-1;refused@example.com\n"
	id := campaignIDOf(t, e.postCampaign(b, "Mail problems", "standard", list, true, "2", "50"))
	e.startJobs()
	e.campaignAction(b, id, "start")
	waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)
	anna, refused := e.onboardingForOrg(orgs[0]), e.onboardingForOrg(orgs[1])
	waitMail(t, srv, "anna@example.com", 1)
	waitFor(t, 20*time.Second, "the refused link on the timeline", func() bool {
		for _, ev := range e.events(refused) {
			if ev.Kind == domain.EventMail && ev.ToStatus == domain.MailRefused {
				return true
			}
		}
		return false
	})

	p := b.get(e.web.URL + problemsPath)
	rows := problemRows(t, p, "mail")
	if len(rows) != 1 || mapValues(rows)[0] != "/admin/onboardings/"+refused.ID || countOf(t, p, "problems-mail") != 1 {
		t.Fatalf("refused mail rows %v, want customer %s's", rows, refused.OrgNo)
	}
	if !strings.Contains(p.body, "The approval link") || !strings.Contains(p.body, "no such user here") {
		t.Errorf("the refused mail row lacks the message or the server's words")
	}
	if strings.Contains(p.body, anna.ID) {
		t.Errorf("the customer whose mail went is on the Problems page")
	}

	// Three days on, the waiting customer is reminded; the campaign counts it.
	clock.set(3*day + time.Minute)
	waitMail(t, srv, "anna@example.com", 2)
	waitFor(t, 20*time.Second, "the reminder counted", func() bool {
		return countOf(t, b.get(e.web.URL+"/admin/campaigns/"+id), "reminded") == 1
	})
	cp := b.get(e.web.URL + "/admin/campaigns/" + id)
	if !strings.Contains(cp.body, `data-reminders="1"`) || countOf(t, cp, "customer-waiting") != 2 {
		t.Errorf("campaign page: reminders or waiting customers wrong:\n%s", cp.body)
	}
}
