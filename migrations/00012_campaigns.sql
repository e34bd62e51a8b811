-- +goose Up

-- A campaign's own work is recorded with its own cause, and onboardings it
-- started say so.
-- NOT VALID: the rows there were checked by the stricter checks these
-- replace, and the tables are not scanned (under this transaction's lock)
-- again. New rows are checked as always.
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_cause_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_cause_check
    CHECK (cause IN ('customer', 'reconciler', 'staff', 'altinn', 'system', 'api', 'campaign')) NOT VALID;
ALTER TABLE onboardings DROP CONSTRAINT onboardings_origin_check;
ALTER TABLE onboardings ADD CONSTRAINT onboardings_origin_check
    CHECK (origin IN ('wizard', 'staff', 'api', 'import', 'campaign')) NOT VALID;

-- A bulk campaign: many organisations onboarded to one product (kind
-- onboard), or many connected customers asked to approve a change request
-- (kind change). It is made as a draft holding the validation report, and
-- only then started.
CREATE TABLE campaigns (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text        NOT NULL CHECK (kind IN ('onboard', 'change')),
    product         text        NOT NULL,
    name            text        NOT NULL CHECK (name <> '' AND length(name) <= 200),
    status          text        NOT NULL DEFAULT 'draft'
                                CHECK (status IN ('draft', 'running', 'paused', 'cancelled', 'done')),
    -- How many Altinn operations run at once, and how many may start per second.
    concurrency     integer     NOT NULL CHECK (concurrency BETWEEN 1 AND 200),
    rate            double precision NOT NULL CHECK (rate > 0 AND rate <= 10000),
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX campaigns_created ON campaigns (created_at DESC, id DESC);
CREATE INDEX campaigns_running ON campaigns (id) WHERE status = 'running';

-- One row of a campaign: a line of the upload (valid or not: an invalid row
-- keeps its problem, so the report lists it), or one connected customer of
-- a change campaign.
CREATE TABLE campaign_items (
    id                bigserial   PRIMARY KEY,
    campaign_id       uuid        NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    line              integer     NOT NULL,
    org_no            text        NOT NULL CHECK (length(org_no) <= 64),
    customer_ref      text        CHECK (length(customer_ref) <= 255),
    email             text        CHECK (length(email) <= 320),
    -- Why the row will not be sent (format, checksum, duplicate, connected,
    -- email, customer_ref); NULL for a valid row.
    problem           text,
    -- For a duplicate: the line it repeats.
    problem_line      integer,
    state             text        NOT NULL CHECK (state IN ('invalid', 'queued', 'working', 'done', 'failed', 'cancelled')),
    onboarding_id     uuid        REFERENCES onboardings (id),
    change_request_id uuid,
    attempts          integer     NOT NULL DEFAULT 0,
    -- A queued row is not taken before this (a retry's back-off).
    not_before        timestamptz,
    last_error        text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'invalid') = (problem IS NOT NULL))
);
CREATE INDEX campaign_items_campaign ON campaign_items (campaign_id, id);
CREATE INDEX campaign_items_work ON campaign_items (campaign_id, id) WHERE state IN ('queued', 'working');
-- A valid organisation appears once in an onboarding campaign (repeats are
-- invalid rows); a change campaign has each onboarding once (one
-- organisation may hold several, under different external refs).
CREATE UNIQUE INDEX campaign_items_once ON campaign_items (campaign_id, org_no)
    WHERE state <> 'invalid' AND onboarding_id IS NULL;
CREATE UNIQUE INDEX campaign_items_onboarding_once ON campaign_items (campaign_id, onboarding_id)
    WHERE onboarding_id IS NOT NULL;
CREATE INDEX campaign_items_onboarding ON campaign_items (onboarding_id) WHERE onboarding_id IS NOT NULL;

-- +goose Down
DROP TABLE campaign_items;
DROP TABLE campaigns;
-- What campaigns started is kept, as staff's.
UPDATE onboardings SET origin = 'staff' WHERE origin = 'campaign';
UPDATE onboarding_events SET cause = 'staff' WHERE cause = 'campaign';
ALTER TABLE onboardings DROP CONSTRAINT onboardings_origin_check;
ALTER TABLE onboardings ADD CONSTRAINT onboardings_origin_check
    CHECK (origin IN ('wizard', 'staff', 'api', 'import'));
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_cause_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_cause_check
    CHECK (cause IN ('customer', 'reconciler', 'staff', 'altinn', 'system', 'api'));
