package onboarding_test

import (
	"errors"
	"testing"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// changeAction is one call of the service on a connected onboarding's
// change request (cr is nil when there is none yet); it returns the change
// request it acted on.
type changeAction func(e *env, o *domain.Onboarding, cr *domain.ChangeRequest) (*domain.ChangeRequest, error)

var (
	requestChange = func(e *env, o *domain.Onboarding, _ *domain.ChangeRequest) (*domain.ChangeRequest, error) {
		return e.svc.RequestChange(e.ctx, o, domain.CauseStaff, "staff@example.no")
	}
	refreshChange = func(e *env, o *domain.Onboarding, cr *domain.ChangeRequest) (*domain.ChangeRequest, error) {
		return cr, e.svc.RefreshChange(e.ctx, o, cr, domain.CauseStaff, "staff@example.no")
	}
	cancelChange = func(e *env, o *domain.Onboarding, cr *domain.ChangeRequest) (*domain.ChangeRequest, error) {
		return cr, e.svc.CancelChange(e.ctx, o, cr, domain.CauseStaff, "staff@example.no")
	}
	// refreshOwner is the reconciler's look at the connected onboarding,
	// which reads its pending change request too.
	refreshOwner = func(e *env, o *domain.Onboarding, cr *domain.ChangeRequest) (*domain.ChangeRequest, error) {
		if err := e.svc.Refresh(e.ctx, o, domain.CauseReconciler, "job 1"); err != nil {
			return cr, err
		}
		return e.db.ChangeRequestByID(e.ctx, cr.ID)
	}
)

// changed is a connected onboarding whose product now asks for right2 too,
// with its change request brought to status (requesting: the create's
// answer was lost), or none for "".
func (e *env) changed(status domain.ChangeStatus) (*domain.Onboarding, *domain.ChangeRequest) {
	e.t.Helper()
	o := e.connected()
	e.asks("regnskap", right1, right2)
	if status == "" {
		return o, nil
	}
	if status == domain.ChangeRequesting {
		e.altinn.fail(opCreateChange, lostTimeout)
	}
	cr, err := e.svc.RequestChange(e.ctx, o, domain.CauseStaff, "staff@example.no")
	if err != nil {
		e.t.Fatalf("request change: %v", err)
	}
	switch status {
	case domain.ChangeRequesting, domain.ChangePending:
	case domain.ChangeRejected:
		e.altinn.setChangeStatus(e.t, cr.ID, altinn.StatusRejected)
		if err := e.svc.RefreshChange(e.ctx, o, cr, domain.CauseStaff, ""); err != nil {
			e.t.Fatalf("refresh change: %v", err)
		}
	default:
		e.t.Fatalf("no way to a %s change request", status)
	}
	if cr.Status != status {
		e.t.Fatalf("change request is %s (%s), want %s", cr.Status, str(cr.ErrorCode), status)
	}
	e.settled(o)
	return e.row(o), cr
}

func changedTo(status domain.ChangeStatus) func(e *env) (*domain.Onboarding, *domain.ChangeRequest) {
	return func(e *env) (*domain.Onboarding, *domain.ChangeRequest) { return e.changed(status) }
}

// TestChangeRequests: every move of a change request, from what the
// connected onboarding's system user holds and what its product asks for
// now, to the change request's status, the onboarding's grants and status,
// and the Altinn calls made (each on the onboarding's timeline).
func TestChangeRequests(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name    string
		from    func(e *env) (*domain.Onboarding, *domain.ChangeRequest)
		world   func(e *env, o *domain.Onboarding, cr *domain.ChangeRequest)
		act     changeAction
		wantErr error
		want    domain.ChangeStatus
		code    string
		path    []domain.ChangeStatus // the change events written
		calls   []string
		granted []string      // the onboarding's rights after
		status  domain.Status // the onboarding's status after; connected when ""
		check   func(t *testing.T, e *env, o *domain.Onboarding, cr *domain.ChangeRequest)
	}{
		{
			name: "request: the missing right -> pending with a confirm link", from: changedTo(""), act: requestChange,
			want: domain.ChangePending, path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangePending}, calls: []string{opCreateChange},
			granted: []string{right1},
			check: func(t *testing.T, e *env, o *domain.Onboarding, cr *domain.ChangeRequest) {
				at := e.altinn.change(t, cr.ID)
				if str(cr.ConfirmURL) != at.ConfirmURL || at.SystemUserID != str(o.SystemUserID) {
					t.Errorf("confirm %s, Altinn's %s; for system user %s", str(cr.ConfirmURL), at.ConfirmURL, at.SystemUserID)
				}
				if len(at.RequiredRights) != 1 || at.RequiredRights[0].Resource[0].Value != right2 || len(at.UnwantedRights) != 0 {
					t.Errorf("asked Altinn for %+v / unwanted %+v, want +%s", at.RequiredRights, at.UnwantedRights, right2)
				}
				if want := returnURL + "?ref=" + cr.Ref; at.RedirectURL != want {
					t.Errorf("redirectUrl %q, want %q", at.RedirectURL, want)
				}
			},
		},
		{
			name: "request: a right no longer asked for -> unwanted", from: changedTo(""), act: requestChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) { e.asks("regnskap", right2) },
			want:  domain.ChangePending, path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangePending}, calls: []string{opCreateChange},
			granted: []string{right1},
			check: func(t *testing.T, _ *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				if !equal(cr.RequiredRights, []string{right2}) || !equal(cr.UnwantedRights, []string{right1}) {
					t.Errorf("required %v unwanted %v", cr.RequiredRights, cr.UnwantedRights)
				}
			},
		},
		{
			name: "request: nothing to change -> no_change, nothing stored at Altinn", from: changedTo(""), act: requestChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) { e.asks("regnskap", right1) },
			want:  domain.ChangeNoChange, path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangeNoChange}, calls: []string{opCreateChange},
			granted: []string{right1},
			check: func(t *testing.T, e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) {
				if n := e.altinn.liveChanges(); n != 0 {
					t.Errorf("Altinn holds %d change requests", n)
				}
			},
		},
		{
			name: "request: refused (AUTH-00001) -> failed with the code", from: changedTo(""), act: requestChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.fail(opCreateChange, refuse(400, "AUTH-00001"))
			},
			want: domain.ChangeFailed, code: "AUTH-00001", path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangeFailed}, calls: []string{opCreateChange},
			granted: []string{right1},
		},
		{
			name: "request: answer lost -> stays requesting", from: changedTo(""), act: requestChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.fail(opCreateChange, lostTimeout)
			},
			want: domain.ChangeRequesting, code: onboarding.CodeUnavailable, path: []domain.ChangeStatus{domain.ChangeRequesting}, calls: []string{opCreateChange}, granted: []string{right1},
		},
		{
			name: "lost answer, refreshed: sent again with its correlation id, Altinn's stored one -> pending",
			from: changedTo(domain.ChangeRequesting), act: refreshChange,
			want: domain.ChangePending, path: []domain.ChangeStatus{domain.ChangePending}, calls: []string{opCreateChange},
			granted: []string{right1},
			check: func(t *testing.T, e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				if n := e.altinn.liveChanges(); n != 1 || e.altinn.change(t, cr.ID).ConfirmURL != str(cr.ConfirmURL) {
					t.Errorf("Altinn holds %d change requests; ours %s", n, cr.ID)
				}
			},
		},
		{
			name: "lost answer, asked again: the same change request is sent again, not a second",
			from: changedTo(domain.ChangeRequesting), act: requestChange,
			want: domain.ChangePending, path: []domain.ChangeStatus{domain.ChangePending}, calls: []string{opCreateChange},
			granted: []string{right1},
			check: func(t *testing.T, e *env, o *domain.Onboarding, cr *domain.ChangeRequest) {
				all, err := e.db.ChangeRequests(e.ctx, o.ID)
				if err != nil || len(all) != 1 || all[0].ID != cr.ID || e.altinn.liveChanges() != 1 {
					t.Errorf("%d change requests stored (%v), %d at Altinn", len(all), err, e.altinn.liveChanges())
				}
			},
		},
		{
			name: "pending, asked again: the live one is read, no second", from: changedTo(domain.ChangePending), act: requestChange,
			want: domain.ChangePending, calls: []string{opGetChange}, granted: []string{right1},
		},
		{
			name: "pending -> accepted moves the grants", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				e.altinn.setChangeStatus(e.t, cr.ID, altinn.StatusAccepted)
			},
			want: domain.ChangeAccepted, path: []domain.ChangeStatus{domain.ChangeAccepted}, calls: []string{opGetChange},
			granted: []string{right1, right2},
			check: func(t *testing.T, _ *env, o *domain.Onboarding, cr *domain.ChangeRequest) {
				if !equal(o.GrantedRights, []string{right1, right2}) || cr.ConfirmURL != nil {
					t.Errorf("the caller's onboarding holds %v; confirm %s kept", o.GrantedRights, str(cr.ConfirmURL))
				}
			},
		},
		{
			name: "pending -> accepted, noticed by the reconciler's look at the onboarding", from: changedTo(domain.ChangePending), act: refreshOwner,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				e.altinn.setChangeStatus(e.t, cr.ID, altinn.StatusAccepted)
			},
			want: domain.ChangeAccepted, path: []domain.ChangeStatus{domain.ChangeAccepted}, calls: []string{opByQuery, opGetChange},
			granted: []string{right1, right2},
		},
		{
			name: "pending -> rejected, grants stay", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				e.altinn.setChangeStatus(e.t, cr.ID, altinn.StatusRejected)
			},
			want: domain.ChangeRejected, path: []domain.ChangeStatus{domain.ChangeRejected}, calls: []string{opGetChange},
			granted: []string{right1},
		},
		{
			name: "pending, denied -> rejected", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				e.altinn.setChangeStatus(e.t, cr.ID, altinn.StatusDenied)
			},
			want: domain.ChangeRejected, path: []domain.ChangeStatus{domain.ChangeRejected}, calls: []string{opGetChange},
			granted: []string{right1},
		},
		{
			name: "pending, timed out -> failed change_expired", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				e.altinn.setChangeStatus(e.t, cr.ID, "TimedOut")
			},
			want: domain.ChangeFailed, code: onboarding.CodeChangeExpired, path: []domain.ChangeStatus{domain.ChangeFailed},
			calls: []string{opGetChange}, granted: []string{right1},
		},
		{
			name: "pending, gone at Altinn -> failed request_gone", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) { e.altinn.dropChange(e.t, cr.ID) },
			want:  domain.ChangeFailed, code: onboarding.CodeGone, path: []domain.ChangeStatus{domain.ChangeFailed},
			calls: []string{opGetChange}, granted: []string{right1},
		},
		{
			name: "pending, Altinn down -> stays pending altinn_unavailable", from: changedTo(domain.ChangePending), act: refreshChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) { e.altinn.fail(opGetChange, unavailable) },
			want:  domain.ChangePending, code: onboarding.CodeUnavailable, calls: []string{opGetChange}, granted: []string{right1},
		},
		{
			name: "cancel pending -> cancelled, deleted at Altinn", from: changedTo(domain.ChangePending), act: cancelChange,
			want: domain.ChangeCancelled, path: []domain.ChangeStatus{domain.ChangeCancelled}, calls: []string{opDeleteChange},
			granted: []string{right1},
			check: func(t *testing.T, e *env, _ *domain.Onboarding, cr *domain.ChangeRequest) {
				if !e.altinn.change(t, cr.ID).deleted {
					t.Error("still live at Altinn")
				}
			},
		},
		{
			name: "cancel while Altinn cannot delete: an error, stays pending", from: changedTo(domain.ChangePending), act: cancelChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.fail(opDeleteChange, unavailable)
			},
			wantErr: altinn.ErrUnavailable, want: domain.ChangePending, code: onboarding.CodeUnavailable,
			calls: []string{opDeleteChange}, granted: []string{right1},
		},
		{
			name: "cancel an ended change request: refused", from: changedTo(domain.ChangeRejected), act: cancelChange,
			wantErr: onboarding.ErrChangeEnded, want: domain.ChangeRejected, granted: []string{right1},
		},
		{
			name: "refresh an ended change request: left as it is", from: changedTo(domain.ChangeRejected), act: refreshChange,
			want: domain.ChangeRejected, granted: []string{right1},
		},
		{
			name: "AUTH-00015, the system user deleted -> failed, the onboarding revoked", from: changedTo(""), act: requestChange,
			world: func(e *env, o *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.deleteSystemUser(e.t, *o.SystemUserID)
			},
			wantErr: onboarding.ErrNotConnected, want: domain.ChangeFailed, code: "AUTH-00015",
			path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangeFailed}, calls: []string{opCreateChange, opByQuery},
			granted: []string{right1}, status: domain.StatusRevoked,
		},
		{
			name: "AUTH-00015, the system user replaced -> the onboarding follows the new one", from: changedTo(""), act: requestChange,
			world: func(e *env, o *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.deleteSystemUser(e.t, *o.SystemUserID)
				e.altinn.addSystemUser(systemID, e.org, "")
			},
			wantErr: onboarding.ErrSystemUserReplaced, want: domain.ChangeFailed, code: "AUTH-00015",
			path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangeFailed}, calls: []string{opCreateChange, opByQuery},
			granted: []string{right1},
			check: func(t *testing.T, e *env, o *domain.Onboarding, cr *domain.ChangeRequest) {
				if str(o.SystemUserID) == cr.SystemUserID {
					t.Errorf("the onboarding still names the deleted system user %s", cr.SystemUserID)
				}
			},
		},
		{
			name: "AUTH-00015 for a system user byquery still finds -> an agent one", from: changedTo(""), act: requestChange,
			world: func(e *env, _ *domain.Onboarding, _ *domain.ChangeRequest) {
				e.altinn.fail(opCreateChange, refuse(404, "AUTH-00015"))
			},
			wantErr: onboarding.ErrAgentChange, want: domain.ChangeFailed, code: "AUTH-00015",
			path: []domain.ChangeStatus{domain.ChangeRequesting, domain.ChangeFailed}, calls: []string{opCreateChange, opByQuery}, granted: []string{right1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			o, cr := tt.from(e)
			n := len(e.events(o))
			if tt.world != nil {
				tt.world(e, o, cr)
			}
			cr, err := tt.act(e, o, cr)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if cr == nil {
				t.Fatal("no change request")
			}
			stored, serr := e.db.ChangeRequestByID(e.ctx, cr.ID)
			if serr != nil {
				t.Fatal(serr)
			}
			if cr.Status != tt.want || stored.Status != tt.want || stored.Version != cr.Version {
				t.Errorf("change request %s (stored %s v%d, the caller's v%d), want %s", cr.Status, stored.Status, stored.Version, cr.Version, tt.want)
			}
			if got := str(stored.ErrorCode); got != tt.code {
				t.Errorf("error code %q (%s), want %q", got, str(stored.ErrorMessage), tt.code)
			}
			status := tt.status
			if status == "" {
				status = domain.StatusConnected
			}
			row := e.must(o, status)
			if !equal(row.GrantedRights, tt.granted) {
				t.Errorf("granted %v, want %v", row.GrantedRights, tt.granted)
			}
			calls := e.altinn.Calls()
			if !equal(calls, tt.calls) {
				t.Errorf("Altinn calls %v, want %v", calls, tt.calls)
			}
			var path []domain.ChangeStatus
			for _, ev := range e.events(o)[n:] {
				if ev.Kind == domain.EventChange {
					path = append(path, domain.ChangeStatus(ev.ToStatus))
				}
			}
			if !equal(path, tt.path) {
				t.Errorf("change events to %v, want %v", path, tt.path)
			}
			if _, recorded := since(e.events(o), n); !equal(recorded, calls) {
				t.Errorf("timeline records calls %v, Altinn had %v", recorded, calls)
			}
			e.checkHistory(o)
			if tt.check != nil {
				tt.check(t, e, o, cr)
			}
		})
	}
}

