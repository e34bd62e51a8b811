package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// The vendor's view of an agent onboarding's clients (issue 14, point 3):
// each change that settles a client as delegated or removed is written with
// its timeline event and its webhook in one transaction, by whichever path
// made it (a client job's outcome, or a change in Altinn's portal noticed by
// the clients page or the reconciler). These Tx variants return the rows as
// changed, so the caller can tell the vendor exactly what changed, once.

// SetClientOutcomeTx is SetClientOutcome in the caller's transaction,
// returning the client as it is now. ErrStale when the client is no longer
// in state from: nothing changed, so nothing is to be told.
func SetClientOutcomeTx(ctx context.Context, q Querier, onboardingID, clientID string, from domain.ClientState, o domain.ClientOutcome, next *time.Time) (*Client, error) {
	rows, err := q.Query(ctx, `
		UPDATE onboarding_clients SET state = $4, reason = $5, attempts = attempts + 1, next_at = $6,
			changed_at = CASE WHEN state = $4 THEN changed_at ELSE now() END
		WHERE onboarding_id = $1 AND client_id = $2 AND state = $3
		RETURNING `+clientColumns,
		onboardingID, clientID, from, o.State, o.Reason, next)
	if err != nil {
		return nil, fmt.Errorf("db: set client outcome: %w", err)
	}
	c, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[Client])
	if err != nil {
		return nil, fmt.Errorf("db: set client outcome: %w", err)
	}
	if len(c) == 0 {
		return nil, ErrStale
	}
	return c[0], nil
}

// NoteClientsTx is NoteClients in the caller's transaction, returning the
// rows it changed (each a change to tell about once: a second note of the
// same truth changes nothing and returns nothing). The rows it changes are
// locked to the transaction, so two instances noting at once tell once.
func NoteClientsTx(ctx context.Context, q Querier, onboardingID, by string, state domain.ClientState, clients []ClientRef) ([]Client, error) {
	if len(clients) == 0 {
		return nil, nil
	}
	ids, orgs, names, err := clientColumnsOf(clients)
	if err != nil {
		return nil, fmt.Errorf("db: note clients: %w", err)
	}
	stmt := `INSERT INTO onboarding_clients AS c (onboarding_id, client_id, org_no, org_name, state, changed_by)
		SELECT $1, u.id::uuid, u.org, u.name, $3, $2
		FROM unnest($4::text[], $5::text[], $6::text[]) AS u(id, org, name)
		ON CONFLICT (onboarding_id, client_id) DO UPDATE
			SET state = excluded.state, reason = '', changed_by = excluded.changed_by, changed_at = now(), next_at = NULL
			WHERE c.state <> excluded.state AND c.state NOT IN ('adding', 'removing')
		RETURNING ` + clientColumns
	if state == domain.ClientRemoved {
		// A removal is noted only for a row there is: a client never
		// delegated needs none.
		stmt = `UPDATE onboarding_clients AS c SET state = $3, reason = '', changed_by = $2, changed_at = now(), next_at = NULL
			FROM unnest($4::text[], $5::text[], $6::text[]) AS u(id, org, name)
			WHERE c.onboarding_id = $1 AND c.client_id = u.id::uuid AND c.state = 'delegated'
			RETURNING c.onboarding_id, c.client_id, c.org_no, c.org_name, c.state, c.reason, c.attempts, c.login_id,
				c.changed_by, c.changed_at, c.next_at`
	}
	rows, err := q.Query(ctx, stmt, onboardingID, by, state, ids, orgs, names)
	if err != nil {
		return nil, fmt.Errorf("db: note clients: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Client])
	if err != nil {
		return nil, fmt.Errorf("db: note clients: %w", err)
	}
	return out, nil
}
