-- +goose Up

-- Issue 14: accountants delegate their clients to their agent system user
-- through ID-porten (../shared/altinn/clientdelegation.md).

-- A person's login for one agent onboarding: the browser holds a random
-- cookie; only its SHA-256 is here. What the login must remember (state,
-- nonce, PKCE verifier) and the person's Altinn token are sealed
-- (internal/sealed: AES-GCM under a key derived from the session key,
-- bound to the row's id), never in the clear. A login lives minutes.
CREATE TABLE person_logins (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    cookie_hash   bytea       NOT NULL UNIQUE CHECK (length(cookie_hash) = 32),
    onboarding_id uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    pending       bytea,      -- sealed idporten.Pending until the browser comes back
    token         bytea,      -- sealed Altinn token once logged in
    token_expires timestamptz,
    -- ID-porten's pairwise sub for the person: who did it, without the
    -- national identity number.
    subject       text        CHECK (length(subject) <= 200),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX person_logins_expires ON person_logins (expires_at);

-- The clients of an agent onboarding: one row per client (its party UUID
-- at Altinn), added or removed by a person through us or in Altinn's
-- portal (then noticed by the reconciler). state and reason follow
-- domain.ClientState and domain.ClientReason.
CREATE TABLE onboarding_clients (
    onboarding_id uuid        NOT NULL REFERENCES onboardings (id) ON DELETE CASCADE,
    client_id     uuid        NOT NULL,
    org_no        text        NOT NULL CHECK (org_no ~ '^[0-9]{9}$'),
    org_name      text        NOT NULL DEFAULT '' CHECK (length(org_name) <= 500),
    state         text        NOT NULL CHECK (state IN ('adding', 'delegated', 'removing', 'removed', 'failed')),
    reason        text        NOT NULL DEFAULT '' CHECK (length(reason) <= 50),
    attempts      integer     NOT NULL DEFAULT 0,
    -- The login whose token the next try uses; NULL when it has ended.
    login_id      uuid        REFERENCES person_logins (id) ON DELETE SET NULL,
    -- Who asked (a person's pairwise sub, or 'altinn' for the portal).
    changed_by    text        NOT NULL DEFAULT '' CHECK (length(changed_by) <= 200),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    next_at       timestamptz,
    PRIMARY KEY (onboarding_id, client_id)
);

CREATE INDEX onboarding_clients_state ON onboarding_clients (onboarding_id, state);

-- The clients' steps are on the onboarding's timeline as kind 'clients'
-- (domain.EventClients), keeping every kind the check already has.
ALTER TABLE onboarding_events DROP CONSTRAINT IF EXISTS onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability', 'mail', 'clients')) NOT VALID;

-- +goose Down
DELETE FROM onboarding_events WHERE kind = 'clients';
ALTER TABLE onboarding_events DROP CONSTRAINT IF EXISTS onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability', 'mail')) NOT VALID;
DROP TABLE onboarding_clients;
DROP TABLE person_logins;
