// Command campaign measures a bulk campaign: N organisations sent to the
// simulator with an injected latency on every create, at concurrency C and
// rate limit R. It builds the whole app (app.Build, with the simulator) on
// a fresh database, makes the campaign through the same service the
// dashboard uses, starts River and times the campaign from start to done.
// The table sets the time next to its floor, max(N × latency / C, N / R):
// no runner at that concurrency and rate could be faster. It also counts the
// organisations with more than one request at Altinn (must be 0). See
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
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
	n          int
	elapsed    time.Duration
	floor      time.Duration
	duplicates int
	created    int
	failed     int
	cpu        time.Duration
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10_000, "organisations in each campaign")
	latency := fs.Duration("latency", 100*time.Millisecond, "latency injected on every request create at the simulator")
	runs := fs.String("runs", "100x200", "runs as CONCURRENCYxRATE (rate per second), comma-separated")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on a run after this long")
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
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer simLn.Close()
	dataDir, err := os.MkdirTemp("", "bench-campaign-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	vars, err := benchkit.SimAppVars(dbURL, dataDir, simLn.Addr().String())
	if err != nil {
		return err
	}
	vars["ONBOARD_ALTINN_TIMEOUT"] = "30s"
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	simSrv := &http.Server{Handler: a.Sim.Handler()}
	go simSrv.Serve(simLn) //nolint:errcheck // ends with Close
	defer simSrv.Close()
	a.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/authentication/api/v1/systemuser/request/vendor", Latency: *latency})

	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start River: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), app.JobStopTimeout+5*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(sctx)
	}()

	var results []result
	for i, p := range paces {
		orgs := benchkit.OrgNumbers(*n, 1000+i)
		logf("run %d: %d organisations, %d at once, at most %g a second, %v latency", i+1, *n, p.c, p.rate, *latency)
		r, err := runOne(ctx, a, orgs, p, *timeout, logf)
		if err != nil {
			return err
		}
		r.floor = max(time.Duration(float64(*n)*float64(*latency)/float64(p.c)), time.Duration(float64(*n)/p.rate*float64(time.Second)))
		results = append(results, r)
	}
	printResults(stdout, *latency, results)
	for _, r := range results {
		if r.duplicates > 0 || r.created != r.n {
			return fmt.Errorf("run %dx%g: %d duplicates, %d requests for %d organisations", r.c, r.rate, r.duplicates, r.created, r.n)
		}
	}
	return nil
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

func runOne(ctx context.Context, a *app.App, orgs []string, p pace, timeout time.Duration, logf func(string, ...any)) (result, error) {
	r := result{pace: p, n: len(orgs)}
	list := strings.Join(orgs, "\n")
	c, err := a.Campaigns.Create(ctx, campaigns.NewCampaign{Name: fmt.Sprintf("bench %dx%g", p.c, p.rate),
		Product: a.Config.Products[0].ID, Concurrency: p.c, Rate: p.rate, Data: []byte(list), CreatedBy: "bench"})
	if err != nil {
		return r, err
	}
	before := a.Sim.Stats().RequestsCreated
	cpu := benchkit.SelfCPU()
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
	r.cpu = benchkit.SelfCPU() - cpu
	r.created = a.Sim.Stats().RequestsCreated - before
	want := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		want[o] = true
	}
	per := map[string]int{}
	for _, req := range a.Sim.Requests() {
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
	return r, nil
}

func printResults(w io.Writer, latency time.Duration, rs []result) {
	fmt.Fprintf(w, "\ncampaign: N organisations against the simulator with %v on every create\n", latency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tC\tR/s\telapsed\tfloor max(N·lat/C, N/R)\telapsed/floor\twithin 2×\tthroughput/s\tCPU/org\tduplicates\tfailed\t")
	for _, r := range rs {
		within := "yes"
		if r.elapsed > 2*r.floor {
			within = "no"
		}
		fmt.Fprintf(tw, "%d\t%d\t%g\t%s\t%s\t%s\t%s\t%.0f\t%s\t%d\t%d\t\n", r.n, r.c, r.rate,
			benchkit.FmtDur(r.elapsed), benchkit.FmtDur(r.floor), benchkit.Ratio(r.elapsed.Seconds(), r.floor.Seconds()),
			within, float64(r.n)/r.elapsed.Seconds(), benchkit.FmtDur(r.cpu/time.Duration(r.n)), r.duplicates, r.failed)
	}
	tw.Flush()
	fmt.Fprintln(w, "CPU/org is this process's CPU (service and simulator together) per organisation.")
}
