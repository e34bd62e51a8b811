-- +goose Up

-- Indexes for the support dashboard's list, search and counts (internal/db/list.go),
-- each chosen from EXPLAIN ANALYZE on a million seeded rows (bench/list, bench/README.md).
-- The list and its date and status filters walk onboardings_created (rebuilt below) and
-- onboardings_status_created from 00001; kind and escalated filters on the list find a
-- page within a few hundred rows of the created_at order, so they need nothing more.

-- Search. The search ORs one equality per column a pasted value could be; a single
-- arm without an index turns the whole search into a sequential scan (0.2-0.4 s).
CREATE INDEX onboardings_external_ref ON onboardings (external_ref);
CREATE INDEX onboardings_customer_ref ON onboardings (customer_ref) WHERE customer_ref IS NOT NULL;
CREATE INDEX onboardings_system_user ON onboardings (system_user_id) WHERE system_user_id IS NOT NULL;
-- onboardings_altinn_request (00001) leaves out cancelled onboardings, whose request ids
-- support also looks up, so it cannot answer the search.
CREATE INDEX onboardings_altinn_request_any ON onboardings (altinn_request_id) WHERE altinn_request_id IS NOT NULL;

-- Counts per status. Each lets the count be an index-only scan of a small index instead
-- of a scan of the table: all rows and by kind (7 MB, deduplicated), and escalated ones
-- (a few hundred kB).
CREATE INDEX onboardings_kind_status ON onboardings (kind, status);
CREATE INDEX onboardings_escalated_kind_status ON onboardings (kind, status) WHERE escalated;
-- Counts over a created_at range, with or without a kind or escalated filter, become an
-- index-only scan when the list's own index carries those columns: 2-4x faster for a
-- month to half a year (beyond that the planner rightly prefers a sequential scan). It
-- replaces the 00001 index of the same name rather than sitting beside it, because a
-- second index led by created_at drew the list queries away from this one (into an
-- incremental sort on id) and made status filters slower. It is ascending, read
-- backwards for the newest-first list: rows arrive in created_at order, and a
-- descending index takes each one at its left edge, where page splits leave pages half
-- full (the 00001 index grew to about 1.7 times the size of a freshly built one).
DROP INDEX onboardings_created;
CREATE INDEX onboardings_created ON onboardings (created_at, id) INCLUDE (status, kind, escalated);

-- +goose Down
DROP INDEX onboardings_created;
CREATE INDEX onboardings_created ON onboardings (created_at DESC, id DESC);
DROP INDEX onboardings_escalated_kind_status;
DROP INDEX onboardings_kind_status;
DROP INDEX onboardings_altinn_request_any;
DROP INDEX onboardings_system_user;
DROP INDEX onboardings_customer_ref;
DROP INDEX onboardings_external_ref;
