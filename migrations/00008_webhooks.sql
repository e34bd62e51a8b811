-- +goose Up

-- Outbound events to the vendor's own product (internal/webhooks). Every
-- status change writes one event and one delivery per configured URL in the
-- same transaction as the status, with a River job per delivery; the job
-- POSTs the event, signed, and records every attempt.

-- One thing that happened, as the JSON body the endpoints receive. The id is
-- the event's id in the body and in the Onboard-Event-Id header, so a
-- receiver can drop a copy it has seen.
CREATE TABLE webhook_events (
    id            uuid        PRIMARY KEY,
    onboarding_id uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    type          text        NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_events_onboarding ON webhook_events (onboarding_id, created_at);

-- One event to one endpoint URL: retried until delivered (a 2xx) or, after
-- ONBOARD_WEBHOOK_MAX_AGE counted from retry_since, failed.
CREATE TABLE webhook_deliveries (
    id               bigserial   PRIMARY KEY,
    event_id         uuid        NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    url              text        NOT NULL CHECK (url ~ '^https?://'),
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Every attempt ever made, redeliveries included (one row each in webhook_attempts).
    attempts         integer     NOT NULL DEFAULT 0,
    -- What the maximum age counts from: the event's creation, or the last
    -- time staff asked to redeliver.
    retry_since      timestamptz NOT NULL DEFAULT now(),
    -- When the next attempt is due; NULL once delivered or failed.
    next_attempt_at  timestamptz DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    UNIQUE (event_id, url)
);

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- Every attempt: when, where, what came back (status code 0/NULL: no
-- answer) and how long it took.
CREATE TABLE webhook_attempts (
    id          bigserial   PRIMARY KEY,
    delivery_id bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    url         text        NOT NULL,
    status_code integer,
    error       text,
    latency_ms  integer     NOT NULL CHECK (latency_ms >= 0),
    job_id      bigint
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
