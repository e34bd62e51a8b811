package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/sim/simtest"
)

// clientsClock is the clients flow's test clock (and its ID-porten
// client's): now plus an offset.
type clientsClock struct{ offset atomic.Int64 }

func (c *clientsClock) now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clientsClock) set(d time.Duration) { c.offset.Store(int64(d)) }

// clientsEnv is a service whose agent onboarding for the simulator's
// accounting firm (Fjellheim Regnskap AS) is connected, with the flow's
// clock in the test's hand.
func clientsEnv(t *testing.T) (*env, *domain.Onboarding, *clientsClock) {
	t.Helper()
	e := newEnv(t, nil)
	clock := &clientsClock{}
	e.app.Clients.Now = clock.now
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "agent", sim.FirmOrgNo), "approve").location)
	o := e.onboardingForOrg(sim.FirmOrgNo)
	if o.Kind != domain.KindAgent || o.Status != domain.StatusConnected || o.SystemUserID == nil {
		t.Fatalf("the agent onboarding is %s %s", o.Kind, o.Status)
	}
	return e, o, clock
}

// beginClientsLogin presses "Add clients" on the onboarding's status page
// in b and returns ID-porten's authorize URL it is sent to.
func (e *env) beginClientsLogin(b *browser, o *domain.Onboarding) string {
	e.t.Helper()
	st := b.get(e.web.URL + "/status/" + o.Ref)
	if st.status != http.StatusOK || !strings.Contains(st.body, `data-testid="add-clients"`) {
		e.t.Fatalf("the connected page offers no Add clients (%d):\n%.2000s", st.status, st.body)
	}
	res := b.post(e.web.URL+"/clients/"+o.Ref+"/login", url.Values{"_csrf": {csrfOf(e.t, st)}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, e.sim.URL+"/idporten/authorize?") {
		e.t.Fatalf("login: %d Location %q, want 303 to the simulated ID-porten", res.status, res.location)
	}
	return res.location
}

// clientsLogin logs the person pid in for o in b and returns the
// callback's answer.
func (e *env) clientsLogin(b *browser, o *domain.Onboarding, pid string) page {
	e.t.Helper()
	back := simtest.PickPerson(e.t, e.beginClientsLogin(b, o), pid)
	return b.get(back.String())
}

var (
	clientRowRE = regexp.MustCompile(`data-testid="client-row" data-id="([0-9a-f-]{36})" data-delegated="(true|false)"`)
	progressRE  = regexp.MustCompile(`data-testid="clients-progress" data-done="(\d+)" data-total="(\d+)" data-inflight="(\d+)" data-waiting="(\d+)" data-failed="(\d+)"`)
)

type clientsProgress struct{ done, total, inflight, waiting, failed int }

func progressOf(t *testing.T, p page) clientsProgress {
	t.Helper()
	m := progressRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("not the progress page (%d):\n%.2000s", p.status, p.body)
	}
	n := func(s string) int { i, _ := strconv.Atoi(s); return i }
	return clientsProgress{n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5])}
}

// waitDone polls the progress page until nothing is in flight.
func (e *env) waitDone(b *browser, o *domain.Onboarding) page {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The database, not the page: the page is rate limited as a
		// browser reloading every 2 s needs.
		pr, err := e.app.Clients.ProgressOf(context.Background(), o)
		if err != nil {
			e.t.Fatal(err)
		}
		if pr.InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			rows, _ := e.db.Pool.Query(context.Background(), `SELECT state, attempt, coalesce(errors::text, ''), scheduled_at::text FROM river_job WHERE kind = 'client_delegation' ORDER BY id`)
			for rows.Next() {
				var st, er, at string
				var n int
				_ = rows.Scan(&st, &n, &er, &at)
				e.t.Logf("job %s %d %s %s", st, n, at, er)
			}
			rows.Close()
			cs, _ := e.db.ClientsOf(context.Background(), o.ID)
			for _, c := range cs {
				e.t.Logf("client %s %s %q login %v next %v", c.OrgNo, c.State, c.Reason, c.LoginID, c.NextAt)
			}
			e.t.Fatalf("the clients were not done within 30 s: %d in flight", pr.InFlight)
		}
		time.Sleep(50 * time.Millisecond) // polling, with the deadline above
	}
	p := b.get(e.web.URL + "/clients/" + o.Ref + "/progress")
	if pr := progressOf(e.t, p); pr.inflight != 0 || p.header.Get("Refresh") != "" {
		e.t.Errorf("a finished progress page: %+v, Refresh %q", pr, p.header.Get("Refresh"))
	}
	return p
}

