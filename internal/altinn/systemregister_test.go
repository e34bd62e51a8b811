package altinn

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	registerBase = "/authentication/api/v1/systemregister/"
	regSystemID  = "991825827_smartcloud"
)

// systemBody is what a PUT or POST of testSystem sends: every list present.
const systemBody = `{"id":"991825827_smartcloud","vendor":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"},
 "name":{"nb":"SmartCloud","nn":"SmartCloud","en":"SmartCloud"},"description":{"nb":"Regnskap","nn":"Rekneskap","en":"Accounting"},
 "rights":[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}],
 "accessPackages":[{"urn":"urn:altinn:accesspackage:skattegrunnlag"}],
 "clientId":["onboard-client"],"isVisible":false,"allowedRedirectUrls":["https://onboard.example/return"]}`

func testSystem() RegisteredSystem {
	return RegisteredSystem{
		ID:          regSystemID,
		Vendor:      Vendor{ID: "0192:991825827"},
		Name:        map[string]string{"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
		Description: map[string]string{"nb": "Regnskap", "nn": "Rekneskap", "en": "Accounting"},
		Rights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"}}}},
		AccessPackages:      []AccessPackage{{URN: "urn:altinn:accesspackage:skattegrunnlag"}},
		ClientIDs:           []string{"onboard-client"},
		AllowedRedirectURLs: []string{"https://onboard.example/return"},
	}
}

// The validation 400 as systemregister.md §3 shows it, with two codes.
const vldProblem = `{"type":"urn:altinn:error:STD-00000","title":"One or more validation errors occurred.","status":400,
 "code":"STD-00000","statusDescription":"Bad Request","traceId":"00-abc-01",
 "validationErrors":[
  {"code":"AUTH.VLD-00018","title":"Client-only packages need isVisible false","paths":["/registersystemrequest/accesspackages"],
   "Invalid Urn Details : ":"urn:altinn:accesspackage:regnskapsforer-lonn"},
  {"code":"AUTH.VLD-00004","title":"ClientId already used","paths":["/registersystemrequest/clientid"]}]}`

func TestGetSystem(t *testing.T) {
	t.Parallel()
	// Altinn leaves vendor.authority out; names come in any case, URLs
	// with stray blanks; a missing isVisible is Altinn's default, true.
	resp := `{"ID":"991825827_smartcloud","Vendor":{"ID":"0192:991825827"},"name":{"NB":"SmartCloud","en":" SmartCloud "},
	 "description":{"nb":"Regnskap"},"rights":[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}],
	 "accessPackages":[{"URN":"urn:altinn:accesspackage:skattegrunnlag"}],"isDeleted":false,"clientId":["onboard-client"],
	 "AllowedRedirectUrls":[" https://onboard.example/return "]}`
	f := newFakeAltinn(t, exchange{method: "GET", path: registerBase + "vendor/" + regSystemID, token: registerTok, resp: resp})
	c, _ := f.client()
	got, err := c.GetSystem(context.Background(), regSystemID)
	if err != nil {
		t.Fatal(err)
	}
	want := &RegisteredSystem{
		ID: regSystemID, Vendor: Vendor{ID: "0192:991825827"},
		Name:        map[string]string{"nb": "SmartCloud", "en": "SmartCloud"},
		Description: map[string]string{"nb": "Regnskap"},
		Rights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"}}}},
		AccessPackages:      []AccessPackage{{URN: "urn:altinn:accesspackage:skattegrunnlag"}},
		ClientIDs:           []string{"onboard-client"},
		AllowedRedirectURLs: []string{"https://onboard.example/return"},
		IsVisible:           true,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(RegisteredSystem{}, "Raw")); diff != "" {
		t.Errorf("system (-want +got):\n%s", diff)
	}
	if got.Vendor.OrgNo() != "991825827" {
		t.Errorf("OrgNo = %q", got.Vendor.OrgNo())
	}
}

func TestGetSystemVendorShapes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, json, id, authority string }{
		{"with authority", `{"authority":"iso6523-actorid-upis","ID":"0192:991825827"}`, "0192:991825827", "iso6523-actorid-upis"},
		{"without authority", `{"ID":"0192:991825827"}`, "0192:991825827", ""},
		{"lower-case id", `{"id":"0192:991825827"}`, "0192:991825827", ""},
		{"a bare string", `"0192:991825827"`, "0192:991825827", ""},
		{"null", `null`, "", ""},
	} {
		var s RegisteredSystem
		if err := json.Unmarshal([]byte(`{"id":"x","vendor":`+tt.json+`,"isVisible":false}`), &s); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s.Vendor.ID != tt.id || s.Vendor.Authority != tt.authority || s.IsVisible {
			t.Errorf("%s: vendor %+v, isVisible %v", tt.name, s.Vendor, s.IsVisible)
		}
	}
}

func TestGetSystemErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		resp   string
		is     []error
		isNot  []error
	}{
		{"unknown: bare 404", 404, "", []error{ErrNotFound}, []error{ErrNotOwner}},
		{"another vendor's: empty 403", 403, "", []error{ErrNotOwner, ErrForbidden}, []error{ErrNotFound}},
		{"server error", 500, "boom", []error{ErrUnavailable}, []error{ErrNotOwner}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAltinn(t, exchange{method: "GET", path: registerBase + "vendor/" + regSystemID, token: registerTok,
				status: tt.status, resp: tt.resp, header: map[string]string{"Content-Type": "text/plain"}})
			c, _ := f.client()
			_, err := c.GetSystem(context.Background(), regSystemID)
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want it to match %v", err, target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(err, target) {
					t.Errorf("err = %v matches %v", err, target)
				}
			}
			var p *Problem
			if !errors.As(err, &p) || p.Status != tt.status {
				t.Errorf("err = %v, want a *Problem with status %d", err, tt.status)
			}
		})
	}
}

func TestCreateSystem(t *testing.T) {
	t.Parallel()
	f := newFakeAltinn(t, exchange{method: "POST", path: registerBase + "vendor", token: registerTok, body: systemBody,
		resp: `"6d1a1e5c-3f7e-4c61-9d0c-2b1f0f0a9e77"`})
	c, _ := f.client()
	s := testSystem()
	id, err := c.CreateSystem(context.Background(), s)
	if err != nil || id != "6d1a1e5c-3f7e-4c61-9d0c-2b1f0f0a9e77" {
		t.Fatalf("CreateSystem = %q, %v", id, err)
	}
}

