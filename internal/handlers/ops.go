package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// RequestObserver is told of each request the web server answered: its
// method, the route pattern it matched (c.Path(), such as /status/:ref;
// empty when none did), the status sent and how long it took.
type RequestObserver interface {
	Request(method, route string, status int, took time.Duration)
}

// readyTimeout bounds a readiness check: a probe that hangs is worse than
// one that says no.
const readyTimeout = 2 * time.Second

// opsPaths are the probe and scrape endpoints: plain text for machines, no
// cookies, no CSRF token.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// healthz answers a liveness probe: the process is up.
func healthz(c echo.Context) error { return c.String(http.StatusOK, "ok") }

// readyz answers a load balancer's readiness probe: 200 when the database
// answers and its schema is current, 503 otherwise. The reason is logged,
// never sent. Probes get plain text rather than the error page.
func (h *Handler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if h.Ready == nil {
		return c.String(http.StatusServiceUnavailable, "not ready\n")
	}
	if err := h.Ready(ctx); err != nil {
		h.Log.WarnContext(ctx, "not ready", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return c.String(http.StatusServiceUnavailable, "not ready\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// metrics serves the metrics in Prometheus' text format, behind a bearer
// token when one is configured; without one only when MetricsOpen (dev, or
// explicitly opened), so an instance outside dev never shows them to all.
func (h *Handler) metrics(c echo.Context) error {
	if len(h.MetricsToken) > 0 {
		got := []byte(c.Request().Header.Get(echo.HeaderAuthorization))
		want := append([]byte("Bearer "), h.MetricsToken...)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return c.String(http.StatusUnauthorized, "unauthorized\n")
		}
	} else if !h.MetricsOpen {
		return c.String(http.StatusForbidden, "metrics are closed: set ONBOARD_METRICS_TOKEN (or ONBOARD_METRICS_OPEN=true)\n")
	}
	if h.Metrics == nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	h.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// observeRequests tells h.Requests of every request once it is answered.
// It is the outermost middleware, so the status is the one sent, also for
// an error page or a recovered panic.
func (h *Handler) observeRequests() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if h.Requests == nil {
				return next(c)
			}
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				// Not yet answered: Echo's error handler will, with the
				// error's status.
				status = http.StatusInternalServerError
				var he *echo.HTTPError
				if errors.As(err, &he) {
					status = he.Code
				}
			}
			h.Requests.Request(c.Request().Method, c.Path(), status, time.Since(start))
			return err
		}
	}
}
