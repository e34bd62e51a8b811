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
	bare     string // internal: serve the baseline on this address
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

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("wizard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.c, "c", 32, "browsers submitting at once")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "timed load per server")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "untimed load before it")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "how long a started server sits idle before its idle memory is read")
	fs.StringVar(&o.bare, "serve-bare", "", "internal: run the baseline server on this address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.bare != "" {
		return serveBare(ctx, o.bare, getenv("DATABASE_URL"))
	}
	if o.c < 1 || o.duration <= 0 || o.warmup < 0 || o.idle < 0 {
		return errors.New("-c and -duration must be positive, -warmup and -idle not negative")
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
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/onboard-altinn/onboard/cmd/onboard")
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
	bareDB, dropBare, err := benchkit.NewDatabase(ctx, admin, "wizard_bare")
	if err != nil {
		return err
	}
	defer dropBare()

	// The service, with the simulator in a process of its own so the
	// service's memory is its own.
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
	serveProc, err := startProcess(ctx, filepath.Join(tmp, "serve.log"), bin, []string{"serve"}, common, map[string]string{
		"DATABASE_URL":                   onboardDB,
		"ONBOARD_ADDR":                   webAddr,
		"ONBOARD_DEV":                    "true", // plain http on loopback
		"ONBOARD_ALTINN_ENV":             "custom",
		"ONBOARD_ALTINN_BASE_URL":        simURL,
		"ONBOARD_MASKINPORTEN_ISSUER":    simURL + "/",
		"ONBOARD_MASKINPORTEN_CLIENT_ID": "onboard-dev", // what `onboard sim` registers for the dev key
		"ONBOARD_MASKINPORTEN_KID":       "onboard-dev-key",
		"ONBOARD_MASKINPORTEN_KEY_FILE":  filepath.Join(tmp, "maskinporten-dev.pem"),
		"ONBOARD_ALTINN_CONFIRM_HOSTS":   simAddr,
		"ONBOARD_SESSION_KEY":            "0123456789abcdef0123456789abcdef-bench",
		"ONBOARD_SUBMIT_RATE_PER_MINUTE": "1000000000", // one address plays every browser
	})
	if err != nil {
		return err
	}
	defer serveProc.stop()
	if err := serveProc.waitReady(ctx, webURL+"/readyz"); err != nil {
		return err
	}
	logf("onboard serve (pid %d) and onboard sim (pid %d) are up", serveProc.pid(), simProc.pid())
	onboard, err := measure(ctx, o, target{name: "onboard", url: webURL, proc: serveProc, csrf: true,
		location: simURL + "/", orgSeed: 3}, logf)
	if err != nil {
		return err
	}
	serveProc.stop()
	simProc.stop()
	if onboard.stored, err = countByStatus(ctx, onboardDB); err != nil {
		return err
	}

	bareAddr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	bareProc, err := startProcess(ctx, filepath.Join(tmp, "bare.log"), self, []string{"-serve-bare", bareAddr}, nil,
		map[string]string{"DATABASE_URL": bareDB})
	if err != nil {
		return err
	}
	defer bareProc.stop()
	if err := bareProc.waitReady(ctx, "http://"+bareAddr+"/healthz"); err != nil {
		return err
	}
	logf("bare Echo server (pid %d) is up", bareProc.pid())
	bare, err := measure(ctx, o, target{name: "bare", url: "http://" + bareAddr, proc: bareProc,
		location: "/status/", orgSeed: 4}, logf)
	if err != nil {
		return err
	}
	bareProc.stop()

	printResults(stdout, o, onboard, bare)
	fmt.Fprintf(stdout, "\nonboardings the service stored (warm-up included): %s\n", onboard.stored)
	if err := onboard.failed(); err != nil {
		return fmt.Errorf("onboard: %w", err)
	}
	return bare.failed()
}

// target is one server under load.
type target struct {
	name     string
	url      string
	proc     *process
	csrf     bool   // the browser opens the form first for its CSRF cookie and token
	location string // how a good answer's Location starts
	orgSeed  int
}

type result struct {
	submits  int
	errors   int
	firstErr string
	window   time.Duration
	lat      []time.Duration // sorted
	idle     uint64          // VmRSS before the load
	peak     uint64          // highest VmRSS sampled during the load
	after    uint64          // VmRSS right after it
	stored   string          // the onboardings stored, by status
}

func (r result) perSecond() float64 { return float64(r.submits) / r.window.Seconds() }

func (r result) failed() error {
	if r.errors > r.submits/100 {
		return fmt.Errorf("%d of %d submits failed, e.g. %s", r.errors, r.submits+r.errors, r.firstErr)
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// measure reads the idle memory of t, then runs o.c browsers against it for
// the warm-up and the timed window, sampling its memory as they go.
func measure(ctx context.Context, o options, t target, logf func(string, ...any)) (result, error) {
	var r result
	time.Sleep(o.idle)
	m, err := benchkit.PidMemory(t.proc.pid())
	if err != nil {
		return r, err
	}
	r.idle = m.RSS
	logf("%s: idle VmRSS %s; %d browsers for %s + %s", t.name, benchkit.MiB(r.idle), o.c, o.warmup, o.duration)

	orgs := benchkit.OrgNumbers(400_000, t.orgSeed)
	var next atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: o.c, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()

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

	t0 := time.Now()
	from, to := t0.Add(o.warmup), t0.Add(o.warmup+o.duration)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var setupErr error
	for range o.c {
		wg.Go(func() {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: tr, Jar: jar, Timeout: time.Minute,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			token := ""
			if t.csrf {
				var err error
				if token, err = openForm(ctx, c, t.url+formPath); err != nil {
					mu.Lock()
					setupErr = err
					mu.Unlock()
					return
				}
			}
			var lat []time.Duration
			var errs int
			var firstErr string
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(to) {
					break
				}
				i := int(next.Add(1)) - 1
				if i >= len(orgs) {
					break
				}
				problem := submit(ctx, c, t.url+submitPath, orgs[i], token, t.location)
				if start.Before(from) {
					continue
				}
				if problem != "" {
					errs++
					if firstErr == "" {
						firstErr = problem
					}
					continue
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.errors += errs
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stopSampling)
	<-sampled
	if setupErr != nil {
		return r, setupErr
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.window = o.duration
	r.submits = len(r.lat)
	r.lat = benchkit.Sorted(r.lat)
	r.peak = peak.Load()
	if m, err := benchkit.PidMemory(t.proc.pid()); err == nil {
		r.after = m.RSS
	}
	logf("%s: %d submits (%.0f/s), p50 %s, p99 %s, %d errors; VmRSS peak %s", t.name, r.submits, r.perSecond(),
		benchkit.FmtDur(benchkit.Percentile(r.lat, 50)), benchkit.FmtDur(benchkit.Percentile(r.lat, 99)), r.errors, benchkit.MiB(r.peak))
	return r, nil
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
func submit(ctx context.Context, c *http.Client, u, org, token, location string) string {
	form := url.Values{"orgno": {org}, "checked": {"false"}}
	if token != "" {
		form.Set("_csrf", token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
	fmt.Fprintf(w, "\nwizard submit (POST %s) under load: %d browsers, %s timed after %s warm-up, loopback, %s/%s, GOMAXPROCS %d, %s\n\n",
		submitPath, o.c, o.duration, o.warmup, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Now().Format("2006-01-02"))
	p50 := func(r result) time.Duration { return benchkit.Percentile(r.lat, 50) }
	p99 := func(r result) time.Duration { return benchkit.Percentile(r.lat, 99) }
	fmt.Fprintf(w, "%-40s %8s %9s %9s %9s %7s\n", "server", "submits", "per s", "p50", "p99", "errors")
	row := func(name string, r result) {
		fmt.Fprintf(w, "%-40s %8d %9.0f %9s %9s %7d\n", name, r.submits, r.perSecond(),
			benchkit.FmtDur(p50(r)), benchkit.FmtDur(p99(r)), r.errors)
	}
	row("bare Echo + one INSERT (baseline)", bare)
	row("onboard: store, Altinn create, 303", onboard)
	fmt.Fprintf(w, "%-40s %8s %9s %9s %9s\n", "onboard / baseline", "",
		benchkit.Ratio(onboard.perSecond(), bare.perSecond()),
		benchkit.Ratio(float64(p50(onboard)), float64(p50(bare))), benchkit.Ratio(float64(p99(onboard)), float64(p99(bare))))

	fmt.Fprintf(w, "\n%-40s %10s %14s %12s\n", "resident memory (VmRSS)", "idle", "load (peak)", "after load")
	mem := func(name string, r result) {
		fmt.Fprintf(w, "%-40s %10s %14s %12s\n", name, benchkit.MiB(r.idle), benchkit.MiB(r.peak), benchkit.MiB(r.after))
	}
	mem("bare Echo + pgx process (baseline)", bare)
	mem("onboard serve process", onboard)
	fmt.Fprintf(w, "%-40s %10s %14s %12s\n", "onboard / baseline",
		benchkit.Ratio(float64(onboard.idle), float64(bare.idle)), benchkit.Ratio(float64(onboard.peak), float64(bare.peak)),
		benchkit.Ratio(float64(onboard.after), float64(bare.after)))
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
// checks the organisation number, inserts one onboarding (into the same
// table, with the same indexes, as the wizard) and answers 303, on a pgx
// pool the size of the service's.
func serveBare(ctx context.Context, addr, dbURL string) error {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.POST("/onboard/:product/confirm", func(c echo.Context) error {
		n, err := orgno.Normalize(c.FormValue("orgno"))
		if err != nil {
			return c.String(http.StatusUnprocessableEntity, "bad organisation number")
		}
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		ref := base64.RawURLEncoding.EncodeToString(b)
		if _, err := pool.Exec(c.Request().Context(), `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status)
			VALUES ($1, $2, 'standard', '991825827_smartcloud', $3, $3, 'requesting')`, ref, c.Param("product"), n); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/status/"+ref)
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
