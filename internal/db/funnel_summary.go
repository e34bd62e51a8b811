package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The funnel's summary (migrations/00023_funnel_counts.sql): funnel_counts,
// a row of figures per local day of created_at, and funnel_hist, the
// histogram of the times to connect at display precision, per block of
// 2^lvl days and at three precisions. Each has a table of deltas the
// writers append to and a reader adds in.

// ConnectBucket is d as the funnel keeps it: rounded to the second (half
// away from zero, as Duration.Round), then to the minute from an hour up and
// to the hour from a day up, which is what views.Page.Duration shows of it
// (the largest unit and the next one). It is monotone, so the percentile of
// the buckets is the bucket of the percentile.
func ConnectBucket(d time.Duration) time.Duration {
	r := int64(d.Round(time.Second) / time.Second)
	return time.Duration(connectKeySeconds(connectKey(r))) * time.Second
}

// connectKey is migrations/00023's funnel_key of r whole seconds: dense keys,
// one a second below an hour, a minute below a day, an hour beyond.
func connectKey(r int64) int64 {
	switch {
	case r < 3600:
		return r
	case r < 86400:
		return 3600 + (r-3600)/60
	default:
		return 4980 + (r-86400)/3600
	}
}

// connectKeySeconds is the first second of key k's bucket.
func connectKeySeconds(k int64) int64 {
	switch {
	case k < 3600:
		return k
	case k < 4980:
		return 3600 + (k-3600)*60
	default:
		return 86400 + (k-4980)*3600
	}
}

// histMaxLevel is funnel_hist's largest block: 2^10 days.
const histMaxLevel = 10

// histBlocks splits the days [lo, hi) (days since 1970-01-01) into the
// fewest aligned blocks of 2^lvl days, lvl up to histMaxLevel: for a
// period of up to 1,024 days at most 20.
func histBlocks(lo, hi int64) (lvls []int16, blks []int32) {
	for lo < hi {
		l := 0
		for l < histMaxLevel && lo&(1<<(l+1)-1) == 0 && lo+1<<(l+1) <= hi {
			l++
		}
		lvls, blks = append(lvls, int16(l)), append(blks, int32(lo>>l))
		lo += 1 << l
	}
	return lvls, blks
}

