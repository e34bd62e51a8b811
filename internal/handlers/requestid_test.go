package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

var requestIDCases = []struct {
	name string
	id   string
	ok   bool
}{
	{"uuid", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", true},
	{"echo's own", "ggVseIswIJZIBOsxJSnYpeUWXZcxecye", true},
	{"dots and underscores", "trace_1.span-2", true},
	{"one char", "a", true},
	{"64 chars", strings.Repeat("a", 64), true},
	{"empty", "", false},
	{"65 chars", strings.Repeat("a", 65), false},
	{"10 KB", strings.Repeat("a", 10<<10), false},
	{"newline", "abc\ninjected=1", false},
	{"carriage return", "abc\rdef", false},
	{"NUL", "abc\x00def", false},
	{"tab", "abc\tdef", false},
	{"space", "abc def", false},
	{"unicode", "æøå", false},
	{"invalid UTF-8", "abc\xff", false},
	{"quote", `abc"def`, false},
	{"markup", "<script>", false},
	{"log key", "a level=ERROR", false},
}

func TestValidRequestID(t *testing.T) {
	for _, tc := range requestIDCases {
		if got := validRequestID(tc.id); got != tc.ok {
			t.Errorf("%s: validRequestID(%q) = %v, want %v", tc.name, tc.id, got, tc.ok)
		}
	}
}

// TestDropBadRequestID puts dropBadRequestID before Echo's RequestID, as
// New does, and wants a client's id kept only when it is valid, and a
// generated one otherwise.
func TestDropBadRequestID(t *testing.T) {
	e := echo.New()
	e.Use(dropBadRequestID)
	e.Use(middleware.RequestID())
	var seen string
	e.GET("/", func(c echo.Context) error {
		seen = c.Response().Header().Get(echo.HeaderXRequestID)
		return c.NoContent(http.StatusNoContent)
	})
	for _, tc := range requestIDCases {
		if tc.id == "" {
			continue
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header[echo.HeaderXRequestID] = []string{tc.id} // as sent, not canonicalised or checked
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Get(echo.HeaderXRequestID)
		if got != seen || !validRequestID(got) {
			t.Errorf("%s: request id %q (handler saw %q), want a valid one", tc.name, got, seen)
		}
		if (got == tc.id) != tc.ok {
			t.Errorf("%s: sent %q, got %q; kept = %v, want %v", tc.name, tc.id, got, got == tc.id, tc.ok)
		}
	}
	// Two headers, one bad: neither is used.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header[echo.HeaderXRequestID] = []string{"good-one", "bad\none"}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if got := rec.Header().Get(echo.HeaderXRequestID); got == "good-one" || !validRequestID(got) {
		t.Errorf("two ids, one bad: got %q, want a generated one", got)
	}
	// None sent: one is generated.
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get(echo.HeaderXRequestID); !validRequestID(got) {
		t.Errorf("none sent: got %q", got)
	}
}

func FuzzValidRequestID(f *testing.F) {
	for _, tc := range requestIDCases {
		f.Add(tc.id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if validRequestID(id) && (len(id) > maxRequestIDLen || strings.ContainsFunc(id, func(r rune) bool {
			return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", r)
		})) {
			t.Fatalf("validRequestID(%q) is true", id)
		}
	})
}
