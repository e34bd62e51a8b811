package db_test

import (
	"context"
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
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
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
