package onboarding_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// The Altinn calls the fake answers, named as the service names them on the
// timeline (op of its altinn_call events).
const (
	opCreate          = "POST request/vendor"
	opCreateAgent     = "POST request/vendor/agent"
	opGet             = "GET request/vendor/{id}"
	opGetAgent        = "GET request/vendor/agent/{id}"
	opByExtRef        = "GET request/vendor/byexternalref"
	opByExtRefAgent   = "GET request/vendor/agent/byexternalref"
	opDelete          = "DELETE request/vendor/{id}"
	opByQuery         = "GET systemuser/vendor/byquery"
	opCreateChange    = "POST changerequest/vendor"
	opGetChange       = "GET changerequest/vendor/{id}"
	opDeleteChange    = "DELETE changerequest/vendor/{id}"
	confirmHost       = "am.ui.tt02.altinn.no"
	confirmURLPattern = "https://" + confirmHost + "/accessmanagement/ui/systemuser/%s?id=%s&DONTCHOOSEREPORTEE=true"
)

// fakeAltinn is an in-memory Altinn for the service's unit tests: it keeps
// requests, system users and change requests as Altinn does (contract.md §0:
// one live request per key and type, AUTH-00004 while a system user exists,
// soft deletes, 404 AUTH-00010 for what is gone), and answers each call from
// that state unless the test scripted a fault for it. The customer's part
// (approve, reject, delete the system user) is done by the test through its
// methods.
type fakeAltinn struct {
	mu       sync.Mutex
	now      func() time.Time
	requests []*fakeRequest // in creation order
	users    []*fakeUser
	changes  []*fakeChange
	calls    []string
	faults   map[string][]fault
}

type fakeRequest struct {
	altinn.Request
	deleted bool
}

type fakeUser struct {
	altinn.SystemUser
	deleted bool
}

type fakeChange struct {
	altinn.ChangeRequest
	deleted bool
}

// fault is what one scripted call answers instead of the state's answer.
// With lost set, Altinn does what was asked first, and then its answer is
// lost on the way back (a timeout, a 5xx from a proxy): the caller cannot
// tell whether anything happened.
type fault struct {
	err  error
	lost bool
}

func newFakeAltinn(now func() time.Time) *fakeAltinn {
	return &fakeAltinn{now: now, faults: map[string][]fault{}}
}

// Faults a test can script.
var (
	errTimeout = fmt.Errorf("altinn: POST request/vendor: %w", context.DeadlineExceeded)
	// lostTimeout: the call reached Altinn and took effect; the answer did not come back.
	lostTimeout = fault{err: errTimeout, lost: true}
	// lost502: took effect, then a proxy answered 502.
	lost502 = fault{err: &altinn.Problem{Status: 502, Title: "Bad Gateway"}, lost: true}
	// unavailable: Altinn answered 503 and did nothing.
	unavailable = fault{err: &altinn.Problem{Status: 503, Title: "Service Unavailable"}}
)

// refuse is an Altinn problem answer with its AUTH code (problem.go).
func refuse(status int, code string) fault {
	return fault{err: &altinn.Problem{Status: status, Code: code, Type: "urn:altinn:error:" + code, Title: "refused: " + code}}
}

// fail scripts the next calls of op, one fault per call, in order.
func (f *fakeAltinn) fail(op string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], faults...)
}

// call records a call of op and takes its scripted fault, if any. Locked.
func (f *fakeAltinn) call(op string) (fault, bool) {
	f.calls = append(f.calls, op)
	q := f.faults[op]
	if len(q) == 0 {
		return fault{}, false
	}
	f.faults[op] = q[1:]
	return q[0], true
}

// Calls returns the calls made since the last resetCalls, in order.
func (f *fakeAltinn) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeAltinn) resetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// unusedFaults fails the test when a scripted fault was never met: the
// service did not make the call the test meant to break.
func (f *fakeAltinn) unusedFaults(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for op, q := range f.faults {
		if len(q) > 0 {
			t.Errorf("%d scripted fault(s) for %s never met", len(q), op)
		}
	}
}

