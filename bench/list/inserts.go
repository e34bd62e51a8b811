package main

// What the counts' summary costs the writers (issue 15: "watch hot-row
// contention"): concurrent wizard-like inserts (BEGIN, INSERT the
// onboarding, INSERT its 'created' event, COMMIT) into a fresh migrated
// database of their own, four ways: without the summaries' triggers, with
// the counts' (migrations/00021: each write appends a delta row, no shared
// row), with the funnel's too (migrations/00023, the same design), and with
// the design they avoid (each write upserts the one summary row
// of today, held locked until its commit).

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/db"
)

const hotRowTrigger = `
CREATE FUNCTION bench_hot_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO onboarding_counts (lvl, bucket, kind, escalated, usable, status, n)
    VALUES ('d', onboarding_counts_day(NEW.created_at), NEW.kind, NEW.escalated, onboarding_counts_usable(NEW.usable), NEW.status, 1)
    ON CONFLICT (lvl, bucket, kind, escalated, usable, status) DO UPDATE SET n = onboarding_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_hot_row AFTER INSERT ON onboardings FOR EACH ROW EXECUTE FUNCTION bench_hot_row();`

type insertResult struct {
	name string
	rate float64
	p99  time.Duration
}

// inserts runs each variant for d with c writers.
func inserts(ctx context.Context, admin string, c int, d time.Duration, logf func(string, ...any)) ([]insertResult, error) {
	url, drop, err := benchkit.NewDatabase(ctx, admin, "list_inserts")
	if err != nil {
		return nil, err
	}
	defer drop()
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = int32(c)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	store := &db.DB{Pool: pool}
	variants := []struct {
		name, setup string
	}{
		{"no summary trigger", `ALTER TABLE onboardings DISABLE TRIGGER onboarding_counts_insert;
			ALTER TABLE onboardings DISABLE TRIGGER funnel_counts_insert`},
		{"summary trigger (deltas, 00021)", `ALTER TABLE onboardings ENABLE TRIGGER onboarding_counts_insert`},
		{"+ funnel's trigger (deltas, 00023)", `ALTER TABLE onboardings ENABLE TRIGGER funnel_counts_insert`},
		{"hot row: upsert today's row", `ALTER TABLE onboardings DISABLE TRIGGER onboarding_counts_insert;
			ALTER TABLE onboardings DISABLE TRIGGER funnel_counts_insert;` + hotRowTrigger},
	}
	var out []insertResult
	var seq atomic.Int64
	orgs := benchkit.OrgNumbers(2_000_000, 9)
	for _, v := range variants {
		if _, err := pool.Exec(ctx, v.setup); err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		var n atomic.Int64
		var mu sync.Mutex
		var lat []time.Duration
		var firstErr error
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for range c {
			wg.Go(func() {
				for time.Now().Before(stop) {
					i := seq.Add(1)
					t0 := time.Now()
					err := store.InTx(ctx, func(q db.Querier) error {
						var id string
						org := orgs[int(i)%len(orgs)]
						if err := q.QueryRow(ctx, `INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status)
							VALUES ($1, 'regnskap', 'standard', '991825827_regnskap', $2, $3, 'requesting') RETURNING id`,
							fmt.Sprintf("bench-insert-%012d", i), org, fmt.Sprintf("X%d", i)).Scan(&id); err != nil {
							return err
						}
						_, err := q.Exec(ctx, `INSERT INTO onboarding_events (onboarding_id, kind, cause, to_status) VALUES ($1, 'created', 'customer', 'requesting')`, id)
						return err
					})
					el := time.Since(t0)
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, el)
					mu.Unlock()
					if err != nil {
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return nil, fmt.Errorf("%s: %w", v.name, firstErr)
		}
		lat = benchkit.Sorted(lat)
		r := insertResult{name: v.name, rate: float64(n.Load()) / d.Seconds(), p99: benchkit.Percentile(lat, 99)}
		logf("  inserts, %s: %.0f/s, p99 %s", v.name, r.rate, fmtDur(r.p99))
		out = append(out, r)
	}
	return out, nil
}

func printInserts(w io.Writer, rs []insertResult, c int, d time.Duration) {
	fmt.Fprintf(w, "\nWriters: %d concurrent wizard-like inserts (BEGIN, INSERT onboarding, INSERT event, COMMIT) for %s each, a fresh database\n\n", c, d)
	fmt.Fprintf(w, "%-36s %10s %8s %10s\n", "variant", "inserts/s", "ratio", "p99")
	for _, r := range rs {
		fmt.Fprintf(w, "%-36s %10.0f %7.2fx %10s\n", r.name, r.rate, r.rate/rs[0].rate, fmtDur(r.p99))
	}
}
