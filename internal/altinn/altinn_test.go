package altinn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeTokens is a TokenSource whose tokens name their generation and scope,
// "tok<gen>:<scope>", so that a test server can check both from the
// Authorization header. Invalidate starts a new generation.
type fakeTokens struct {
	mu          sync.Mutex
	gen         int
	asked       []string // scopes of each Token call, space-joined
	invalidated []string // scopes of each Invalidate call, space-joined
	err         error    // returned by Token when set
}

func (f *fakeTokens) Token(_ context.Context, scopes ...string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(scopes, " ")
	f.asked = append(f.asked, s)
	if f.err != nil {
		return "", f.err
	}
	return token(f.gen, s), nil
}

func (f *fakeTokens) Invalidate(scopes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, strings.Join(scopes, " "))
	f.gen++
}

func (f *fakeTokens) calls() (asked, invalidated []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...), append([]string(nil), f.invalidated...)
}

func token(gen int, scope string) string { return fmt.Sprintf("tok%d:%s", gen, scope) }

// exchange is one request the test server expects and its canned answer.
type exchange struct {
	method string
	path   string     // escaped path
	query  url.Values // nil: no query
	token  string     // expected bearer token
	body   string     // expected JSON body; "" means no body

	status int
	header map[string]string
	resp   string // "{{base}}" and "{{host}}" are replaced by the server's URL and host:port

	// block, when set, makes the handler wait for the client to give up.
	block bool
}

// fakeAltinn serves the exchanges in order and fails the test on any
// request that does not match, or on exchanges left unserved.
type fakeAltinn struct {
	t   *testing.T
	srv *httptest.Server

	mu   sync.Mutex
	want []exchange
	hits int
}

func newFakeAltinn(t *testing.T, want ...exchange) *fakeAltinn {
	t.Helper()
	f := &fakeAltinn{t: t, want: want}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		if n := f.count(); n < len(f.want) {
			t.Errorf("server got %d requests, want %d", n, len(f.want))
		}
	})
	return f
}

func (f *fakeAltinn) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *fakeAltinn) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	f.mu.Lock()
	i := f.hits
	f.hits++
	f.mu.Unlock()
	if i >= len(f.want) {
		t.Errorf("unexpected request %d: %s %s", i+1, r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	x := f.want[i]
	if r.Method != x.method {
		t.Errorf("request %d: method = %s, want %s", i+1, r.Method, x.method)
	}
	if got := r.URL.EscapedPath(); got != x.path {
		t.Errorf("request %d: path = %s, want %s", i+1, got, x.path)
	}
	if diff := cmp.Diff(x.query, nilIfEmpty(r.URL.Query())); diff != "" {
		t.Errorf("request %d: query (-want +got):\n%s", i+1, diff)
	}
	for h, want := range map[string]string{
		"Authorization": "Bearer " + x.token,
		"Accept":        "application/json",
		"User-Agent":    "onboard/1",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("request %d: %s = %q, want %q", i+1, h, got, want)
		}
	}
	body, _ := io.ReadAll(r.Body)
	if x.body == "" {
		if len(body) != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("request %d: unexpected body %q (Content-Type %q)", i+1, body, r.Header.Get("Content-Type"))
		}
	} else {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("request %d: Content-Type = %q, want application/json", i+1, got)
		}
		var got, want any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("request %d: body %q is not JSON: %v", i+1, body, err)
		}
		if err := json.Unmarshal([]byte(x.body), &want); err != nil {
			t.Errorf("bad test: want body: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request %d: body (-want +got):\n%s", i+1, diff)
		}
	}
	if x.block {
		<-r.Context().Done()
		return
	}
	for k, v := range x.header {
		w.Header().Set(k, v)
	}
	if x.header["Content-Type"] == "" && x.resp != "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	status := x.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	resp := strings.ReplaceAll(x.resp, "{{base}}", f.srv.URL)
	resp = strings.ReplaceAll(resp, "{{host}}", strings.TrimPrefix(f.srv.URL, "http://"))
	io.WriteString(w, resp)
}

func nilIfEmpty(v url.Values) url.Values {
	if len(v) == 0 {
		return nil
	}
	return v
}

// client returns a Client for f with fresh fake tokens.
func (f *fakeAltinn) client() (*Client, *fakeTokens) {
	tokens := &fakeTokens{}
	return New(f.srv.URL, tokens, f.srv.Client()), tokens
}

const (
	base        = "/authentication/api/v1/systemuser/"
	systemID    = "991825827_lonn"
	orgNo       = "313588270"
	requestID   = "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11"
	redirectURL = "https://onboard.example/return?state=abc123"
)

