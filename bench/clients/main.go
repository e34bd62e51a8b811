// Command clients measures the accountant's "add all": N clients of a
// generated accounting firm delegated to its agent system user against the
// simulator, with an injected latency L on every add
// (POST /authentication/api/v1/enduser/systemuser/clients). It builds the
// whole app (app.Build, with the simulator) on a fresh database, serves its
// web side and the simulator on loopback, connects an agent onboarding for
// the firm through the wizard and the simulator's confirm page, logs Kari
// in through the simulated ID-porten, and times the real path: from the
// POST of "add all" on the clients page until every client is settled, with
// the service's own worker on River (clients.Workers at once).
//
// The floor is max(N·L/C, N/R) with C = clients.Workers; the service has no
// rate limit of its own on these calls, so R is none and the floor is
// N·L/C. It counts duplicates (the simulator's clientsAddedAgain, and the
// clients that got more than one add: both must be 0), the process CPU per
// client, and a baseline measured in the same run just before: the same N
// adds at the same latency by C goroutines calling altinn.Client.AddClient
// directly with the person's token. See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/clients:", err)
		os.Exit(1)
	}
}

// addPath is the client-delegation add (and list) path; the latency goes on
// its POST only.
const addPath = "/authentication/api/v1/enduser/systemuser/clients"

// Floor is the least time n calls of latency each can take with c at once
// and at most rate started a second (rate <= 0: no rate limit):
// max(n·latency/c, n/rate).
func Floor(n int, latency time.Duration, c int, rate float64) time.Duration {
	if n <= 0 || c <= 0 {
		return 0
	}
	f := time.Duration(float64(n) * float64(latency) / float64(c))
	if rate > 0 {
		f = max(f, time.Duration(float64(n)/rate*float64(time.Second)))
	}
	return f
}

// ParseLatencies reads a comma-separated list of positive durations.
func ParseLatencies(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 || d > 10*time.Second {
			return nil, fmt.Errorf("bad latency %q (want e.g. 20ms,100ms, each up to 10s)", part)
		}
		out = append(out, d)
	}
	return out, nil
}

type result struct {
	n       int
	latency time.Duration
	floor   time.Duration
	ask     time.Duration // the POST of "add all" until its 303
	elapsed time.Duration // that POST until every client is settled
	cpu     time.Duration // this process, over elapsed
	pgCPU   time.Duration // the bench database's Postgres backends, over elapsed

	baseline    time.Duration
	baselineCPU time.Duration
	baselineErr int

	added, again, multi, retried, delegated, failed int

	jobs jobTimes
}

