package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// cluster is several instances of the service on one database and one
// simulator, behind a round-robin load balancer whose URL is the public
// URL of all of them (the return URL registered at Altinn).
type cluster struct {
	t     *testing.T
	apps  []*app.App
	webs  []*httptest.Server
	sim   *httptest.Server
	Sim   *sim.Server
	lb    *httptest.Server
	check *db.DB // the test's own connection, for assertions
	// env is instance 0 dressed as an env, for the harness's helpers
	// (browser, submitOrg, decide, csrfOf), which use its web and sim.
	env *env
}

// newCluster builds n instances. Instance 0 runs the simulator (sim mode);
// the others are pointed at it as at any Altinn (custom mode), with the same
// Maskinporten client and key, as replicas of one deployment are.
func newCluster(t *testing.T, n int, settings map[string]string) *cluster {
	t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	lbLn, simLn := listen(), listen()
	simURL := "http://" + simLn.Addr().String()
	dbURL := dbtest.NewURL(t)
	c := &cluster{t: t}
	for i := range n {
		webLn := listen()
		vars := testVars(t, dbURL, webLn.Addr().String(), "http://"+lbLn.Addr().String())
		vars["ONBOARD_DEV"] = "true"
		vars["ONBOARD_MASKINPORTEN_CLIENT_ID"] = config.SimClientID
		vars["ONBOARD_MASKINPORTEN_KID"] = "onboard-dev-key"
		if i == 0 {
			vars["ONBOARD_SIM_ADDR"] = simLn.Addr().String()
			vars["ONBOARD_SIM_PUBLIC_URL"] = simURL
		} else {
			againstSim(vars, simURL)
		}
		a, store := buildApp(t, vars, settings, strconv.Itoa(i))
		web := &httptest.Server{Listener: webLn, Config: &http.Server{Handler: a.Web}}
		web.Start()
		t.Cleanup(web.Close)
		c.apps = append(c.apps, a)
		c.webs = append(c.webs, web)
		if i == 0 {
			c.Sim = a.Sim
			c.sim = &httptest.Server{Listener: simLn, Config: &http.Server{Handler: a.Sim.Handler()}}
			c.sim.Start()
			t.Cleanup(c.sim.Close)
			c.env = &env{t: t, app: a, web: web, sim: c.sim, db: store}
		}
	}
	// The load balancer: each request to the next instance.
	var next atomic.Int64
	targets := make([]*url.URL, n)
	for i, w := range c.webs {
		targets[i], _ = url.Parse(w.URL)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(targets[int(next.Add(1)-1)%n])
		r.Out.Host = r.In.Host
	}}
	c.lb = &httptest.Server{Listener: lbLn, Config: &http.Server{Handler: proxy}}
	c.lb.Start()
	t.Cleanup(c.lb.Close)
	check, err := db.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(check.Close)
	c.check = check
	return c
}

// startJobs starts every instance's River client, as `onboard serve` does.
func (c *cluster) startJobs() {
	c.t.Helper()
	for _, a := range c.apps {
		if err := a.Jobs.Start(context.Background()); err != nil {
			c.t.Fatal(err)
		}
		c.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := a.Jobs.Stop(ctx); err != nil {
				c.t.Errorf("stop jobs: %v", err)
			}
		})
	}
}

