package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onboard-altinn/onboard/internal/metrics"
)

// scrape is what Handler serves for r, as a scraper without an Accept
// header sees it.
func scrape(t *testing.T, r *prometheus.Registry) (contentType, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(r, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics handler: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return rec.Header().Get("Content-Type"), string(b)
}

func TestRegistryHasRuntimeAndProcess(t *testing.T) {
	t.Parallel()
	ct, body := scrape(t, metrics.NewRegistry())
	if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	for _, want := range []string{"# TYPE go_goroutines gauge", "# TYPE go_memstats_heap_alloc_bytes gauge",
		"# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	m := metrics.NewHTTP(r)
	m.Request(http.MethodGet, "/status/:ref", 200, 30*time.Millisecond)
	m.Request(http.MethodGet, "/status/:ref", 200, 2*time.Second)
	m.Request(http.MethodPost, "/onboard/:product/org", 303, time.Millisecond)
	m.Request("BREW", "", 404, time.Millisecond) // no route, a made-up method
	_, body := scrape(t, r)
	for _, want := range []string{
		`onboard_http_requests_total{method="GET",route="/status/:ref",status="200"} 2`,
		`onboard_http_requests_total{method="POST",route="/onboard/:product/org",status="303"} 1`,
		`onboard_http_requests_total{method="other",route="unmatched",status="404"} 1`,
		`onboard_http_request_duration_seconds_bucket{method="GET",route="/status/:ref",status="200",le="0.05"} 1`,
		`onboard_http_request_duration_seconds_bucket{method="GET",route="/status/:ref",status="200",le="+Inf"} 2`,
		`onboard_http_request_duration_seconds_count{method="GET",route="/status/:ref",status="200"} 2`,
		"# TYPE onboard_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "BREW") {
		t.Error("a made-up method became a label value")
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	r := prometheus.NewRegistry()
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lat_seconds", Help: "L.", Buckets: metrics.LatencyBuckets}, []string{"endpoint"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errs_total", Help: "E."}, []string{"endpoint", "status"})
	r.MustRegister(lat, errs)
	c := &http.Client{Transport: metrics.Transport(nil, func(r *http.Request) string { return r.URL.Path }, lat, errs)}
	for _, p := range []string{"/ok", "/bad"} {
		res, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if _, err := c.Get("http://127.0.0.1:1/down"); err == nil {
		t.Fatal("want a connection error")
	}
	_, body := scrape(t, r)
	for _, want := range []string{`errs_total{endpoint="/bad",status="400"} 1`, `errs_total{endpoint="/down",status="none"} 1`,
		`lat_seconds_count{endpoint="/ok"} 1`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s in:\n%s", want, body)
		}
	}
	if strings.Contains(body, `errs_total{endpoint="/ok"`) {
		t.Error("a 200 is not an error")
	}
}
