package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

// FuzzParseCreate is the body of POST /api/v1/onboardings: never a panic;
// a refusal is a 400 problem; a body taken (and passed by checkText's
// goodJSON, as on the way in) is storable text with a valid org number, a
// configured product, a supported language and a bare email; and the
// normal form the Idempotency-Key compares is a fixed point: it parses
// back to itself.
func FuzzParseCreate(f *testing.F) {
	h := &Handler{Products: []config.Product{{ID: "standard"}, {ID: "klient"}}}
	for _, s := range []string{
		`{"org_no":"314248295"}`, `{"org_no":"314 248 295","product":"klient","customer_ref":" cust-42 ","lang":"en","email":"kari@example.com"}`,
		`{"org_no":"314248296"}`, `{"org_no":314248295}`, `{"org_no":"314248295","extra":1}`, `{"org_no":"314248295"}{}`,
		`{"org_no":"314248295","customer_ref":"a\u0000b"}`, `{"org_no":"314248295","customer_ref":"\ud800"}`,
		"{\"org_no\":\"314248295\",\"customer_ref\":\"a\xffb\"}", `{"org_no":"314248295","lang":"se"}`,
		`{"org_no":"314248295","email":"Kari <kari@example.com>"}`, `{"org_no":"314248295","product":"nope"}`,
		`[]`, `null`, ``, strings.Repeat("[", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, p := h.parseCreate(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Detail == "" && p.Title == "" {
				t.Fatalf("a refusal of %q is %+v, want a 400 with words", body, p)
			}
			return
		}
		if goodJSON(body) {
			for _, s := range []string{in.OrgNo, in.Product, in.CustomerRef, in.Lang, in.Email} {
				if !goodText(s) {
					t.Fatalf("%q was taken with text that cannot be stored: %+v", body, in)
				}
			}
		}
		if n, err := orgno.Normalize(in.OrgNo); err != nil || n != in.OrgNo {
			t.Fatalf("%q was taken with org_no %q", body, in.OrgNo)
		}
		if _, ok := h.product(in.Product); !ok || !i18n.Supported(in.Lang) || len(in.CustomerRef) > maxCustRefLen ||
			in.CustomerRef != strings.TrimSpace(in.CustomerRef) || in.Email != "" && !validEmail(in.Email) {
			t.Fatalf("%q was taken as %+v", body, in)
		}
		norm, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		again, p := h.parseCreate(norm)
		if p != nil || again != in {
			t.Fatalf("the normal form %s of %q parses as %+v, %v", norm, body, again, p)
		}
	})
}

// FuzzParseListQuery is the dashboard list's and CSV export's query
// (GET /admin/onboardings?…): never a panic; a query taken has a page size
// within the database's limit and a search of bounded, trimmed text (storable when checkText let it in); and
// the query the page's own links carry (listValues) parses back to the
// same filters.
func FuzzParseListQuery(f *testing.F) {
	for _, s := range []string{"", "status=pending&kind=standard", "status=connected&escalated=1&from=2025-01-01&to=2025-12-31",
		"q=+ACME+&limit=50", "limit=100000", "limit=-1", "limit=9223372036854775808", "from=2025-02-30", "from=1999-12-31",
		"to=9999-12-31", "usability=not_usable", "status=nope", "escalated=maybe", "q=" + strings.Repeat("a", 300),
		"q=%00", "q=%FF", "status=pending&status=failed", "from=+2025-01-01+"} {
		f.Add(s)
	}
	e := echo.New()
	parse := func(raw string) (listQuery, bool) {
		req := httptest.NewRequest(http.MethodGet, "/admin/onboardings", nil)
		req.URL.RawQuery = raw
		return parseListQuery(e.NewContext(req, httptest.NewRecorder()))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parse(raw)
		if !ok {
			return
		}
		if q.filter.Limit < 0 || q.filter.Limit > db.MaxListLimit || len(q.form.Query) > maxQueryLen ||
			q.form.Query != strings.TrimSpace(q.form.Query) {
			t.Fatalf("%q was taken as %+v", raw, q)
		}
		if vals, _ := url.ParseQuery(raw); goodValues(vals) && !goodText(q.form.Query) {
			t.Fatalf("%q passes checkText but gave a search that cannot be stored: %q", raw, q.form.Query)
		}
		again, ok := parse(listValues(q.form).Encode())
		if !ok || !reflect.DeepEqual(again, q) {
			t.Fatalf("the links' query %q of %q parses as %+v, %v; want %+v", listValues(q.form).Encode(), raw, again, ok, q)
		}
	})
}

// FuzzFunnelPeriod is the funnel's ?from=&to= (GET /admin/funnel): a
// period taken lies within 2000-2999, runs forwards, spans at most two
// years, and the dates the page shows for it give the same period again.
func FuzzFunnelPeriod(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"2025-01-01", "2025-12-31"}, {"2025-12-31", "2025-01-01"}, {"1999-12-31", "2000-01-02"},
		{"2000-01-01", "2002-01-02"}, {"2999-12-31", "2999-12-31"}, {"3000-01-01", ""}, {" 2025-02-28 ", ""}, {"2025-02-30", ""},
		{"0000-01-01", "9999-12-31"}, {"-001-01-01", ""}, {"2025-1-1", ""}, {"", "2000-01-05"}} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, oslo)
	f.Fuzz(func(t *testing.T, fromS, toS string) {
		from, to, errKey := funnelPeriod(fromS, toS, now)
		if errKey != "" {
			return
		}
		if from.Year() < 2000 || to.Year() > 2999 || from.After(to) || to.After(from.AddDate(2, 0, 0)) {
			t.Fatalf("funnelPeriod(%q, %q) took %v to %v", fromS, toS, from, to)
		}
		from2, to2, errKey := funnelPeriod(from.Format(time.DateOnly), to.Format(time.DateOnly), now)
		if errKey != "" || !from2.Equal(from) || !to2.Equal(to) {
			t.Fatalf("the shown period %v..%v of (%q, %q) reads back as %v..%v (%s)", from, to, fromS, toS, from2, to2, errKey)
		}
	})
}
