package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
)

// The funnel in the dashboard's zone comes from a summary kept by triggers
// (migrations/00023). These tests hold it to the scan of the table (the
// funnel's query before the summary, which still answers for other zones),
// after inserts, every kind of change that moves a figure, returns,
// deletes, rollbacks, concurrent transactions, folds and rebuilds, for
// periods on and across day, month and year ends and the daylight-saving
// changes.

// funnelPeriods are the periods checked, as calendar dates.
var funnelPeriods = [][2]string{
	{"2024-12-31", "2026-03-02"}, // everything
	{"2024-06-01", "2026-06-03"}, // MaxFunnelDays
	{"2025-01-01", "2025-12-31"}, // a year
	{"2025-01-15", "2025-12-31"},
	{"2025-02-01", "2025-02-28"}, // a month
	{"2025-01-31", "2025-03-01"},
	{"2025-03-30", "2025-03-30"}, // the short day
	{"2025-10-26", "2025-10-26"}, // the long day
	{"2025-10-25", "2025-10-27"},
	{"2025-06-15", "2025-06-15"},
	{"2025-06-16", "2025-06-16"}, // nothing created
	{"2025-12-03", "2026-01-01"}, // 30 days over a year end
	{"2024-12-31", "2025-01-01"},
	{"2026-01-01", "2026-03-01"},
}

// funnelDurations are times to connect around every edge of the display
// precision, and a few odd ones (connected before created, at once).
var funnelDurations = []time.Duration{
	0, 499 * time.Millisecond, 500 * time.Millisecond, 1500 * time.Millisecond, -2 * time.Second, 59 * time.Second,
	59*time.Second + 500*time.Millisecond, time.Hour - 501*time.Millisecond, time.Hour - 500*time.Millisecond,
	time.Hour, 90 * time.Minute, 24*time.Hour - 30*time.Second, 24*time.Hour - 31*time.Second, 24 * time.Hour,
	36*time.Hour + 59*time.Minute, 71 * time.Hour, 400 * 24 * time.Hour,
}

func funnelDuration(rng *rand.Rand) time.Duration {
	if rng.IntN(3) == 0 {
		return funnelDurations[rng.IntN(len(funnelDurations))]
	}
	// As the bench's seed: up to three days, to the microsecond.
	return time.Duration(rng.Int64N(72*3600*1_000_000)) * time.Microsecond
}

var funnelStatuses = []string{"started", "requesting", "pending", "accepted", "connected", "rejected", "expired",
	"failed", "revoked", "cancelled"}

