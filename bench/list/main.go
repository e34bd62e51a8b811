// Command list measures the support dashboard's list queries on a million
// onboardings: it creates its own database on the server in DATABASE_URL,
// seeds it with realistic rows, and prints p50 and p95 latency for the list,
// each filter, each kind of search, the counts and a streamed export, next to
// a bare SELECT 1 round trip measured in the same run. See bench/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

const dbName = "onboard_bench_list"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/list:", err)
		os.Exit(1)
	}
}

type options struct {
	rows        int
	runs        int
	warmup      int
	keep        bool
	explain     bool
	dbTable     bool
	pageRuns    int
	pageBudget  time.Duration
	systemUsers int
	cpuprofile  string
	pagesRE     string
	insertsFor  time.Duration
	writers     int
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg options
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.rows, "rows", 1_000_000, "onboardings to seed")
	fs.IntVar(&cfg.runs, "runs", 200, "timed runs per query (db methods)")
	fs.IntVar(&cfg.warmup, "warmup", 20, "untimed runs per query or page before the timed ones")
	fs.BoolVar(&cfg.keep, "keep", true, "keep the database afterwards, and reuse it when it already has -rows rows (-keep=false drops it)")
	fs.BoolVar(&cfg.dbTable, "db", true, "also measure the db methods alone (the first table)")
	fs.IntVar(&cfg.pageRuns, "page-runs", 200, "timed runs per page through the server")
	fs.DurationVar(&cfg.pageBudget, "page-budget", 8*time.Second, "stop a page's timed runs after this long (at least 20 runs)")
	fs.IntVar(&cfg.systemUsers, "systemusers", 200, "system users in the simulator for the system-users page")
	fs.DurationVar(&cfg.insertsFor, "inserts", 4*time.Second, "how long each variant of the concurrent-insert comparison runs (0: skip it)")
	fs.IntVar(&cfg.writers, "writers", 16, "concurrent writers in the insert comparison")
	fs.StringVar(&cfg.pagesRE, "pages", "", "measure only the pages whose names match this regular expression (and the baseline)")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of the page runs (this process: the server and the client) to this file")
	fs.BoolVar(&cfg.explain, "explain", false, "print EXPLAIN (ANALYZE, BUFFERS) of each measured query")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.rows < 1000 || cfg.runs < 1 || cfg.warmup < 0 {
		return errors.New("-rows must be at least 1000, -runs at least 1 and -warmup not negative")
	}
	admin := getenv("DATABASE_URL")
	if admin == "" {
		return errors.New("DATABASE_URL is not set (try: DATABASE_URL=$(scripts/devdb.sh start) go run ./bench/list)")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	benchURL, err := prepareDatabase(ctx, admin, cfg.keep)
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer dropDatabase(admin) //nolint:errcheck // best effort at exit
	}
	d, err := db.Open(ctx, benchURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	var have int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM onboardings`).Scan(&have); err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	if have != cfg.rows {
		if have > 0 {
			logf("database has %d rows, want %d: seeding again", have, cfg.rows)
			if _, err := d.Pool.Exec(ctx, `TRUNCATE onboardings CASCADE`); err != nil {
				return fmt.Errorf("truncate: %w", err)
			}
		}
		start := time.Now()
		// The summary's trigger is off while COPY loads the rows, and the
		// summary is rebuilt from them after, as the migration's backfill
		// does: a million trigger calls would double the seeding time.
		if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings DISABLE TRIGGER onboarding_counts_insert`); err != nil {
			return err
		}
		if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings DISABLE TRIGGER funnel_counts_insert`); err != nil {
			return err
		}
		if err := seed(ctx, d.Pool, cfg.rows, logf); err != nil {
			return err
		}
		if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings ENABLE TRIGGER onboarding_counts_insert`); err != nil {
			return err
		}
		if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings ENABLE TRIGGER funnel_counts_insert`); err != nil {
			return err
		}
		rb := time.Now()
		if _, err := d.Pool.Exec(ctx, `SELECT onboarding_counts_rebuild()`); err != nil {
			return fmt.Errorf("rebuild the counts: %w", err)
		}
		rbc := time.Since(rb)
		rb = time.Now()
		if _, err := d.Pool.Exec(ctx, `SELECT funnel_counts_rebuild()`); err != nil {
			return fmt.Errorf("rebuild the funnel's summary: %w", err)
		}
		logf("seeded %d rows in %s (the counts' summary rebuilt in %s, the funnel's in %s)", cfg.rows,
			time.Since(start).Round(time.Second), rbc.Round(10*time.Millisecond), time.Since(rb).Round(10*time.Millisecond))
	} else {
		logf("reusing %d rows in %s", have, dbName)
	}
	// A run stopped while seeding leaves the triggers off.
	if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings ENABLE TRIGGER onboarding_counts_insert`); err != nil {
		return err
	}
	if _, err := d.Pool.Exec(ctx, `ALTER TABLE onboardings ENABLE TRIGGER funnel_counts_insert`); err != nil {
		return err
	}
	// Autovacuum would do this on a live table; it sets the visibility map
	// that index-only scans (the counts) depend on, and gives the planner
	// statistics.
	start := time.Now()
	if _, err := d.Pool.Exec(ctx, `VACUUM (ANALYZE) onboardings`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	logf("vacuum analyze in %s", time.Since(start).Round(100*time.Millisecond))

	// A second store whose pool remembers the last statement, for -explain.
	// Measurements use it too, so plans and timings come from one pool.
	tr := &lastQuery{}
	pcfg, err := pgxpool.ParseConfig(benchURL)
	if err != nil {
		return err
	}
	pcfg.ConnConfig.Tracer = tr
	pcfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := &db.DB{Pool: pool}

	b := &bench{cfg: cfg, store: store, pool: pool, tr: tr, out: stdout, log: logf}
	if cfg.dbTable {
		if err := b.all(ctx); err != nil {
			return err
		}
	}
	if err := b.http(ctx, benchURL); err != nil {
		return err
	}
	if cfg.insertsFor > 0 {
		rs, err := inserts(ctx, admin, cfg.writers, cfg.insertsFor, logf)
		if err != nil {
			return err
		}
		printInserts(stdout, rs, cfg.writers, cfg.insertsFor)
	}
	return nil
}