func defaultRef(orgNo, extRef string) string {
	if extRef == "" {
		return orgNo
	}
	return extRef
}

func sameKey(systemID, orgNo, extRef, systemID2, orgNo2, extRef2 string) bool {
	return systemID == systemID2 && orgNo == orgNo2 && defaultRef(orgNo, extRef) == defaultRef(orgNo2, extRef2)
}

func notFound(code string) error {
	return &altinn.Problem{Status: 404, Code: code, Type: "urn:altinn:error:" + code, Title: "Not found"}
}

// bareNotFound is byquery's 404: a generic problem without a code.
var bareNotFound = &altinn.Problem{Status: 404, Title: "Not Found"}

func (f *fakeAltinn) CreateRequest(_ context.Context, r altinn.CreateRequest) (*altinn.Request, bool, error) {
	return f.create(opCreate, false, altinn.Request{
		SystemID: r.SystemID, PartyOrgNo: r.PartyOrgNo, ExternalRef: defaultRef(r.PartyOrgNo, r.ExternalRef),
		Rights: r.Rights, AccessPackages: r.AccessPackages, RedirectURL: r.RedirectURL,
	})
}

func (f *fakeAltinn) CreateAgentRequest(_ context.Context, r altinn.CreateAgentRequest) (*altinn.Request, bool, error) {
	return f.create(opCreateAgent, true, altinn.Request{
		SystemID: r.SystemID, PartyOrgNo: r.PartyOrgNo, ExternalRef: defaultRef(r.PartyOrgNo, r.ExternalRef),
		AccessPackages: r.AccessPackages, RedirectURL: r.RedirectURL, Agent: true,
	})
}

func (f *fakeAltinn) create(op string, agent bool, r altinn.Request) (*altinn.Request, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, scripted := f.call(op)
	if scripted && !ft.lost {
		return nil, false, ft.err
	}
	req, created, err := f.createLocked(agent, r)
	if scripted {
		return nil, false, ft.err
	}
	return req, created, err
}

// createLocked is contract.md §0.4: a system user for the key refuses, a
// live request of the same type for the key is answered as it is, else a
// new one.
func (f *fakeAltinn) createLocked(agent bool, r altinn.Request) (*altinn.Request, bool, error) {
	for _, u := range f.users {
		if !u.deleted && sameKey(u.SystemID, u.ReporteeOrgNo, u.ExternalRef, r.SystemID, r.PartyOrgNo, r.ExternalRef) {
			return nil, false, refuse(400, "AUTH-00004").err
		}
	}
	for _, q := range f.requests {
		if !q.deleted && q.Agent == agent && sameKey(q.SystemID, q.PartyOrgNo, q.ExternalRef, r.SystemID, r.PartyOrgNo, r.ExternalRef) {
			c := q.Request
			return &c, false, nil
		}
	}
	if !agent && len(r.Rights)+len(r.AccessPackages) == 0 {
		return nil, false, refuse(400, "AUTH-00059").err
	}
	if agent && len(r.AccessPackages) == 0 {
		return nil, false, refuse(400, "AUTH-00058").err
	}
	r.ID = uuid.NewString()
	r.Status = altinn.StatusNew
	r.Created = f.now()
	page := "request"
	if agent {
		page = "agentrequest"
	}
	r.ConfirmURL = fmt.Sprintf(confirmURLPattern, page, r.ID)
	f.requests = append(f.requests, &fakeRequest{Request: r})
	c := r
	return &c, true, nil
}

func (f *fakeAltinn) GetRequest(_ context.Context, id string) (*altinn.Request, error) {
	return f.get(opGet, false, id)
}

func (f *fakeAltinn) GetAgentRequest(_ context.Context, id string) (*altinn.Request, error) {
	return f.get(opGetAgent, true, id)
}

