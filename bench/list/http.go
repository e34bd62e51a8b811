package main

// The dashboard's pages through the real server (issue 15, goal 1): the
// whole app (app.Build) on the bench database with the built-in simulator,
// a viewer signed in through the sign-in form, and each page's whole GET
// (status checked, body read) timed next to a SELECT 1 round trip over pgx
// measured just before it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

// goalRatio is issue 15's goal 1: a page's p95 at most this many SELECT 1
// round trips.
const goalRatio = 10

const (
	benchStaffEmail    = "bench-viewer@example.com"
	benchStaffPassword = "bench-viewer-password-0123456789"
)

// server is the app serving the dashboard on loopback, with a browser
// signed in as a viewer.
type server struct {
	web     string // http://127.0.0.1:port
	browser *http.Client
	bare    string // the bare SELECT 1 handler's URL
	close   func()
}

// startServer builds the app on the bench database (its own pool, as the
// service has), serves its web side and the simulator, creates systemUsers
// system users in the simulator for the system-users page, and signs a
// viewer in through the sign-in form.
func startServer(ctx context.Context, benchURL string, pool *pgxpool.Pool, systemUsers int, logf func(string, ...any)) (*server, error) {
	var closers []func()
	s := &server{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	fail := func(err error) (*server, error) { s.close(); return nil, err }

	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { simLn.Close() })
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { webLn.Close() })
	s.web = "http://" + webLn.Addr().String()
	dataDir, err := os.MkdirTemp("", "bench-list-")
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { os.RemoveAll(dataDir) })
	vars, err := benchkit.SimAppVars(benchURL, dataDir, simLn.Addr().String())
	if err != nil {
		return fail(err)
	}
	vars["ONBOARD_PUBLIC_URL"] = s.web
	vars["ONBOARD_ADDR"] = webLn.Addr().String()
	vars["ONBOARD_DEV"] = "true" // plain http on loopback
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return fail(err)
	}
	store, err := db.Open(ctx, benchURL)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, store.Close)
	a, err := app.Build(cfg, store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return fail(err)
	}
	simSrv := &http.Server{Handler: a.Sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go simSrv.Serve(simLn) //nolint:errcheck // ends with Close
	closers = append(closers, func() { simSrv.Close() })
	webSrv := &http.Server{Handler: a.Web, ReadHeaderTimeout: 10 * time.Second}
	go webSrv.Serve(webLn) //nolint:errcheck // ends with Close
	closers = append(closers, func() { webSrv.Close() })

	// The second baseline: a bare handler that does SELECT 1 over the
	// bench's pool and writes a few bytes.
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	s.bare = "http://" + bareLn.Addr().String() + "/"
	bareSrv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var one int
		if err := pool.QueryRow(r.Context(), `SELECT 1`).Scan(&one); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})}
	go bareSrv.Serve(bareLn) //nolint:errcheck // ends with Close
	closers = append(closers, func() { bareSrv.Close() })

	if err := systemUsersInSim(ctx, a, cfg, systemUsers); err != nil {
		return fail(err)
	}
	if err := ensureStaff(ctx, store); err != nil {
		return fail(err)
	}
	jar, _ := cookiejar.New(nil)
	s.browser = &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := s.signIn(); err != nil {
		return fail(err)
	}
	logf("server on %s, a viewer signed in, %d system users in the simulator", s.web, systemUsers)
	return s, nil
}

// ensureStaff creates the bench's viewer the way `onboard staff add` does,
// unless a kept database has it already.
func ensureStaff(ctx context.Context, store *db.DB) error {
	if _, err := store.StaffByEmail(ctx, benchStaffEmail); err == nil {
		return nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	hash, err := password.Hash(benchStaffPassword)
	if err != nil {
		return err
	}
	_, err = store.CreateStaff(ctx, db.NewStaff{Email: benchStaffEmail, PasswordHash: hash, Role: domain.RoleViewer, Actor: "bench/list"})
	return err
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func (s *server) signIn() error {
	body, status, err := s.get(s.web + "/admin/login")
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("sign-in page: %d %v", status, err)
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return errors.New("sign-in page: no CSRF token")
	}
	res, err := s.browser.PostForm(s.web+"/admin/login", url.Values{"email": {benchStaffEmail}, "password": {benchStaffPassword},
		"_csrf": {m[1]}})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body) //nolint:errcheck // drained for reuse
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: %d, want 303", res.StatusCode)
	}
	if _, status, err := s.get(s.web + "/admin/onboardings"); err != nil || status != http.StatusOK {
		return fmt.Errorf("after sign-in the list answers %d (%v)", status, err)
	}
	return nil
}