func (e *env) clientRows(onboardingID string) map[string]string {
	e.t.Helper()
	rows, err := e.db.ClientsOf(context.Background(), onboardingID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.ClientID] = string(r.State)
	}
	return out
}

// TestClientsAccountant: the accountant logs in through the simulated
// ID-porten, adds all the firm's clients with one button, one that left the
// firm meanwhile is reported in words, a second "add all" sends nothing, a
// removal works, and the timeline has it all; a stranger with the link sees
// no client, and a login whose token ran out asks to log in again.
func TestClientsAccountant(t *testing.T) {
	t.Parallel()
	e, o, clock := clientsEnv(t)
	b := e.browser()

	// A stranger holding the link sees the login page, nothing of the
	// firm's clients, and cannot ask for any.
	stranger := e.browser()
	if p := stranger.get(e.web.URL + "/clients/" + o.Ref); p.status != http.StatusOK ||
		!strings.Contains(p.body, `data-testid="clients-login"`) || strings.Contains(p.body, "client-row") {
		t.Fatalf("a stranger's clients page (%d):\n%.1500s", p.status, p.body)
	}
	st := stranger.get(e.web.URL + "/status/" + o.Ref)
	if p := stranger.post(e.web.URL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(t, st)}, "all": {"1"}}); p.status != http.StatusOK ||
		!strings.Contains(p.body, `data-testid="clients-login"`) {
		t.Fatalf("a stranger's add (%d):\n%.1500s", p.status, p.body)
	}

	back := e.clientsLogin(b, o, sim.PersonClientAdmin)
	if back.status != http.StatusSeeOther || back.location != "/clients/"+o.Ref {
		t.Fatalf("callback: %d Location %q\n%.1500s", back.status, back.location, back.body)
	}
	for _, ck := range b.c.Jar.Cookies(mustURL(t, e.web.URL)) {
		if strings.Contains(ck.Value, ".") && len(ck.Value) > 200 {
			t.Errorf("cookie %s looks like a token", ck.Name)
		}
	}
	list := b.get(e.web.URL + back.location)
	rows := clientRowRE.FindAllStringSubmatch(list.body, -1)
	if list.status != http.StatusOK || len(rows) < 250 {
		t.Fatalf("clients page: %d, %d rows\n%.1500s", list.status, len(rows), list.body)
	}
	if !strings.Contains(list.body, "310 000 027") || !strings.Contains(list.body, "KYSTBAKERIET AS") {
		t.Error("the clients page does not show names and formatted numbers")
	}
	// Search and filter.
	if p := b.get(e.web.URL + "/clients/" + o.Ref + "?q=kystbakeriet"); len(clientRowRE.FindAllString(p.body, -1)) != 1 {
		t.Errorf("search by name: %d rows", len(clientRowRE.FindAllString(p.body, -1)))
	}
	if p := b.get(e.web.URL + "/clients/" + o.Ref + "?q=310+000+027"); len(clientRowRE.FindAllString(p.body, -1)) != 1 {
		t.Errorf("search by number: %d rows", len(clientRowRE.FindAllString(p.body, -1)))
	}
	if p := b.get(e.web.URL + "/clients/" + o.Ref + "?show=delegated"); len(clientRowRE.FindAllString(p.body, -1)) != 0 {
		t.Errorf("delegated before any add: %d rows", len(clientRowRE.FindAllString(p.body, -1)))
	}

	// Add all; one client leaves the firm before its turn.
	leaver := rows[1][1]
	res := b.post(e.web.URL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(t, list)}, "all": {"1"}})
	if res.status != http.StatusSeeOther || res.location != "/clients/"+o.Ref+"/progress" {
		t.Fatalf("add all: %d Location %q\n%.1500s", res.status, res.location, res.body)
	}
	first := b.get(e.web.URL + res.location)
	if pr := progressOf(t, first); pr.total != len(rows) || pr.inflight != len(rows) || first.header.Get("Refresh") != "2" {
		t.Fatalf("progress before the jobs: %+v, Refresh %q", pr, first.header.Get("Refresh"))
	}
	if !strings.Contains(first.body, "<progress") {
		t.Error("no progress bar")
	}
	if err := e.app.Sim.EndClientRelationship(sim.FirmOrgNo, leaver); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.startJobs()
	done := e.waitDone(b, o)
	t.Logf("%d clients added in %v", len(rows)-1, time.Since(start).Round(time.Millisecond))
	pr := progressOf(t, done)
	if pr.done != len(rows) || pr.failed != 1 {
		t.Fatalf("progress when done: %+v, want %d done and 1 failed", pr, len(rows))
	}
	if !strings.Contains(done.body, "Altinn finner den ikke blant firmaets klienter") {
		t.Errorf("the failed client is not explained in words:\n%.3000s", done.body)
	}
	stats := e.app.Sim.Stats()
	if stats.ClientsAdded != len(rows)-1 || stats.ClientsAddedAgain != 0 {
		t.Fatalf("sim: %d added, %d again; want %d and 0", stats.ClientsAdded, stats.ClientsAddedAgain, len(rows)-1)
	}
	if got := e.clientRows(o.ID)[leaver]; got != string(domain.ClientFailed) {
		t.Errorf("the leaver is %q", got)
	}

	// A second "add all" sends nothing new.
	list = b.get(e.web.URL + "/clients/" + o.Ref)
	if strings.Contains(list.body, `data-testid="clients-add-all"`) {
		t.Error("add all is still offered with every client added")
	}
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(t, list)}, "all": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("second add all: %d", p.status)
	}
	e.waitDone(b, o)
	if s := e.app.Sim.Stats(); s.ClientsAdded != stats.ClientsAdded || s.ClientsAddedAgain != 0 {
		t.Fatalf("second add all: sim %d added, %d again", s.ClientsAdded, s.ClientsAddedAgain)
	}

	// A removal.
	gone := rows[0][1]
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/remove", url.Values{"_csrf": {csrfOf(t, list)}, "client": {gone}}); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d\n%.1000s", p.status, p.body)
	}
	e.waitDone(b, o)
	if s := e.app.Sim.Stats(); s.ClientsRemoved != 1 {
		t.Fatalf("sim: %d removed, want 1", s.ClientsRemoved)
	}
	if got := e.clientRows(o.ID)[gone]; got != string(domain.ClientRemoved) {
		t.Errorf("the removed client is %q", got)
	}

	// The timeline: the asks and each client's outcome.
	var asks, outcomes int
	for _, ev := range e.events(o) {
		if ev.Kind != domain.EventClients {
			continue
		}
		if ev.Operation == domain.ClientsAsk || ev.Operation == domain.ClientsAskRemove {
			asks++
		} else {
			outcomes++
		}
		if strings.Contains(ev.Actor, sim.PersonClientAdmin) {
			t.Fatal("the national id is on the timeline")
		}
	}
	if asks != 2 || outcomes != len(rows)+1 {
		t.Errorf("timeline: %d asks and %d outcomes, want 2 and %d", asks, outcomes, len(rows)+1)
	}

	// The login is past what refreshing may keep alive (clients.MaxSession)
	// and its token has run out: the page asks to log in again.
	clock.set(2 * time.Hour)
	if p := b.get(e.web.URL + "/clients/" + o.Ref); p.status != http.StatusUnauthorized || !strings.Contains(p.body, `data-note="clients.err.ended"`) ||
		!strings.Contains(p.body, `data-testid="clients-login-button"`) || strings.Contains(p.body, "client-row") {
		t.Fatalf("after the token ran out (%d):\n%.1500s", p.status, p.body)
	}
	before := e.app.Sim.Stats()
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/remove", url.Values{"_csrf": {csrfOf(t, list)}, "client": {rows[2][1]}}); p.status != http.StatusUnauthorized {
		t.Fatalf("a removal after the token ran out: %d", p.status)
	}
	if got := e.clientRows(o.ID)[rows[2][1]]; got != string(domain.ClientDelegated) || e.app.Sim.Stats().ClientsRemoved != before.ClientsRemoved {
		t.Fatalf("a removal after the token ran out changed something: %q", got)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestClientsRefusals: a callback with another state, an ID-porten answer
// with another nonce, a login that took too long, one cancelled, a person
// of another firm, a person without the role, Altinn not answering, and a
// system user Altinn no longer lists each get a clear page in words, and
// nothing is stored.
func TestClientsRefusals(t *testing.T) {
	t.Parallel()
	e, o, clock := clientsEnv(t)
	refused := func(name string, p page, status int, note string) {
		t.Helper()
		if p.status != status || !strings.Contains(p.body, `data-note="`+note+`"`) || strings.Contains(p.body, "goroutine") {
			t.Errorf("%s: %d, want %d with %s:\n%.1500s", name, p.status, status, note, p.body)
		}
		if status == http.StatusBadRequest && note != "clients.err.nologin" && !strings.Contains(p.body, `data-testid="clients-login-button"`) {
			t.Errorf("%s: no log in again button", name)
		}
	}

	// Another state: the callback of a login is tampered with.
	b := e.browser()
	back := simtest.PickPerson(t, e.beginClientsLogin(b, o), sim.PersonClientAdmin)
	q := back.Query()
	q.Set("state", "another-state")
	back.RawQuery = q.Encode()
	refused("bad state", b.get(back.String()), http.StatusBadRequest, "clients.err.badanswer")

	// Another nonce: the authorize request is changed on its way.
	auth := mustURL(t, e.beginClientsLogin(b, o))
	q = auth.Query()
	q.Set("nonce", "another-nonce")
	auth.RawQuery = q.Encode()
	refused("bad nonce", b.get(simtest.PickPerson(t, auth.String(), sim.PersonClientAdmin).String()), http.StatusBadRequest, "clients.err.badanswer")

	// Another login's answer: the browser began a second login since.
	firstAuth := e.beginClientsLogin(b, o)
	e.beginClientsLogin(b, o)
	refused("another login's answer", b.get(simtest.PickPerson(t, firstAuth, sim.PersonClientAdmin).String()), http.StatusBadRequest, "clients.err.badanswer")

	// Too slow: the answer comes after idporten.MaxPending.
	auth2 := e.beginClientsLogin(b, o)
	back = simtest.PickPerson(t, auth2, sim.PersonClientAdmin)
	clock.set(11 * time.Minute)
	refused("expired", b.get(back.String()), http.StatusBadRequest, "clients.err.expired")
	clock.set(0)

	// Cancelled at ID-porten.
	refused("cancelled", e.clientsLogin(b, o, ""), http.StatusBadRequest, "clients.err.cancelled")

	// A person of another firm, and one without the role.
	refused("another firm", e.clientsLogin(e.browser(), o, sim.PersonOtherFirm), http.StatusForbidden, "clients.err.notallowed")
	p := e.clientsLogin(e.browser(), o, sim.PersonNoRole)
	refused("no role", p, http.StatusForbidden, "clients.err.notallowed")
	if !strings.Contains(p.body, "klientadministrator") {
		t.Error("the no-role page does not name the role needed")
	}

	// Altinn's token exchange does not answer.
	down := e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: "/authentication/api/v1/exchange/id-porten", Status: http.StatusServiceUnavailable})
	refused("Altinn down", e.clientsLogin(e.browser(), o, sim.PersonClientAdmin), http.StatusServiceUnavailable, "clients.err.unavailable")
	down()

	// A callback without any login.
	refused("no login", e.browser().get(e.web.URL+"/idporten/callback?state=x&code=y"), http.StatusBadRequest, "clients.err.nologin")

	// The system user is gone at Altinn (deleted by the customer): the
	// login is not for this organisation's system user.
	gone := e.browser()
	auth3 := e.beginClientsLogin(gone, o)
	if err := e.app.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
		t.Fatal(err)
	}
	refused("system user gone", gone.get(simtest.PickPerson(t, auth3, sim.PersonClientAdmin).String()), http.StatusForbidden, "clients.err.otherorg")

	var logins, clients int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM person_logins WHERE token IS NOT NULL`).Scan(&logins); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM onboarding_clients`).Scan(&clients); err != nil {
		t.Fatal(err)
	}
	if logins != 0 || clients != 0 || e.app.Sim.Stats().ClientsAdded != 0 {
		t.Fatalf("refusals stored %d logged-in logins and %d clients", logins, clients)
	}
}

