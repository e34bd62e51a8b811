-- +goose Up

-- One-time password reset codes that an admin makes for another staff
-- member (issue 12). Only the SHA-256 of the code is kept: the code itself
-- is shown once to the admin and is in no table and no log. A code works
-- once (used_at), until expires_at, and only while the account is active;
-- making a new one for an account, or using one, takes the account's other
-- codes away.
CREATE TABLE staff_password_resets (
    code_hash  bytea       PRIMARY KEY CHECK (length(code_hash) = 32),
    staff_id   bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    -- The admin who made it; NULL once that account is gone.
    created_by bigint      REFERENCES staff (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX staff_password_resets_staff ON staff_password_resets (staff_id);

-- The failed "change password" attempts (wrong current password) are
-- counted per account, like failed sign-ins, from the audit log.
CREATE INDEX audit_log_password_failed ON audit_log (staff_id, at) WHERE action = 'staff.password_change_failed';

-- +goose Down
DROP INDEX audit_log_password_failed;
DROP TABLE staff_password_resets;
