package db_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

// summary is a summary that triggers keep beside onboardings (the counts,
// migrations/00021; the funnel, 00023), as summaryScenario drives it.
type summary struct {
	rows             int    // inserted at first
	seed, workerSeed uint64 // of the random rows: the scenario's, each concurrent transaction's
	// insert adds n onboardings numbered from on; change changes some of
	// those there are (round tells the rounds apart).
	insert func(t *testing.T, q db.Querier, rng *rand.Rand, n, from int)
	change func(t *testing.T, q db.Querier, round uint64)
	// concurrently is the UPDATE each concurrent transaction runs after
	// its inserts.
	concurrently string
	// check compares the summary's figures with the table's; table is the
	// whole summary, to compare a fold with a rebuild; fold, rebuild and
	// deltas are the SQL that folds every committed delta under the
	// folders' lock (as the triggers do now and then), that rebuilds the
	// summary from the table and that counts the deltas left.
	check   func(t *testing.T, d *db.DB, stage string)
	table   func(t *testing.T, d *db.DB) any
	fold    string
	rebuild string
	deltas  string
}

// summaryScenario checks s after every kind of change: inserts, changes, a
// fold, a rolled-back transaction (which never counts), concurrent
// transactions inserting and changing rows, some folding (the triggers fold
// now and then) and some rolled back, more changes; then that a full fold
// is what a rebuild from the table makes and leaves no delta, and a
// truncate.
func summaryScenario(t *testing.T, s summary) {
	ctx := context.Background()
	d := dbtest.New(t)
	rng := rand.New(rand.NewPCG(15, s.seed))

	s.check(t, d, "empty")
	s.insert(t, d.Pool, rng, s.rows, 0)
	s.check(t, d, "after inserts")
	s.change(t, d.Pool, 1)
	s.check(t, d, "after changes")
	foldSummary(t, d, s.fold)
	s.check(t, d, "after a fold")

	err := d.InTx(ctx, func(q db.Querier) error {
		s.insert(t, q, rng, 30, 1000)
		s.change(t, q, 2)
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction committed")
	}
	s.check(t, d, "after a rollback")

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), s.workerSeed))
			for i := range 5 {
				err := d.InTx(ctx, func(q db.Querier) error {
					s.insert(t, q, rng, 10, 2000+w*100+i*10)
					if _, err := q.Exec(ctx, s.concurrently); err != nil {
						return err
					}
					if i == 3 {
						return errors.New("roll back")
					}
					return nil
				})
				if err != nil && err.Error() != "roll back" {
					t.Errorf("worker %d: %v", w, err)
				}
			}
		})
	}
	wg.Wait()
	s.check(t, d, "after concurrent transactions")
	s.change(t, d.Pool, 3)
	s.check(t, d, "after more changes")

	foldSummary(t, d, s.fold)
	folded := s.table(t, d)
	if _, err := d.Pool.Exec(ctx, s.rebuild); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.table(t, d), folded); diff != "" {
		t.Errorf("folded summary differs from a rebuild (-rebuilt +folded):\n%s", diff)
	}
	var deltas int
	if err := d.Pool.QueryRow(ctx, s.deltas).Scan(&deltas); err != nil || deltas != 0 {
		t.Errorf("%d deltas left after a fold (%v)", deltas, err)
	}
	s.check(t, d, "after a rebuild")

	if _, err := d.Pool.Exec(ctx, `TRUNCATE onboardings CASCADE`); err != nil {
		t.Fatal(err)
	}
	s.check(t, d, "after truncate")
}

// foldSummary runs fold, which takes the folders' advisory lock, in a
// transaction of its own: the lock is a transaction's.
func foldSummary(t *testing.T, d *db.DB, fold string) {
	t.Helper()
	err := d.InTx(context.Background(), func(q db.Querier) error {
		_, err := q.Exec(context.Background(), fold)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
