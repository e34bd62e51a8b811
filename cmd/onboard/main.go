// Command onboard connects a software vendor's customers to Altinn 3 through
// system users: a customer wizard, the Altinn and Maskinporten clients, and a
// simulator of both built in.
//
//	onboard serve     the web service (and, with ONBOARD_ALTINN_ENV=sim, the simulator)
//	onboard migrate   apply database migrations and exit
//	onboard sim       the Altinn + Maskinporten simulator alone
//	onboard staff     add and list support staff accounts (see staff.go)
//	onboard doctor    check the set-up against Altinn and Maskinporten (see doctor.go)
//	onboard system    show, diff and apply the system register's entry (see doctor.go)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Oslo on machines without zoneinfo

	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/setup"
	"github.com/onboard-altinn/onboard/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "onboard:", err)
		os.Exit(1)
	}
}

const usage = `usage: onboard <command>

commands:
  serve     run the web service (default)
  migrate   apply database migrations and exit
  sim       run the Altinn + Maskinporten simulator alone
  staff     add and list support staff ("onboard staff help")
  doctor    check the set-up against Altinn and Maskinporten, with the fixes
  system    the system register as code: show, diff, apply, changelog ("onboard system help")
  version   print the version

Configuration is read from ONBOARD_* environment variables and DATABASE_URL;
see README.md.`

// version is the release, stamped at build time (make build, make image,
// the Dockerfile: -ldflags "-X main.version=v1.2.3").
var version string

// Version is the stamped version, else the commit the Go toolchain recorded
// (go build in a git checkout), else "devel".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return rev + dirty
		}
	}
	return "devel"
}

// run is the whole program, testable: a test calls it with ":0" addresses and
// a map for getenv, and reads the "listening" log line for the addresses.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if cmd == "version" || cmd == "--version" {
		fmt.Fprintln(stdout, "onboard", Version())
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log)
	case "sim":
		return simOnly(ctx, cfg, log)
	case "staff":
		return staffCommand(ctx, cfg, log, args[1:], stdin, stdout, stderr)
	case "doctor":
		return doctorCommand(ctx, cfg, args[1:], stdout)
	case "system":
		return systemCommand(ctx, cfg, log, args[1:], stdin, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func openDB(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set (`make run` starts a private Postgres and sets it)")
	}
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return db.Open(octx, cfg.DatabaseURL)
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	store, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "count", n)
	return nil
}

// checkSchema refuses a database whose schema (ours or River's) is behind
// this binary's migrations.
func checkSchema(ctx context.Context, store *db.DB) error {
	v, err := store.SchemaCurrent(ctx)
	if err != nil {
		return err
	}
	if v.Behind() {
		return fmt.Errorf("database is behind this binary (%s): run `onboard migrate` first", v)
	}
	return nil
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	store, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	// The pool is closed by the shutdown's last step, within its budget;
	// this is for the ways out before serving.
	var dbClosing atomic.Bool
	defer func() {
		if !dbClosing.Load() {
			store.Close()
		}
	}()
	if cfg.Dev {
		if n, err := store.Migrate(ctx); err != nil {
			return err
		} else if n > 0 {
			log.Info("migrations applied", "count", n)
		}
	} else {
		if err := checkSchema(ctx, store); err != nil {
			return err
		}
	}

	appLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	defer appLn.Close()
	var simLn net.Listener
	simAddr := ""
	if cfg.AltinnEnv == config.EnvSim {
		if simLn, err = net.Listen("tcp", cfg.SimAddr); err != nil {
			return fmt.Errorf("listen %s (simulator): %w", cfg.SimAddr, err)
		}
		defer simLn.Close()
		simAddr = simLn.Addr().String()
	}
	cfg.Bind(appLn.Addr().String(), simAddr)
	log.Info("config", "version", Version(), "settings", cfg.Redacted())

	a, err := app.Build(cfg, store, log)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	web := newServer(notReadyWhile(&draining, a.Web), log)
	servers := []*http.Server{web}
	lns := []net.Listener{appLn}
	// Shut down in order: the load balancer is told to stop sending (the
	// drain), the web service finishes its requests, then the background
	// jobs finish (they may still call the simulator), then the simulator
	// goes.
	var steps []shutdownStep
	if cfg.ShutdownDrain > 0 {
		steps = append(steps, shutdownStep{name: "drain", stop: drain(&draining, cfg.ShutdownDrain)})
	}
	steps = append(steps, shutdownStep{name: "web", stop: web.Shutdown, keep: webShutdownMin})
	if a.Jobs != nil {
		// The jobs run detached from ctx: a signal stops them gracefully,
		// after the web service, rather than cancelling them mid-call.
		if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start background jobs: %w", err)
		}
		steps = append(steps, shutdownStep{name: "jobs", stop: func(ctx context.Context) error { return stopJobs(ctx, a.Jobs) },
			keep: jobsShutdownMin})
	}
	if a.Sim != nil {
		sim := newServer(a.Sim.Handler(), log)
		servers = append(servers, sim)
		lns = append(lns, simLn)
		steps = append(steps, shutdownStep{name: "simulator", stop: sim.Shutdown, keep: simShutdownMin})
	}
	steps = append(steps, shutdownStep{name: "database", stop: closeDB(store, &dbClosing), keep: dbShutdownMin})
	log.Info("listening", "addr", appLn.Addr().String(), "sim_addr", simAddr,
		"url", cfg.PublicURL, "return_url", cfg.ReturnURL())
	stopChecks := logSetupChecks(ctx, a.Setup, log)
	defer stopChecks()
	return serveUntilDone(ctx, log, servers, lns, steps)
}

