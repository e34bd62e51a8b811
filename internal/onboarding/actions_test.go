package onboarding_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestActionsFollowTheRulebook: for every status and every action the
// service carries out, the service does it where the rulebook
// (domain/rules.go) allows it and refuses it, with the rulebook's reason and
// without asking Altinn or touching the onboarding, where it does not.
// Nothing changes at Altinn meanwhile, so what an allowed action does is
// the action itself. (Confirm is not the service's: it is the link the
// pages show while the rulebook allows it.)
func TestActionsFollowTheRulebook(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	for _, status := range domain.Statuses {
		for _, a := range domain.AllActions {
			if a == domain.ActionConfirm {
				continue
			}
			t.Run(string(status)+"/"+string(a), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, d)
				o := e.in(status)
				before := *o
				n := len(e.events(o))
				refusal := o.Check(a)
				allowed := refusal == nil
				if allowed != domain.Allows(status, a) {
					t.Fatalf("Onboarding.Check(%s) = %v in %s, Allows says %v", a, refusal, status, domain.Allows(status, a))
				}
				tokens := e.tokens.count()
				err := perform(e, o, a)
				calls := e.altinn.Calls()
				row := e.row(o)

				// A refusal is the rulebook's, and leaves everything as it was.
				refused := errors.Is(err, domain.ErrNotAllowed)
				if refused {
					if allowed {
						t.Fatalf("%s refused in %s, which the rulebook allows: %v", a, status, err)
					}
					if !errors.Is(err, refusal) {
						t.Errorf("refused with %v, want the rulebook's %v", err, refusal)
					}
				} else if err != nil {
					t.Fatalf("%s in %s: %v", a, status, err)
				}
				if refused && (len(calls) > 0 || row.Version != before.Version || e.tokens.count() != tokens) {
					t.Errorf("a refused %s asked Altinn %v (or Maskinporten), or saved the onboarding (version %d -> %d)",
						a, calls, before.Version, row.Version)
				}
				e.checkHistory(o)
				if !domain.CanMove(status, row.Status) {
					t.Errorf("%s moved %s to %s, a move the rulebook does not have", a, status, row.Status)
				}

				wrote := slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "POST") || strings.HasPrefix(c, "DELETE") })
				switch a {
				case domain.ActionRefresh:
					// Reading never writes at Altinn; where it is not
					// allowed, it is refused or does nothing at all.
					if wrote {
						t.Errorf("refresh wrote at Altinn: %v", calls)
					}
					if !allowed && !refused && (len(calls) > 0 || row.Version != before.Version) {
						t.Errorf("refresh in %s, which the rulebook does not allow, asked Altinn %v or saved", status, calls)
					}
				case domain.ActionVerify:
					// Verify is a refresh that asks byquery: exactly where allowed.
					if asked := slices.Contains(calls, opByQuery); asked != allowed {
						t.Errorf("refresh in %s asked byquery: %v; the rulebook allows verify: %v (calls %v)", status, asked, allowed, calls)
					}
				case domain.ActionRetry:
					// Continue sends the request again exactly where retry is
					// allowed; elsewhere it only reads.
					if sent := slices.Contains(calls, opCreate); sent != allowed {
						t.Errorf("continue in %s sent a request: %v; the rulebook allows retry: %v (calls %v)", status, sent, allowed, calls)
					}
					if !allowed && wrote {
						t.Errorf("continue in %s, where retry is not allowed, wrote at Altinn: %v", status, calls)
					}
				case domain.ActionRenew:
					if allowed && (row.Status != domain.StatusPending || !slices.Contains(calls, opCreate)) {
						t.Errorf("renew of %s left it %s after %v, want a new request pending", status, row.Status, calls)
					}
				case domain.ActionCancel:
					if allowed && row.Status != domain.StatusCancelled {
						t.Errorf("cancel of %s left it %s", status, row.Status)
					}
				case domain.ActionChange:
					if allowed && !slices.Contains(calls, opCreateChange) {
						t.Errorf("change of %s did not ask Altinn: %v", status, calls)
					}
				case domain.ActionTestConnection:
					if allowed && e.tokens.count() != tokens+1 {
						t.Errorf("test connection of %s asked Maskinporten %d times", status, e.tokens.count()-tokens)
					}
				}
				if reads := a == domain.ActionRefresh || a == domain.ActionVerify || (a == domain.ActionRetry && !allowed); reads {
					// A re-read of a request nothing happened to leaves the
					// onboarding where it was.
					if path, _ := since(e.events(o), n); len(path) > 0 {
						t.Errorf("%s in %s moved it to %v though nothing changed at Altinn (calls %v, now %s)",
							a, status, path, calls, str(row.ErrorCode))
					}
				}
			})
		}
	}
}

// perform is the service's call for action a.
func perform(e *env, o *domain.Onboarding, a domain.Action) error {
	switch a {
	case domain.ActionRefresh, domain.ActionVerify:
		return e.svc.Refresh(e.ctx, o, domain.CauseStaff, "staff@example.no")
	case domain.ActionRetry:
		return e.svc.Continue(e.ctx, o, domain.CauseCustomer, "")
	case domain.ActionRenew:
		return e.svc.Renew(e.ctx, o, domain.CauseStaff, "staff@example.no")
	case domain.ActionCancel:
		return e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no")
	case domain.ActionChange:
		_, err := e.svc.RequestChange(e.ctx, o, domain.CauseStaff, "staff@example.no")
		return err
	case domain.ActionTestConnection:
		return e.svc.TestConnection(e.ctx, o, domain.CauseStaff, "staff@example.no")
	}
	e.t.Fatalf("no service call for %s", a)
	return nil
}