// TestWritesSendEveryList checks that a system with nil lists is sent with
// empty ones, never null (which Altinn may answer with a 500).
func TestWritesSendEveryList(t *testing.T) {
	t.Parallel()
	empty := `{"id":"991825827_smartcloud","vendor":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"},"name":{},
	 "description":{},"rights":[],"accessPackages":[],"clientId":[],"isVisible":true,"allowedRedirectUrls":[]}`
	f := newFakeAltinn(t,
		exchange{method: "PUT", path: registerBase + "vendor/" + regSystemID, token: registerTok, body: empty, resp: `{"succeeded":true}`},
		exchange{method: "PUT", path: registerBase + "vendor/" + regSystemID + "/rights", token: registerTok,
			body: `[{"resource":[]}]`, resp: `{"succeeded":true}`},
		exchange{method: "PUT", path: registerBase + "vendor/" + regSystemID + "/accesspackages", token: registerTok,
			body: `[]`, resp: `{"succeeded":true}`},
	)
	c, _ := f.client()
	ctx := context.Background()
	if err := c.UpdateSystem(ctx, RegisteredSystem{ID: regSystemID, Vendor: Vendor{ID: "0192:991825827"}, IsVisible: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSystemRights(ctx, regSystemID, []Right{{}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSystemAccessPackages(ctx, regSystemID, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCreateSystemAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, resp, want string }{
		{"a JSON string", `"abc"`, "abc"},
		{"plain text", `abc-123`, "abc-123"},
		{"an object", `{"id":"abc"}`, "abc"},
	} {
		f := newFakeAltinn(t, exchange{method: "POST", path: registerBase + "vendor", token: registerTok, body: systemBody,
			resp: tt.resp, header: map[string]string{"Content-Type": "application/json"}})
		c, _ := f.client()
		if id, err := c.CreateSystem(context.Background(), testSystem()); err != nil || id != tt.want {
			t.Errorf("%s: CreateSystem = %q, %v; want %q", tt.name, id, err, tt.want)
		}
	}
	f := newFakeAltinn(t, exchange{method: "POST", path: registerBase + "vendor", token: registerTok, body: systemBody, resp: `[]`})
	c, _ := f.client()
	if _, err := c.CreateSystem(context.Background(), testSystem()); !errors.Is(err, ErrMalformed) {
		t.Errorf("a list answer: err = %v, want ErrMalformed", err)
	}
}

// TestRegisterWriteErrors covers every error shape systemregister.md lists
// for POST and PUT: the validation list (as validationErrors or errors), the
// plain-text 404, 409 and deleted 400, and the empty 403.
func TestRegisterWriteErrors(t *testing.T) {
	t.Parallel()
	put := func(ctx context.Context, c *Client) error { return c.UpdateSystem(ctx, testSystem()) }
	post := func(ctx context.Context, c *Client) error { _, err := c.CreateSystem(ctx, testSystem()); return err }
	rights := func(ctx context.Context, c *Client) error {
		return c.SetSystemRights(ctx, regSystemID, testSystem().Rights)
	}
	text := map[string]string{"Content-Type": "text/plain; charset=utf-8"}
	problem := map[string]string{"Content-Type": "application/problem+json"}
	for _, tt := range []struct {
		name     string
		method   string
		path     string
		body     string
		call     func(context.Context, *Client) error
		status   int
		header   map[string]string
		resp     string
		is       []error
		codes    []string
		bodyText string // kept in Problem.Body
	}{
		{"PUT refused: validationErrors", "PUT", "vendor/" + regSystemID, systemBody, put, 400, problem, vldProblem,
			nil, []string{"AUTH.VLD-00018", "AUTH.VLD-00004"}, ""},
		{"PUT refused: errors as a list", "PUT", "vendor/" + regSystemID, systemBody, put, 400, problem,
			strings.Replace(vldProblem, "validationErrors", "errors", 1), nil, []string{"AUTH.VLD-00018", "AUTH.VLD-00004"}, ""},
		{"PUT unknown id: plain-text 404", "PUT", "vendor/" + regSystemID, systemBody, put, 404, text,
			"System with ID '991825827_smartcloud' not found.", []error{ErrNotFound}, nil, "System with ID '991825827_smartcloud' not found."},
		{"PUT deleted: plain-text 400", "PUT", "vendor/" + regSystemID, systemBody, put, 400, text,
			"Cannot update a system marked as deleted.", []error{ErrSystemDeleted}, nil, "Cannot update a system marked as deleted."},
		{"PUT another vendor's: empty 403", "PUT", "vendor/" + regSystemID, systemBody, put, 403, nil, "",
			[]error{ErrNotOwner, ErrForbidden}, nil, ""},
		{"POST refused", "POST", "vendor", systemBody, post, 400, problem, vldProblem,
			nil, []string{"AUTH.VLD-00018", "AUTH.VLD-00004"}, ""},
		{"POST duplicate: plain-text 409", "POST", "vendor", systemBody, post, 409, text,
			"The System already exist: 991825827_smartcloud", nil, nil, "The System already exist: 991825827_smartcloud"},
		{"POST for another vendor: 403", "POST", "vendor", systemBody, post, 403, nil, "", []error{ErrNotOwner}, nil, ""},
		{"PUT rights on a deleted system", "PUT", "vendor/" + regSystemID + "/rights",
			`[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}]`, rights, 400, text,
			"Cannot update a system marked as deleted.", []error{ErrSystemDeleted}, nil, "Cannot update a system marked as deleted."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAltinn(t, exchange{method: tt.method, path: registerBase + tt.path, token: registerTok, body: tt.body,
				status: tt.status, header: tt.header, resp: tt.resp})
			c, _ := f.client()
			err := tt.call(context.Background(), c)
			var p *Problem
			if !errors.As(err, &p) || p.Status != tt.status {
				t.Fatalf("err = %v, want a *Problem with status %d", err, tt.status)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want it to match %v", err, target)
				}
			}
			if diff := cmp.Diff(tt.codes, p.Codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if p.Body != tt.bodyText {
				t.Errorf("Body = %q, want %q", p.Body, tt.bodyText)
			}
			if tt.codes != nil {
				if !p.HasCode("auth.vld-00018") || p.HasCode("AUTH.VLD-00001") {
					t.Errorf("HasCode is wrong for %v", p.Codes())
				}
				v := p.Validation[0]
				if v.Title == "" || len(v.Paths) != 1 || v.Extensions["Invalid Urn Details : "] != "urn:altinn:accesspackage:regnskapsforer-lonn" {
					t.Errorf("first validation item = %+v", v)
				}
				if !strings.Contains(err.Error(), "AUTH.VLD-00018") {
					t.Errorf("Error() = %q does not name the code", err)
				}
			}
		})
	}
}

func TestUpdateSystemSucceededFalse(t *testing.T) {
	t.Parallel()
	f := newFakeAltinn(t, exchange{method: "PUT", path: registerBase + "vendor/" + regSystemID, token: registerTok,
		body: systemBody, resp: `{"succeeded":false}`})
	c, _ := f.client()
	if err := c.UpdateSystem(context.Background(), testSystem()); err == nil || !strings.Contains(err.Error(), "succeeded: false") {
		t.Fatalf("err = %v", err)
	}
}

func TestListSystems(t *testing.T) {
	t.Parallel()
	resp := `[{"systemId":"991825827_smartcloud","systemVendorOrgNumber":"991825827","systemVendorOrgName":"",
	 "name":{"nb":"SmartCloud"},"description":{"nb":"x"},"rights":[],"accessPackages":[{"urn":"urn:altinn:accesspackage:skattegrunnlag"}],
	 "isVisible":false}]`
	f := newFakeAltinn(t, exchange{method: "GET", path: registerBase + "vendor", token: registerTok, resp: resp},
		exchange{method: "GET", path: registerBase + "vendor", token: registerTok, status: 403})
	c, _ := f.client()
	got, err := c.ListSystems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []SystemSummary{{ID: regSystemID, VendorOrgNo: "991825827", Name: map[string]string{"nb": "SmartCloud"},
		Description: map[string]string{"nb": "x"}, Rights: []Right{},
		AccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:skattegrunnlag"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("systems (-want +got):\n%s", diff)
	}
	if _, err := c.ListSystems(context.Background()); !errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotOwner) {
		t.Errorf("403 on the list: err = %v, want ErrForbidden only", err)
	}
}

func TestSystemChangelog(t *testing.T) {
	t.Parallel()
	resp := `[{"systemInternalId":"6d1a1e5c","changedByOrgNumber":"991825827","changeType":"update",
	 "changedData":{"ClientId":["onboard-client"]},"clientId":"onboard-client","created":"2026-03-01T10:00:00.5Z"},
	 {"systemInternalId":"6d1a1e5c","changedByOrgNumber":"991825827","changeType":"create","created":"garbage"}]`
	f := newFakeAltinn(t,
		exchange{method: "GET", path: registerBase + "vendor/" + regSystemID + "/changelog", token: registerTok, resp: resp},
		exchange{method: "GET", path: registerBase + "vendor/" + regSystemID + "/changelog", token: registerTok, status: 404,
			header: map[string]string{"Content-Type": "text/plain"}, resp: "System not found"})
	c, _ := f.client()
	got, err := c.SystemChangelog(context.Background(), regSystemID)
	if err != nil {
		t.Fatal(err)
	}
	want := []SystemChange{
		{SystemInternalID: "6d1a1e5c", ChangedByOrgNo: "991825827", ChangeType: "update",
			ChangedData: json.RawMessage(`{"ClientId":["onboard-client"]}`), ClientID: "onboard-client",
			Created: time.Date(2026, 3, 1, 10, 0, 0, 500000000, time.UTC)},
		{SystemInternalID: "6d1a1e5c", ChangedByOrgNo: "991825827", ChangeType: "create"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changelog (-want +got):\n%s", diff)
	}
	_, err = c.SystemChangelog(context.Background(), regSystemID)
	var p *Problem
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &p) || p.Body != "System not found" {
		t.Errorf("404: err = %v", err)
	}
}

func TestSystemRoutesEscapeAndRefuseEmptyIDs(t *testing.T) {
	t.Parallel()
	f := newFakeAltinn(t, exchange{method: "GET", path: registerBase + "vendor/991825827_a%2Fb", token: registerTok,
		resp: `{"id":"991825827_a/b"}`})
	c, _ := f.client()
	ctx := context.Background()
	if _, err := c.GetSystem(ctx, "991825827_a/b"); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"GetSystem":       func() error { _, err := c.GetSystem(ctx, " "); return err },
		"CreateSystem":    func() error { _, err := c.CreateSystem(ctx, RegisteredSystem{}); return err },
		"UpdateSystem":    func() error { return c.UpdateSystem(ctx, RegisteredSystem{}) },
		"SetRights":       func() error { return c.SetSystemRights(ctx, "", nil) },
		"SetPackages":     func() error { return c.SetSystemAccessPackages(ctx, "", nil) },
		"SystemChangelog": func() error { _, err := c.SystemChangelog(ctx, ""); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s with no id: no error", name)
		}
	}
}

func TestMetadataPackage(t *testing.T) {
	t.Parallel()
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodGet {
			t.Errorf("method = %s", r.Method)
		}
		for h, want := range map[string]string{"Authorization": "", "Accept": "application/json", "Accept-Language": "en", "User-Agent": "onboard/1"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		switch r.URL.EscapedPath() {
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/urn:altinn:accesspackage:regnskapsforer-lonn":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":"a","name":"Payroll","urn":"urn:altinn:accesspackage:regnskapsforer-lonn","description":"d",
			 "isDelegable":true,"isAssignable":false,"isResourcePolicyAvailable":true,"area":null,"resources":[]}`))
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/skattegrunnlag":
			w.Write([]byte(`{"urn":"urn:altinn:accesspackage:skattegrunnlag","isDelegable":true,"isAssignable":true}`))
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/broken":
			w.Write([]byte(`{"name":`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	m := NewMetadata(srv.URL+"/", srv.Client())
	ctx := context.Background()
	p, err := m.Package(ctx, "urn:altinn:accesspackage:regnskapsforer-lonn")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&PackageInfo{ID: "a", URN: "urn:altinn:accesspackage:regnskapsforer-lonn", Name: "Payroll",
		Description: "d", IsDelegable: true}, p); diff != "" {
		t.Errorf("package (-want +got):\n%s", diff)
	}
	if !p.ClientOnly() {
		t.Error("a delegable, unassignable package is client-only")
	}
	if p, err := m.Package(ctx, " skattegrunnlag "); err != nil || p.ClientOnly() {
		t.Errorf("short name: %+v, %v", p, err)
	}
	for _, urn := range []string{"urn:altinn:accesspackage:no-such", "empty"} {
		if _, err := m.Package(ctx, urn); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", urn, err)
		}
	}
	if _, err := m.Package(ctx, "broken"); !errors.Is(err, ErrMalformed) {
		t.Errorf("broken: err = %v, want ErrMalformed", err)
	}
	before := calls
	if _, err := m.Package(ctx, ""); err == nil || calls != before {
		t.Errorf("empty urn: err = %v, calls %d → %d", err, before, calls)
	}
	if _, err := NewMetadata("not a url", nil).Package(ctx, "x"); err == nil {
		t.Error("a bad base URL gives no error")
	}
}
