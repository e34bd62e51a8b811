package altinn

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const listPath = base + "vendor/bysystem/991825827_lonn"

// userJSON is one SystemUserExternalDTO in a list, with odd but tolerated
// created values on some of them.
func userJSON(id, userType, created string) string {
	return fmt.Sprintf(`{"id":%q,"integrationTitle":"Lønn","systemId":"991825827_lonn","productName":"",`+
		`"reporteeOrgNo":"313588270","created":%s,"isDeleted":false,"supplierName":"LØNNSLEVERANDØR AS",`+
		`"supplierOrgno":"991825827","externalRef":%q,"userType":%q}`, id, created, id, userType)
}

func listUser(id, userType string, raw string) SystemUser {
	return SystemUser{
		ID: id, IntegrationTitle: "Lønn", SystemID: systemID, ReporteeOrgNo: orgNo,
		SupplierName: "LØNNSLEVERANDØR AS", SupplierOrgNo: "991825827", ExternalRef: id, UserType: userType,
		Raw: json.RawMessage(raw),
	}
}

func page(next string, users ...string) string {
	links := "{}"
	if next != "" {
		links = fmt.Sprintf(`{"next":%q}`, next)
	}
	return `{"links":` + links + `,"data":[` + strings.Join(users, ",") + `]}`
}

func listExchange(token, resp string) exchange {
	x := exchange{method: "GET", path: listPath, token: registerTok, resp: resp}
	if token != "" {
		x.query = url.Values{"token": {token}}
	}
	return x
}

func TestListSystemUsers(t *testing.T) {
	u1 := userJSON("u1", "standard", `"2024-11-15T09:36:50.451886Z"`)
	u2 := userJSON("u2", "agent", `"0001-01-01T00:00:00"`)
	u3 := userJSON("u3", "standard", `null`)
	u4 := userJSON("u4", "agent", `"2025-06-01T10:00:00.5"`)
	f := newFakeAltinn(t,
		listExchange("", page("{{base}}"+listPath+"?token=MQ", u1)),
		listExchange("MQ", page("{{base}}"+listPath+"?token=NTE", u2, u3)),
		listExchange("NTE", page("", u4)),
	)
	c, tokens := f.client()
	got, err := c.ListSystemUsers(t.Context(), systemID)
	if err != nil {
		t.Fatal(err)
	}
	want := []SystemUser{listUser("u1", "standard", u1), listUser("u2", "agent", u2), listUser("u3", "standard", u3), listUser("u4", "agent", u4)}
	want[0].Created = mustTime(t, "2024-11-15T09:36:50.451886Z")
	want[3].Created = mustTime(t, "2025-06-01T10:00:00.5Z")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	asked, _ := tokens.calls()
	if diff := cmp.Diff([]string{ScopeSystemRegisterWrite, ScopeSystemRegisterWrite, ScopeSystemRegisterWrite}, asked); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
}

func TestListSystemUsersShapes(t *testing.T) {
	u1 := userJSON("u1", "standard", `"2024-11-15T09:36:50Z"`)
	for _, tc := range []struct {
		name  string
		pages []exchange
		want  int
	}{
		{"empty", []exchange{listExchange("", `{"links":{},"data":[]}`)}, 0},
		{"links null", []exchange{listExchange("", `{"links":null,"data":[`+u1+`]}`)}, 1},
		{"next null", []exchange{listExchange("", `{"links":{"next":null},"data":[`+u1+`]}`)}, 1},
		{"no links, no data", []exchange{listExchange("", `{}`)}, 0},
		{"bare array", []exchange{listExchange("", `[`+u1+`]`)}, 1},
		{"relative next link", []exchange{
			listExchange("", page(listPath+"?token=Mg", u1)),
			listExchange("Mg", page("", u1)),
		}, 2},
		{"same origin, upper-case scheme", []exchange{
			listExchange("", page("HTTP://{{host}}"+listPath+"?token=Mw", u1)),
			listExchange("Mw", page("", u1)),
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, tc.pages...)
			c, _ := f.client()
			got, err := c.ListSystemUsers(t.Context(), systemID)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != tc.want {
				t.Errorf("got %d users (%v), want %d", len(got), got, tc.want)
			}
		})
	}
}

