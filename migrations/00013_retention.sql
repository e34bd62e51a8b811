-- +goose Up

-- What the hourly prune (internal/jobs/prune.go) looks for: webhook events
-- past their retention, and idempotency keys past their day, by age. (A
-- delivery is found by its event through its UNIQUE (event_id, url).)
-- Not CONCURRENTLY: instances that start together wait on each other's
-- migration lock with a snapshot open, which a concurrent build would wait
-- for in turn. The build holds up new webhook events for as long as it
-- takes (seconds at a few million).
CREATE INDEX webhook_events_created ON webhook_events (created_at);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- +goose Down
DROP INDEX api_idempotency_created;
DROP INDEX webhook_events_created;
