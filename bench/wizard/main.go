// Command wizard measures the wizard's organisation-number submit under
// concurrent load, and the service's memory idle and under that load. It
// builds cmd/onboard with go build and runs it as two processes, `onboard
// sim` (the simulated Altinn and Maskinporten) and `onboard serve` pointed
// at it, on a fresh database. Many browsers, each with its own cookies and
// CSRF token, submit distinct valid organisation numbers over loopback HTTP;
// every submit stores the onboarding, creates the request in the simulator
// and answers 303 to its confirm page. The baseline is this same program
// run as a bare Echo server whose handler does one INSERT into the same
// table, driven the same way. See bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/wizard:", err)
		os.Exit(1)
	}
}

type options struct {
	c        int
	duration time.Duration
	warmup   time.Duration
	idle     time.Duration
	profile  string        // a folder for the service's CPU and heap profiles ("": none)
	soak     time.Duration // run the soak of mixed traffic instead (soak.go)
	soakRate float64       // the soak's requests per second
	bare     string        // internal: serve the baseline on this address
}

// The submit the browsers make: the default product of the single-system
// settings.
// The org form gives the CSRF token; the submit that stores the onboarding,
// creates the request at Altinn and answers 303 to its confirm page is the
// company page's "yes" (since the company step, 83e51d3), without the
// register look (checked=false).
const (
	formPath   = "/onboard/standard/org"
	submitPath = "/onboard/standard/confirm"
)

