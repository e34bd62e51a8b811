package main

// The soak (-soak): the service under a steady, moderate mix of the traffic
// it gets in production for a long while, its memory sampled as it goes,
// to show that nothing accumulates (issue 15, goal 5).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

type soakSetup struct {
	bin, tmp                      string
	common, altinnVars, serveVars map[string]string
	webURL, simURL                string
	simProc                       *process
	dbURL                         string
	pprofAddr                     string
}

// The soak's mix: what share of its requests each kind is.
var soakMix = []struct {
	kind   string
	weight int
}{
	{"submit", 4},    // a new customer: the form (CSRF), then the company page's "yes"
	{"status", 6},    // a customer's status page (reloaded while waiting)
	{"return", 2},    // back from Altinn: /return?ref=, which re-reads Altinn
	{"dashboard", 5}, // staff signed in: the list, a filter, a search, a detail page, the funnel, Problems
	{"api", 3},       // the vendor's product with an API key: list and get
}

// The flatness rules: after the warm-up, the last third's mean VmRSS at
// most this times the first third's, and the trend over the whole window
// (least squares) adding at most this share of the mean.
const (
	soakThirds = 1.10
	soakTrend  = 0.10
)

const soakPassword = "soak-bench-password-7Qx!" // a throwaway database's staff member

type sample struct {
	at         time.Duration
	rss        uint64
	heap       float64 // go_memstats_heap_inuse_bytes
	goroutines float64
	requests   int64
}

type soakCustomer struct {
	c      *http.Client
	ip     string
	ref    string
	id     string
	orgIdx int
}

type soak struct {
	o       options
	s       soakSetup
	tr      *http.Transport
	pool    *pgxpool.Pool
	staff   *http.Client
	apiKey  string
	orgs    []string
	nextOrg atomic.Int64
	nextIP  atomic.Int64

	mu        sync.Mutex
	customers []*soakCustomer // the latest ones, for status pages and returns
	ids       []string

	done   atomic.Int64
	errs   sync.Map // kind -> *atomic.Int64
	first  sync.Map // kind -> string
	counts sync.Map // kind -> *atomic.Int64
	missed atomic.Int64
}

func runSoak(ctx context.Context, o options, s soakSetup, stdout io.Writer, logf func(string, ...any)) error {
	// Each customer at an address of its own (X-Forwarded-For), from the
	// benchmarking range 198.18.0.0/15: Echo trusts private addresses as
	// proxies, so those would all be one client.
	// The reconciler re-reads each new onboarding a minute after it started
	// and not again within the soak (the default schedule's next looks, at
	// 5 and 15 minutes, would add a second and third wave of Altinn calls
	// part-way through: more work, not a steady pace).
	vars := map[string]string{"ONBOARD_BEHIND_PROXY": "true", "ONBOARD_RECONCILE_SCHEDULE": "1m,1h,6h,24h"}
	for k, v := range s.serveVars {
		if k != "ONBOARD_SUBMIT_RATE_PER_MINUTE" { // the default limits: every customer is its own address
			vars[k] = v
		}
	}
	serveProc, err := startProcess(ctx, filepath.Join(s.tmp, "serve.log"), s.bin, []string{"serve"}, s.common, s.altinnVars, vars)
	if err != nil {
		return err
	}
	defer serveProc.stop()
	if err := serveProc.waitReady(ctx, s.webURL+"/readyz"); err != nil {
		return err
	}
	if err := serveProc.waitLog(ctx, `"msg":"setup checks"`); err != nil {
		return err
	}
	time.Sleep(o.idle)
	idle, err := benchkit.PidMemory(serveProc.pid())
	if err != nil {
		return err
	}
	logf("onboard serve (pid %d) is up, idle VmRSS %s; soak of %s at %.0f requests/s", serveProc.pid(), benchkit.MiB(idle.RSS), o.soak, o.soakRate)

	k := &soak{o: o, s: s, tr: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
		orgs: benchkit.OrgNumbers(int(o.soak.Seconds()*o.soakRate)+1000, 5)}
	defer k.tr.CloseIdleConnections()
	if k.pool, err = pgxpool.New(ctx, s.dbURL); err != nil {
		return err
	}
	defer k.pool.Close()
	if err := k.setUp(ctx); err != nil {
		return err
	}

	// The requests: a steady pace, spread over workers; a tick with no
	// free worker is counted as missed rather than queued.
	jobs := make(chan string, 64)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for kind := range jobs {
				k.do(ctx, kind)
			}
		})
	}
	var seq []string
	for _, m := range soakMix {
		for range m.weight {
			seq = append(seq, m.kind)
		}
	}
	// Interleave the kinds (a fixed shuffle), so no kind comes in bursts.
	order := make([]string, len(seq))
	for i := range seq {
		order[(i*7)%len(seq)] = seq[i]
	}

	var samples []sample
	start := time.Now()
	takeSample := func() {
		m, err := benchkit.PidMemory(serveProc.pid())
		if err != nil {
			return
		}
		sm := sample{at: time.Since(start), rss: m.RSS, requests: k.done.Load()}
		sm.heap, sm.goroutines = k.goMetrics(ctx)
		samples = append(samples, sm)
		logf("soak %5s: VmRSS %s, Go heap in use %s, %0.f goroutines, %d requests", sm.at.Round(time.Second), benchkit.MiB(sm.rss),
			benchkit.MiB(uint64(sm.heap)), sm.goroutines, sm.requests)
	}
	takeSample()
	pace := time.NewTicker(time.Duration(float64(time.Second) / o.soakRate))
	every := time.NewTicker(10 * time.Second)
	end := time.After(o.soak)
	i := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-every.C:
			takeSample()
		case <-pace.C:
			select {
			case jobs <- order[i%len(order)]:
			default:
				k.missed.Add(1)
			}
			i++
		}
	}
	pace.Stop()
	every.Stop()
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	takeSample()
	return k.report(stdout, idle.RSS, samples)
}

