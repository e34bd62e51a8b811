package altinn

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// target is an endpoint as the error table calls it.
type target struct {
	method, path, scope string
	body                string // the JSON body the call sends, if any
	call                func(context.Context, *Client) error
}

var (
	createBody = `{"systemId":"991825827_lonn","partyOrgNo":"313588270","accessPackages":[{"urn":"urn:altinn:accesspackage:regnskapsforer-lonn"}],"redirectUrl":"https://onboard.example/return?state=abc123"}`
	toCreate   = target{"POST", base + "request/vendor", ScopeRequestWrite, createBody, func(ctx context.Context, c *Client) error {
		_, _, err := c.CreateRequest(ctx, CreateRequest{
			SystemID: systemID, PartyOrgNo: orgNo, RedirectURL: redirectURL,
			AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		})
		return err
	}}
	agentBody     = `{"systemId":"991825827_lonn","partyOrgNo":"313588270","accessPackages":[{"urn":"urn:altinn:accesspackage:regnskapsforer-lonn"}]}`
	toCreateAgent = target{"POST", base + "request/vendor/agent", ScopeRequestWrite, agentBody, func(ctx context.Context, c *Client) error {
		_, _, err := c.CreateAgentRequest(ctx, CreateAgentRequest{
			SystemID: systemID, PartyOrgNo: orgNo,
			AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		})
		return err
	}}
	toGet = target{"GET", base + "request/vendor/" + requestID, ScopeRequestRead, "", func(ctx context.Context, c *Client) error {
		_, err := c.GetRequest(ctx, requestID)
		return err
	}}
	toGetAgent = target{"GET", base + "request/vendor/agent/" + requestID, ScopeRequestRead, "", func(ctx context.Context, c *Client) error {
		_, err := c.GetAgentRequest(ctx, requestID)
		return err
	}}
	toByRef = target{"GET", base + "request/vendor/byexternalref/991825827_lonn/313588270/313588270", ScopeRequestRead, "", func(ctx context.Context, c *Client) error {
		_, err := c.GetRequestByExternalRef(ctx, systemID, orgNo, "")
		return err
	}}
	toAgentByRef = target{"GET", base + "request/vendor/agent/byexternalref/991825827_lonn/313588270/313588270", ScopeRequestRead, "", func(ctx context.Context, c *Client) error {
		_, err := c.GetAgentRequestByExternalRef(ctx, systemID, orgNo, "")
		return err
	}}
	toDelete = target{"DELETE", base + "request/vendor/" + requestID, ScopeRequestWrite, "", func(ctx context.Context, c *Client) error {
		return c.DeleteRequest(ctx, requestID)
	}}
	toByQuery = target{"GET", base + "vendor/byquery", ScopeRequestWrite, "", func(ctx context.Context, c *Client) error {
		_, err := c.SystemUserByQuery(ctx, systemID, orgNo, "")
		return err
	}}
	toList = target{"GET", base + "vendor/bysystem/991825827_lonn", ScopeSystemRegisterWrite, "", func(ctx context.Context, c *Client) error {
		_, err := c.ListSystemUsers(ctx, systemID)
		return err
	}}
)

const traceID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"

// altinnProblem returns the problem+json body Altinn sends for code, with
// extension members given as key/value pairs.
func altinnProblem(status int, code, title string, ext ...string) string {
	s := `{"type":"urn:altinn:error:` + code + `","title":"` + title + `","status":` + strconv.Itoa(status) +
		`,"code":"` + code + `","traceId":"` + traceID + `"`
	for i := 0; i+1 < len(ext); i += 2 {
		s += `,"` + ext[i] + `":"` + ext[i+1] + `"`
	}
	return s + "}"
}

// want is the Problem altinnProblem describes.
func want(status int, code, title string, ext ...string) *Problem {
	p := &Problem{Status: status, Type: "urn:altinn:error:" + code, Title: title, Code: code, TraceID: traceID}
	for i := 0; i+1 < len(ext); i += 2 {
		if p.Extensions == nil {
			p.Extensions = map[string]string{}
		}
		p.Extensions[ext[i]] = ext[i+1]
	}
	return p
}

