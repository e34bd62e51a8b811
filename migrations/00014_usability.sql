-- +goose Up

-- Whether a connected onboarding is usable: Maskinporten issued a
-- system-user token for its system user (the token itself is thrown away,
-- never stored). "Usable" is a property of a connected onboarding, not a
-- status (shared/DESIGN.md): connected but not usable means the vendor's
-- setup is wrong (the system's clientId, the externalRef, a scope).
--   usable            NULL: not checked (yet, or since it last became
--                     connected); true/false: the last answer Maskinporten
--                     gave. "Could not check" (no answer, a 5xx) leaves it.
--   usable_since      when usable took its current value
--   usable_checked_at the last attempt, whatever came of it
--   usable_ok_at      the last token issued; kept after a failure
--   usable_outcome    what the last attempt gave (unavailable: no answer)
--   usable_code       on failure, Maskinporten's MP-nnn code (or its OAuth
--                     error code when the answer had none)
--   usable_message    on failure, Maskinporten's error_description
-- Adding nullable columns without a default rewrites nothing; the check is
-- NOT VALID so the table is not scanned (every row is NULL there anyway).
ALTER TABLE onboardings ADD COLUMN usable boolean;
ALTER TABLE onboardings ADD COLUMN usable_since timestamptz;
ALTER TABLE onboardings ADD COLUMN usable_checked_at timestamptz;
ALTER TABLE onboardings ADD COLUMN usable_ok_at timestamptz;
ALTER TABLE onboardings ADD COLUMN usable_outcome text;
ALTER TABLE onboardings ADD COLUMN usable_code text;
ALTER TABLE onboardings ADD COLUMN usable_message text;
ALTER TABLE onboardings ADD CONSTRAINT onboardings_usable_outcome_check
    CHECK (usable_outcome IN ('usable', 'not_usable', 'unavailable')) NOT VALID;

-- The dashboard's "not usable" and "not checked" filters (internal/db/list.go)
-- pick a few connected rows out of many: a small partial index in the
-- list's order finds them without walking every connected onboarding.
-- ("Usable" is most connected rows; the status index serves it.)
CREATE INDEX onboardings_not_usable ON onboardings (created_at, id)
    WHERE status = 'connected' AND usable IS NOT TRUE;

-- Every check is on the timeline as an event of its own kind: its cause,
-- actor, outcome (to_status), MP code (altinn_code) and latency.
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability')) NOT VALID;

-- +goose Down
DELETE FROM onboarding_events WHERE kind = 'usability';
ALTER TABLE onboarding_events DROP CONSTRAINT onboarding_events_kind_check;
ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
    CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change')) NOT VALID;
DROP INDEX onboardings_not_usable;
ALTER TABLE onboardings DROP CONSTRAINT onboardings_usable_outcome_check;
ALTER TABLE onboardings DROP COLUMN usable_message;
ALTER TABLE onboardings DROP COLUMN usable_code;
ALTER TABLE onboardings DROP COLUMN usable_outcome;
ALTER TABLE onboardings DROP COLUMN usable_ok_at;
ALTER TABLE onboardings DROP COLUMN usable_checked_at;
ALTER TABLE onboardings DROP COLUMN usable_since;
ALTER TABLE onboardings DROP COLUMN usable;
