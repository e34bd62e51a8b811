package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// createAPIKey makes an API key named name on the dashboard, as b (an
// admin), and returns the key shown once.
func (e *env) createAPIKey(b *browser, name string) string {
	e.t.Helper()
	list := b.get(e.web.URL + "/admin/apikeys")
	if list.status != http.StatusOK {
		e.t.Fatalf("api keys page: %d\n%s", list.status, list.body)
	}
	res := b.post(e.web.URL+"/admin/apikeys", url.Values{"_csrf": {csrfOf(e.t, list)}, "name": {name}})
	if res.status != http.StatusOK {
		e.t.Fatalf("create api key: %d\n%s", res.status, res.body)
	}
	m := regexp.MustCompile(`value="(onb_[^"]+)"[^>]*data-testid="new-key"`).FindStringSubmatch(res.body)
	if m == nil {
		e.t.Fatalf("no key on the page:\n%s", res.body)
	}
	return html.UnescapeString(m[1])
}

// apiCall is one answer of the API, with the request that got it.
type apiCall struct {
	status int
	header http.Header
	body   []byte

	req     *http.Request
	reqBody []byte
}

func (a apiCall) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object (%d): %v\n%s", a.status, err, a.body)
	}
	return m
}

// api sends a request to the API with key (none when "") and, when doc is
// not nil, checks the request and its answer against the served OpenAPI
// document (doc.check).
func (e *env) api(doc *openAPI, method, path, key, body string, hdr ...string) apiCall {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.web.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := apiCall{status: res.StatusCode, header: res.Header, body: b, req: req, reqBody: []byte(body)}
	if doc != nil {
		doc.check(e.t, a)
	}
	return a
}

// openAPI is the served OpenAPI document, loaded and validated by
// kin-openapi, its router, and which of its documented answers the tests
// have seen.
type openAPI struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	mu     sync.Mutex
	seen   map[string]bool
}

func (e *env) openAPI() *openAPI {
	e.t.Helper()
	res, err := http.Get(e.web.URL + "/api/openapi.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		e.t.Fatalf("openapi.json: %d %s %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		e.t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		e.t.Fatalf("openapi.json: version %q", doc.OpenAPI)
	}
	// The document itself, with no format it does not define.
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation()); err != nil {
		e.t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	closeObjects(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		e.t.Fatalf("openapi.json: %v", err)
	}
	return &openAPI{doc: doc, router: router, seen: map[string]bool{}, opts: &openapi3filter.Options{
		IncludeResponseStatus: true, // an answer with an undocumented status fails
		SkipSettingDefaults:   true,
		// The document can say only that a bearer credential is sent; whether
		// the key is live is for the API to say (a documented 401).
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			scheme, cred, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, in.SecurityScheme.Scheme) || cred == "" {
				return errors.New("no " + in.SecurityScheme.Scheme + " credential")
			}
			return nil
		},
		// kin-openapi checks date-time itself; uuid and uri too, here.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
				"uuid": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562),
				"uri": openapi3.NewCallbackValidator(func(s string) error {
					if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
						return errors.New("not an absolute URI")
					}
					return nil
				}),
			}),
		},
	}}
}

// closeObjects makes the document's object schemas refuse properties they
// do not list (additionalProperties: false), for the tests only: an answer
// with a field the document does not describe is drift, though the served
// document leaves clients free to ignore fields added later.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if s.Type.Is(openapi3.TypeObject) && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = openapi3.Ptr(false)
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
}

func opKey(method, route string, status string) string {
	return strings.ToLower(method) + " " + route + " " + status
}

