package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
)

// The route-table test: every route New registers, with the surface
// function in routes.go that registers it and the least a request needs to
// get past the route's access checks, must be the list in README.md between
// these markers, and the other way round.
const (
	readmeRoutesBegin = "<!-- routes:begin -->"
	readmeRoutesEnd   = "<!-- routes:end -->"
)

// The credentials a probe may carry, weakest first. Access is the first
// that is not refused.
const (
	accessAnyone       = "anyone"
	accessAPIKey       = "API key"
	accessMetricsToken = "metrics token"
	accessNobody       = "nobody" // refused with every credential: never in the README

	probeAPIKey       = "probe-api-key"
	probeMetricsToken = "probe-metrics-token"
	probeCSRF         = "cHJvYmUtY3NyZi10b2tlbi0wMTIzNDU2Nzg5YWJjZGU" // a browser's token: 32 bytes, base64url
)

var accessLevels = []string{accessAnyone, string(domain.RoleViewer), string(domain.RoleOperator),
	string(domain.RoleAdmin), accessAPIKey, accessMetricsToken}

// routeRow is one line of the route table.
type routeRow struct {
	Method, Path, Surface, Access string
}

func (r routeRow) key() string { return r.Method + " " + r.Path }

func (r routeRow) String() string {
	return fmt.Sprintf("| %s | `%s` | %s | %s |", r.Method, r.Path, r.Surface, r.Access)
}

// probeStaff knows one session per role: the session token is the role.
// Anything else a handler asks of it panics, which the server recovers
// from (a 500): the probe only asks whether the access checks let the
// request through, not what the handler then does.
type probeStaff struct{ StaffStore }

func (probeStaff) StaffBySession(_ context.Context, token string) (*db.StaffSession, error) {
	r := domain.RoleRank(domain.Role(token))
	if r < 0 {
		return nil, db.ErrNotFound
	}
	return &db.StaffSession{Staff: db.Staff{ID: int64(r + 1), Email: token + "@example.com", Role: domain.Role(token)}}, nil
}

type probeAPIKeys struct{ APIStore }

func (probeAPIKeys) APIKeyByKey(_ context.Context, key string) (*db.APIKey, error) {
	if key != probeAPIKey {
		return nil, db.ErrNotFound
	}
	return &db.APIKey{ID: 1, Name: "probe", Prefix: "probe"}, nil
}

type probeCampaigns struct{ CampaignService }
type probeCampaignStore struct{ CampaignStore }

// probeHandler is the lightest Handler with every optional surface switched
// on: campaigns configured, a metrics token, and stores that know the
// probe's credentials.
func probeHandler() *Handler {
	return &Handler{
		Log:             slog.New(slog.DiscardHandler),
		SessionKey:      []byte("route-table-test-session-key-32b"),
		SubmitPerMinute: 60000, // the probe sends many requests from one address
		Staff:           probeStaff{},
		APIKeys:         probeAPIKeys{},
		Campaigns:       probeCampaigns{},
		CampaignStore:   probeCampaignStore{},
		MetricsToken:    []byte(probeMetricsToken),
	}
}

func quietServer(h *Handler) *echo.Echo {
	e := New(h)
	e.Logger.SetOutput(io.Discard) // the recovered panics of handlers without their stores
	return e
}

