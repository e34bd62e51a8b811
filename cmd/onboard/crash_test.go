package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// TestCrashSafeCreate runs the real binary: `onboard sim` as a process of
// its own (Altinn, whose state outlives our crashes) and `onboard serve`,
// which is killed with SIGKILL at each step of the create path:
//
//	(a) before the Altinn call: the token fetch hangs at Maskinporten;
//	(b) after Altinn stored the request, before our commit: the create is
//	    stored and its answer never comes;
//	(c) after our commit: the customer got the 303 to Altinn;
//	(d) during the create call, before Altinn stored it.
//
// After each kill serve is started again, and the customer's retry (one
// customer resubmits) or the reconciler (the other never comes back) settles
// every onboarding. In the end every onboarding has exactly one Altinn
// request, and none is lost.
func TestCrashSafeCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it several times; runs in `make test`")
	}
	t.Parallel()
	deadline := time.Now().Add(4 * time.Minute)
	bin := buildOnboard(t)
	data := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	simURL, webURL := "http://"+simAddr, "http://"+webAddr
	common := []string{"ONBOARD_DATA_DIR=" + data, "ONBOARD_PUBLIC_URL=" + webURL, "ONBOARD_LOG_LEVEL=debug"}

	simProc := startProcess(t, bin, "sim", append(common, "ONBOARD_SIM_ADDR="+simAddr, "ONBOARD_SIM_PUBLIC_URL="+simURL))
	defer simProc.kill()
	simProc.waitReady(t, simURL+"/.well-known/oauth-authorization-server")
	s := &simAdmin{t: t, url: simURL}

	dbURL := dbtest.NewURL(t)
	serveEnv := append(serveAgainstSim(common, data, dbURL, webAddr, simAddr),
		"ONBOARD_ALTINN_TIMEOUT=2s",
		"ONBOARD_RECONCILE_SCHEDULE=1s,2s,3s",
		"ONBOARD_SWEEP_INTERVAL=1s",
		"ONBOARD_STATUS_REFRESH_INTERVAL=0s",
		"ONBOARD_SUBMIT_RATE_PER_MINUTE=600",
	)
	serve := func() *process {
		p := startProcess(t, bin, "serve", serveEnv)
		p.waitReady(t, webURL+"/readyz")
		return p
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	row := func(orgNo string) (status, requestID, errorCode string, found bool) {
		var rid, code *string
		err := pool.QueryRow(context.Background(),
			`SELECT status, altinn_request_id::text, error_code FROM onboardings WHERE org_no = $1`, orgNo).Scan(&status, &rid, &code)
		if err != nil {
			return "", "", "", false
		}
		if rid != nil {
			requestID = *rid
		}
		if code != nil {
			errorCode = *code
		}
		return status, requestID, errorCode, true
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	kills := 0
	kill := func(p *process) {
		t.Helper()
		p.kill()
		kills++
	}

	web := serve()
	var orgs []string
	newCustomer := func(orgNo string) *customer {
		orgs = append(orgs, orgNo)
		return newCustomer(t, webURL, orgNo)
	}

	// (a) Killed before the Altinn call: the token fetch hangs.
	s.fault(sim.Fault{Method: http.MethodPost, Path: "/token", Hang: true})
	a1, a2 := newCustomer("310000019"), newCustomer("310000027")
	tokens := s.calls("/token")
	a1.submitAsync()
	a2.submitAsync()
	waitFor("(a) both onboardings recorded and the token fetch under way", func() bool {
		_, _, _, ok1 := row(a1.org)
		_, _, _, ok2 := row(a2.org)
		return ok1 && ok2 && s.calls("/token") > tokens
	})
	kill(web)
	for _, c := range []*customer{a1, a2} {
		if res := c.wait(); res.err == nil {
			t.Fatalf("(a) %s: the submit got %d though the process was killed", c.org, res.status)
		}
		if st, rid, _, _ := row(c.org); st != "requesting" || rid != "" || s.requestsFor(c.org) != 0 {
			t.Fatalf("(a) %s after the kill: %s with request %q, %d at Altinn; want requesting, nothing at Altinn", c.org, st, rid, s.requestsFor(c.org))
		}
	}
	s.clearFaults()
	web = serve()
	a1.resubmit() // the customer tries again; a2 never comes back: the reconciler

	// (b) Killed after Altinn stored the request, before our commit.
	s.fault(sim.Fault{Method: http.MethodPost, Path: vendorCreatePath, AfterStore: true, Hang: true})
	b1, b2 := newCustomer("310000035"), newCustomer("310000043")
	b1.submitAsync()
	b2.submitAsync()
	waitFor("(b) both requests stored at Altinn", func() bool { return s.requestsFor(b1.org) == 1 && s.requestsFor(b2.org) == 1 })
	kill(web)
	for _, c := range []*customer{b1, b2} {
		if res := c.wait(); res.err == nil {
			t.Fatalf("(b) %s: the submit got %d though the process was killed", c.org, res.status)
		}
		// Our record never learnt of the request, nor of any failure.
		if st, rid, code, _ := row(c.org); st != "requesting" || rid != "" || code != "" {
			t.Fatalf("(b) %s after the kill: %s, request %q, error %q; want requesting with nothing committed", c.org, st, rid, code)
		}
	}
	s.clearFaults()
	web = serve()
	b1.resubmit()

	// (c) Killed after our commit: the customer was sent to Altinn.
	c1, c2 := newCustomer("310000051"), newCustomer("314248295")
	confirm := c1.submit()
	c2.submit()
	kill(web)
	web = serve()
	// c1 approves on the page it was sent to and comes back to the new
	// process; c2 is approved (by someone else, at Altinn) and nobody comes
	// back: the reconciler.
	c1.approveAndReturn(simURL, confirm)
	c2id := s.requestID(c2.org)
	s.post("/_sim/requests/" + c2id + "/approve")

	// (d) Killed during the create call, before Altinn stored it.
	s.fault(sim.Fault{Method: http.MethodPost, Path: vendorCreatePath, Hang: true})
	d1, d2 := newCustomer("311111116"), newCustomer("312222221")
	creates := s.calls("POST " + vendorCreatePath)
	d1.submitAsync()
	d2.submitAsync()
	waitFor("(d) both creates under way at Altinn", func() bool {
		_, _, _, ok1 := row(d1.org)
		_, _, _, ok2 := row(d2.org)
		return ok1 && ok2 && s.calls("POST "+vendorCreatePath) >= creates+2
	})
	kill(web)
	for _, c := range []*customer{d1, d2} {
		if res := c.wait(); res.err == nil {
			t.Fatalf("(d) %s: the submit got %d though the process was killed", c.org, res.status)
		}
	}
	s.clearFaults()
	web = serve()
	defer web.kill()
	d1.resubmit()

	// Settled: the customers who came back on their way to Altinn at once,
	// the others by the reconciler (a requesting onboarding is created again,
	// after a lookup, once no attempt of its own can still be running).
	settled := func(orgNo, want string) func() bool {
		return func() bool { st, _, _, _ := row(orgNo); return st == want }
	}
	for _, orgNo := range []string{a1.org, a2.org, b1.org, b2.org, d1.org, d2.org} {
		waitFor(orgNo+" pending", settled(orgNo, "pending"))
	}
	for _, orgNo := range []string{c1.org, c2.org} {
		waitFor(orgNo+" connected", settled(orgNo, "connected"))
	}

	// Those who never came back were settled by the reconciler. A status
	// change that follows the Altinn call causing it is stored in the
	// call's row (db/events.go carriesStatus), so both kinds are looked at.
	for _, c := range []*customer{a2, b2, c2, d2} {
		var cause string
		if err := pool.QueryRow(context.Background(), `
			SELECT e.cause FROM onboarding_events e JOIN onboardings o ON o.id = e.onboarding_id
			WHERE o.org_no = $1 AND e.kind IN ('status', 'altinn_call') AND e.to_status IN ('pending', 'connected')
			ORDER BY e.id DESC LIMIT 1`, c.org).Scan(&cause); err != nil || cause != "reconciler" {
			t.Errorf("%s settled by %q (%v), want the reconciler", c.org, cause, err)
		}
	}

	// Exactly one request at Altinn for every onboarding, the one it follows;
	// no onboarding lost or doubled.
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM onboardings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(orgs) {
		t.Fatalf("%d onboardings for %d customers", n, len(orgs))
	}
	all := s.requests()
	duplicates := 0
	for _, orgNo := range orgs {
		var ids []string
		for _, r := range all {
			if r.PartyOrgNo == orgNo {
				ids = append(ids, r.ID)
			}
		}
		_, rid, _, _ := row(orgNo)
		if len(ids) != 1 || ids[0] != rid {
			t.Errorf("%s: Altinn holds requests %v, the onboarding follows %q; want exactly that one", orgNo, ids, rid)
		}
		if len(ids) > 1 {
			duplicates += len(ids) - 1
		}
	}
	t.Logf("%d SIGKILLs survived; %d onboardings, %d Altinn requests, %d duplicates, none lost; Altinn calls %v",
		kills, n, len(all), duplicates, s.stats().Calls)
}

const vendorCreatePath = "/authentication/api/v1/systemuser/request/vendor"

// buildOnboard builds this command once into a temporary folder.
// serveAgainstSim is the environment of `onboard serve` pointed at an
// `onboard sim` process as at any Altinn (custom mode), with the dev key
// the simulator wrote into data.
func serveAgainstSim(common []string, data, dbURL, webAddr, simAddr string) []string {
	simURL := "http://" + simAddr
	return append(slices.Clone(common),
		"DATABASE_URL="+dbURL,
		"ONBOARD_ADDR="+webAddr,
		"ONBOARD_ALTINN_ENV=custom",
		"ONBOARD_ALTINN_BASE_URL="+simURL,
		"ONBOARD_MASKINPORTEN_ISSUER="+simURL+"/",
		"ONBOARD_ALTINN_CONFIRM_HOSTS="+simAddr,
		"ONBOARD_MASKINPORTEN_CLIENT_ID=onboard-dev",
		"ONBOARD_MASKINPORTEN_KID=onboard-dev-key",
		"ONBOARD_MASKINPORTEN_KEY_FILE="+filepath.Join(data, "maskinporten-dev.pem"),
		"ONBOARD_DEV=true",
		"ONBOARD_SESSION_KEY=0123456789abcdef0123456789abcdef-crash",
	)
}

func buildOnboard(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds the binary and needs the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "onboard")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is one run of the binary; its log goes to a file, shown when the
// test fails.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	once sync.Once
}

