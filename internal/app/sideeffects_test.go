package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// What goes out with a change (its webhook event, a staff action's audit
// entry) is written by the onboarding service in the change's transaction.

// sideEffects counts what a change leaves behind for one onboarding: its
// timeline, its webhook events and their delivery jobs, and its audit log.
type sideEffects struct {
	events, webhooks, jobs, audit, version int
	status                                 domain.Status
}

func (e *env) sideEffects(o *domain.Onboarding) sideEffects {
	e.t.Helper()
	var s sideEffects
	ctx := context.Background()
	for _, q := range []struct {
		sql string
		n   *int
	}{
		{`SELECT count(*) FROM onboarding_events WHERE onboarding_id = $1`, &s.events},
		{`SELECT count(*) FROM webhook_events WHERE onboarding_id = $1`, &s.webhooks},
		{`SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery' AND (args->>'delivery_id')::bigint IN
			(SELECT d.id FROM webhook_deliveries d JOIN webhook_events w ON w.id = d.event_id WHERE w.onboarding_id = $1)`, &s.jobs},
		{`SELECT count(*) FROM audit_log WHERE onboarding_id = $1`, &s.audit},
	} {
		if err := e.db.Pool.QueryRow(ctx, q.sql, o.ID).Scan(q.n); err != nil {
			e.t.Fatal(err)
		}
	}
	fresh := e.dashReload(o)
	s.version, s.status = fresh.Version, fresh.Status
	return s
}

// TestStaffActionRolledBackWritesNothing: a staff refresh whose transaction
// fails (here the webhook outbox refuses its row) leaves nothing at all:
// not the status change, not its timeline, not a webhook event or delivery
// job, and not the audit entry, since all are one transaction. The same
// refresh once the outbox takes rows again commits all of them together:
// exactly one status event per change and one audit entry.
func TestStaffActionRolledBackWritesNothing(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	e := webhookEnv(t, ep)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	csrf := csrfOf(t, b.get(path))
	exec := func(sql string) {
		t.Helper()
		if _, err := e.db.Pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE FUNCTION refuse_webhook() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'the test refuses webhook events'; END $$`)
	exec(`CREATE TRIGGER refuse_webhook BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_webhook()`)

	before := e.sideEffects(o)
	res := b.post(path+"/refresh", url.Values{"_csrf": {csrf}})
	if res.status < 500 {
		t.Fatalf("a refresh whose transaction failed: %d, want an error page\n%s", res.status, res.body)
	}
	if after := e.sideEffects(o); after != before {
		t.Fatalf("a rolled-back refresh left %+v, want everything as it was: %+v", after, before)
	}
	if before.status != domain.StatusPending {
		t.Fatalf("setup: %q, want pending", before.status)
	}

	exec(`DROP TRIGGER refuse_webhook ON webhook_events`)
	dashDoneAt(t, b.post(path+"/refresh", url.Values{"_csrf": {csrf}}), o, "refresh")
	after := e.sideEffects(o)
	if after.status != domain.StatusConnected || after.audit != before.audit+1 {
		t.Fatalf("after the refresh: %+v, want connected with one more audit entry (before %+v)", after, before)
	}
	a := e.dashStaffActed(o, olga, "onboarding.refresh", "GET request/vendor/{id}", "GET systemuser/vendor/byquery")
	if a.Detail["from"] != "pending" || a.Detail["to"] != "connected" || a.Detail["result"] != "ok" {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	var moves []string
	for _, d := range e.deliveries(o) {
		var body struct {
			Type string `json:"type"`
			Data struct {
				Status         string  `json:"status"`
				PreviousStatus *string `json:"previous_status"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.Payload, &body); err != nil {
			t.Fatal(err)
		}
		if body.Type == "onboarding.status_changed" && body.Data.PreviousStatus != nil && *body.Data.PreviousStatus == "pending" {
			moves = append(moves, body.Data.Status)
		}
	}
	if len(moves) != 1 || moves[0] != "connected" {
		t.Fatalf("status events from pending: %v, want exactly one, to connected", moves)
	}
	if after.jobs != after.webhooks {
		t.Fatalf("%d delivery jobs for %d events to one URL", after.jobs, after.webhooks)
	}
}

// TestStaffActionThatFailsIsRecorded: an action Altinn fails is recorded
// as it was before the service wrote the audit entry: the error is kept on
// the onboarding, and the audit entry and the staff event say the action
// failed, written with it.
func TestStaffActionThatFailsIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	csrf := csrfOf(t, b.get(path))
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodDelete, Path: vendorPath + "/", Status: http.StatusServiceUnavailable, Times: 1})
	defer remove()
	before := e.sideEffects(o)
	if res := b.post(path+"/cancel", url.Values{"_csrf": {csrf}, "confirm": {"yes"}}); res.status != http.StatusBadGateway {
		t.Fatalf("a cancel Altinn failed: %d, want 502\n%s", res.status, res.body)
	}
	after := e.sideEffects(o)
	if after.status != domain.StatusPending || after.audit != before.audit+1 {
		t.Fatalf("after the failed cancel: %+v, want still pending with one audit entry (before %+v)", after, before)
	}
	a := e.dashStaffActed(o, olga, "onboarding.cancel", "DELETE request/vendor/{id}")
	if a.Detail["result"] != "error" || a.Detail["error_code"] != "altinn_unavailable" || a.Detail["to"] != "pending" {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	failed := false
	for _, ev := range e.events(o) {
		failed = failed || (ev.Kind == domain.EventStaff && strings.HasPrefix(ev.Message, "onboarding.cancel by staff failed"))
	}
	if !failed {
		t.Error("the timeline lacks the staff event saying the cancel failed")
	}
}

// TestMetricsSystemUsersPage: the dashboard's system-users list is an
// Altinn call like any other: measured by the Altinn client's transport in
// onboard_altinn_*, once per request Altinn got, its failures by status.
func TestMetricsSystemUsersPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.insightOutsideWizard("310000035")
	viewer := e.insightStaff("vera@example.com", string(domain.RoleViewer))
	if res := viewer.get(e.web.URL + "/admin/systemusers"); res.status != http.StatusOK {
		t.Fatalf("system users: %d\n%s", res.status, res.body)
	}
	const bysystem = "/authentication/api/v1/systemuser/vendor/bysystem/"
	remove := e.app.Sim.Inject(sim.Fault{Path: bysystem, Status: http.StatusServiceUnavailable, Times: 1})
	// Read again from Altinn (the page keeps a copy for a minute).
	if res := viewer.get(e.web.URL + "/admin/systemusers?reload=1"); res.status != http.StatusBadGateway {
		t.Fatalf("system users with Altinn down: %d, want 502", res.status)
	}
	remove()
	sent := e.app.Sim.Stats().Calls["GET "+bysystem+"{systemId}"]
	if sent < 2 {
		t.Fatalf("Altinn got %d system-user lists, want at least one per page", sent)
	}

	p := e.browser().get(e.web.URL + "/metrics")
	const op = `operation="GET systemuser/vendor/bysystem/{systemId}"`
	for _, want := range []string{
		`onboard_altinn_request_duration_seconds_count{` + op + `} ` + strconv.Itoa(sent),
		`onboard_altinn_request_errors_total{` + op + `,status="503"} 1`,
	} {
		if !strings.Contains(p.body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`(?m)^onboard_altinn_request_duration_seconds_count\{operation="other"\}`).FindString(p.body); m != "" {
		t.Errorf("an Altinn call the client did not name: %s", m)
	}
	if t.Failed() {
		t.Log(p.body)
	}
}
