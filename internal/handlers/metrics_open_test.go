package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestMetricsClosedWithoutATokenOutsideDev (issue 13): without a token,
// /metrics is served only where it is opened (dev, ONBOARD_METRICS_OPEN);
// with one, only to its bearer.
func TestMetricsClosedWithoutATokenOutsideDev(t *testing.T) {
	served := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("onboard_up 1\n")) })
	for _, tt := range []struct {
		name   string
		h      *Handler
		auth   string
		status int
	}{
		{"no token, closed", &Handler{Metrics: served}, "", http.StatusForbidden},
		{"no token, opened", &Handler{Metrics: served, MetricsOpen: true}, "", http.StatusOK},
		{"token, none sent", &Handler{Metrics: served, MetricsToken: []byte("s3cret")}, "", http.StatusUnauthorized},
		{"token, wrong one", &Handler{Metrics: served, MetricsToken: []byte("s3cret"), MetricsOpen: true}, "Bearer nope", http.StatusUnauthorized},
		{"token, right one", &Handler{Metrics: served, MetricsToken: []byte("s3cret")}, "Bearer s3cret", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tt.auth != "" {
				req.Header.Set(echo.HeaderAuthorization, tt.auth)
			}
			rec := httptest.NewRecorder()
			if err := tt.h.metrics(echo.New().NewContext(req, rec)); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
		})
	}
}
