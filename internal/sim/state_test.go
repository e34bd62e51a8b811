package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stateEnv is a simulator that keeps its state in a file, on an address a
// restart can take over.
type stateEnv struct {
	*env
	ts  *httptest.Server
	cfg Config
}

// newStateEnv starts a simulator keeping its state at path, with the test
// clients and the test seed (with a second right and package, for change
// requests).
func newStateEnv(t *testing.T, path string) *stateEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)}
	cfg := Config{PublicURL: "http://" + ln.Addr().String(), Seed: testSeed(), Now: clock.Now, StatePath: path}
	withChangeSeed(&cfg)
	return serveState(t, cfg, clock, ln)
}

// serveState builds a Server from cfg and serves it on ln, registering the
// test clients and the return URL as the app does at every start.
func serveState(t *testing.T, cfg Config, clock *testClock, ln net.Listener) *stateEnv {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Handler()}}
	ts.Start()
	t.Cleanup(ts.Close)
	pemKey := publicPEM(t, &testKey().PublicKey)
	for _, c := range []Client{
		{ClientID: testClientID, OrgNo: vendorOrg, KeyID: testKID, PublicKeyPEM: pemKey, Scopes: allScopes},
		{ClientID: otherClientID, OrgNo: otherVendor, KeyID: otherKID, PublicKeyPEM: pemKey, Scopes: allScopes},
	} {
		if err := s.AddClient(c); err != nil {
			t.Fatalf("AddClient: %v", err)
		}
	}
	if err := s.AddRedirectURL(systemID, returnURL); err != nil {
		t.Fatalf("AddRedirectURL: %v", err)
	}
	return &stateEnv{env: &env{t: t, sim: s, url: cfg.PublicURL, clock: clock}, ts: ts, cfg: cfg}
}