// setupChecksTimeout bounds the start-up run of the set-up checks.
const setupChecksTimeout = time.Minute

// logSetupChecks runs the set-up checks in the background once the service
// listens, and logs one line of their outcome; it never delays or fails the
// start. The returned func stops them (at shutdown) and waits for them.
func logSetupChecks(ctx context.Context, s *setup.Service, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithTimeout(ctx, setupChecksTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rep := s.Check(ctx)
		if errors.Is(ctx.Err(), context.Canceled) {
			return // shutting down: the outcome would be noise
		}
		level := slog.LevelInfo
		if !rep.OK() {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "setup checks", "ok", rep.Count(setup.OK), "failed", rep.Count(setup.Fail),
			"skipped", rep.Count(setup.Skip), "failing", rep.Failing(),
			"hint", "`onboard doctor` (or the dashboard's Setup page) shows every check with its fix")
		// Start-up is over (the checks were its last part): what only it
		// needed goes back to the kernel (memory.go).
		releaseStartup()
	}()
	return func() {
		cancel()
		<-done
	}
}

// simOnly runs the simulator alone, for a vendor testing its own integration.
// Clients are registered from ONBOARD_SIM_SEED_FILE; the dev key in the data
// folder is registered as ONBOARD_MASKINPORTEN_CLIENT_ID too.
func simOnly(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if cfg.AltinnEnv != config.EnvSim {
		return errors.New("onboard sim needs ONBOARD_ALTINN_ENV=sim (the default)")
	}
	ln, err := net.Listen("tcp", cfg.SimAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.SimAddr, err)
	}
	defer ln.Close()
	cfg.Bind("", ln.Addr().String())
	seed, err := app.SimSeed(cfg)
	if err != nil {
		return err
	}
	s, err := sim.New(sim.Config{PublicURL: cfg.SimPublicURL, Seed: seed, TimeoutMode: cfg.SimTimeouts,
		StatePath: cfg.SimStateFile})
	if err != nil {
		return err
	}
	app.LogSimState(log, s)
	key, created, err := maskinporten.LoadOrCreateKey(cfg.KeyPath())
	if err != nil {
		return err
	}
	if created {
		log.Info("generated a dev Maskinporten key", "path", cfg.KeyPath())
	}
	if err := app.RegisterWithSim(s, cfg, &key.PublicKey); err != nil {
		return err
	}
	if missing := app.SimMissingSystems(s, cfg); len(missing) > 0 {
		log.Warn("the simulator's system register lacks the products' systems: onboard system apply registers them",
			"systems", strings.Join(missing, ","))
	}
	log.Info("listening", "sim_addr", ln.Addr().String(), "issuer", cfg.SimPublicURL+"/",
		"client_id", cfg.MaskinportenClientID, "kid", cfg.MaskinportenKID, "key_file", cfg.KeyPath(),
		"redirect_url", cfg.ReturnURL())
	srv := newServer(s.Handler(), log)
	return serveUntilDone(ctx, log, []*http.Server{srv}, []net.Listener{ln}, []shutdownStep{{name: "simulator", stop: srv.Shutdown}})
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// closeDB is the shutdown's last step: close the pool, which waits for every
// connection to come back, but only until the budget ends (a job that did
// not heed its cancelled context may still hold one); then the program
// ends anyway, within the 30 s.
func closeDB(store *db.DB, closing *atomic.Bool) func(context.Context) error {
	return func(ctx context.Context) error {
		closing.Store(true)
		done := make(chan struct{})
		go func() {
			store.Close()
			close(done)
		}()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("connections still in use: %w", ctx.Err())
		}
	}
}

