package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/mail"
)

// testSessionKey is testVars' ONBOARD_SESSION_KEY, which signs the mail
// opt-out links.
const testSessionKey = "0123456789abcdef0123456789abcdef-test"

// The HTTP fuzz harness (issue 13): every route of the running server's
// route table, with each client that matters for it (no session, each
// staff role, an API key), gets a corpus of bad input in its path
// parameters, query, urlencoded and multipart form fields and, on the
// API, JSON bodies. Every answer must be below 500, show nothing of Go's
// or Postgres' insides, reflect no corpus string unescaped, redirect
// nowhere off-site and inject no header; and an answer that refuses (4xx)
// must have written nothing.

// fuzzValue is one entry of the corpus: a value as the handler should see
// it (decoded). raw entries are also put into the URL as they are, so
// their escapes (%2e, %0d%0a) reach the server undecoded by us.
type fuzzValue struct {
	name, v string
	raw     bool
}

var fuzzCorpus = []fuzzValue{
	{"empty", "", false},
	{"NUL", "\x00", false},
	{"inner NUL", "a\x00b", false},
	{"byte FF", "\xff", false},
	{"overlong slash", "\xc0\xaf", false},
	{"overlong NUL", "\xc0\x80", false},
	{"lone high surrogate", "\xed\xa0\x80", false},
	{"lone low surrogate", "\xed\xbf\xbf", false},
	{"minus one", "-1", false},
	{"zero", "0", false},
	{"2^63", "9223372036854775808", false},
	{"-2^63-1", "-9223372036854775809", false},
	{"1e309", "1e309", false},
	{"twenty nines", "99999999999999999999", false},
	{"NaN", "NaN", false},
	{"sql or", "' OR 1=1--", false},
	{"sql drop", "'; DROP TABLE onboardings;--", false},
	{"template dot", "{{.}}", false},
	{"script", "<script>alert(1)</script>", false},
	{"img onerror", `"><img src=x onerror=alert(1)>`, false},
	{"dollar template", "${7*7}", false},
	{"dot dot passwd", "../../etc/passwd", true},
	{"escaped dot dot", "%2e%2e%2f", true},
	{"protocol relative", "//evil.example", true},
	{"backslash host", "/\\evil.example", false},
	{"absolute off-site", "https://evil.example/", false},
	{"javascript url", "javascript:alert(1)", false},
	{"escaped NUL", "%00", true},
	{"broken escape", "a%ZZb", true},
	// Bad text beside a pair the form parser cannot read: a parser that
	// gives up on the broken pair must not let the rest through unchecked.
	{"NUL beside a broken pair", "a%00b&zz=%ZZ", true},
	{"byte FF beside a broken pair", "a%FFb&zz=%ZZ", true},
	{"lone percent", "100%", true},
	{"long segment", strings.Repeat("a", 5000), true},
	{"CRLF escaped", "a%0d%0aSet-Cookie:x=y", true},
	{"CRLF", "a\r\nSet-Cookie: x=y", false},
	{"right-to-left override", "a\u202eb", false},
}

// fuzzShort is the part of the corpus sent by clients a route's access
// checks refuse (or that see no more than its weakest client): enough to
// show the checks hold with bad input, without repeating the whole corpus
// through every role.
var fuzzShort = []string{"NUL", "byte FF", "sql or", "script", "dot dot passwd", "CRLF escaped"}

// fuzzJSON are whole bodies for JSON routes, beside the corpus's strings
// in every field: deep nesting (10,000 arrays, past the 16K body limit,
// and 8,000, within it), wrong types, numbers JSON cannot hold, not JSON.
var fuzzJSON = []struct{ name, body string }{
	{"10000 nested arrays", strings.Repeat("[", 10000) + strings.Repeat("]", 10000)},
	{"8000 nested arrays", strings.Repeat("[", 8000) + strings.Repeat("]", 8000)},
	{"3000 nested objects", strings.Repeat(`{"a":`, 3000) + "1" + strings.Repeat("}", 3000)},
	{"null", "null"},
	{"array", "[]"},
	{"string", `"org_no"`},
	{"number", "1e309"},
	{"truncated", `{"org_no":`},
	{"trailing garbage", `{"org_no":"314248295"} x`},
	{"two objects", `{"org_no":"314248295"}{"org_no":"314248295"}`},
	{"duplicate keys", `{"org_no":"314248295","org_no":"<script>alert(1)</script>"}`},
	{"wrong types", `{"org_no":314248295,"product":[],"customer_ref":{},"lang":true,"email":null}`},
	{"escaped NUL", `{"org_no":"314248295","customer_ref":"\u0000"}`},
	{"escaped lone surrogate", `{"org_no":"314248295","customer_ref":"\ud800"}`},
	{"empty", ""},
}

// fuzzNumbers go into JSON bodies as numbers, not strings.
var fuzzNumbers = []string{"-1", "0", "9223372036854775808", "1e309", "99999999999999999999", "-0.0"}

// fuzzFieldNames are the field and query names the handlers read (grep
// QueryParam, FormValue, QueryParams().Get in internal/handlers); every
// route gets them beside the fields its own forms have, so input reaches
// the parsing of a handler whose form the harness cannot open.
var fuzzFieldNames = []string{"after", "checked", "code", "concurrency", "confirm", "cursor", "customer_ref", "done",
	"email", "err", "escalated", "from", "id", "imported", "kind", "lang", "limit", "name", "new", "next", "orgno",
	"password", "current", "paste", "paused", "product", "q", "rate", "ref", "refresh", "reservation", "role",
	"status", "t", "to", "token", "usability", "via"}