// concretePath fills a route's parameters and wildcard with "x".
func concretePath(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

// probe sends one request to path as the holder of access, with a valid
// CSRF token, and returns the answer.
func probe(e *echo.Echo, method, path, access string) *httptest.ResponseRecorder {
	token := probeCSRF
	if domain.Role(access).Valid() { // a staff session's forms carry the session's token (csrf.go)
		token = probeHandler().staffCSRF(access)
	}
	req := httptest.NewRequest(method, path, strings.NewReader("_csrf="+token))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("Accept-Language", "en")
	req.AddCookie(&http.Cookie{Name: csrfCookieHost, Value: probeCSRF})
	switch access {
	case accessAnyone:
	case accessAPIKey:
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+probeAPIKey)
	case accessMetricsToken:
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+probeMetricsToken)
	default: // a staff role
		req.AddCookie(&http.Cookie{Name: staffCookieHost, Value: access})
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// refused reports whether an answer is an access check's refusal: the
// dashboard's "sign in first" (a 303 to the sign-in page for a GET, a 401
// page otherwise) or "your role does not allow this" (403), or a 401 with a
// WWW-Authenticate challenge (the API key, the metrics token). A handler's
// own 401 (a wrong password) or 403 (an admin acting on their own account)
// is not one.
func refused(rec *httptest.ResponseRecorder) bool {
	switch rec.Code {
	case http.StatusSeeOther:
		return strings.HasPrefix(rec.Header().Get(echo.HeaderLocation), adminLoginPath+"?next=")
	case http.StatusUnauthorized:
		return rec.Header().Get(echo.HeaderWWWAuthenticate) != "" ||
			strings.Contains(rec.Body.String(), i18n.T("en", "admin.error.401"))
	case http.StatusForbidden:
		return strings.Contains(rec.Body.String(), i18n.T("en", "admin.error.403"))
	}
	return false
}

// minimumAccess is the weakest credential the route lets through.
func minimumAccess(e *echo.Echo, method, route string) string {
	for _, a := range accessLevels {
		if !refused(probe(e, method, concretePath(route), a)) {
			return a
		}
	}
	return accessNobody
}

// surfaces are routes.go's surface functions, by the name the table gives them.
func surfaces(h *Handler) map[string]func(*echo.Echo) {
	return map[string]func(*echo.Echo){
		"customer":  h.customerRoutes,
		"dashboard": h.dashboardRoutes,
		"api":       h.apiRoutes,
		"ops":       h.opsRoutes,
	}
}

// registered lists an Echo's routes as method and path, without the
// catch-alls a group with middleware adds so that unknown paths under it
// pass its middleware (TestRoutesGuardUnknownPaths covers those).
func registered(e *echo.Echo) map[string]routeRow {
	rows := map[string]routeRow{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		row := routeRow{Method: r.Method, Path: r.Path}
		rows[row.key()] = row
	}
	return rows
}

// routeTable is every route of the server New builds, sorted by path and
// method, with its surface and minimum access.
func routeTable(t *testing.T) []routeRow {
	t.Helper()
	h := probeHandler()
	e := quietServer(h)
	all := registered(e)
	for name, fn := range surfaces(h) {
		alone := echo.New()
		fn(alone)
		for k := range registered(alone) {
			row, ok := all[k]
			if !ok {
				t.Errorf("%s is registered by %sRoutes but not by New", k, name)
				continue
			}
			if row.Surface != "" {
				t.Errorf("%s is registered by both %sRoutes and %sRoutes", k, row.Surface, name)
			}
			row.Surface = name
			all[k] = row
		}
	}
	var rows []routeRow
	for _, row := range all {
		if row.Surface == "" {
			t.Errorf("%s is registered outside the surface functions of routes.go", row.key())
		}
		row.Access = minimumAccess(e, row.Method, row.Path)
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b routeRow) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return rows
}

// readmeRoutes parses the route list in README.md: a markdown table of
// Method | Path | Surface | Access | What between the markers.
func readmeRoutes(t *testing.T) map[string]routeRow {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), readmeRoutesBegin)
	table, _, ok2 := strings.Cut(rest, readmeRoutesEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no route list between %q and %q", readmeRoutesBegin, readmeRoutesEnd)
	}
	rows := map[string]routeRow{}
	for n, line := range strings.Split(strings.TrimSpace(table), "\n") {
		line = strings.TrimSpace(line)
		if n < 2 { // the header and its separator
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Errorf("README.md route list: %q is not | Method | Path | Surface | Access | What |", line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		row := routeRow{Method: cells[0], Path: strings.Trim(cells[1], "`"), Surface: cells[2], Access: cells[3]}
		if cells[4] == "" {
			t.Errorf("README.md route list: %s says nothing in What", row.key())
		}
		if _, dup := rows[row.key()]; dup {
			t.Errorf("README.md route list: %s is listed twice", row.key())
		}
		rows[row.key()] = row
	}
	return rows
}

// TestRoutesMatchREADME prints the route table and fails when README.md's
// route list differs from what routes.go registers.
func TestRoutesMatchREADME(t *testing.T) {
	table := routeTable(t)
	var out strings.Builder
	for _, r := range table {
		fmt.Fprintln(&out, r.String())
	}
	t.Logf("route table (method, path, surface, minimum access):\n%s", out.String())

	listed := readmeRoutes(t)
	var diff []string
	for _, r := range table {
		l, ok := listed[r.key()]
		switch {
		case r.Access == accessNobody:
			diff = append(diff, "refused to every credential (a route nobody can use?): "+r.String())
		case !ok:
			diff = append(diff, "+ registered, not in README.md: "+r.String()+" <what it is for> |")
		case l != r:
			diff = append(diff, "~ README.md says "+l.String()+" but routes.go registers "+r.String())
		}
		delete(listed, r.key())
	}
	for _, l := range listed {
		diff = append(diff, "- in README.md, not registered: "+l.String())
	}
	if len(diff) > 0 {
		slices.Sort(diff)
		t.Errorf("README.md's route list and internal/handlers/routes.go differ:\n%s\n\n"+
			"Fix: when a route was added, removed or changed on purpose, edit the table in README.md between %s and %s "+
			"(rows sorted by path, then method; the table above is what the server registers). Otherwise the change "+
			"in routes.go (a path, a method, a surface or an access check) is the mistake.",
			strings.Join(diff, "\n"), readmeRoutesBegin, readmeRoutesEnd)
	}
}

// TestRoutesGuardUnknownPaths: a path under /admin that no route matches
// still needs a session (and under /admin/staff and /admin/apikeys, an
// admin) before it gets its 404, so the dashboard's shape is not shown to
// strangers.
func TestRoutesGuardUnknownPaths(t *testing.T) {
	e := quietServer(probeHandler())
	for _, tc := range []struct {
		path, access string
		want         int
	}{
		{"/admin/no-such-page", accessAnyone, http.StatusSeeOther},
		{"/admin/no-such-page", string(domain.RoleViewer), http.StatusNotFound},
		{"/admin/staff/1/no-such-action", string(domain.RoleOperator), http.StatusForbidden},
		{"/admin/staff/1/no-such-action", string(domain.RoleAdmin), http.StatusNotFound},
		{"/admin/apikeys/1/no-such-action", string(domain.RoleOperator), http.StatusForbidden},
		{"/admin/apikeys/1/no-such-action", string(domain.RoleAdmin), http.StatusNotFound},
		{"/api/v1/no-such-thing", accessAnyone, http.StatusUnauthorized},
		{"/api/v1/no-such-thing", accessAPIKey, http.StatusNotFound},
		{"/no-such-page", accessAnyone, http.StatusNotFound},
	} {
		rec := probe(e, http.MethodGet, tc.path, tc.access)
		if rec.Code != tc.want {
			t.Errorf("GET %s as %s: %d, want %d", tc.path, tc.access, rec.Code, tc.want)
		}
		if tc.want == http.StatusSeeOther && !refused(rec) {
			t.Errorf("GET %s as %s: sent to %q, not to sign in", tc.path, tc.access, rec.Header().Get(echo.HeaderLocation))
		}
	}
}
