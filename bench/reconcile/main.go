// Command reconcile measures the background reconciliation at 100,000
// pending onboardings with the service's default settings: it builds the
// whole app (app.Build, with the simulator) on a fresh database, seeds the
// onboardings with COPY, starts the River client with its periodic sweep and
// waits until every onboarding has been re-read from Altinn. It prints the
// sweeps and batch jobs, the Altinn calls per onboarding and the CPU time per
// onboarding, next to bare GETs of the same requests through the same Altinn
// client, as many at once (the baseline: the part of a reconcile that is the
// Altinn call itself), and the goals met or not. See bench/README.md.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/reconcile:", err)
		os.Exit(1)
	}
}

type options struct {
	n        int
	requests int
	workers  int
	sweep    time.Duration
	baseline int
	pool     int
	timeout  time.Duration
	cpuprof  string
	latency  time.Duration
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg options
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.n, "n", goalN, "pending onboardings to reconcile (the issue's goal is about 100000)")
	fs.IntVar(&cfg.requests, "requests", 2000, "distinct requests created in the simulator for them (see bench/README.md)")
	fs.IntVar(&cfg.workers, "workers", 0, "ONBOARD_JOB_WORKERS (0: the service's default)")
	fs.DurationVar(&cfg.sweep, "sweep", 0, "ONBOARD_SWEEP_INTERVAL (0: the service's default)")
	fs.IntVar(&cfg.baseline, "baseline", 20_000, "bare GETs for the baseline (half before the reconciliation, half after)")
	fs.IntVar(&cfg.pool, "pool", 0, "pool_max_conns of the service's database pool (0: the service's default, 20)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "give up when the reconciliation takes longer")
	fs.DurationVar(&cfg.latency, "latency", 0, "how long the simulated Altinn takes to answer each GET of a request (0: at once), for the reconciliation and the baseline alike")
	fs.StringVar(&cfg.cpuprof, "cpuprofile", "", "write a CPU profile of the reconciliation (not the seeding or the baseline) to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.n < 1 || cfg.requests < 1 || cfg.workers < 0 || cfg.workers > 1000 || cfg.baseline < 1 {
		return errors.New("-n, -requests and -baseline must be at least 1, -workers from 0 to 1000")
	}
	admin, err := benchkit.AdminURL(getenv, "reconcile")
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	dbURL, drop, err := benchkit.NewDatabase(ctx, admin, "reconcile")
	if err != nil {
		return err
	}
	defer drop()
	if cfg.pool > 0 {
		u, err := url.Parse(dbURL)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("pool_max_conns", strconv.Itoa(cfg.pool))
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	store, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()

	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer simLn.Close()
	dataDir, err := os.MkdirTemp("", "bench-reconcile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	vars, err := benchkit.SimAppVars(dbURL, dataDir, simLn.Addr().String())
	if err != nil {
		return err
	}
	// The service's own defaults, unless a flag says otherwise.
	if cfg.workers > 0 {
		vars["ONBOARD_JOB_WORKERS"] = strconv.Itoa(cfg.workers)
	}
	if cfg.sweep > 0 {
		vars["ONBOARD_SWEEP_INTERVAL"] = cfg.sweep.String()
	}
	appCfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	cfg.workers, cfg.sweep = appCfg.JobWorkers, appCfg.SweepInterval
	// The most Altinn calls the reconciliation makes at once on one
	// instance: the batch jobs it runs, each with its calls in flight.
	inFlight := cfg.workers * jobs.PerBatch
	sweeps := &sweepLog{}
	log := slog.New(sweeps.handler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	a, err := app.Build(appCfg, store, log)
	if err != nil {
		return err
	}
	p := appCfg.Products[0]

	ids := &idMap{next: a.Sim.Handler(), latency: cfg.latency}
	simSrv := &http.Server{Handler: ids}
	go simSrv.Serve(simLn) //nolint:errcheck // ends with Close
	defer simSrv.Close()

	// The simulator's create looks through every stored request, so 100,000
	// creates would take tens of minutes. The onboardings share a smaller
	// set of real requests instead: each gets an id of its own, and the
	// layer in front of the simulator reads the request it stands for,
	// then puts the onboarding's id back in the answer.
	start := time.Now()
	realIDs, confirmURL, err := createRequests(ctx, a.Altinn, p, appCfg.ReturnURL(), cfg.requests)
	if err != nil {
		return err
	}
	logf("created %d requests in the simulator in %s", len(realIDs), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	fake, err := seed(ctx, store, p, cfg.n, confirmURL)
	if err != nil {
		return err
	}
	m := make(map[string]string, len(fake))
	for i, id := range fake {
		m[id] = realIDs[i%len(realIDs)]
	}
	ids.ids.Store(&m)
	if _, err := store.Pool.Exec(ctx, `VACUUM (ANALYZE) onboardings`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	logf("seeded %d pending onboardings in %s", cfg.n, time.Since(start).Round(time.Millisecond))

	// The baseline: bare GETs of the same requests through the same client,
	// as many at once as the reconciliation makes; half before it and half
	// after, so a change in the machine's load during the run weighs on
	// both sides alike.
	logf("baseline: %d bare GETs, %d at once", cfg.baseline/2, inFlight)
	before, err := bareGets(ctx, a.Altinn, fake[:min(cfg.baseline, len(fake))], max(cfg.baseline/2, 1), inFlight)
	if err != nil {
		return err
	}

	// The reconciliation.
	statsBefore := a.Sim.Stats()
	fetchesBefore := a.Maskinporten.Fetches()
	pgBefore, err := benchkit.BackendsCPU(ctx, store.Pool)
	if err != nil {
		return err
	}
	if cfg.cpuprof != "" {
		f, err := os.Create(cfg.cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpuBefore := benchkit.SelfCPU()
	start = time.Now()
	logf("reconciling %d pending onboardings: %d job workers, %d calls at once, sweep every %s", cfg.n, cfg.workers, inFlight, cfg.sweep)
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start River: %w", err)
	}
	stopJobs := func() {
		sctx, cancel := context.WithTimeout(context.Background(), app.JobStopTimeout+5*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(sctx)
	}
	// Wait for the calls by watching the simulator's counters (no load on
	// Postgres), then for the last saves.
	deadline := time.Now().Add(cfg.timeout)
	lastLog := time.Now()
	calls := func() int {
		n := 0
		for pattern, c := range a.Sim.Stats().Calls {
			if pattern != "/token" {
				n += c - statsBefore.Calls[pattern]
			}
		}
		return n
	}
	var checked int
	for {
		if calls() >= cfg.n {
			if err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM onboardings WHERE checked_at IS NOT NULL`).Scan(&checked); err != nil {
				stopJobs()
				return fmt.Errorf("count checked: %w", err)
			}
			if checked >= cfg.n {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stopJobs()
			return fmt.Errorf("only %d of %d onboardings reconciled after %s", calls(), cfg.n, time.Since(start).Round(time.Second))
		}
		if time.Since(lastLog) >= 10*time.Second {
			logf("  %d/%d reconciled after %s", calls(), cfg.n, time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	wall := time.Since(start)
	cpu := benchkit.SelfCPU() - cpuBefore
	pprof.StopCPUProfile() // the reconciliation only (a no-op without -cpuprofile)
	pgAfter, err := benchkit.BackendsCPU(ctx, store.Pool)
	if err != nil {
		stopJobs()
		return err
	}
	pgCPU := benchkit.CPUSince(pgBefore, pgAfter)
	statsAfter := a.Sim.Stats()
	fetches := a.Maskinporten.Fetches() - fetchesBefore
	stopJobs()
	logf("baseline again: %d bare GETs, %d at once", cfg.baseline-cfg.baseline/2, inFlight)
	after, err := bareGets(ctx, a.Altinn, fake[:min(cfg.baseline, len(fake))], max(cfg.baseline-cfg.baseline/2, 1), inFlight)
	if err != nil {
		return err
	}
	base := baseResult{calls: before.calls + after.calls, wall: before.wall + after.wall, cpu: before.cpu + after.cpu,
		halves: [2]time.Duration{before.cpu / time.Duration(before.calls), after.cpu / time.Duration(after.calls)}}

	r := result{n: cfg.n, wall: wall, cpu: cpu, pgCPU: pgCPU, fetches: int(fetches), sweeps: sweeps.counts()}
	for pattern, c := range statsAfter.Calls {
		if d := c - statsBefore.Calls[pattern]; d > 0 && pattern != "/token" {
			r.altinnCalls += d
			r.byPattern = append(r.byPattern, fmt.Sprintf("%s ×%d", pattern, d))
		}
	}
	if err := store.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'pending' AND error_code IS NULL),
		       (SELECT count(*) FROM onboarding_events WHERE kind = 'altinn_call' AND cause = 'reconciler')
		FROM onboardings`).Scan(&r.stillPending, &r.callEvents); err != nil {
		return fmt.Errorf("check the outcome: %w", err)
	}
	if err := store.Pool.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(1 + coalesce((metadata->>'snoozes')::int, 0)) FILTER (WHERE kind = 'reconcile_batch'), 0)
		FROM river_job WHERE created_at >= $1`, start).Scan(&r.jobRows, &r.batchRuns); err != nil {
		return fmt.Errorf("count River's jobs: %w", err)
	}
	if r.stillPending != cfg.n {
		return fmt.Errorf("%d of %d onboardings are still pending without an error after the reconciliation", r.stillPending, cfg.n)
	}
	printResult(stdout, cfg, r, base, store)
	return nil
}

type result struct {
	n            int
	wall         time.Duration
	cpu, pgCPU   time.Duration
	altinnCalls  int
	byPattern    []string
	fetches      int
	sweeps       []sweep
	stillPending int
	callEvents   int
	jobRows      int // River job rows the reconciliation wrote
	batchRuns    int // runs of reconcile batch jobs (first runs and snoozes)
}

type baseResult struct {
	calls  int
	wall   time.Duration
	cpu    time.Duration
	halves [2]time.Duration // CPU per GET before and after the reconciliation
}

// goalN and goalWall are the goal: 100,000 due onboardings within 5
// minutes with the defaults; goalCPU the process CPU against the bare GET.
const (
	goalN    = 100_000
	goalWall = 5 * time.Minute
	goalCPU  = 2.0
)

func met(ok bool) string {
	if ok {
		return "goal met"
	}
	return "goal NOT met"
}

func printResult(w io.Writer, cfg options, r result, b baseResult, store *db.DB) {
	var version string
	_ = store.Pool.QueryRow(context.Background(), `SHOW server_version`).Scan(&version)
	fmt.Fprintf(w, "\n%d pending onboardings sharing %d simulator requests (answering after %s); the service's settings: %d job workers (%d calls at once), sweep every %s; PostgreSQL %s, %s/%s, GOMAXPROCS %d, %s\n",
		cfg.n, cfg.requests, cfg.latency, cfg.workers, cfg.workers*jobs.PerBatch, cfg.sweep, version, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Now().Format("2006-01-02"))
	fmt.Fprintf(w, "process CPU: this process (service, River, Altinn and Maskinporten clients, simulator); baseline: %d bare GETs of the same requests, as many at once\n\n", b.calls)

	started := 0
	var each []string
	for _, sw := range r.sweeps {
		if sw.started > 0 {
			started++
			due := strconv.Itoa(sw.due)
			if sw.due >= 2*cfg.workers*jobs.ReconcileBatch {
				due += "+" // the sweep counts no further
			}
			each = append(each, fmt.Sprintf("%s due→%d slots", due, sw.started))
		}
	}
	perOnb := func(d time.Duration) time.Duration { return d / time.Duration(r.n) }
	basePer := b.cpu / time.Duration(b.calls)
	callsPer := float64(r.altinnCalls) / float64(r.n)
	cpuRatio := (float64(r.cpu) / float64(r.n)) / (float64(b.cpu) / float64(b.calls))
	fmt.Fprintf(w, "%-44s %11s %11s %8s\n", "figure", "reconcile", "bare GET", "ratio")
	fmt.Fprintf(w, "%-44s %11d %11s %8s\n", "sweeps that started reconcile slots", started, "-", "-")
	fmt.Fprintf(w, "%-44s %11d %11s %8s\n", "reconcile batch runs (incl. after a snooze)", r.batchRuns, "-", "-")
	fmt.Fprintf(w, "%-44s %11d %11s %8s\n", "River job rows written", r.jobRows, "-", "-")
	fmt.Fprintf(w, "%-44s %11.2f %11.2f %8s\n", "Altinn calls per onboarding", callsPer, 1.0, benchkit.Ratio(callsPer, 1))
	fmt.Fprintf(w, "%-44s %11d %11s %8s\n", "Maskinporten fetches", r.fetches, "-", "-")
	fmt.Fprintf(w, "%-44s %11s %11s %8s\n", "process CPU per onboarding", benchkit.FmtDur(perOnb(r.cpu)), benchkit.FmtDur(basePer),
		benchkit.Ratio(float64(r.cpu)/float64(r.n), float64(b.cpu)/float64(b.calls)))
	fmt.Fprintf(w, "%-44s %11s %11s %8s\n", "Postgres CPU per onboarding (its backends)", benchkit.FmtDur(perOnb(r.pgCPU)), "-", "-")
	rate, baseRate := float64(r.n)/r.wall.Seconds(), float64(b.calls)/b.wall.Seconds()
	fmt.Fprintf(w, "%-44s %11.0f %11.0f %8s\n", "throughput (per second, wall)", rate, baseRate, benchkit.Ratio(rate, baseRate))
	fmt.Fprintf(w, "%-44s %11s %11s %8s\n", "wall time", r.wall.Round(10*time.Millisecond), b.wall.Round(10*time.Millisecond), "-")
	fmt.Fprintf(w, "\nsweeps that started slots: %s\n", strings.Join(each, ", "))
	fmt.Fprintf(w, "Altinn calls: %s; %d recorded as events; every onboarding still pending without an error\n",
		strings.Join(r.byPattern, ", "), r.callEvents)
	fmt.Fprintf(w, "bare GET: %s of process CPU each before the reconciliation, %s after\n", benchkit.FmtDur(b.halves[0]), benchkit.FmtDur(b.halves[1]))

	fmt.Fprintf(w, "\ngoals (issue 15, goal 3; the service's default settings)\n")
	wall100k, how := r.wall, "measured"
	if r.n != goalN {
		wall100k, how = time.Duration(float64(r.wall)*float64(goalN)/float64(r.n)), fmt.Sprintf("projected from %d at this run's rate; -n %d measures it", r.n, goalN)
	}
	fmt.Fprintf(w, "  wall time for %d onboardings  %10s  ≤ %s  %-13s (%s)\n", goalN, wall100k.Round(time.Second), goalWall, met(wall100k <= goalWall), how)
	fmt.Fprintf(w, "  process CPU / bare GET            %9.2fx  ≤ %.2fx %s\n", cpuRatio, goalCPU, met(cpuRatio <= goalCPU))
	fmt.Fprintf(w, "  Altinn calls per onboarding       %10.2f  = 1.00  %s\n", callsPer, met(r.altinnCalls == r.n))
}

// createRequests creates n requests in the simulator through the app's
// Altinn client, as the wizard would for product p, and returns their ids
// and one confirm URL.
func createRequests(ctx context.Context, ac *altinn.Client, p config.Product, returnURL string, n int) ([]string, string, error) {
	orgs := benchkit.OrgNumbers(n, 2)
	ids := make([]string, n)
	var confirm string
	var mu sync.Mutex
	var next atomic.Int64
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req, _, err := ac.CreateRequest(ctx, altinn.CreateRequest{
					SystemID: p.SystemID, PartyOrgNo: orgs[i], Rights: rights(p.Rights), AccessPackages: packages(p.AccessPackages),
					RedirectURL: returnURL + "?ref=seed" + strconv.Itoa(i),
				})
				if err != nil {
					errc <- fmt.Errorf("create request %d in the simulator: %w", i, err)
					return
				}
				ids[i] = req.ID
				mu.Lock()
				confirm = req.ConfirmURL
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, "", err
	}
	return ids, confirm, nil
}

func rights(ids []string) []altinn.Right {
	out := make([]altinn.Right, 0, len(ids))
	for _, id := range ids {
		out = append(out, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: id}}})
	}
	return out
}

func packages(urns []string) []altinn.AccessPackage {
	out := make([]altinn.AccessPackage, 0, len(urns))
	for _, u := range urns {
		out = append(out, altinn.AccessPackage{URN: u})
	}
	return out
}

var seedColumns = []string{"ref", "product", "kind", "system_id", "org_no", "external_ref", "status",
	"altinn_request_id", "confirm_url", "lang", "created_at", "updated_at", "status_at", "next_check_at", "origin"}

// seed copies n pending onboardings of product p, each with an Altinn
// request id of its own, as the wizard leaves them: created two hours ago,
// so their next check (at the age of one hour) is due. It returns the
// request ids.
func seed(ctx context.Context, store *db.DB, p config.Product, n int, confirmURL string) ([]string, error) {
	orgs := benchkit.OrgNumbers(n, 1)
	ids := make([]string, n)
	rows := make([][]any, n)
	created := time.Now().Add(-2 * time.Hour)
	due := created.Add(time.Hour)
	for i := range n {
		id, err := uuid.NewRandom()
		if err != nil {
			return nil, err
		}
		u := pgtype.UUID{Bytes: id, Valid: true}
		ids[i] = id.String()
		ref := make([]byte, 16)
		if _, err := rand.Read(ref); err != nil {
			return nil, err
		}
		rows[i] = []any{base64.RawURLEncoding.EncodeToString(ref), p.ID, p.Kind, p.SystemID, orgs[i], orgs[i], domain.StatusPending,
			u, confirmURL, "nb", created, created, created, due, "wizard"}
	}
	if _, err := store.Pool.CopyFrom(ctx, pgx.Identifier{"onboardings"}, seedColumns, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("copy onboardings: %w", err)
	}
	return ids, nil
}

// bareGets makes calls GETs of ids (cycling) through ac, c at once, and
// measures the wall and process CPU time they take.
func bareGets(ctx context.Context, ac *altinn.Client, ids []string, calls, c int) (baseResult, error) {
	var next atomic.Int64
	errc := make(chan error, c)
	var wg sync.WaitGroup
	cpu := benchkit.SelfCPU()
	start := time.Now()
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				if _, err := ac.GetRequest(ctx, ids[i%len(ids)]); err != nil {
					errc <- fmt.Errorf("baseline GET: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	r := baseResult{calls: calls, wall: time.Since(start), cpu: benchkit.SelfCPU() - cpu}
	close(errc)
	return r, <-errc
}

// idMap stands in front of the simulator: a GET of a request id it knows is
// answered with the simulator's answer for the real request behind it, with
// the id put back. Every other call goes straight through.
type idMap struct {
	next    http.Handler
	ids     atomic.Pointer[map[string]string]
	latency time.Duration // before answering a mapped GET (-latency)
}

const requestPath = "/authentication/api/v1/systemuser/request/vendor/"

func (m *idMap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, requestPath)
	var realID string
	if ids := m.ids.Load(); ok && ids != nil && r.Method == http.MethodGet {
		realID = (*ids)[id]
	}
	if realID == "" {
		m.next.ServeHTTP(w, r)
		return
	}
	if m.latency > 0 {
		t := time.NewTimer(m.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	r.URL.Path, r.URL.RawPath = requestPath+realID, ""
	rec := httptest.NewRecorder()
	m.next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(bytes.ReplaceAll(rec.Body.Bytes(), []byte(realID), []byte(id)))
}

// sweepLog records what each sweep found and started, from the sweep's own
// log line.
type sweepLog struct {
	mu     sync.Mutex
	sweeps []sweep
}

type sweep struct{ due, started int }

func (s *sweepLog) counts() []sweep {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sweep(nil), s.sweeps...)
}

func (s *sweepLog) handler(next slog.Handler) slog.Handler { return &sweepHandler{log: s, next: next} }

type sweepHandler struct {
	log  *sweepLog
	next slog.Handler
}

// Enabled lets through what the service logs at its default level, info:
// the sweep's line is an info line.
func (h *sweepHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *sweepHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "reconcile sweep" {
		var sw sweep
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "due":
				sw.due = int(a.Value.Int64())
			case "slots_started":
				sw.started = int(a.Value.Int64())
			}
			return true
		})
		h.log.mu.Lock()
		h.log.sweeps = append(h.log.sweeps, sw)
		h.log.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *sweepHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sweepHandler{log: h.log, next: h.next.WithAttrs(as)}
}

func (h *sweepHandler) WithGroup(name string) slog.Handler {
	return &sweepHandler{log: h.log, next: h.next.WithGroup(name)}
}
