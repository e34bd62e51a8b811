package onboarding_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// The service's unit tests run it against the fake Altinn (fake_altinn_test.go)
// and a real Postgres (one fresh database per top-level test; each case has
// an organisation number of its own, so cases run in parallel on it), with
// a clock the test moves.

const (
	returnURL = "https://onboard.example/return"
	systemID  = "991825827_regnskap"
	agentSys  = "991825827_klient"
	right1    = "ske-krav-og-betalinger"
	right2    = "ske-mva-melding"
	package1  = "urn:altinn:accesspackage:regnskapsforer-lonn"
)

// products: a standard one whose usability is checked (it has scopes) and
// an agent one that is not.
func products() []config.Product {
	return []config.Product{
		{ID: "regnskap", Kind: domain.KindStandard, SystemID: systemID, Rights: []string{right1}, Scopes: []string{"skatteetaten:krav"}},
		{ID: "klient", Kind: domain.KindAgent, SystemID: agentSys, AccessPackages: []string{package1}},
	}
}

// testClock is the service's Now: it moves only when the test says.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testSchedule looks again in an hour at what waits on Altinn or the
// customer, daily at a connected onboarding, never at an ending.
type testSchedule struct{}

func (testSchedule) NextCheck(status domain.Status, since, _ time.Time) *time.Time {
	var t time.Time
	switch status {
	case domain.StatusStarted, domain.StatusRequesting, domain.StatusPending, domain.StatusAccepted:
		t = since.Add(time.Hour)
	case domain.StatusConnected:
		t = since.Add(24 * time.Hour)
	default:
		return nil
	}
	return &t
}

// env is one case's world: the service, its fake Altinn and Maskinporten,
// its clock and the organisation it onboards.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *db.DB
	altinn *fakeAltinn
	tokens *fakeTokens
	clock  *testClock
	svc    *onboarding.Service
	org    string
}

var orgSeq atomic.Int64

// newDB is the database a top-level test's cases share.
func newDB(t *testing.T) *db.DB {
	t.Helper()
	return dbtest.New(t)
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	alt := newFakeAltinn(clock.Now)
	tok := &fakeTokens{}
	e := &env{
		t: t, ctx: t.Context(), db: d, altinn: alt, tokens: tok, clock: clock,
		org: fmt.Sprintf("9%08d", orgSeq.Add(1)),
	}
	e.svc = e.service()
	t.Cleanup(func() { alt.unusedFaults(t) })
	return e
}

// service is another copy of the service on the same database and Altinn,
// as a second request or instance would have.
func (e *env) service() *onboarding.Service {
	return &onboarding.Service{
		DB: e.db, Altinn: e.altinn, Products: products(), ReturnURL: returnURL,
		ConfirmHosts: []string{confirmHost}, Now: e.clock.Now, OpTimeout: 10 * time.Second,
		Schedule: testSchedule{}, Tokens: e.tokens,
	}
}

// asks sets what product id asks for now (its rights), as a vendor's new
// configuration does.
func (e *env) asks(id string, rights ...string) {
	for i := range e.svc.Products {
		if e.svc.Products[i].ID == id {
			e.svc.Products[i].Rights = rights
		}
	}
}

func (e *env) row(o *domain.Onboarding) *domain.Onboarding {
	e.t.Helper()
	fresh, err := e.db.OnboardingByID(e.ctx, o.ID)
	if err != nil {
		e.t.Fatalf("read onboarding: %v", err)
	}
	return fresh
}

func (e *env) events(o *domain.Onboarding) []domain.Event {
	e.t.Helper()
	evs, err := e.db.Events(e.ctx, o.ID)
	if err != nil {
		e.t.Fatalf("events: %v", err)
	}
	return evs
}

