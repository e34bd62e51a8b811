package db

import (
	"context"
	"fmt"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// RecordStaffAction writes what a staff member did to an onboarding twice, in
// one transaction: as an audit log entry (who, what, from where) and, when
// the entry names an onboarding, as a "staff" event in that onboarding's
// timeline, so the history shows each staff action with its author next to
// the Altinn calls it caused. The event's kind, cause, actor and onboarding
// come from the entry; e supplies the rest (its message, a status change).
func (d *DB) RecordStaffAction(ctx context.Context, a AuditEntry, e domain.Event) error {
	err := d.InTx(ctx, func(q Querier) error {
		if err := AddAudit(ctx, q, a); err != nil {
			return err
		}
		if a.OnboardingID == nil {
			return nil
		}
		e.OnboardingID = *a.OnboardingID
		e.Kind, e.Cause, e.Actor = domain.EventStaff, domain.CauseStaff, a.Actor
		return addEvent(ctx, q, e)
	})
	if err != nil {
		return fmt.Errorf("db: record staff action %s: %w", a.Action, err)
	}
	return nil
}