// fuzzKnownForms are the fields of forms the harness cannot open (a page
// it does not reach), with a good value each, per POST route.
var fuzzKnownForms = map[string]url.Values{
	"POST /admin/login":                  {"email": {"nobody@example.com"}, "password": {"wrong"}, "next": {"/admin/"}},
	"POST /admin/reset":                  {"code": {"ABCD-EFGH"}, "new": {"a long new password 1"}, "confirm": {"a long new password 1"}},
	"POST /onboard/:product/confirm":     {"orgno": {org}, "checked": {"true"}},
	"POST /onboard/:product/org":         {"orgno": {org}},
	"POST /mail/stop/:id":                {"t": {"x"}},
	"POST /admin/account/password":       {"current": {"wrong"}, "new": {"a long new password 1"}, "confirm": {"a long new password 1"}},
	"POST /admin/campaigns":              {"name": {"Kampanje"}, "product": {"standard"}, "paste": {"310000018\n"}, "concurrency": {"1"}, "rate": {"1"}},
	"POST /admin/onboardings/new":        {"orgno": {"310000018"}, "product": {"standard"}},
	"POST /admin/staff":                  {"email": {"new@example.com"}, "role": {"viewer"}},
	"POST /admin/apikeys":                {"name": {"key"}},
	"POST /admin/staff/:id/role":         {"role": {"operator"}},
	"POST /admin/mail/pause":             {"paused": {"true"}},
	"POST /admin/onboardings/:id/cancel": {"confirm": {"yes"}},
}

// fuzzClient is one way in: a browser with its cookies (none, or a staff
// session of one role) and its CSRF token, or the API's bearer keys.
type fuzzClient struct {
	name  string // anyone, viewer, operator, admin, API key (the README's access words)
	b     *browser
	email string   // a staff client's account, to sign in again after a sign-out
	csrf  string   // from a real page of this browser
	keys  []string // the API key client's keys, used in turn (each has its own rate limit)
	n     int
}

// fuzzTarget is what the harness knows of one route.
type fuzzTarget struct {
	method, path string
	access       string // from README's route table
	surface      string
	params       []string
	fields       url.Values // a real form's fields with their values, else the known list
}

func (t fuzzTarget) key() string { return t.method + " " + t.path }

// fuzzRun is one client's walk over every route, on its own instance, so
// its answers and the database's rows are its own.
type fuzzRun struct {
	t         *testing.T
	e         *env
	clients   []*fuzzClient
	real      map[string]string     // a real value per path parameter, by "route prefix :param"
	realQuery map[string]url.Values // a real query per route key: a GET's field defaults, a POST's query
	allowed   []string              // hosts a Location may name
	last      []string              // the write snapshot after the last answer, nil when unknown
	sent      int
	addr      atomic.Int64
	statuses  map[string]map[int]int // per route key, per client: statuses seen
	problems  int
}

// TestEveryRouteSurvivesBadInput is the HTTP fuzz harness. It walks the
// routes the running server registered (so a new route is covered without
// editing this test) with the access each needs from README's route table
// (a route missing there has no way in and fails the test), on five
// instances in parallel: no session, the API key, each staff role.
func TestEveryRouteSurvivesBadInput(t *testing.T) {
	t.Parallel()
	start := time.Now()
	runs := map[string][]string{
		"anyone":   {"anyone"},
		"API key":  {"API key"},
		"viewer":   {string(domain.RoleViewer)},
		"operator": {string(domain.RoleOperator)},
		"admin":    {string(domain.RoleAdmin)},
	}
	var total atomic.Int64
	t.Run("walk", func(t *testing.T) {
		for name, clients := range runs {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := newFuzzRun(t, clients)
				r.walk()
				total.Add(int64(r.sent))
			})
		}
	})
	t.Logf("corpus: %d values (%d short), %d JSON bodies, %d JSON numbers, one 10 MB field per route; %d requests in %s",
		len(fuzzCorpus), len(fuzzShort), len(fuzzJSON), len(fuzzNumbers), total.Load(), time.Since(start).Round(time.Millisecond))
}

