package altinn

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	changeID     = "9d1c3f0e-6b2a-4c1e-8f4d-2a7b5c9e0f13"
	systemUserID = requestID
	changePath   = base + "changerequest/vendor"
)

// changeQuery is the query every create sends.
var changeQuery = url.Values{"correlation-id": {changeID}, "system-user-id": {systemUserID}}

// changeJSON is a ChangeRequestResponse (contract §2) as Altinn sends it.
const changeJSON = `{
  "id": "9d1c3f0e-6b2a-4c1e-8f4d-2a7b5c9e0f13",
  "externalRef": "313588270",
  "systemId": "991825827_lonn",
  "systemUserId": "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11",
  "partyOrgNo": "313588270",
  "requiredRights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
  "unwantedRights": [],
  "requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}],
  "unwantedAccessPackages": [{"urn": "urn:altinn:accesspackage:skattegrunnlag"}],
  "status": "New",
  "redirectUrl": "https://onboard.example/return?state=abc123",
  "confirmUrl": "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/changerequest?id=9d1c3f0e-6b2a-4c1e-8f4d-2a7b5c9e0f13&DONTCHOOSEREPORTEE=true",
  "created": "2026-03-02T09:30:00.123456Z",
  "timedOut": false
}`

// noChangeJSON is Altinn's answer when all four lists are empty: nothing
// stored, no confirmUrl, and a default created.
const noChangeJSON = `{
  "id": "9d1c3f0e-6b2a-4c1e-8f4d-2a7b5c9e0f13",
  "externalRef": "313588270",
  "systemId": "991825827_lonn",
  "systemUserId": "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11",
  "partyOrgNo": "313588270",
  "requiredRights": [], "unwantedRights": [], "requiredAccessPackages": [], "unwantedAccessPackages": [],
  "status": "NoChangeNeeded",
  "confirmUrl": "",
  "created": "0001-01-01T00:00:00",
  "timedOut": false
}`

func wantChange() *ChangeRequest {
	return &ChangeRequest{
		ID:           changeID,
		ExternalRef:  orgNo,
		SystemID:     systemID,
		SystemUserID: systemUserID,
		PartyOrgNo:   orgNo,
		RequiredRights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
		}}},
		UnwantedRights:         []Right{},
		RequiredAccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		UnwantedAccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:skattegrunnlag"}},
		Status:                 StatusNew,
		RedirectURL:            redirectURL,
		ConfirmURL:             "https://am.ui.tt02.altinn.no/accessmanagement/ui/systemuser/changerequest?id=" + changeID + "&DONTCHOOSEREPORTEE=true",
		Created:                time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC),
	}
}

func TestCreateChangeRequest(t *testing.T) {
	req := CreateChangeRequest{
		CorrelationID: changeID,
		SystemUserID:  systemUserID,
		RequiredRights: []Right{{Resource: []AttributePair{
			{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
		}}},
		RequiredAccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		UnwantedAccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:skattegrunnlag"}},
		RedirectURL:            redirectURL,
	}
	// UnwantedRights is nil and must still go out as [].
	wantBody := `{
		"requiredRights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
		"unwantedRights": [],
		"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}],
		"unwantedAccessPackages": [{"urn": "urn:altinn:accesspackage:skattegrunnlag"}],
		"redirectUrl": "https://onboard.example/return?state=abc123"
	}`
	for _, tc := range []struct {
		name        string
		status      int
		wantCreated bool
	}{
		{"created", http.StatusCreated, true},
		{"existing correlation id", http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, exchange{
				method: "POST", path: changePath, query: changeQuery, token: writeTok, body: wantBody,
				status: tc.status, resp: changeJSON,
				header: map[string]string{"Location": "https://platform.tt02.altinn.no/authentication/api/v1/systemuser/changerequest/" + changeID},
			})
			c, tokens := f.client()
			got, created, err := c.CreateChangeRequest(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if created != tc.wantCreated {
				t.Errorf("created = %v, want %v", created, tc.wantCreated)
			}
			if diff := cmp.Diff(wantChange(), got); diff != "" {
				t.Errorf("change request (-want +got):\n%s", diff)
			}
			if asked, _ := tokens.calls(); !cmp.Equal(asked, []string{ScopeRequestWrite}) {
				t.Errorf("scopes asked = %q", asked)
			}
		})
	}
}

