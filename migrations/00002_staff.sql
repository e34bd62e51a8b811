-- +goose Up

-- The vendor's support staff, who sign in to the dashboard under /admin/.
-- Local accounts only; the password is kept as an argon2id hash in PHC form.
-- Roles: viewers read, operators act, admins manage staff.
CREATE TABLE staff (
    id            bigserial   PRIMARY KEY,
    email         text        NOT NULL UNIQUE
                                  CHECK (email = lower(email) AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254),
    password_hash text        NOT NULL CHECK (password_hash <> ''),
    role          text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- A signed-in browser. Only the SHA-256 of the random token in the cookie is
-- kept, so a copy of this table signs nobody in.
CREATE TABLE staff_sessions (
    token_hash   bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    staff_id     bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Who did what: sign-ins (and failed ones, which the sign-in rate limit
-- counts), sign-outs, staff accounts, and every staff action on an
-- onboarding. Rows are only ever added.
CREATE TABLE audit_log (
    id            bigserial   PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    staff_id      bigint      REFERENCES staff (id) ON DELETE SET NULL,
    -- The staff member's email; for a failed sign-in the email that was typed,
    -- for the command line "cli".
    actor         text        NOT NULL CHECK (actor <> '' AND length(actor) <= 254),
    action        text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    onboarding_id uuid        REFERENCES onboardings (id) ON DELETE SET NULL,
    detail        jsonb,
    ip            inet
);

CREATE INDEX audit_log_onboarding ON audit_log (onboarding_id, id) WHERE onboarding_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor, action, at);
CREATE INDEX audit_log_failed_ip ON audit_log (ip, at) WHERE action = 'staff.sign_in_failed';

-- +goose Down
DROP TABLE audit_log;
DROP TABLE staff_sessions;
DROP TABLE staff;
