-- +goose Up
-- The funnel counts onboardings whose customer came back from Altinn.
CREATE INDEX onboarding_events_return ON onboarding_events (onboarding_id) WHERE kind = 'return';

-- +goose Down
DROP INDEX onboarding_events_return;