// check fails t unless the request and its answer are as the document
// says: the request's operation is documented (kin-openapi's router); a
// request the document does not allow (its parameters, body or bearer
// credential) is refused by the API, with a 401 for a missing credential;
// and the answer's status is documented for the operation, under its
// content type, with a body of the documented schema.
func (d *openAPI) check(t *testing.T, a apiCall) {
	t.Helper()
	ctx := context.Background()
	req := a.req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(a.reqBody))
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		t.Fatalf("openapi: %s %s: %v", req.Method, req.URL.Path, err)
	}
	op := req.Method + " " + req.URL.RequestURI()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: d.opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		var sec *openapi3filter.SecurityRequirementsError
		if errors.As(err, &sec) && a.status != http.StatusUnauthorized {
			t.Fatalf("openapi: %s without a credential answered %d, not 401:\n%s", op, a.status, a.body)
		}
		if a.status < 400 || a.status > 499 {
			t.Fatalf("openapi: %s answered %d to a request the document does not allow: %v\n%s", op, a.status, err, a.body)
		}
	}
	d.mu.Lock()
	d.seen[opKey(req.Method, route.Path, strconv.Itoa(a.status))] = true
	d.mu.Unlock()
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 a.status,
		Header:                 a.header,
		Body:                   io.NopCloser(bytes.NewReader(a.body)),
		Options:                d.opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Fatalf("openapi: %s answered %d, not as documented: %v\n%s", op, a.status, err, a.body)
	}
}