// restart stops the simulator and starts a new one from the same state file
// on the same address, as `make run` does after Ctrl-C.
func (e *stateEnv) restart() *stateEnv {
	e.t.Helper()
	e.ts.Close()
	ln, err := net.Listen("tcp", strings.TrimPrefix(e.cfg.PublicURL, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	return serveState(e.t, e.cfg, e.clock, ln)
}

// TestStateSurvivesRestart builds up every kind of state over HTTP and the
// admin API, restarts the simulator from its state file, and checks that the
// new one answers every read exactly as the old one did, goes on where the
// old one stopped (sequences continue), and still lets the customer approve.
func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-state.json")
	e := newStateEnv(t, path)
	tok := e.token()

	// Connected through the confirm page, as a customer does.
	connected := e.create(tok, with(standardBody(customerOrg), "redirectUrl", returnURL), http.StatusCreated)
	if r := e.submit(standardPage, connected["id"].(string), "approve", nil); r.status != http.StatusFound {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	// Pending, and an escalated agent request.
	pending := e.create(tok, with(standardBody(validOrg(1)), "redirectUrl", returnURL), http.StatusCreated)
	agent := e.createAgent(tok, agentBody(validOrg(2)), http.StatusCreated)
	if r := e.do("POST", "/_sim/requests/"+agent["id"].(string)+"/escalate", "", nil); r.status != http.StatusOK {
		t.Fatalf("escalate: %d %s", r.status, r.body)
	}
	// Deleted by the vendor, and a system user deleted by the customer.
	gone := e.create(tok, standardBody(validOrg(3)), http.StatusCreated)
	if r := e.do("DELETE", reqPath+"/"+gone["id"].(string), tok, nil); r.status != http.StatusAccepted {
		t.Fatalf("delete: %d", r.status)
	}
	revoked := e.approvedUser(tok, standardBody(validOrg(4)))
	if r := e.do("POST", "/_sim/systemusers/"+revoked+"/delete", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete system user: %d", r.status)
	}
	// A change request, pending, on the connected customer's system user.
	change := e.createChange(tok, newUUID(), connected["id"].(string), addBody(), http.StatusCreated)
	// The system register changed, and the admin clock moved.
	const otherReturn = "https://vendor.example/other/return"
	if err := e.sim.AddRedirectURL(systemID, otherReturn); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/_sim/clock", "", map[string]string{"offset": "240h"}); r.status != http.StatusOK {
		t.Fatalf("clock: %d", r.status)
	}

	q := "?system-id=" + systemID + "&orgno="
	reads := []string{
		reqPath + "/" + connected["id"].(string),
		reqPath + "/" + pending["id"].(string),
		reqPath + "/agent/" + agent["id"].(string),
		reqPath + "/byexternalref/" + systemID + "/" + validOrg(1) + "/" + validOrg(1),
		reqPath + "/bysystem/" + systemID,
		reqPath + "/agent/bysystem/" + systemID,
		apiBase + "/vendor/byquery" + q + customerOrg,
		apiBase + "/vendor/bysystem/" + systemID,
		changePath + "/" + change["id"].(string),
		changePath + "/bysystem/" + systemID,
		confirmPath(t, pending["confirmUrl"].(string)),
		confirmPath(t, connected["confirmUrl"].(string)),
		"/accessmanagement/ui/systemuser/agentrequest?id=" + agent["id"].(string),
		changePage + "?id=" + change["id"].(string),
	}
	missing := []string{
		reqPath + "/" + gone["id"].(string),
		apiBase + "/vendor/byquery" + q + validOrg(4),
	}
	read := func(e *stateEnv, tok string) (map[string]string, map[string]int) {
		bodies, statuses := map[string]string{}, map[string]int{}
		for _, p := range reads {
			r := e.do("GET", p, tok, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", p, r.status, r.body)
			}
			bodies[p] = string(r.body)
		}
		for _, p := range missing {
			statuses[p] = e.do("GET", p, tok, nil).status
		}
		return bodies, statuses
	}
	before, beforeMissing := read(e, tok)
	requests, changes := e.sim.Requests(), e.sim.ChangeRequests()
	rights, pkgs, _ := e.sim.SystemUserRights(connected["id"].(string))
	systems := e.sim.systemsCopy()

	e2 := e.restart()
	if info := e2.sim.StateInfo(); !info.Restored || info.SeedChanged || info.Requests != 5 || info.SystemUsers != 2 || info.ChangeRequests != 1 {
		t.Errorf("StateInfo after restart: %+v", info)
	}
	tok2 := e2.token() // a new signing key: the old token is no longer valid
	after, afterMissing := read(e2, tok2)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("reads after the restart differ (-before +after):\n%s", d)
	}
	if d := cmp.Diff(beforeMissing, afterMissing); d != "" || afterMissing[missing[0]] != http.StatusNotFound {
		t.Errorf("deleted things after the restart: %v (-before +after):\n%s", afterMissing, d)
	}
	if d := cmp.Diff(requests, e2.sim.Requests()); d != "" {
		t.Errorf("Requests (-before +after):\n%s", d)
	}
	if d := cmp.Diff(changes, e2.sim.ChangeRequests()); d != "" {
		t.Errorf("ChangeRequests (-before +after):\n%s", d)
	}
	rights2, pkgs2, ok := e2.sim.SystemUserRights(connected["id"].(string))
	if !ok || !cmp.Equal(rights, rights2) || !cmp.Equal(pkgs, pkgs2) {
		t.Errorf("system user rights after the restart: %v %v %v, want %v %v", ok, rights2, pkgs2, rights, pkgs)
	}
	if d := cmp.Diff(systems, e2.sim.systemsCopy()); d != "" {
		t.Errorf("systems (-before +after):\n%s", d)
	}
	// The admin clock kept its offset.
	if r := e2.do("POST", "/_sim/clock", "", map[string]string{"offset": "0s"}); !strings.Contains(string(r.body), `"offset":"240h0m0s"`) {
		t.Errorf("clock after the restart: %s", r.body)
	}

	// The customer approves the pending request after the restart and is sent back.
	r := e2.submit(standardPage, pending["id"].(string), "approve", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != returnURL {
		t.Fatalf("approve after the restart: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	if r := e2.do("GET", apiBase+"/vendor/byquery"+q+validOrg(1), tok2, nil); r.status != http.StatusOK {
		t.Fatalf("byquery after approving: %d", r.status)
	}
	// The change request is approved after the restart too.
	if err := e2.sim.ApproveChange(change["id"].(string)); err != nil {
		t.Fatal(err)
	}
	// Sequences go on: a new request, system user and change request come
	// after every earlier one, and the redirect URL added before is still
	// registered.
	next := e2.create(tok2, with(standardBody(validOrg(5)), "redirectUrl", otherReturn), http.StatusCreated)
	if err := e2.sim.Approve(next["id"].(string)); err != nil {
		t.Fatal(err)
	}
	nextChange := e2.createChange(tok2, newUUID(), next["id"].(string), addBody(), http.StatusCreated)
	e2.sim.mu.Lock()
	gotSeqs := []int{e2.sim.requests[next["id"].(string)].seq, e2.sim.users[next["id"].(string)].seq, e2.sim.changes[nextChange["id"].(string)].seq}
	e2.sim.mu.Unlock()
	if want := []int{6, 4, 2}; !cmp.Equal(gotSeqs, want) {
		t.Errorf("request, system user and change-request seq after the restart: %v, want %v", gotSeqs, want)
	}
	// Another restart keeps what the second run did.
	e3 := e2.restart()
	if got := len(e3.sim.Requests()); got != 6 {
		t.Errorf("%d requests after the second restart, want 6", got)
	}
	if r := e3.do("GET", apiBase+"/vendor/byquery"+q+validOrg(1), e3.token(), nil); r.status != http.StatusOK {
		t.Errorf("the system user approved in the second run is gone after the third start: %d", r.status)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file mode %o, want 600", mode)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// systemsCopy returns a deep copy of the system register, for comparisons.
func (s *Server) systemsCopy() map[string]System {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]System{}
	for id, sys := range s.systems {
		out[id] = *cloneSystem(*sys)
	}
	return out
}

// TestStateStartsFromSeed checks that a missing file starts from the seed and
// is written at once, in a folder created for it; and that the in-memory mode
// writes nothing.
func TestStateStartsFromSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "folder", "sim-state.json")
	e := newStateEnv(t, path)
	if info := e.sim.StateInfo(); info.Path != path || info.Restored {
		t.Errorf("StateInfo: %+v", info)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state file after New: %v", err)
	}
	if got := e.sim.systemsCopy()[systemID].Name["nb"]; got != "SmartCloud" {
		t.Errorf("system from the seed: %q", got)
	}

	mem := newEnv(t)
	if mem.sim.state != nil || mem.sim.StateInfo() != (StateInfo{}) {
		t.Errorf("in-memory simulator has a state store: %+v", mem.sim.StateInfo())
	}
}

// TestStateSeedChanged checks that when the seed's systems change between
// runs, the new seed's systems are taken and the requests are kept.
func TestStateSeedChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-state.json")
	e := newStateEnv(t, path)
	e.create(e.token(), standardBody(customerOrg), http.StatusCreated)
	e.ts.Close()

	e.cfg.Seed.Systems[0].Name = map[string]string{"nb": "SmartCloud Ny"}
	ln, err := net.Listen("tcp", strings.TrimPrefix(e.cfg.PublicURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	e2 := serveState(t, e.cfg, e.clock, ln)
	if info := e2.sim.StateInfo(); !info.Restored || !info.SeedChanged || info.Requests != 1 {
		t.Errorf("StateInfo: %+v", info)
	}
	if got := e2.sim.systemsCopy()[systemID].Name["nb"]; got != "SmartCloud Ny" {
		t.Errorf("system name %q, want the new seed's", got)
	}
}

// TestStateUnusableFile checks that a state file New cannot use is a clear
// error that names the file and says how to start afresh, never a panic.
func TestStateUnusableFile(t *testing.T) {
	good := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "sim-state.json")
		e := newStateEnv(t, path)
		e.create(e.token(), standardBody(customerOrg), http.StatusCreated)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	edit := func(f func(m map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			var m map[string]any
			if err := json.Unmarshal(good(t), &m); err != nil {
				t.Fatal(err)
			}
			f(m)
			b, _ := json.Marshal(m)
			return b
		}
	}
	request := func(m map[string]any) map[string]any { return m["requests"].([]any)[0].(map[string]any) }
	tests := []struct {
		name    string
		content func(t *testing.T) []byte
		want    string
	}{
		{"not JSON", func(*testing.T) []byte { return []byte("garbage\x00") }, "is corrupt"},
		{"empty", func(*testing.T) []byte { return nil }, "is corrupt"},
		{"cut off", func(t *testing.T) []byte { b := good(t); return b[:len(b)/2] }, "is corrupt"},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), "it has no version"},
		{"newer version", edit(func(m map[string]any) { m["version"] = 99 }), "has format version 99, this simulator reads version 1"},
		{"wrong type", edit(func(m map[string]any) { m["requests"] = "many" }), "is corrupt"},
		{"bad id", edit(func(m map[string]any) { request(m)["id"] = "not-a-guid" }), `request id "not-a-guid" is not a GUID`},
		{"no seq", edit(func(m map[string]any) { delete(request(m), "seq") }), "has no sequence number"},
		{"duplicate", edit(func(m map[string]any) { m["requests"] = append(m["requests"].([]any), request(m)) }), "is stored twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sim-state.json")
			if err := os.WriteFile(path, tt.content(t), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{PublicURL: "http://127.0.0.1:1", Seed: testSeed(), StatePath: path})
			if err == nil {
				t.Fatal("New accepted an unusable state file")
			}
			for _, want := range []string{path, tt.want, "delete it to start the simulator afresh"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestStateWriteFails checks that a change that cannot be saved is answered
// with a 500, never with a success a restart would forget, on the vendor
// API, the confirm page and the Go hooks alike; and that the next change
// after the disk is back saves everything.
func TestStateWriteFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "sim-state.json")
	e := newStateEnv(t, path)
	tok := e.token()
	pending := e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if err := os.RemoveAll(dir); err != nil { // the folder is gone: every write fails
		t.Fatal(err)
	}

	r := e.do("POST", reqPath, tok, standardBody(validOrg(1)))
	if r.status != http.StatusInternalServerError {
		t.Fatalf("create when the state cannot be saved: %d %s, want 500", r.status, r.body)
	}
	if m := r.json(t); m["detail"] != "The simulator could not save the change to its state file." {
		t.Errorf("500 body: %s", r.body)
	}
	r = e.submit(standardPage, pending["id"].(string), "approve", nil)
	if r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), "could not save the change") {
		t.Errorf("approve on the page: %d %s, want a 500 page", r.status, r.body)
	}
	if r := e.do("POST", "/_sim/clock", "", map[string]string{"offset": "1h"}); r.status != http.StatusInternalServerError {
		t.Errorf("admin clock: %d, want 500", r.status)
	}
	// A read that would show the unsaved change waits for it and fails too.
	if r := e.do("GET", reqPath+"/"+pending["id"].(string), tok, nil); r.status != http.StatusInternalServerError {
		t.Errorf("read of an unsaved change: %d, want 500", r.status)
	}
	if err := e.sim.Reject(newUUID()); err != ErrNotFound {
		t.Errorf("Reject of an unknown id: %v, want ErrNotFound (nothing to save)", err)
	}
	other := e.sim.Requests()[1].ID
	if err := e.sim.Reject(other); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Reject when the state cannot be saved: %v, want an error naming the file", err)
	}

	// The disk is back: the next change saves everything so far (the 500s
	// were ambiguous, like Altinn's: the changes were made in memory).
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e.create(tok, standardBody(validOrg(2)), http.StatusCreated)
	e2 := e.restart()
	if got := len(e2.sim.Requests()); got != 3 {
		t.Errorf("%d requests after the disk came back and a restart, want 3", got)
	}
}