var (
	writeTok    = token(0, ScopeRequestWrite)
	readTok     = token(0, ScopeRequestRead)
	registerTok = token(0, ScopeSystemRegisterWrite)
)

// Response bodies shaped like Altinn's RequestSystemResponse,
// AgentRequestSystemResponse and SystemUserExternalDTO (contract §2).
const (
	requestJSON = `{
  "id": "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11",
  "integrationTitle": "Lønn for Kunde AS",
  "externalRef": "313588270",
  "systemId": "991825827_lonn",
  "partyOrgNo": "313588270",
  "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
  "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}],
  "status": "New",
  "redirectUrl": "https://onboard.example/return?state=abc123",
  "confirmUrl": "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/request?id=4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11&DONTCHOOSEREPORTEE=true",
  "escalated": false,
  "created": "2024-11-15T09:36:50.451886Z",
  "timedOut": false
}`
	agentRequestJSON = `{
  "id": "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11",
  "integrationTitle": "Lønn for Kunde AS",
  "externalRef": "kunde-1",
  "systemId": "991825827_lonn",
  "partyOrgNo": "313588270",
  "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
  "status": "Accepted",
  "confirmUrl": "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/agentrequest?id=4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11&DONTCHOOSEREPORTEE=true",
  "escalated": true,
  "created": "2025-12-01T08:00:00Z",
  "timedOut": false,
  "someFutureField": {"x": 1}
}`
	systemUserJSON = `{
  "id": "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11",
  "integrationTitle": "Lønn for Kunde AS",
  "systemId": "991825827_lonn",
  "productName": "",
  "reporteeOrgNo": "313588270",
  "created": "2024-11-15T09:40:01.12Z",
  "isDeleted": false,
  "supplierName": "LØNNSLEVERANDØR AS",
  "supplierOrgno": "991825827",
  "externalRef": "313588270",
  "userType": "standard",
  "partyId": 51234567
}`
)

func wantRequest() *Request {
	return &Request{
		ID:               requestID,
		IntegrationTitle: "Lønn for Kunde AS",
		ExternalRef:      orgNo,
		SystemID:         systemID,
		PartyOrgNo:       orgNo,
		Rights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
		}}},
		AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		Status:         StatusNew,
		RedirectURL:    redirectURL,
		ConfirmURL:     "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/request?id=" + requestID + "&DONTCHOOSEREPORTEE=true",
		Created:        time.Date(2024, 11, 15, 9, 36, 50, 451886000, time.UTC),
		Raw:            json.RawMessage(requestJSON),
	}
}

func wantAgentRequest() *Request {
	return &Request{
		ID:               requestID,
		IntegrationTitle: "Lønn for Kunde AS",
		ExternalRef:      "kunde-1",
		SystemID:         systemID,
		PartyOrgNo:       orgNo,
		AccessPackages:   []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}},
		Status:           StatusAccepted,
		ConfirmURL:       "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/agentrequest?id=" + requestID + "&DONTCHOOSEREPORTEE=true",
		Escalated:        true,
		Created:          time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC),
		Agent:            true,
		Raw:              json.RawMessage(agentRequestJSON),
	}
}

func wantSystemUser(raw string) *SystemUser {
	return &SystemUser{
		ID:               requestID,
		IntegrationTitle: "Lønn for Kunde AS",
		SystemID:         systemID,
		ReporteeOrgNo:    orgNo,
		Created:          time.Date(2024, 11, 15, 9, 40, 1, 120000000, time.UTC),
		SupplierName:     "LØNNSLEVERANDØR AS",
		SupplierOrgNo:    "991825827",
		ExternalRef:      orgNo,
		UserType:         "standard",
		Raw:              json.RawMessage(raw),
	}
}

func TestCreateRequest(t *testing.T) {
	req := CreateRequest{
		SystemID:         systemID,
		PartyOrgNo:       orgNo,
		IntegrationTitle: "Lønn for Kunde AS",
		Rights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
		}}},
		AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		RedirectURL:    redirectURL,
	}
	// externalRef is left out when empty, so that Altinn defaults it.
	wantBody := `{
		"systemId": "991825827_lonn",
		"partyOrgNo": "313588270",
		"integrationTitle": "Lønn for Kunde AS",
		"rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
		"accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}],
		"redirectUrl": "https://onboard.example/return?state=abc123"
	}`
	for _, tc := range []struct {
		name    string
		status  int
		wantNew bool
	}{
		{"created", http.StatusCreated, true},
		{"existing", http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, exchange{
				method: "POST", path: base + "request/vendor", token: writeTok, body: wantBody,
				status: tc.status, resp: requestJSON,
				header: map[string]string{"Location": "https://platform.tt02.altinn.no/authentication/api/v1/systemuser/request/" + requestID},
			})
			c, tokens := f.client()
			got, isNew, err := c.CreateRequest(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if isNew != tc.wantNew {
				t.Errorf("new = %v, want %v", isNew, tc.wantNew)
			}
			if diff := cmp.Diff(wantRequest(), got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if asked, _ := tokens.calls(); !cmp.Equal(asked, []string{ScopeRequestWrite}) {
				t.Errorf("scopes asked = %q", asked)
			}
		})
	}
}