var problemJSON = map[string]string{"Content-Type": "application/problem+json; charset=utf-8"}

func TestErrors(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	sentinels := []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrUnavailable, ErrMalformed}

	tests := []struct {
		name    string
		target  target
		status  int
		header  map[string]string
		resp    string
		block   bool          // the server never answers; the call times out
		want    *Problem      // the *Problem expected; nil when the error is not one
		wantIs  []error       // sentinels (and others) the error must match
		wantMsg string        // exact Error(), when set
		hits    int           // requests expected; default 1, or 2 for a 401
		timeout time.Duration // for the call's context; default none
	}{
		// POST request/vendor (contract §3.1).
		{
			name: "create AUTH-00004 system user exists", target: toCreate, status: 400, header: problemJSON,
			resp:    altinnProblem(400, "AUTH-00004", "The system user already exists"),
			want:    want(400, "AUTH-00004", "The system user already exists"),
			wantMsg: "altinn: 400 AUTH-00004: The system user already exists",
		},
		{
			name: "create AUTH-00011 system not found or not owned", target: toCreate, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00011", "The system id does not exist"),
			want:   want(404, "AUTH-00011", "The system id does not exist"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "create AUTH-00021 redirect url mismatch", target: toCreate, status: 400, header: problemJSON,
			resp: `{"type":"urn:altinn:error:AUTH-00021","title":"The RedirectUri field is not valid","status":400,"detail":"https://onboard.example/return is not registered","code":"AUTH-00021","traceId":"` + traceID + `"}`,
			want: &Problem{Status: 400, Type: "urn:altinn:error:AUTH-00021", Title: "The RedirectUri field is not valid",
				Detail: "https://onboard.example/return is not registered", Code: "AUTH-00021", TraceID: traceID},
			wantMsg: "altinn: 400 AUTH-00021: The RedirectUri field is not valid: https://onboard.example/return is not registered",
		},
		{
			name: "create AUTH-00026 no redirect urls registered", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00026", "The system has no registered redirect URLs"),
			want: want(400, "AUTH-00026", "The system has no registered redirect URLs"),
		},
		{
			name: "create AUTH-00001 rights not on system", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00001", "One or more Right not found or not delegable"),
			want: want(400, "AUTH-00001", "One or more Right not found or not delegable"),
		},
		{
			name: "create AUTH-00059 neither rights nor packages", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00059", "Rights and access packages are both empty"),
			want: want(400, "AUTH-00059", "Rights and access packages are both empty"),
		},
		{
			name: "create AUTH-00000 party not found", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00000", "The party could not be found"),
			want: want(400, "AUTH-00000", "The party could not be found"),
		},
		{
			name: "create AUTH-00063 with NotFoundPackages", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00063", "The access package is not registered on the system",
				"NotFoundPackages", "urn:altinn:accesspackage:a,urn:altinn:accesspackage:b"),
			want: want(400, "AUTH-00063", "The access package is not registered on the system",
				"NotFoundPackages", "urn:altinn:accesspackage:a,urn:altinn:accesspackage:b"),
			wantMsg: "altinn: 400 AUTH-00063: The access package is not registered on the system [NotFoundPackages: urn:altinn:accesspackage:a,urn:altinn:accesspackage:b]",
		},
		{
			name: "create AUTH-00063 without extension", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00063", "The access package is not registered on the system"),
			want: want(400, "AUTH-00063", "The access package is not registered on the system"),
		},
		{
			name: "create AUTH-00064 with NotDelegablePackages", target: toCreate, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00064", "The access package cannot be delegated",
				"NotDelegablePackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
			want: want(400, "AUTH-00064", "The access package cannot be delegated",
				"NotDelegablePackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
		},
		{
			name: "create AUTH-00023 no consumer in token", target: toCreate, status: 401, header: problemJSON,
			resp:   altinnProblem(401, "AUTH-00023", "Could not read the vendor organisation from the token"),
			want:   want(401, "AUTH-00023", "Could not read the vendor organisation from the token"),
			wantIs: []error{ErrUnauthorized}, hits: 2,
		},
		{
			name: "create code only in type", target: toCreate, status: 400, header: problemJSON,
			resp: `{"type":"urn:altinn:error:AUTH-00021","title":"The RedirectUri field is not valid","status":400}`,
			want: &Problem{Status: 400, Type: "urn:altinn:error:AUTH-00021", Title: "The RedirectUri field is not valid", Code: "AUTH-00021"},
		},
		{
			name: "create problem as application/json with statusDescription", target: toCreate, status: 400,
			resp: `{"type":"urn:altinn:error:AUTH-00000","title":"The party could not be found","status":400,"statusDescription":"Bad Request","code":"AUTH-00000","traceId":"` + traceID + `","instance":"/authentication/api/v1/systemuser/request/vendor"}`,
			want: &Problem{Status: 400, Type: "urn:altinn:error:AUTH-00000", Title: "The party could not be found", Code: "AUTH-00000", TraceID: traceID,
				Extensions: map[string]string{"statusDescription": "Bad Request", "instance": "/authentication/api/v1/systemuser/request/vendor"}},
			wantMsg: "altinn: 400 AUTH-00000: The party could not be found",
		},
		{
			name: "create plain-text 400", target: toCreate, status: 400,
			header:  map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			resp:    "Invalid request body:\n systemId is required",
			want:    &Problem{Status: 400, Body: "Invalid request body:\n systemId is required"},
			wantMsg: "altinn: 400: Invalid request body: systemId is required",
		},
		{
			name: "create ASP.NET validation 400", target: toCreate, status: 400, header: problemJSON,
			resp: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,` +
				`"errors":{"PartyOrgNo":["The PartyOrgNo field is required."],"$.rights":["The JSON value could not be converted.","Second."]},"traceId":"` + traceID + `"}`,
			want: &Problem{Status: 400, Type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", Title: "One or more validation errors occurred.", TraceID: traceID,
				Errors: map[string][]string{"PartyOrgNo": {"The PartyOrgNo field is required."}, "$.rights": {"The JSON value could not be converted.", "Second."}}},
			wantMsg: "altinn: 400: One or more validation errors occurred. [$.rights: The JSON value could not be converted. Second.] [PartyOrgNo: The PartyOrgNo field is required.]",
		},
		{
			name: "create Altinn-style validationErrors list", target: toCreate, status: 400, header: problemJSON,
			resp: `{"type":"urn:altinn:error:STD-00000","title":"One or more validation errors occurred.","status":400,"code":"STD-00000",` +
				`"validationErrors":[{"code":"STD-00001","title":"Required field is missing","paths":["/systemId"]}]}`,
			want: &Problem{Status: 400, Type: "urn:altinn:error:STD-00000", Title: "One or more validation errors occurred.", Code: "STD-00000",
				Errors:     map[string][]string{"/systemId": {"STD-00001: Required field is missing"}},
				Validation: []ValidationError{{Code: "STD-00001", Title: "Required field is missing", Paths: []string{"/systemId"}}}},
		},
		{
			name: "create 500", target: toCreate, status: 500, header: problemJSON,
			resp: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"traceId":"` + traceID + `"}`,
			want: &Problem{Status: 500, Type: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
				Title: "An error occurred while processing your request.", TraceID: traceID},
			wantIs:  []error{ErrUnavailable},
			wantMsg: "altinn: 500: An error occurred while processing your request.",
		},
		{
			name: "create 502 html from gateway", target: toCreate, status: 502,
			header:  map[string]string{"Content-Type": "text/html"},
			resp:    "<html><body><h1>502 Bad Gateway</h1></body></html>",
			want:    &Problem{Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
			wantIs:  []error{ErrUnavailable},
			wantMsg: "altinn: 502: <html><body><h1>502 Bad Gateway</h1></body></html>",
		},
		{
			name: "create 429 with Retry-After seconds", target: toCreate, status: 429,
			header:  map[string]string{"Retry-After": "120"},
			want:    &Problem{Status: 429, RetryAfter: 2 * time.Minute},
			wantIs:  []error{ErrUnavailable},
			wantMsg: "altinn: 429: Too Many Requests",
		},
		{
			name: "get 503 with Retry-After date", target: toGet, status: 503,
			header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			want:   &Problem{Status: 503, RetryAfter: 90 * time.Second},
			wantIs: []error{ErrUnavailable},
		},
		{
			name: "create malformed 201", target: toCreate, status: 201,
			header: map[string]string{"Content-Type": "text/html"}, resp: "<html>created</html>",
			wantIs: []error{ErrMalformed},
		},

		// POST request/vendor/agent (contract §3.2).
		{
			name: "agent AUTH-00058 no packages", target: toCreateAgent, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00058", "An agent request needs access packages"),
			want: want(400, "AUTH-00058", "An agent request needs access packages"),
		},
		{
			name: "agent AUTH-00065 not client-delegable", target: toCreateAgent, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00065", "The access package is not delegable to clients",
				"NotDelegablePackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
			want: want(400, "AUTH-00065", "The access package is not delegable to clients",
				"NotDelegablePackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
		},
		{
			name: "agent AUTH-00063 with NotFoundPackages", target: toCreateAgent, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00063", "The access package is not registered on the system",
				"NotFoundPackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
			want: want(400, "AUTH-00063", "The access package is not registered on the system",
				"NotFoundPackages", "urn:altinn:accesspackage:regnskapsforer-lonn"),
		},
		{
			name: "agent AUTH-00004", target: toCreateAgent, status: 400, header: problemJSON,
			resp: altinnProblem(400, "AUTH-00004", "The system user already exists"),
			want: want(400, "AUTH-00004", "The system user already exists"),
		},

		// GET request/vendor/... (contract §3.3).
		{
			name: "get AUTH-00010 not found", target: toGet, status: 404, header: problemJSON,
			resp:    altinnProblem(404, "AUTH-00010", "The request was not found"),
			want:    want(404, "AUTH-00010", "The request was not found"),
			wantIs:  []error{ErrNotFound},
			wantMsg: "altinn: 404 AUTH-00010: The request was not found",
		},
		{
			name: "get AUTH-00011 not the vendor's system", target: toGet, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00011", "The system id does not exist"),
			want:   want(404, "AUTH-00011", "The system id does not exist"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "get bare 401 generic problem", target: toGet, status: 401, header: problemJSON,
			resp:   `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"Unauthorized","status":401,"traceId":"` + traceID + `"}`,
			want:   &Problem{Status: 401, Type: "https://tools.ietf.org/html/rfc9110#section-15.5.2", Title: "Unauthorized", TraceID: traceID},
			wantIs: []error{ErrUnauthorized}, hits: 2,
			wantMsg: "altinn: 401: Unauthorized",
		},
		{
			name: "get 400 binding error for non-GUID id", target: toGet, status: 400, header: problemJSON,
			resp: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"requestId":["The value 'x' is not valid."]},"traceId":"` + traceID + `"}`,
			want: &Problem{Status: 400, Type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", Title: "One or more validation errors occurred.", TraceID: traceID,
				Errors: map[string][]string{"requestId": {"The value 'x' is not valid."}}},
		},
		{
			name: "get malformed JSON", target: toGet, status: 200, resp: `{"id":"4b5f5d8e",`,
			wantIs: []error{ErrMalformed},
		},
		{
			name: "get 200 without id", target: toGet, status: 200, resp: `{}`,
			wantIs: []error{ErrMalformed},
		},
		{
			name: "get wrong type for a field", target: toGet, status: 200, resp: `{"id":"a","rights":"all"}`,
			wantIs: []error{ErrMalformed},
		},
		{
			name: "get timeout", target: toGet, block: true, timeout: 100 * time.Millisecond,
			wantIs: []error{context.DeadlineExceeded},
		},
		{
			name: "get agent AUTH-00010 (a standard request id)", target: toGetAgent, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00010", "The request was not found"),
			want:   want(404, "AUTH-00010", "The request was not found"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "byexternalref AUTH-00010", target: toByRef, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00010", "The request was not found"),
			want:   want(404, "AUTH-00010", "The request was not found"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "agent byexternalref AUTH-00011", target: toAgentByRef, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00011", "The system id does not exist"),
			want:   want(404, "AUTH-00011", "The system id does not exist"),
			wantIs: []error{ErrNotFound},
		},

		// DELETE request/vendor/{id} (contract §3.4).
		{
			name: "delete AUTH-00010", target: toDelete, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00010", "The request was not found"),
			want:   want(404, "AUTH-00010", "The request was not found"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "delete 403 empty (missing scope)", target: toDelete, status: 403,
			want:    &Problem{Status: 403},
			wantIs:  []error{ErrForbidden},
			wantMsg: "altinn: 403: Forbidden",
		},
		{
			name: "delete timeout", target: toDelete, block: true, timeout: 100 * time.Millisecond,
			wantIs: []error{context.DeadlineExceeded},
		},

		// GET systemuser/vendor/byquery (contract §6).
		{
			name: "byquery bare 404 generic problem", target: toByQuery, status: 404, header: problemJSON,
			resp:    `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not Found","status":404,"traceId":"` + traceID + `"}`,
			want:    &Problem{Status: 404, Type: "https://tools.ietf.org/html/rfc9110#section-15.5.5", Title: "Not Found", TraceID: traceID},
			wantIs:  []error{ErrNotFound},
			wantMsg: "altinn: 404: Not Found",
		},
		{
			name: "byquery bare 401 empty with WWW-Authenticate", target: toByQuery, status: 401,
			header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="The token expired"`},
			want:   &Problem{Status: 401},
			wantIs: []error{ErrUnauthorized}, hits: 2,
			wantMsg: "altinn: 401: Unauthorized",
		},
		{
			name: "byquery 400 missing orgno", target: toByQuery, status: 400, header: problemJSON,
			resp: `{"title":"One or more validation errors occurred.","status":400,"errors":{"orgno":"The orgno field is required."}}`,
			want: &Problem{Status: 400, Title: "One or more validation errors occurred.",
				Errors: map[string][]string{"orgno": {"The orgno field is required."}}},
		},
		{
			name: "byquery empty 200", target: toByQuery, status: 200,
			wantIs: []error{ErrMalformed},
		},

		// GET systemuser/vendor/bysystem/{systemId} (contract §6).
		{
			name: "list AUTH-00011", target: toList, status: 404, header: problemJSON,
			resp:   altinnProblem(404, "AUTH-00011", "The system id does not exist"),
			want:   want(404, "AUTH-00011", "The system id does not exist"),
			wantIs: []error{ErrNotFound},
		},
		{
			name: "list malformed data", target: toList, status: 200, resp: `{"links":{},"data":{"id":"x"}}`,
			wantIs: []error{ErrMalformed},
		},
		{
			name: "list item without id", target: toList, status: 200, resp: `{"links":{},"data":[{"systemId":"x"}]}`,
			wantIs: []error{ErrMalformed},
		},
		{
			name: "list 500", target: toList, status: 500,
			want:   &Problem{Status: 500},
			wantIs: []error{ErrUnavailable},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := exchange{
				method: tc.target.method, path: tc.target.path, token: token(0, tc.target.scope), body: tc.target.body,
				status: tc.status, header: tc.header, resp: tc.resp, block: tc.block,
			}
			if tc.target.path == base+"vendor/byquery" {
				x.query = map[string][]string{"system-id": {systemID}, "orgno": {orgNo}}
			}
			want := []exchange{x}
			if tc.status == http.StatusUnauthorized {
				retry := x
				retry.token = token(1, tc.target.scope)
				want = append(want, retry)
			}
			if tc.hits != 0 && tc.hits != len(want) {
				t.Fatalf("bad test: hits %d, but %d exchanges", tc.hits, len(want))
			}
			f := newFakeAltinn(t, want...)
			c, tokens := f.client()
			c.now = func() time.Time { return now }

			ctx := t.Context()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			err := tc.target.call(ctx, c)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "altinn: ") {
				t.Errorf("error %q lacks the altinn: prefix", msg)
			}
			if strings.Contains(msg, "tok0") || strings.Contains(msg, "tok1") {
				t.Errorf("error %q holds the bearer token", msg)
			}
			if tc.wantMsg != "" && msg != tc.wantMsg {
				t.Errorf("Error() = %q\n          want %q", msg, tc.wantMsg)
			}
			for _, target := range tc.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			for _, s := range sentinels {
				if !slices.Contains(tc.wantIs, s) && errors.Is(err, s) {
					t.Errorf("errors.Is(%v, %v) = true, want false", err, s)
				}
			}
			var p *Problem
			if isProblem := errors.As(err, &p); isProblem != (tc.want != nil) {
				t.Fatalf("errors.As(%v, *Problem) = %v, want %v", err, isProblem, tc.want != nil)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, p); diff != "" {
					t.Errorf("Problem (-want +got):\n%s", diff)
				}
			}
			_, invalidated := tokens.calls()
			if wantInv := len(want) - 1; len(invalidated) != wantInv {
				t.Errorf("Invalidate called %d times, want %d", len(invalidated), wantInv)
			}
		})
	}
}

func TestTransportErrorNamesCall(t *testing.T) {
	f := newFakeAltinn(t, exchange{method: "POST", path: base + "request/vendor", token: writeTok, body: createBody, block: true})
	c, _ := f.client()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := toCreate.call(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if want := "altinn: POST request/vendor: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

func TestProblemRedactsToken(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "GET", path: base + "request/vendor/" + requestID, token: readTok,
		status: 400, header: map[string]string{"Content-Type": "text/plain"},
		resp: "bad header: Authorization: Bearer " + readTok,
	})
	c, _ := f.client()
	_, err := c.GetRequest(t.Context(), requestID)
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a *Problem", err)
	}
	if strings.Contains(p.Body, "tok0") || strings.Contains(err.Error(), "tok0") {
		t.Errorf("token leaked: Body %q, Error %q", p.Body, err)
	}
	if want := "bad header: Authorization: Bearer [REDACTED]"; p.Body != want {
		t.Errorf("Body = %q, want %q", p.Body, want)
	}
}

func TestProblemBodyTruncated(t *testing.T) {
	long := strings.Repeat("ø", 3000) // 6000 bytes
	p := parseProblem(400, http.Header{}, []byte(long), time.Now())
	if len(p.Body) > 4096 || !strings.HasPrefix(long, p.Body) || len(p.Body) < 4094 {
		t.Errorf("Body has %d bytes, want a valid prefix of at most 4096", len(p.Body))
	}
	if msg := p.Error(); len([]rune(msg)) > 220 {
		t.Errorf("Error() has %d runes; the body should be cut", len([]rune(msg)))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"7", 7 * time.Second},
		{" 30 ", 30 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"99999999999999999999", 0},
		{"9999999999999", time.Duration(1<<63 - 1).Truncate(time.Second)},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestSpecificCode(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{`{"status":400,"code":"STD-00000","validationErrors":[{"code":"AUTH.VLD-00014","detail":"System user not found"}]}`, "AUTH.VLD-00014"},
		{`{"status":400,"code":"AUTH-00079","title":"Client not found"}`, "AUTH-00079"},
		{`{"status":400}`, ""},
	}
	for _, tt := range tests {
		p := parseProblem(400, http.Header{}, []byte(tt.body), time.Now())
		if got := p.SpecificCode(); got != tt.want {
			t.Errorf("%s: SpecificCode = %q, want %q", tt.body, got, tt.want)
		}
	}
}
