package app

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/metrics"
)

// serviceMetrics are the call metrics of the two external systems. It is
// the onboarding service's CallObserver.
type serviceMetrics struct {
	altinnLatency *metrics.Histogram
	altinnErrors  *metrics.Counter
	mpLatency     *metrics.Histogram
	mpErrors      *metrics.Counter
}

func newServiceMetrics(r *metrics.Registry) *serviceMetrics {
	return &serviceMetrics{
		altinnLatency: r.Histogram("onboard_altinn_request_duration_seconds",
			"Latency of calls to Altinn's system user API, by operation.", metrics.LatencyBuckets, "operation"),
		altinnErrors: r.Counter("onboard_altinn_request_errors_total",
			"Calls to Altinn that failed, by operation and HTTP status (none: no answer). A 404 on a lookup is an ordinary answer.",
			"operation", "status"),
		mpLatency: r.Histogram("onboard_maskinporten_request_duration_seconds",
			"Latency of calls to Maskinporten, by endpoint (token, metadata).", metrics.LatencyBuckets, "endpoint"),
		mpErrors: r.Counter("onboard_maskinporten_request_errors_total",
			"Calls to Maskinporten that failed, by endpoint and HTTP status (none: no answer).", "endpoint", "status"),
	}
}

// AltinnCall records one call the onboarding service made.
func (m *serviceMetrics) AltinnCall(op string, took time.Duration, status int, err error) {
	m.altinnLatency.Observe(took.Seconds(), op)
	if err != nil {
		s := "none"
		if status > 0 {
			s = strconv.Itoa(status)
		}
		m.altinnErrors.Inc(op, s)
	}
}

// maskinportenEndpoint names a request to Maskinporten for its metrics.
func maskinportenEndpoint(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost:
		return "token"
	case strings.Contains(r.URL.Path, "/.well-known/"):
		return "metadata"
	}
	return "other"
}

// storeCacheFor is how long counts read from the database are reused, so
// frequent scrapes (or several Prometheus servers) cost one query per period.
const storeCacheFor = 15 * time.Second

// addStoreMetrics adds the gauges read from the database: onboardings by
// status and River's queue depth, counted at most every storeCacheFor.
func addStoreMetrics(r *metrics.Registry, store *db.DB, log *slog.Logger) {
	byStatus := r.Gauge("onboard_onboardings", "Onboardings by status.", "status")
	jobStates := r.Gauge("onboard_jobs", "Background jobs not yet finished, by state (River's queue depth).", "state")
	failures := r.Counter("onboard_metrics_refresh_errors_total",
		"Times the database-backed gauges could not be refreshed (they keep their last values).")
	var (
		mu   sync.Mutex
		last time.Time
	)
	r.OnScrape(func(ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if !last.IsZero() && time.Since(last) < storeCacheFor {
			return
		}
		last = time.Now() // also after a failure: a database that is down is not asked on every scrape
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		counts, err := store.CountByStatus(ctx, db.ListFilter{})
		if err == nil {
			for s, n := range counts {
				byStatus.Set(float64(n), s)
			}
			var jc map[string]int
			if jc, err = store.JobCounts(ctx); err == nil {
				for s, n := range jc {
					jobStates.Set(float64(n), s)
				}
			}
		}
		if err != nil {
			failures.Inc()
			log.WarnContext(ctx, "metrics: refresh from the database", "err", err)
		}
	})
}
