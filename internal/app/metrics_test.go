package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsRuntimeAndHTTP: /metrics shows the Go runtime, the process and
// the web server's requests next to the service's own series, and labels
// requests by route pattern, never by the path a customer asked for.
func TestMetricsRuntimeAndHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.get(e.web.URL + "/onboard/standard")
	e.startFlow(b, "standard", org)
	ref := e.onboardingForOrg(org).Ref
	if p := b.get(e.web.URL + "/status/" + ref); p.status != http.StatusOK {
		t.Fatalf("status page: %d", p.status)
	}
	if p := b.get(e.web.URL + "/no-such-page/" + ref); p.status != http.StatusNotFound {
		t.Fatalf("unknown page: %d, want 404", p.status)
	}

	p := e.browser().get(e.web.URL + "/metrics")
	if p.status != http.StatusOK {
		t.Fatalf("/metrics: %d", p.status)
	}
	for _, want := range []string{
		"# TYPE go_goroutines gauge",
		"# TYPE go_gc_duration_seconds summary",
		"# TYPE process_cpu_seconds_total counter",
		"# TYPE process_resident_memory_bytes gauge",
		"# TYPE onboard_http_requests_total counter",
		"# TYPE onboard_http_request_duration_seconds histogram",
		`onboard_http_requests_total{method="GET",route="/onboard/:product",status="200"} 1`,
		`onboard_http_requests_total{method="POST",route="/onboard/:product/org",status="303"} 1`,
		`onboard_http_requests_total{method="GET",route="/status/:ref",status="200"} 1`,
		`onboard_http_request_duration_seconds_count{method="GET",route="/status/:ref",status="200"} 1`,
		`onboard_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`onboard_onboardings{status="pending"} 1`,
	} {
		if !strings.Contains(p.body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(p.body, ref) || strings.Contains(p.body, "no-such-page") {
		t.Error("/metrics carries a raw path: requests must be labelled by route pattern")
	}
	if t.Failed() {
		t.Log(p.body)
	}
}