// insertFunnelRows inserts n onboardings at countTimes with every mix of
// the funnel's columns, and return events for some.
func insertFunnelRows(t *testing.T, q db.Querier, rng *rand.Rand, n, from int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		k := from + i
		created := countTimes[rng.IntN(len(countTimes))]
		var connected *time.Time
		if rng.IntN(3) > 0 {
			c := created.Add(funnelDuration(rng))
			connected = &c
		}
		origin := []string{"wizard", "wizard", "api", "staff", "import"}[rng.IntN(5)]
		var id string
		err := q.QueryRow(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, created_at, connected_at,
				origin, altinn_request_id)
			VALUES ($1, 'regnskap', 'standard', '991825827_regnskap', $2, $2, $3, $4, $5, $6,
				CASE WHEN $7 THEN gen_random_uuid() END)
			RETURNING id`,
			fmt.Sprintf("funnel-ref-%010d", k), fmt.Sprintf("%09d", 500000000+k), funnelStatuses[rng.IntN(len(funnelStatuses))],
			created, connected, origin, rng.IntN(4) > 0).Scan(&id)
		if err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
		if rng.IntN(3) == 0 {
			for range 1 + rng.IntN(2) {
				if _, err := q.Exec(ctx, `INSERT INTO onboarding_events (onboarding_id, kind, cause) VALUES ($1, 'return', 'customer')`, id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// changeFunnelRows changes a share of the rows in each way that moves a
// figure of the funnel, and one that moves none.
func changeFunnelRows(t *testing.T, q db.Querier, seed uint64) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE onboardings SET status = (ARRAY['started','requesting','pending','accepted','connected','rejected','expired','failed','revoked'])[1 + (abs(hashtext(id::text || $1)) % 9)]
			WHERE abs(hashtext(id::text || $1 || 's')) % 4 = 0`,
		`UPDATE onboardings SET altinn_request_id = CASE WHEN altinn_request_id IS NULL THEN gen_random_uuid() END
			WHERE abs(hashtext(id::text || $1 || 'r')) % 7 = 0`,
		`UPDATE onboardings SET connected_at = CASE WHEN connected_at IS NULL THEN created_at + (abs(hashtext(id::text || $1)) % 200000) * interval '1.5 s' END
			WHERE abs(hashtext(id::text || $1 || 'c')) % 5 = 0`,
		`UPDATE onboardings SET connected_at = connected_at + interval '37 min 30.5 s' WHERE abs(hashtext(id::text || $1 || 'm')) % 6 = 0`,
		`UPDATE onboardings SET created_at = created_at + interval '1 day' WHERE abs(hashtext(id::text || $1 || 'd')) % 11 = 0`,
		`UPDATE onboardings SET created_at = created_at - interval '90 min' WHERE abs(hashtext(id::text || $1 || 'h')) % 9 = 0`,
		`UPDATE onboardings SET origin = CASE origin WHEN 'import' THEN 'wizard' ELSE 'import' END WHERE abs(hashtext(id::text || $1 || 'o')) % 8 = 0`,
		`INSERT INTO onboarding_events (onboarding_id, kind, cause)
			SELECT id, 'return', 'customer' FROM onboardings WHERE abs(hashtext(id::text || $1 || 'e')) % 6 = 0`,
		`DELETE FROM onboarding_events WHERE kind = 'return' AND abs(hashtext(id::text || $1 || 'x')) % 3 = 0`,
		`UPDATE onboarding_events SET kind = 'staff' WHERE kind = 'return' AND abs(hashtext(id::text || $1 || 'k')) % 5 = 0`,
		`UPDATE onboardings SET updated_at = now(), next_check_at = now() WHERE abs(hashtext(id::text || $1 || 'n')) % 2 = 0`, // moves nothing
		`DELETE FROM onboardings WHERE abs(hashtext(id::text || $1 || 'z')) % 13 = 0`,
	} {
		if _, err := q.Exec(ctx, sql, fmt.Sprint(seed)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// checkFunnel compares Funnel (the summary) with the table's scan for
// every period of funnelPeriods.
func checkFunnel(t *testing.T, d *db.DB, stage string) {
	t.Helper()
	ctx := context.Background()
	var returned, exact int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE returned),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM onboarding_events e WHERE e.onboarding_id = o.id AND e.kind = 'return'))
		FROM onboardings o`).Scan(&returned, &exact); err != nil {
		t.Fatal(err)
	}
	if returned != exact {
		t.Errorf("%s: %d onboardings marked returned, %d have a return event", stage, returned, exact)
	}
	for _, p := range funnelPeriods {
		want, err := d.FunnelFromTable(ctx, date(p[0]), date(p[1]), db.CountZone)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Funnel(ctx, date(p[0]), date(p[1]), db.CountZone)
		if err != nil {
			t.Fatalf("%s: %s to %s: %v", stage, p[0], p[1], err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: funnel %s to %s (-scan +summary):\n%s", stage, p[0], p[1], diff)
		}
	}
}

// funnelSummaryTable is the summary with empty rows left out.
func funnelSummaryTable(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `
		SELECT 'c ' || day, concat_ws(' ', started, sent, returned, accepted, connected, rejected, expired, imported)
		FROM funnel_counts WHERE (started, sent, returned, accepted, connected, rejected, expired, imported) <> (0, 0, 0, 0, 0, 0, 0, 0)
		UNION ALL
		SELECT concat_ws(' ', 'h', lvl, blk, p, key), n::text FROM funnel_hist WHERE n <> 0`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { m[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFunnelSummaryEqualsScan(t *testing.T) {
	t.Parallel()
	summaryScenario(t, summary{
		rows: 600, seed: 23, workerSeed: 98,
		insert: insertFunnelRows, change: changeFunnelRows,
		concurrently: `UPDATE onboardings SET status = 'connected', connected_at = coalesce(connected_at, now())
			WHERE id IN (SELECT id FROM onboardings ORDER BY random() LIMIT 5)`,
		check: checkFunnel, fold: `SELECT pg_advisory_xact_lock(7415023), funnel_counts_fold()`,
		table:   func(t *testing.T, d *db.DB) any { return funnelSummaryTable(t, d) },
		rebuild: `SELECT funnel_counts_rebuild()`,
		deltas:  `SELECT (SELECT count(*) FROM funnel_count_deltas) + (SELECT count(*) FROM funnel_hist_deltas)`,
	})
}

// TestHistBlocks: the blocks of a period cover each of its days once, are
// aligned, and are few.
func TestHistBlocks(t *testing.T) {
	t.Parallel()
	for _, p := range [][2]int64{{0, 1}, {-5, 3}, {20000, 20030}, {20089, 20089 + db.MaxFunnelDays}, {19000, 20024}, {7, 8}} {
		lvls, blks := db.HistBlocks(p[0], p[1])
		next := p[0]
		for i := range lvls {
			l, b := int64(lvls[i]), int64(blks[i])
			if b<<l != next {
				t.Fatalf("%v: block %d at level %d starts at day %d, want %d", p, b, l, b<<l, next)
			}
			next += 1 << l
		}
		if next != p[1] || len(lvls) > 20 {
			t.Errorf("%v: blocks end at %d (want %d), %d blocks", p, next, p[1], len(lvls))
		}
	}
}

// TestConnectKey: the keys are dense and ordered, and a key's first second
// is in it.
func TestConnectKey(t *testing.T) {
	t.Parallel()
	prev := db.ConnectKey(-10)
	for r := int64(-9); r < 5*86400; r++ {
		k := db.ConnectKey(r)
		if k != prev && k != prev+1 {
			t.Fatalf("key of %d s is %d after %d", r, k, prev)
		}
		if s := db.ConnectKeySeconds(k); s > r || db.ConnectKey(s) != k {
			t.Fatalf("key %d of %d s starts at %d s", k, r, s)
		}
		prev = k
	}
}