// jobTimes is what River's rows say of the run's jobs: how long each ran
// (attempted_at to finalized_at), how long the first waited to start, and
// how many ran at once on average (their run times over elapsed).
type jobTimes struct {
	n               int
	p50, p95, max   time.Duration
	firstStart      time.Duration // the ask's start until the first job started
	lastEnd         time.Duration // the ask's start until the last job ended
	meanConcurrency float64
	// roundTrip is the p50 of the bench's own poll query during the run:
	// what one small query costs on the machine at that moment.
	roundTrip time.Duration
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "clients of the generated firm, all added with one \"add all\"")
	short := fs.Bool("short", false, "a quick check: -n 100")
	lats := fs.String("latency", "20ms,100ms", "latencies injected on every add at the simulator, one run each, comma-separated")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on a run after this long")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of each service run to FILE-<latency>.pprof")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *short {
		*n = 100
	}
	latencies, err := ParseLatencies(*lats)
	if err != nil {
		return err
	}
	if *n < 1 || *n > 20_000 {
		return fmt.Errorf("-n must be from 1 to 20000")
	}
	admin, err := benchkit.AdminURL(getenv, "clients")
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	dbURL, drop, err := benchkit.NewDatabase(ctx, admin, "clients")
	if err != nil {
		return err
	}
	defer drop()
	store, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer webLn.Close()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer simLn.Close()
	dataDir, err := os.MkdirTemp("", "bench-clients-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)

	// One generated firm per run, each with n clients that all have it
	// as accountant, and Kari as klientadministrator at every one.
	firms := make([]sim.Firm, len(latencies))
	seed := sim.DefaultSeed()
	for i, org := range benchkit.OrgNumbers(len(latencies), 4242) {
		firms[i] = sim.GeneratedFirm(org, fmt.Sprintf("BENCH REGNSKAP %d AS", i+1), 31300000+i*25000, *n)
		seed.Firms = append(seed.Firms, firms[i])
		for j := range seed.Persons {
			if seed.Persons[j].PID == sim.PersonClientAdmin {
				seed.Persons[j].Roles = append(seed.Persons[j].Roles, sim.PersonRole{OrgNo: org, Roles: []string{"klientadministrator"}})
			}
		}
	}
	seedFile := filepath.Join(dataDir, "seed.json")
	b, err := json.Marshal(seed)
	if err != nil {
		return err
	}
	if err := os.WriteFile(seedFile, b, 0o600); err != nil {
		return err
	}

	vars, err := benchkit.SimAppVars(dbURL, dataDir, simLn.Addr().String())
	if err != nil {
		return err
	}
	webURL := "http://" + webLn.Addr().String()
	vars["ONBOARD_ADDR"] = webLn.Addr().String()
	vars["ONBOARD_PUBLIC_URL"] = webURL
	vars["ONBOARD_SIM_SEED_FILE"] = seedFile
	vars["ONBOARD_ALTINN_TIMEOUT"] = "30s"
	vars["ONBOARD_SUBMIT_RATE_PER_MINUTE"] = "1000000"
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	if a.Clients == nil {
		return errors.New("the app has no clients flow (ID-porten off?)")
	}
	counter := &addCounter{per: map[string]int{}}
	simSrv := &http.Server{Handler: counter.wrap(a.Sim.Handler())}
	go simSrv.Serve(simLn) //nolint:errcheck // ends with Close
	defer simSrv.Close()
	webSrv := &http.Server{Handler: a.Web}
	go webSrv.Serve(webLn) //nolint:errcheck // ends with Close
	defer webSrv.Close()

	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start River: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), app.JobStopTimeout+5*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(sctx)
	}()

	var results []result
	for i, lat := range latencies {
		logf("run %d: %d clients of %s, %v on every add, %d workers", i+1, *n, firms[i].OrgNo, lat, clients.Workers)
		prof := ""
		if *cpuProfile != "" {
			prof = fmt.Sprintf("%s-%v.pprof", *cpuProfile, lat)
		}
		r, err := runOne(ctx, a, counter, webURL, "http://"+simLn.Addr().String(), firms[i], lat, *timeout, prof, logf)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	printResults(stdout, results)
	for _, r := range results {
		if r.again > 0 || r.multi > 0 || r.added != r.n || r.delegated != r.n || r.failed > 0 {
			return fmt.Errorf("%v: %d added for %d clients, %d added again, %d with more than one add, %d delegated, %d failed",
				r.latency, r.added, r.n, r.again, r.multi, r.delegated, r.failed)
		}
	}
	return nil
}

// addCounter counts the adds each client gets at the simulator (a layer in
// front of it, so a call that a fault answers counts too).
type addCounter struct {
	mu  sync.Mutex
	per map[string]int
}

