package onboarding_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// TestLostAnswers: a call that reached Altinn but whose answer was lost
// (a timeout, a proxy's 5xx) leaves the onboarding where a later attempt
// finds what Altinn did, by external ref: it never makes a second request.
func TestLostAnswers(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name string
		// run does the attempts, each checked on the way, and returns the
		// onboarding.
		run  func(e *env) *domain.Onboarding
		want domain.Status
		ever int // requests Altinn ever stored for the key
		live int // of them not deleted: the one the onboarding holds
	}{
		{
			name: "create timed out after Altinn stored it; the retry finds it", want: domain.StatusPending, ever: 1, live: 1,
			run: func(e *env) *domain.Onboarding {
				o := e.requesting(true)
				return e.continued(o, domain.StatusPending, opByExtRef)
			},
		},
		{
			name: "create got a 502 after Altinn stored it; the retry finds it", want: domain.StatusPending, ever: 1, live: 1,
			run: func(e *env) *domain.Onboarding {
				e.altinn.fail(opCreate, lost502)
				o, _, err := e.start("regnskap")
				if err != nil {
					e.t.Fatal(err)
				}
				e.settled(e.must(o, domain.StatusRequesting))
				return e.continued(o, domain.StatusPending, opByExtRef)
			},
		},
		{
			name: "the customer submits again after a lost answer: the same onboarding finds it", want: domain.StatusPending, ever: 1, live: 1,
			run: func(e *env) *domain.Onboarding {
				o := e.requesting(true)
				again, started, err := e.start("regnskap")
				if err != nil || again.ID != o.ID || started {
					e.t.Fatalf("second start: %v, onboarding %s (first %s), started %v", err, again.ID, o.ID, started)
				}
				if calls := e.altinn.Calls(); !equal(calls, []string{opByExtRef}) {
					e.t.Errorf("calls %v, want only the lookup", calls)
				}
				return e.settled(e.must(again, domain.StatusPending))
			},
		},
		{
			name: "the lookup fails too; the next one finds it", want: domain.StatusPending, ever: 1, live: 1,
			run: func(e *env) *domain.Onboarding {
				o := e.requesting(true)
				e.altinn.fail(opByExtRef, unavailable)
				e.continued(o, domain.StatusRequesting, opByExtRef)
				return e.continued(o, domain.StatusPending, opByExtRef)
			},
		},
		{
			name: "the reconciler's refresh finds the lost request", want: domain.StatusPending, ever: 1, live: 1,
			run: func(e *env) *domain.Onboarding {
				o := e.requesting(true)
				if err := e.svc.Refresh(e.ctx, o, domain.CauseReconciler, "job 1"); err != nil {
					e.t.Fatal(err)
				}
				return e.settled(e.must(o, domain.StatusPending))
			},
		},
		{
			name: "renew's create lost; the retry finds the new request", want: domain.StatusPending, ever: 2, live: 1,
			run: func(e *env) *domain.Onboarding {
				o := e.rejected()
				e.altinn.fail(opCreate, lostTimeout)
				if err := e.svc.Renew(e.ctx, o, domain.CauseStaff, "staff@example.no"); err != nil {
					e.t.Fatal(err)
				}
				e.settled(e.must(o, domain.StatusRequesting))
				return e.continued(o, domain.StatusPending, opByExtRef)
			},
		},
		{
			name: "create lost; cancelling finds the request by external ref and deletes it", want: domain.StatusCancelled, ever: 1, live: 0,
			run: func(e *env) *domain.Onboarding {
				o := e.requesting(true)
				if err := e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no"); err != nil {
					e.t.Fatal(err)
				}
				if calls := e.altinn.Calls(); !equal(calls, []string{opByExtRef, opDelete}) {
					e.t.Errorf("cancel made calls %v, want the lookup and the delete", calls)
				}
				return e.settled(e.must(o, domain.StatusCancelled))
			},
		},
		{
			name: "cancel's delete lost; cancelling again finds it gone and closes", want: domain.StatusCancelled, ever: 1, live: 0,
			run: func(e *env) *domain.Onboarding {
				o := e.pending()
				e.altinn.fail(opDelete, lostTimeout)
				if err := e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no"); err == nil {
					e.t.Fatal("cancel whose delete got no answer: no error")
				}
				e.settled(e.must(o, domain.StatusPending))
				if err := e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no"); err != nil {
					e.t.Fatal(err)
				}
				return e.settled(e.must(o, domain.StatusCancelled))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			o := tt.run(e)
			e.must(o, tt.want)
			if n := e.altinn.ever(systemID, e.org, ""); n != tt.ever {
				t.Errorf("Altinn stored %d requests for the key, want %d", n, tt.ever)
			}
			live := e.altinn.live(systemID, e.org, "")
			if len(live) != tt.live {
				t.Fatalf("Altinn holds %d live requests, want %d", len(live), tt.live)
			}
			if tt.live == 1 && (live[0].ID != str(o.AltinnRequestID) || live[0].ConfirmURL != str(o.ConfirmURL)) {
				t.Errorf("the onboarding holds %s, Altinn's live request is %s", str(o.AltinnRequestID), live[0].ID)
			}
			e.checkHistory(o)
		})
	}
}

