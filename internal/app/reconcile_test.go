package app_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// startJobs starts the app's River client, as `onboard serve` does, and
// stops it gracefully when the test ends.
func (e *env) startJobs() {
	e.t.Helper()
	e.jobsOnce.Do(func() {
		if err := e.app.Jobs.Start(context.Background()); err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.app.Jobs.Stop(ctx); err != nil {
				e.t.Errorf("stop jobs: %v", err)
			}
		})
	})
}

// reconcile enqueues a reconcile job for o, as the sweep does, waits for a
// worker to finish it, and returns the onboarding as it is then.
func (e *env) reconcile(o *domain.Onboarding) *domain.Onboarding {
	e.t.Helper()
	e.startJobs()
	done, cancel := e.app.Jobs.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	res, err := e.app.Jobs.Insert(context.Background(), jobs.ReconcileArgs{OnboardingID: o.ID}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-done:
			if ev.Job.ID != res.Job.ID {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				e.t.Fatalf("reconcile job ended %s: %v", ev.Kind, ev.Job.Errors)
			}
			got, err := e.db.OnboardingByID(context.Background(), o.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			return got
		case <-timeout:
			e.t.Fatal("the reconcile job did not finish within 20 s")
		}
	}
}

// reconcilerEvents lists the onboarding's events caused by the reconciler:
// status changes as "status:<to>", Altinn calls as their operation.
func (e *env) reconcilerEvents(o *domain.Onboarding) []string {
	var out []string
	for _, ev := range e.events(o) {
		if ev.Cause != domain.CauseReconciler {
			continue
		}
		switch ev.Kind {
		case domain.EventStatus:
			out = append(out, "status:"+ev.ToStatus)
		case domain.EventAltinnCall:
			out = append(out, ev.Operation)
		}
	}
	return out
}

func hasKind(evs []domain.Event, kind string) bool {
	for _, ev := range evs {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}

func TestReconcileApprovedWithoutReturn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if o.NextCheckAt == nil || (o.NextCheckAt.Sub(o.StatusAt)-time.Minute).Abs() > time.Second {
		t.Fatalf("pending: next check %v, status since %v; want the first look a minute after", o.NextCheckAt, o.StatusAt)
	}
	// The customer approves in Altinn and closes the browser.
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	o = e.reconcile(o)
	if o.Status != domain.StatusConnected || o.SystemUserID == nil {
		t.Fatalf("after reconcile: status %q system user %v, want connected", o.Status, o.SystemUserID)
	}
	if o.NextCheckAt == nil || time.Until(*o.NextCheckAt) < 23*time.Hour {
		t.Fatalf("connected: next check %v, want a day on (the revoke sweep)", o.NextCheckAt)
	}
	got := strings.Join(e.reconcilerEvents(o), " ")
	if !strings.Contains(got, "GET request/vendor/{id}") || !strings.Contains(got, "GET systemuser/vendor/byquery") ||
		!strings.HasSuffix(got, "status:connected") {
		t.Fatalf("reconciler events = %q, want the read, the byquery and the status change", got)
	}
	if hasKind(e.events(o), domain.EventReturn) {
		t.Fatal("nobody came back; there must be no return event")
	}
}

func TestReconcileExpired(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, mode string
		later      time.Duration
	}{
		{"timedOut flag after 180 days", sim.TimeoutCurrent, 181 * 24 * time.Hour},
		{"legacy Timedout status after 10 days", sim.TimeoutLegacy10d, 11 * 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"ONBOARD_SIM_TIMEOUT_MODE": tt.mode})
			e.startFlow(e.browser(), "standard", org)
			later := time.Now().Add(tt.later)
			e.app.Sim.SetNow(func() time.Time { return later })
			o := e.reconcile(e.onboardingForOrg(org))
			if o.Status != domain.StatusExpired {
				t.Fatalf("status = %q, want expired", o.Status)
			}
			if o.NextCheckAt != nil {
				t.Fatalf("expired is final: next check %v, want none", o.NextCheckAt)
			}
		})
	}
}

func TestReconcileRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusConnected {
		t.Fatalf("status = %q, want connected", o.Status)
	}
	// Still there: the check changes nothing but the time of the next one.
	o = e.reconcile(o)
	if o.Status != domain.StatusConnected {
		t.Fatalf("status = %q, want still connected", o.Status)
	}
	if err := e.app.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
		t.Fatal(err)
	}
	o = e.reconcile(o)
	if o.Status != domain.StatusRevoked || o.NextCheckAt != nil {
		t.Fatalf("after the customer deleted the system user: %q (next check %v), want revoked and final", o.Status, o.NextCheckAt)
	}
	if got := e.reconcilerEvents(o); got[len(got)-1] != "status:revoked" {
		t.Fatalf("reconciler events = %v, want the revoke last", got)
	}
}