// must fails the test unless o (and its stored row) is in status.
func (e *env) must(o *domain.Onboarding, status domain.Status) *domain.Onboarding {
	e.t.Helper()
	if o == nil {
		e.t.Fatalf("no onboarding, want one in %s", status)
	}
	if o.Status != status {
		e.t.Fatalf("onboarding is %s (%s), want %s", o.Status, str(o.ErrorCode), status)
	}
	if r := e.row(o); r.Status != status || r.Version != o.Version {
		e.t.Fatalf("stored row is %s at version %d, the caller's copy %s at %d", r.Status, r.Version, status, o.Version)
	}
	return o
}

func (e *env) start(product string) (*domain.Onboarding, bool, error) {
	return e.svc.Start(e.ctx, onboarding.StartInput{Product: product, OrgNo: e.org, Lang: "nb", Cause: domain.CauseCustomer})
}

// Onboardings brought to each status the way they get there, through the
// service; each leaves the fake's call log empty.

func (e *env) pending() *domain.Onboarding {
	e.t.Helper()
	o, _, err := e.start("regnskap")
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return e.settled(e.must(o, domain.StatusPending))
}

// requesting is an onboarding whose create got no usable answer; with
// stored, Altinn did store the request (the answer was lost).
func (e *env) requesting(stored bool) *domain.Onboarding {
	e.t.Helper()
	if stored {
		e.altinn.fail(opCreate, lostTimeout)
	} else {
		e.altinn.fail(opCreate, unavailable)
	}
	o, _, err := e.start("regnskap")
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return e.settled(e.must(o, domain.StatusRequesting))
}

func (e *env) requestID(o *domain.Onboarding) string {
	e.t.Helper()
	if o.AltinnRequestID == nil {
		e.t.Fatalf("onboarding %s has no Altinn request", o.Status)
	}
	return *o.AltinnRequestID
}

func (e *env) connected() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	e.altinn.approve(e.t, e.requestID(o))
	return e.settled(e.refreshTo(o, domain.StatusConnected))
}

// pendingAgent waits for an accountant to approve an agent request.
func (e *env) pendingAgent() *domain.Onboarding {
	e.t.Helper()
	o, _, err := e.start("klient")
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return e.settled(e.must(o, domain.StatusPending))
}

// connectedAgent is a connected agent (client) system user.
func (e *env) connectedAgent() *domain.Onboarding {
	e.t.Helper()
	o := e.pendingAgent()
	e.altinn.approve(e.t, e.requestID(o))
	return e.settled(e.refreshTo(o, domain.StatusConnected))
}

// accepted is approved at Altinn but its system user not found by byquery.
func (e *env) accepted() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	e.altinn.accept(e.t, e.requestID(o))
	return e.settled(e.refreshTo(o, domain.StatusAccepted))
}

func (e *env) rejected() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	e.altinn.setStatus(e.t, e.requestID(o), "Rejected")
	return e.settled(e.refreshTo(o, domain.StatusRejected))
}

func (e *env) expired() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	e.altinn.timeOut(e.t, e.requestID(o))
	return e.settled(e.refreshTo(o, domain.StatusExpired))
}

// failed is an onboarding whose create Altinn refused (it has no request).
func (e *env) failed() *domain.Onboarding {
	e.t.Helper()
	e.altinn.fail(opCreate, refuse(400, "AUTH-00021"))
	o, _, err := e.start("regnskap")
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return e.settled(e.must(o, domain.StatusFailed))
}

// gone is failed because its request disappeared at Altinn.
func (e *env) gone() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	e.altinn.dropRequest(e.t, e.requestID(o))
	return e.settled(e.refreshTo(o, domain.StatusFailed))
}

func (e *env) revoked() *domain.Onboarding {
	e.t.Helper()
	o := e.connected()
	e.altinn.deleteSystemUser(e.t, *o.SystemUserID)
	return e.settled(e.refreshTo(o, domain.StatusRevoked))
}