// continued is Continue that must leave o in status after exactly calls.
func (e *env) continued(o *domain.Onboarding, status domain.Status, calls ...string) *domain.Onboarding {
	e.t.Helper()
	if err := e.svc.Continue(e.ctx, o, domain.CauseCustomer, ""); err != nil {
		e.t.Fatalf("continue: %v", err)
	}
	if got := e.altinn.Calls(); !equal(got, calls) {
		e.t.Errorf("continue made calls %v, want %v", got, calls)
	}
	return e.settled(e.must(o, status))
}

// TestSupersededWrites: two copies of the service (two requests, two
// instances) act on the same onboarding, each from its own read of the row.
// The first to save wins; the second gets ErrSuperseded, its copy becomes
// the winner's row, and the onboarding and its timeline keep the winner's
// news only.
func TestSupersededWrites(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name  string
		from  func(e *env) *domain.Onboarding
		world func(e *env, o *domain.Onboarding)
		first action // on the first read, by one copy
		then  action // on the second read, by the other
		want  domain.Status
		path  []domain.Status // the status events written, the winner's
		check func(t *testing.T, e *env, o *domain.Onboarding, loserCalls []string)
	}{
		{
			name: "two refreshes read the approval: the second is superseded", from: (*env).pending,
			world: func(e *env, o *domain.Onboarding) { e.altinn.approve(e.t, e.requestID(o)) },
			first: refreshAction, then: reconcileAction,
			want: domain.StatusConnected, path: []domain.Status{domain.StatusConnected},
		},
		{
			name: "staff cancel wins over a customer's refresh, which would have said failed", from: (*env).pending,
			first: cancelAction, then: refreshAction,
			want: domain.StatusCancelled, path: []domain.Status{domain.StatusCancelled},
		},
		{
			name: "the customer's approval wins over staff's cancel", from: (*env).pending,
			world: func(e *env, o *domain.Onboarding) { e.altinn.approve(e.t, e.requestID(o)) },
			first: refreshAction, then: cancelAction,
			want: domain.StatusConnected, path: []domain.Status{domain.StatusConnected},
		},
		{
			name: "two renews: the second is superseded before it creates", from: (*env).rejected,
			first: renewAction, then: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			check: func(t *testing.T, e *env, o *domain.Onboarding, loser []string) {
				if slices.Contains(loser, opCreate) {
					t.Errorf("the superseded renew created a request: %v", loser)
				}
				if live := e.altinn.live(systemID, e.org, ""); len(live) != 1 || live[0].ID != str(o.AltinnRequestID) {
					t.Errorf("Altinn holds %d live requests; the onboarding %s", len(live), str(o.AltinnRequestID))
				}
			},
		},
		{
			name: "a retry and the reconciler find the lost request: one pending", from: requestingStored,
			first: continueAction, then: reconcileAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending},
		},
		{
			name: "a revoke wins over staff's test connection", from: (*env).connected,
			world: func(e *env, o *domain.Onboarding) { e.altinn.deleteSystemUser(e.t, *o.SystemUserID) },
			first: reconcileAction,
			then: func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
				return o, e.svc.TestConnection(e.ctx, o, domain.CauseStaff, "staff@example.no")
			},
			want: domain.StatusRevoked, path: []domain.Status{domain.StatusRevoked},
			check: func(t *testing.T, _ *env, o *domain.Onboarding, _ []string) {
				if o.Usable != nil {
					t.Errorf("the revoked onboarding took the superseded check's usable %v", *o.Usable)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			o := tt.from(e)
			n := len(e.events(o))
			first, second := e.row(o), e.row(o) // two reads of the same row
			other := e.service()
			if tt.world != nil {
				tt.world(e, o)
			}
			if _, err := tt.first(e, first); err != nil {
				t.Fatalf("first: %v", err)
			}
			e.altinn.resetCalls()
			winner := e.row(o)

			e.svc, other = other, e.svc
			_, err := tt.then(e, second)
			e.svc = other
			if !errors.Is(err, onboarding.ErrSuperseded) {
				t.Fatalf("second: err = %v, want ErrSuperseded", err)
			}
			if second.Status != winner.Status || second.Version != winner.Version || str(second.ErrorCode) != str(winner.ErrorCode) {
				t.Errorf("the loser's copy is %s v%d (%s), want the winner's row %s v%d", second.Status, second.Version,
					str(second.ErrorCode), winner.Status, winner.Version)
			}
			if row := e.row(o); row.Status != tt.want || row.Version != winner.Version {
				t.Errorf("onboarding is %s v%d after the loser, want the winner's %s v%d", row.Status, row.Version, tt.want, winner.Version)
			}
			if path, _ := since(e.events(o), n); !equal(path, tt.path) {
				t.Errorf("status events %v, want the winner's %v", path, tt.path)
			}
			e.checkHistory(o)
			if tt.check != nil {
				tt.check(t, e, second, e.altinn.Calls())
			}
		})
	}
}

// TestStaleSave: the store itself refuses a save from an old read with
// db.ErrStale, so no path around the service can overwrite newer news.
func TestStaleSave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newDB(t))
	o := e.pending()
	stale := e.row(o)
	e.altinn.setStatus(t, e.requestID(o), altinn.StatusRejected)
	e.refreshTo(o, domain.StatusRejected)
	stale.Status = domain.StatusCancelled
	if err := e.db.SaveOnboarding(e.ctx, stale, domain.StatusPending, domain.CauseStaff, ""); !errors.Is(err, db.ErrStale) {
		t.Fatalf("save from an old read: %v, want db.ErrStale", err)
	}
	e.must(o, domain.StatusRejected)
	e.checkHistory(o)
}