func newFuzzRun(t *testing.T, want []string) *fuzzRun {
	// Webhooks go to an endpoint that takes them, so there are deliveries
	// to redeliver. Behind a proxy, each request comes from an address of
	// its own (X-Forwarded-For), so the per-address limits of sign-in,
	// submit and status pages let the corpus reach the handlers.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	e := handoffEnv(t, map[string]string{"ONBOARD_BEHIND_PROXY": "true",
		"ONBOARD_WEBHOOK_URLS": hook.URL + "/events", "ONBOARD_WEBHOOK_SECRET": testWebhookSecret})
	r := &fuzzRun{t: t, e: e, statuses: map[string]map[int]int{}}
	r.allowed = []string{hostOf(e.web.URL), hostOf(e.sim.URL), hostOf(vendorReturn)}

	// Real things for the routes' parameters: an approved onboarding (its
	// ref in the anyone browser's flow cookie), a campaign, an account and
	// an API key the walk may disable and revoke.
	anyone := e.browser()
	orgNo := dashOrgNos(1)[0]
	e.returnTo(anyone, e.decide(anyone, e.startFlow(anyone, "standard", orgNo), "approve").location)
	o := e.onboardingForOrg(orgNo)
	seedAdmin, _ := e.dashStaff("seed@example.com", string(domain.RoleAdmin))
	victim := e.addStaff("victim@example.com", string(domain.RoleViewer))
	e.createAPIKey(seedAdmin, "victim")
	var victimKey, campaign string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id::text FROM api_keys WHERE name = 'victim'`).Scan(&victimKey); err != nil {
		t.Fatal(err)
	}
	campaign = campaignIDOf(t, e.postCampaign(seedAdmin, "Fuzz", "standard", "310000018\n", true, "1", "1"))
	systemUser := "00000000-0000-0000-0000-000000000000"
	if o.SystemUserID != nil {
		systemUser = *o.SystemUserID
	}
	delivery := "1"
	if ds := e.deliveries(o); len(ds) > 0 {
		delivery = fmt.Sprint(ds[0].ID)
	}
	// Real queries, so input in one field meets the others as a real
	// request has them: the return's ref, the confirm page's number, the
	// opt-out link's signature, a hand-off token (used once; the rest are
	// replays, refused).
	r.realQuery = map[string]url.Values{
		"GET /return":                   {"ref": {o.Ref}},
		"GET /onboard/:product/confirm": {"orgno": {org}},
		"GET /mail/stop/:id":            {"t": {mail.StopToken([]byte(testSessionKey), o.ID)}},
		"POST /mail/stop/:id":           {"t": {mail.StopToken([]byte(testSessionKey), o.ID)}},
		"GET /start":                    {"token": {signHS(t, e.handoffClaims(), handoffSecret)}},
		"GET /admin/onboardings/:id":    {"refresh": {"1"}},
		"GET /admin/systemusers":        {"product": {"standard"}},
	}
	r.real = map[string]string{
		"/admin/onboardings/ :id": o.ID, "/api/v1/onboardings/ :id": o.ID,
		"/admin/campaigns/ :id": campaign, "/admin/staff/ :id": fmt.Sprint(victim.ID),
		"/admin/apikeys/ :id": victimKey, "/admin/systemusers/ :id": systemUser,
		"/mail/stop/ :id": o.ID, ":ref": o.Ref, ":product": "standard", ":lang": "en", ":delivery": delivery,
		":cr": "1", ":action": "pause", ":hash": "0123456789abcdef", ":name": "logo.svg", "*": "app.css",
	}

	for _, w := range want {
		c := &fuzzClient{name: w}
		switch w {
		case "anyone":
			c.b = anyone
			c.csrf = csrfOf(t, anyone.get(e.web.URL+"/onboard/standard/org"))
		case "API key":
			for i := range 5 {
				c.keys = append(c.keys, e.createAPIKey(seedAdmin, fmt.Sprintf("fuzz %d", i)))
			}
		default:
			c.email = w + "@example.com"
			e.addStaff(c.email, w)
			r.signIn(c)
		}
		r.clients = append(r.clients, c)
	}
	return r
}

func hostOf(u string) string {
	p, _ := url.Parse(u)
	return p.Host
}

// signIn signs c in (again) and takes its CSRF token from a dashboard page.
func (r *fuzzRun) signIn(c *fuzzClient) {
	r.t.Helper()
	c.b = r.e.signedIn(c.email)
	c.csrf = csrfOf(r.t, c.b.get(r.e.web.URL+"/admin/account/password"))
	r.last = nil
}

// targets are the routes of the running server, each with its access from
// README's route table and the fields of its forms.
func (r *fuzzRun) targets() []fuzzTarget {
	t := r.t
	ec, ok := r.e.app.Web.(*echo.Echo)
	if !ok {
		t.Fatalf("app.Web is a %T, not the *echo.Echo whose route table the harness walks", r.e.app.Web)
	}
	access := readmeAccess(t)
	var out []fuzzTarget
	seen := map[string]bool{}
	routes := ec.Routes()
	// A group's catch-all for unknown paths under it (its access checks,
	// then a 404) is walked too, as a GET anyone may try, after the real
	// routes so a real GET of the same path keeps its own access.
	sort.SliceStable(routes, func(i, j int) bool {
		return routes[i].Method != echo.RouteNotFound && routes[j].Method == echo.RouteNotFound
	})
	for _, rt := range routes {
		if rt.Method == echo.RouteNotFound {
			ft := fuzzTarget{method: http.MethodGet, path: rt.Path, access: "anyone", surface: "customer"}
			switch {
			case strings.HasPrefix(rt.Path, "/admin"):
				ft.surface = "dashboard"
			case strings.HasPrefix(rt.Path, "/api"):
				ft.surface = "api"
			}
			if strings.HasSuffix(rt.Path, "*") {
				ft.params = []string{"*"}
			}
			if !seen[ft.key()] {
				seen[ft.key()] = true
				out = append(out, ft)
			}
			continue
		}
		k := rt.Method + " " + rt.Path
		if seen[k] {
			continue
		}
		seen[k] = true
		a, ok := access[k]
		if !ok {
			t.Errorf("route %s is not in README's route table, so the harness does not know who may call it: add it there", k)
			continue
		}
		ft := fuzzTarget{method: rt.Method, path: rt.Path, access: a[0], surface: a[1]}
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, ":") || seg == "*" {
				ft.params = append(ft.params, seg)
			}
		}
		for _, p := range ft.params {
			if _, ok := r.realParam(rt.Path, p); !ok {
				t.Errorf("route %s: no real value for %s; add one to the harness's real values", k, p)
			}
		}
		if rt.Method != http.MethodGet && rt.Method != http.MethodPost {
			t.Errorf("route %s: the harness sends only GET and POST; teach it %s", k, rt.Method)
		}
		out = append(out, ft)
	}
	// The sign-out last, so the walk does not spend its session early.
	sort.SliceStable(out, func(i, j int) bool {
		if li, lj := strings.HasSuffix(out[i].path, "/logout"), strings.HasSuffix(out[j].path, "/logout"); li != lj {
			return lj
		}
		return out[i].key() < out[j].key()
	})
	r.crawlForms(out)
	return out
}

// readmeAccess is README's route table: "METHOD path" to {access, surface}.
func readmeAccess(t *testing.T) map[string][2]string {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i, j := strings.Index(s, "<!-- routes:begin -->"), strings.Index(s, "<!-- routes:end -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no route table")
	}
	out := map[string][2]string{}
	for _, line := range strings.Split(s[i:j], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		method, path := strings.TrimSpace(cells[1]), strings.Trim(strings.TrimSpace(cells[2]), "`")
		out[method+" "+path] = [2]string{strings.TrimSpace(cells[4]), strings.TrimSpace(cells[3])}
	}
	return out
}