// The goals (issue 15, goal 2 and 5).
const (
	goalThroughput = 0.7 // the service's submits per second at least this times the baseline's
	goalP99        = 2.0 // its p99 at most this times the baseline's
	goalIdleRSS    = 1.5 // its idle VmRSS at most this times the bare process's
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("wizard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.c, "c", 32, "browsers submitting at once")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "timed load per server")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "untimed load before it")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "how long a started server sits idle before its idle memory is read")
	fs.StringVar(&o.profile, "profile", "", "write the service's CPU profile under load and heap profiles into this folder (a build with net/http/pprof on a side port)")
	fs.DurationVar(&o.soak, "soak", 0, "instead: a soak of mixed traffic this long against the service, its memory sampled every 10 s (e.g. 10m)")
	fs.Float64Var(&o.soakRate, "soak-rate", 50, "the soak's requests per second, all kinds together")
	fs.StringVar(&o.bare, "serve-bare", "", "internal: run the baseline server on this address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.bare != "" {
		return serveBare(ctx, o.bare, getenv)
	}
	if o.c < 1 || o.duration <= 0 || o.warmup < 0 || o.idle < 0 || o.soak < 0 || o.soakRate <= 0 {
		return errors.New("-c, -duration and -soak-rate must be positive, -warmup, -idle and -soak not negative")
	}
	admin, err := benchkit.AdminURL(getenv, "wizard")
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	tmp, err := os.MkdirTemp("", "bench-wizard-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	bin := filepath.Join(tmp, "onboard")
	buildArgs := []string{"build", "-o", bin}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		buildArgs = append(buildArgs, "-tags", "benchpprof") // cmd/onboard/pprof_bench.go
	}
	build := exec.CommandContext(ctx, "go", append(buildArgs, "github.com/onboard-altinn/onboard/cmd/onboard")...)
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/onboard: %w", err)
	}
	logf("built onboard in %s", time.Since(start).Round(100*time.Millisecond))
	self, err := os.Executable()
	if err != nil {
		return err
	}

	onboardDB, dropOnboard, err := benchkit.NewDatabase(ctx, admin, "wizard")
	if err != nil {
		return err
	}
	defer dropOnboard()

	// The simulator has a process of its own, so the service's memory and
	// CPU are its own; the baseline calls the same process.
	simAddr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	webAddr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	simURL, webURL := "http://"+simAddr, "http://"+webAddr
	common := map[string]string{"ONBOARD_DATA_DIR": tmp, "ONBOARD_PUBLIC_URL": webURL}
	simProc, err := startProcess(ctx, filepath.Join(tmp, "sim.log"), bin, []string{"sim"}, common, map[string]string{
		"ONBOARD_ALTINN_ENV": "sim", "ONBOARD_SIM_ADDR": simAddr, "ONBOARD_SIM_PUBLIC_URL": simURL,
		"ONBOARD_SIM_STATE": "off", // Altinn's side is not what is measured
	})
	if err != nil {
		return err
	}
	defer simProc.stop()
	if err := simProc.waitReady(ctx, simURL+"/.well-known/oauth-authorization-server"); err != nil {
		return err
	}
	// The settings the service and the baseline share: the service's
	// defaults pointed at the simulator the way it runs against TT02.
	altinnVars := map[string]string{
		"ONBOARD_ALTINN_ENV":             "custom",
		"ONBOARD_ALTINN_BASE_URL":        simURL,
		"ONBOARD_MASKINPORTEN_ISSUER":    simURL + "/",
		"ONBOARD_MASKINPORTEN_CLIENT_ID": "onboard-dev", // what `onboard sim` registers for the dev key
		"ONBOARD_MASKINPORTEN_KID":       "onboard-dev-key",
		"ONBOARD_MASKINPORTEN_KEY_FILE":  filepath.Join(tmp, "maskinporten-dev.pem"),
		"ONBOARD_ALTINN_CONFIRM_HOSTS":   simAddr,
		"ONBOARD_DEV":                    "true", // plain http on loopback
		"ONBOARD_SESSION_KEY":            "0123456789abcdef0123456789abcdef-bench",
	}
	serveVars := map[string]string{
		"DATABASE_URL":                   onboardDB,
		"ONBOARD_ADDR":                   webAddr,
		"ONBOARD_SUBMIT_RATE_PER_MINUTE": "1000000000", // one address plays every browser
	}
	pprofAddr := ""
	if o.profile != "" {
		if pprofAddr, err = benchkit.FreeAddr(); err != nil {
			return err
		}
		serveVars["ONBOARD_BENCH_PPROF"] = pprofAddr
	}
	if o.soak > 0 {
		return runSoak(ctx, o, soakSetup{bin: bin, tmp: tmp, common: common, altinnVars: altinnVars, serveVars: serveVars,
			webURL: webURL, simURL: simURL, simProc: simProc, dbURL: onboardDB, pprofAddr: pprofAddr}, stdout, logf)
	}
	// The reconciler's first look at a pending onboarding is a minute after
	// it started (the default schedule): within this run it would re-read
	// the first turn's onboardings from Altinn during the later turns, work
	// the submit causes a minute later and bench/reconcile measures. Here
	// the first look is an hour away, so the turns measure the submit.
	serveVars["ONBOARD_RECONCILE_SCHEDULE"] = "1h,6h,24h"
	serveProc, err := startProcess(ctx, filepath.Join(tmp, "serve.log"), bin, []string{"serve"}, common, altinnVars, serveVars)
	if err != nil {
		return err
	}
	defer serveProc.stop()
	if err := serveProc.waitReady(ctx, webURL+"/readyz"); err != nil {
		return err
	}
	// Idle means after start-up, whose last part is the set-up checks
	// (they run once the service listens, then start-up's memory goes back).
	if err := serveProc.waitLog(ctx, `"msg":"setup checks"`); err != nil {
		return err
	}

	// The baseline, on a fresh database of its own, against the same
	// simulator process, up at the same time: the two take turns.
	bareDB, dropBare, err := benchkit.NewDatabase(ctx, admin, "wizard_bare")
	if err != nil {
		return err
	}
	defer dropBare()
	bareAddr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	bareProc, err := startProcess(ctx, filepath.Join(tmp, "bare.log"), self, []string{"-serve-bare", bareAddr}, common, altinnVars,
		map[string]string{"DATABASE_URL": bareDB})
	if err != nil {
		return err
	}
	defer bareProc.stop()
	if err := bareProc.waitReady(ctx, "http://"+bareAddr+"/healthz"); err != nil {
		return err
	}
	logf("onboard serve (pid %d), the bare server (pid %d) and onboard sim (pid %d) are up",
		serveProc.pid(), bareProc.pid(), simProc.pid())
	onboard := &target{name: "onboard", url: webURL, proc: serveProc, sim: simProc, csrf: true, dbURL: onboardDB,
		location: simURL + "/", orgSeed: 3, pprofAddr: pprofAddr}
	bare := &target{name: "bare", url: "http://" + bareAddr, proc: bareProc, sim: simProc, dbURL: bareDB,
		location: simURL + "/", orgSeed: 4}
	if err := measure(ctx, o, []*target{onboard, bare}, logf); err != nil {
		return err
	}
	serveProc.stop()
	bareProc.stop()
	simProc.stop()
	stored, err := countByStatus(ctx, onboardDB)
	if err != nil {
		return err
	}

	printResults(stdout, o, onboard.res, bare.res)
	fmt.Fprintf(stdout, "\nonboardings the service stored (warm-up included): %s\n", stored)
	if o.profile != "" {
		fmt.Fprintf(stdout, "profiles of the service: go tool pprof -top %s %s\n", filepath.Join(o.profile, "onboard"), filepath.Join(o.profile, "cpu.pprof"))
		// The binary goes with the profiles (tmp is removed).
		if b, err := os.ReadFile(bin); err == nil {
			_ = os.WriteFile(filepath.Join(o.profile, "onboard"), b, 0o755)
		}
	}
	if err := onboard.res.failed(); err != nil {
		return fmt.Errorf("onboard: %w", err)
	}
	return bare.res.failed()
}