// unseen lists the documented answers no test has produced.
func (d *openAPI) unseen() []string {
	var out []string
	for route, item := range d.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				if !d.seen[opKey(method, route, code)] {
					out = append(out, opKey(method, route, code))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestAPI walks every endpoint and every documented error of the JSON API,
// checking each answer against the served OpenAPI document, and then that
// every documented answer was seen.
func TestAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	admin := e.signedIn("boss@example.com")
	key := e.createAPIKey(admin, "ERP production")
	doc := e.openAPI()
	orgs := dashOrgNos(8)

	// No key, a malformed one, an unknown one: 401 everywhere.
	for _, k := range []string{"", "onb_nope", "onb_00000000_" + strings.Repeat("A", 43)} {
		res := e.api(doc, http.MethodGet, "/api/v1/onboardings", k, "")
		if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("key %q: %d %v", k, res.status, res.header)
		}
		e.api(doc, http.MethodGet, "/api/v1/onboardings/00000000-0000-0000-0000-000000000000", k, "")
		e.api(doc, http.MethodGet, "/api/v1/onboardings/00000000-0000-0000-0000-000000000000/clients", k, "")
		e.api(doc, http.MethodPost, "/api/v1/onboardings", k, `{"org_no":"`+orgs[0]+`"}`)
	}

	// Create: 201 with a hand-off URL, the customer's ref and language.
	res := e.api(doc, http.MethodPost, "/api/v1/onboardings", key,
		`{"product":"standard","org_no":"`+orgs[0]+`","customer_ref":"cust-1","lang":"en"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", res.status, res.body)
	}
	first := res.json(t)
	if first["status"] != string(domain.StatusPending) || first["customer_ref"] != "cust-1" || first["lang"] != "en" || first["org_no"] != orgs[0] {
		t.Fatalf("create: %v", first)
	}
	if first["handoff_url"] != first["confirm_url"] || !strings.HasPrefix(first["handoff_url"].(string), e.sim.URL) {
		t.Fatalf("create: hand-off %v, confirm %v", first["handoff_url"], first["confirm_url"])
	}
	id := first["id"].(string)

	// The same customer again, without a key: the live one, 200.
	res = e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+orgs[0]+`"}`)
	if res.status != http.StatusOK || res.json(t)["id"] != id {
		t.Fatalf("create again: %d\n%s", res.status, res.body)
	}

	// Validation: 400 with a problem document.
	for _, body := range []string{
		`{"org_no":"` + orgs[1][:8] + `"}`,                       // too short
		`{"org_no":"` + orgs[1][:8] + wrongCheck(orgs[1]) + `"}`, // fails mod-11
		`{"org_no":"12345678a"}`,
		`{}`,
		`{"org_no":"` + orgs[1] + `","product":"nope"}`,
		`{"org_no":"` + orgs[1] + `","lang":"de"}`,
		`{"org_no":"` + orgs[1] + `","extra":1}`,
		`{"org_no":"` + orgs[1] + `","customer_ref":"` + strings.Repeat("x", 201) + `"}`,
		`not json`,
	} {
		res := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, body)
		if res.status != http.StatusBadRequest || res.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s\n%s", body, res.status, res.header.Get("Content-Type"), res.body)
		}
		if p := res.json(t); p["status"] != float64(400) || p["detail"] == "" {
			t.Fatalf("%s: %v", body, p)
		}
	}
	if p := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+orgs[1][:8]+wrongCheck(orgs[1])+`"}`).json(t); !strings.Contains(p["detail"].(string), "mod-11") {
		t.Fatalf("bad check digit: %v", p)
	}

	// Idempotent create: the same key and body give the first answer and
	// one request at Altinn; the same key with another body is a 422.
	body := `{"product":"standard","org_no":"` + orgs[2] + `","customer_ref":"cust-2"}`
	a := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, body, "Idempotency-Key", "create-cust-2")
	b := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, body, "Idempotency-Key", "create-cust-2")
	if a.status != http.StatusCreated || b.status != http.StatusCreated || string(a.body) != string(b.body) ||
		b.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent create: %d %d\n%s\n%s", a.status, b.status, a.body, b.body)
	}
	if n := e.simRequestsFor(orgs[2]); n != 1 {
		t.Fatalf("idempotent create: %d requests at Altinn", n)
	}
	res = e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+orgs[3]+`"}`, "Idempotency-Key", "create-cust-2")
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("idempotency key, other body: %d\n%s", res.status, res.body)
	}
	// A key whose first request is still running: 409.
	k, err := e.db.APIKeyByKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ClaimIdempotencyKey(context.Background(), k.ID, "busy", db.RequestHash([]byte(`{"product":"standard","org_no":"`+orgs[4]+`","customer_ref":"","lang":"nb"}`))); err != nil {
		t.Fatal(err)
	}
	res = e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+orgs[4]+`"}`, "Idempotency-Key", "busy")
	if res.status != http.StatusConflict {
		t.Fatalf("idempotency key in progress: %d\n%s", res.status, res.body)
	}

	// Read by id; unknown and malformed ids are 404.
	res = e.api(doc, http.MethodGet, "/api/v1/onboardings/"+id, key, "")
	if res.status != http.StatusOK || res.json(t)["id"] != id {
		t.Fatalf("get: %d\n%s", res.status, res.body)
	}
	for _, p := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid"} {
		if res := e.api(doc, http.MethodGet, "/api/v1/onboardings/"+p, key, ""); res.status != http.StatusNotFound {
			t.Fatalf("get %s: %d", p, res.status)
		}
	}

	// Clients: an unknown onboarding and one not of kind agent are 404.
	for _, p := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid", id} {
		if res := e.api(doc, http.MethodGet, "/api/v1/onboardings/"+p+"/clients", key, ""); res.status != http.StatusNotFound {
			t.Fatalf("clients of %s: %d\n%s", p, res.status, res.body)
		}
	}

	// By customer reference.
	res = e.api(doc, http.MethodGet, "/api/v1/onboardings?customer_ref=cust-2", key, "")
	if items := res.json(t)["items"].([]any); res.status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["org_no"] != orgs[2] {
		t.Fatalf("by customer ref: %d\n%s", res.status, res.body)
	}
	res = e.api(doc, http.MethodGet, "/api/v1/onboardings?customer_ref=none", key, "")
	if items := res.json(t)["items"].([]any); res.status != http.StatusOK || len(items) != 0 {
		t.Fatalf("by unknown customer ref: %d\n%s", res.status, res.body)
	}

	// List with filters, a page at a time.
	agent := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+orgs[5]+`","product":"agent"}`)
	// An agent onboarding not yet connected has no clients: an empty list
	// (TestClientsVendor lists some).
	res = e.api(doc, http.MethodGet, "/api/v1/onboardings/"+agent.json(t)["id"].(string)+"/clients", key, "")
	if m := res.json(t); res.status != http.StatusOK || len(m["items"].([]any)) != 0 || m["counts"].(map[string]any)["delegated"] != 0.0 {
		t.Fatalf("clients of a pending agent onboarding: %d\n%s", res.status, res.body)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		res := e.api(doc, http.MethodGet, "/api/v1/onboardings?status=pending&kind=standard&limit=1&cursor="+url.QueryEscape(cursor), key, "")
		if res.status != http.StatusOK || pages > 5 {
			t.Fatalf("list: %d\n%s", res.status, res.body)
		}
		m := res.json(t)
		for _, it := range m["items"].([]any) {
			got = append(got, it.(map[string]any)["org_no"].(string))
		}
		if cursor = m["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if want := []string{orgs[2], orgs[0]}; !slices.Equal(got, want) {
		t.Fatalf("list: got %v, want %v", got, want)
	}
	for _, q := range []string{"status=nope", "kind=nope", "limit=0", "limit=501", "limit=x", "cursor=bogus", "customer_ref=", "customer_ref=a&status=pending", "usability=maybe"} {
		if res := e.api(doc, http.MethodGet, "/api/v1/onboardings?"+q, key, ""); res.status != http.StatusBadRequest {
			t.Fatalf("list ?%s: %d\n%s", q, res.status, res.body)
		}
	}

	// Too many requests for one key: 429, as a problem document.
	limited := false
	for i := 0; i < 400 && !limited; i++ {
		res := e.api(nil, http.MethodGet, "/api/v1/onboardings/"+id, key, "")
		if res.status == http.StatusTooManyRequests {
			limited = true
			doc.check(t, res)
		}
	}
	if !limited {
		t.Fatal("no 429 after 400 requests")
	}
	// The limit is per key: another key still works, and is limited alike.
	key2 := e.createAPIKey(admin, "ERP test")
	if res := e.api(doc, http.MethodGet, "/api/v1/onboardings/"+id, key2, ""); res.status != http.StatusOK {
		t.Fatalf("second key: %d", res.status)
	}
	for _, route := range []string{"post", "get-list", "get-clients"} {
		for i := 0; i < 400; i++ {
			var res apiCall
			if route == "post" {
				res = e.api(nil, http.MethodPost, "/api/v1/onboardings", key2, `{}`) // a quick 400 until limited
			} else if route == "get-clients" {
				res = e.api(nil, http.MethodGet, "/api/v1/onboardings/"+id+"/clients", key2, "")
			} else {
				res = e.api(nil, http.MethodGet, "/api/v1/onboardings?limit=1", key2, "")
			}
			if res.status == http.StatusTooManyRequests {
				if route == "post" {
					doc.check(t, res)
				} else {
					doc.check(t, res)
				}
				break
			}
		}
	}

	if missing := doc.unseen(); len(missing) > 0 {
		t.Fatalf("documented answers no test produced: %v", missing)
	}

	// Unknown API paths are problem documents too, never pages. (With a
	// fresh key: both above are spent, and refill only at 10 a second.)
	key3 := e.createAPIKey(admin, "ERP unknown path")
	res = e.api(nil, http.MethodGet, "/api/v1/nothing", key3, "")
	if res.status != http.StatusNotFound || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown path: %d %s", res.status, res.header.Get("Content-Type"))
	}
}