// TestInstancesShareSessions: a browser gets the form from one instance and
// posts it to another; the flow cookie one instance set is honoured by a
// third; the CSRF token of one instance's page works on another.
func TestInstancesShareSessions(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3, nil)
	e := c.env
	b := e.browser()
	form := b.get(c.webs[0].URL + "/onboard/standard/org")
	if form.status != http.StatusOK {
		t.Fatalf("form from instance 1: %d", form.status)
	}
	// The company confirmed (the confirm step's form) on instance 2.
	res := b.post(c.webs[1].URL+"/onboard/standard/confirm", url.Values{"orgno": {org}, "checked": {"false"}, "_csrf": {csrfOf(t, form)}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, c.sim.URL+"/accessmanagement/") {
		t.Fatalf("submit to instance 2 with instance 1's form: %d %q, want a 303 to Altinn\n%s", res.status, res.location, res.body)
	}
	o := e.onboardingForOrg(org)
	status := b.get(c.webs[2].URL + "/status/" + o.Ref)
	if st, _ := outcomeOf(t, status); st != string(domain.StatusPending) || !strings.Contains(status.body, `data-testid="details"`) {
		t.Fatalf("instance 3 does not honour the flow cookie instance 2 set: %q, details shown %v",
			st, strings.Contains(status.body, `data-testid="details"`))
	}
	// Another browser, on any instance, sees only the outcome.
	if p := e.browser().get(c.webs[0].URL + "/status/" + o.Ref); strings.Contains(p.body, `data-testid="details"`) {
		t.Fatal("a browser without the flow cookie sees the details")
	}

	// The customer rejects; Altinn sends the browser to the public URL
	// (the load balancer), which may pick any instance.
	back := e.decide(b, res.location, "reject")
	if !strings.HasPrefix(back.location, c.lb.URL+"/return?ref=") {
		t.Fatalf("Altinn sends the customer to %q, want the load balancer's return URL", back.location)
	}
	ret := b.get(back.location)
	if ret.status != http.StatusSeeOther {
		t.Fatalf("return via the load balancer: %d", ret.status)
	}
	outcome := b.get(c.webs[2].URL + ret.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusRejected) {
		t.Fatalf("after rejecting: %q", st)
	}
	// "Try again" from instance 3's page, posted to instance 1.
	retry := b.post(c.webs[0].URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, outcome)}})
	if retry.status != http.StatusSeeOther || !strings.HasPrefix(retry.location, c.sim.URL+"/accessmanagement/") {
		t.Fatalf("retry on instance 1 with instance 3's page: %d %q, want a 303 to Altinn", retry.status, retry.location)
	}
	// And a CSRF token that no instance issued is refused by all.
	for i, w := range c.webs {
		if p := b.post(w.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {"forged-token-0123456789abcdef"}}); p.status != http.StatusForbidden {
			t.Fatalf("instance %d took a forged CSRF token: %d", i+1, p.status)
		}
	}
}

