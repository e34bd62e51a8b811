package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/metrics"
)

func TestWriteTextFormat(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	calls := r.Counter("test_calls_total", "Calls made.\nSecond line.", "op", "status")
	calls.Inc("GET a", "200")
	calls.Add(2, "GET a", "200")
	calls.Inc(`we"ird\`, "none")
	calls.Add(-1, "GET a", "200") // ignored: counters never go down
	g := r.Gauge("test_things", "Things by state.", "state")
	g.Set(3, "b")
	g.Set(5, "a")
	g.Set(4, "a")
	h := r.Histogram("test_latency_seconds", "Latency.", []float64{1, 0.1}, "op")
	for _, v := range []float64{0.05, 0.1, 0.5, 7} {
		h.Observe(v, "x")
	}
	n := 0.0
	r.CounterFunc("test_fetches_total", "Fetches.", func() float64 { return n })
	r.OnScrape(func(context.Context) { n = 9 })

	var b strings.Builder
	if err := r.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP test_calls_total Calls made.\nSecond line.
# TYPE test_calls_total counter
test_calls_total{op="GET a",status="200"} 3
test_calls_total{op="we\"ird\\",status="none"} 1
# HELP test_fetches_total Fetches.
# TYPE test_fetches_total counter
test_fetches_total 9
# HELP test_latency_seconds Latency.
# TYPE test_latency_seconds histogram
test_latency_seconds_bucket{op="x",le="0.1"} 2
test_latency_seconds_bucket{op="x",le="1"} 3
test_latency_seconds_bucket{op="x",le="+Inf"} 4
test_latency_seconds_sum{op="x"} 7.65
test_latency_seconds_count{op="x"} 4
# HELP test_things Things by state.
# TYPE test_things gauge
test_things{state="a"} 4
test_things{state="b"} 3
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Fatalf("exposition (-want +got):\n%s", diff)
	}
}

func TestRegisterSameFamilyTwice(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	r.Counter("c_total", "C.", "a").Inc("x")
	r.Counter("c_total", "C.", "a").Inc("x")
	var b strings.Builder
	_ = r.Write(context.Background(), &b)
	if !strings.Contains(b.String(), `c_total{a="x"} 2`) {
		t.Fatalf("the second registration should share the first's series:\n%s", b.String())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a gauge under a counter's name should panic")
		}
	}()
	r.Gauge("c_total", "C.", "a")
}

func TestTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	r := metrics.NewRegistry()
	lat := r.Histogram("lat_seconds", "L.", metrics.LatencyBuckets, "endpoint")
	errs := r.Counter("errs_total", "E.", "endpoint", "status")
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
	var b strings.Builder
	_ = r.Write(context.Background(), &b)
	for _, want := range []string{`errs_total{endpoint="/bad",status="400"} 1`, `errs_total{endpoint="/down",status="none"} 1`,
		`lat_seconds_count{endpoint="/ok"} 1`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %s in:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), `errs_total{endpoint="/ok"`) {
		t.Error("a 200 is not an error")
	}
}