func TestCreateChangeRequestNoChangeNeeded(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "POST", path: changePath, query: changeQuery, token: writeTok,
		body:   `{"requiredRights":[],"unwantedRights":[],"requiredAccessPackages":[],"unwantedAccessPackages":[]}`,
		status: http.StatusOK, resp: noChangeJSON,
	})
	c, _ := f.client()
	got, created, err := c.CreateChangeRequest(t.Context(), CreateChangeRequest{CorrelationID: changeID, SystemUserID: systemUserID})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true for NoChangeNeeded")
	}
	want := &ChangeRequest{
		ID: changeID, ExternalRef: orgNo, SystemID: systemID, SystemUserID: systemUserID, PartyOrgNo: orgNo,
		RequiredRights: []Right{}, UnwantedRights: []Right{},
		RequiredAccessPackages: []AccessPackage{}, UnwantedAccessPackages: []AccessPackage{},
		Status: StatusNoChangeNeeded,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("change request (-want +got):\n%s", diff)
	}
}

func TestCreateChangeRequestEscapesQuery(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "POST", path: changePath, token: writeTok,
		query:  url.Values{"correlation-id": {"a&b=c"}, "system-user-id": {"x y/z"}},
		body:   `{"requiredRights":[],"unwantedRights":[],"requiredAccessPackages":[],"unwantedAccessPackages":[]}`,
		status: http.StatusCreated, resp: changeJSON,
	})
	c, _ := f.client()
	if _, _, err := c.CreateChangeRequest(t.Context(), CreateChangeRequest{CorrelationID: "a&b=c", SystemUserID: "x y/z"}); err != nil {
		t.Fatal(err)
	}
}

func TestGetChangeRequest(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "GET", path: changePath + "/" + changeID, token: readTok, resp: changeJSON,
	})
	c, tokens := f.client()
	got, err := c.GetChangeRequest(t.Context(), changeID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantChange(), got); diff != "" {
		t.Errorf("change request (-want +got):\n%s", diff)
	}
	if asked, _ := tokens.calls(); !cmp.Equal(asked, []string{ScopeRequestRead}) {
		t.Errorf("scopes asked = %q", asked)
	}
}