// TestChangeRefusedBeforeAltinn: a change is refused, without a call to
// Altinn or a stored change request, for an onboarding that is not
// connected and for an agent system user.
func TestChangeRefusedBeforeAltinn(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name    string
		from    func(e *env) *domain.Onboarding
		wantErr error
	}{
		{"pending", (*env).pending, onboarding.ErrNotConnected},
		{"revoked", (*env).revoked, onboarding.ErrNotConnected},
		{"an agent system user", (*env).connectedAgent, onboarding.ErrAgentChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			o := tt.from(e)
			cr, err := e.svc.RequestChange(e.ctx, o, domain.CauseStaff, "staff@example.no")
			if !errors.Is(err, tt.wantErr) || cr != nil {
				t.Fatalf("RequestChange = %v, %v; want %v", cr, err, tt.wantErr)
			}
			if calls := e.altinn.Calls(); len(calls) > 0 {
				t.Errorf("asked Altinn %v", calls)
			}
			if _, err := e.db.LiveChangeRequest(e.ctx, o.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("a change request was stored: %v", err)
			}
		})
	}
}

// TestChangeSuperseded: two reads of a pending change request; the first
// refresh reads the approval and moves the grants; the second is
// superseded and its copy becomes the stored one, the grants moved once.
func TestChangeSuperseded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newDB(t))
	o, cr := e.changed(domain.ChangePending)
	second, err := e.db.ChangeRequestByID(e.ctx, cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	o2 := e.row(o)
	e.altinn.setChangeStatus(t, cr.ID, altinn.StatusAccepted)
	if err := e.svc.RefreshChange(e.ctx, o, cr, domain.CauseStaff, ""); err != nil || cr.Status != domain.ChangeAccepted {
		t.Fatalf("first refresh: %v, %s", err, cr.Status)
	}
	if err := e.service().RefreshChange(e.ctx, o2, second, domain.CauseReconciler, "job 1"); !errors.Is(err, onboarding.ErrSuperseded) {
		t.Fatalf("second refresh: %v, want ErrSuperseded", err)
	}
	if second.Status != domain.ChangeAccepted || second.Version != cr.Version {
		t.Errorf("the loser's copy is %s v%d, want the winner's accepted v%d", second.Status, second.Version, cr.Version)
	}
	accepted := 0
	for _, ev := range e.events(o) {
		if ev.Kind == domain.EventChange && ev.ToStatus == string(domain.ChangeAccepted) {
			accepted++
		}
	}
	if row := e.row(o); accepted != 1 || !equal(row.GrantedRights, []string{right1, right2}) {
		t.Errorf("%d accepted events; granted %v", accepted, row.GrantedRights)
	}
}
