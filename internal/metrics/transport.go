package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// Transport wraps rt (http.DefaultTransport when nil) so that every request
// is observed: its latency in latency (labelled by endpoint) and, when no
// answer came or the status was 400 or above, a count in errs (labelled by
// endpoint and status, "none" when there was no answer). endpoint names the
// request; keep its values few.
func Transport(rt http.RoundTripper, endpoint func(*http.Request) string, latency *Histogram, errs *Counter) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		name := endpoint(req)
		start := time.Now()
		res, err := rt.RoundTrip(req)
		latency.Observe(time.Since(start).Seconds(), name)
		switch {
		case err != nil:
			errs.Inc(name, "none")
		case res.StatusCode >= 400:
			errs.Inc(name, strconv.Itoa(res.StatusCode))
		}
		return res, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
