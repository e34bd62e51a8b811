-- +goose Up

-- Background reconciliation (internal/jobs). Altinn sends no callbacks, so the
-- service re-reads every onboarding that can still change on a schedule:
-- waiting ones (requesting, pending, accepted) by their age in that status,
-- connected ones now and then to notice a system user deleted in Altinn.

-- When the status last changed: the age the schedule counts from.
ALTER TABLE onboardings ADD COLUMN status_at timestamptz NOT NULL DEFAULT now();
UPDATE onboardings o SET status_at = coalesce(
    (SELECT max(e.at) FROM onboarding_events e
      WHERE e.onboarding_id = o.id AND e.kind IN ('created', 'status')),
    o.created_at);

-- When the reconciler should next look; NULL for final statuses (rejected,
-- expired, failed, cancelled, revoked), which only a person's action moves on.
-- Written in the same transaction as every status change.
ALTER TABLE onboardings ADD COLUMN next_check_at timestamptz;
UPDATE onboardings SET next_check_at = now()
 WHERE status IN ('started', 'requesting', 'pending', 'accepted');
-- Connected ones are spread over a day, not all checked in the first sweep.
UPDATE onboardings SET next_check_at = now() + random() * interval '24 hours'
 WHERE status = 'connected';

-- The sweep reads the due rows in next_check_at order: a range scan of this
-- small index, whatever the size of the table.
CREATE INDEX onboardings_next_check ON onboardings (next_check_at) WHERE next_check_at IS NOT NULL;

-- +goose Down
DROP INDEX onboardings_next_check;
ALTER TABLE onboardings DROP COLUMN next_check_at;
ALTER TABLE onboardings DROP COLUMN status_at;
