package onboarding_test

import (
	"errors"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// TestTestConnection: staff's "Test connection" asks Maskinporten for a
// system-user token for a connected onboarding and keeps what came of it:
// usable, not usable (with Maskinporten's code), or could not check, which
// changes nothing known. It never changes the status or calls Altinn.
func TestTestConnection(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	mp303 := &maskinporten.Error{StatusCode: 400, Code: "invalid_altinn_customer_configuration", Description: "MP-303 No approved system user"}
	tests := []struct {
		name   string
		from   func(e *env) *domain.Onboarding // connected and usable when nil
		before error                           // Maskinporten's answer at the connect, when from is nil
		answer error                           // Maskinporten's answer to the test
		// wantErr is a refusal: nothing asked, nothing stored.
		wantErr error
		usable  *bool  // after; nil: unknown
		since   bool   // usable_since moved to the test's time
		outcome string // usable_outcome and the event's to_status
		code    string // usable_code
	}{
		{name: "still usable", outcome: domain.UsableOK, usable: ptr(true)},
		{name: "not usable any more (MP-303)", answer: mp303, outcome: domain.UsableFailed, usable: ptr(false), since: true, code: "MP-303"},
		{name: "usable again after MP-303", before: mp303, outcome: domain.UsableOK, usable: ptr(true), since: true},
		{
			name: "Maskinporten down: could not check, still usable", outcome: domain.UsableUnavailable, usable: ptr(true),
			answer: &maskinporten.Error{StatusCode: 503, Description: "Service Unavailable"},
		},
		{
			name: "Maskinporten down: could not check, still not usable", before: mp303, outcome: domain.UsableUnavailable,
			usable: ptr(false), code: "MP-303", answer: &maskinporten.Error{StatusCode: 503},
		},
		{
			name: "the vendor's own key expired (MP-121): could not check, the customer still usable", outcome: domain.UsableUnavailable,
			usable: ptr(true), answer: &maskinporten.Error{StatusCode: 400, Code: "invalid_grant", Description: "MP-121 Expired key"},
		},
		{name: "pending: refused", from: (*env).pending, wantErr: onboarding.ErrNotTestable},
		{name: "revoked: refused", from: (*env).revoked, wantErr: onboarding.ErrNotTestable},
		{name: "no scopes for the product: refused", from: (*env).connectedAgent, wantErr: onboarding.ErrNoScopes},
		{
			name: "no token source: refused", wantErr: onboarding.ErrNoScopes,
			from: func(e *env) *domain.Onboarding {
				o := e.connected()
				e.svc.Tokens = nil
				return o
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			var o *domain.Onboarding
			if tt.from != nil {
				o = tt.from(e)
			} else {
				e.tokens.answer(tt.before)
				o = e.connected()
			}
			connectedAt := e.row(o)
			n, asked := len(e.events(o)), e.tokens.count()
			e.clock.advance(time.Hour)
			e.tokens.answer(tt.answer)

			err := e.svc.TestConnection(e.ctx, o, domain.CauseStaff, "staff@example.no")
			row := e.must(o, connectedAt.Status)
			if calls := e.altinn.Calls(); len(calls) > 0 {
				t.Errorf("a connection test asked Altinn %v", calls)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if row.Version != connectedAt.Version || e.tokens.count() != asked {
					t.Errorf("a refused test asked Maskinporten or saved (version %d -> %d)", connectedAt.Version, row.Version)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.tokens.count() != asked+1 {
				t.Fatalf("asked Maskinporten %d times, want once", e.tokens.count()-asked)
			}
			if su := e.tokens.asked[len(e.tokens.asked)-1]; su.OrgNo != e.org {
				t.Errorf("token asked for %+v, want the customer %s", su, e.org)
			}
			now := e.clock.Now()
			if (row.Usable == nil) != (tt.usable == nil) || (row.Usable != nil && *row.Usable != *tt.usable) {
				t.Errorf("usable %v, want %v", row.Usable, tt.usable)
			}
			if moved := row.UsableSince != nil && row.UsableSince.Equal(now); moved != tt.since {
				t.Errorf("usable since %v (the test at %v), want moved: %v", row.UsableSince, now, tt.since)
			}
			if str(row.UsableOutcome) != tt.outcome || row.UsableCheckedAt == nil || !row.UsableCheckedAt.Equal(now) {
				t.Errorf("outcome %s checked at %v, want %s at %v", str(row.UsableOutcome), row.UsableCheckedAt, tt.outcome, now)
			}
			if str(row.UsableCode) != tt.code {
				t.Errorf("usable code %q, want %q", str(row.UsableCode), tt.code)
			}
			var checks []string
			for _, ev := range e.events(o)[n:] {
				switch ev.Kind {
				case domain.EventUsability:
					checks = append(checks, ev.ToStatus)
				case domain.EventStatus:
					t.Errorf("status event %s -> %s", ev.FromStatus, ev.ToStatus)
				}
			}
			if !equal(checks, []string{tt.outcome}) {
				t.Errorf("usability events %v, want [%s]", checks, tt.outcome)
			}
			e.checkHistory(o)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestImport: a system user the customer made in Altinn's portal becomes a
// connected onboarding of the product it belongs to, checked usable; one no
// product matches is refused.
func TestImport(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name    string
		su      func(e *env) altinn.SystemUser
		wantErr error
	}{
		{name: "the product's system user", su: func(e *env) altinn.SystemUser {
			return altinn.SystemUser{ID: e.altinn.addSystemUser(systemID, e.org, ""), SystemID: systemID, ReporteeOrgNo: e.org,
				ExternalRef: e.org, UserType: "standard"}
		}},
		{name: "another external ref: no product", wantErr: onboarding.ErrNoProduct, su: func(e *env) altinn.SystemUser {
			return altinn.SystemUser{ID: e.altinn.addSystemUser(systemID, e.org, "x"), SystemID: systemID, ReporteeOrgNo: e.org,
				ExternalRef: "x", UserType: "standard"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			su := tt.su(e)
			o, err := e.svc.Import(e.ctx, su, domain.CauseStaff, "staff@example.no")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			e.must(o, domain.StatusConnected)
			if str(o.SystemUserID) != su.ID || !equal(o.GrantedRights, []string{right1}) || o.Usable == nil || !*o.Usable {
				t.Errorf("imported %s with grants %v, usable %v", str(o.SystemUserID), o.GrantedRights, o.Usable)
			}
			e.checkHistory(o)
		})
	}
}