// TestStateConcurrentCreates runs many creates at once (run with -race):
// every one is answered 201, they share far fewer writes than there are
// creates, and all of them are in the file.
func TestStateConcurrentCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-state.json")
	e := newStateEnv(t, path)
	tok := e.token()
	writes := e.sim.state.writes.Load()
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(standardBody(validOrg(10 + i)))
			req, _ := http.NewRequest("POST", e.url+reqPath, strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("create %d: %d", i, res.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	w := e.sim.state.writes.Load() - writes
	t.Logf("%d concurrent creates, %d snapshots written", n, w)
	if w >= n {
		t.Errorf("%d snapshots for %d creates: group commit does not group", w, n)
	}
	s2, err := New(e.cfg) // the file as it is now, without a shutdown
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s2.Requests()); got != n {
		t.Errorf("%d requests in the file, want %d", got, n)
	}
}

// TestStateReadWaitsForChange checks that a read that sees a change waits
// until it is saved: a create stored and never answered (a hung call) is
// already on disk once a vendor's lookup has found it.
func TestStateReadWaitsForChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-state.json")
	e := newStateEnv(t, path)
	tok := e.token()
	e.sim.Inject(Fault{Method: "POST", Path: reqPath, AfterStore: true, Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, _ := json.Marshal(standardBody(customerOrg))
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+reqPath, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	lookup := reqPath + "/byexternalref/" + systemID + "/" + customerOrg + "/" + customerOrg
	deadline := time.Now().Add(10 * time.Second)
	for e.do("GET", lookup, tok, nil).status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the hung create was never stored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s2, err := New(e.cfg) // the file as it is now: the create still hangs
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s2.Requests()); got != 1 {
		t.Errorf("%d requests on disk after a lookup found the hung create, want 1", got)
	}
	cancel()
	<-done
}