// target is one server under load.
type target struct {
	name      string
	url       string
	proc      *process
	sim       *process // the simulator it calls
	dbURL     string   // its database
	csrf      bool     // the browser opens the form first for its CSRF cookie and token
	location  string   // how a good answer's Location starts
	orgSeed   int
	pprofAddr string // the server's net/http/pprof ("": none)

	orgs     []string
	next     atomic.Int64
	browsers []*http.Client
	tokens   []string
	res      result
}

type result struct {
	submits  int
	errors   int
	firstErr string
	window   time.Duration
	lat      []time.Duration // sorted
	idle     uint64          // VmRSS before the load
	idleMem  benchkit.Memory // its split: private (RssAnon) and file pages (RssFile)
	peak     uint64          // highest VmRSS sampled during the load
	after    uint64          // VmRSS right after it
	cpu      time.Duration   // the server's process CPU in the timed windows
	simCPU   time.Duration   // the simulator's
	pgCPU    time.Duration   // the Postgres backends' serving its database (-1: not readable)
	idleCPU  time.Duration   // its process's CPU per second idle
	idlePG   time.Duration   // its Postgres backends' CPU per second idle
}

func (r result) perSecond() float64 { return float64(r.submits) / r.window.Seconds() }

// perSubmit is d shared among the timed submits.
func (r result) perSubmit(d time.Duration) time.Duration {
	if r.submits == 0 || d < 0 {
		return 0
	}
	return d / time.Duration(r.submits)
}

