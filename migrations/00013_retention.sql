-- +goose Up

-- What the hourly prune (internal/jobs/prune.go) looks for: webhook events
-- past their retention, by age; their deliveries, by event (also what the
-- cascade from an event needs); idempotency keys past their day, by age.
CREATE INDEX webhook_events_created ON webhook_events (created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- +goose Down
DROP INDEX api_idempotency_created;
DROP INDEX webhook_deliveries_event;
DROP INDEX webhook_events_created;