func (r *fuzzRun) realParam(path, param string) (string, bool) {
	for k, v := range r.real {
		prefix, p, found := strings.Cut(k, " ")
		if found && p == param && strings.HasPrefix(path, prefix) {
			return v, true
		}
	}
	v, ok := r.real[param]
	return v, ok
}

// fill puts values into path's parameters: vals[p] where given (already
// escaped as wanted), else the real value, escaped.
func (r *fuzzRun) fill(path string, vals map[string]string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, ":") && seg != "*" {
			continue
		}
		if v, ok := vals[seg]; ok {
			segs[i] = v
		} else {
			v, _ := r.realParam(path, seg)
			segs[i] = url.PathEscape(v)
		}
	}
	return strings.Join(segs, "/")
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	fieldRE = regexp.MustCompile(`(?is)<(?:input|select|textarea|button)\b[^>]*?\bname="([^"]+)"[^>]*>`)
	valueRE = regexp.MustCompile(`(?is)\bvalue="([^"]*)"`)
	attrRE  = regexp.MustCompile(`(?is)\b(action|method)="([^"]*)"`)
)

// crawlForms opens every GET route (with real parameters, as each of the
// run's clients) and keeps the fields of every form on the pages, by the
// route the form posts (or gets) to; routes no page has a form for get the
// known list.
func (r *fuzzRun) crawlForms(targets []fuzzTarget) {
	patterns := make([]*regexp.Regexp, len(targets))
	for i, ft := range targets {
		p := regexp.QuoteMeta(ft.path)
		p = regexp.MustCompile(`:[a-z]+`).ReplaceAllString(p, `[^/]+`)
		p = strings.ReplaceAll(p, `\*`, `.*`)
		patterns[i] = regexp.MustCompile("^" + p + "$")
	}
	found := map[int]url.Values{}
	for _, c := range r.clients {
		if c.b == nil {
			continue
		}
		for _, ft := range targets {
			if ft.method != http.MethodGet || strings.HasSuffix(ft.path, ".csv") || ft.path == "/metrics" {
				continue
			}
			p := c.b.get(r.e.web.URL + r.fill(ft.path, nil))
			for _, fm := range formRE.FindAllStringSubmatch(p.body, -1) {
				method, action := http.MethodGet, ""
				for _, a := range attrRE.FindAllStringSubmatch(fm[1], -1) {
					if strings.EqualFold(a[1], "method") {
						method = strings.ToUpper(a[2])
					} else {
						action = html.UnescapeString(a[2])
					}
				}
				u, err := url.Parse(action)
				if err != nil || (u.Host != "" && u.Host != hostOf(r.e.web.URL)) {
					continue
				}
				if u.Path == "" {
					u.Path = r.fill(ft.path, nil)
				}
				best := -1
				for i, t2 := range targets {
					if t2.method == method && patterns[i].MatchString(u.Path) && (best < 0 || len(t2.params) < len(targets[best].params)) {
						best = i
					}
				}
				if best < 0 {
					continue
				}
				if found[best] == nil {
					found[best] = url.Values{}
				}
				for _, f := range fieldRE.FindAllStringSubmatch(fm[2], -1) {
					name := html.UnescapeString(f[1])
					if name == "_csrf" || found[best].Has(name) {
						continue
					}
					v := ""
					if m := valueRE.FindStringSubmatch(f[0]); m != nil {
						v = html.UnescapeString(m[1])
					}
					found[best].Set(name, v)
				}
			}
		}
	}
	for i := range targets {
		fields := url.Values{}
		for k, v := range fuzzKnownForms[targets[i].key()] {
			fields[k] = v
		}
		if targets[i].method == http.MethodGet {
			for k, v := range r.realQuery[targets[i].key()] {
				fields[k] = v
			}
		}
		for k, v := range found[i] {
			fields[k] = v
		}
		targets[i].fields = fields
	}
}

