package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FunnelDay is one day of the funnel chart: the onboardings started that day
// and how many of those have been connected since.
type FunnelDay struct {
	Day       time.Time // midnight UTC of the calendar day in the funnel's zone
	Started   int
	Connected int
}

// Funnel is how far the onboardings started in a period got, read from a
// summary kept by triggers (migrations/00023_funnel_counts.sql), or for a
// zone other than CountZone from the onboardings' own columns. System users
// imported by staff (made outside the wizard) are left out of every step,
// since nobody started them here, and counted in Imported instead.
type Funnel struct {
	Started int // onboardings created in the period
	// Sent have an Altinn request: the service keeps a request id once it
	// has one, through renewals and cancels.
	Sent      int
	Returned  int // the customer came back from Altinn at least once (a return event)
	Accepted  int // accepted or connected now, or connected once (connected_at is set)
	Connected int // have been connected: connected_at is set (some may be revoked since)
	// Rejected and Expired are in that status now; a renewed one counts
	// where it stands now.
	Rejected int
	Expired  int
	Imported int // connected without a request of ours: imported, not in the counts above
	// MedianToConnect and P90ToConnect are the median and 90th percentile
	// of the time from start (created_at) to connected (connected_at) of
	// the connected ones, as percentile_disc takes them (the time of one of
	// them: the first whose share at or below it reaches 50% or 90%), at
	// the precision the page shows (ConnectBucket); nil when none is
	// connected.
	MedianToConnect *time.Duration
	P90ToConnect    *time.Duration
	// Days has one entry per calendar day from the first to the last day
	// of the period, days without onboardings included.
	Days []FunnelDay
}

// MaxFunnelDays is the longest period Funnel reports on.
const MaxFunnelDays = 2*366 + 1

// Funnel reports on the onboardings created from the start of day from to
// the end of day to (both calendar dates, read in zone, e.g. "Europe/Oslo").
// Only the dates of from and to count. It returns an error for a period
// that ends before it starts or is longer than MaxFunnelDays.
//
// In CountZone (the dashboard's) it reads the summary: one statement, some
// hundred rows for any period (funnelSummarySQL). In another zone it scans
// the period's onboardings (funnelSQL), which the summary's tests also hold
// it to.
func (d *DB) Funnel(ctx context.Context, from, to time.Time, zone string) (*Funnel, error) {
	return d.funnel(ctx, from, to, zone, zone != CountZone)
}

