package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// AddEvent records one event outside any status change, such as a customer
// return visit.
func (d *DB) AddEvent(ctx context.Context, e domain.Event) error {
	if err := addEvent(ctx, d.Pool, e); err != nil {
		return fmt.Errorf("db: add event: %w", err)
	}
	return nil
}

func addEvent(ctx context.Context, q Querier, e domain.Event) error {
	raw := rawOrNull(e)
	_, err := q.Exec(ctx, `
		INSERT INTO onboarding_events (onboarding_id, kind, cause, actor, from_status, to_status,
			operation, http_status, altinn_code, latency_ms, message, raw_text)
		VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, 0),
			NULLIF($9, ''), $10, NULLIF($11, ''), $12::text)`,
		e.OnboardingID, e.Kind, e.Cause, e.Actor, e.FromStatus, e.ToStatus,
		e.Operation, e.HTTPStatus, e.AltinnCode, latencyOrNull(e), e.Message, raw)
	return err
}

// rawOrNull is an event's raw body as stored: JSON only, else NULL. It is
// stored as text (raw_text, migrations/00026): shown as it came, never
// looked into by Postgres.
func rawOrNull(e domain.Event) any {
	if len(e.Raw) > 0 && json.Valid(e.Raw) {
		return string(e.Raw)
	}
	return nil
}

// eventsInsert is one INSERT of events, in their order, for the onboarding
// whose id the statement's CTE from (a WITH query that returns id) has: the
// same rows addEvent writes one at a time, in a statement of the caller's
// (CreateOnboardingTx, saveOnboarding), so a change and its events are one
// round trip. The statement is eventsInsertSQL(from, len(events),
// len(args)); eventArgs appends its parameters to args.
func eventArgs(events []domain.Event, args []any) []any {
	for _, e := range events {
		args = append(args, string(e.Kind), string(e.Cause), e.Actor, e.FromStatus, e.ToStatus,
			e.Operation, e.HTTPStatus, e.AltinnCode, latencyOrNull(e), e.Message, rawOrNull(e))
	}
	return args
}

// statements keeps the statements built from parts (cachedSQL): one per
// shape, a handful, each built once rather than on every write.
var statements sync.Map // any (a comparable key) -> string

func cachedSQL(key any, build func() string) string {
	if s, ok := statements.Load(key); ok {
		return s.(string)
	}
	s, _ := statements.LoadOrStore(key, build())
	return s.(string)
}

// eventsInsertSQL is the INSERT of events rows after nargs parameters of
// the statement's own (see eventArgs).
func eventsInsertSQL(from string, events, nargs int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO onboarding_events (onboarding_id, kind, cause, actor, from_status, to_status,
			operation, http_status, altinn_code, latency_ms, message, raw_text)
		SELECT ` + from + `.id, v.kind, v.cause, v.actor, v.from_status, v.to_status, v.operation, v.http_status,
			v.altinn_code, v.latency_ms, v.message, v.raw
		FROM ` + from + `, (VALUES `)
	for i := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		n := nargs + 11*i
		fmt.Fprintf(&b, "(%d, $%d::text, $%d::text, NULLIF($%d::text, ''), NULLIF($%d::text, ''), NULLIF($%d::text, ''), "+
			"NULLIF($%d::text, ''), NULLIF($%d::int, 0), NULLIF($%d::text, ''), $%d::int, NULLIF($%d::text, ''), $%d::text)",
			i, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
	}
	b.WriteString(`) AS v(n, kind, cause, actor, from_status, to_status, operation, http_status, altinn_code, latency_ms, message, raw)
		ORDER BY v.n`)
	return b.String()
}

// latencyOrNull keeps the latency of calls only (to Altinn, and the
// usability checks' to Maskinporten); other events have none.
func latencyOrNull(e domain.Event) any {
	if e.Kind != domain.EventAltinnCall && (e.Kind != domain.EventUsability || e.Operation == "") {
		return nil
	}
	return e.LatencyMS
}

// Events returns an onboarding's history, oldest first.
func (d *DB) Events(ctx context.Context, onboardingID string) ([]domain.Event, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT id, onboarding_id, at, kind, cause, coalesce(actor, '') AS actor,
			coalesce(from_status, '') AS from_status, coalesce(to_status, '') AS to_status,
			coalesce(operation, '') AS operation, coalesce(http_status, 0) AS http_status,
			coalesce(altinn_code, '') AS altinn_code, coalesce(latency_ms, 0) AS latency_ms,
			coalesce(message, '') AS message, coalesce(raw_text, raw::text) AS raw
		FROM onboarding_events WHERE onboarding_id = $1 ORDER BY id`, onboardingID)
	if err != nil {
		return nil, fmt.Errorf("db: events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, pgx.RowToStructByName[domain.Event])
	if err != nil {
		return nil, fmt.Errorf("db: events: %w", err)
	}
	return evs, nil
}
