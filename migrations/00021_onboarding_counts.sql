-- +goose Up

-- The dashboard's counts per status (internal/db/list.go CountByStatus) from
-- a summary instead of counting a million rows (issue 15): GROUP BY status
-- over the table cost 128 ms p50 at 1,000,000 onboardings.
--
-- onboarding_counts holds, per bucket of created_at in the dashboard's time
-- zone (Europe/Oslo) and per (kind, escalated, usable, status), how many
-- onboardings there are. A bucket is a day ('d'), a month ('m') or a year
-- ('y'), each starting at a local midnight, so a period of whole days reads
-- a few years, months and days instead of one row per day: a year is some
-- 11 months and 30-odd days.
--
-- Writers never touch onboarding_counts. A trigger on onboardings appends
-- each change to onboarding_count_deltas (+1 for the new key, -1 for the
-- old): appending takes no row lock, so concurrent wizard submits never wait
-- for each other on a hot "today" row, and transactions that change many
-- onboardings cannot deadlock on summary rows. Now and then (one write in
-- 16, when no other transaction is at it) the writing transaction folds the
-- committed deltas into onboarding_counts; one folder at a time (an advisory
-- lock, tried, never waited for), so the folder's updates meet no other
-- writer. A reader sums onboarding_counts and the deltas in one statement,
-- so every snapshot sees each change exactly once. The trigger catches
-- every code path that writes onboardings, so the counts stay exact.
CREATE TABLE onboarding_counts (
    lvl       text     NOT NULL CHECK (lvl IN ('d', 'm', 'y')),
    bucket    date     NOT NULL, -- first local day of the bucket
    kind      text     NOT NULL,
    escalated boolean  NOT NULL,
    usable    smallint NOT NULL, -- 1 true, 0 false, 2 not checked (NULL)
    status    text     NOT NULL,
    n         bigint   NOT NULL,
    PRIMARY KEY (lvl, bucket, kind, escalated, usable, status)
);

CREATE TABLE onboarding_count_deltas (
    day       date     NOT NULL,
    kind      text     NOT NULL,
    escalated boolean  NOT NULL,
    usable    smallint NOT NULL,
    status    text     NOT NULL,
    n         integer  NOT NULL
);
-- Rows come and go all the time and the table stays small: vacuum it often.
ALTER TABLE onboarding_count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
    autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);

-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_usable(u boolean) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN u THEN 1 WHEN NOT u THEN 0 ELSE 2 END::smallint $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_day(t timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$ SELECT (t AT TIME ZONE 'Europe/Oslo')::date $$;
-- +goose StatementEnd

-- Folds every committed delta into onboarding_counts, in the caller's
-- transaction. Callers hold the advisory lock (one folder at a time).
-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_fold() RETURNS void
LANGUAGE sql AS $$
WITH d AS (DELETE FROM onboarding_count_deltas RETURNING day, kind, escalated, usable, status, n)
INSERT INTO onboarding_counts (lvl, bucket, kind, escalated, usable, status, n)
SELECT v.lvl, v.bucket, d.kind, d.escalated, d.usable, d.status, sum(d.n)
FROM d CROSS JOIN LATERAL (VALUES ('d', d.day), ('m', date_trunc('month', d.day)::date),
                                  ('y', date_trunc('year', d.day)::date)) AS v (lvl, bucket)
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (lvl, bucket, kind, escalated, usable, status) DO UPDATE SET n = onboarding_counts.n + EXCLUDED.n
$$;
-- +goose StatementEnd

-- Rebuilds onboarding_counts from the table: the backfill below, and a bulk
-- load (bench/list) that disables the trigger while it copies.
-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_rebuild() RETURNS void
LANGUAGE sql AS $$
DELETE FROM onboarding_count_deltas;
DELETE FROM onboarding_counts;
INSERT INTO onboarding_counts (lvl, bucket, kind, escalated, usable, status, n)
SELECT v.lvl, v.bucket, g.kind, g.escalated, g.usable, g.status, sum(g.n)
FROM (SELECT onboarding_counts_day(created_at) AS day, kind, escalated, onboarding_counts_usable(usable) AS usable,
             status, count(*) AS n
      FROM onboardings GROUP BY 1, 2, 3, 4, 5) AS g
CROSS JOIN LATERAL (VALUES ('d', g.day), ('m', date_trunc('month', g.day)::date),
                           ('y', date_trunc('year', g.day)::date)) AS v (lvl, bucket)
GROUP BY 1, 2, 3, 4, 5, 6;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_track() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO onboarding_count_deltas (day, kind, escalated, usable, status, n) VALUES
            (onboarding_counts_day(OLD.created_at), OLD.kind, OLD.escalated, onboarding_counts_usable(OLD.usable), OLD.status, -1),
            (onboarding_counts_day(NEW.created_at), NEW.kind, NEW.escalated, onboarding_counts_usable(NEW.usable), NEW.status, 1);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO onboarding_count_deltas (day, kind, escalated, usable, status, n) VALUES
            (onboarding_counts_day(NEW.created_at), NEW.kind, NEW.escalated, onboarding_counts_usable(NEW.usable), NEW.status, 1);
    ELSE
        INSERT INTO onboarding_count_deltas (day, kind, escalated, usable, status, n) VALUES
            (onboarding_counts_day(OLD.created_at), OLD.kind, OLD.escalated, onboarding_counts_usable(OLD.usable), OLD.status, -1);
    END IF;
    -- Fold now and then. Only under READ COMMITTED: a REPEATABLE READ
    -- folder could fail to serialise against the previous folder's update.
    IF random() < 1.0 / 16 AND current_setting('transaction_isolation') = 'read committed'
       AND pg_try_advisory_xact_lock(7415021) THEN
        PERFORM onboarding_counts_fold();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION onboarding_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM onboarding_count_deltas;
    DELETE FROM onboarding_counts;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER onboarding_counts_insert AFTER INSERT ON onboardings
    FOR EACH ROW EXECUTE FUNCTION onboarding_counts_track();
-- No column list: a column list would miss a column changed by a BEFORE
-- trigger; the WHEN keeps the trigger to the changes that move a count.
CREATE TRIGGER onboarding_counts_update AFTER UPDATE ON onboardings
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind
        OR OLD.escalated IS DISTINCT FROM NEW.escalated OR OLD.usable IS DISTINCT FROM NEW.usable
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION onboarding_counts_track();
CREATE TRIGGER onboarding_counts_delete AFTER DELETE ON onboardings
    FOR EACH ROW EXECUTE FUNCTION onboarding_counts_track();
CREATE TRIGGER onboarding_counts_truncate AFTER TRUNCATE ON onboardings
    FOR EACH STATEMENT EXECUTE FUNCTION onboarding_counts_truncate();

-- The backfill. CREATE TRIGGER holds a lock that keeps writers out of
-- onboardings until this migration commits, so no change is missed.
SELECT onboarding_counts_rebuild();

-- +goose Down
DROP TRIGGER onboarding_counts_truncate ON onboardings;
DROP TRIGGER onboarding_counts_delete ON onboardings;
DROP TRIGGER onboarding_counts_update ON onboardings;
DROP TRIGGER onboarding_counts_insert ON onboardings;
DROP FUNCTION onboarding_counts_truncate();
DROP FUNCTION onboarding_counts_track();
DROP FUNCTION onboarding_counts_rebuild();
DROP FUNCTION onboarding_counts_fold();
DROP FUNCTION onboarding_counts_day(timestamptz);
DROP FUNCTION onboarding_counts_usable(boolean);
DROP TABLE onboarding_count_deltas;
DROP TABLE onboarding_counts;
