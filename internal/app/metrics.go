package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/metrics"
)

// serviceMetrics are the call metrics of the two external systems, each
// measured in one place: the HTTP transport of its clients (transports).
type serviceMetrics struct {
	altinnLatency *prometheus.HistogramVec
	altinnErrors  *prometheus.CounterVec
	mpLatency     *prometheus.HistogramVec
	mpErrors      *prometheus.CounterVec
}

func newServiceMetrics(r prometheus.Registerer) *serviceMetrics {
	m := &serviceMetrics{
		altinnLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onboard_altinn_request_duration_seconds",
			Help:    "Latency of calls to Altinn (the system user API, the system register, the access-package metadata), by operation.",
			Buckets: metrics.LatencyBuckets,
		}, []string{"operation"}),
		altinnErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboard_altinn_request_errors_total",
			Help: "Calls to Altinn that failed, by operation and HTTP status (none: no answer). A 404 on a lookup is an ordinary answer.",
		}, []string{"operation", "status"}),
		mpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onboard_maskinporten_request_duration_seconds",
			Help:    "Latency of calls to Maskinporten, by endpoint (token, metadata).",
			Buckets: metrics.LatencyBuckets,
		}, []string{"endpoint"}),
		mpErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboard_maskinporten_request_errors_total",
			Help: "Calls to Maskinporten that failed, by endpoint and HTTP status (none: no answer).",
		}, []string{"endpoint", "status"}),
	}
	r.MustRegister(m.altinnLatency, m.altinnErrors, m.mpLatency, m.mpErrors)
	return m
}

// transports are the HTTP transports of the Altinn and Maskinporten clients:
// every request they send is measured there, whoever asked for it (the
// onboarding service, the dashboard's system-users page, the set-up checks,
// the system register, the metadata lookups), once per request sent; a call
// held back by Retry-After, or that never got a token, sends none.
func (m *serviceMetrics) transports() Transports {
	return Transports{
		Altinn:       metrics.Transport(nil, altinn.Operation, m.altinnLatency, m.altinnErrors),
		Maskinporten: metrics.Transport(nil, maskinportenEndpoint, m.mpLatency, m.mpErrors),
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

// storeCounter is what the database-backed gauges read.
type storeCounter interface {
	CountByStatus(ctx context.Context, f db.ListFilter) (map[domain.Status]int, error)
	JobCounts(ctx context.Context) (map[string]int, error)
	CountDue(ctx context.Context, now time.Time, limit int) (int, error)
}

// dueCountLimit bounds the count of due onboardings a refresh reads (an
// index range scan): a backlog beyond it shows as the limit.
const dueCountLimit = 100_000

// storeCollector is the collector of the gauges read from the database:
// onboardings by status, River's queue depth and the onboardings due for a
// reconcile. A scrape reads the cached
// counts, asking the database first when they are older than storeCacheFor.
// A refresh that fails keeps the last counts and is counted.
type storeCollector struct {
	store storeCounter
	log   *slog.Logger

	byStatus, jobs, due, failures *prometheus.Desc

	mu       sync.Mutex
	last     time.Time      // of the last refresh, failed or not
	statuses map[string]int // by status, as last read
	states   map[string]int // jobs by state, as last read
	dueNow   int            // onboardings whose next check is due, as last read
	failed   int            // refreshes that failed
}

func newStoreCollector(store storeCounter, log *slog.Logger) *storeCollector {
	return &storeCollector{
		store: store, log: log,
		byStatus: prometheus.NewDesc("onboard_onboardings", "Onboardings by status.", []string{"status"}, nil),
		jobs: prometheus.NewDesc("onboard_jobs",
			"Background jobs not yet finished, by state (River's queue depth).", []string{"state"}, nil),
		due: prometheus.NewDesc("onboard_reconcile_due",
			"Onboardings whose next check at Altinn is due: the reconciliation's backlog (counted up to 100000).", nil, nil),
		failures: prometheus.NewDesc("onboard_metrics_refresh_errors_total",
			"Times the database-backed gauges could not be refreshed (they keep their last values).", nil, nil),
		statuses: map[string]int{}, states: map[string]int{},
	}
}

// Describe sends the descriptors of the four families.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byStatus
	ch <- c.jobs
	ch <- c.due
	ch <- c.failures
}

// Collect refreshes the counts when they are stale and sends them.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh()
	for s, n := range c.statuses {
		ch <- prometheus.MustNewConstMetric(c.byStatus, prometheus.GaugeValue, float64(n), s)
	}
	for s, n := range c.states {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(c.dueNow))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(c.failed))
}

// refresh reads the counts unless the last read is recent. It is called
// with c.mu held.
func (c *storeCollector) refresh() {
	if !c.last.IsZero() && time.Since(c.last) < storeCacheFor {
		return
	}
	c.last = time.Now() // also after a failure: a database that is down is not asked on every scrape
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := c.store.CountByStatus(ctx, db.ListFilter{})
	if err == nil {
		for s, n := range counts {
			c.statuses[string(s)] = n
		}
		var jc map[string]int
		if jc, err = c.store.JobCounts(ctx); err == nil {
			for s, n := range jc {
				c.states[s] = n
			}
		}
	}
	if err == nil {
		var due int
		if due, err = c.store.CountDue(ctx, time.Now(), dueCountLimit); err == nil {
			c.dueNow = due
		}
	}
	if err != nil {
		c.failed++
		c.log.WarnContext(ctx, "metrics: refresh from the database", "err", err)
	}
}