func (f *fakeAltinn) get(op string, agent bool, id string) (*altinn.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft, ok := f.call(op); ok {
		return nil, ft.err
	}
	for _, q := range f.requests {
		if q.ID == id && !q.deleted && q.Agent == agent {
			c := q.Request
			return &c, nil
		}
	}
	return nil, notFound("AUTH-00010")
}

func (f *fakeAltinn) GetRequestByExternalRef(_ context.Context, systemID, orgNo, externalRef string) (*altinn.Request, error) {
	return f.byExtRef(opByExtRef, false, systemID, orgNo, externalRef)
}

func (f *fakeAltinn) GetAgentRequestByExternalRef(_ context.Context, systemID, orgNo, externalRef string) (*altinn.Request, error) {
	return f.byExtRef(opByExtRefAgent, true, systemID, orgNo, externalRef)
}

func (f *fakeAltinn) byExtRef(op string, agent bool, systemID, orgNo, externalRef string) (*altinn.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft, ok := f.call(op); ok {
		return nil, ft.err
	}
	for _, q := range slices.Backward(f.requests) {
		if !q.deleted && q.Agent == agent && sameKey(q.SystemID, q.PartyOrgNo, q.ExternalRef, systemID, orgNo, externalRef) {
			c := q.Request
			return &c, nil
		}
	}
	return nil, notFound("AUTH-00010")
}

func (f *fakeAltinn) DeleteRequest(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, scripted := f.call(opDelete)
	if scripted && !ft.lost {
		return ft.err
	}
	err := notFound("AUTH-00010")
	for _, q := range f.requests {
		if q.ID == id && !q.deleted {
			q.deleted, err = true, nil
		}
	}
	if scripted {
		return ft.err
	}
	return err
}

func (f *fakeAltinn) SystemUserByQuery(_ context.Context, systemID, orgNo, externalRef string) (*altinn.SystemUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft, ok := f.call(opByQuery); ok {
		return nil, ft.err
	}
	for _, u := range f.users {
		if !u.deleted && sameKey(u.SystemID, u.ReporteeOrgNo, u.ExternalRef, systemID, orgNo, externalRef) {
			c := u.SystemUser
			return &c, nil
		}
	}
	return nil, bareNotFound
}

// ListSystemUsers lists the system's system users, a deleted one marked
// IsDeleted.
func (f *fakeAltinn) ListSystemUsers(_ context.Context, systemID string) ([]altinn.SystemUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []altinn.SystemUser
	for _, u := range f.users {
		if u.SystemID == systemID {
			su := u.SystemUser
			su.IsDeleted = u.deleted
			out = append(out, su)
		}
	}
	return out, nil
}

func (f *fakeAltinn) CreateChangeRequest(_ context.Context, r altinn.CreateChangeRequest) (*altinn.ChangeRequest, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, scripted := f.call(opCreateChange)
	if scripted && !ft.lost {
		return nil, false, ft.err
	}
	res, created, err := f.createChangeLocked(r)
	if scripted {
		return nil, false, ft.err
	}
	return res, created, err
}

// createChangeLocked is contract.md §5's order: an unknown (or agent)
// system user, nothing asked (NoChangeNeeded, not stored), a known
// correlation id (answered as it is), else a new one.
func (f *fakeAltinn) createChangeLocked(r altinn.CreateChangeRequest) (*altinn.ChangeRequest, bool, error) {
	var su *fakeUser
	for _, u := range f.users {
		if u.ID == r.SystemUserID && !u.deleted {
			su = u
		}
	}
	if su == nil || su.UserType == "agent" {
		return nil, false, notFound("AUTH-00015")
	}
	res := altinn.ChangeRequest{
		ID: r.CorrelationID, ExternalRef: su.ExternalRef, SystemID: su.SystemID, SystemUserID: su.ID, PartyOrgNo: su.ReporteeOrgNo,
		RequiredRights: r.RequiredRights, UnwantedRights: r.UnwantedRights,
		RequiredAccessPackages: r.RequiredAccessPackages, UnwantedAccessPackages: r.UnwantedAccessPackages,
		RedirectURL: r.RedirectURL,
	}
	if len(r.RequiredRights)+len(r.UnwantedRights)+len(r.RequiredAccessPackages)+len(r.UnwantedAccessPackages) == 0 {
		res.Status = altinn.StatusNoChangeNeeded
		return &res, false, nil
	}
	for _, c := range f.changes {
		if c.ID == r.CorrelationID && !c.deleted {
			cp := c.ChangeRequest
			return &cp, false, nil
		}
	}
	res.Status = altinn.StatusNew
	res.Created = f.now()
	res.ConfirmURL = fmt.Sprintf(confirmURLPattern, "changerequest", res.ID)
	f.changes = append(f.changes, &fakeChange{ChangeRequest: res})
	return &res, true, nil
}