// setUp makes the staff member (signed in through the form, as a person
// is) and the API key the soak uses.
func (k *soak) setUp(ctx context.Context) error {
	store, err := db.Open(ctx, k.s.dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	hash, err := password.Hash(soakPassword)
	if err != nil {
		return err
	}
	const email = "soak@example.com"
	if _, err := store.CreateStaff(ctx, db.NewStaff{Email: email, PasswordHash: hash, Role: domain.RoleOperator, Actor: "bench"}); err != nil {
		return err
	}
	if _, k.apiKey, err = store.CreateAPIKey(ctx, "soak", db.AuditEntry{Actor: "bench"}); err != nil {
		return err
	}
	k.staff = k.client()
	token, err := k.csrfOf(ctx, k.staff, "198.51.100.1", k.s.webURL+"/admin/login")
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	form := url.Values{"email": {email}, "password": {soakPassword}, "_csrf": {token}}
	res, err := k.send(ctx, k.staff, "198.51.100.1", http.MethodPost, k.s.webURL+"/admin/login", form)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if res != http.StatusSeeOther {
		return fmt.Errorf("sign in: %d, want 303", res)
	}
	return nil
}

func (k *soak) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: k.tr, Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send makes one request from address ip and returns its status, the body
// read and dropped.
func (k *soak) send(ctx context.Context, c *http.Client, ip, method, u string, form url.Values) (int, error) {
	code, _, err := k.fetch(ctx, c, ip, method, u, form, "")
	return code, err
}

func (k *soak) fetch(ctx context.Context, c *http.Client, ip, method, u string, form url.Values, bearer string) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("X-Forwarded-For", ip)
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func (k *soak) csrfOf(ctx context.Context, c *http.Client, ip, u string) (string, error) {
	code, b, err := k.fetch(ctx, c, ip, http.MethodGet, u, nil, "")
	if err != nil {
		return "", err
	}
	m := csrfRE.FindSubmatch(b)
	if code != http.StatusOK || m == nil {
		return "", fmt.Errorf("%s: %d without a CSRF token", u, code)
	}
	return string(m[1]), nil
}

// do makes one request of kind, and counts it.
func (k *soak) do(ctx context.Context, kind string) {
	err := k.request(ctx, kind)
	k.done.Add(1)
	n, _ := k.counts.LoadOrStore(kind, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if err != nil && ctx.Err() == nil {
		e, _ := k.errs.LoadOrStore(kind, new(atomic.Int64))
		e.(*atomic.Int64).Add(1)
		k.first.LoadOrStore(kind, err.Error())
	}
}

func (k *soak) request(ctx context.Context, kind string) error {
	w := k.s.webURL
	want := func(code int, err error, ok ...int) error {
		if err != nil {
			return err
		}
		for _, c := range ok {
			if code == c {
				return nil
			}
		}
		return fmt.Errorf("status %d", code)
	}
	switch kind {
	case "submit":
		n := int(k.nextIP.Add(1))
		cu := &soakCustomer{c: k.client(), ip: fmt.Sprintf("198.%d.%d.%d", 18+n>>16%2, n>>8%256, n%256), orgIdx: int(k.nextOrg.Add(1)) - 1}
		token, err := k.csrfOf(ctx, cu.c, cu.ip, w+formPath)
		if err != nil {
			return err
		}
		org := k.orgs[cu.orgIdx%len(k.orgs)]
		if p := submit(ctx, cu.c, w+submitPath, org, token, k.s.simURL+"/", cu.ip); p != "" {
			return errors.New(p)
		}
		if err := k.pool.QueryRow(ctx, `SELECT ref, id::text FROM onboardings WHERE org_no = $1`, org).Scan(&cu.ref, &cu.id); err != nil {
			return err
		}
		k.mu.Lock()
		k.customers = append(k.customers, cu)
		if len(k.customers) > 500 {
			k.customers = k.customers[len(k.customers)-500:]
		}
		k.ids = append(k.ids, cu.id)
		if len(k.ids) > 2000 {
			k.ids = k.ids[len(k.ids)-2000:]
		}
		k.mu.Unlock()
		return nil
	case "status", "return":
		cu := k.customer()
		if cu == nil {
			return nil // none yet
		}
		if kind == "status" {
			code, err := k.send(ctx, cu.c, cu.ip, http.MethodGet, w+"/status/"+cu.ref, nil)
			return want(code, err, http.StatusOK)
		}
		code, err := k.send(ctx, cu.c, cu.ip, http.MethodGet, w+"/return?ref="+cu.ref, nil)
		return want(code, err, http.StatusSeeOther)
	case "dashboard":
		pages := []string{"/admin/onboardings", "/admin/onboardings?status=pending", "/admin/onboardings?q=31",
			"/admin/funnel", "/admin/problems", ""}
		p := pages[int(k.done.Load())%len(pages)]
		if p == "" {
			id := k.someID()
			if id == "" {
				return nil
			}
			p = "/admin/onboardings/" + id
		}
		code, err := k.send(ctx, k.staff, "198.51.100.1", http.MethodGet, w+p, nil)
		return want(code, err, http.StatusOK)
	case "api":
		u := w + "/api/v1/onboardings?limit=20"
		if id := k.someID(); id != "" && k.done.Load()%2 == 0 {
			u = w + "/api/v1/onboardings/" + id
		}
		code, _, err := k.fetch(ctx, http.DefaultClient, "198.51.100.2", http.MethodGet, u, nil, k.apiKey)
		return want(code, err, http.StatusOK)
	}
	return fmt.Errorf("unknown kind %q", kind)
}

func (k *soak) customer() *soakCustomer {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.customers) == 0 {
		return nil
	}
	return k.customers[int(k.done.Load())%len(k.customers)]
}

func (k *soak) someID() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.ids) == 0 {
		return ""
	}
	return k.ids[int(k.done.Load())%len(k.ids)]
}