func (d *DB) funnel(ctx context.Context, from, to time.Time, zone string, scan bool) (*Funnel, error) {
	from = civilDate(from)
	to = civilDate(to)
	days := int(to.Sub(from).Hours()/24) + 1
	if days < 1 || days > MaxFunnelDays {
		return nil, fmt.Errorf("db: funnel: %d days from %s to %s: want 1 to %d", days,
			from.Format(time.DateOnly), to.Format(time.DateOnly), MaxFunnelDays)
	}
	f := &Funnel{Days: make([]FunnelDay, days)}
	for i := range f.Days {
		f.Days[i].Day = from.AddDate(0, 0, i)
	}
	var err error
	if scan {
		err = d.funnelScan(ctx, f, from, to, zone)
	} else {
		err = d.funnelSummary(ctx, f, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("db: funnel: %w", err)
	}
	return f, nil
}

// dayIndex is day's index in f.Days.
func (f *Funnel) dayIndex(day time.Time) (int, error) {
	i := int(civilDate(day).Sub(f.Days[0].Day).Hours() / 24)
	if i < 0 || i >= len(f.Days) {
		return 0, fmt.Errorf("day %s is outside the period", day.Format(time.DateOnly))
	}
	return i, nil
}

// The scan is two queries over the period, in one snapshot. The period is
// [from, to+1) in local time of the zone; its bounds are constants, so the
// range is a scan of the created_at index (or of the table, for a period
// that covers most of it).
//
// funnelSQL answers every step but one from the onboardings' own columns;
// GROUPING SETS gives a row per day and a total row (day NULL) from one pass.
// The percentiles are of the seconds, rounded half away from zero as Go's
// Duration.Round.
const funnelSQL = `
WITH o AS (
	SELECT (o.created_at AT TIME ZONE $3)::date AS day,
		` + funnelImported + ` AS imported,
		o.altinn_request_id IS NOT NULL AS sent,
		o.connected_at IS NOT NULL OR o.status IN ('accepted', 'connected') AS accepted,
		o.connected_at IS NOT NULL AS connected,
		o.status = 'rejected' AS rejected,
		o.status = 'expired' AS expired,
		extract(epoch FROM o.connected_at - o.created_at) AS to_connect
	FROM onboardings o
	WHERE ` + funnelPeriod + `
)
SELECT day,
	count(*) FILTER (WHERE NOT imported) AS started,
	count(*) FILTER (WHERE NOT imported AND sent) AS sent,
	count(*) FILTER (WHERE NOT imported AND accepted) AS accepted,
	count(*) FILTER (WHERE NOT imported AND connected) AS connected,
	count(*) FILTER (WHERE NOT imported AND rejected) AS rejected,
	count(*) FILTER (WHERE NOT imported AND expired) AS expired,
	count(*) FILTER (WHERE imported) AS imported,
	round(percentile_disc(0.5) WITHIN GROUP (ORDER BY to_connect) FILTER (WHERE NOT imported AND connected))::bigint AS median,
	round(percentile_disc(0.9) WITHIN GROUP (ORDER BY to_connect) FILTER (WHERE NOT imported AND connected))::bigint AS p90
FROM o
GROUP BY GROUPING SETS ((day), ())
ORDER BY day NULLS FIRST`

// funnelReturnedSQL counts those that came back, which the events tell.
// As a semi-join in WHERE the planner can choose per period: for a month, a
// probe per onboarding into the events index on onboarding_id; for a year
// or two, one hash of the return events, which is ten times faster than a
// million probes.
const funnelReturnedSQL = `
SELECT count(*) FROM onboardings o
WHERE ` + funnelPeriod + ` AND NOT (` + funnelImported + `)
  AND EXISTS (SELECT 1 FROM onboarding_events e WHERE e.onboarding_id = o.id AND e.kind = 'return')`

const (
	funnelPeriod = `o.created_at >= $1::date::timestamp AT TIME ZONE $3
	  AND o.created_at < ($2::date + 1)::timestamp AT TIME ZONE $3`
	// funnelImported is a system user made in Altinn and imported by staff.
	funnelImported = `(o.origin = 'import')`
)

func (d *DB) funnelScan(ctx context.Context, f *Funnel, from, to time.Time, zone string) error {
	args := []any{from.Format(time.DateOnly), to.Format(time.DateOnly), zone}
	return d.funnelTx(ctx, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var day *time.Time
		var started, sent, accepted, connected, rejected, expired, imported int
		var median, p90 *int64
		_, err = pgx.ForEachRow(rows, []any{&day, &started, &sent, &accepted, &connected, &rejected,
			&expired, &imported, &median, &p90}, func() error {
			if day == nil {
				*f = Funnel{Started: started, Sent: sent, Accepted: accepted,
					Connected: connected, Rejected: rejected, Expired: expired, Imported: imported,
					MedianToConnect: bucketOf(median), P90ToConnect: bucketOf(p90), Days: f.Days}
				return nil
			}
			i, err := f.dayIndex(*day)
			if err != nil {
				return err
			}
			f.Days[i].Started, f.Days[i].Connected = started, connected
			return nil
		})
		if err != nil {
			return err
		}
		return br.QueryRow().Scan(&f.Returned)
	}, args)
}

// funnelTx runs the funnel's two queries in one read-only REPEATABLE READ
// transaction (one snapshot), sent as one batch after the settings: three
// round trips (BEGIN, the batch, COMMIT) where a statement each took seven.
// The planner's cost for a month passes jit_above_cost, and compiling then
// takes longer than running; and a generic plan, which pgx's statement
// cache leads to, would fix one join strategy for every length of period.
// read gets the batch's results after the settings.
func (d *DB) funnelTx(ctx context.Context, read func(pgx.BatchResults) error, args []any) error {
	tx, err := d.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`)
	b.Queue(funnelSQL, args...)
	b.Queue(funnelReturnedSQL, args...)
	br := tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	if err := read(br); err != nil {
		br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// civilDate is t's calendar date as midnight UTC, so days can be counted by
// subtraction without daylight-saving surprises.
func civilDate(t time.Time) time.Time {
	y, m, dd := t.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

// bucketOf is whole seconds at the page's precision.
func bucketOf(s *int64) *time.Duration {
	if s == nil {
		return nil
	}
	d := time.Duration(connectKeySeconds(connectKey(*s))) * time.Second
	return &d
}

// KnownSystemUsers tells which of the given Altinn system user ids an
// onboarding holds, mapping each known id (lower case, as Postgres prints
// it) to that onboarding's id: a live one before a cancelled one, then the
// newest. Ids that are not uuids cannot be ours and are left out.
func (d *DB) KnownSystemUsers(ctx context.Context, ids []string) (map[string]string, error) {
	known := map[string]string{}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if IsUUID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return known, nil
	}
	rows, err := d.Pool.Query(ctx, `
		SELECT DISTINCT ON (system_user_id) system_user_id::text, id::text
		FROM onboardings
		WHERE system_user_id = ANY($1::uuid[])
		ORDER BY system_user_id, status = 'cancelled', created_at DESC`, valid)
	if err != nil {
		return nil, fmt.Errorf("db: known system users: %w", err)
	}
	var su, onb string
	_, err = pgx.ForEachRow(rows, []any{&su, &onb}, func() error {
		known[su] = onb
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: known system users: %w", err)
	}
	return known, nil
}
