package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestFlowCookieKeepsTheNewest shows the flow cookie of a browser that
// starts many onboardings (an accountant's): each new reference is added,
// one already held is not added again (no cookie written), the newest
// maxFlows are kept in the order they were started, and every one held
// is this browser's (ownsFlow); a reference only part of one held is not.
func TestFlowCookieKeepsTheNewest(t *testing.T) {
	h := &Handler{SessionKey: []byte("test session key, 32 bytes long!")}
	e := echo.New()
	var cookie *http.Cookie
	ctx := func() (echo.Context, *httptest.ResponseRecorder) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		return e.NewContext(req, rec), rec
	}
	var started []string
	for i := range maxFlows + 5 {
		ref := fmt.Sprintf("ref%019d", i)
		started = append(started, ref)
		c, rec := ctx()
		h.addFlow(c, ref)
		cks := rec.Result().Cookies()
		if len(cks) != 1 || cks[0].Name != flowCookie {
			t.Fatalf("adding %s wrote %v", ref, cks)
		}
		cookie = cks[0]
		// Again: already held, nothing written.
		c, rec = ctx()
		h.addFlow(c, ref)
		if len(rec.Result().Cookies()) != 0 {
			t.Fatalf("adding %s again wrote a cookie", ref)
		}
		want := started[max(0, len(started)-maxFlows):]
		c, _ = ctx()
		if got := h.flowRefs(c); !slices.Equal(got, want) {
			t.Fatalf("after %d: flow %q, want %q", i+1, got, want)
		}
		for _, r := range want {
			if !h.ownsFlow(c, r) {
				t.Fatalf("after %d: %s is not owned", i+1, r)
			}
		}
		if len(started) > maxFlows && h.ownsFlow(c, started[0]) {
			t.Fatalf("after %d: the oldest %s is still owned", i+1, started[0])
		}
		if h.ownsFlow(c, strings.TrimPrefix(ref, "ref")) || h.ownsFlow(c, ref+" "+ref) || h.ownsFlow(c, "") {
			t.Fatalf("after %d: part of a reference, two, or none is owned", i+1)
		}
	}
}