func (c *addCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == addPath {
			c.mu.Lock()
			c.per[strings.ToLower(r.URL.Query().Get("client"))]++
			c.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (c *addCounter) reset() {
	c.mu.Lock()
	c.per = map[string]int{}
	c.mu.Unlock()
}

// multi is how many clients got more than one add, and how many got one.
func (c *addCounter) multi() (multi, once int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.per {
		if k > 1 {
			multi++
		} else {
			once++
		}
	}
	return multi, once
}

func runOne(ctx context.Context, a *app.App, counter *addCounter, webURL, simURL string, firm sim.Firm, lat, timeout time.Duration,
	prof string, logf func(string, ...any)) (result, error) {
	r := result{n: len(firm.Clients), latency: lat, floor: Floor(len(firm.Clients), lat, clients.Workers, 0)}
	b := newBrowser()

	// The firm's agent onboarding, through the wizard and Altinn's confirm page.
	o, err := connectAgent(ctx, a, b, webURL, simURL, firm.OrgNo)
	if err != nil {
		return r, err
	}
	// Kari logs in through the simulated ID-porten.
	st, err := b.get(webURL + "/status/" + o.Ref)
	if err != nil || st.status != http.StatusOK || !strings.Contains(st.body, `data-testid="add-clients"`) {
		return r, fmt.Errorf("the connected page offers no Add clients (%d, %v)", st.status, err)
	}
	login, err := b.post(webURL+"/clients/"+o.Ref+"/login", url.Values{"_csrf": {csrfOf(st)}})
	if err != nil || login.status != http.StatusSeeOther {
		return r, fmt.Errorf("clients login: %d, %v", login.status, err)
	}
	back, err := pickPerson(login.location, sim.PersonClientAdmin)
	if err != nil {
		return r, err
	}
	cb, err := b.get(back)
	if err != nil || cb.status != http.StatusSeeOther {
		return r, fmt.Errorf("ID-porten callback: %d, %v\n%.1000s", cb.status, err, cb.body)
	}
	list, err := b.get(webURL + "/clients/" + o.Ref)
	if err != nil || list.status != http.StatusOK {
		return r, fmt.Errorf("clients page: %d, %v", list.status, err)
	}

	// The baseline: the same adds with the same token, C at once, straight
	// through the app's Altinn client; then the simulator forgets them (as
	// a removal in Altinn's portal would), before the service knows any.
	var cookie string
	for _, ck := range b.c.Jar.Cookies(mustURL(webURL)) {
		if ck.Name == clients.CookieName {
			cookie = ck.Value
		}
	}
	sess, err := a.Clients.Session(ctx, cookie, o)
	if err != nil {
		return r, fmt.Errorf("the login's session: %w", err)
	}
	avail, err := a.Altinn.AvailableClients(ctx, sess.Token, *o.SystemUserID)
	if err != nil {
		return r, err
	}
	if len(avail.Data) != r.n {
		return r, fmt.Errorf("the simulator lists %d available clients, want %d", len(avail.Data), r.n)
	}
	removeLatency := a.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: addPath, Latency: lat})
	defer removeLatency()
	before := a.Sim.Stats()
	cpu := benchkit.SelfCPU()
	start := time.Now()
	r.baselineErr = bareAdds(ctx, a, sess, *o.SystemUserID, avail.Data, clients.Workers)
	r.baseline = time.Since(start)
	r.baselineCPU = benchkit.SelfCPU() - cpu
	if got := a.Sim.Stats().ClientsAdded - before.ClientsAdded; got != r.n || r.baselineErr > 0 {
		return r, fmt.Errorf("baseline: %d added, %d errors", got, r.baselineErr)
	}
	for _, c := range avail.Data {
		if err := a.Sim.RemoveClientDelegation(*o.SystemUserID, c.ID); err != nil {
			return r, fmt.Errorf("undo the baseline: %w", err)
		}
	}
	logf("  baseline: %d bare adds in %v", r.n, r.baseline.Round(time.Millisecond))
	counter.reset()

	// The service: "add all" on the clients page, then River's workers.
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return r, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return r, err
		}
		defer pprof.StopCPUProfile()
	}
	before = a.Sim.Stats()
	pgBefore, err := benchkit.BackendsCPU(ctx, a.DB.Pool)
	if err != nil {
		return r, err
	}
	cpu = benchkit.SelfCPU()
	start = time.Now()
	res, err := b.post(webURL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(list)}, "all": {"1"}})
	r.ask = time.Since(start)
	if err != nil || res.status != http.StatusSeeOther || res.location != "/clients/"+o.Ref+"/progress" {
		return r, fmt.Errorf("add all: %d Location %q, %v\n%.1000s", res.status, res.location, err, res.body)
	}
	deadline := start.Add(timeout)
	last := start
	var polls []time.Duration
	for {
		var inFlight int
		t0 := time.Now()
		if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM onboarding_clients WHERE onboarding_id = $1 AND state IN ('adding', 'removing')`,
			o.ID).Scan(&inFlight); err != nil {
			return r, err
		}
		polls = append(polls, time.Since(t0))
		if inFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%d clients still in flight after %v", inFlight, timeout)
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			logf("  %v: %d in flight", time.Since(start).Round(time.Second), inFlight)
		}
		time.Sleep(20 * time.Millisecond) // polling, with the deadline above
	}
	r.elapsed = time.Since(start)
	r.cpu = benchkit.SelfCPU() - cpu
	// The last client settled when its row changed (its outcome's
	// transaction), not when the poll saw it: the poll is only 20 ms fine.
	var settled *time.Time
	if err := a.DB.Pool.QueryRow(ctx, `SELECT max(changed_at) FROM onboarding_clients WHERE onboarding_id = $1`, o.ID).Scan(&settled); err != nil {
		return r, err
	}
	if settled != nil && settled.Sub(start) > r.ask && settled.Sub(start) < r.elapsed {
		r.elapsed = settled.Sub(start)
	}
	if pgAfter, err := benchkit.BackendsCPU(ctx, a.DB.Pool); err == nil {
		r.pgCPU = benchkit.CPUSince(pgBefore, pgAfter)
	}
	after := a.Sim.Stats()
	r.added, r.again = after.ClientsAdded-before.ClientsAdded, after.ClientsAddedAgain-before.ClientsAddedAgain
	r.multi, _ = counter.multi()
	err = a.DB.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE attempts > 1), count(*) FILTER (WHERE state = $2),
			count(*) FILTER (WHERE state = $3) FROM onboarding_clients WHERE onboarding_id = $1`,
		o.ID, domain.ClientDelegated, domain.ClientFailed).Scan(&r.retried, &r.delegated, &r.failed)
	if err == nil {
		r.jobs, err = jobStats(ctx, a, o.ID, start, r.elapsed)
		r.jobs.roundTrip = benchkit.Percentile(benchkit.Sorted(polls), 50)
	}
	logf("  service: %d clients settled in %v (the ask %v)", r.n, r.elapsed.Round(time.Millisecond), r.ask.Round(time.Millisecond))
	return r, err
}

