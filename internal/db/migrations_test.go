package db_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/migrations"
)

// TestMigrationsDownAndUpAgain: every migration's Down undoes its Up on a
// database that has been used (a campaign has started an onboarding, a
// change request exists), and Up then applies again.
func TestMigrationsDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	n := newOnboarding("campaign-ref-0000001", "310000019")
	n.Cause = domain.CauseCampaign
	o, err := d.CreateOnboarding(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateCampaign(ctx, db.Campaign{Kind: db.CampaignOnboard, Product: "standard", Name: "c",
		Concurrency: 1, Rate: 1, CreatedBy: "test"}, []db.NewCampaignItem{{Line: 1, OrgNo: o.OrgNo}}); err != nil {
		t.Fatal(err)
	}
	sqlDB, p := gooseOn(t, d)
	version := func() int64 {
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	top := version()
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatalf("down to 10 from %d: %v", top, err)
	}
	var origin string
	if err := sqlDB.QueryRowContext(ctx, `SELECT origin FROM onboardings WHERE id = $1`, o.ID).Scan(&origin); err != nil || origin != "staff" {
		t.Errorf("after Down the campaign's onboarding has origin %q (%v), want staff", origin, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if v := version(); v != top {
		t.Errorf("version %d after up, want %d", v, top)
	}
	var tables int
	if err := sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_name IN ('campaigns', 'campaign_items', 'change_requests')`).Scan(&tables); err != nil || tables != 3 {
		t.Errorf("%d of the 3 tables back (%v)", tables, err)
	}
}

// TestEventsDownFrom26: 00026's Down puts the raw answers kept as text back
// into jsonb, a body jsonb refuses (\u0000) as a JSON string rather than
// failing the whole Down, and gives a status change kept in its Altinn
// call's row (db/events.go carriesStatus) its own row again, as the code
// before it expects.
func TestEventsDownFrom26(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("down-ref-0000001", "310000019"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO onboarding_events (onboarding_id, kind, cause, operation, raw_text) VALUES
		($1, 'altinn_call', 'reconciler', 'good', '{"a": 1}'), ($1, 'altinn_call', 'reconciler', 'nul', '{"a": "\u0000"}')`, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO onboarding_events (onboarding_id, kind, cause, operation, from_status, to_status)
		VALUES ($1, 'altinn_call', 'customer', 'create', 'requesting', 'pending')`, o.ID); err != nil {
		t.Fatal(err)
	}
	sqlDB, p := gooseOn(t, d)
	if _, err := p.DownTo(ctx, 25); err != nil {
		t.Fatalf("down to 25: %v", err)
	}
	for op, want := range map[string]string{"good": `{"a": 1}`, "nul": `"{\"a\": \"\\u0000\"}"`} {
		var raw string
		if err := sqlDB.QueryRowContext(ctx, `SELECT raw::text FROM onboarding_events WHERE onboarding_id = $1 AND operation = $2`,
			o.ID, op).Scan(&raw); err != nil || raw != want {
			t.Errorf("%s: raw after Down = %s (%v), want %s", op, raw, err, want)
		}
	}
	var calls, changes int
	if err := sqlDB.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE kind = 'altinn_call' AND operation = 'create' AND to_status IS NULL),
		count(*) FILTER (WHERE kind = 'status' AND from_status = 'requesting' AND to_status = 'pending' AND cause = 'customer')
		FROM onboarding_events WHERE onboarding_id = $1`, o.ID).Scan(&calls, &changes); err != nil || calls != 1 || changes != 1 {
		t.Errorf("after Down: %d plain calls, %d status rows (%v), want 1 and 1", calls, changes, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// gooseOn is a goose provider of the service's migrations on d, for tests
// that go down and up again, and the database/sql handle it uses.
func gooseOn(t *testing.T, d *db.DB) (*sql.DB, *goose.Provider) {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return sqlDB, p
}
