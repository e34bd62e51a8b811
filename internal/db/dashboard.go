package db

import (
	"context"
	"fmt"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// RecordStaffAction is AddStaffAction in a transaction of its own, for a
// staff action that changes nothing else (one overtaken by a concurrent
// change, say).
func (d *DB) RecordStaffAction(ctx context.Context, a AuditEntry, e domain.Event) error {
	return d.InTx(ctx, func(q Querier) error { return AddStaffAction(ctx, q, a, e) })
}

// AddStaffAction writes what a staff member did to an onboarding twice,
// through q, the transaction of the change the action made: as an audit log
// entry (who, what, from where) and, when the entry names an onboarding, as
// a "staff" event in that onboarding's timeline, so the history shows each
// staff action with its author next to the Altinn calls it caused. The
// event's kind, cause, actor and onboarding come from the entry, and its
// operation is the entry's action unless e names one; e supplies the rest
// (its message, a status change).
func AddStaffAction(ctx context.Context, q Querier, a AuditEntry, e domain.Event) error {
	err := AddAudit(ctx, q, a)
	if err == nil && a.OnboardingID != nil {
		e.OnboardingID = *a.OnboardingID
		e.Kind, e.Cause, e.Actor = domain.EventStaff, domain.CauseStaff, a.Actor
		if e.Operation == "" {
			e.Operation = a.Action // the timeline words the action by it
		}
		err = addEvent(ctx, q, e)
	}
	if err != nil {
		return fmt.Errorf("db: record staff action %s: %w", a.Action, err)
	}
	return nil
}
