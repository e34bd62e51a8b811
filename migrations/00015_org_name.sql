-- +goose Up

-- The organisation's name from Brønnøysund's Enhetsregisteret, as the
-- customer confirmed it in the wizard before going to Altinn (issue 11).
-- NULL: never looked up (started by staff, the API, a campaign or an
-- import, or before this column), or the register did not answer. It is
-- for display and search only; rows without one are not filled in later.
-- A nullable column without a default rewrites nothing; the check is NOT
-- VALID so the table is not scanned (every row is NULL there anyway).
ALTER TABLE onboardings ADD COLUMN org_name text;
ALTER TABLE onboardings ADD CONSTRAINT onboardings_org_name_check
    CHECK (char_length(org_name) BETWEEN 1 AND 250) NOT VALID;

-- The dashboard's search by name prefix, case-insensitive (internal/db/list.go):
-- lower(org_name) LIKE 'prefix%' is a range scan of this index whatever the
-- database's collation (text_pattern_ops compares bytes). Checked with
-- EXPLAIN ANALYZE on a million rows, two thirds named: a rare prefix is a
-- BitmapOr with the search's other arms (under 3 ms), a common one walks
-- onboardings_created (under 20 ms a page).
-- Not partial (WHERE org_name IS NOT NULL): the planner ignores the
-- statistics of a partial expression index, and without them it guessed
-- a prefix's rows 15 times too high and walked 120 000 rows for a page.
-- A finer histogram than the default 100 buckets keeps long prefixes'
-- estimates close (441 rows estimated 6 500 at 100, right at 1 000).
CREATE INDEX onboardings_org_name_prefix ON onboardings (lower(org_name) text_pattern_ops);
ALTER INDEX onboardings_org_name_prefix ALTER COLUMN 1 SET STATISTICS 1000;

-- +goose Down
DROP INDEX onboardings_org_name_prefix;
ALTER TABLE onboardings DROP CONSTRAINT onboardings_org_name_check;
ALTER TABLE onboardings DROP COLUMN org_name;
