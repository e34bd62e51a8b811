package clients

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// The vendor knows (issue 14, point 3): every change that settles a client
// as delegated or removed is written with its timeline event and its
// webhook (client.delegated, client.removed) in one transaction, whichever
// path made it: a client job's outcome (recordOutcome), or a change made in
// Altinn's portal that the clients page or the reconciler noticed (Note).
// Each is told once: a retried job finds its client no longer in flight
// (db.ErrStale) and a second note of the same truth changes no row.

// Events stores the vendor's webhook of a client's change in the
// transaction of the change (webhooks.Outbox); nil: none is sent.
type Events interface {
	AddClientEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, c db.Client) error
}

// recordOutcome stores a settled outcome of a try on the client (that was
// in state from) with its timeline event and, when it became delegated or
// removed, its webhook. db.ErrStale when the client is no longer in state
// from: nothing is written.
func (s *Service) recordOutcome(ctx context.Context, o *domain.Onboarding, clientID string, from domain.ClientState, out domain.ClientOutcome, ev domain.Event) error {
	return s.DB.Tx(ctx, func(tx pgx.Tx) error {
		c, err := db.SetClientOutcomeTx(ctx, tx, o.ID, clientID, from, out, nil)
		if err != nil {
			return err
		}
		if err := db.AddEventTx(ctx, tx, ev); err != nil {
			return err
		}
		if s.Events == nil || c.State == from {
			return nil
		}
		return s.Events.AddClientEvent(ctx, tx, o, *c)
	})
}

// Note records what Altinn lists and the rows do not know (clients added
// or removed in Altinn's portal, or by an earlier try whose answer was
// lost): each client in delegated becomes delegated, each in gone removed,
// by "altinn", unless a try is waiting on it; each change with a timeline
// event (cause) and its webhook, in one transaction. It returns how many
// changed.
func (s *Service) Note(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string, delegated, gone []db.ClientRef) (int, error) {
	if len(delegated) == 0 && len(gone) == 0 {
		return 0, nil
	}
	n := 0
	err := s.DB.Tx(ctx, func(tx pgx.Tx) error {
		n = 0
		added, err := db.NoteClientsTx(ctx, tx, o.ID, domain.ChangedByAltinn, domain.ClientDelegated, delegated)
		if err != nil {
			return err
		}
		removed, err := db.NoteClientsTx(ctx, tx, o.ID, domain.ChangedByAltinn, domain.ClientRemoved, gone)
		if err != nil {
			return err
		}
		for _, c := range append(added, removed...) {
			op := domain.ClientOpAdd
			if c.State == domain.ClientRemoved {
				op = domain.ClientOpRemove
			}
			if err := db.AddEventTx(ctx, tx, domain.Event{OnboardingID: o.ID, Kind: domain.EventClients, Cause: cause,
				Actor: actor, Operation: op, ToStatus: string(c.State),
				Message: domain.OneLine(c.OrgNo + " " + c.OrgName + ": in Altinn's portal")}); err != nil {
				return err
			}
			if s.Events != nil {
				if err := s.Events.AddClientEvent(ctx, tx, o, c); err != nil {
					return err
				}
			}
		}
		n = len(added) + len(removed)
		return nil
	})
	return n, err
}

// isStale reports a late outcome (db.ErrStale): nothing was written.
func isStale(err error) bool { return errors.Is(err, db.ErrStale) }
