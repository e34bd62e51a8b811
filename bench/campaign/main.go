// Command campaign measures a bulk campaign: N organisations sent to the
// simulator with an injected latency on every create, at concurrency C and
// rate limit R. It builds the whole app (app.Build) on a fresh database,
// with the simulator in a process of its own (this program run again as
// the child, so the service's CPU is its own), makes the campaign through
// the same service the dashboard uses, starts River and times the campaign
// from start to done.
//
// The table sets the time next to its floor, max(N × latency / C, N / R):
// no runner at that concurrency and rate could be faster. The baseline,
// measured in the same run just before, is a bare create of the same
// request: C goroutines at rate R calling the app's Altinn client directly
// for N other organisations (no database). It also counts the organisations
// with more than one request at Altinn (must be 0). See bench/README.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/time/rate"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// childEnv, set, makes this program the simulator's process.
const childEnv = "BENCH_CAMPAIGN_SIM"

// The goal (issue 15): at 100x1000, elapsed ≤ 1.3× the floor and the
// service's CPU per organisation at most 1 ms.
const (
	goalRatio = 1.3
	goalCPU   = time.Millisecond
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if os.Getenv(childEnv) != "" {
		err = serveSim(ctx, os.Getenv, os.Stdout)
	} else {
		err = run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/campaign:", err)
		os.Exit(1)
	}
}

// pace is one run's concurrency and rate.
type pace struct {
	c    int
	rate float64
}

type result struct {
	pace
	name       string
	n          int
	elapsed    time.Duration
	floor      time.Duration
	duplicates int
	created    int
	failed     int
	retried    int
	retryWhy   string
	cpu        time.Duration // this process: service, River (or the bare loop)
	simCPU     time.Duration // the simulator's process
	pgCPU      time.Duration // the bench database's Postgres backends
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10_000, "organisations in each campaign")
	latency := fs.Duration("latency", 100*time.Millisecond, "latency injected on every request create at the simulator")
	runs := fs.String("runs", "100x1000", "runs as CONCURRENCYxRATE (rate per second), comma-separated; the goal is judged on 100x1000")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on a run after this long")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the campaign runs (not the baselines) to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	paces, err := parseRuns(*runs)
	if err != nil || *n < 1 || *n > campaigns.MaxRows {
		return fmt.Errorf("-runs must be like 50x100,100x1000 and -n from 1 to %d (%v)", campaigns.MaxRows, err)
	}
	admin, err := benchkit.AdminURL(getenv, "campaign")
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	dbURL, drop, err := benchkit.NewDatabase(ctx, admin, "campaign")
	if err != nil {
		return err
	}
	defer drop()
	store, err := db.Open(ctx, dbURL+"&pool_max_conns=60")
	if err != nil {
		return err
	}
	defer store.Close()
	dataDir, err := os.MkdirTemp("", "bench-campaign-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	simAddr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	simURL := "http://" + simAddr
	vars, err := benchkit.SimAppVars(dbURL, dataDir, simAddr)
	if err != nil {
		return err
	}
	vars["ONBOARD_MASKINPORTEN_CLIENT_ID"] = config.SimClientID
	vars["ONBOARD_MASKINPORTEN_KID"] = "bench-campaign"

	// The simulator: this program again, in a process of its own.
	simProc, err := startSim(ctx, vars, *latency, stderr)
	if err != nil {
		return err
	}
	defer simProc.stop()

	// The service, pointed at it as at any Altinn.
	svc := map[string]string{}
	for k, v := range vars {
		if !strings.HasPrefix(k, "ONBOARD_SIM_") {
			svc[k] = v
		}
	}
	svc["ONBOARD_ALTINN_ENV"] = config.EnvCustom
	svc["ONBOARD_ALTINN_BASE_URL"] = simURL
	svc["ONBOARD_MASKINPORTEN_ISSUER"] = simURL + "/"
	svc["ONBOARD_ALTINN_CONFIRM_HOSTS"] = simAddr
	svc["ONBOARD_ALTINN_TIMEOUT"] = "30s"
	svc["ONBOARD_DEV"] = "true" // plain http on loopback
	cfg, err := config.Load(func(k string) string { return svc[k] })
	if err != nil {
		return err
	}
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start River: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), app.JobStopTimeout+5*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(sctx)
	}()
	meter := &meter{store: store, sim: simProc}

	var results []result
	for i, p := range paces {
		floor := max(time.Duration(float64(*n)*float64(*latency)/float64(p.c)), time.Duration(float64(*n)/p.rate*float64(time.Second)))
		logf("run %d: %d organisations, %d at once, at most %g a second, %v latency", i+1, *n, p.c, p.rate, *latency)
		base, err := bareCreates(ctx, a, meter, benchkit.OrgNumbers(*n, 2000+i), p)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		base.floor = floor
		var stopProfile func()
		if *cpuprofile != "" {
			if stopProfile, err = startProfile(fmt.Sprintf("%s.%d", *cpuprofile, i+1)); err != nil {
				return err
			}
		}
		r, err := runOne(ctx, a, meter, simURL, benchkit.OrgNumbers(*n, 1000+i), p, *timeout, logf)
		if stopProfile != nil {
			stopProfile()
		}
		if err != nil {
			return err
		}
		r.floor = floor
		results = append(results, base, r)
	}
	printResults(stdout, *latency, results)
	for _, r := range results {
		if r.duplicates > 0 || r.created != r.n {
			return fmt.Errorf("%s %dx%g: %d duplicates, %d requests for %d organisations", r.name, r.c, r.rate, r.duplicates, r.created, r.n)
		}
	}
	return nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func parseRuns(s string) ([]pace, error) {
	var out []pace
	for _, part := range strings.Split(s, ",") {
		cs, rs, ok := strings.Cut(strings.TrimSpace(part), "x")
		c, cerr := strconv.Atoi(cs)
		r, rerr := strconv.ParseFloat(rs, 64)
		if !ok || cerr != nil || rerr != nil || c < 1 || c > 200 || r <= 0 || r > 10000 {
			return nil, fmt.Errorf("bad run %q", part)
		}
		out = append(out, pace{c, r})
	}
	return out, nil
}

