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
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// The counts above the dashboard's list come from a summary kept by a
// trigger (migrations/00021). These tests hold it to COUNT(*): after
// inserts, every kind of change, deletes and concurrent transactions, for
// every filter shape the list offers, with period bounds on and around
// local midnights (Europe/Oslo, the dashboard's zone), month and year ends
// and the daylight-saving changes.

var countOslo = func() *time.Location {
	l, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	return l
}()

func osloAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, countOslo)
}

// countTimes are created_at values chosen to sit on and next to every kind
// of bucket edge.
var countTimes = func() []time.Time {
	var ts []time.Time
	for _, day := range []time.Time{
		osloAt(2024, 12, 31, 0, 0), osloAt(2025, 1, 1, 0, 0), osloAt(2025, 1, 31, 0, 0), osloAt(2025, 2, 1, 0, 0),
		osloAt(2025, 3, 30, 0, 0),  // summer time starts (02:00 -> 03:00)
		osloAt(2025, 10, 26, 0, 0), // and ends (03:00 -> 02:00)
		osloAt(2025, 6, 15, 0, 0), osloAt(2025, 12, 31, 0, 0), osloAt(2026, 1, 1, 0, 0), osloAt(2026, 3, 1, 0, 0),
	} {
		for _, off := range []time.Duration{-time.Microsecond, 0, time.Microsecond, 90 * time.Minute, 150 * time.Minute,
			13*time.Hour + 17*time.Minute, 23*time.Hour + 30*time.Minute} {
			ts = append(ts, day.Add(off))
		}
	}
	return ts
}()

type countRow struct {
	id, status, kind string
	escalated        bool
	usable           *bool
	created          time.Time
}

// countFilters is every filter shape the list offers, with period bounds
// at and between the edges of countTimes.
func countFilters() []db.ListFilter {
	periods := [][2]time.Time{
		{},
		{osloAt(2025, 1, 1, 0, 0), time.Time{}},
		{time.Time{}, osloAt(2026, 1, 1, 0, 0)},
		{osloAt(2025, 1, 1, 0, 0), osloAt(2026, 1, 1, 0, 0)},                                       // a year
		{osloAt(2024, 12, 31, 0, 0), osloAt(2026, 3, 2, 0, 0)},                                     // years, months and days
		{osloAt(2025, 2, 1, 0, 0), osloAt(2025, 3, 1, 0, 0)},                                       // a month
		{osloAt(2025, 1, 15, 0, 0), osloAt(2025, 12, 31, 0, 0)},                                    // months and days, no whole year
		{osloAt(2025, 3, 30, 0, 0), osloAt(2025, 3, 31, 0, 0)},                                     // the short day
		{osloAt(2025, 10, 26, 0, 0), osloAt(2025, 10, 27, 0, 0)},                                   // the long day
		{osloAt(2025, 6, 15, 0, 0), osloAt(2025, 6, 15, 0, 0)},                                     // empty
		{osloAt(2025, 6, 15, 1, 30), osloAt(2025, 6, 15, 13, 17)},                                  // within a day
		{osloAt(2025, 6, 15, 13, 17), osloAt(2025, 6, 16, 0, 0)},                                   // a partial day to midnight
		{osloAt(2025, 1, 31, 13, 17), osloAt(2025, 10, 26, 2, 30)},                                 // partial days at both ends
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, // UTC midnights
		{time.Date(2024, 12, 31, 23, 0, 0, 1000, time.UTC), time.Time{}},                           // a microsecond after a local midnight
		{time.Time{}, osloAt(2026, 3, 1, 0, 0).Add(-time.Microsecond)},                             // a microsecond before one
		{osloAt(2026, 3, 1, 0, 0), osloAt(2025, 1, 1, 0, 0)},                                       // backwards
	}
	var fs []db.ListFilter
	for _, p := range periods {
		for _, kind := range []domain.Kind{"", domain.KindStandard, domain.KindAgent} {
			for _, esc := range []bool{false, true} {
				for _, u := range []string{"", db.UsabilityUsable, db.UsabilityNotUsable, db.UsabilityNotChecked} {
					fs = append(fs, db.ListFilter{CreatedFrom: p[0], CreatedTo: p[1], Kind: kind, Escalated: esc, Usability: u})
				}
			}
		}
	}
	return fs
}

// wantCounts is COUNT(*) per status in Go, from the rows as the table has them.
func wantCounts(rows []countRow, f db.ListFilter) map[domain.Status]int {
	m := map[domain.Status]int{}
	for _, s := range domain.Statuses {
		m[s] = 0
	}
	for _, r := range rows {
		switch {
		case f.Kind != "" && r.kind != string(f.Kind),
			f.Escalated && !r.escalated,
			!f.CreatedFrom.IsZero() && r.created.Before(f.CreatedFrom),
			!f.CreatedTo.IsZero() && !r.created.Before(f.CreatedTo):
			continue
		}
		connected := r.status == string(domain.StatusConnected)
		switch f.Usability {
		case db.UsabilityUsable:
			if !connected || r.usable == nil || !*r.usable {
				continue
			}
		case db.UsabilityNotUsable:
			if !connected || r.usable == nil || *r.usable {
				continue
			}
		case db.UsabilityNotChecked:
			if !connected || r.usable != nil {
				continue
			}
		}
		m[domain.Status(r.status)]++
	}
	return m
}