// walk sends the corpus along every route, as each client.
func (r *fuzzRun) walk() {
	targets := r.targets()
	if r.t.Failed() {
		return
	}
	rank := map[string]int{"anyone": 0, string(domain.RoleViewer): 1, string(domain.RoleOperator): 2, string(domain.RoleAdmin): 3,
		"API key": 4, "metrics token": 0}
	for _, ft := range targets {
		for _, c := range r.clients {
			if !clientFits(c.name, ft.surface) {
				continue
			}
			// The whole corpus goes to the client the route is for (the
			// least its access checks let through); the others get the
			// short one.
			r.send(c, ft, rank[c.name] == rank[ft.access])
		}
	}
	r.checkEveryRouteAnswered(targets)
	if r.problems > 40 {
		r.t.Errorf("and %d more problems like those", r.problems-40)
	}
}

// clientFits says which clients matter on a surface: staff clients on the
// dashboard, the API key on the API, no session everywhere.
func clientFits(client, surface string) bool {
	switch client {
	case "anyone":
		return true
	case "API key":
		return surface == "api"
	}
	return surface == "dashboard"
}

func shortCorpus() []fuzzValue {
	var out []fuzzValue
	for _, v := range fuzzCorpus {
		if slices.Contains(fuzzShort, v.name) {
			out = append(out, v)
		}
	}
	return out
}

