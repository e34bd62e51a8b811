package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/views"
)

// errorHandler turns every error into a page: known HTTP errors keep their
// status, anything else is a 500 that is logged and never shown.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	var ap *apiProblem
	if errors.As(err, &ap) {
		status = ap.Status
	}
	if errors.Is(err, middleware.ErrCSRFInvalid) {
		status = http.StatusForbidden
	}
	// The database restarting or out of reach is passing: say so (503, try
	// again in a moment) rather than claim we broke.
	if he == nil && db.Unavailable(err) {
		status = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", "5")
	}
	// A missing CSRF token is the same story to a person as a wrong one.
	if status == http.StatusBadRequest && he != nil && isCSRFMessage(he.Message) {
		status = http.StatusForbidden
	}
	log := h.logger().With("request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"method", c.Request().Method, "path", c.Path(), "status", status)
	if status >= 500 {
		log.ErrorContext(c.Request().Context(), "request failed", "err", err)
	} else {
		log.WarnContext(c.Request().Context(), "request refused", "err", err)
	}
	// Middleware (the request timeout) may have cancelled the request's
	// context by now; the error page must still be written.
	c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
	if isAPI(c) { // the JSON API answers problem documents, never pages
		writeProblem(c, err)
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	lang := langOf(c)
	key := "error." + strconv.Itoa(status)
	msg := i18n.T(lang, key)
	if msg == key {
		if status >= 500 {
			msg = i18n.T(lang, "error.500")
		} else {
			msg = i18n.T(lang, "error.400")
		}
	}
	p := h.page(c, i18n.T(lang, "error.heading"))
	if err := render(c, status, views.ErrorPage(views.Error{Page: p, Status: status, Message: msg})); err != nil {
		log.ErrorContext(c.Request().Context(), "error page failed", "err", err)
	}
}

func isCSRFMessage(m any) bool {
	s, _ := m.(string)
	return strings.Contains(s, "csrf")
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// requestLogger logs one structured line per request with its request id.
func (h *Handler) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			h.logger().LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("remote_ip", v.RemoteIP))
			return nil
		},
	})
}
