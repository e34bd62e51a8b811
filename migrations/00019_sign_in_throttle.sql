-- +goose Up

-- The staff sign-in throttle (issue 13) slows failures down instead of
-- locking an email: per address and email, per email, per address, each
-- counted from the audit log since its reset. A success from an address
-- resets that address's count, and an admin's unlock (an audit entry
-- staff.sign_in_unlocked with the account's email in detail) resets an
-- email's counts: these two indexes find the latest of each.
CREATE INDEX audit_log_sign_in_ip ON audit_log (ip, id) WHERE action = 'staff.sign_in';
CREATE INDEX audit_log_sign_in_unlocked ON audit_log ((detail ->> 'email'), id) WHERE action = 'staff.sign_in_unlocked';

-- +goose Down
DROP INDEX audit_log_sign_in_unlocked;
DROP INDEX audit_log_sign_in_ip;