func (s *server) get(u string) (string, int, error) {
	res, err := s.browser.Get(u)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res.StatusCode, err
}

// systemUsersInSim creates n requests for the first product in the
// simulator and approves them, so the system-users page lists n system
// users (the app's own database knows none of them).
func systemUsersInSim(ctx context.Context, a *app.App, cfg *config.Config, n int) error {
	p := cfg.Products[0]
	orgs := benchkit.OrgNumbers(n, 5)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var rights []altinn.Right
			for _, r := range p.Rights {
				rights = append(rights, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: r}}})
			}
			var pkgs []altinn.AccessPackage
			for _, u := range p.AccessPackages {
				pkgs = append(pkgs, altinn.AccessPackage{URN: u})
			}
			req, _, err := a.Altinn.CreateRequest(ctx, altinn.CreateRequest{SystemID: p.SystemID, PartyOrgNo: orgs[i],
				Rights: rights, AccessPackages: pkgs, RedirectURL: cfg.ReturnURL() + "?ref=bench" + strconv.Itoa(i)})
			if err == nil {
				err = a.Sim.Approve(req.ID)
			}
			if err != nil {
				errc <- fmt.Errorf("system user %d in the simulator: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// page is one dashboard page to measure: path gives run i's path (a
// search cycles through sampled values), or an absolute URL for the bare
// baseline.
type page struct {
	name string
	path func(i int) string
}

func fixed(path string) func(int) string { return func(int) string { return path } }

// http measures the pages through the server.
func (b *bench) http(ctx context.Context, benchURL string) error {
	s, err := b.samples(ctx)
	if err != nil {
		return err
	}
	deep, err := b.cursorAt(ctx, db.ListFilter{}, 20)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, benchURL, b.pool, b.cfg.systemUsers, b.log)
	if err != nil {
		return err
	}
	defer srv.close()

	// Periods as the date fields send them, ending on the seed's last day.
	last := seedEnd.AddDate(0, 0, -1).Format(time.DateOnly)
	year := "from=" + seedEnd.AddDate(-1, 0, 0).Format(time.DateOnly) + "&to=" + last
	month := "from=" + seedEnd.AddDate(0, -1, 0).Format(time.DateOnly) + "&to=" + last
	week := "from=" + seedEnd.AddDate(-1, 0, 0).Format(time.DateOnly) + "&to=" + seedEnd.AddDate(-1, 0, 6).Format(time.DateOnly)
	search := func(values []string) func(int) string {
		return func(i int) string { return listPath + "?q=" + url.QueryEscape(values[i%len(values)]) }
	}
	ps := []page{
		{"baseline: bare handler doing SELECT 1", fixed(srv.bare)},
		{"list: first page", fixed(listPath)},
		{"list: page 21 (cursor)", fixed(listPath + "?after=" + url.QueryEscape(deep))},
		{"filter: status=pending", fixed(listPath + "?status=pending")},
		{"filter: status=expired", fixed(listPath + "?status=expired")},
		{"filter: kind=agent", fixed(listPath + "?kind=agent")},
		{"filter: escalated", fixed(listPath + "?escalated=1")},
		{"filter: escalated+kind=agent", fixed(listPath + "?escalated=1&kind=agent")},
		{"filter: usability=not_usable", fixed(listPath + "?usability=not_usable")},
		{"filter: created last 12 months", fixed(listPath + "?" + year)},
		{"filter: created last month", fixed(listPath + "?" + month)},
		{"filter: created a week a year ago", fixed(listPath + "?" + week)},
		{"filter: agent+escalated+12 months", fixed(listPath + "?kind=agent&escalated=1&" + year)},
		{"filter: rejected+agent+week", fixed(listPath + "?status=rejected&kind=agent&" + week)},
		{"search: org number (spaced)", search(s.orgNo)},
		{"search: Altinn request id", search(s.requestID)},
		{"search: onboarding id", search(s.id)},
		{"search: customer ref", search(s.customerRef)},
		{"search: no match", fixed(listPath + "?q=no-such-thing")},
		{"funnel: default (30 days to today)", fixed("/admin/funnel")},
		{"funnel: 30 days to the seed's end", fixed("/admin/funnel?from=" + seedEnd.AddDate(0, 0, -30).Format(time.DateOnly) + "&to=" + last)},
		{"funnel: 12 months", fixed("/admin/funnel?" + year)},
		{"funnel: 2 years (the longest)", fixed("/admin/funnel?from=" + seedEnd.AddDate(-2, 0, 0).Format(time.DateOnly) + "&to=" + last)},
		{"problems", fixed("/admin/problems")},
		{"system users (" + strconv.Itoa(b.cfg.systemUsers) + " in Altinn)", fixed("/admin/systemusers")},
	}
	if b.cfg.pagesRE != "" {
		re, err := regexp.Compile(b.cfg.pagesRE)
		if err != nil {
			return fmt.Errorf("-pages: %w", err)
		}
		ps = slices.DeleteFunc(ps, func(p page) bool { return !re.MatchString(p.name) && !strings.HasPrefix(p.name, "baseline") })
	}
	b.log("measuring %d pages: %d warm-up and up to %d timed runs each (at most %s a page)", len(ps), b.cfg.warmup,
		b.cfg.pageRuns, b.cfg.pageBudget)
	rs, err := b.pages(ctx, srv, ps, b.cfg.pageBudget)
	if err != nil {
		return err
	}
	printPages(b.out, rs)
	return nil
}

const listPath = "/admin/onboardings"

type pageResult struct {
	name           string
	p50, p95       time.Duration
	base50, base95 time.Duration // the interleaved SELECT 1's
	runs, bytes    int
	isBaseline     bool
}

// pages measures each page's whole GET, a SELECT 1 round trip before each
// run. A page gets runs timed runs after warmup, fewer when they would take
// longer than budget (at least 20).
func (b *bench) pages(ctx context.Context, s *server, ps []page, budget time.Duration) ([]pageResult, error) {
	var out []pageResult
	var prof *os.File
	if b.cfg.cpuprofile != "" {
		f, err := os.Create(b.cfg.cpuprofile)
		if err != nil {
			return nil, err
		}
		prof = f
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer func() { pprof.StopCPUProfile(); prof.Close() }()
	}
	for _, p := range ps {
		getPage := func(i int) (int, error) {
			u := p.path(i)
			if !strings.HasPrefix(u, "http") {
				u = s.web + u
			}
			body, status, err := s.get(u)
			if err != nil {
				return 0, err
			}
			if status != http.StatusOK {
				return 0, fmt.Errorf("%s: status %d: %.300s", u, status, body)
			}
			return len(body), nil
		}
		start := time.Now()
		for i := range b.cfg.warmup {
			if _, err := getPage(i); err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			if i >= 2 && time.Since(start) > budget/4 { // a slow page: enough warming
				break
			}
		}
		var times, base []time.Duration
		size := 0
		for i := 0; i < b.cfg.pageRuns; i++ {
			t0 := time.Now()
			var one int
			if err := b.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
				return nil, fmt.Errorf("SELECT 1: %w", err)
			}
			base = append(base, time.Since(t0))
			t0 = time.Now()
			n, err := getPage(b.cfg.warmup + i)
			times = append(times, time.Since(t0))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			size = n
			if i >= 19 && time.Since(start) > budget {
				break
			}
		}
		slices.Sort(times)
		slices.Sort(base)
		r := pageResult{name: p.name, p50: percentile(times, 50), p95: percentile(times, 95),
			base50: percentile(base, 50), base95: percentile(base, 95), runs: len(times), bytes: size,
			isBaseline: strings.HasPrefix(p.path(0), "http")}
		out = append(out, r)
		b.log("  %-40s p50 %8s  p95 %8s  (SELECT 1 p50 %s p95 %s, %d runs)", p.name, fmtDur(r.p50), fmtDur(r.p95),
			fmtDur(r.base50), fmtDur(r.base95), r.runs)
	}
	return out, nil
}

