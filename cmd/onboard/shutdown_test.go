package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

// TestShutdownSharesOneBudget runs the shutdown steps of `onboard serve` in
// sim mode and checks that they share one shutdownBudget: every step's
// context ends by one deadline at most 30 s after the shutdown began, the web
// drain leaves the jobs and the simulator their minimum, and the jobs leave
// the simulator its own. (Before, each step had 20 s of its own: up to 60 s.)
func TestShutdownSharesOneBudget(t *testing.T) {
	t.Parallel()
	if shutdownBudget > 30*time.Second {
		t.Fatalf("shutdownBudget is %v, past Kubernetes' default 30 s grace", shutdownBudget)
	}
	var order []string
	deadlines := map[string]time.Time{}
	step := func(name string, keep time.Duration) shutdownStep {
		return shutdownStep{name: name, keep: keep, stop: func(ctx context.Context) error {
			d, ok := ctx.Deadline()
			if !ok {
				t.Errorf("step %s has no deadline", name)
			}
			order = append(order, name)
			deadlines[name] = d
			return nil
		}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal has already come
	before := time.Now()
	err := serveUntilDone(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, []shutdownStep{
		step("web", 0), step("jobs", jobsShutdownMin), step("simulator", simShutdownMin), step("database", dbShutdownMin),
	})
	after := time.Now()
	if err != nil {
		t.Fatalf("serveUntilDone: %v", err)
	}
	if got := strings.Join(order, ","); got != "web,jobs,simulator,database" {
		t.Fatalf("steps ran as %v, want web, jobs, simulator, database", order)
	}
	end := deadlines["database"]
	if end.Before(before.Add(shutdownBudget)) || end.After(after.Add(shutdownBudget)) {
		t.Errorf("the last step ends %v after the shutdown began, want the whole budget %v", end.Sub(before), shutdownBudget)
	}
	for _, c := range []struct {
		name string
		want time.Duration // before the one deadline
	}{
		{"web", jobsShutdownMin + simShutdownMin + dbShutdownMin},
		{"jobs", simShutdownMin + dbShutdownMin},
		{"simulator", dbShutdownMin},
		{"database", 0},
	} {
		if got := end.Sub(deadlines[c.name]); got != c.want {
			t.Errorf("step %s ends %v before the shared deadline, want %v", c.name, got, c.want)
		}
	}
	if web := deadlines["web"].Sub(before); web < 15*time.Second {
		t.Errorf("the web drain gets %v, want at least 15 s for requests waiting on Altinn", web)
	}
}

// TestShutdownWithoutSimulator: in production there is no simulator step, so
// the jobs may use the budget to its end but for the database's part.
func TestShutdownWithoutSimulator(t *testing.T) {
	t.Parallel()
	deadlines := map[string]time.Time{}
	step := func(name string, keep time.Duration) shutdownStep {
		return shutdownStep{name: name, keep: keep, stop: func(ctx context.Context) error {
			deadlines[name], _ = ctx.Deadline()
			return nil
		}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := time.Now()
	if err := serveUntilDone(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil,
		[]shutdownStep{step("web", 0), step("jobs", jobsShutdownMin), step("database", dbShutdownMin)}); err != nil {
		t.Fatalf("serveUntilDone: %v", err)
	}
	if got := deadlines["jobs"].Sub(deadlines["web"]); got != jobsShutdownMin {
		t.Errorf("the web drain ends %v before the jobs' deadline, want %v", got, jobsShutdownMin)
	}
	if got, want := deadlines["jobs"].Sub(before), shutdownBudget-dbShutdownMin; got < want || got > want+5*time.Second {
		t.Errorf("the jobs end %v after the shutdown began, want %v", got, want)
	}
	if got := deadlines["database"].Sub(before); got < shutdownBudget || got > shutdownBudget+5*time.Second {
		t.Errorf("the database step ends %v after the shutdown began, want the whole budget %v", got, shutdownBudget)
	}
}

// TestShutdownStepErrorsAndServerStops: a failing step does not stop the
// later ones, its error names it, and a real server step stops its server.
func TestShutdownStepErrorsAndServerStops(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err = serveUntilDone(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []*http.Server{srv}, []net.Listener{ln}, []shutdownStep{
		{name: "jobs", stop: func(context.Context) error { return errors.New("stuck") }, keep: jobsShutdownMin},
		{name: "web", stop: func(ctx context.Context) error { ran = true; return srv.Shutdown(ctx) }},
	})
	if err == nil || err.Error() != "shutdown: jobs: stuck" {
		t.Errorf("serveUntilDone = %v, want shutdown: jobs: stuck", err)
	}
	if !ran {
		t.Error("the step after the failing one did not run")
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after the shutdown = %v, want http.ErrServerClosed", err)
	}
}

// fakeJobs records how stopJobs stops River.
type fakeJobs struct {
	stopErr       error // nil: the soft stop finishes; otherwise it waits for its context
	softDeadline  time.Time
	hardDeadline  time.Time
	stopAndCancel bool
}

func (f *fakeJobs) Stop(ctx context.Context) error {
	f.softDeadline, _ = ctx.Deadline()
	if f.stopErr == nil {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeJobs) StopAndCancel(ctx context.Context) error {
	f.stopAndCancel = true
	f.hardDeadline, _ = ctx.Deadline()
	return nil
}

// TestStopJobs: jobs that finish in time are stopped softly; jobs still
// running jobsHardStop before the step's deadline get their contexts
// cancelled, with the rest of the step to return.
func TestStopJobs(t *testing.T) {
	t.Parallel()
	t.Run("finished in time", func(t *testing.T) {
		t.Parallel()
		end := time.Now().Add(10 * time.Second)
		ctx, cancel := context.WithDeadline(context.Background(), end)
		defer cancel()
		f := &fakeJobs{}
		if err := stopJobs(ctx, f); err != nil {
			t.Fatalf("stopJobs: %v", err)
		}
		if f.stopAndCancel {
			t.Error("jobs that stopped in time were cancelled")
		}
		if got := end.Sub(f.softDeadline); got != jobsHardStop {
			t.Errorf("the soft stop ends %v before the step's deadline, want %v", got, jobsHardStop)
		}
	})
	t.Run("still running", func(t *testing.T) {
		t.Parallel()
		// Less than jobsHardStop left: the soft stop is already over.
		end := time.Now().Add(jobsHardStop / 2)
		ctx, cancel := context.WithDeadline(context.Background(), end)
		defer cancel()
		f := &fakeJobs{stopErr: context.DeadlineExceeded}
		if err := stopJobs(ctx, f); err != nil {
			t.Fatalf("stopJobs: %v", err)
		}
		if !f.stopAndCancel {
			t.Fatal("jobs still running at the end of the soft stop were not cancelled")
		}
		if !f.hardDeadline.Equal(end) {
			t.Errorf("the hard stop ends at %v, want the step's deadline %v", f.hardDeadline, end)
		}
	})
}

// TestDrainComesFirstAndLeavesTheRest: the drain step (ONBOARD_SHUTDOWN_DRAIN)
// runs before the web service stops and may use only what the web service's
// requests, the jobs and the simulator do not keep.
func TestDrainComesFirstAndLeavesTheRest(t *testing.T) {
	t.Parallel()
	var draining atomic.Bool
	var order []string
	var drainEnds time.Time
	steps := []shutdownStep{
		{name: "drain", stop: func(ctx context.Context) error {
			drainEnds, _ = ctx.Deadline()
			order = append(order, "drain")
			return drain(&draining, time.Millisecond)(ctx)
		}},
		{name: "web", keep: webShutdownMin, stop: func(context.Context) error {
			if !draining.Load() {
				t.Error("the web service stopped before the drain began")
			}
			order = append(order, "web")
			return nil
		}},
		{name: "jobs", keep: jobsShutdownMin, stop: func(context.Context) error { order = append(order, "jobs"); return nil }},
		{name: "simulator", keep: simShutdownMin, stop: func(context.Context) error { order = append(order, "simulator"); return nil }},
		{name: "database", keep: dbShutdownMin, stop: func(context.Context) error { order = append(order, "database"); return nil }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := time.Now()
	if err := serveUntilDone(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, steps); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "drain,web,jobs,simulator,database" {
		t.Fatalf("steps ran as %v", order)
	}
	if most := shutdownBudget - webShutdownMin - jobsShutdownMin - simShutdownMin - dbShutdownMin; drainEnds.Sub(before) > most+time.Second {
		t.Errorf("the drain may run %v, want at most %v", drainEnds.Sub(before), most)
	}
	if most := shutdownBudget - webShutdownMin - jobsShutdownMin - simShutdownMin - dbShutdownMin; most < config.MaxShutdownDrain {
		t.Errorf("the budget leaves the drain %v, less than ONBOARD_SHUTDOWN_DRAIN's %v", most, config.MaxShutdownDrain)
	}
	rec := httptest.NewRecorder()
	notReadyWhile(&draining, http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %d", rec.Code)
	}
}

// TestCloseDBEndsWithItsBudget: a connection someone never gives back (a
// job that ignored its cancelled context) does not hold the program past
// its shutdown: the pool's close is given up on when the step's time ends.
func TestCloseDBEndsWithItsBudget(t *testing.T) {
	t.Parallel()
	store, err := db.Open(context.Background(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := store.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var closing atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = closeDB(store, &closing)(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second || !closing.Load() {
		t.Fatalf("closeDB with a connection held: %v after %v", err, time.Since(start))
	}
	conn.Release() // the pool's close then finishes
	if err := closeDB(store, &closing)(context.Background()); err != nil {
		t.Errorf("closeDB once nothing is held: %v", err)
	}
}
