package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Transport wraps rt (a shared pooled transport when nil, see pooled) so that every request
// is observed: its latency in latency (labelled by endpoint) and, when no
// answer came or the status was 400 or above, a count in errs (labelled by
// endpoint and status, "none" when there was no answer). endpoint names the
// request; keep its values few.
func Transport(rt http.RoundTripper, endpoint func(*http.Request) string, latency *prometheus.HistogramVec, errs *prometheus.CounterVec) http.RoundTripper {
	if rt == nil {
		rt = pooled
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		name := endpoint(req)
		start := time.Now()
		res, err := rt.RoundTrip(req)
		latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		switch {
		case err != nil:
			errs.WithLabelValues(name, "none").Inc()
		case res.StatusCode >= 400:
			errs.WithLabelValues(name, strconv.Itoa(res.StatusCode)).Inc()
		}
		return res, err
	})
}

// pooled is http.DefaultTransport keeping up to 256 idle connections to a
// host instead of its 2: with a campaign's or the reconciler's calls 100 at
// once, all but 2 connections were closed after each call and the next call
// dialled (and, against Altinn, shook hands over TLS) again.
var pooled = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 256
	return t
}()

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