func (r result) failed() error {
	if r.errors > r.submits/100 {
		return fmt.Errorf("%d of %d submits failed, e.g. %s", r.errors, r.submits+r.errors, r.firstErr)
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// rounds is how many turns each server's timed load is split into: the
// servers take turns (A B B A A B), so a change in the machine's load
// (other work on a shared machine) falls on both alike.
const rounds = 3

// measure reads the idle memory of the targets, opens o.c browsers on each,
// warms each up, then runs the timed load in turns, sampling each server's
// memory while it is loaded and reading its CPU, the simulator's and its
// Postgres backends' around each of its turns.
func measure(ctx context.Context, o options, ts []*target, logf func(string, ...any)) error {
	// What each does while idle, in its process and in Postgres (the
	// service's background jobs poll).
	idleFrom := time.Now()
	cpu0, pg0 := make([]time.Duration, len(ts)), make([]map[int]time.Duration, len(ts))
	pools := make([]*pgxpool.Pool, len(ts))
	for i, t := range ts {
		pool, err := pgxpool.New(ctx, t.dbURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		pools[i] = pool
		pg0[i], _ = benchkit.BackendsCPU(ctx, pool)
		cpu0[i], _ = benchkit.PidCPU(t.proc.pid())
	}
	time.Sleep(o.idle)
	for i, t := range ts {
		m, err := benchkit.PidMemory(t.proc.pid())
		if err != nil {
			return err
		}
		t.res.idle, t.res.idleMem = m.RSS, m
		secs := time.Since(idleFrom).Seconds()
		cpu1, _ := benchkit.PidCPU(t.proc.pid())
		pg1, _ := benchkit.BackendsCPU(ctx, pools[i])
		t.res.idleCPU = time.Duration(float64(cpu1-cpu0[i]) / secs)
		t.res.idlePG = time.Duration(float64(benchkit.CPUSince(pg0[i], pg1)) / secs)
		logf("%s: idle VmRSS %s; idle CPU %s/s in its process, %s/s in Postgres", t.name, benchkit.MiB(t.res.idle),
			benchkit.FmtDur(t.res.idleCPU), benchkit.FmtDur(t.res.idlePG))
		if t.pprofAddr != "" {
			if err := fetchProfile(ctx, "http://"+t.pprofAddr+"/debug/pprof/heap?gc=1", filepath.Join(o.profile, "heap-idle.pprof")); err != nil {
				return err
			}
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: o.c, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	for _, t := range ts {
		t.orgs = benchkit.OrgNumbers(400_000, t.orgSeed)
		for range o.c {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: tr, Jar: jar, Timeout: time.Minute,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			token := ""
			if t.csrf {
				var err error
				if token, err = openForm(ctx, c, t.url+formPath); err != nil {
					return err
				}
			}
			t.browsers, t.tokens = append(t.browsers, c), append(t.tokens, token)
		}
		if err := t.load(ctx, o.warmup, false, ""); err != nil {
			return err
		}
	}
	logf("%d browsers each; %s of timed load each, in %d turns", o.c, o.duration, rounds)
	turn := o.duration / rounds
	for i := range rounds {
		for j := range ts {
			t := ts[j]
			if i%2 == 1 {
				t = ts[len(ts)-1-j]
			}
			profile := ""
			if i == 0 && t.pprofAddr != "" {
				profile = filepath.Join(o.profile, "cpu.pprof")
			}
			if err := t.load(ctx, turn, true, profile); err != nil {
				return err
			}
		}
	}
	for _, t := range ts {
		if t.pprofAddr != "" {
			// Every allocation since the start, the load's by far the most.
			if err := fetchProfile(ctx, "http://"+t.pprofAddr+"/debug/pprof/allocs", filepath.Join(o.profile, "allocs.pprof")); err != nil {
				return err
			}
		}
		r := &t.res
		r.window = turn * rounds
		r.submits = len(r.lat)
		r.lat = benchkit.Sorted(r.lat)
		if m, err := benchkit.PidMemory(t.proc.pid()); err == nil {
			r.after = m.RSS
		}
		logf("%s: %d submits (%.0f/s), p50 %s, p99 %s, %d errors; CPU per submit %s (simulator %s, Postgres %s); VmRSS peak %s",
			t.name, r.submits, r.perSecond(), benchkit.FmtDur(benchkit.Percentile(r.lat, 50)), benchkit.FmtDur(benchkit.Percentile(r.lat, 99)),
			r.errors, benchkit.FmtDur(r.perSubmit(r.cpu)), benchkit.FmtDur(r.perSubmit(r.simCPU)), fmtCPU(r, r.pgCPU), benchkit.MiB(r.peak))
	}
	return nil
}

// load runs t's browsers for d; when timed it keeps their latencies and
// errors and adds the CPU used meanwhile to t's result, and when profile is
// set it saves the server's CPU profile of these d there.
func (t *target) load(ctx context.Context, d time.Duration, timed bool, profile string) error {
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if m, err := benchkit.PidMemory(t.proc.pid()); err == nil && m.RSS > peak.Load() {
				peak.Store(m.RSS)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	var pool *pgxpool.Pool
	var pg0 map[int]time.Duration
	if timed {
		var err error
		if pool, err = pgxpool.New(ctx, t.dbURL); err != nil {
			return err
		}
		defer pool.Close()
		pg0, _ = benchkit.BackendsCPU(ctx, pool)
	}
	s0, err1 := benchkit.PidCPU(t.proc.pid())
	m0, err2 := benchkit.PidCPU(t.sim.pid())
	to := time.Now().Add(d)
	profErr := make(chan error, 1)
	if profile != "" {
		go func() {
			profErr <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", t.pprofAddr, max(1, int(d/time.Second))), profile)
		}()
	} else {
		profErr <- nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for b, c := range t.browsers {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var firstErr string
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(to) {
					break
				}
				i := int(t.next.Add(1)) - 1
				if i >= len(t.orgs) {
					break
				}
				if problem := submit(ctx, c, t.url+submitPath, t.orgs[i], t.tokens[b], t.location, ""); problem != "" {
					errs++
					if firstErr == "" {
						firstErr = problem
					}
					continue
				}
				lat = append(lat, time.Since(start))
			}
			if !timed {
				return
			}
			mu.Lock()
			t.res.lat = append(t.res.lat, lat...)
			t.res.errors += errs
			if t.res.firstErr == "" {
				t.res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	s1, err3 := benchkit.PidCPU(t.proc.pid())
	m1, err4 := benchkit.PidCPU(t.sim.pid())
	close(stopSampling)
	<-sampled
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := errors.Join(err1, err2, err3, err4, <-profErr); err != nil {
		return err
	}
	if !timed {
		return nil
	}
	t.res.cpu += s1 - s0
	t.res.simCPU += m1 - m0
	if pg1, err := benchkit.BackendsCPU(ctx, pool); err == nil && pg0 != nil && t.res.pgCPU >= 0 {
		t.res.pgCPU += benchkit.CPUSince(pg0, pg1)
	} else {
		t.res.pgCPU = -1
	}
	t.res.peak = max(t.res.peak, peak.Load())
	return nil
}

// fmtCPU is d per submit of r, or "-" when it could not be read.
func fmtCPU(r *result, d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return benchkit.FmtDur(r.perSubmit(d))
}

// fetchProfile saves what u (a net/http/pprof endpoint) answers to path.
func fetchProfile(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", u, res.Status)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}

// countByStatus says how many onboardings the database at dbURL holds in
// each status.
func countByStatus(ctx context.Context, dbURL string) (string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT status || ' ' || count(*) FROM onboardings GROUP BY status ORDER BY count(*) DESC`)
	if err != nil {
		return "", fmt.Errorf("count onboardings: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("count onboardings: %w", err)
	}
	return strings.Join(counts, ", "), nil
}

// openForm GETs the org-number form and returns its CSRF token; the cookie
// that goes with it stays in the client's jar.
func openForm(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("open the form: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfRE.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("open the form: %d without a CSRF token", res.StatusCode)
	}
	return string(m[1]), nil
}

// submit posts one organisation number and returns "" for a 303 to where a
// good answer goes, or what was wrong.
func submit(ctx context.Context, c *http.Client, u, org, token, location, ip string) string {
	form := url.Values{"orgno": {org}, "checked": {"false"}}
	if token != "" {
		form.Set("_csrf", token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip) // the soak's customers (soak.go)
	}
	res, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, location) {
		return fmt.Sprintf("%d Location %q", res.StatusCode, loc)
	}
	return ""
}

func printResults(w io.Writer, o options, onboard, bare result) {
	fmt.Fprintf(w, "\nwizard submit (POST %s) under load: %d browsers, %s timed after %s warm-up, in %d turns each, loopback, %s/%s, GOMAXPROCS %d, %s\n\n",
		submitPath, o.c, o.duration, o.warmup, rounds, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Now().Format("2006-01-02"))
	p50 := func(r result) time.Duration { return benchkit.Percentile(r.lat, 50) }
	p99 := func(r result) time.Duration { return benchkit.Percentile(r.lat, 99) }
	fmt.Fprintf(w, "%-42s %7s %6s %8s %8s %6s %11s %11s %11s\n", "server", "submits", "per s", "p50", "p99", "errors",
		"CPU/submit", "sim CPU/sub", "pg CPU/sub")
	row := func(name string, r result) {
		fmt.Fprintf(w, "%-42s %7d %6.0f %8s %8s %6d %11s %11s %11s\n", name, r.submits, r.perSecond(),
			benchkit.FmtDur(p50(r)), benchkit.FmtDur(p99(r)), r.errors,
			benchkit.FmtDur(r.perSubmit(r.cpu)), benchkit.FmtDur(r.perSubmit(r.simCPU)), fmtCPU(&r, r.pgCPU))
	}
	row("bare: INSERT, Altinn create, UPDATE, 303", bare)
	row("onboard: the whole submit", onboard)
	per := func(r result, d time.Duration) float64 {
		if d < 0 {
			return 0
		}
		return float64(r.perSubmit(d))
	}
	tput := onboard.perSecond() / bare.perSecond()
	p99r := float64(p99(onboard)) / float64(p99(bare))
	fmt.Fprintf(w, "%-42s %7s %6s %8s %8s %6s %11s %11s %11s\n", "onboard / baseline", "",
		benchkit.Ratio(onboard.perSecond(), bare.perSecond()),
		benchkit.Ratio(float64(p50(onboard)), float64(p50(bare))), benchkit.Ratio(float64(p99(onboard)), float64(p99(bare))), "",
		benchkit.Ratio(per(onboard, onboard.cpu), per(bare, bare.cpu)),
		benchkit.Ratio(per(onboard, onboard.simCPU), per(bare, bare.simCPU)),
		benchkit.Ratio(per(onboard, onboard.pgCPU), per(bare, bare.pgCPU)))
	fmt.Fprintf(w, "\ngoal 2, throughput >= %.1fx the baseline's: %.2fx, %s\n", goalThroughput, tput, met(tput >= goalThroughput))
	fmt.Fprintf(w, "goal 2, p99 <= %.0fx the baseline's: %.2fx, %s\n", goalP99, p99r, met(p99r <= goalP99))
	fmt.Fprintf(w, "the service's process CPU per submit: %s, %s the baseline's %s; the simulator's per submit: %s serving the service, %s serving the baseline\n",
		benchkit.FmtDur(onboard.perSubmit(onboard.cpu)), benchkit.Ratio(per(onboard, onboard.cpu), per(bare, bare.cpu)),
		benchkit.FmtDur(bare.perSubmit(bare.cpu)), benchkit.FmtDur(onboard.perSubmit(onboard.simCPU)), benchkit.FmtDur(bare.perSubmit(bare.simCPU)))

	fmt.Fprintf(w, "idle, CPU per second: the service %s in its process and %s in Postgres (its background jobs), the baseline %s and %s\n",
		benchkit.FmtDur(onboard.idleCPU), benchkit.FmtDur(onboard.idlePG), benchkit.FmtDur(bare.idleCPU), benchkit.FmtDur(bare.idlePG))

	fmt.Fprintf(w, "\n%-42s %10s %14s %12s\n", "resident memory (VmRSS)", "idle", "load (peak)", "after load")
	mem := func(name string, r result) {
		fmt.Fprintf(w, "%-42s %10s %14s %12s\n", name, benchkit.MiB(r.idle), benchkit.MiB(r.peak), benchkit.MiB(r.after))
	}
	mem("bare process (Echo, pgx, Altinn clients)", bare)
	mem("onboard serve process", onboard)
	fmt.Fprintf(w, "%-42s %10s %14s %12s\n", "onboard / baseline",
		benchkit.Ratio(float64(onboard.idle), float64(bare.idle)), benchkit.Ratio(float64(onboard.peak), float64(bare.peak)),
		benchkit.Ratio(float64(onboard.after), float64(bare.after)))
	fmt.Fprintf(w, "idle, private (RssAnon) / file pages (RssFile): the service %s / %s, the bare process %s / %s (%s / %s)\n",
		benchkit.MiB(onboard.idleMem.Anon), benchkit.MiB(onboard.idleMem.File), benchkit.MiB(bare.idleMem.Anon), benchkit.MiB(bare.idleMem.File),
		benchkit.Ratio(float64(onboard.idleMem.Anon), float64(bare.idleMem.Anon)), benchkit.Ratio(float64(onboard.idleMem.File), float64(bare.idleMem.File)))
	idle := float64(onboard.idle) / float64(bare.idle)
	fmt.Fprintf(w, "\ngoal 5, idle VmRSS <= %.1fx the bare process's: %.2fx, %s\n", goalIdleRSS, idle, met(idle <= goalIdleRSS))
}

// met is how a goal is marked.
func met(ok bool) string {
	if ok {
		return "goal met"
	}
	return "goal NOT met"
}

// process is a child this program started.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	once    sync.Once
}

// startProcess runs name with args, with this process's environment less
// any ONBOARD_* setting and DATABASE_URL, plus the given settings; its
// output goes to logPath.
func startProcess(ctx context.Context, logPath, name string, args []string, settings ...map[string]string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONBOARD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, s := range settings {
		for k, v := range s {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// waitReady polls u until it answers 200, the process ends, or 60 s pass.
func (p *process) waitReady(ctx context.Context, u string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-p.done:
			return fmt.Errorf("%s ended before it was ready:\n%s", p.cmd.Path, p.tail())
		default:
		}
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s %v was not ready at %s:\n%s", p.cmd.Path, p.cmd.Args[1:], u, p.tail())
}

// waitLog waits until the process's log holds line, the process ends, or
// 60 s pass.
func (p *process) waitLog(ctx context.Context, line string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if b, err := os.ReadFile(p.logPath); err == nil && strings.Contains(string(b), line) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s ended:\n%s", p.cmd.Path, p.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not log %s within a minute:\n%s", p.cmd.Path, line, p.tail())
}

func (p *process) tail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop asks the process to end (SIGTERM), as a deployment would, and kills
// it when it has not ended 30 s later.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// serveBare is the baseline: Echo with no middleware and one handler that
// does the submit's essential work and nothing else. It checks the
// organisation number, INSERTs the onboarding (into the same table, with
// the same indexes and triggers, as the wizard) before Altinn is called,
// creates the request at Altinn with the same client the service builds
// (app.Clients: the Maskinporten client with its token cache under the
// Altinn client, the same timeouts) against the same simulator process,
// UPDATEs the row with Altinn's answer and answers 303 to the confirm URL.
// The configuration is the service's own (config.Load of the same
// settings), on a pgx pool the size of the service's.
func serveBare(ctx context.Context, addr string, getenv func(string) string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	key, err := maskinporten.ParsePrivateKeyPEM(cfg.MaskinportenKeyPEM)
	if err != nil {
		return err
	}
	// As app.Clients builds them, less the metrics on their transports:
	// the same pooled transport (metrics.Transport's: http.DefaultTransport
	// keeping 256 idle connections to a host), without importing the
	// metrics package (Prometheus) into the bare process.
	pooled := http.DefaultTransport.(*http.Transport).Clone()
	pooled.MaxIdleConns, pooled.MaxIdleConnsPerHost = 512, 256
	mp, err := maskinporten.New(maskinporten.Config{
		Issuer: cfg.MaskinportenIssuer, ClientID: cfg.MaskinportenClientID, KeyID: cfg.MaskinportenKID, Key: key,
		HTTPClient: &http.Client{Timeout: min(10*time.Second, cfg.AltinnTimeout), Transport: pooled},
	})
	if err != nil {
		return err
	}
	alt := altinn.New(cfg.AltinnBaseURL, mp, &http.Client{Timeout: cfg.AltinnTimeout, Transport: pooled})

	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	pcfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Connected before it serves, as the service is (db.Open pings).
	if err := pool.Ping(ctx); err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.POST("/onboard/:product/confirm", func(c echo.Context) error {
		p, ok := config.FindProduct(cfg.Products, c.Param("product"))
		if !ok {
			return echo.ErrNotFound
		}
		n, err := orgno.Normalize(c.FormValue("orgno"))
		if err != nil {
			return c.String(http.StatusUnprocessableEntity, "bad organisation number")
		}
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		ref := base64.RawURLEncoding.EncodeToString(b)
		ctx := c.Request().Context()
		var id string
		if err := pool.QueryRow(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, lang, origin)
			VALUES ($1, $2, $3, $4, $5, $5, 'requesting', 'nb', 'wizard') RETURNING id`,
			ref, p.ID, p.Kind, p.SystemID, n).Scan(&id); err != nil {
			return err
		}
		rights := make([]altinn.Right, 0, len(p.Rights))
		for _, r := range p.Rights {
			rights = append(rights, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: r}}})
		}
		pkgs := make([]altinn.AccessPackage, 0, len(p.AccessPackages))
		for _, u := range p.AccessPackages {
			pkgs = append(pkgs, altinn.AccessPackage{URN: u})
		}
		req, _, err := alt.CreateRequest(ctx, altinn.CreateRequest{SystemID: p.SystemID, PartyOrgNo: n, ExternalRef: n,
			Rights: rights, AccessPackages: pkgs, RedirectURL: cfg.ReturnURL() + "?ref=" + ref})
		if err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, `
			UPDATE onboardings SET status = 'pending', altinn_request_id = $2, confirm_url = $3, checked_at = now(),
				status_at = now(), updated_at = now(), version = version + 1
			WHERE id = $1`, id, req.ID, req.ConfirmURL); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, req.ConfirmURL)
	})
	errc := make(chan error, 1)
	go func() { errc <- e.Start(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.Shutdown(sctx)
}