func TestListSystemUsersRefuses(t *testing.T) {
	u1 := userJSON("u1", "standard", `"2024-11-15T09:36:50Z"`)
	for _, tc := range []struct {
		name     string
		pages    []exchange
		maxPages int
		wantErr  string
		wantIs   error
	}{
		{
			name:    "foreign host",
			pages:   []exchange{listExchange("", page("https://evil.example"+listPath+"?token=MQ", u1))},
			wantErr: "refusing next link to https://evil.example",
		},
		{
			name:    "other scheme, same host",
			pages:   []exchange{listExchange("", page("https://{{host}}"+listPath+"?token=MQ", u1))},
			wantErr: "refusing next link",
		},
		{
			name:    "user info",
			pages:   []exchange{listExchange("", page("http://user:pw@{{host}}"+listPath+"?token=MQ", u1))},
			wantErr: "refusing next link",
		},
		{
			name:    "protocol-relative foreign host",
			pages:   []exchange{listExchange("", page("//evil.example"+listPath, u1))},
			wantErr: "refusing next link",
		},
		{
			name: "repeated next link",
			pages: []exchange{
				listExchange("", page("{{base}}"+listPath+"?token=MQ", u1)),
				listExchange("MQ", page("{{base}}"+listPath+"?token=MQ", u1)),
			},
			wantErr: "repeats an earlier page",
		},
		{
			name: "next link back to the first page",
			pages: []exchange{
				listExchange("", page("{{base}}"+listPath+"?token=MQ", u1)),
				listExchange("MQ", page("{{base}}"+listPath, u1)),
			},
			wantErr: "repeats an earlier page",
		},
		{
			name: "too many pages",
			pages: []exchange{
				listExchange("", page("{{base}}"+listPath+"?token=MQ", u1)),
				listExchange("MQ", page("{{base}}"+listPath+"?token=Mg", u1)),
				listExchange("Mg", page("{{base}}"+listPath+"?token=Mw", u1)),
			},
			maxPages: 3,
			wantErr:  "still a next link after 3 pages",
		},
		{
			name: "error on a later page",
			pages: []exchange{
				listExchange("", page("{{base}}"+listPath+"?token=MQ", u1)),
				{method: "GET", path: listPath, query: url.Values{"token": {"MQ"}}, token: registerTok, status: http.StatusServiceUnavailable},
			},
			wantIs: ErrUnavailable,
		},
		{
			name:    "unparseable next link",
			pages:   []exchange{listExchange("", page("http://[::1", u1))},
			wantErr: "malformed response",
			wantIs:  ErrMalformed,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAltinn(t, tc.pages...)
			c, _ := f.client()
			if tc.maxPages != 0 {
				c.maxPages = tc.maxPages
			}
			got, err := c.ListSystemUsers(t.Context(), systemID)
			if err == nil {
				t.Fatalf("no error; got %d users", len(got))
			}
			if got != nil {
				t.Errorf("got a partial list of %d users", len(got))
			}
			if !strings.HasPrefix(err.Error(), "altinn: GET systemuser/vendor/bysystem/{systemId}") && tc.wantIs != ErrUnavailable {
				t.Errorf("err = %q, want it to name the call", err)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if strings.Contains(err.Error(), "tok0") {
				t.Errorf("err %q holds the token", err)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"https://platform.tt02.altinn.no", "HTTPS://Platform.TT02.altinn.no:443/x?y"},
		{"http://127.0.0.1", "http://127.0.0.1:80"},
		{"http://[::1]:8080", "http://[::1]:8080/a"},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if origin(a) != origin(b) {
			t.Errorf("origin(%s) = %s, origin(%s) = %s; want equal", tc.a, origin(a), tc.b, origin(b))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"https://platform.tt02.altinn.no", "http://platform.tt02.altinn.no"},
		{"https://platform.tt02.altinn.no", "https://platform.tt02.altinn.no:8443"},
		{"https://platform.tt02.altinn.no", "https://platform.tt02.altinn.no.evil.example"},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if origin(a) == origin(b) {
			t.Errorf("origin(%s) == origin(%s) = %s; want different", tc.a, tc.b, origin(a))
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDefaultMaxPages(t *testing.T) {
	if c := New("https://platform.tt02.altinn.no", &fakeTokens{}, nil); c.maxPages != 10000 {
		t.Errorf("maxPages = %d, want 10000", c.maxPages)
	}
}