func (f *fakeAltinn) GetChangeRequest(_ context.Context, id string) (*altinn.ChangeRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft, ok := f.call(opGetChange); ok {
		return nil, ft.err
	}
	for _, c := range f.changes {
		if c.ID == id && !c.deleted {
			cp := c.ChangeRequest
			return &cp, nil
		}
	}
	return nil, notFound("AUTH-00010")
}

func (f *fakeAltinn) DeleteChangeRequest(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, scripted := f.call(opDeleteChange)
	if scripted && !ft.lost {
		return ft.err
	}
	err := notFound("AUTH-00010")
	for _, c := range f.changes {
		if c.ID == id && !c.deleted {
			c.deleted, err = true, nil
		}
	}
	if scripted {
		return ft.err
	}
	return err
}

// What the customer (or Altinn itself) does, outside the service's calls.

// request returns the request with id as Altinn holds it (deleted or not).
func (f *fakeAltinn) request(t *testing.T, id string) *fakeRequest {
	t.Helper()
	for _, q := range f.requests {
		if q.ID == id {
			return q
		}
	}
	t.Fatalf("fake Altinn has no request %s", id)
	return nil
}

// snapshot is a copy of the request with id as Altinn holds it now.
func (f *fakeAltinn) snapshot(t *testing.T, id string) fakeRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.request(t, id)
}

// live lists the requests for the key that are not deleted.
func (f *fakeAltinn) live(systemID, orgNo, extRef string) []*fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fakeRequest
	for _, q := range f.requests {
		if !q.deleted && sameKey(q.SystemID, q.PartyOrgNo, q.ExternalRef, systemID, orgNo, extRef) {
			out = append(out, q)
		}
	}
	return out
}

// ever counts the requests Altinn ever stored for the key, deleted or not.
func (f *fakeAltinn) ever(systemID, orgNo, extRef string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, q := range f.requests {
		if sameKey(q.SystemID, q.PartyOrgNo, q.ExternalRef, systemID, orgNo, extRef) {
			n++
		}
	}
	return n
}

// setStatus sets what Altinn says the request's status is (Rejected,
// Denied, the legacy Timedout).
func (f *fakeAltinn) setStatus(t *testing.T, id, status string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.request(t, id).Status = status
}

// timeOut sets the request's timedOut flag (older than 180 days).
func (f *fakeAltinn) timeOut(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.request(t, id).TimedOut = true
}

// escalate is the customer passing the request on to an access manager.
func (f *fakeAltinn) escalate(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.request(t, id).Escalated = true
}

// approve is the customer approving the request: it is accepted, and a
// system user with the request's id exists for its key (contract.md §0.9).
func (f *fakeAltinn) approve(t *testing.T, id string) {
	t.Helper()
	f.accept(t, id)
	f.addUserFor(t, id)
}

// accept sets the request accepted without its system user (yet): byquery
// does not find one, as Altinn can answer just after an approval.
func (f *fakeAltinn) accept(t *testing.T, id string) {
	t.Helper()
	f.setStatus(t, id, altinn.StatusAccepted)
}

