-- +goose Up

-- The Problems page's sections (internal/db/problems.go) at a million
-- onboardings (issue 15, bench/list): each section's newest (or oldest)
-- 100 rows by a small partial index in the section's order instead of a
-- sort of every matching row (the failed section read 20,000 rows from the
-- heap, 74 ms; not usable scanned the table, 123 ms). The sections' counts
-- of failed and not usable come from the summary (00021); the stuck
-- section's count is an index-only scan of onboardings_waiting_since.
CREATE INDEX onboardings_failed_since ON onboardings (status_at DESC, id) WHERE status = 'failed';
CREATE INDEX onboardings_not_usable_since ON onboardings (usable_since DESC NULLS LAST, id)
    WHERE status = 'connected' AND usable = false;
-- Waiting onboardings by how long they have waited: requesting or accepted
-- too long, pending past Altinn's request lifetime.
CREATE INDEX onboardings_waiting_since ON onboardings (status, status_at, id)
    WHERE status IN ('requesting', 'accepted', 'pending');

-- +goose Down
DROP INDEX onboardings_waiting_since;
DROP INDEX onboardings_not_usable_since;
DROP INDEX onboardings_failed_since;