// send sends a route its requests as c: the corpus in each path
// parameter, in every query field (GET), in every form field urlencoded
// and one field at a time multipart (POST), in JSON bodies (POST on the
// API), and once a 10 MB field.
func (r *fuzzRun) send(c *fuzzClient, ft fuzzTarget, full bool) {
	corpus := fuzzCorpus
	if !full {
		corpus = shortCorpus()
	}
	fieldNames := slices.Sorted(func(yield func(string) bool) {
		seen := map[string]bool{}
		for k := range ft.fields {
			seen[k] = true
			if !yield(k) {
				return
			}
		}
		for _, k := range fuzzFieldNames {
			if !seen[k] && !yield(k) {
				return
			}
		}
	})
	// The fields one at a time: the route's own (its form's, or the known
	// list), else every name, so a strict field checked first does not
	// hide the others.
	var ownFields []string
	for _, k := range slices.Sorted(maps.Keys(ft.fields)) {
		if !r.realQuery[ft.key()].Has(k) { // a real query's fields stay real
			ownFields = append(ownFields, k)
		}
	}
	if len(ownFields) == 0 {
		ownFields = fieldNames
	}
	isJSON := ft.surface == "api" && ft.method == http.MethodPost
	base := r.fill(ft.path, nil)
	if q := r.realQuery[ft.key()]; ft.method == http.MethodPost && len(q) > 0 {
		base += "?" + q.Encode()
	}

	for i, v := range corpus {
		// Path parameters, one at a time, the others real.
		for _, p := range ft.params {
			r.do(c, ft, v.name+" in "+p, ft.method, r.fill(ft.path, map[string]string{p: url.PathEscape(v.v)}), r.defaultBody(ft))
			if v.raw {
				r.do(c, ft, v.name+" raw in "+p, ft.method, r.fill(ft.path, map[string]string{p: v.v}), r.defaultBody(ft))
			}
		}
		if ft.method == http.MethodGet {
			q := url.Values{}
			for _, k := range fieldNames {
				q.Set(k, v.v)
			}
			r.do(c, ft, v.name+" in the query", ft.method, base+"?"+q.Encode(), nil)
			if !full {
				continue // refused by the access checks before a field is read: one request is enough
			}
			one := url.Values{}
			for k, vs := range ft.fields {
				one[k] = vs
			}
			field := ownFields[i%len(ownFields)]
			one.Set(field, v.v)
			r.do(c, ft, v.name+" in "+field, ft.method, base+"?"+one.Encode(), nil)
			if v.raw {
				var parts []string
				for _, k := range fieldNames {
					parts = append(parts, k+"="+v.v)
				}
				r.do(c, ft, v.name+" raw in the query", ft.method, base+"?"+strings.Join(parts, "&"), nil)
			}
			continue
		}
		// Every field urlencoded at once.
		form := url.Values{}
		for _, k := range fieldNames {
			form.Set(k, v.v)
		}
		form.Set("_csrf", c.csrf)
		r.do(c, ft, v.name+" in every field", ft.method, base, &fuzzBody{ctype: "application/x-www-form-urlencoded", b: []byte(form.Encode())})
		if v.raw && full {
			// As typed into the body, unescaped: %ZZ, %00, %0d%0a reach the
			// form parser as they are.
			parts := []string{"_csrf=" + url.QueryEscape(c.csrf)}
			for _, k := range fieldNames {
				parts = append(parts, k+"="+v.v)
			}
			r.do(c, ft, v.name+" raw in every field", ft.method, base,
				&fuzzBody{ctype: "application/x-www-form-urlencoded", b: []byte(strings.Join(parts, "&"))})
		}
		if !full {
			continue
		}
		// One field multipart, the others as the form has them.
		r.do(c, ft, v.name+" in one multipart field", ft.method, base, r.multipart(c, ft, ownFields[i%len(ownFields)], v.v))
		if isJSON {
			obj := map[string]string{}
			for _, k := range []string{"product", "org_no", "customer_ref", "lang", "email"} {
				obj[k] = v.v
			}
			r.do(c, ft, v.name+" in every JSON field", ft.method, base, &fuzzBody{ctype: "application/json", b: jsonObject(obj), idem: v.v})
			// A good body, so the Idempotency-Key is what is read.
			r.do(c, ft, v.name+" as the Idempotency-Key", ft.method, base,
				&fuzzBody{ctype: "application/json", b: jsonObject(map[string]string{"org_no": org}), idem: v.v})
			// The API reads JSON whatever the Content-Type says.
			r.do(c, ft, v.name+" in every JSON field as text/plain", ft.method, base, &fuzzBody{ctype: "text/plain", b: jsonObject(obj)})
		}
	}
	if isJSON && full {
		for _, j := range fuzzJSON {
			r.do(c, ft, "JSON "+j.name, ft.method, base, &fuzzBody{ctype: "application/json", b: []byte(j.body)})
			r.do(c, ft, "JSON "+j.name+" as text/plain", ft.method, base, &fuzzBody{ctype: "text/plain", b: []byte(j.body)})
		}
		for _, n := range fuzzNumbers {
			body := fmt.Sprintf(`{"product":%s,"org_no":%s,"customer_ref":%s,"lang":%s,"email":%s}`, n, n, n, n, n)
			r.do(c, ft, "JSON number "+n, ft.method, base, &fuzzBody{ctype: "application/json", b: []byte(body)})
		}
	}
	if !full {
		return
	}
	// Headers and cookies a handler reads (the language, a request id, the
	// flow, language, staff and back cookies, beside the browser's own),
	// the short corpus in each, on the route's own request.
	for _, v := range shortCorpus() {
		if !validHeaderValue(v.v) {
			continue
		}
		hdr := http.Header{}
		for _, h := range []string{"Accept-Language", "Referer", "Origin", "User-Agent", "X-Request-Id", "Idempotency-Key"} {
			hdr.Set(h, v.v)
		}
		for _, name := range []string{"onboard_flow", "onboard_lang", "onboard_staff", "onboard_back"} {
			hdr.Add("Cookie", name+"="+v.v)
		}
		var body *fuzzBody
		if ft.method == http.MethodPost {
			body = r.defaultBody(ft)
		}
		r.doWith(c, ft, v.name+" in the headers and cookies", ft.method, base, body, hdr)
	}
	// A signed hand-off whose claims carry the corpus as raw bytes (the
	// JSON as sent, not re-encoded), so the token's own parser meets it.
	if ft.key() == "GET /start" {
		for _, v := range corpus {
			for _, claim := range []string{"customer_ref", "jti", "return_url"} {
				tok := r.rawHandoff(claim, v.v)
				r.do(c, ft, v.name+" in a signed hand-off's "+claim, ft.method, base+"?token="+url.QueryEscape(tok), nil)
			}
		}
	}
	// A form a page on a sibling site posts, with the right token: refused
	// before any handler (Sec-Fetch-Site in any case).
	if ft.method == http.MethodPost && (ft.surface == "customer" || ft.surface == "dashboard") {
		for _, site := range []string{"same-site", "Same-Site", "CROSS-SITE"} {
			hdr := http.Header{"Sec-Fetch-Site": {site}}
			before := r.statuses[ft.key()][http.StatusForbidden]
			r.doWith(c, ft, "Sec-Fetch-Site "+site, ft.method, base, r.defaultBody(ft), hdr)
			if r.statuses[ft.key()][http.StatusForbidden] == before {
				r.problems++
				r.t.Errorf("POST %s as %s with Sec-Fetch-Site %s and the right token was not refused with 403", ft.path, c.name, site)
			}
		}
	}
	// Once per route: a 10 MB field. A GET carries it in the query, which
	// the server refuses (431) as too large a header; a POST in the form
	// (or JSON), which the body limits refuse.
	big := strings.Repeat("A", 10<<20)
	if ft.method == http.MethodGet {
		r.do(c, ft, "10 MB query field", ft.method, base+"?q="+big, nil)
		return
	}
	form := url.Values{"_csrf": {c.csrf}, fieldNames[0]: {big}}
	r.do(c, ft, "10 MB form field", ft.method, base, &fuzzBody{ctype: "application/x-www-form-urlencoded", b: []byte(form.Encode()), big: true})
	r.do(c, ft, "10 MB multipart field", ft.method, base, r.multipartBig(c, ft, fieldNames[0], big))
	if isJSON {
		r.do(c, ft, "10 MB JSON field", ft.method, base, &fuzzBody{ctype: "application/json",
			b: jsonObject(map[string]string{"org_no": org, "customer_ref": big}), big: true})
	}
}

type fuzzBody struct {
	ctype string
	b     []byte
	idem  string // an Idempotency-Key, when a header may carry it
	big   bool   // sent with Expect: 100-continue, so a refusal comes before the body
}

