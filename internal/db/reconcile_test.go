package db_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/migrations"
)

// TestMigrateIncludesRiver shows River's schema in the one migration story:
// Migrate applies it, SchemaCurrent and Ready see when it is behind.
func TestMigrateIncludesRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.NewEmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	v, err := d.SchemaCurrent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Behind() || v.Current != 0 || v.RiverCurrent != 0 || v.RiverTarget == 0 {
		t.Fatalf("empty database: %+v, want behind at 0 with a River target", v)
	}
	if err := d.Ready(ctx); !errors.Is(err, db.ErrSchemaBehind) {
		t.Fatalf("Ready on an empty database: %v, want ErrSchemaBehind", err)
	}

	n, err := d.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err = d.SchemaCurrent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	river, err := db.RiverMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if v.Behind() || n != len(ours)+len(river) {
		t.Fatalf("after Migrate (%d applied): %s, want current with ours and River's all applied", n, v)
	}
	var riverTables int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN ('river_job', 'river_leader', 'river_queue')`).Scan(&riverTables); err != nil || riverTables != 3 {
		t.Fatalf("River's tables: %d (%v), want 3", riverTables, err)
	}
	if err := d.Ready(ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	if n, err := d.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second Migrate: %d, %v; want nothing to do", n, err)
	}

	// River's last migration undone, as on a database a newer River has not
	// been applied to: behind, and Migrate brings it back.
	m, err := rivermigrate.New(riverpgxv5.New(d.Pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{MaxSteps: 1}); err != nil {
		t.Fatal(err)
	}
	v, err = d.SchemaCurrent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Behind() || v.Current != v.Target || v.RiverCurrent != v.RiverTarget-1 {
		t.Fatalf("River one step down: %s, want behind on River only", v)
	}
	if err := d.Ready(ctx); !errors.Is(err, db.ErrSchemaBehind) {
		t.Fatalf("Ready with River behind: %v, want ErrSchemaBehind", err)
	}
	if n, err := d.Migrate(ctx); err != nil || n != 1 {
		t.Fatalf("Migrate after River step down: %d, %v; want 1", n, err)
	}
}

// TestMigrateConcurrently starts two migrations at once on an empty
// database, as two instances in dev do: they take turns.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewEmptyURL(t)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			d, err := db.Open(ctx, u)
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			counts[i], errs[i] = d.Migrate(ctx)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if min(counts[0], counts[1]) != 0 || max(counts[0], counts[1]) == 0 {
		t.Fatalf("applied %v: want one to do it all and the other nothing", counts)
	}
}

func TestSaveOnboardingMovesStatusAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-statusat-aaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, d, `UPDATE onboardings SET status_at = now() - interval '1 hour' WHERE id = $1`, o.ID)
	if o, err = d.OnboardingByID(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	old := o.StatusAt
	next := time.Now().Add(time.Minute).Truncate(time.Microsecond)
	o.NextCheckAt = &next
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseReconciler, ""); err != nil {
		t.Fatal(err)
	}
	if !o.StatusAt.Equal(old) {
		t.Fatalf("status_at moved from %v to %v without a status change", old, o.StatusAt)
	}
	o.Status = domain.StatusPending
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseReconciler, ""); err != nil {
		t.Fatal(err)
	}
	got, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(got.StatusAt) > time.Minute || !got.StatusAt.Equal(o.StatusAt) {
		t.Fatalf("status_at after a status change = %v (o has %v), want now", got.StatusAt, o.StatusAt)
	}
	if got.NextCheckAt == nil || !got.NextCheckAt.Equal(next) {
		t.Fatalf("next_check_at = %v, want %v", got.NextCheckAt, next)
	}
}

func TestClaimDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Now()
	ids := map[string]string{}
	for i, c := range []struct {
		name string
		next *time.Time
	}{
		{"overdue", ptr(now.Add(-time.Hour))},
		{"due", ptr(now.Add(-time.Second))},
		{"later", ptr(now.Add(time.Minute))},
		{"final", nil},
	} {
		org := []string{"314248295", "910825526", "974760673", "986105174"}[i]
		o, err := d.CreateOnboarding(ctx, db.NewOnboarding{Ref: "ref-claim-" + c.name + "-aaaaaaaaaaaa", Product: "standard",
			Kind: "standard", SystemID: "991825827_smartcloud", OrgNo: org, ExternalRef: org, Lang: "nb",
			Cause: domain.CauseCustomer, NextCheckAt: c.next})
		if err != nil {
			t.Fatal(err)
		}
		ids[c.name] = o.ID
	}
	claim := func(limit int) []string {
		t.Helper()
		var got []string
		err := d.InTx(ctx, func(q db.Querier) error {
			var err error
			got, err = db.ClaimDue(ctx, q, now, now.Add(10*time.Minute), limit)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got, want := claim(1), []string{ids["overdue"]}; !slices.Equal(got, want) {
		t.Fatalf("first claim of one = %v, want the most overdue %v", got, want)
	}
	if got, want := claim(10), []string{ids["due"]}; !slices.Equal(got, want) {
		t.Fatalf("second claim = %v, want the one still due %v", got, want)
	}
	if got := claim(10); len(got) != 0 {
		t.Fatalf("third claim = %v: claimed rows are leased, the rest not due", got)
	}
	o, err := d.OnboardingByID(ctx, ids["due"])
	if err != nil {
		t.Fatal(err)
	}
	if o.NextCheckAt == nil || o.NextCheckAt.Sub(now) < 9*time.Minute || o.Version != 1 {
		t.Fatalf("claimed: next check %v version %d, want leased 10 minutes on and the version untouched", o.NextCheckAt, o.Version)
	}

	// Two sweeps at once never claim one row twice.
	exec(t, d, `UPDATE onboardings SET next_check_at = now() - interval '1 minute'`)
	pool2, err := pgxpool.New(ctx, d.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	d2 := &db.DB{Pool: pool2}
	// Each claim's transaction stays open until both have claimed, so the
	// second claims while the first holds its row locks; a claim that
	// waited on those locks (no SKIP LOCKED) would never get there.
	var (
		wg      sync.WaitGroup
		arrived sync.WaitGroup
		errs    [2]error
	)
	both := make(chan struct{})
	arrived.Add(2)
	go func() { arrived.Wait(); close(both) }()
	results := make([][]string, 2)
	for i, store := range []*db.DB{d, d2} {
		wg.Go(func() {
			errs[i] = store.InTx(ctx, func(q db.Querier) error {
				var err error
				results[i], err = db.ClaimDue(ctx, q, time.Now(), time.Now().Add(time.Hour), 10)
				arrived.Done()
				select {
				case <-both:
				case <-time.After(10 * time.Second):
					return errors.New("the other claim did not return within 10 s while this one held its locks")
				}
				return err
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent claim: %v", err)
		}
	}
	all := append(slices.Clone(results[0]), results[1]...)
	slices.Sort(all)
	if len(all) != 4 || len(slices.Compact(all)) != 4 {
		t.Fatalf("two concurrent claims got %v and %v: want the four rows once between them", results[0], results[1])
	}
}

func TestJobCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	exec(t, d, `INSERT INTO river_job (args, kind, max_attempts, state, queue, priority, finalized_at)
		VALUES ('{}', 'reconcile', 3, 'available', 'default', 1, NULL), ('{}', 'reconcile', 3, 'available', 'default', 1, NULL),
		       ('{}', 'reconcile', 3, 'completed', 'default', 1, now())`)
	got, err := d.JobCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got["available"] != 2 || got["running"] != 0 || got["retryable"] != 0 || len(got) != 5 {
		t.Fatalf("job counts = %v, want 2 available and zeros for the other unfinished states", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestClaimDueOnboardingsAndRelease: a claim returns the rows as claimed
// (leased, the version untouched, so they can be saved as read); a give-back
// makes due again only what is still held by that claim; CountDue counts
// what is due, up to its limit.
func TestClaimDueOnboardingsAndRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Now()
	for i, org := range []string{"314248295", "910825526", "974760673"} {
		if _, err := d.CreateOnboarding(ctx, db.NewOnboarding{Ref: fmt.Sprintf("ref-release-%d-aaaaaaaaaaaa", i), Product: "standard",
			Kind: "standard", SystemID: "991825827_smartcloud", OrgNo: org, ExternalRef: org, Lang: "nb",
			Cause: domain.CauseCustomer, NextCheckAt: ptr(now.Add(-time.Duration(i+1) * time.Minute))}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.CountDue(ctx, now, 2); err != nil || n != 2 {
		t.Fatalf("CountDue up to 2 = %d, %v; want 2", n, err)
	}
	until := now.Add(10 * time.Minute)
	os, err := d.ClaimDueOnboardings(ctx, now, until, 10)
	if err != nil || len(os) != 3 {
		t.Fatalf("claim = %d rows, %v; want 3", len(os), err)
	}
	for _, o := range os {
		if o.OrgNo == "" || o.Status != domain.StatusRequesting || o.Version != 1 || o.NextCheckAt == nil || !o.NextCheckAt.Equal(until.Truncate(time.Microsecond)) {
			t.Fatalf("claimed row %+v: want the whole row, leased until %v, version 1", o, until)
		}
	}
	// One is saved meanwhile (its next check set by its reconcile): a
	// give-back of all three leaves it alone.
	if err := d.SetNextCheck(ctx, os[0].ID, os[0].Version, ptr(now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := d.ReleaseClaims(ctx, []string{os[0].ID, os[1].ID, os[2].ID}, until, now); err != nil {
		t.Fatal(err)
	}
	if n, err := d.CountDue(ctx, now, 10); err != nil || n != 2 {
		t.Fatalf("due after the give-back: %d, %v; want the 2 not saved", n, err)
	}
}