// addUserFor makes the system user of an approved request, id for id.
func (f *fakeAltinn) addUserFor(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.request(t, id)
	userType := "standard"
	if q.Agent {
		userType = "agent"
	}
	f.users = append(f.users, &fakeUser{SystemUser: altinn.SystemUser{
		ID: q.ID, SystemID: q.SystemID, ReporteeOrgNo: q.PartyOrgNo, ExternalRef: q.ExternalRef,
		UserType: userType, Created: f.now(),
	}})
}

// deleteSystemUser is the customer deleting the system user in Altinn: its
// request goes with it (contract.md §0.12).
func (f *fakeAltinn) deleteSystemUser(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.ID == id {
			u.deleted = true
		}
	}
	for _, q := range f.requests {
		if q.ID == id {
			q.deleted = true
		}
	}
}

// dropRequest deletes the request at Altinn behind the service's back (an
// archiver, a request deleted by another of the vendor's tools).
func (f *fakeAltinn) dropRequest(t *testing.T, id string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.request(t, id).deleted = true
}

// addSystemUser makes a system user for the key outside any request (the
// customer did it in Altinn's portal) and returns its id.
func (f *fakeAltinn) addSystemUser(systemID, orgNo, extRef string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.NewString()
	f.users = append(f.users, &fakeUser{SystemUser: altinn.SystemUser{
		ID: id, SystemID: systemID, ReporteeOrgNo: orgNo, ExternalRef: defaultRef(orgNo, extRef), UserType: "standard", Created: f.now(),
	}})
	return id
}

// markUserDeleted keeps the system user findable by byquery but flagged
// isDeleted, as Altinn answers for one being deleted.
func (f *fakeAltinn) markUserDeleted(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.ID == id {
			u.IsDeleted = true
		}
	}
}

// addRequest stores a request for the key that the service did not make
// (another onboarding's, or the vendor's own product's) and returns its id.
func (f *fakeAltinn) addRequest(systemID, orgNo, extRef, redirect string, rights []altinn.Right) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(rights) == 0 {
		rights = []altinn.Right{{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"}}}}
	}
	req, _, err := f.createLocked(false, altinn.Request{SystemID: systemID, PartyOrgNo: orgNo, ExternalRef: defaultRef(orgNo, extRef),
		Rights: rights, RedirectURL: redirect})
	if err != nil {
		panic(err)
	}
	return req.ID
}

// change returns the change request with id as Altinn holds it.
func (f *fakeAltinn) change(t *testing.T, id string) *fakeChange {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.changes {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("fake Altinn has no change request %s", id)
	return nil
}

// dropChange deletes the change request at Altinn behind the service's back.
func (f *fakeAltinn) dropChange(t *testing.T, id string) {
	t.Helper()
	c := f.change(t, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	c.deleted = true
}

// liveChanges counts the change requests Altinn holds that are not deleted.
func (f *fakeAltinn) liveChanges() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.changes {
		if !c.deleted {
			n++
		}
	}
	return n
}

// setChangeStatus is the customer deciding on a change request (Accepted,
// Rejected), or Altinn timing it out (TimedOut).
func (f *fakeAltinn) setChangeStatus(t *testing.T, id, status string) {
	t.Helper()
	c := f.change(t, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == "TimedOut" {
		c.TimedOut = true
		return
	}
	c.Status = status
}

// fakeTokens is Maskinporten's system-user token endpoint: it issues a
// token, or answers err, as the test sets.
type fakeTokens struct {
	mu    sync.Mutex
	err   error
	asked []maskinporten.SystemUser
}

func (f *fakeTokens) SystemUserToken(_ context.Context, su maskinporten.SystemUser, scopes ...string) (*maskinporten.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, su)
	if f.err != nil {
		return nil, f.err
	}
	return &maskinporten.Result{AccessToken: "secret", Scope: scopes[0], ExpiresIn: time.Minute}, nil
}

func (f *fakeTokens) answer(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeTokens) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked)
}