func (e *env) cancelled() *domain.Onboarding {
	e.t.Helper()
	o := e.pending()
	if err := e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no"); err != nil {
		e.t.Fatalf("cancel: %v", err)
	}
	return e.settled(e.must(o, domain.StatusCancelled))
}

// started is an onboarding left in started, a status no path writes today
// but the schema and the lists know: it is stored directly.
func (e *env) started() *domain.Onboarding {
	e.t.Helper()
	o := e.requesting(false)
	o.Status = domain.StatusStarted
	if err := e.db.SaveOnboarding(e.ctx, o, domain.StatusRequesting, domain.CauseSystem, ""); err != nil {
		e.t.Fatalf("save started: %v", err)
	}
	return o
}

// in brings an onboarding to status.
func (e *env) in(status domain.Status) *domain.Onboarding {
	e.t.Helper()
	switch status {
	case domain.StatusStarted:
		return e.started()
	case domain.StatusRequesting:
		return e.requesting(false)
	case domain.StatusPending:
		return e.pending()
	case domain.StatusAccepted:
		return e.accepted()
	case domain.StatusConnected:
		return e.connected()
	case domain.StatusRejected:
		return e.rejected()
	case domain.StatusExpired:
		return e.expired()
	case domain.StatusFailed:
		return e.failed()
	case domain.StatusCancelled:
		return e.cancelled()
	case domain.StatusRevoked:
		return e.revoked()
	}
	e.t.Fatalf("no way to %s", status)
	return nil
}

func (e *env) refreshTo(o *domain.Onboarding, status domain.Status) *domain.Onboarding {
	e.t.Helper()
	if err := e.svc.Refresh(e.ctx, o, domain.CauseCustomer, ""); err != nil {
		e.t.Fatalf("refresh: %v", err)
	}
	return e.must(o, status)
}

// settled checks o's history and forgets the calls that brought it here.
func (e *env) settled(o *domain.Onboarding) *domain.Onboarding {
	e.t.Helper()
	e.checkHistory(o)
	e.altinn.unusedFaults(e.t)
	e.altinn.resetCalls()
	return o
}

// checkHistory: the onboarding's status events tell its whole life, each
// from where the one before left it, to its stored status; its next look is
// set with it (none for an ending).
func (e *env) checkHistory(o *domain.Onboarding) {
	e.t.Helper()
	row := e.row(o)
	evs := e.events(o)
	if len(evs) == 0 || evs[0].Kind != domain.EventCreated {
		e.t.Fatalf("history does not begin with its creation: %+v", evs)
	}
	at := evs[0].ToStatus
	for _, ev := range evs[1:] {
		if ev.Kind != domain.EventStatus {
			continue
		}
		if ev.FromStatus != at {
			e.t.Errorf("status event %s -> %s follows %s", ev.FromStatus, ev.ToStatus, at)
		}
		if ev.FromStatus == ev.ToStatus {
			e.t.Errorf("status event %s -> %s changes nothing", ev.FromStatus, ev.ToStatus)
		}
		at = ev.ToStatus
	}
	if at != string(row.Status) {
		e.t.Errorf("history ends at %s, the onboarding is %s", at, row.Status)
	}
	var sched testSchedule
	if live := sched.NextCheck(row.Status, row.StatusAt, row.StatusAt) != nil; live != (row.NextCheckAt != nil) {
		e.t.Errorf("%s onboarding with next_check_at %v", row.Status, row.NextCheckAt)
	}
}

// since is what happened on o's timeline after the first n events: the
// statuses it moved to, and the Altinn calls recorded.
func since(evs []domain.Event, n int) (path []domain.Status, calls []string) {
	for _, ev := range evs[n:] {
		switch ev.Kind {
		case domain.EventStatus:
			path = append(path, domain.Status(ev.ToStatus))
		case domain.EventAltinnCall:
			calls = append(calls, ev.Operation)
		}
	}
	return path, calls
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func equal[T comparable](a, b []T) bool { return slices.Equal(a, b) }