func printPages(w io.Writer, rs []pageResult) (met, notMet int) {
	fmt.Fprintf(w, "\nDashboard pages through the server (whole GET, body read; a viewer signed in). Goal: p95 <= %dx a SELECT 1 round trip's p95 in the same run.\n\n", goalRatio)
	fmt.Fprintf(w, "%-40s %9s %9s %9s %9s %8s %8s %6s %8s  %s\n", "page", "p50", "p95", "SEL1 p50", "SEL1 p95",
		"p50/SEL1", "p95/SEL1", "runs", "bytes", "goal")
	for _, r := range rs {
		ratio := float64(r.p95) / float64(r.base95)
		verdict := "goal met"
		switch {
		case r.isBaseline:
			verdict = "(baseline)"
		case ratio > goalRatio:
			verdict = "goal NOT met"
			notMet++
		default:
			met++
		}
		fmt.Fprintf(w, "%-40s %9s %9s %9s %9s %7.1fx %7.1fx %6d %8d  %s\n", r.name, fmtDur(r.p50), fmtDur(r.p95),
			fmtDur(r.base50), fmtDur(r.base95), float64(r.p50)/float64(r.base50), ratio, r.runs, r.bytes, verdict)
	}
	fmt.Fprintf(w, "\n%d pages meet the goal, %d do not\n", met, notMet)
	return met, notMet
}
