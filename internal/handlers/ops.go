package handlers

import (
	"bytes"
	"context"
	"crypto/subtle"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/metrics"
)

// MetricsWriter writes the Prometheus exposition of the service's metrics.
type MetricsWriter interface {
	Write(ctx context.Context, w io.Writer) error
}

// readyTimeout bounds a readiness check: a probe that hangs is worse than
// one that says no.
const readyTimeout = 2 * time.Second

// opsPaths are the probe and scrape endpoints: plain text for machines, no
// cookies, no CSRF token.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

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
// token when one is configured.
func (h *Handler) metrics(c echo.Context) error {
	if len(h.MetricsToken) > 0 {
		got := []byte(c.Request().Header.Get(echo.HeaderAuthorization))
		want := append([]byte("Bearer "), h.MetricsToken...)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return c.String(http.StatusUnauthorized, "unauthorized\n")
		}
	}
	if h.Metrics == nil {
		return echo.ErrNotFound
	}
	var buf bytes.Buffer
	if err := h.Metrics.Write(c.Request().Context(), &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, metrics.ContentType, buf.Bytes())
}
