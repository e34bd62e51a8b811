package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/views"
)

// errorHandler turns every error into a page, or on /api/ a problem
// document: its status and words are the error map's (failureOf), so a
// known kind of failure says what it is and anything else is a 500 that is
// logged and never shown. Customers get the general words for the status
// where the map's are staff's.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	f := failureOf(err)
	status := f.Status
	if f.RetryAfter != "" {
		c.Response().Header().Set("Retry-After", f.RetryAfter)
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
	key := f.Key
	if !isStaffPath(c) {
		key = f.customerKey()
	}
	p := h.page(c, i18n.T(lang, "error.heading"))
	if err := render(c, status, views.ErrorPage(views.Error{Page: p, Status: status, Message: i18n.T(lang, key)})); err != nil {
		log.ErrorContext(c.Request().Context(), "error page failed", "err", err)
	}
}

// isStaffPath reports whether the request is for the dashboard, whose
// staff may read the error map's words about the service's setup.
func isStaffPath(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/admin" || strings.HasPrefix(p, "/admin/")
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