// prepareDatabase creates the bench database, dropping an old one first
// unless keep asks to reuse it, and returns its URL.
func prepareDatabase(ctx context.Context, admin string, keep bool) (string, error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbName).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for %s: %w", dbName, err)
	}
	if exists && !keep {
		if _, err := conn.Exec(ctx, `DROP DATABASE `+dbName+` WITH (FORCE)`); err != nil {
			return "", fmt.Errorf("drop %s: %w", dbName, err)
		}
		exists = false
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+dbName); err != nil {
			return "", fmt.Errorf("create %s: %w", dbName, err)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	u.Path = "/" + dbName
	return u.String(), nil
}

func dropDatabase(admin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`)
	return err
}

// Seeding.

var seedColumns = []string{"id", "ref", "product", "kind", "system_id", "org_no", "external_ref", "status",
	"escalated", "altinn_request_id", "confirm_url", "system_user_id", "error_code", "error_message",
	"customer_ref", "lang", "created_at", "updated_at", "checked_at", "connected_at", "status_at", "usable", "usable_since"}

// seedEnd is fixed so that two runs seed the same rows.
var seedEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

const seedSpan = 2 * 365 * 24 * time.Hour

// seed copies n onboardings in created_at order, as a live table would have
// received them, in batches on two connections.
func seed(ctx context.Context, pool *pgxpool.Pool, n int, logf func(string, ...any)) error {
	orgs := orgNumbers(n)
	const batch = 50_000
	batches := make(chan int)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range 2 {
		wg.Go(func() {
			for first := range batches {
				last := min(first+batch, n)
				src := &seedRows{orgs: orgs, i: first - 1, end: last, n: n, rng: rand.New(rand.NewPCG(uint64(first), 7411))}
				if _, err := pool.CopyFrom(ctx, pgx.Identifier{"onboardings"}, seedColumns, src); err != nil {
					errs <- fmt.Errorf("copy rows %d-%d: %w", first, last, err)
					return
				}
				mu.Lock()
				done += last - first
				if done%(batch*4) == 0 || done == n {
					logf("seeded %d/%d", done, n)
				}
				mu.Unlock()
			}
		})
	}
	var err error
feed:
	for first := 0; first < n; first += batch {
		select {
		case batches <- first:
		case err = <-errs:
			break feed
		}
	}
	close(batches)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err = <-errs:
		return err
	default:
		return nil
	}
}

// orgNumbers returns n distinct organisation numbers with valid mod-11 check
// digits, starting with 8 or 9 like real ones, in a scattered order.
func orgNumbers(n int) []uint32 {
	const space = 20_000_000 // eight-digit bases 80000000..99999999
	out := make([]uint32, 0, n)
	for j := 0; len(out) < n && j < space; j++ {
		base := 80_000_000 + (j*7919+12345)%space // 7919 is prime to the space: a permutation
		if c := checkDigit(base); c >= 0 {
			out = append(out, uint32(base*10+c))
		}
	}
	return out
}

func checkDigit(base int) int {
	weights := [8]int{2, 3, 4, 5, 6, 7, 2, 3} // from the last digit of the base
	sum := 0
	for _, w := range weights {
		sum += base % 10 * w
		base /= 10
	}
	switch c := 11 - sum%11; c {
	case 11:
		return 0
	case 10:
		return -1
	default:
		return c
	}
}

// seedRows generates rows first..end-1 for CopyFrom.
type seedRows struct {
	orgs   []uint32
	i, end int
	n      int
	rng    *rand.Rand
	row    []any
}

func (s *seedRows) Next() bool { s.i++; return s.i < s.end }
func (s *seedRows) Err() error { return nil }

func (s *seedRows) Values() ([]any, error) {
	r := s.rng
	// Density grows linearly over the two years: a vendor that is growing.
	created := seedEnd.Add(-seedSpan).Add(time.Duration(math.Sqrt(float64(s.i)/float64(s.n)) * float64(seedSpan)))
	created = created.Add(time.Duration(r.IntN(60_000_000)) * time.Microsecond).Truncate(time.Microsecond)
	age := seedEnd.Sub(created)

	kind, product, system := "standard", "regnskap", "991825827_regnskap"
	switch x := r.IntN(100); {
	case x < 20:
		kind, product, system = "agent", "klient", "991825827_klient"
	case x < 45:
		product, system = "lonn", "991825827_lonn"
	}
	org := fmt.Sprintf("%09d", s.orgs[s.i])
	externalRef := org
	if r.IntN(10) == 0 {
		externalRef = fmt.Sprintf("K%07d", s.i)
	}
	var customerRef *string
	if r.IntN(100) < 35 {
		c := fmt.Sprintf("C%08d", s.n-s.i)
		customerRef = &c
	}
	status := pickStatus(r, age)
	escalated := r.Float64() < escalatedShare[status]

	var requestID, systemUserID pgtype.UUID
	var confirmURL, errCode, errMsg *string
	var connectedAt *time.Time
	if status != domain.StatusStarted && status != domain.StatusFailed {
		requestID = randomUUID(r)
		u := "https://authn.ui.tt02.altinn.no/authfront/ui/auth/vendorrequest?id=" + uuid.UUID(requestID.Bytes).String() + "&DONTCHOOSEREPORTEE=true"
		confirmURL = &u
	}
	switch status {
	case domain.StatusConnected, domain.StatusRevoked:
		systemUserID = randomUUID(r)
		t := created.Add(time.Duration(r.IntN(72*3600)) * time.Second)
		connectedAt = &t
	case domain.StatusFailed:
		c, m := "AUTH-00011", "Rights not delegable by this system"
		errCode, errMsg = &c, &m
	case domain.StatusRejected:
		m := "The customer rejected the request"
		errMsg = &m
	}
	updated := created.Add(time.Duration(r.IntN(14*24*3600)) * time.Second)
	if updated.After(seedEnd) {
		updated = seedEnd
	}
	checked := updated
	lang := "nb"
	switch x := r.IntN(100); {
	case x < 10:
		lang = "en"
	case x < 15:
		lang = "nn"
	}
	ref := make([]byte, 16)
	for i := range ref {
		ref[i] = byte(r.Uint32())
	}
	// Connected ones have mostly been found usable; a few not (the
	// Problems page's section), some not checked yet.
	var usable *bool
	var usableSince *time.Time
	if status == domain.StatusConnected {
		switch x := r.IntN(100); {
		case x < 90:
			usable = new(true)
		case x < 92:
			usable = new(false)
		}
		if usable != nil {
			usableSince = &updated
		}
	}
	s.row = append(s.row[:0], randomUUID(r), base64.RawURLEncoding.EncodeToString(ref), product, kind, system,
		org, externalRef, status, escalated, requestID, confirmURL, systemUserID, errCode, errMsg,
		customerRef, lang, created, updated, checked, connectedAt, updated, usable, usableSince)
	return s.row, nil
}

// escalatedShare is the chance a row of each status carries the escalated
// flag: mostly requests that sat pending, about 3% of all rows.
var escalatedShare = map[domain.Status]float64{
	domain.StatusPending: 0.30, domain.StatusExpired: 0.15, domain.StatusRejected: 0.10, domain.StatusFailed: 0.20,
	domain.StatusConnected: 0.015, domain.StatusRevoked: 0.02, domain.StatusCancelled: 0.05,
}

// pickStatus draws a status like a real vendor's: recent rows are still in
// flight, older ones have settled, mostly as connected.
func pickStatus(r *rand.Rand, age time.Duration) domain.Status {
	type share struct {
		status domain.Status
		pct    float64
	}
	var mix []share
	switch {
	case age < 24*time.Hour:
		mix = []share{{domain.StatusStarted, 6}, {domain.StatusRequesting, 3}, {domain.StatusPending, 40}, {domain.StatusAccepted, 2},
			{domain.StatusFailed, 3}, {domain.StatusRejected, 2}}
	case age < 30*24*time.Hour:
		mix = []share{{domain.StatusStarted, 3}, {domain.StatusRequesting, 0.5}, {domain.StatusPending, 9}, {domain.StatusAccepted, 0.5},
			{domain.StatusFailed, 3}, {domain.StatusRejected, 5}, {domain.StatusExpired, 3}, {domain.StatusCancelled, 2}}
	default:
		mix = []share{{domain.StatusStarted, 2.5}, {domain.StatusRequesting, 0.2}, {domain.StatusPending, 0.3}, {domain.StatusAccepted, 0.3},
			{domain.StatusFailed, 2}, {domain.StatusRejected, 4}, {domain.StatusExpired, 5.5}, {domain.StatusCancelled, 2.5}, {domain.StatusRevoked, 3}}
	}
	x := r.Float64() * 100
	for _, m := range mix {
		if x < m.pct {
			return m.status
		}
		x -= m.pct
	}
	return domain.StatusConnected
}

// randomUUID is a version 4 uuid made by google/uuid from r's bytes, so the
// data set is the same for a seed.
func randomUUID(r *rand.Rand) pgtype.UUID {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	u, err := uuid.NewRandomFromReader(bytes.NewReader(b[:]))
	if err != nil {
		panic(err) // 16 bytes are there to read
	}
	return pgtype.UUID{Bytes: u, Valid: true}
}

// Measuring.

type bench struct {
	cfg   options
	store *db.DB
	pool  *pgxpool.Pool
	tr    *lastQuery
	out   io.Writer
	log   func(string, ...any)

	results []result
	// base holds every SELECT 1 timing of the run, taken between the runs
	// of the queries.
	base []time.Duration
}

type result struct {
	name     string
	p50, p95 time.Duration
	rows     int
	// base is the p50 of the SELECT 1 runs interleaved with this query's
	// runs, so a change in the machine's load during the run cancels out
	// of the ratio.
	base time.Duration
}

// samples are real values picked from the seeded rows, so each search finds
// something; runs cycle through them rather than asking for one hot row.
type samples struct {
	orgNo, requestID, id, systemUserID, externalRef, customerRef, ref []string
}

func (b *bench) all(ctx context.Context) error {
	s, err := b.samples(ctx)
	if err != nil {
		return err
	}
	b.log("measuring: %d warm-up and %d timed runs per query", b.cfg.warmup, b.cfg.runs)

	list := func(f db.ListFilter) func(context.Context, int) (int, error) {
		return func(ctx context.Context, _ int) (int, error) {
			p, err := b.store.ListOnboardings(ctx, f)
			return len(p.Items), err
		}
	}
	search := func(values []string) func(context.Context, int) (int, error) {
		return func(ctx context.Context, i int) (int, error) {
			p, err := b.store.ListOnboardings(ctx, db.ListFilter{Query: values[i%len(values)]})
			if err == nil && len(p.Items) == 0 {
				err = fmt.Errorf("search %q found nothing", values[i%len(values)])
			}
			return len(p.Items), err
		}
	}
	deep, err := b.cursorAt(ctx, db.ListFilter{}, 20)
	if err != nil {
		return err
	}
	lastMonth := db.ListFilter{CreatedFrom: seedEnd.AddDate(0, -1, 0), CreatedTo: seedEnd}
	lastQuarter := db.ListFilter{CreatedFrom: seedEnd.AddDate(0, -3, 0), CreatedTo: seedEnd}
	lastYear := db.ListFilter{CreatedFrom: seedEnd.AddDate(-1, 0, 0), CreatedTo: seedEnd}
	aYearAgo := db.ListFilter{CreatedFrom: seedEnd.AddDate(-1, 0, 0), CreatedTo: seedEnd.AddDate(-1, 0, 7)}

	cases := []struct {
		name string
		fn   func(context.Context, int) (int, error)
	}{
		{"list: first page", list(db.ListFilter{})},
		{"list: page 21 (cursor)", list(db.ListFilter{After: deep})},
		{"filter: status=pending", list(db.ListFilter{Status: domain.StatusPending})},
		{"filter: status=expired", list(db.ListFilter{Status: domain.StatusExpired})},
		{"filter: status=accepted (rare)", list(db.ListFilter{Status: domain.StatusAccepted})},
		{"filter: kind=agent", list(db.ListFilter{Kind: "agent"})},
		{"filter: escalated", list(db.ListFilter{Escalated: true})},
		{"filter: escalated+kind=agent", list(db.ListFilter{Escalated: true, Kind: "agent"})},
		{"filter: created, a week a year ago", list(aYearAgo)},
		{"filter: status=rejected+agent+week", list(db.ListFilter{Status: domain.StatusRejected, Kind: "agent",
			CreatedFrom: aYearAgo.CreatedFrom, CreatedTo: aYearAgo.CreatedTo})},
		{"search: org number (spaced)", search(s.orgNo)},
		{"search: Altinn request id", search(s.requestID)},
		{"search: onboarding id", search(s.id)},
		{"search: system user id", search(s.systemUserID)},
		{"search: external ref", search(s.externalRef)},
		{"search: customer ref", search(s.customerRef)},
		{"search: return ref", search(s.ref)},
		{"search: no match", list(db.ListFilter{Query: "no-such-thing"})},
		{"count: all", b.count(db.ListFilter{})},
		{"count: last month", b.count(lastMonth)},
		{"count: last 3 months", b.count(lastQuarter)},
		{"count: last 12 months", b.count(lastYear)},
		{"count: kind=agent", b.count(db.ListFilter{Kind: "agent"})},
		{"count: escalated", b.count(db.ListFilter{Escalated: true})},
		{"count: search org number", func(ctx context.Context, i int) (int, error) {
			c, err := b.store.CountByStatus(ctx, db.ListFilter{Query: s.orgNo[i%len(s.orgNo)]})
			return total(c), err
		}},
	}
	for _, c := range cases {
		if err := b.measure(ctx, c.name, c.fn); err != nil {
			return err
		}
	}
	stream, err := b.stream(ctx, db.ListFilter{Status: domain.StatusExpired})
	if err != nil {
		return err
	}
	b.print(stream)
	return nil
}

func (b *bench) count(f db.ListFilter) func(context.Context, int) (int, error) {
	return func(ctx context.Context, _ int) (int, error) {
		c, err := b.store.CountByStatus(ctx, f)
		return total(c), err
	}
}

// total is how many rows a count covered, for the rows column.
func total(counts map[domain.Status]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func (b *bench) samples(ctx context.Context) (samples, error) {
	var s samples
	rows, err := b.pool.Query(ctx, `
		SELECT org_no, coalesce(altinn_request_id::text, ''), id::text, coalesce(system_user_id::text, ''),
			external_ref, coalesce(customer_ref, ''), ref
		FROM onboardings TABLESAMPLE SYSTEM (1) REPEATABLE (7411) LIMIT 2000`)
	if err != nil {
		return s, fmt.Errorf("samples: %w", err)
	}
	var org, req, id, su, ext, cust, ref string
	_, err = pgx.ForEachRow(rows, []any{&org, &req, &id, &su, &ext, &cust, &ref}, func() error {
		if _, err := orgno.Normalize(org); err != nil {
			return fmt.Errorf("seeded organisation number %s: %w", org, err)
		}
		s.orgNo = append(s.orgNo, orgno.Format(org))
		s.id = append(s.id, id)
		s.ref = append(s.ref, ref)
		if req != "" {
			s.requestID = append(s.requestID, strings.ToUpper(req))
		}
		if su != "" {
			s.systemUserID = append(s.systemUserID, su)
		}
		if ext != org {
			s.externalRef = append(s.externalRef, ext)
		}
		if cust != "" {
			s.customerRef = append(s.customerRef, cust)
		}
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("samples: %w", err)
	}
	for _, l := range [][]string{s.orgNo, s.requestID, s.systemUserID, s.externalRef, s.customerRef} {
		if len(l) == 0 {
			return s, errors.New("samples: too few rows to sample every kind of search")
		}
	}
	return s, nil
}

// cursorAt follows cursors from the first page and returns the one that
// opens page n+1.
func (b *bench) cursorAt(ctx context.Context, f db.ListFilter, n int) (string, error) {
	for range n {
		p, err := b.store.ListOnboardings(ctx, f)
		if err != nil {
			return "", err
		}
		if p.Next == "" {
			return "", errors.New("fewer pages than expected")
		}
		f.After = p.Next
	}
	return f.After, nil
}

func (b *bench) measure(ctx context.Context, name string, fn func(context.Context, int) (int, error)) error {
	for i := range b.cfg.warmup {
		if _, err := fn(ctx, i); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	times := make([]time.Duration, b.cfg.runs)
	base := make([]time.Duration, b.cfg.runs)
	var rows int
	for i := range b.cfg.runs {
		start := time.Now()
		var one int
		if err := b.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
			return fmt.Errorf("SELECT 1: %w", err)
		}
		base[i] = time.Since(start)

		start = time.Now()
		n, err := fn(ctx, b.cfg.warmup+i)
		times[i] = time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rows = n
	}
	b.base = append(b.base, base...)
	slices.Sort(times)
	slices.Sort(base)
	r := result{name: name, p50: percentile(times, 50), p95: percentile(times, 95), rows: rows, base: percentile(base, 50)}
	b.results = append(b.results, r)
	b.log("  %-36s p50 %8s  p95 %8s  (SELECT 1 p50 %s)", name, fmtDur(r.p50), fmtDur(r.p95), fmtDur(r.base))
	if b.cfg.explain {
		if err := b.explain(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// explain runs EXPLAIN ANALYZE on the last statement the pool ran, with the
// same arguments.
func (b *bench) explain(ctx context.Context, name string) error {
	sql, args := b.tr.get()
	rows, err := b.pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+sql, args...)
	if err != nil {
		return fmt.Errorf("explain %s: %w", name, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("explain %s: %w", name, err)
	}
	fmt.Fprintf(b.out, "-- %s\n%s\n%s\n\n", name, strings.Join(strings.Fields(sql), " "), strings.Join(lines, "\n"))
	return nil
}

type streamResult struct {
	rows                 int
	p50                  time.Duration
	rowsPerSec           float64
	peakHeap, heapBefore uint64
}

// stream runs EachOnboarding over f a few times, sampling the heap as rows
// arrive, to show the export streams instead of collecting.
func (b *bench) stream(ctx context.Context, f db.ListFilter) (streamResult, error) {
	var r streamResult
	runs := 5
	var times []time.Duration
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heapBefore = ms.HeapAlloc
	for range runs {
		n := 0
		start := time.Now()
		err := b.store.EachOnboarding(ctx, f, func(o *domain.Onboarding) error {
			n++
			if n%2000 == 0 {
				runtime.ReadMemStats(&ms)
				r.peakHeap = max(r.peakHeap, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("stream: %w", err)
		}
		times = append(times, time.Since(start))
		r.rows = n
	}
	slices.Sort(times)
	r.p50 = times[len(times)/2]
	r.rowsPerSec = float64(r.rows) / r.p50.Seconds()
	return r, nil
}

func (b *bench) print(s streamResult) {
	var version string
	_ = b.pool.QueryRow(context.Background(), `SHOW server_version`).Scan(&version)
	var size string
	_ = b.pool.QueryRow(context.Background(), `SELECT pg_size_pretty(pg_total_relation_size('onboardings'))`).Scan(&size)
	fmt.Fprintf(b.out, "\n%d onboardings (%s with indexes), PostgreSQL %s, %s/%s, GOMAXPROCS %d, %d runs after %d warm-up, %s\n\n",
		b.cfg.rows, size, version, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), b.cfg.runs, b.cfg.warmup,
		time.Now().Format("2006-01-02"))
	slices.Sort(b.base)
	fmt.Fprintf(b.out, "%-36s %9s %9s %8s %8s\n", "query", "p50", "p95", "p50/SEL1", "rows")
	fmt.Fprintf(b.out, "%-36s %9s %9s %7.1fx %8d\n", "SELECT 1 (baseline, all runs)", fmtDur(percentile(b.base, 50)),
		fmtDur(percentile(b.base, 95)), 1.0, 1)
	for _, r := range b.results {
		fmt.Fprintf(b.out, "%-36s %9s %9s %7.1fx %8d\n", r.name, fmtDur(r.p50), fmtDur(r.p95),
			float64(r.p50)/float64(r.base), r.rows)
	}
	fmt.Fprintf(b.out, "\nexport: EachOnboarding over status=expired streamed %d rows in %s (p50 of 5): %.0f rows/s; "+
		"peak Go heap during the stream %.1f MiB (%.1f MiB before it)\n",
		s.rows, fmtDur(s.p50), s.rowsPerSec, mib(s.peakHeap), mib(s.heapBefore))
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// lastQuery is a pgx tracer that remembers the last statement and its
// arguments, so -explain can show the plan of what was measured.
type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !strings.HasPrefix(data.SQL, "EXPLAIN") {
		l.mu.Lock()
		l.sql, l.args = data.SQL, data.Args
		l.mu.Unlock()
	}
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *lastQuery) get() (string, []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sql, l.args
}