// jobStats reads the run's jobs' times from river_job.
func jobStats(ctx context.Context, a *app.App, onboardingID string, start time.Time, elapsed time.Duration) (jobTimes, error) {
	var jt jobTimes
	// River completes jobs in batches: wait (a little) for the last ones.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var open int
		if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'onboarding_id' = $2 AND finalized_at IS NULL`,
			clients.Args{}.Kind(), onboardingID).Scan(&open); err != nil {
			return jt, err
		}
		if open == 0 {
			break
		}
	}
	rows, err := a.DB.Pool.Query(ctx, `SELECT attempted_at, finalized_at FROM river_job
		WHERE kind = $1 AND args->>'onboarding_id' = $2 AND attempted_at IS NOT NULL AND finalized_at IS NOT NULL`,
		clients.Args{}.Kind(), onboardingID)
	if err != nil {
		return jt, err
	}
	defer rows.Close()
	var runs []time.Duration
	var total time.Duration
	first, last := time.Time{}, time.Time{}
	for rows.Next() {
		var at, fin time.Time
		if err := rows.Scan(&at, &fin); err != nil {
			return jt, err
		}
		runs = append(runs, fin.Sub(at))
		total += fin.Sub(at)
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if fin.After(last) {
			last = fin
		}
	}
	if err := rows.Err(); err != nil || len(runs) == 0 {
		return jt, err
	}
	s := benchkit.Sorted(runs)
	jt = jobTimes{n: len(runs), p50: benchkit.Percentile(s, 50), p95: benchkit.Percentile(s, 95), max: s[len(s)-1],
		firstStart: first.Sub(start), lastEnd: last.Sub(start), meanConcurrency: total.Seconds() / elapsed.Seconds()}
	return jt, nil
}

// bareAdds makes one add per client, c at once, and returns how many failed.
func bareAdds(ctx context.Context, a *app.App, sess *clients.Session, agent string, list []altinn.ClientInfo, c int) int {
	ids := make(chan string)
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for id := range ids {
				if err := a.Altinn.AddClient(ctx, sess.Token, agent, id); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	for _, cl := range list {
		ids <- cl.ID
	}
	close(ids)
	wg.Wait()
	return failed
}

func printResults(w io.Writer, rs []result) {
	fmt.Fprintf(w, "\nclients: N clients added with one \"add all\" against the simulator, C = clients.Workers = %d, no rate limit (R: none)\n", clients.Workers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tlatency\telapsed\tfloor N·L/C\telapsed/floor\tthe ask\tbaseline\tbaseline/floor\telapsed/baseline\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%v\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.n, r.latency, benchkit.FmtDur(r.elapsed), benchkit.FmtDur(r.floor),
			benchkit.Ratio(r.elapsed.Seconds(), r.floor.Seconds()), benchkit.FmtDur(r.ask), benchkit.FmtDur(r.baseline),
			benchkit.Ratio(r.baseline.Seconds(), r.floor.Seconds()), benchkit.Ratio(r.elapsed.Seconds(), r.baseline.Seconds()))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tlatency\tCPU/client\tbaseline CPU/client\tCPU ratio\tPostgres CPU/client\tadded\tadded again\tclients with >1 add\tretried\tfailed\t")
	for _, r := range rs {
		n := time.Duration(r.n)
		fmt.Fprintf(tw, "%d\t%v\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", r.n, r.latency, benchkit.FmtDur(r.cpu/n), benchkit.FmtDur(r.baselineCPU/n),
			benchkit.Ratio(r.cpu.Seconds(), r.baselineCPU.Seconds()), benchkit.FmtDur(r.pgCPU/n), r.added, r.again, r.multi, r.retried, r.failed)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tlatency\tjobs\tjob run p50\tp95\tmax\tfirst job started\tlast job ended\tjobs running at once (mean)\tpoll query p50\t")
	for _, r := range rs {
		j := r.jobs
		fmt.Fprintf(tw, "%d\t%v\t%d\t%s\t%s\t%s\t%s\t%s\t%.2f of %d\t%s\t\n", r.n, r.latency, j.n, benchkit.FmtDur(j.p50), benchkit.FmtDur(j.p95),
			benchkit.FmtDur(j.max), benchkit.FmtDur(j.firstStart), benchkit.FmtDur(j.lastEnd), j.meanConcurrency, clients.Workers,
			benchkit.FmtDur(j.roundTrip))
	}
	tw.Flush()
	fmt.Fprintln(w, "elapsed: the POST of \"add all\" until the last client's row settled; the ask: that POST until its 303 (Altinn's two lists, the rows and their jobs).")
	fmt.Fprintln(w, "baseline: the same N adds at the same latency, C goroutines calling altinn.Client.AddClient directly, just before.")
	fmt.Fprintln(w, "CPU/client is this process's CPU (service, River and simulator together); Postgres CPU is the bench database's backends.")
}

// browser is one person's browser: its own cookies, redirects not followed.
type browser struct{ c *http.Client }

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(req *http.Request) (page, error) {
	res, err := b.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body)}, err
}

func (b *browser) get(u string) (page, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (page, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfRE          = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)
	hiddenOrgRE     = regexp.MustCompile(`name="orgno" value="([0-9]{9})"`)
	hiddenCheckedRE = regexp.MustCompile(`name="checked" value="(true|false)"`)
	reservationRE   = regexp.MustCompile(`name="reservation" value="([^"]+)"`)
	hiddenRE        = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func csrfOf(p page) string {
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// connectAgent runs the wizard of the agent product for orgNo, approves at
// the simulator's confirm page, returns, and gives the connected onboarding.
func connectAgent(ctx context.Context, a *app.App, b *browser, webURL, simURL, orgNo string) (*domain.Onboarding, error) {
	step := func(what string, p page, err error, status int) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if p.status != status {
			return fmt.Errorf("%s: %d, want %d\n%.1500s", what, p.status, status, p.body)
		}
		return nil
	}
	form, err := b.get(webURL + "/onboard/agent/org")
	if err := step("the org step", form, err, http.StatusOK); err != nil {
		return nil, err
	}
	res, err := b.post(webURL+"/onboard/agent/org", url.Values{"orgno": {orgNo}, "_csrf": {csrfOf(form)}})
	if err := step("submit the org", res, err, http.StatusSeeOther); err != nil {
		return nil, err
	}
	cp, err := b.get(webURL + res.location)
	if err := step("the company page", cp, err, http.StatusOK); err != nil {
		return nil, err
	}
	on, ch := hiddenOrgRE.FindStringSubmatch(cp.body), hiddenCheckedRE.FindStringSubmatch(cp.body)
	if on == nil || ch == nil {
		return nil, fmt.Errorf("no confirm form on the company page:\n%.1500s", cp.body)
	}
	cf := url.Values{"orgno": {on[1]}, "checked": {ch[1]}, "_csrf": {csrfOf(cp)}}
	if m := reservationRE.FindStringSubmatch(cp.body); m != nil {
		cf.Set("reservation", m[1])
	}
	res, err = b.post(webURL+"/onboard/agent/confirm", cf)
	if err := step("confirm the org", res, err, http.StatusSeeOther); err != nil {
		return nil, err
	}
	confirmURL, err := url.Parse(res.location)
	if err != nil || !strings.HasPrefix(res.location, simURL) {
		return nil, fmt.Errorf("confirm: Location %q is not the simulator's", res.location)
	}
	cpage, err := b.get(res.location)
	if err := step("Altinn's confirm page", cpage, err, http.StatusOK); err != nil {
		return nil, err
	}
	res, err = b.post(simURL+confirmURL.Path, url.Values{"id": {confirmURL.Query().Get("id")}, "action": {"approve"}})
	if err := step("approve", res, err, http.StatusFound); err != nil {
		return nil, err
	}
	ret, err := b.get(res.location)
	if err := step("return", ret, err, http.StatusSeeOther); err != nil {
		return nil, err
	}
	var id string
	if err := a.DB.Pool.QueryRow(ctx, `SELECT id FROM onboardings WHERE org_no = $1 ORDER BY created_at DESC LIMIT 1`, orgNo).Scan(&id); err != nil {
		return nil, err
	}
	o, err := a.DB.OnboardingByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !clients.Can(o) {
		return nil, fmt.Errorf("the agent onboarding is %s %s", o.Kind, o.Status)
	}
	return o, nil
}

var noFollow = &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pickPerson plays the person at the simulated ID-porten's picker, as
// simtest.PickPerson does for tests, and returns the URL it sends the
// browser back to.
func pickPerson(authURL, pid string) (string, error) {
	res, err := noFollow.Get(authURL)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Simulert ID-porten") {
		return "", fmt.Errorf("the picker: %d\n%.1000s", res.StatusCode, body)
	}
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(body), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	form.Set("pid", pid)
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	u.RawQuery = ""
	res, err = noFollow.PostForm(u.String(), form)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	if res.StatusCode/100 != 3 || res.Header.Get("Location") == "" {
		return "", fmt.Errorf("after the picker: %d", res.StatusCode)
	}
	return res.Header.Get("Location"), nil
}