// notReadyWhile answers the readiness probe 503 while draining is set, and
// passes everything else on: the instance keeps serving while the load
// balancer takes it out.
func notReadyWhile(draining *atomic.Bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && draining.Load() {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "shutting down\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// drain is the shutdown's first step: not ready, still serving, for d (or
// until its share of the budget ends).
func drain(draining *atomic.Bool, d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		draining.Store(true)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return nil
	}
}

// shutdownStep is one part of the program to stop, in order.
type shutdownStep struct {
	name string
	stop func(context.Context) error
	// keep is the part of the shutdown budget no earlier step may use, so
	// that this one has at least that long.
	keep time.Duration
}

// shutdownBudget is the whole shutdown, every step together: Kubernetes'
// default grace period (terminationGracePeriodSeconds) before it kills the
// process.
const shutdownBudget = 30 * time.Second

// The shortest time the later steps keep for themselves: the web service's
// requests in flight (after the drain), the background jobs (their soft
// stop, then their contexts cancelled), the simulator (which the jobs may
// still be calling) and the database pool (closed last, once nothing should
// hold a connection).
const (
	webShutdownMin  = 8 * time.Second
	jobsShutdownMin = 5 * time.Second
	simShutdownMin  = 5 * time.Second
	dbShutdownMin   = 2 * time.Second
)

// jobsHardStop is the last part of the jobs' time, after their contexts are
// cancelled, for them to return.
const jobsHardStop = 2 * time.Second

// stopJobs stops River gracefully: running jobs may finish until jobsHardStop
// before ctx's deadline (or app.JobStopTimeout, River's own soft stop,
// whichever comes first), then their contexts are cancelled and they get the
// rest of ctx to return.
func stopJobs(ctx context.Context, jobs interface {
	Stop(context.Context) error
	StopAndCancel(context.Context) error
}) error {
	soft := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		soft, cancel = context.WithDeadline(ctx, d.Add(-jobsHardStop))
		defer cancel()
	}
	err := jobs.Stop(soft)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return jobs.StopAndCancel(ctx)
}

// serveUntilDone serves until ctx ends (or a server fails), then runs the
// shutdown steps in order within one shutdownBudget: in-flight requests and
// jobs finish, nothing new starts. Each step may use what is left of the
// budget but what the steps after it keep.
func serveUntilDone(ctx context.Context, log *slog.Logger, servers []*http.Server, lns []net.Listener, steps []shutdownStep) error {
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			if err := s.Serve(lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down")
	deadline := time.Now().Add(shutdownBudget)
	var errs []string
	for i, st := range steps {
		// A slow step (a customer's request waiting on Altinn) uses up its
		// own share only: the later ones (River's jobs, the simulator they
		// call) keep theirs, and all end by the one deadline.
		var later time.Duration
		for _, next := range steps[i+1:] {
			later += next.keep
		}
		start := time.Now()
		sctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-later))
		err := st.stop(sctx)
		cancel()
		if err != nil {
			errs = append(errs, st.name+": "+err.Error())
		}
		log.Info("stopped", "part", st.name, "took_ms", time.Since(start).Milliseconds())
	}
	if serveErr != nil {
		return serveErr
	}
	if len(errs) > 0 {
		return fmt.Errorf("shutdown: %s", strings.Join(errs, "; "))
	}
	return nil
}
