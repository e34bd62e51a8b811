-- +goose Up
-- Where an onboarding came from: the customer wizard, staff on a customer's
-- behalf, the vendor's API, or an import of a system user made in Altinn.
-- The funnel leaves imports out; nothing else tells them apart reliably.
ALTER TABLE onboardings ADD COLUMN origin text NOT NULL DEFAULT 'wizard'
    CHECK (origin IN ('wizard', 'staff', 'api', 'import'));
UPDATE onboardings o SET origin = 'import'
WHERE EXISTS (SELECT 1 FROM onboarding_events e WHERE e.onboarding_id = o.id AND e.kind = 'created'
              AND e.message LIKE 'imported %');

-- +goose Down
ALTER TABLE onboardings DROP COLUMN origin;