func readCountRows(t *testing.T, d *db.DB) []countRow {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT id::text, status, kind, escalated, usable, created_at FROM onboardings`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (countRow, error) {
		var c countRow
		err := r.Scan(&c.id, &c.status, &c.kind, &c.escalated, &c.usable, &c.created)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCounts compares CountByStatus with COUNT(*) for every filter shape,
// and a search's counts with the table's.
func checkCounts(t *testing.T, d *db.DB, stage string) {
	t.Helper()
	ctx := context.Background()
	rows := readCountRows(t, d)
	bad := 0
	for _, f := range countFilters() {
		got, err := d.CountByStatus(ctx, f)
		if err != nil {
			t.Fatalf("%s: %+v: %v", stage, f, err)
		}
		if diff := cmp.Diff(wantCounts(rows, f), got); diff != "" {
			if bad++; bad <= 5 {
				t.Errorf("%s: counts for kind=%q escalated=%v usability=%q created [%s, %s) (-want +got):\n%s", stage, f.Kind, f.Escalated,
					f.Usability, f.CreatedFrom.Format(time.RFC3339Nano), f.CreatedTo.Format(time.RFC3339Nano), diff)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d filter shapes in all count wrong", stage, bad)
	}
}

// insertCountRows inserts n onboardings at countTimes with varied keys.
func insertCountRows(t *testing.T, q db.Querier, rng *rand.Rand, n, from int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		k := from + i
		kind := []string{"standard", "agent"}[rng.IntN(2)]
		status := domain.Statuses[rng.IntN(len(domain.Statuses))]
		var usable *bool
		if x := rng.IntN(3); x < 2 {
			b := x == 0
			usable = &b
		}
		_, err := q.Exec(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, escalated, usable, created_at)
			VALUES ($1, 'regnskap', $2, '991825827_regnskap', $3, $3, $4, $5, $6, $7)`,
			fmt.Sprintf("count-ref-%010d", k), kind, fmt.Sprintf("%09d", 400000000+k), status, rng.IntN(4) == 0, usable,
			countTimes[rng.IntN(len(countTimes))])
		if err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
	}
}

// changeCountRows changes a random share of the rows in one of each way
// that moves a count.
func changeCountRows(t *testing.T, q db.Querier, seed uint64) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE onboardings SET status = (ARRAY['started','requesting','pending','accepted','connected','rejected','expired','failed','revoked'])[1 + (abs(hashtext(id::text || $1)) % 9)]
			WHERE abs(hashtext(id::text || $1 || 's')) % 4 = 0`,
		`UPDATE onboardings SET kind = CASE kind WHEN 'agent' THEN 'standard' ELSE 'agent' END WHERE abs(hashtext(id::text || $1 || 'k')) % 7 = 0`,
		`UPDATE onboardings SET escalated = NOT escalated WHERE abs(hashtext(id::text || $1 || 'e')) % 5 = 0`,
		`UPDATE onboardings SET usable = CASE WHEN usable IS NULL THEN true WHEN usable THEN false END WHERE abs(hashtext(id::text || $1 || 'u')) % 3 = 0`,
		`UPDATE onboardings SET created_at = created_at + interval '1 day' WHERE abs(hashtext(id::text || $1 || 'c')) % 11 = 0`,
		`UPDATE onboardings SET updated_at = now(), next_check_at = now() WHERE abs(hashtext(id::text || $1 || 'n')) % 2 = 0`, // moves nothing
		`DELETE FROM onboardings WHERE abs(hashtext(id::text || $1 || 'd')) % 13 = 0`,
	} {
		if _, err := q.Exec(ctx, sql, fmt.Sprint(seed)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// summaryTable is onboarding_counts with empty rows left out.
func summaryTable(t *testing.T, d *db.DB) map[string]int64 {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT lvl || ' ' || bucket || ' ' || kind || ' ' || escalated || ' ' || usable || ' ' || status, n
		FROM onboarding_counts WHERE n <> 0`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	var k string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { m[k] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCountsFromSummaryEqualCountStar(t *testing.T) {
	t.Parallel()
	summaryScenario(t, summary{
		rows: 400, seed: 21, workerSeed: 99,
		insert: insertCountRows, change: changeCountRows,
		concurrently: `UPDATE onboardings SET status = 'connected', usable = NOT coalesce(usable, false)
			WHERE id IN (SELECT id FROM onboardings ORDER BY random() LIMIT 5)`,
		check: checkCounts, fold: `SELECT pg_advisory_xact_lock(7415021), onboarding_counts_fold()`,
		table:   func(t *testing.T, d *db.DB) any { return summaryTable(t, d) },
		rebuild: `SELECT onboarding_counts_rebuild()`,
		deltas:  `SELECT count(*) FROM onboarding_count_deltas`,
	})
}

// TestCountsMigrationBackfills: the migration counts the rows that were
// there before it.
func TestCountsMigrationBackfills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	_, p := gooseOn(t, d)
	if _, err := p.DownTo(ctx, 20); err != nil {
		t.Fatal(err)
	}
	insertCountRows(t, d.Pool, rand.New(rand.NewPCG(1, 2)), 200, 0)
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, d, "after the migration")
}

// TestCountsSearchCountsTheTable: with a search the counts are the
// matches', from the table.
func TestCountsSearchCountsTheTable(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	insertCountRows(t, d.Pool, rand.New(rand.NewPCG(3, 4)), 50, 0)
	got, err := d.CountByStatus(context.Background(), db.ListFilter{Query: "400000007", CreatedFrom: osloAt(2020, 1, 1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range got {
		n += c
	}
	if n != 1 {
		t.Errorf("search counts %v, want one match", got)
	}
}