var runs sync.Map // name → count, for log file names

func startProcess(t *testing.T, bin, cmdName string, env []string) *process {
	t.Helper()
	n, _ := runs.LoadOrStore(t.Name()+cmdName, new(int))
	*n.(*int)++
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d.log", cmdName, *n.(*int)))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, cmdName)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, name: fmt.Sprintf("%s #%d", cmdName, *n.(*int)), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("%s log (tail):\n%s", p.name, b)
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.t.Errorf("%s did not die within 10 s of SIGKILL", p.name)
		}
	})
}

// waitReady polls u until it answers 200.
func (p *process) waitReady(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited before it was ready:\n%s", p.name, b)
		default:
		}
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s within 60 s", p.name, u)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// simAdmin drives the simulator process over its admin API, as a vendor
// testing without Go would.
type simAdmin struct {
	t   *testing.T
	url string
}

func (s *simAdmin) send(method, path string, body any) []byte {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("simulator %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Fatalf("simulator %s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b
}

func (s *simAdmin) post(path string) { s.send(http.MethodPost, path, nil) }

func (s *simAdmin) fault(f sim.Fault) { s.send(http.MethodPost, "/_sim/faults", f) }

func (s *simAdmin) clearFaults() { s.send(http.MethodDelete, "/_sim/faults", nil) }

func (s *simAdmin) requests() []sim.RequestInfo {
	var rs []sim.RequestInfo
	if err := json.Unmarshal(s.send(http.MethodGet, "/_sim/requests", nil), &rs); err != nil {
		s.t.Fatal(err)
	}
	return rs
}

func (s *simAdmin) requestsFor(orgNo string) int {
	n := 0
	for _, r := range s.requests() {
		if r.PartyOrgNo == orgNo {
			n++
		}
	}
	return n
}

func (s *simAdmin) requestID(orgNo string) string {
	for _, r := range s.requests() {
		if r.PartyOrgNo == orgNo {
			return r.ID
		}
	}
	s.t.Fatalf("no request at Altinn for %s", orgNo)
	return ""
}

func (s *simAdmin) stats() sim.Stats {
	var st sim.Stats
	if err := json.Unmarshal(s.send(http.MethodGet, "/_sim/stats", nil), &st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *simAdmin) calls(pattern string) int { return s.stats().Calls[pattern] }

// customer is one person's browser on the wizard.
type customer struct {
	t       *testing.T
	web     string
	org     string
	c       *http.Client
	pending chan result
	// sent is the last "yes, this company" form posted: a retry posts it
	// again, as a browser's reload of a broken-off page does.
	sent url.Values
}

type result struct {
	status   int
	location string
	err      error
}

func newCustomer(t *testing.T, web, orgNo string) *customer {
	jar, _ := cookiejar.New(nil)
	return &customer{t: t, web: web, org: orgNo, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// post fetches the org form and submits the org number.
func (c *customer) post() result {
	res, err := c.c.Get(c.web + "/onboard/standard/org")
	if err != nil {
		return result{err: err}
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return result{err: fmt.Errorf("no CSRF token on the form (%d)", res.StatusCode)}
	}
	res, err = c.c.PostForm(c.web+"/onboard/standard/org", url.Values{"orgno": {c.org}, "_csrf": {string(m[1])}})
	if err != nil {
		return result{err: err}
	}
	res.Body.Close()
	// The number is good: "is this the right company?", and yes.
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/onboard/standard/confirm?") {
		return result{status: res.StatusCode, location: loc}
	}
	res, err = c.c.Get(c.web + res.Header.Get("Location"))
	if err != nil {
		return result{err: err}
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	m, ch := csrfField.FindSubmatch(body), checkedField.FindSubmatch(body)
	if m == nil || ch == nil {
		return result{err: fmt.Errorf("no confirm form on the company page (%d)", res.StatusCode)}
	}
	form := url.Values{"orgno": {c.org}, "checked": {string(ch[1])}, "_csrf": {string(m[1])}}
	if r := reservationField.FindSubmatch(body); r != nil {
		form.Set("reservation", string(r[1]))
	}
	c.sent = form
	return c.postConfirm(form)
}

func (c *customer) postConfirm(form url.Values) result {
	res, err := c.c.PostForm(c.web+"/onboard/standard/confirm", form)
	if err != nil {
		return result{err: err}
	}
	res.Body.Close()
	return result{status: res.StatusCode, location: res.Header.Get("Location")}
}

var (
	checkedField     = regexp.MustCompile(`name="checked" value="(true|false)"`)
	reservationField = regexp.MustCompile(`name="reservation" value="([^"]+)"`)
)

func (c *customer) submitAsync() {
	c.pending = make(chan result, 1)
	go func() { c.pending <- c.post() }()
}

func (c *customer) wait() result {
	select {
	case r := <-c.pending:
		return r
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%s: the submit neither answered nor failed within 30 s", c.org)
		return result{}
	}
}

// submit submits and expects to be sent to Altinn's confirm page.
func (c *customer) submit() string {
	c.t.Helper()
	r := c.post()
	if r.err != nil || r.status != http.StatusSeeOther || !strings.Contains(r.location, "/accessmanagement/ui/systemuser/request?id=") {
		c.t.Fatalf("%s: submit: %d %q %v, want a 303 to Altinn's confirm page", c.org, r.status, r.location, r.err)
	}
	return r.location
}

// resubmit is the customer trying again after the page broke off: the
// browser posts the company page's form again, and must be sent to Altinn
// (it started the onboarding, though the answer that said so was lost).
func (c *customer) resubmit() {
	c.t.Helper()
	if c.sent == nil {
		c.submit()
		return
	}
	r := c.postConfirm(c.sent)
	if r.err != nil || r.status != http.StatusSeeOther || !strings.Contains(r.location, "/accessmanagement/ui/systemuser/request?id=") {
		c.t.Fatalf("%s: resubmit: %d %q %v, want a 303 to Altinn's confirm page", c.org, r.status, r.location, r.err)
	}
}

// approveAndReturn approves at Altinn's confirm page and follows Altinn
// back to the return URL.
func (c *customer) approveAndReturn(simURL, confirm string) {
	c.t.Helper()
	u, _ := url.Parse(confirm)
	res, err := c.c.PostForm(simURL+u.Path, url.Values{"id": {u.Query().Get("id")}, "action": {"approve"}})
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(back, c.web+"/return?ref=") {
		c.t.Fatalf("%s: Altinn after approve: %d %q", c.org, res.StatusCode, back)
	}
	if res, err = c.c.Get(back); err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("%s: return: %d", c.org, res.StatusCode)
	}
}
