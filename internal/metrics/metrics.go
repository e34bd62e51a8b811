// Package metrics builds the service's Prometheus registry on client_golang:
// the Go runtime (go_*) and process (process_*) collectors, the web server's
// request metrics, a RoundTripper that measures outgoing calls, and the
// handler that serves it all on /metrics. The service's own series
// (onboard_*) are registered by the packages that count them.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// LatencyBuckets are upper bounds in seconds for the latency of calls to
// Altinn and Maskinporten: from a fast local answer to a call that hit its
// timeout.
var LatencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// RequestBuckets are upper bounds in seconds for the time the web server
// takes to answer: from a page rendered from memory to one that waited on
// Altinn until its timeout.
var RequestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewRegistry returns a registry with the Go runtime and process collectors
// registered, and nothing else.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Handler serves what g gathers in the format the scraper asks for (the
// text format by default). A collector that fails is logged and left out;
// the rest is still served.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.With("component", "metrics").Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// HTTP is the web server's request metrics: a count and a latency
// histogram by method, route pattern and status.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers the web server's request metrics with r.
func NewHTTP(r prometheus.Registerer) *HTTP {
	labels := []string{"method", "route", "status"}
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboard_http_requests_total",
			Help: "Requests the web server answered, by method, route pattern (such as /status/:ref; unmatched for no route) and HTTP status.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onboard_http_request_duration_seconds",
			Help:    "Time the web server took to answer, by method, route pattern and HTTP status.",
			Buckets: RequestBuckets,
		}, labels),
	}
	r.MustRegister(m.requests, m.duration)
	return m
}

// Request records one answered request. route is the pattern the request
// matched, never its raw path, so the series stay few; an empty route is
// recorded as "unmatched", and a method outside HTTP's standard ones as
// "other".
func (m *HTTP) Request(method, route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	values := []string{knownMethod(method), route, strconv.Itoa(status)}
	m.requests.WithLabelValues(values...).Inc()
	m.duration.WithLabelValues(values...).Observe(took.Seconds())
}

// knownMethod is method when it is one of HTTP's standard methods, and
// "other" otherwise: a client must not be able to add series at will.
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}