func TestCreateRequestSendsExternalRef(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "POST", path: base + "request/vendor", token: writeTok,
		body:   `{"systemId":"991825827_lonn","partyOrgNo":"313588270","externalRef":"avd-2","accessPackages":[{"urn":"urn:altinn:accesspackage:regnskapsforer-lonn"}]}`,
		status: http.StatusCreated, resp: requestJSON,
	})
	c, _ := f.client()
	_, _, err := c.CreateRequest(t.Context(), CreateRequest{
		SystemID: systemID, PartyOrgNo: orgNo, ExternalRef: "avd-2",
		AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateAgentRequest(t *testing.T) {
	req := CreateAgentRequest{
		SystemID:       systemID,
		PartyOrgNo:     orgNo,
		ExternalRef:    "kunde-1",
		AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}},
	}
	wantBody := `{
		"systemId": "991825827_lonn",
		"partyOrgNo": "313588270",
		"externalRef": "kunde-1",
		"accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]
	}`
	for _, tc := range []struct {
		name    string
		status  int
		wantNew bool
	}{
		{"created", http.StatusCreated, true},
		{"existing", http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, exchange{
				method: "POST", path: base + "request/vendor/agent", token: writeTok, body: wantBody,
				status: tc.status, resp: agentRequestJSON,
			})
			c, _ := f.client()
			got, isNew, err := c.CreateAgentRequest(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if isNew != tc.wantNew {
				t.Errorf("new = %v, want %v", isNew, tc.wantNew)
			}
			if diff := cmp.Diff(wantAgentRequest(), got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetRequest(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "GET", path: base + "request/vendor/" + requestID, token: readTok,
		resp: requestJSON,
	})
	c, _ := f.client()
	got, err := c.GetRequest(t.Context(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantRequest(), got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestGetAgentRequest(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "GET", path: base + "request/vendor/agent/" + requestID, token: readTok,
		resp: agentRequestJSON,
	})
	c, _ := f.client()
	got, err := c.GetAgentRequest(t.Context(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantAgentRequest(), got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestGetRequestByExternalRef(t *testing.T) {
	for _, tc := range []struct {
		name, externalRef, wantPath string
		agent                       bool
	}{
		{"default ref is orgNo", "", "request/vendor/byexternalref/991825827_lonn/313588270/313588270", false},
		{"explicit ref", "avd-2", "request/vendor/byexternalref/991825827_lonn/313588270/avd-2", false},
		{"ref escaped", "avd/2 ø?#", "request/vendor/byexternalref/991825827_lonn/313588270/avd%2F2%20%C3%B8%3F%23", false},
		{"dot segment escaped", "..", "request/vendor/byexternalref/991825827_lonn/313588270/%2E%2E", false},
		{"agent default ref", "", "request/vendor/agent/byexternalref/991825827_lonn/313588270/313588270", true},
		{"agent explicit ref", "kunde-1", "request/vendor/agent/byexternalref/991825827_lonn/313588270/kunde-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, want := requestJSON, wantRequest()
			if tc.agent {
				resp, want = agentRequestJSON, wantAgentRequest()
			}
			f := newFakeAltinn(t, exchange{method: "GET", path: base + tc.wantPath, token: readTok, resp: resp})
			c, _ := f.client()
			var got *Request
			var err error
			if tc.agent {
				got, err = c.GetAgentRequestByExternalRef(t.Context(), systemID, orgNo, tc.externalRef)
			} else {
				got, err = c.GetRequestByExternalRef(t.Context(), systemID, orgNo, tc.externalRef)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRequest(t *testing.T) {
	for _, status := range []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFakeAltinn(t, exchange{
				method: "DELETE", path: base + "request/vendor/" + requestID, token: writeTok,
				status: status,
			})
			c, _ := f.client()
			if err := c.DeleteRequest(t.Context(), requestID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSystemUserByQuery(t *testing.T) {
	for _, tc := range []struct {
		name, externalRef string
		wantQuery         url.Values
	}{
		{"default ref omitted", "", url.Values{"system-id": {systemID}, "orgno": {orgNo}}},
		{"explicit ref", "avd 2&x", url.Values{"system-id": {systemID}, "orgno": {orgNo}, "external-ref": {"avd 2&x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, exchange{
				method: "GET", path: base + "vendor/byquery", query: tc.wantQuery,
				token: writeTok, resp: systemUserJSON,
			})
			c, _ := f.client()
			got, err := c.SystemUserByQuery(t.Context(), systemID, orgNo, tc.externalRef)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantSystemUser(systemUserJSON), got); diff != "" {
				t.Errorf("system user (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissingArguments(t *testing.T) {
	c := New("https://platform.tt02.altinn.no", &fakeTokens{}, nil)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"GetRequest":                   func() error { _, err := c.GetRequest(ctx, ""); return err },
		"GetAgentRequest":              func() error { _, err := c.GetAgentRequest(ctx, ""); return err },
		"DeleteRequest":                func() error { return c.DeleteRequest(ctx, "") },
		"GetRequestByExternalRef":      func() error { _, err := c.GetRequestByExternalRef(ctx, "", orgNo, ""); return err },
		"GetAgentRequestByExternalRef": func() error { _, err := c.GetAgentRequestByExternalRef(ctx, systemID, "", ""); return err },
		"SystemUserByQuery":            func() error { _, err := c.SystemUserByQuery(ctx, systemID, "", ""); return err },
		"ListSystemUsers":              func() error { _, err := c.ListSystemUsers(ctx, ""); return err },
	} {
		if err := call(); err == nil || !strings.HasPrefix(err.Error(), "altinn: ") {
			t.Errorf("%s: err = %v, want an altinn: error", name, err)
		}
	}
}

func TestNewBaseURL(t *testing.T) {
	t.Run("trailing slash", func(t *testing.T) {
		f := newFakeAltinn(t, exchange{method: "GET", path: base + "request/vendor/" + requestID, token: readTok, resp: requestJSON})
		c := New(f.srv.URL+"/", &fakeTokens{}, f.srv.Client())
		if _, err := c.GetRequest(t.Context(), requestID); err != nil {
			t.Fatal(err)
		}
	})
	for _, bad := range []string{"", "platform.tt02.altinn.no", "ftp://x", "https://x/?a=b", "https://%zz"} {
		t.Run("bad "+bad, func(t *testing.T) {
			c := New(bad, &fakeTokens{}, nil)
			if _, err := c.GetRequest(t.Context(), requestID); err == nil || !strings.HasPrefix(err.Error(), "altinn: base URL") {
				t.Errorf("err = %v, want a base URL error", err)
			}
		})
	}
	t.Run("nil tokens", func(t *testing.T) {
		c := New("https://platform.tt02.altinn.no", nil, nil)
		if err := c.DeleteRequest(t.Context(), requestID); err == nil {
			t.Error("no error with nil TokenSource")
		}
	})
	t.Run("default http client", func(t *testing.T) {
		c := New("https://platform.tt02.altinn.no", &fakeTokens{}, nil)
		if c.hc == nil || c.timeout != 30*time.Second {
			t.Errorf("default client = %+v with calls bounded at %v, want 30 s", c.hc, c.timeout)
		}
	})
}

func TestRetryOnceOn401(t *testing.T) {
	unauthorized := exchange{
		method: "POST", path: base + "request/vendor", token: writeTok,
		body:   `{"systemId":"991825827_lonn","partyOrgNo":"313588270","rights":[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}]}`,
		status: http.StatusUnauthorized,
		header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`},
	}
	retry := unauthorized
	retry.token = token(1, ScopeRequestWrite)
	req := CreateRequest{SystemID: systemID, PartyOrgNo: orgNo, Rights: []Right{{Resource: []AttributePair{
		{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
	}}}}

	t.Run("second attempt succeeds", func(t *testing.T) {
		ok := retry
		ok.status, ok.header, ok.resp = http.StatusCreated, nil, requestJSON
		f := newFakeAltinn(t, unauthorized, ok)
		c, tokens := f.client()
		got, isNew, err := c.CreateRequest(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !isNew || got.ID != requestID {
			t.Errorf("got %v, %v", got, isNew)
		}
		asked, invalidated := tokens.calls()
		if diff := cmp.Diff([]string{ScopeRequestWrite, ScopeRequestWrite}, asked); diff != "" {
			t.Errorf("Token calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{ScopeRequestWrite}, invalidated); diff != "" {
			t.Errorf("Invalidate calls (-want +got):\n%s", diff)
		}
	})

	t.Run("second 401 is returned", func(t *testing.T) {
		f := newFakeAltinn(t, unauthorized, retry)
		c, tokens := f.client()
		_, _, err := c.CreateRequest(t.Context(), req)
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
		if _, invalidated := tokens.calls(); len(invalidated) != 1 {
			t.Errorf("Invalidate called %d times, want 1", len(invalidated))
		}
		if n := f.count(); n != 2 {
			t.Errorf("server got %d requests, want 2", n)
		}
	})
}

func TestTokenError(t *testing.T) {
	f := newFakeAltinn(t) // no request expected
	c, tokens := f.client()
	tokens.err = errors.New("maskinporten: token endpoint returned 400 invalid_client")
	_, err := c.GetRequest(t.Context(), requestID)
	if err == nil || !errors.Is(err, tokens.err) {
		t.Fatalf("err = %v, want the token error wrapped", err)
	}
	if want := "altinn: GET request/vendor/{id}: get token: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

func TestExpired(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Request
		want bool
	}{
		{"new", &Request{Status: StatusNew}, false},
		{"accepted", &Request{Status: StatusAccepted}, false},
		{"legacy status", &Request{Status: StatusTimedout}, true},
		{"timedOut flag", &Request{Status: StatusNew, TimedOut: true}, true},
		{"flag on accepted", &Request{Status: StatusAccepted, TimedOut: true}, true},
		{"nil", nil, false},
	} {
		if got := tc.r.Expired(); got != tc.want {
			t.Errorf("%s: Expired() = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Both signals as they arrive on the wire.
	for _, body := range []string{
		`{"id":"a","status":"Timedout","created":"2025-01-01T00:00:00Z"}`,
		`{"id":"a","status":"Accepted","timedOut":true}`,
	} {
		var r Request
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Expired() {
			t.Errorf("%s: Expired() = false", body)
		}
	}
}

func TestCreatedTolerated(t *testing.T) {
	for _, tc := range []struct {
		created string // JSON value, or "" to leave the member out
		want    time.Time
	}{
		{`"2024-11-15T09:36:50.451886Z"`, time.Date(2024, 11, 15, 9, 36, 50, 451886000, time.UTC)},
		{`"2024-11-15T10:36:50.4518+01:00"`, time.Date(2024, 11, 15, 9, 36, 50, 451800000, time.UTC)},
		{`"2024-11-15T09:36:50Z"`, time.Date(2024, 11, 15, 9, 36, 50, 0, time.UTC)},
		{`"2024-11-15T09:36:50.1234567"`, time.Date(2024, 11, 15, 9, 36, 50, 123456700, time.UTC)},
		{`"0001-01-01T00:00:00"`, time.Time{}},
		{`"0001-01-01T00:00:00Z"`, time.Time{}},
		{``, time.Time{}},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
		{`"yesterday"`, time.Time{}},
		{`1731663410`, time.Time{}},
		{`{"ticks":1}`, time.Time{}},
	} {
		member := ""
		if tc.created != "" {
			member = `,"created":` + tc.created
		}
		var r Request
		if err := json.Unmarshal([]byte(`{"id":"a","status":"New"`+member+`}`), &r); err != nil {
			t.Errorf("Request with created %s: %v", tc.created, err)
		} else if !r.Created.Equal(tc.want) || r.Status != StatusNew {
			t.Errorf("Request with created %s: Created = %v, Status = %q", tc.created, r.Created, r.Status)
		}
		var s SystemUser
		if err := json.Unmarshal([]byte(`{"id":"a","userType":"agent"`+member+`}`), &s); err != nil {
			t.Errorf("SystemUser with created %s: %v", tc.created, err)
		} else if !s.Created.Equal(tc.want) || s.UserType != "agent" {
			t.Errorf("SystemUser with created %s: Created = %v, UserType = %q", tc.created, s.Created, s.UserType)
		}
	}

	// And through the client, from an old server.
	old := `{"id":"4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11","status":"Accepted","created":"0001-01-01T00:00:00","timedOut":false}`
	f := newFakeAltinn(t, exchange{method: "GET", path: base + "request/vendor/" + requestID, token: readTok, resp: old})
	c, _ := f.client()
	r, err := c.GetRequest(t.Context(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Created.IsZero() || r.Status != StatusAccepted {
		t.Errorf("got Created %v, Status %q", r.Created, r.Status)
	}
}