// TestInstancesHandleEachChangeOnce runs three instances, each with its
// River client, on one database: customers start onboardings on all of
// them, some are approved in Altinn (nobody comes back), and some system
// users are then deleted by their customers. Each change is handled once:
// one status event per change, one webhook delivery per change, every read
// at Altinn recorded by exactly one instance, and no onboarding read twice
// in one sweep, though the work is spread over the instances.
func TestInstancesHandleEachChangeOnce(t *testing.T) {
	t.Parallel()
	vendor := newVendorEndpoint(t, always(http.StatusOK))
	c := newCluster(t, 3, map[string]string{
		"ONBOARD_SWEEP_INTERVAL":        "1s",
		"ONBOARD_RECONCILE_SCHEDULE":    "1s,2s,3s",
		"ONBOARD_REVOKE_SWEEP_INTERVAL": "2s",
		"ONBOARD_WEBHOOK_URLS":          vendor.url(),
		"ONBOARD_WEBHOOK_SECRET":        testWebhookSecret,
		// Every instance proves connected customers usable with the same scope.
		"ONBOARD_SYSTEM_USER_SCOPES": "altinn:accessmanagement/authorizedparties",
	})
	e := c.env
	const n = 12
	orgs := make([]string, n)
	for i := range orgs {
		orgs[i] = validOrg(500000 + 37*i)
	}
	// Customers start on all three instances.
	for i, orgNo := range orgs {
		b := e.browser()
		w := c.webs[i%3].URL
		form := b.get(w + "/onboard/standard/org")
		res := b.post(w+"/onboard/standard/confirm", url.Values{"orgno": {orgNo}, "checked": {"false"}, "_csrf": {csrfOf(t, form)}})
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, c.sim.URL) {
			t.Fatalf("submit %s on instance %d: %d %q", orgNo, i%3+1, res.status, res.location)
		}
	}
	start := time.Now()
	c.startJobs()

	ids := map[string]*domain.Onboarding{}
	for _, orgNo := range orgs {
		ids[orgNo] = e.onboardingForOrg(orgNo)
	}
	approved, revoked := orgs[:8], orgs[:4] // the first 8 approved; of those, 4 later deleted
	for _, orgNo := range approved {
		if err := c.Sim.Approve(*ids[orgNo].AltinnRequestID); err != nil {
			t.Fatal(err)
		}
	}
	c.waitStatus(ids, approved, string(domain.StatusConnected), 30*time.Second)
	for _, orgNo := range revoked {
		o := e.onboardingForOrg(orgNo)
		if err := c.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
			t.Fatal(err)
		}
	}
	c.waitStatus(ids, revoked, string(domain.StatusRevoked), 30*time.Second)
	// Let the instances keep polling: two more sweeps, and each onboarding
	// still read at Altinn (4 connected, 4 pending) read about once more;
	// still nothing twice.
	count := func(q string) int {
		var k int
		if err := e.db.Pool.QueryRow(context.Background(), q).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	const sweeps = `SELECT count(*) FROM river_job WHERE kind = 'reconcile_sweep' AND state = 'completed'`
	const readsQ = `SELECT count(*) FROM onboarding_events WHERE kind = 'altinn_call' AND cause = 'reconciler'`
	sweeps0, reads0 := count(sweeps), count(readsQ)
	waitFor(t, 30*time.Second, "two more sweeps and eight more reconciler reads", func() bool {
		return count(sweeps) >= sweeps0+2 && count(readsQ) >= reads0+n-len(revoked)
	})

	// One status event per change, and the changes are the right ones.
	changes := 0
	for i, orgNo := range orgs {
		o := e.onboardingForOrg(orgNo)
		got := strings.Join(e.statusChanges(o), " ")
		want := ">requesting requesting>pending"
		switch {
		case i < 4:
			want += " pending>connected connected>revoked"
		case i < 8:
			want += " pending>connected"
		}
		if got != want {
			t.Errorf("%s: status changes %q, want %q", orgNo, got, want)
		}
		changes += len(e.statusChanges(o))
	}
	// One usability event per customer proved usable (each approved one,
	// unless Maskinporten could not be reached before it was revoked).
	usable := 0
	for _, orgNo := range approved {
		for _, ev := range e.events(ids[orgNo]) {
			if ev.Kind == domain.EventUsability && ev.ToStatus == domain.UsableOK {
				usable++
				break
			}
		}
	}
	// One webhook delivery per change, and one per customer proved usable:
	// wait for the last ones, then stop.
	deadline := time.Now().Add(20 * time.Second)
	for len(vendor.requests()) < changes+usable && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, a := range c.apps {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := a.Jobs.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	elapsed := time.Since(start)
	if len(vendor.requests()) < changes {
		t.Fatalf("the vendor got %d events, want %d", len(vendor.requests()), changes)
	}
	seen := map[string]int{}
	statusEvents := 0
	for _, r := range vendor.requests() {
		var ev webhooks.Event
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == webhooks.TypeUsabilityChanged {
			// A connected customer proved usable: once each, too.
			seen[ev.Data.OrgNo+" usable"]++
			continue
		}
		statusEvents++
		prev := ""
		if ev.Data.PreviousStatus != nil {
			prev = string(*ev.Data.PreviousStatus)
		}
		seen[ev.Data.OrgNo+" "+prev+">"+string(ev.Data.Status)]++
		if err := verifySignature([]byte(testWebhookSecret), r.header.Get(webhooks.HeaderSignature), r.body, time.Now()); err != nil {
			t.Errorf("event %s: %v", ev.ID, err)
		}
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("the vendor got %q %d times", k, v)
		}
	}
	if statusEvents != changes || len(vendor.requests())-statusEvents != usable || usable < len(approved)-len(revoked) {
		t.Errorf("the vendor got %d status events for %d changes and %d usability events for %d usable of %d approved",
			statusEvents, changes, len(vendor.requests())-statusEvents, usable, len(approved))
	}

	// Every read at Altinn is one an instance recorded: the simulator's
	// counts equal the calls in the histories, so no instance read behind
	// another's back.
	recorded := map[string]int{}
	reads := map[string][]time.Time{} // onboarding + op → reconciler reads
	for _, orgNo := range orgs {
		for _, ev := range e.events(ids[orgNo]) {
			if ev.Kind != domain.EventAltinnCall {
				continue
			}
			recorded[ev.Operation]++
			if ev.Cause == domain.CauseReconciler {
				reads[orgNo+" "+ev.Operation] = append(reads[orgNo+" "+ev.Operation], ev.At)
			}
		}
	}
	stats := c.Sim.Stats().Calls
	for op, pattern := range map[string]string{
		"POST request/vendor":           callCreate,
		"GET request/vendor/{id}":       callRead,
		"GET systemuser/vendor/byquery": "GET /authentication/api/v1/systemuser/vendor/byquery",
	} {
		if stats[pattern] != recorded[op] {
			t.Errorf("Altinn saw %d × %s, the histories record %d", stats[pattern], op, recorded[op])
		}
	}
	// No onboarding read twice in one sweep: the reconciler's reads of
	// one onboarding are at least the schedule's smallest step apart (1 s,
	// less the sweep's own timing), as one instance alone would read it.
	minGap, totalReads := time.Hour, 0
	for k, ts := range reads {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		totalReads += len(ts)
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < minGap {
				minGap = gap
			}
			// Two instances polling at once read within milliseconds of each
			// other; one instance's consecutive reads are a sweep apart.
			if gap := ts[i].Sub(ts[i-1]); gap < 50*time.Millisecond {
				t.Errorf("%s read twice %v apart: two instances polled it at once", k, gap)
			}
		}
	}

	// (The batches claim their onboardings with SKIP LOCKED, so no two
	// reconcile one onboarding at once: the gaps above show it.)

	// The work was spread over the instances (each runs at most half the
	// reconcile slots), and each batch ran once (a snooze is no new attempt).
	var workers int
	if err := c.check.Pool.QueryRow(context.Background(), `
		SELECT count(DISTINCT w) FROM river_job, unnest(attempted_by) AS w WHERE kind IN ('reconcile', 'reconcile_batch')`).Scan(&workers); err != nil {
		t.Fatal(err)
	}
	var retried int
	if err := c.check.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM river_job WHERE kind IN ('reconcile', 'reconcile_batch') AND attempt > 1`).Scan(&retried); err != nil {
		t.Fatal(err)
	}
	if workers < 2 {
		t.Errorf("reconcile jobs were worked by %d instance(s), want the work spread over several", workers)
	}
	if retried > 0 {
		t.Errorf("%d reconcile jobs ran more than once", retried)
	}
	t.Logf("%d onboardings, %d status changes, %d webhook deliveries, %d reconciler reads (closest two of one onboarding %v apart) over %v; reconcile jobs worked by %d instances; Altinn calls %v",
		n, changes, len(vendor.requests()), totalReads, minGap.Round(time.Millisecond), elapsed.Round(time.Second), workers, stats)
}

// waitStatus waits until every org in orgs has its onboarding in status.
func (c *cluster) waitStatus(ids map[string]*domain.Onboarding, orgs []string, status string, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var behind []string
		for _, orgNo := range orgs {
			o, err := c.check.OnboardingByID(context.Background(), ids[orgNo].ID)
			if err != nil {
				c.t.Fatal(err)
			}
			if string(o.Status) != status {
				behind = append(behind, orgNo+":"+string(o.Status))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %v, not yet %s: %v", within, status, behind)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
