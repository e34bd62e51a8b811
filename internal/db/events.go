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
		`)
	if events == 1 {
		// One row (the submit's two statements): no VALUES list to join
		// and sort, a smaller plan for Postgres to set up every time.
		n := nargs
		fmt.Fprintf(&b, "SELECT "+from+".id, $%d::text, $%d::text, NULLIF($%d::text, ''), NULLIF($%d::text, ''), NULLIF($%d::text, ''), "+
			"NULLIF($%d::text, ''), NULLIF($%d::int, 0), NULLIF($%d::text, ''), $%d::int, NULLIF($%d::text, ''), $%d::text FROM "+from,
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
		return b.String()
	}
	b.WriteString(`SELECT ` + from + `.id, v.kind, v.cause, v.actor, v.from_status, v.to_status, v.operation, v.http_status,
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

// carriesStatus says whether the row of call, an Altinn call, can hold st,
// the status change that comes right after it in the same save, and so
// save an events row (the wizard's submit writes its call and its change
// from requesting to pending this way). A row of kind altinn_call with
// from_status and to_status set is both events: Events gives them back as
// two, the call and then the change, and a query for status changes
// (CampaignReach) looks at both kinds. It can when they say the same
// thing about who and why: the same cause, actor and message (a failure's
// words, or none), and the call has no status of its own.
func carriesStatus(call, st domain.Event) bool {
	return call.Kind == domain.EventAltinnCall && st.Kind == domain.EventStatus &&
		call.FromStatus == "" && call.ToStatus == "" &&
		call.Cause == st.Cause && call.Actor == st.Actor && call.Message == st.Message
}

// splitCarried gives back the events of rows that carry a status change
// (carriesStatus) as the two events they are: the call, then the change,
// with the same id and time.
func splitCarried(evs []domain.Event) []domain.Event {
	n := 0
	for _, e := range evs {
		if e.Kind == domain.EventAltinnCall && e.ToStatus != "" {
			n++
		}
	}
	if n == 0 {
		return evs
	}
	out := make([]domain.Event, 0, len(evs)+n)
	for _, e := range evs {
		if e.Kind != domain.EventAltinnCall || e.ToStatus == "" {
			out = append(out, e)
			continue
		}
		st := domain.Event{ID: e.ID, OnboardingID: e.OnboardingID, At: e.At, Kind: domain.EventStatus,
			Cause: e.Cause, Actor: e.Actor, FromStatus: e.FromStatus, ToStatus: e.ToStatus, Message: e.Message}
		e.FromStatus, e.ToStatus = "", ""
		out = append(out, e, st)
	}
	return out
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
	return splitCarried(evs), nil
}