func jsonObject(m map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		// Raw bytes, not json.Marshal's: invalid UTF-8 must reach the
		// server as it is, not as U+FFFD.
		fmt.Fprintf(&b, `"%s":"%s"`, k, strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`).Replace(m[k]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// defaultBody is a POST's form as its page has it (for requests whose bad
// input is elsewhere).
func (r *fuzzRun) defaultBody(ft fuzzTarget) *fuzzBody {
	if ft.method == http.MethodGet {
		return nil
	}
	return &fuzzBody{ctype: "application/x-www-form-urlencoded", b: []byte("_csrf=CSRF&" + ft.fields.Encode())}
}

func (r *fuzzRun) multipart(c *fuzzClient, ft fuzzTarget, field, value string) *fuzzBody {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", c.csrf)
	for k, vs := range ft.fields {
		if k != field {
			for _, v := range vs {
				_ = w.WriteField(k, v)
			}
		}
	}
	_ = w.WriteField(field, value)
	// A file part too, with the value as its contents.
	fw, _ := w.CreateFormFile("file", "list.csv")
	_, _ = fw.Write([]byte(value))
	_ = w.Close()
	return &fuzzBody{ctype: w.FormDataContentType(), b: b.Bytes()}
}

func (r *fuzzRun) multipartBig(c *fuzzClient, ft fuzzTarget, field, big string) *fuzzBody {
	body := r.multipart(c, ft, field, big)
	body.big = true
	return body
}

var (
	// insidesRE is what an answer must never show: a stack, a Go source
	// line, Postgres', database/sql's or pgx's words. pgx is looked for as its errors and
	// paths say it ("pgx: …", "pgx.ErrNoRows", "jackc/pgx/v5"), not as three
	// letters anywhere: a random token on a page (CSRF, a hand-off's) holds
	// "pgx" now and then (a fresh clone's run met one in 13,000 answers).
	insidesRE = regexp.MustCompile(`goroutine \d+|panic\(|panic:|runtime/|[A-Za-z0-9_]+\.go:\d+|SQLSTATE|\bsql: |\bpgx(?::|\.[A-Z]|/v\d)|jackc/|pgconn`)
	// reflected are corpus strings that, raw in an HTML page, are markup.
	reflected = []string{"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "onerror=alert(1)>"}
	// badLinkRE is a link or form a corpus string made lead off-site or
	// run script.
	badLinkRE = regexp.MustCompile(`(?i)\b(?:href|src|action|formaction)\s*=\s*["']?\s*(?:javascript:|(?:https?:)?//evil\.example|/\\evil\.example)`)
)

// do sends one request and checks its answer.
func (r *fuzzRun) do(c *fuzzClient, ft fuzzTarget, what, method, path string, body *fuzzBody) {
	r.t.Helper()
	r.doWith(c, ft, what, method, path, body, nil)
}

// doWith is do with extra headers (cookies among them, sent before the
// browser's own, so the server reads these first).
func (r *fuzzRun) doWith(c *fuzzClient, ft fuzzTarget, what, method, path string, body *fuzzBody, hdr http.Header) {
	t := r.t
	t.Helper()
	if r.last == nil {
		r.last = r.snapshot()
	}
	var rd io.Reader
	if body != nil {
		b := bytes.ReplaceAll(body.b, []byte("_csrf=CSRF"), []byte("_csrf="+url.QueryEscape(c.csrf)))
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.e.web.URL+path, rd)
	if err != nil {
		return // a URL the client cannot send (a raw byte it refuses): nothing reached the server
	}
	if body != nil {
		req.Header.Set("Content-Type", body.ctype)
		if body.big {
			req.Header.Set("Expect", "100-continue")
		}
		if body.idem != "" && validHeaderValue(body.idem) {
			req.Header.Set("Idempotency-Key", body.idem)
		}
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if cs := hdr.Values("Cookie"); len(cs) > 0 {
		req.Header.Set("Cookie", strings.Join(cs, "; "))
	}
	n := r.addr.Add(1)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", n/250%250, n%250+1))
	client := noRedirects
	if c.b != nil {
		client = c.b.c
	}
	if len(c.keys) > 0 {
		req.Header.Set("Authorization", "Bearer "+c.keys[c.n%len(c.keys)])
		c.n++
	}
	r.sent++
	res, err := client.Do(req)
	if err != nil {
		if body != nil && body.big || strings.HasPrefix(what, "10 MB") {
			r.last = nil // refused while we were still sending: the answer was lost, not a 5xx
			return
		}
		t.Errorf("%s %s as %s (%s): %v", method, ft.path, c.name, what, err)
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	res.Body.Close()
	p := page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw), header: res.Header}
	if r.statuses[ft.key()] == nil {
		r.statuses[ft.key()] = map[int]int{}
	}
	r.statuses[ft.key()][p.status]++

	fail := func(format string, args ...any) {
		r.problems++
		if r.problems <= 40 {
			t.Errorf("%s %s as %s, %s (%.120q): "+format, append([]any{method, ft.path, c.name, what, path}, args...)...)
		}
	}
	if p.status >= 500 {
		fail("%d\n%.400s", p.status, p.body)
	}
	ctype := res.Header.Get("Content-Type")
	if !(ft.path == "/metrics" && p.status == http.StatusOK) && !strings.HasPrefix(ft.path, "/static/") {
		if m := insidesRE.FindString(p.body); m != "" {
			fail("the answer (%d) shows %q:\n%.400s", p.status, m, p.body)
		}
	}
	if strings.HasPrefix(ctype, "text/html") {
		for _, s := range reflected {
			if strings.Contains(p.body, s) {
				fail("the page (%d) holds %q unescaped", p.status, s)
			}
		}
		if m := badLinkRE.FindString(p.body); m != "" {
			fail("the page (%d) links where the input said: %s", p.status, m)
		}
	}
	if p.location != "" && !r.onSite(p.location) {
		fail("%d Location %q leads off-site", p.status, p.location)
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") || strings.HasPrefix(strings.ToLower(k), "x=") {
				fail("header %s: %q", k, v)
			}
		}
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "x" {
			fail("a cookie x=%s was set from the input", ck.Value)
		}
	}

	// Refused: nothing written. Anything else may have written; the next
	// request starts from a fresh snapshot.
	if p.status >= 400 && p.status < 500 {
		now := r.snapshot()
		for i := range now {
			if now[i] != r.last[i] {
				fail("refused with %d but %s changed (%s -> %s)\n%.300s", p.status, snapshotTables[i].name, r.last[i], now[i], p.body)
			}
		}
		r.last = now
	} else {
		r.last = nil
	}

	// A staff client sent to sign in has lost its session (the sign-out
	// route, or a refusal that ended it): sign in again, so the walk goes
	// on with the role it is for.
	if c.email != "" && (p.status == http.StatusUnauthorized || strings.HasPrefix(p.location, "/admin/login")) {
		if alive := c.b.get(r.e.web.URL + "/admin/account/password"); alive.status != http.StatusOK {
			r.signIn(c)
		}
	}
}

// rawHandoff is a hand-off token signed with the right secret whose
// claim holds value as raw bytes in the payload's JSON.
func (r *fuzzRun) rawHandoff(claim, value string) string {
	c := r.e.handoffClaims()
	delete(c, claim)
	payload, _ := json.Marshal(c)
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value)
	payload = append(payload[:len(payload)-1], []byte(`,"`+claim+`":"`+esc+`"}`)...)
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(handoffSecret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

// noRedirects is the API key client's: no cookies, redirects not followed.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// onSite reports whether a Location stays on this service, or goes to
// Altinn's confirm page (the simulator here).
func (r *fuzzRun) onSite(loc string) bool {
	if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.HasPrefix(loc, `\`) {
		return false
	}
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return strings.HasPrefix(loc, "/") || !strings.Contains(loc, ":")
	}
	return (u.Scheme == "http" || u.Scheme == "https") && slices.Contains(r.allowed, u.Host)
}

// snapshotTables are the tables a refused request must leave as they were,
// each summed as a count and a hash of its rows. Left out, on purpose:
//   - audit_log rows of failed sign-ins (staff.sign_in_failed): a refused
//     sign-in (or password check) is recorded, as that record is what the
//     sign-in throttle counts (migrations/00019) to slow guessing down;
//   - staff_sessions.last_seen_at and api_keys.last_used_at: a live
//     session or key is marked used when it is looked up, before the
//     handler decides (a refusal of what it asked is still a use);
//   - River's tables: no job is enqueued on a refusal, but the queue is
//     the jobs' business and the walk runs none.
var snapshotTables = []struct{ name, expr string }{
	{"onboardings", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM onboardings x`},
	{"onboarding_events", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM onboarding_events x`},
	{"staff", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM staff x`},
	{"staff_sessions", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(row(x.token_hash, x.staff_id, x.expires_at)::text)), 0) FROM staff_sessions x`},
	{"staff_password_resets", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM staff_password_resets x`},
	{"audit_log", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM audit_log x WHERE action <> 'staff.sign_in_failed'`},
	{"api_keys", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(row(x.id, x.name, x.prefix, x.key_hash, x.revoked_at)::text)), 0) FROM api_keys x`},
	{"api_idempotency", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM api_idempotency x`},
	{"handoff_jtis", `SELECT count(*)::text FROM handoff_jtis`},
	{"change_requests", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM change_requests x`},
	{"campaigns", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM campaigns x`},
	{"campaign_items", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM campaign_items x`},
	{"webhook_events", `SELECT count(*)::text FROM webhook_events`},
	{"webhook_deliveries", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM webhook_deliveries x`},
	{"mail_contacts", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM mail_contacts x`},
	{"mail_messages", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM mail_messages x`},
	{"mail_settings", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM mail_settings x`},
	{"person_logins", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM person_logins x`},
	{"onboarding_clients", `SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0) FROM onboarding_clients x`},
}

var snapshotSQL = func() string {
	var parts []string
	for _, s := range snapshotTables {
		parts = append(parts, "("+s.expr+")")
	}
	return "SELECT ARRAY[" + strings.Join(parts, ", ") + "]"
}()

func (r *fuzzRun) snapshot() []string {
	r.t.Helper()
	var out []string
	if err := r.e.db.Pool.QueryRow(context.Background(), snapshotSQL).Scan(&out); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// checkEveryRouteAnswered: every route the walk sent to must have been
// matched by the server (its request metric counts it), so no route went
// unexercised because its requests never reached it.
func (r *fuzzRun) checkEveryRouteAnswered(targets []fuzzTarget) {
	mfs, err := r.e.app.Metrics.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	matched := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "onboard_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var method, route string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "method":
					method = l.GetValue()
				case "route":
					route = l.GetValue()
				}
			}
			matched[method+" "+route] += m.GetCounter().GetValue()
		}
	}
	for _, ft := range targets {
		if r.statuses[ft.key()] == nil {
			continue // not for this run's clients
		}
		if testing.Verbose() {
			r.t.Logf("%s: %v", ft.key(), r.statuses[ft.key()])
		}
		if matched[ft.key()] == 0 {
			r.t.Errorf("%s: none of its requests reached the route (statuses %v)", ft.key(), r.statuses[ft.key()])
		}
	}
	r.t.Logf("%d requests to %d routes", r.sent, len(r.statuses))
}
