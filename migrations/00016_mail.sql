-- +goose Up

-- Email to customers (issue 12). An onboarding's address is its campaign
-- row's (campaign_items.email) unless one is stored here (the API, staff);
-- opted_out_at stops every further message to it.
CREATE TABLE mail_contacts (
    onboarding_id uuid        PRIMARY KEY REFERENCES onboardings (id) ON DELETE CASCADE,
    email         text        CHECK (email <> '' AND length(email) <= 320),
    opted_out_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One message to one onboarding's customer. (onboarding_id, message, seq)
-- is unique, so whichever instance queues it, each message exists once;
-- its River job is inserted in the same transaction. The text is rendered
-- when it is queued, so the outbox page shows what was (or would be) sent.
CREATE TABLE mail_messages (
    id            bigserial   PRIMARY KEY,
    onboarding_id uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    message       text        NOT NULL CHECK (message IN ('link', 'reminder', 'escalated', 'connected')),
    -- A reminder's number (1 for the first age, 2 for the second, …;
    -- 1000 for the one before Altinn's expiry); 0 for the others.
    seq           integer     NOT NULL DEFAULT 0,
    recipient     text        NOT NULL CHECK (recipient <> '' AND length(recipient) <= 320),
    lang          text        NOT NULL,
    subject       text        NOT NULL,
    body_text     text        NOT NULL,
    body_html     text        NOT NULL,
    -- queued: waiting for its job; failed: the last try failed and it is
    -- tried again; sent, outbox, refused and skipped (opted out before it
    -- went) are final.
    status        text        NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'failed', 'sent', 'outbox', 'refused', 'skipped')),
    attempts      integer     NOT NULL DEFAULT 0,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (onboarding_id, message, seq)
);
CREATE INDEX mail_messages_created ON mail_messages (created_at DESC, id DESC);
CREATE INDEX mail_messages_refused ON mail_messages (updated_at DESC) WHERE status = 'refused';

-- Staff can pause all mail: one row.
CREATE TABLE mail_settings (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    paused     boolean     NOT NULL DEFAULT false,
    changed_by text,
    changed_at timestamptz
);
INSERT INTO mail_settings (id) VALUES (true);

ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability', 'mail')) NOT VALID;

-- +goose Down
DELETE FROM onboarding_events WHERE kind = 'mail';
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability')) NOT VALID;
DROP TABLE mail_settings;
DROP TABLE mail_messages;
DROP TABLE mail_contacts;