// crashedOnboarding stores an onboarding in requesting, as the service does
// before it calls Altinn, and leaves it there as a crash would.
func (e *env) crashedOnboarding(age time.Duration) *domain.Onboarding {
	e.t.Helper()
	ctx := context.Background()
	p := e.app.Config.Products[0]
	o, err := e.db.CreateOnboarding(ctx, db.NewOnboarding{Ref: "crashed-ref-0123456789", Product: p.ID, Kind: p.Kind,
		SystemID: p.SystemID, OrgNo: org, ExternalRef: org, Lang: "nb", Cause: domain.CauseCustomer})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET status_at = now() - $2::interval WHERE id = $1`,
		o.ID, age.String()); err != nil {
		e.t.Fatal(err)
	}
	if o, err = e.db.OnboardingByID(ctx, o.ID); err != nil {
		e.t.Fatal(err)
	}
	return o
}

// storeAtAltinn creates o's request at the simulator through the Altinn
// client, as the crashed attempt did before our commit.
func (e *env) storeAtAltinn(o *domain.Onboarding) *altinn.Request {
	e.t.Helper()
	p := e.app.Config.Products[0]
	var rights []altinn.Right
	for _, r := range p.Rights {
		rights = append(rights, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: r}}})
	}
	var pkgs []altinn.AccessPackage
	for _, u := range p.AccessPackages {
		pkgs = append(pkgs, altinn.AccessPackage{URN: u})
	}
	req, created, err := e.app.Altinn.CreateRequest(context.Background(), altinn.CreateRequest{
		SystemID: o.SystemID, PartyOrgNo: o.OrgNo, ExternalRef: o.ExternalRef, Rights: rights, AccessPackages: pkgs,
		RedirectURL: e.app.Config.ReturnURL() + "?ref=" + o.Ref,
	})
	if err != nil || !created {
		e.t.Fatalf("create at the simulator: created %v, %v", created, err)
	}
	return req
}

func TestReconcileSettlesACrashedCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		age       time.Duration // in requesting
		stored    bool          // Altinn holds the request
		status    string        // after the reconcile
		requests  int           // live requests at Altinn after
		wantCalls string        // the reconciler's Altinn calls
	}{
		{"stored, then crashed: found by lookup", 10 * time.Minute, true, string(domain.StatusPending), 1,
			"GET request/vendor/byexternalref"},
		{"crashed before the call: created once", 10 * time.Minute, false, string(domain.StatusPending), 1,
			"GET request/vendor/byexternalref POST request/vendor"},
		{"young, stored: found by lookup", 0, true, string(domain.StatusPending), 1,
			"GET request/vendor/byexternalref"},
		{"young, not stored: only looked for, its customer may be creating it", 0, false, string(domain.StatusRequesting), 0,
			"GET request/vendor/byexternalref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			o := e.crashedOnboarding(tt.age)
			var req *altinn.Request
			if tt.stored {
				req = e.storeAtAltinn(o)
			}
			o = e.reconcile(o)
			if string(o.Status) != tt.status {
				t.Fatalf("status = %q (error %v), want %q", o.Status, o.ErrorMessage, tt.status)
			}
			if n := e.simRequestsFor(org); n != tt.requests {
				t.Fatalf("Altinn holds %d live requests for the org, want %d", n, tt.requests)
			}
			if req != nil && (o.AltinnRequestID == nil || *o.AltinnRequestID != req.ID) {
				t.Fatalf("request id = %v, want the one Altinn stored (%s)", o.AltinnRequestID, req.ID)
			}
			var calls []string
			for _, c := range e.reconcilerEvents(o) {
				if !strings.HasPrefix(c, "status:") {
					calls = append(calls, c)
				}
			}
			if got := strings.Join(calls, " "); got != tt.wantCalls {
				t.Fatalf("reconciler's Altinn calls = %q, want %q", got, tt.wantCalls)
			}
			// Again: nothing more is created.
			e.reconcile(o)
			if n := e.simRequestsFor(org); n != tt.requests {
				t.Fatalf("after a second reconcile Altinn holds %d live requests, want %d", n, tt.requests)
			}
		})
	}
}

// TestReconcileAmbiguousCreateAfterStore leaves the customer's create
// ambiguous (Altinn stored it, then answered 500) and no page is viewed
// again: the reconciler settles it with the one request Altinn holds.
func TestReconcileAmbiguousCreateAfterStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_ALTINN_TIMEOUT": "1s"})
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 500, AfterStore: true, Times: 1})
	defer remove()
	e.submitAndConfirm(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusRequesting {
		t.Fatalf("after the ambiguous create: %q, want requesting", o.Status)
	}
	// Later than any customer attempt may take (the service's operation timeout).
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET status_at = now() - interval '1 hour' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	o = e.reconcile(o)
	if o.Status != domain.StatusPending || e.simRequestsFor(org) != 1 {
		t.Fatalf("after reconcile: %q with %d requests at Altinn, want pending with exactly 1", o.Status, e.simRequestsFor(org))
	}
}

// TestSweepFindsDueOnboardings runs the whole loop with the app's own
// client: the periodic sweep finds the due onboarding and its job
// reconciles it.
func TestSweepFindsDueOnboardings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_SWEEP_INTERVAL": "1s"})
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET next_check_at = now() WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	e.startJobs()
	deadline := time.Now().Add(30 * time.Second)
	for {
		o = e.onboardingForOrg(org)
		if o.Status == domain.StatusConnected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the sweep has not reconciled the onboarding: %q", o.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ev := e.reconcilerEvents(o); ev[len(ev)-1] != "status:connected" {
		t.Fatalf("reconciler events = %v", ev)
	}
}

// TestJobsStopFinishesInFlight stops the River client, as a shutdown does,
// while a reconcile job waits on a slow Altinn: Stop returns only after the
// job has finished and saved what Altinn said.
func TestJobsStopFinishesInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Latency: 1500 * time.Millisecond})
	if err := e.app.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Jobs.Insert(context.Background(), jobs.ReconcileArgs{OnboardingID: o.ID}, nil); err != nil {
		t.Fatal(err)
	}
	// Wait until the job is running, then stop.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var running int
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND state = 'running'`).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reconcile job never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	if err := e.app.Jobs.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	var state string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT state FROM river_job WHERE kind = 'reconcile'`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "completed" {
		t.Fatalf("after Stop the in-flight job is %s, want completed", state)
	}
	if got := e.onboardingForOrg(org); got.Status != domain.StatusConnected {
		t.Fatalf("after a graceful stop: %q, want connected (the job's result saved)", got.Status)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	get := func() page {
		t.Helper()
		return e.browser().get(e.web.URL + "/readyz")
	}
	if p := get(); p.status != http.StatusOK || p.header.Get("Set-Cookie") != "" {
		t.Fatalf("/readyz on a current database: %d (cookies %q), want 200 and no cookie", p.status, p.header.Get("Set-Cookie"))
	}

	// River's schema one step behind this binary.
	m, err := rivermigrate.New(riverpgxv5.New(e.db.Pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(context.Background(), rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{MaxSteps: 1}); err != nil {
		t.Fatal(err)
	}
	if p := get(); p.status != http.StatusServiceUnavailable || strings.TrimSpace(p.body) != "not ready" {
		t.Fatalf("/readyz with River behind: %d %q, want 503 saying only that", p.status, p.body)
	}
	if _, err := e.db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := get(); p.status != http.StatusOK {
		t.Fatalf("/readyz after migrating: %d, want 200", p.status)
	}

	// The database gone.
	e.db.Close()
	if p := get(); p.status != http.StatusServiceUnavailable || strings.TrimSpace(p.body) != "not ready" {
		t.Fatalf("/readyz without a database: %d %q, want 503", p.status, p.body)
	}
	if p := e.browser().get(e.web.URL + "/healthz"); p.status != http.StatusOK {
		t.Fatalf("/healthz: %d, want 200: the process is still up", p.status)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	// One failed call: Altinn answers 503 to a status read.
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Status: 503, Times: 1})
	e.startFlow(e.browser(), "standard", "910825526")
	o := e.onboardingForOrg("910825526")
	e.browser().get(e.web.URL + "/status/" + o.Ref)
	remove()

	p := e.browser().get(e.web.URL + "/metrics")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %q", p.status, p.header.Get("Content-Type"))
	}
	for _, want := range []string{
		`onboard_onboardings{status="connected"} 1`,
		`onboard_onboardings{status="pending"} 1`,
		`onboard_onboardings{status="revoked"} 0`,
		`onboard_altinn_request_duration_seconds_count{operation="POST request/vendor"} 2`,
		`onboard_altinn_request_errors_total{operation="GET request/vendor/{id}",status="503"} 1`,
		"onboard_metrics_refresh_errors_total 0",
		`onboard_jobs{state="available"} 0`,
		`onboard_jobs{state="running"} 0`,
		`onboard_jobs{state="retryable"} 0`,
		"# TYPE onboard_reconcile_due gauge",
		"# TYPE onboard_altinn_request_duration_seconds histogram",
	} {
		if !strings.Contains(p.body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(p.body, `onboard_altinn_request_duration_seconds_bucket{operation="GET systemuser/vendor/byquery",le="+Inf"} `) {
		t.Error("/metrics lacks the byquery latency")
	}
	// One token per scope set, fetched once and cached: as many POSTs to
	// the token endpoint as the client counted.
	fetches := regexp.MustCompile(`(?m)^onboard_maskinporten_token_fetches_total (\d+)$`).FindStringSubmatch(p.body)
	if fetches == nil || fetches[1] == "0" ||
		!strings.Contains(p.body, `onboard_maskinporten_request_duration_seconds_count{endpoint="token"} `+fetches[1]+"\n") {
		t.Errorf("Maskinporten fetches %v do not match the token endpoint's call count", fetches)
	}
	if t.Failed() {
		t.Log(p.body)
	}
}

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_METRICS_TOKEN": "scrape-secret"})
	if p := e.browser().get(e.web.URL + "/metrics"); p.status != http.StatusUnauthorized || strings.Contains(p.body, "onboard_") {
		t.Fatalf("/metrics without the token: %d, want 401 and no metrics", p.status)
	}
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-secret")
	if p := e.browser().do(req); p.status != http.StatusOK || !strings.Contains(p.body, "onboard_onboardings") {
		t.Fatalf("/metrics with the token: %d", p.status)
	}
}
