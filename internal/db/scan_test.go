package db_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestScanOnboardingMatchesByName: the list's positional scan reads every
// column into the field pgx's by-name scan does, for a row with every
// column set.
func TestScanOnboardingMatchesByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	if _, err := d.Pool.Exec(ctx, `
		INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, escalated,
			altinn_request_id, confirm_url, system_user_id, error_code, error_message, customer_ref, lang,
			checked_at, connected_at, next_check_at, granted_rights, granted_packages,
			usable, usable_since, usable_checked_at, usable_outcome, usable_ok_at, usable_code, usable_message, org_name, origin)
		VALUES ('scan-ref-0000000001', 'regnskap', 'agent', '991825827_regnskap', '314248295', 'x', 'connected', true,
			gen_random_uuid(), 'https://example.test/c', gen_random_uuid(), 'E1', 'm', 'c', 'en',
			now(), now(), now(), ARRAY['r1'], ARRAY['p1'],
			false, now(), now(), 'not_usable', now(), 'MP-1', 'mm', 'Firma AS', 'staff')`); err != nil {
		t.Fatal(err)
	}
	read := func(scan pgx.RowToFunc[domain.Onboarding]) domain.Onboarding {
		rows, err := d.Pool.Query(ctx, `SELECT `+db.OnboardingColumns+` FROM onboardings`)
		if err != nil {
			t.Fatal(err)
		}
		o, err := pgx.CollectExactlyOneRow(rows, scan)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if diff := cmp.Diff(read(pgx.RowToStructByName[domain.Onboarding]), read(db.ScanOnboarding)); diff != "" {
		t.Errorf("scanOnboarding differs from RowToStructByName (-by name +positional):\n%s", diff)
	}
}
