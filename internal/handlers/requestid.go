package handlers

import "github.com/labstack/echo/v4"

// maxRequestIDLen is the longest X-Request-Id a client may give us.
const maxRequestIDLen = 64

// validRequestID reports whether a client's X-Request-Id may be used as
// ours (logged, echoed back): 1 to 64 of A-Z a-z 0-9 . _ - and nothing
// else, so no line break, NUL, space, markup or megabyte reaches a log
// line (issue 13).
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// dropBadRequestID removes a client's X-Request-Id unless every value of
// it is a validRequestID, so middleware.RequestID, which takes the
// incoming header as sent (its config has no check), generates its own.
// It goes just before middleware.RequestID.
func dropBadRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		for _, id := range h.Values(echo.HeaderXRequestID) {
			if !validRequestID(id) {
				h.Del(echo.HeaderXRequestID)
				break
			}
		}
		return next(c)
	}
}
