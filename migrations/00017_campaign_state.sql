-- +goose Up

-- Campaigns tell the truth, and support sees every problem in one place
-- (issue 12). A campaign counts the reminders its customers were sent from
-- their timelines (kind 'mail'), and the Problems page lists refused mail,
-- webhook deliveries failing or given up, and stuck onboardings.

-- Mail to customers is on the timeline as kind 'mail'. The mail migration
-- (00016) allows it; where that has not run (or allowed it otherwise) it is
-- allowed here, keeping every kind the check already has.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conname = 'onboarding_events_kind_check'
                     AND pg_get_constraintdef(oid) LIKE '%''mail''%') THEN
        ALTER TABLE onboarding_events DROP CONSTRAINT IF EXISTS onboarding_events_kind_check;
        ALTER TABLE onboarding_events ADD CONSTRAINT onboarding_events_kind_check
            CHECK (kind IN ('created', 'altinn_call', 'status', 'return', 'staff', 'error', 'change', 'usability', 'mail')) NOT VALID;
    END IF;
END
$$;
-- +goose StatementEnd

-- The Problems page's refused mail, newest first, without reading the
-- whole timeline table: a few rows out of many.
CREATE INDEX onboarding_events_mail_refused ON onboarding_events (at DESC, id DESC)
    WHERE kind = 'mail' AND to_status = 'refused';

-- The Problems page's webhook deliveries: given up, or pending after a
-- failed attempt. Delivered ones (nearly all) are not in it.
CREATE INDEX webhook_deliveries_problems ON webhook_deliveries (last_attempt_at DESC, id DESC)
    WHERE status = 'failed' OR (status = 'pending' AND last_error IS NOT NULL);

-- +goose Down
DROP INDEX webhook_deliveries_problems;
DROP INDEX onboarding_events_mail_refused;
-- The 'mail' kind stays allowed: the mail migration (00016) owns it.