// meter reads the three processes' CPU.
type meter struct {
	store *db.DB
	sim   *simProcess
}

type reading struct {
	self, sim time.Duration
	pg        map[int]time.Duration
}

func (m *meter) read(ctx context.Context) reading {
	r := reading{self: benchkit.SelfCPU()}
	r.sim, _ = benchkit.PidCPU(m.sim.cmd.Process.Pid)
	r.pg, _ = benchkit.BackendsCPU(ctx, m.store.Pool)
	return r
}

func (m *meter) since(ctx context.Context, before reading, r *result) {
	after := m.read(ctx)
	r.cpu, r.simCPU, r.pgCPU = after.self-before.self, after.sim-before.sim, benchkit.CPUSince(before.pg, after.pg)
}

// bareCreates is the baseline: the same creates, by p.c goroutines at rate
// p.rate calling the app's Altinn client (its token cache, its transport)
// directly, with nothing stored.
func bareCreates(ctx context.Context, a *app.App, m *meter, orgs []string, p pace) (result, error) {
	r := result{pace: p, name: "bare create (baseline)", n: len(orgs)}
	prod := a.Config.Products[0]
	rights := make([]altinn.Right, 0, len(prod.Rights))
	for _, id := range prod.Rights {
		rights = append(rights, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: id}}})
	}
	pkgs := make([]altinn.AccessPackage, 0, len(prod.AccessPackages))
	for _, u := range prod.AccessPackages {
		pkgs = append(pkgs, altinn.AccessPackage{URN: u})
	}
	lim := rate.NewLimiter(rate.Limit(p.rate), 1)
	work := make(chan string)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	before := m.read(ctx)
	start := time.Now()
	for range p.c {
		wg.Go(func() {
			for org := range work {
				ref, _ := onboarding.NewRef()
				_, created, err := a.Altinn.CreateRequest(ctx, altinn.CreateRequest{SystemID: prod.SystemID, PartyOrgNo: org,
					ExternalRef: org, Rights: rights, AccessPackages: pkgs, RedirectURL: a.Config.ReturnURL() + "?ref=" + ref})
				mu.Lock()
				switch {
				case err != nil:
					first = cmpErr(first, err)
				case created:
					r.created++
				}
				mu.Unlock()
			}
		})
	}
	for _, org := range orgs {
		if err := lim.Wait(ctx); err != nil {
			break
		}
		work <- org
	}
	close(work)
	wg.Wait()
	r.elapsed = time.Since(start)
	m.since(ctx, before, &r)
	return r, first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func runOne(ctx context.Context, a *app.App, m *meter, simURL string, orgs []string, p pace, timeout time.Duration, logf func(string, ...any)) (result, error) {
	r := result{pace: p, name: "campaign", n: len(orgs)}
	list := strings.Join(orgs, "\n")
	c, err := a.Campaigns.Create(ctx, campaigns.NewCampaign{Name: fmt.Sprintf("bench %dx%g", p.c, p.rate),
		Product: a.Config.Products[0].ID, Concurrency: p.c, Rate: p.rate, Data: []byte(list), CreatedBy: "bench"})
	if err != nil {
		return r, err
	}
	var stats sim.Stats
	if err := getJSON(ctx, simURL+"/_sim/stats", &stats); err != nil {
		return r, err
	}
	createdBefore := stats.RequestsCreated
	before := m.read(ctx)
	start := time.Now()
	if _, err := a.Campaigns.Act(ctx, c.ID, campaigns.ActionStart); err != nil {
		return r, err
	}
	deadline := start.Add(timeout)
	last := start
	for {
		c, err = a.DB.CampaignByID(ctx, c.ID)
		if err != nil {
			return r, err
		}
		if c.Status == db.CampaignDone {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("the campaign is not done after %v", timeout)
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			p, _ := a.DB.CampaignProgress(ctx, c)
			logf("  %v: %v", time.Since(start).Round(time.Second), p.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.elapsed = time.Since(start)
	m.since(ctx, before, &r)
	if err := getJSON(ctx, simURL+"/_sim/stats", &stats); err != nil {
		return r, err
	}
	r.created = stats.RequestsCreated - createdBefore
	var reqs []sim.RequestInfo
	if err := getJSON(ctx, simURL+"/_sim/requests", &reqs); err != nil {
		return r, err
	}
	want := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		want[o] = true
	}
	per := map[string]int{}
	for _, req := range reqs {
		if want[req.PartyOrgNo] {
			per[req.PartyOrgNo]++
		}
	}
	for _, k := range per {
		if k > 1 {
			r.duplicates++
		}
	}
	prog, err := a.DB.CampaignProgress(ctx, c)
	if err != nil {
		return r, err
	}
	r.failed = prog.Items[db.ItemFailed]
	// Rows tried more than once, and why (a retry waits its back-off).
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*), coalesce(min(last_error), '') FROM campaign_items
		WHERE campaign_id = $1 AND attempts > 1`, c.ID).Scan(&r.retried, &r.retryWhy); err != nil {
		return r, err
	}
	if r.retried > 0 {
		logf("  %d rows were tried again, e.g. after %q", r.retried, r.retryWhy)
	}
	return r, nil
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

func printResults(w io.Writer, latency time.Duration, rs []result) {
	fmt.Fprintf(w, "\ncampaign: N organisations against the simulator (its own process) with %v on every create\n", latency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tN\tC\tR/s\telapsed\tfloor\telapsed/floor\tthroughput/s\tCPU/org\tsim CPU/org\tPostgres CPU/org\tduplicates\tfailed\tretried\t")
	per := func(d time.Duration, n int) string { return benchkit.FmtDur(d / time.Duration(n)) }
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%g\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.name, r.n, r.c, r.rate,
			benchkit.FmtDur(r.elapsed), benchkit.FmtDur(r.floor), benchkit.Ratio(r.elapsed.Seconds(), r.floor.Seconds()),
			float64(r.n)/r.elapsed.Seconds(), per(r.cpu, r.n), per(r.simCPU, r.n), per(r.pgCPU, r.n), r.duplicates, r.failed, r.retried)
	}
	tw.Flush()
	fmt.Fprintln(w, "floor = max(N·latency/C, N/R). CPU/org is this process's (the service and River; for the baseline the bare loop), the simulator's apart.")
	for i := 0; i+1 < len(rs); i += 2 {
		base, r := rs[i], rs[i+1]
		fmt.Fprintf(w, "%dx%g: campaign/baseline elapsed %s, CPU/org %s, Postgres CPU/org %s\n", r.c, r.rate,
			benchkit.Ratio(r.elapsed.Seconds(), base.elapsed.Seconds()),
			benchkit.Ratio(r.cpu.Seconds(), base.cpu.Seconds()), benchkit.Ratio(r.pgCPU.Seconds(), max(base.pgCPU, time.Millisecond).Seconds()))
		if r.c != 100 || r.rate != 1000 {
			continue
		}
		ratio := r.elapsed.Seconds() / r.floor.Seconds()
		cpu := r.cpu / time.Duration(r.n)
		fmt.Fprintf(w, "goal 4 (100x1000): elapsed/floor %.2fx (≤ %.1fx): %s; service CPU/org %s (≤ %s): %s; duplicates %d (0): %s\n",
			ratio, goalRatio, met(ratio <= goalRatio), benchkit.FmtDur(cpu), benchkit.FmtDur(goalCPU), met(cpu <= goalCPU),
			r.duplicates, met(r.duplicates == 0))
	}
}

func met(ok bool) string {
	if ok {
		return "goal met"
	}
	return "goal NOT met"
}

// simProcess is the simulator's process.
type simProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
}

func (p *simProcess) stop() {
	p.in.Close() // the child ends when its stdin does
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// startSim runs this program as the simulator's process, with vars as its
// environment and latency on every create, and waits until it serves.
func startSim(ctx context.Context, vars map[string]string, latency time.Duration, stderr io.Writer) (*simProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", "BENCH_CAMPAIGN_LATENCY="+latency.String())
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &simProcess{cmd: cmd, in: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		p.stop()
		return nil, fmt.Errorf("the simulator's process did not start (%q, %v)", line, err)
	}
	return p, nil
}

// serveSim is the child: the app's simulator (app.Build with
// ONBOARD_ALTINN_ENV=sim, its database not used) served on ONBOARD_SIM_ADDR
// until stdin ends.
func serveSim(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	latency, err := time.ParseDuration(getenv("BENCH_CAMPAIGN_LATENCY"))
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, getenv("DATABASE_URL")+"&pool_max_conns=2")
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	a.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/authentication/api/v1/systemuser/request/vendor", Latency: latency})
	srv := &http.Server{Addr: cfg.SimAddr, Handler: a.Sim.Handler()}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	for range 100 { // until it answers
		if res, err := http.Get("http://" + cfg.SimAddr + "/_sim/stats"); err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintln(stdout, "ready")
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); errc <- nil }()
	err = <-errc
	_ = srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