func TestGetChangeRequestEscapesID(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "GET", path: changePath + "/a%2Fb%3Fc", token: readTok, resp: changeJSON,
	})
	c, _ := f.client()
	if _, err := c.GetChangeRequest(t.Context(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteChangeRequest(t *testing.T) {
	f := newFakeAltinn(t, exchange{
		method: "DELETE", path: changePath + "/" + changeID, token: writeTok, status: http.StatusAccepted,
	})
	c, tokens := f.client()
	if err := c.DeleteChangeRequest(t.Context(), changeID); err != nil {
		t.Fatal(err)
	}
	if asked, _ := tokens.calls(); !cmp.Equal(asked, []string{ScopeRequestWrite}) {
		t.Errorf("scopes asked = %q", asked)
	}
}

func TestChangeRequestMissingArguments(t *testing.T) {
	c := New("https://platform.tt02.altinn.no", &fakeTokens{}, nil)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"CreateChangeRequest no correlation id": func() error {
			_, _, err := c.CreateChangeRequest(ctx, CreateChangeRequest{SystemUserID: systemUserID})
			return err
		},
		"CreateChangeRequest no system user id": func() error {
			_, _, err := c.CreateChangeRequest(ctx, CreateChangeRequest{CorrelationID: changeID})
			return err
		},
		"GetChangeRequest":    func() error { _, err := c.GetChangeRequest(ctx, ""); return err },
		"DeleteChangeRequest": func() error { return c.DeleteChangeRequest(ctx, "") },
	} {
		if err := call(); err == nil || !strings.HasPrefix(err.Error(), "altinn: ") {
			t.Errorf("%s: err = %v, want an altinn: error", name, err)
		}
	}
}

// TestChangeRequestErrors covers the errors contract §5 lists, the way
// TestErrors does for requests.
func TestChangeRequestErrors(t *testing.T) {
	emptyBody := `{"requiredRights":[],"unwantedRights":[],"requiredAccessPackages":[{"urn":"urn:altinn:accesspackage:regnskapsforer-lonn"}],"unwantedAccessPackages":[]}`
	create := exchange{method: "POST", path: changePath, query: changeQuery, body: emptyBody, token: writeTok}
	get := exchange{method: "GET", path: changePath + "/" + changeID, token: readTok}
	del := exchange{method: "DELETE", path: changePath + "/" + changeID, token: writeTok}
	call := map[string]func(context.Context, *Client) error{
		"POST": func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateChangeRequest(ctx, CreateChangeRequest{
				CorrelationID: changeID, SystemUserID: systemUserID,
				RequiredAccessPackages: []AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
			})
			return err
		},
		"GET": func(ctx context.Context, c *Client) error {
			_, err := c.GetChangeRequest(ctx, changeID)
			return err
		},
		"DELETE": func(ctx context.Context, c *Client) error { return c.DeleteChangeRequest(ctx, changeID) },
	}
	bare401 := `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"Unauthorized","status":401,"traceId":"` + traceID + `"}`

	for _, tc := range []struct {
		name     string
		x        exchange
		wantCode string // Problem.Code; "" for none
		wantBody string // Problem.Body, for plain text
		wantIs   error  // a sentinel the error must match; nil for none
	}{
		{name: "create AUTH-00015 unknown or agent system user",
			x:        answer(create, 404, problemJSON, altinnProblem(404, "AUTH-00015", "The SystemUser was not found.")),
			wantCode: "AUTH-00015", wantIs: ErrNotFound},
		{name: "create plain-text 400 correlation id",
			x:        answer(create, 400, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, "The correlation-id can not be the same as the system-user-id"),
			wantBody: "The correlation-id can not be the same as the system-user-id"},
		{name: "create bare 401 another vendor's system user",
			x: answer(create, 401, problemJSON, bare401), wantIs: ErrUnauthorized},
		{name: "create bare 401 empty",
			x: answer(create, 401, nil, ""), wantIs: ErrUnauthorized},
		{name: "create AUTH-00001 right not on the system",
			x:        answer(create, 400, problemJSON, altinnProblem(400, "AUTH-00001", "One or more Right not found or not delegable.")),
			wantCode: "AUTH-00001"},
		{name: "create AUTH-00063 package not on the system",
			x:        answer(create, 400, problemJSON, altinnProblem(400, "AUTH-00063", "Not found", "NotFoundPackages", "urn:x")),
			wantCode: "AUTH-00063"},
		{name: "create AUTH-00021 redirect mismatch",
			x:        answer(create, 400, problemJSON, altinnProblem(400, "AUTH-00021", "The RedirectUri was not found or not valid.")),
			wantCode: "AUTH-00021"},
		{name: "create 503", x: answer(create, 503, nil, ""), wantIs: ErrUnavailable},
		{name: "get AUTH-00010 not found",
			x:        answer(get, 404, problemJSON, altinnProblem(404, "AUTH-00010", "The Id does not refer to a Request in our system.")),
			wantCode: "AUTH-00010", wantIs: ErrNotFound},
		{name: "get AUTH-00011 not the vendor's system",
			x:        answer(get, 404, problemJSON, altinnProblem(404, "AUTH-00011", "The Id does not refer to a Registered System.")),
			wantCode: "AUTH-00011", wantIs: ErrNotFound},
		{name: "get bare 401", x: answer(get, 401, problemJSON, bare401), wantIs: ErrUnauthorized},
		{name: "get 200 without id", x: answer(get, 200, nil, `{"status":"New"}`), wantIs: ErrMalformed},
		{name: "delete AUTH-00010",
			x:        answer(del, 404, problemJSON, altinnProblem(404, "AUTH-00010", "The Id does not refer to a Request in our system.")),
			wantCode: "AUTH-00010", wantIs: ErrNotFound},
		{name: "delete 403 missing scope", x: answer(del, 403, nil, ""), wantIs: ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := []exchange{tc.x}
			if tc.x.status == http.StatusUnauthorized {
				retry := tc.x
				retry.token = strings.Replace(retry.token, "tok0", "tok1", 1)
				want = append(want, retry)
			}
			f := newFakeAltinn(t, want...)
			c, _ := f.client()
			err := call[tc.x.method](t.Context(), c)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "altinn: ") {
				t.Errorf("error %q lacks the altinn: prefix", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if tc.wantIs == ErrMalformed {
				return
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want a *Problem", err)
			}
			if p.Status != tc.x.status || p.Code != tc.wantCode || p.Body != tc.wantBody {
				t.Errorf("Problem = %+v, want status %d code %q body %q", p, tc.x.status, tc.wantCode, tc.wantBody)
			}
		})
	}
}

// answer returns x answering status, header and resp.
func answer(x exchange, status int, header map[string]string, resp string) exchange {
	x.status, x.header, x.resp = status, header, resp
	return x
}