// TestClientsLoginEnds: the person's login ends (its token has run out and
// it is past clients.MaxSession) before the clients' turn; they wait for a new login (the progress page says so and offers
// it, and stops refreshing), and the next login carries on where it stopped.
func TestClientsLoginEnds(t *testing.T) {
	t.Parallel()
	e, o, clock := clientsEnv(t)
	b := e.browser()
	if back := e.clientsLogin(b, o, sim.PersonClientAdmin); back.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%.1000s", back.status, back.body)
	}
	list := b.get(e.web.URL + "/clients/" + o.Ref + "?show=not")
	rows := clientRowRE.FindAllStringSubmatch(list.body, -1)
	form := url.Values{"_csrf": {csrfOf(t, list)}}
	for _, r := range rows[:5] {
		form.Add("client", r[1])
	}
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/add", form); p.status != http.StatusSeeOther {
		t.Fatalf("add: %d", p.status)
	}
	clock.set(2 * time.Hour) // past the token, and past what refreshing may keep alive
	e.startJobs()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pr, err := e.app.Clients.ProgressOf(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Waiting == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clients do not wait for a login: %+v", pr)
		}
		time.Sleep(50 * time.Millisecond) // polling, with the deadline above
	}
	p := b.get(e.web.URL + "/clients/" + o.Ref + "/progress")
	if pr := progressOf(t, p); pr.waiting != 5 || !strings.Contains(p.body, `data-testid="clients-waiting"`) || p.header.Get("Refresh") != "" {
		t.Fatalf("progress while waiting: %+v, Refresh %q\n%.2000s", pr, p.header.Get("Refresh"), p.body)
	}
	if n := e.app.Sim.Stats().ClientsAdded; n != 0 {
		t.Fatalf("%d clients added with a token that had run out", n)
	}
	clock.set(0)
	res := b.post(e.web.URL+"/clients/"+o.Ref+"/login", url.Values{"_csrf": {csrfOf(t, p)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("log in again: %d", res.status)
	}
	if back := b.get(simtest.PickPerson(t, res.location, sim.PersonClientAdmin).String()); back.status != http.StatusSeeOther {
		t.Fatalf("callback again: %d\n%.1000s", back.status, back.body)
	}
	e.waitDone(b, o)
	if s := e.app.Sim.Stats(); s.ClientsAdded != 5 || s.ClientsAddedAgain != 0 {
		t.Fatalf("after the new login: sim %d added, %d again; want 5 and 0", s.ClientsAdded, s.ClientsAddedAgain)
	}
}

// TestClientsTokenRefresh: a login outlasts ID-porten's short access tokens
// (120 s in the simulator) by its refresh token: with every token taken as
// about to run out, each use refreshes it (ID-porten's refresh grant, then
// Altinn's exchange again, one at a time under the login's row lock), and
// the clients are added with the refreshed tokens, each once.
func TestClientsTokenRefresh(t *testing.T) {
	t.Parallel()
	e, o, _ := clientsEnv(t)
	e.app.Clients.RefreshBefore = 3 * time.Minute
	b := e.browser()
	if back := e.clientsLogin(b, o, sim.PersonClientAdmin); back.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%.1000s", back.status, back.body)
	}
	var before []byte
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT token FROM person_logins WHERE token IS NOT NULL`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	exchanges := func() int { return e.app.Sim.Stats().Calls["GET /authentication/api/v1/exchange/id-porten"] }
	afterLogin := exchanges()
	list := b.get(e.web.URL + "/clients/" + o.Ref + "?show=not")
	rows := clientRowRE.FindAllStringSubmatch(list.body, -1)
	form := url.Values{"_csrf": {csrfOf(t, list)}}
	for _, r := range rows[:5] {
		form.Add("client", r[1])
	}
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/add", form); p.status != http.StatusSeeOther {
		t.Fatalf("add: %d", p.status)
	}
	e.startJobs()
	e.waitDone(b, o)
	if s := e.app.Sim.Stats(); s.ClientsAdded != 5 || s.ClientsAddedAgain != 0 {
		t.Fatalf("sim: %d added, %d again; want 5 and 0", s.ClientsAdded, s.ClientsAddedAgain)
	}
	var after []byte
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT token FROM person_logins WHERE token IS NOT NULL`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if n := exchanges() - afterLogin; n < 2 || string(after) == string(before) {
		t.Fatalf("%d exchanges after the login, token changed %v: the login was not refreshed", n, string(after) != string(before))
	}
	// Logging out ends the login and its tokens.
	list = b.get(e.web.URL + "/clients/" + o.Ref)
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/logout", url.Values{"_csrf": {csrfOf(t, list)}}); p.status != http.StatusSeeOther || p.location != "/status/"+o.Ref {
		t.Fatalf("logout: %d Location %q", p.status, p.location)
	}
	if p := b.get(e.web.URL + "/clients/" + o.Ref); !strings.Contains(p.body, `data-testid="clients-login"`) || strings.Contains(p.body, "client-row") {
		t.Fatalf("after logging out:\n%.1000s", p.body)
	}
	var logins int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM person_logins`).Scan(&logins); err != nil || logins != 0 {
		t.Fatalf("%d logins after logging out, %v", logins, err)
	}
}

// TestClientsRetryAndLatency: with Altinn taking 50 ms per add and
// answering one of them 503 first, every client is still added once (the
// 503 one after its back-off), and the run takes about N·latency/C for the
// clients queue's C workers, not N·latency.
func TestClientsRetryAndLatency(t *testing.T) {
	t.Parallel()
	e, o, _ := clientsEnv(t)
	b := e.browser()
	if back := e.clientsLogin(b, o, sim.PersonClientAdmin); back.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%.1000s", back.status, back.body)
	}
	list := b.get(e.web.URL + "/clients/" + o.Ref)
	n := len(clientRowRE.FindAllString(list.body, -1))
	const latency = 50 * time.Millisecond
	path := "/authentication/api/v1/enduser/systemuser/clients"
	defer e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: path, Status: http.StatusServiceUnavailable, Times: 1})()
	defer e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: path, Latency: latency})()
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(t, list)}, "all": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add all: %d", p.status)
	}
	start := time.Now()
	e.startJobs()
	done := e.waitDone(b, o)
	took := time.Since(start)
	floor := time.Duration(n) * latency / clients.Workers
	t.Logf("%d clients at %v each, %d workers: %v (floor %v, %.2f× the floor)", n, latency, clients.Workers,
		took.Round(time.Millisecond), floor, float64(took)/float64(floor))
	if pr := progressOf(t, done); pr.done != n || pr.failed != 0 {
		t.Fatalf("progress: %+v, want %d done, none failed", pr, n)
	}
	if s := e.app.Sim.Stats(); s.ClientsAdded != n || s.ClientsAddedAgain != 0 {
		t.Fatalf("sim: %d added, %d again; want %d and 0", s.ClientsAdded, s.ClientsAddedAgain, n)
	}
	if took > time.Duration(n)*latency*3/4 { // one at a time would take N·latency
		t.Errorf("%v for %d clients: the workers do not run side by side", took, n)
	}
}
