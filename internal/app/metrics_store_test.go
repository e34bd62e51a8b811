package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// fakeCounts is a storeCounter that counts its queries and fails when told.
type fakeCounts struct {
	queries  int
	statuses map[domain.Status]int
	fail     error
}

func (f *fakeCounts) CountByStatus(context.Context, db.ListFilter) (map[domain.Status]int, error) {
	f.queries++
	return f.statuses, f.fail
}

func (f *fakeCounts) JobCounts(context.Context) (map[string]int, error) {
	return map[string]int{"available": 2}, f.fail
}

func (f *fakeCounts) CountDue(context.Context, time.Time, int) (int, error) {
	return 7, f.fail
}

// TestStoreCollectorMetrics: the database-backed gauges are read at most every
// storeCacheFor, and a failed refresh keeps the last counts and is counted.
func TestStoreCollectorMetrics(t *testing.T) {
	t.Parallel()
	store := &fakeCounts{statuses: map[domain.Status]int{"connected": 3, "pending": 1}}
	c := newStoreCollector(store, slog.New(slog.DiscardHandler))
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	want := func(step, exposition string) {
		t.Helper()
		fams, err := r.Gather()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var b strings.Builder
		for _, f := range fams {
			if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
				t.Fatal(err)
			}
		}
		exposition = `# HELP onboard_jobs Background jobs not yet finished, by state (River's queue depth).
# TYPE onboard_jobs gauge
onboard_jobs{state="available"} 2
# HELP onboard_metrics_refresh_errors_total Times the database-backed gauges could not be refreshed (they keep their last values).
# TYPE onboard_metrics_refresh_errors_total counter
` + exposition + `
# HELP onboard_reconcile_due Onboardings whose next check at Altinn is due: the reconciliation's backlog (counted up to 100000).
# TYPE onboard_reconcile_due gauge
onboard_reconcile_due 7
`
		if diff := cmp.Diff(exposition, b.String()); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", step, diff)
		}
	}
	// Families come sorted by name: the error count, then the onboardings.
	const first = `
# HELP onboard_onboardings Onboardings by status.
# TYPE onboard_onboardings gauge
onboard_onboardings{status="connected"} 3
onboard_onboardings{status="pending"} 1`
	want("first scrape", "onboard_metrics_refresh_errors_total 0"+first)

	store.statuses = map[domain.Status]int{"connected": 4, "pending": 0}
	want("second scrape, within the cache period", "onboard_metrics_refresh_errors_total 0"+first)
	if store.queries != 1 {
		t.Fatalf("%d queries for two quick scrapes, want 1", store.queries)
	}

	c.mu.Lock()
	c.last = c.last.Add(-storeCacheFor) // the counts are now stale
	c.mu.Unlock()
	store.fail = errors.New("db: connection refused")
	want("a failed refresh", "onboard_metrics_refresh_errors_total 1"+first)

	c.mu.Lock()
	c.last = c.last.Add(-storeCacheFor)
	c.mu.Unlock()
	store.fail = nil
	want("refreshed", `onboard_metrics_refresh_errors_total 1
# HELP onboard_onboardings Onboardings by status.
# TYPE onboard_onboardings gauge
onboard_onboardings{status="connected"} 4
onboard_onboardings{status="pending"} 0`)
}