// wrongCheck is a check digit that is not n's.
func wrongCheck(n string) string {
	return string(rune('0' + (n[8]-'0'+1)%10))
}

// TestAPIKeyRevokedAtOnce: a revoked key is refused on its very next
// request, and the page and audit log say who made and revoked it.
func TestAPIKeyRevokedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	admin := e.signedIn("boss@example.com")
	key := e.createAPIKey(admin, "ERP")
	if res := e.api(nil, http.MethodGet, "/api/v1/onboardings", key, ""); res.status != http.StatusOK {
		t.Fatalf("before revoking: %d\n%s", res.status, res.body)
	}
	var stored []byte
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT key_hash FROM api_keys`).Scan(&stored); err != nil || strings.Contains(string(stored), key) {
		t.Fatalf("key stored in clear (%v)", err)
	}

	list := admin.get(e.web.URL + "/admin/apikeys")
	m := regexp.MustCompile(`action="(/admin/apikeys/\d+/revoke)"`).FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("no revoke form:\n%s", list.body)
	}
	// Without a CSRF token the revoke is refused.
	if res := admin.post(e.web.URL+m[1], url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("revoke without CSRF: %d", res.status)
	}
	res := admin.post(e.web.URL+m[1], url.Values{"_csrf": {csrfOf(t, list)}})
	if res.status != http.StatusSeeOther || res.location != "/admin/apikeys?done=revoked" {
		t.Fatalf("revoke: %d %q\n%s", res.status, res.location, res.body)
	}
	if res := e.api(nil, http.MethodGet, "/api/v1/onboardings", key, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("after revoking: %d\n%s", res.status, res.body)
	}
	if p := admin.get(e.web.URL + "/admin/apikeys?done=revoked"); !strings.Contains(p.body, `data-testid="done"`) || strings.Contains(p.body, `data-testid="revoke"`) {
		t.Fatalf("page after revoking:\n%s", p.body)
	}
	if res := admin.post(e.web.URL+"/admin/apikeys/999999/revoke", url.Values{"_csrf": {csrfOf(t, list)}}); res.status != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", res.status)
	}
	if res := admin.post(e.web.URL+"/admin/apikeys", url.Values{"_csrf": {csrfOf(t, list)}, "name": {"  "}}); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, `data-testid="add-error"`) {
		t.Fatalf("no name: %d", res.status)
	}

	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(log) - 1; i >= 0; i-- {
		if strings.HasPrefix(log[i].Action, "apikey.") {
			actions = append(actions, log[i].Actor+" "+log[i].Action+" "+fmt.Sprint(log[i].Detail["name"]))
		}
	}
	if want := []string{"boss@example.com apikey.create ERP", "boss@example.com apikey.revoke ERP"}; !slices.Equal(actions, want) {
		t.Fatalf("audit: %v, want %v", actions, want)
	}
}

// TestAPIKeysNeedAnAdmin: viewers and operators can neither see, create
// nor revoke API keys.
func TestAPIKeysNeedAnAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(e.signedIn("boss@example.com"), "ERP")
	e.addStaff("vic@example.com", string(domain.RoleViewer))
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	for _, who := range []string{"vic@example.com", "olga@example.com"} {
		b := e.signedIn(who)
		home := b.get(e.web.URL + "/admin/")
		if strings.Contains(home.body, `data-testid="nav-apikeys"`) {
			t.Fatalf("%s sees the API keys link", who)
		}
		csrf := csrfOf(t, home)
		if res := b.get(e.web.URL + "/admin/apikeys"); res.status != http.StatusForbidden {
			t.Fatalf("%s GET: %d", who, res.status)
		}
		if res := b.post(e.web.URL+"/admin/apikeys", url.Values{"_csrf": {csrf}, "name": {"mine"}}); res.status != http.StatusForbidden {
			t.Fatalf("%s create: %d", who, res.status)
		}
		if res := b.post(e.web.URL+"/admin/apikeys/1/revoke", url.Values{"_csrf": {csrf}}); res.status != http.StatusForbidden {
			t.Fatalf("%s revoke: %d", who, res.status)
		}
	}
	keys, err := e.db.ListAPIKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].RevokedAt != nil {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if res := e.api(nil, http.MethodGet, "/api/v1/onboardings", key, ""); res.status != http.StatusOK {
		t.Fatalf("key after refused revoke: %d", res.status)
	}
}