// BenchmarkSnapshot measures one save of the state: 10,000 requests (half
// of them approved, so 5,000 system users), and 1,000 for a typical `make
// run`. ms-locked is the copy under the lock, which every other call waits
// for; ns/op is the whole save with encoding, fsync and rename.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) { benchmarkSnapshot(b, n) })
	}
}

func benchmarkSnapshot(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "sim-state.json")
	cfg := Config{PublicURL: "http://127.0.0.1:1", Seed: testSeed(), StatePath: path}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s.mu.Lock()
	s.systems[systemID].AllowedRedirectURLs = []string{returnURL}
	s.mu.Unlock()
	orgs := make([]string, 0, n)
	for base := 31100000; len(orgs) < n; base++ {
		for d := 0; d <= 9 && len(orgs) < n; d++ {
			if o := fmt.Sprintf("%d%d", base, d); validOrgNo(o) {
				orgs = append(orgs, o)
			}
		}
	}
	for i, org := range orgs {
		body := &createBody{}
		raw, _ := json.Marshal(with(standardBody(org), "redirectUrl", returnURL))
		if err := json.Unmarshal(raw, body); err != nil {
			b.Fatal(err)
		}
		status, resp, p := s.createRequest(vendorOrg, body, false)
		if p != nil || status != http.StatusCreated {
			b.Fatalf("create %d: %d %+v", i, status, p)
		}
		if i%2 == 0 {
			if _, err := s.decide(resp.ID, "", actionApprove); err != nil {
				b.Fatal(err)
			}
		}
	}
	locked := s.state.locked.Load()
	for b.Loop() {
		if err := s.commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.state.locked.Load()-locked)/float64(b.N)/1e6, "ms-locked/op")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-file")
	}
}
