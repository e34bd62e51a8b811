-- +goose Up

-- What each customer's system user was granted: the rights (resource ids)
-- and access packages (URNs) of the request it was made from, set when the
-- onboarding becomes connected (an import: what its product asked for then)
-- and moved on by every accepted change request. NULL on rows that predate
-- this column: nothing recorded what they got, so they count as holding
-- their product's current configuration and are never listed as lacking.
-- Both are set together; '{}' means "none", not "unknown".
ALTER TABLE onboardings ADD COLUMN granted_rights text[];
ALTER TABLE onboardings ADD COLUMN granted_packages text[];

-- Change requests (endringsforespørsel): asking a connected customer to
-- approve rights and packages added to, or removed from, its system user.
-- The id is the correlation-id sent to Altinn, made here and stored before
-- Altinn is called, so a retry after a lost answer re-sends the same id and
-- Altinn answers with the one it has instead of making another.
CREATE TABLE change_requests (
    id                uuid        PRIMARY KEY,
    onboarding_id     uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    -- The return reference in redirectUrl's query, like onboardings.ref.
    ref               text        NOT NULL UNIQUE CHECK (ref ~ '^[A-Za-z0-9_-]{16,64}$'),
    system_user_id    uuid        NOT NULL,
    required_rights   text[]      NOT NULL DEFAULT '{}',
    unwanted_rights   text[]      NOT NULL DEFAULT '{}',
    required_packages text[]      NOT NULL DEFAULT '{}',
    unwanted_packages text[]      NOT NULL DEFAULT '{}',
    -- requesting: stored, Altinn not (yet, or not knowingly) reached;
    -- pending: waiting for the customer at confirm_url; no_change: Altinn
    -- said NoChangeNeeded (nothing stored there).
    status            text        NOT NULL CHECK (status IN ('requesting', 'pending', 'accepted', 'rejected',
                                      'no_change', 'failed', 'cancelled')),
    confirm_url       text,
    error_code        text,
    error_message     text,
    cause             text        NOT NULL,
    actor             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    checked_at        timestamptz,
    -- Bumped on every save, as on onboardings: a writer holding an older
    -- version lost a race and must re-read.
    version           integer     NOT NULL DEFAULT 1
);

-- At most one live change request per onboarding: a second start finds it.
CREATE UNIQUE INDEX change_requests_live ON change_requests (onboarding_id)
    WHERE status IN ('requesting', 'pending');
CREATE INDEX change_requests_onboarding ON change_requests (onboarding_id, created_at DESC);

-- A change request's steps are kept on its onboarding's timeline as events
-- of their own kind, so they never read as the onboarding's status moving.
-- NOT VALID: the rows there were checked by the stricter check it replaces,
-- and the table is not scanned (under this transaction's lock) again.
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change')) NOT VALID;

-- +goose Down
DELETE FROM onboarding_events WHERE kind = 'change';
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error'));
DROP TABLE change_requests;
ALTER TABLE onboardings DROP COLUMN granted_packages;
ALTER TABLE onboardings DROP COLUMN granted_rights;
