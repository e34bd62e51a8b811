-- +goose Up

-- One customer organisation being connected to one onboarding product.
-- Its Altinn identity is (system_id, org_no, external_ref); Altinn allows one
-- live request and one active system user per key, and so do we.
CREATE TABLE onboardings (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    ref               text        NOT NULL UNIQUE CHECK (ref ~ '^[A-Za-z0-9_-]{16,64}$'),
    product           text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('standard', 'agent')),
    system_id         text        NOT NULL,
    org_no            text        NOT NULL CHECK (org_no ~ '^[0-9]{9}$'),
    external_ref      text        NOT NULL CHECK (external_ref <> '' AND length(external_ref) <= 255),
    status            text        NOT NULL CHECK (status IN ('started', 'requesting', 'pending', 'accepted',
                                      'connected', 'rejected', 'expired', 'failed', 'cancelled', 'revoked')),
    escalated         boolean     NOT NULL DEFAULT false,
    altinn_request_id uuid,
    confirm_url       text,
    system_user_id    uuid,
    -- What went wrong last, for the customer page and for support; cleared on success.
    error_code        text,
    error_message     text,
    customer_ref      text,
    lang              text        NOT NULL DEFAULT 'nb' CHECK (lang IN ('nb', 'nn', 'en')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    checked_at        timestamptz,
    connected_at      timestamptz,
    -- Bumped on every save: a writer holding an older version lost a race
    -- and must re-read instead of overwriting newer news from Altinn.
    version           integer     NOT NULL DEFAULT 1
);

CREATE UNIQUE INDEX onboardings_live_key ON onboardings (system_id, org_no, external_ref)
    WHERE status <> 'cancelled';
CREATE UNIQUE INDEX onboardings_altinn_request ON onboardings (altinn_request_id)
    WHERE altinn_request_id IS NOT NULL AND status <> 'cancelled';
CREATE INDEX onboardings_created ON onboardings (created_at DESC, id DESC);
CREATE INDEX onboardings_status_created ON onboardings (status, created_at DESC, id DESC);
CREATE INDEX onboardings_org_no ON onboardings (org_no);

-- Every step of an onboarding's life: each Altinn call with its outcome and
-- latency, each status change with its cause, each customer return.
CREATE TABLE onboarding_events (
    id            bigserial   PRIMARY KEY,
    onboarding_id uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT now(),
    kind          text        NOT NULL CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error')),
    cause         text        NOT NULL CHECK (cause IN ('customer', 'reconciler', 'staff', 'altinn', 'system', 'api')),
    actor         text,
    from_status   text,
    to_status     text,
    operation     text,
    http_status   integer,
    altinn_code   text,
    latency_ms    integer,
    message       text,
    raw           jsonb
);

CREATE INDEX onboarding_events_onboarding ON onboarding_events (onboarding_id, id);

-- +goose Down
DROP TABLE onboarding_events;
DROP TABLE onboardings;