// funnelSummarySQL is the whole funnel in one statement, so one snapshot
// and one round trip: the period's days from funnel_counts plus the
// pending deltas, not summed per day (Go adds a day's rows up: the arrays
// are in one aggregate's row order, so they line up), and each percentile
// found in funnel_hist coarse to fine.
// The histogram of the period at precision p is the sum over its blocks
// ($3, $4) of funnel_hist at p, plus the pending deltas of its days; the
// percentile's rank r is ceil(q × n) as percentile_disc takes it. At p = 8
// the first key whose running sum reaches r holds the value; at p = 4 only
// that key's 16 subkeys are read, with r less what the keys before it
// hold; at p = 0 the same again, giving the value's key.
const funnelSummarySQL = `
WITH cnt AS (
	SELECT day, started, sent, returned, accepted, connected, rejected, expired, imported
	FROM funnel_counts WHERE day BETWEEN $1::date AND $2::date
	UNION ALL
	SELECT day, started, sent, returned, accepted, connected, rejected, expired, imported
	FROM funnel_count_deltas WHERE day BETWEEN $1::date AND $2::date),
b AS (SELECT * FROM unnest($3::smallint[], $4::integer[]) AS b (lvl, blk)),
hd AS (SELECT k, sum(n)::integer AS n FROM funnel_hist_deltas WHERE day BETWEEN $1::date AND $2::date GROUP BY k),
h8 AS (
	SELECT key, sum(n)::integer AS n FROM (
		SELECT h.key, h.n FROM b JOIN funnel_hist h ON h.lvl = b.lvl AND h.blk = b.blk AND h.p = 8
		UNION ALL SELECT k >> 8, n FROM hd) AS x
	GROUP BY key),
c8 AS (SELECT key, n, sum(n) OVER (ORDER BY key) AS cum FROM h8),
w AS (
	SELECT v.i, ceil(v.q * t.n::float8)::bigint AS r
	FROM (SELECT sum(n) AS n FROM h8) AS t, (VALUES (1, 0.5::float8), (2, 0.9::float8)) AS v (i, q)
	WHERE t.n > 0),
s8 AS (
	SELECT w.i, w.r - (c.cum - c.n) AS r, c.key
	FROM w CROSS JOIN LATERAL (SELECT key, n, cum FROM c8 WHERE cum >= w.r ORDER BY key LIMIT 1) AS c),
h4 AS (
	SELECT s8.i, x.key, sum(x.n)::integer AS n
	FROM s8 CROSS JOIN LATERAL (
		SELECT h.key, h.n FROM b JOIN funnel_hist h ON h.lvl = b.lvl AND h.blk = b.blk AND h.p = 4
			AND h.key BETWEEN s8.key << 4 AND (s8.key << 4) + 15
		UNION ALL SELECT k >> 4, n FROM hd WHERE k >> 8 = s8.key) AS x
	GROUP BY 1, 2),
c4 AS (SELECT i, key, n, sum(n) OVER (PARTITION BY i ORDER BY key) AS cum FROM h4),
s4 AS (
	SELECT s8.i, s8.r - (c.cum - c.n) AS r, c.key
	FROM s8 CROSS JOIN LATERAL (SELECT key, n, cum FROM c4 WHERE c4.i = s8.i AND cum >= s8.r ORDER BY key LIMIT 1) AS c),
h0 AS (
	SELECT s4.i, x.key, sum(x.n)::integer AS n
	FROM s4 CROSS JOIN LATERAL (
		SELECT h.key, h.n FROM b JOIN funnel_hist h ON h.lvl = b.lvl AND h.blk = b.blk AND h.p = 0
			AND h.key BETWEEN s4.key << 4 AND (s4.key << 4) + 15
		UNION ALL SELECT k, n FROM hd WHERE k >> 4 = s4.key) AS x
	GROUP BY 1, 2),
c0 AS (SELECT i, key, n, sum(n) OVER (PARTITION BY i ORDER BY key) AS cum FROM h0),
s0 AS (
	SELECT s4.i, c.key
	FROM s4 CROSS JOIN LATERAL (SELECT key, cum FROM c0 WHERE c0.i = s4.i AND cum >= s4.r ORDER BY key LIMIT 1) AS c)
SELECT coalesce(array_agg(day), '{}'), coalesce(array_agg(started), '{}'), coalesce(array_agg(connected), '{}'),
	coalesce(sum(started), 0)::bigint, coalesce(sum(sent), 0)::bigint, coalesce(sum(returned), 0)::bigint,
	coalesce(sum(accepted), 0)::bigint, coalesce(sum(connected), 0)::bigint, coalesce(sum(rejected), 0)::bigint,
	coalesce(sum(expired), 0)::bigint, coalesce(sum(imported), 0)::bigint,
	(SELECT key FROM s0 WHERE i = 1), (SELECT key FROM s0 WHERE i = 2)
FROM cnt`

// dayNumber is the days from 1970-01-01 to the calendar day of t (midnight UTC).
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	n := s / 86400
	if s%86400 < 0 {
		n--
	}
	return n
}

// funnelSummary fills f from the summary, in CountZone.
func (d *DB) funnelSummary(ctx context.Context, f *Funnel, from, to time.Time) error {
	lo, hi := dayNumber(from), dayNumber(to)+1
	lvls, blks := histBlocks(lo, hi)
	var days []time.Time
	var started, connected []int64
	var median, p90 *int64
	// One round trip: a batch runs as one implicit transaction, so the
	// setting is this statement's alone. A generic plan: Postgres would
	// otherwise plan the statement again at every call (its custom plans
	// look cheaper than the generic one, and are the same), which took
	// about as long as running it (EXPLAIN: 0.8-1 ms planning, 0.7 ms
	// running, loaded).
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	b.Queue(funnelSummarySQL, from.Format(time.DateOnly), to.Format(time.DateOnly), lvls, blks).QueryRow(func(row pgx.Row) error {
		return row.Scan(&days, &started, &connected, &f.Started, &f.Sent, &f.Returned, &f.Accepted, &f.Connected,
			&f.Rejected, &f.Expired, &f.Imported, &median, &p90)
	})
	if err := d.Pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for j, day := range days {
		i, err := f.dayIndex(day)
		if err != nil {
			return err
		}
		f.Days[i].Started += int(started[j])
		f.Days[i].Connected += int(connected[j])
	}
	if median != nil && p90 != nil {
		m, p := time.Duration(connectKeySeconds(*median))*time.Second, time.Duration(connectKeySeconds(*p90))*time.Second
		f.MedianToConnect, f.P90ToConnect = &m, &p
	}
	return nil
}