// goMetrics reads the Go heap in use and the goroutines from the service's
// /metrics (open in dev); 0 when it does not answer.
func (k *soak) goMetrics(ctx context.Context) (heap, goroutines float64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.s.webURL+"/metrics", nil)
	if err != nil {
		return 0, 0
	}
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "go_memstats_heap_inuse_bytes":
			heap, _ = strconv.ParseFloat(v, 64)
		case "go_goroutines":
			goroutines, _ = strconv.ParseFloat(v, 64)
		}
	}
	return heap, goroutines
}

func (k *soak) report(w io.Writer, idle uint64, samples []sample) error {
	fmt.Fprintf(w, "\nsoak of mixed traffic: %s at %.0f requests/s (", k.o.soak, k.o.soakRate)
	for i, m := range soakMix {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %d", m.kind, m.weight)
	}
	fmt.Fprintf(w, " in %d), the service's memory every 10 s; idle before it %s\n\n", total(), benchkit.MiB(idle))
	fmt.Fprintf(w, "%8s %10s %14s %11s %9s\n", "t", "VmRSS", "Go heap inuse", "goroutines", "requests")
	for _, s := range samples {
		fmt.Fprintf(w, "%8s %10s %14s %11.0f %9d\n", s.at.Round(time.Second), benchkit.MiB(s.rss), benchkit.MiB(uint64(s.heap)), s.goroutines, s.requests)
	}
	fmt.Fprintf(w, "\n%-10s %9s %7s  %s\n", "kind", "requests", "errors", "first error")
	var errs int64
	for _, m := range soakMix {
		n, e, first := int64(0), int64(0), ""
		if v, ok := k.counts.Load(m.kind); ok {
			n = v.(*atomic.Int64).Load()
		}
		if v, ok := k.errs.Load(m.kind); ok {
			e = v.(*atomic.Int64).Load()
		}
		if v, ok := k.first.Load(m.kind); ok {
			first = v.(string)
		}
		errs += e
		fmt.Fprintf(w, "%-10s %9d %7d  %s\n", m.kind, n, e, first)
	}
	fmt.Fprintf(w, "ticks with no free worker (not sent): %d\n", k.missed.Load())

	// The warm-up: the first minute, or a fifth of a short soak.
	warm := min(time.Minute, k.o.soak/5)
	var after []sample
	for _, s := range samples {
		if s.at >= warm {
			after = append(after, s)
		}
	}
	if len(after) < 6 {
		fmt.Fprintf(w, "\ngoal 5, memory flat: too few samples after the %s warm-up to judge (soak at least 2m)\n", warm)
		return nil
	}
	third := len(after) / 3
	mean := func(ss []sample, f func(sample) float64) float64 {
		var t float64
		for _, s := range ss {
			t += f(s)
		}
		return t / float64(len(ss))
	}
	rss := func(s sample) float64 { return float64(s.rss) }
	heap := func(s sample) float64 { return s.heap }
	gor := func(s sample) float64 { return s.goroutines }
	firstRSS, lastRSS := mean(after[:third], rss), mean(after[len(after)-third:], rss)
	firstHeap, lastHeap := mean(after[:third], heap), mean(after[len(after)-third:], heap)
	firstG, lastG := mean(after[:third], gor), mean(after[len(after)-third:], gor)
	trend := trendShare(after, rss)
	fmt.Fprintf(w, "\nafter the %s warm-up, %d samples: mean of the last third / the first third: VmRSS %s (%s -> %s), Go heap %s, goroutines %s\n",
		warm, len(after), benchkit.Ratio(lastRSS, firstRSS), benchkit.MiB(uint64(firstRSS)), benchkit.MiB(uint64(lastRSS)),
		benchkit.Ratio(lastHeap, firstHeap), benchkit.Ratio(lastG, firstG))
	fmt.Fprintf(w, "VmRSS trend (least squares) over the window: %+.1f%% of its mean\n", 100*trend)
	ok := lastRSS <= firstRSS*soakThirds && trend <= soakTrend
	fmt.Fprintf(w, "goal 5, memory flat (last third <= %.2fx the first, trend <= %.0f%%): %s\n", soakThirds, 100*soakTrend, met(ok))
	if errs > k.done.Load()/100 {
		return fmt.Errorf("soak: %d of %d requests failed", errs, k.done.Load())
	}
	return nil
}

func total() int {
	n := 0
	for _, m := range soakMix {
		n += m.weight
	}
	return n
}

// trendShare is how much f grows over the samples' span by a least-squares
// line, as a share of its mean.
func trendShare(ss []sample, f func(sample) float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss {
		x, y := s.at.Seconds(), f(s)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if d == 0 || sy == 0 {
		return 0
	}
	slope := (n*sxy - sx*sy) / d
	span := ss[len(ss)-1].at.Seconds() - ss[0].at.Seconds()
	return slope * span / (sy / n)
}
