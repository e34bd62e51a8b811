package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// countOf reads a data-count on the page from the element with testid.
func countOf(t *testing.T, p page, testid string) int {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(testid) + `"[^>]*? data-count="([0-9]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no %s count on the page:\n%s", testid, p.body)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

var nowStateRE = regexp.MustCompile(`data-testid="campaign-now" data-state="([a-z]+)"><p>([^<]*)</p>`)

// campaignNowOf is the campaign page's sentence of where it stands: its
// key and its words.
func campaignNowOf(t *testing.T, p page) (string, string) {
	t.Helper()
	m := nowStateRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no campaign-now on the page:\n%s", p.body)
	}
	return m[1], m[2]
}

// addMail puts one email event on an onboarding's timeline, as the mail
// jobs record them (kind mail, the message as operation, its outcome as
// to_status), at the time given.
func (e *env) addMail(onboardingID, message, outcome, reason string, at time.Time) {
	e.t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(), `
		INSERT INTO onboarding_events (onboarding_id, at, kind, cause, operation, to_status, message)
		VALUES ($1, $2, $3, 'system', $4, $5, NULLIF($6, ''))`,
		onboardingID, at, domain.EventMail, message, outcome, reason); err != nil {
		e.t.Fatal(err)
	}
}

// TestCampaignTellsTheTruth: a campaign's own status (sending, sent) is
// apart from what its customers did (waiting, connected, …). Sent to
// everyone, the page and the list say "sent" and that every customer still
// waits, not "done"; the started banner is gone once it has stopped
// running; one customer connecting and reminders on the timeline are
// counted since the start, and nothing else is.
func TestCampaignTellsTheTruth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	b.get(e.web.URL + "/lang/en")
	orgs := distinctOrgs(1200, 4)
	// Rate 1 a second: the campaign runs for about three seconds.
	id := campaignIDOf(t, e.postCampaign(b, "truth", "standard", strings.Join(orgs, "\n"), true, "1", "1"))
	path := e.web.URL + "/admin/campaigns/" + id

	draft := b.get(path + "?done=created")
	if !strings.Contains(draft.body, `data-testid="done"`) {
		t.Errorf("the draft does not say the list is checked")
	}
	if st, words := campaignNowOf(t, draft); st != "draft" || !strings.Contains(words, "Not started") {
		t.Errorf("draft: now %q %q", st, words)
	}
	if n := countOf(t, draft, "customer-unsent"); n != 4 {
		t.Errorf("draft: %d customers unsent, want 4", n)
	}

	e.startJobs()
	res := e.campaignAction(b, id, "start")
	if res.status != http.StatusSeeOther || !strings.HasSuffix(res.location, "?done=start") {
		t.Fatalf("start: %d %q", res.status, res.location)
	}
	running := b.get(e.web.URL + res.location)
	if strings.Contains(running.body, `data-status="running"`) {
		if !strings.Contains(running.body, `data-testid="done"`) || !strings.Contains(running.body, "The campaign has started.") {
			t.Errorf("the running campaign lacks its started banner")
		}
		if st, words := campaignNowOf(t, running); st != "running" || !strings.Contains(words, "Sending requests") {
			t.Errorf("running: now %q %q", st, words)
		}
	} else {
		t.Logf("the campaign ended before its page was read")
	}
	// The created banner is not true any more.
	if p := b.get(path + "?done=created"); strings.Contains(p.body, `data-testid="done"`) {
		t.Errorf("a started campaign still shows the created banner")
	}

	c := waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)
	sent := b.get(e.web.URL + res.location) // the same URL, as a reload or a bookmark
	if strings.Contains(sent.body, `data-testid="done"`) || strings.Contains(sent.body, "has started") {
		t.Errorf("the sent campaign still shows the started banner:\n%s", sent.body)
	}
	if !strings.Contains(sent.body, `data-testid="campaign-status" data-status="done">Sent<`) {
		t.Errorf("the campaign's own status is not 'Sent'")
	}
	if st, words := campaignNowOf(t, sent); st != "waiting" || !strings.Contains(words, "4 customers have not answered yet") {
		t.Errorf("sent: now %q %q, want every customer waiting", st, words)
	}
	for key, want := range map[string]int{"customer-unsent": 0, "customer-waiting": 4, "customer-connected": 0, "reminded": 0, "connected-since": 0} {
		if n := countOf(t, sent, key); n != want {
			t.Errorf("sent: %s %d, want %d", key, n, want)
		}
	}
	list := b.get(e.web.URL + "/admin/campaigns")
	if !strings.Contains(list.body, `data-testid="campaign-state">Sent<`) || strings.Contains(list.body, ">Done<") ||
		!strings.Contains(list.body, `data-key="waiting" data-count="4">4 waiting for the customer<`) {
		t.Errorf("the list does not show the campaign sent with 4 customers waiting:\n%s", list.body)
	}

	// One customer approves from the exported link.
	ex := b.get(path + "/links.csv")
	rows, err := csv.NewReader(strings.NewReader(ex.body)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("export (%v):\n%s", err, ex.body)
	}
	cust := e.browser()
	if st, _ := outcomeOf(t, e.returnTo(cust, e.decide(cust, rows[1][6], "approve").location)); st != string(domain.StatusConnected) {
		t.Fatalf("the customer's outcome: %s", st)
	}

	// Reminders on the timeline (as the mail jobs write them): counted are
	// sent or kept in the outbox, since the start, for the campaign's own
	// customers; not a failed try, a refusal, another message, one from
	// before the start, or another customer's.
	o1, o2 := e.onboardingForOrg(orgs[1]), e.onboardingForOrg(orgs[2])
	after := c.StartedAt.Add(time.Second)
	e.addMail(o1.ID, domain.MailReminder, domain.MailSent, "", after)
	e.addMail(o1.ID, domain.MailReminder, domain.MailOutbox, "", after.Add(time.Minute))
	e.addMail(o2.ID, domain.MailReminder, domain.MailOutbox, "", after)
	e.addMail(o2.ID, domain.MailReminder, domain.MailFailed, "451 try later", after)
	e.addMail(o2.ID, domain.MailReminder, domain.MailRefused, "550 no such user", after)
	e.addMail(o2.ID, domain.MailLink, domain.MailSent, "", after)
	e.addMail(o2.ID, domain.MailReminder, domain.MailSent, "", c.StartedAt.Add(-time.Hour))
	other := e.dashSeed(dashRow{orgNo: validOrg(1300), kind: "standard", status: string(domain.StatusPending), created: time.Now()})
	e.addMail(other.id, domain.MailReminder, domain.MailSent, "", after)

	reach, err := e.db.CampaignReach(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if reach != (db.CampaignReach{Reminded: 2, Reminders: 3, Connected: 1}) {
		t.Errorf("reach %+v, want 2 customers reminded 3 times, 1 connected", reach)
	}
	now := b.get(path)
	for key, want := range map[string]int{"customer-waiting": 3, "customer-connected": 1, "reminded": 2, "connected-since": 1} {
		if n := countOf(t, now, key); n != want {
			t.Errorf("after the approval: %s %d, want %d", key, n, want)
		}
	}
	if !strings.Contains(now.body, `data-reminders="3"`) || !strings.Contains(now.body, "2 customers (3 reminders in all)") {
		t.Errorf("the page does not say 3 reminders to 2 customers")
	}
	if st, words := campaignNowOf(t, now); st != "waiting" || !strings.Contains(words, "3 customers have not answered yet") {
		t.Errorf("now %q %q", st, words)
	}
	// The progress JSON carries the customers too, for the live page.
	var prog struct {
		Status    string         `json:"status"`
		Customers map[string]int `json:"customers"`
	}
	if err := json.Unmarshal([]byte(b.get(path+"/progress").body), &prog); err != nil || prog.Customers["waiting"] != 3 || prog.Customers["connected"] != 1 {
		t.Errorf("progress JSON (%v): %+v", err, prog)
	}

	// Every customer answers: the campaign says so, in bokmål too.
	for _, r := range rows[2:] {
		cb := e.browser()
		e.returnTo(cb, e.decide(cb, r[6], "reject").location)
	}
	b.get(e.web.URL + "/lang/nb")
	done := b.get(path)
	if st, words := campaignNowOf(t, done); st != "answered" || !strings.Contains(words, "alle kundene har svart") {
		t.Errorf("all answered: now %q %q", st, words)
	}
	if !strings.Contains(done.body, `data-status="done">Sendt<`) || strings.Contains(done.body, "Ferdig") {
		t.Errorf("the campaign's status in bokmål is not 'Sendt'")
	}
	if countOf(t, done, "customer-rejected") != 3 || countOf(t, done, "customer-waiting") != 0 {
		t.Errorf("all answered: rejected %d, waiting %d; want 3 and 0", countOf(t, done, "customer-rejected"), countOf(t, done, "customer-waiting"))
	}
}

// TestCampaignBannersEndWithTheirState: each action's banner shows while
// the campaign is in the state the action left it in, and not after.
func TestCampaignBannersEndWithTheirState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	id := campaignIDOf(t, e.postCampaign(b, "banners", "standard", strings.Join(distinctOrgs(1400, 2), "\n"), true, "1", "1"))
	path := e.web.URL + "/admin/campaigns/" + id
	ctx := context.Background()
	for _, step := range []struct {
		status string
		shown  []string // the ?done= banners shown in this status
	}{
		{db.CampaignDraft, []string{"created"}},
		{db.CampaignRunning, []string{"start", "resume", "retry"}},
		{db.CampaignPaused, []string{"pause", "retry"}},
		{db.CampaignCancelled, []string{"cancel"}},
	} {
		// The status set directly: no jobs run, so nothing moves it on.
		if _, err := e.db.Pool.Exec(ctx, `UPDATE campaigns SET status = $2 WHERE id = $1`, id, step.status); err != nil {
			t.Fatal(err)
		}
		for _, done := range []string{"created", "start", "pause", "resume", "cancel", "retry", "bogus"} {
			want := false
			for _, s := range step.shown {
				want = want || s == done
			}
			if got := strings.Contains(b.get(path+"?done="+done).body, `data-testid="done"`); got != want {
				t.Errorf("%s campaign, ?done=%s: banner %v, want %v", step.status, done, got, want)
			}
		}
	}
}
