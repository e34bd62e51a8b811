package altinn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeResponses feeds Altinn's 2xx bodies (requests, change requests,
// system users, the system register's systems, summaries, changelog
// entries and vendors) to the decoders the client uses. None may panic; a
// body decodes the same way twice; what the lenient decoders promise holds
// (trimmed ids and client ids, a vendor's bare org number);
// and a system the register answered survives our own MarshalJSON.
func FuzzDecodeResponses(f *testing.F) {
	for _, s := range []string{requestJSON, agentRequestJSON, systemUserJSON, changeJSON, noChangeJSON,
		`{"id":"a","status":"Timedout","created":"2025-01-01T00:00:00Z"}`,
		`{"id":"4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11","status":"Accepted","created":"0001-01-01T00:00:00","timedOut":false}`,
		`{"id":"a","created":null}`, `{"id":"a","created":12}`, `{"id":"a","created":"2025-13-45"}`,
		`{"systemId":"991825827_lonn","vendor":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"},` +
			`"name":{"NB":" Lønn ","en":"Payroll"},"clientId":[" c1 "],"clientIds":["c2"],"isVisible":null,` +
			`"rights":[{"resource":[{"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}],` +
			`"accessPackages":[{"urn":" urn:altinn:accesspackage:regnskapsforer-lonn "}],"allowedRedirectUrls":["https://onboard.example/return"]}`,
		`{"ID":"991825827_lonn","Vendor":"0192:991825827","IsDeleted":true}`,
		`{"systemId":"991825827_lonn","systemVendorOrgNumber":"991825827","name":{"nb":"Lønn"}}`,
		`{"systemInternalId":"00000000-0000-0000-0000-000000000001","changedByOrgNumber":"991825827","changeType":"create","changedData":{"Id":"x"},"clientId":"c","created":"2025-01-01 10:00:00"}`,
		`{"ID":"0192:991825827","id":"0192:111111111","Id":"x"}`, `{"systemId":"991825827_a","name":{"NB":"a","nb":"b"," nb ":"c"}}`,
		`"0192:991825827"`, `null`, `[]`, `{}`, `{"vendor":{"ID":12}}`, "{\"id\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() any{
			func() any { return new(Request) }, func() any { return new(ChangeRequest) },
			func() any { return new(SystemUser) }, func() any { return new(RegisteredSystem) },
			func() any { return new(SystemSummary) }, func() any { return new(SystemChange) },
			func() any { return new(Vendor) }, func() any { return new([]SystemUser) },
		}
		for _, mk := range targets {
			a, b := mk(), mk()
			errA, errB := json.Unmarshal(body, a), json.Unmarshal(body, b)
			if (errA == nil) != (errB == nil) || (errA == nil && !reflect.DeepEqual(a, b)) {
				t.Fatalf("%T decodes %q two ways: %v %v", a, body, errA, errB)
			}
			if errA != nil {
				continue
			}
			switch v := a.(type) {
			case *Vendor:
				if strings.Contains(v.OrgNo(), ":") || v.ID != strings.TrimSpace(v.ID) {
					t.Fatalf("vendor %+v: OrgNo %q", v, v.OrgNo())
				}
			case *RegisteredSystem:
				if v.ID != strings.TrimSpace(v.ID) {
					t.Fatalf("system id %q is not trimmed", v.ID)
				}
				for _, c := range v.ClientIDs {
					if c != strings.TrimSpace(c) {
						t.Fatalf("client id %q is not trimmed", c)
					}
				}
				out, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("a decoded system does not encode: %v", err)
				}
				var again RegisteredSystem
				if err := json.Unmarshal(out, &again); err != nil {
					t.Fatalf("our own encoding of a system does not decode: %v\n%s", err, out)
				}
				if again.ID != v.ID || again.Vendor.OrgNo() != v.Vendor.OrgNo() || !reflect.DeepEqual(again.ClientIDs, v.ClientIDs) {
					t.Fatalf("a system changed on the way round:\n%+v\n%+v\n%s", v, again, out)
				}
			}
		}
	})
}

// FuzzParseProblem feeds Altinn's error answers (any status, any
// Retry-After, any body) to parseProblem: never a panic, never a nil
// problem, the HTTP status kept, no negative wait, a body kept only as
// bounded valid UTF-8, and Error() one line of valid UTF-8, since it goes
// into logs and onto the dashboard.
func FuzzParseProblem(f *testing.F) {
	seeds := []struct {
		status int
		retry  string
		body   string
	}{
		{400, "", `{"type":"urn:altinn:error:AUTH-00004","title":"System user already exists","status":400,"detail":"x","traceId":"00-abc"}`},
		{400, "", `{"title":"One or more validation errors occurred.","status":400,"errors":{"systemId":["The SystemId is not valid"]}}`},
		{400, "", `{"title":"Bad","validationErrors":[{"code":"AUTH.VLD-00011","title":"Rights","paths":["rights"]}]}`},
		{400, "", `{"code":"AUTH-00065","NotDelegablePackages":["urn:altinn:accesspackage:x"]}`},
		{404, "", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not Found","status":404}`},
		{429, "120", ""},
		{503, "Wed, 21 Oct 2015 07:28:00 GMT", "<html><body>Service Unavailable</body></html>"},
		{500, "-5", "plain text\nwith lines"},
		{400, "99999999999999999999", `{"title":"line one\nline two","detail":"a\r\nb"}`},
		{0, "", "\xff\xfe"},
		{400, "", `{"title":"a","Title":"b","TITLE":"c","detail":"x","Detail":"y","code":"A","Code":"B","errors":{"f":["1"]},"Errors":{"f":["2"]}}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.retry, []byte(s.body))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, retry string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retry)
		p := parseProblem(status, h, body, now)
		if p == nil || p.Status != status {
			t.Fatalf("parseProblem(%d) = %+v", status, p)
		}
		if again := parseProblem(status, h, body, now); !reflect.DeepEqual(again, p) {
			t.Fatalf("%q parses two ways:\n%+v\n%+v", body, p, again)
		}
		if p.RetryAfter < 0 {
			t.Fatalf("Retry-After %q gave a negative wait %v", retry, p.RetryAfter)
		}
		if len(p.Body) > maxProblemBody || !utf8.ValidString(p.Body) {
			t.Fatalf("body kept as %d bytes, valid UTF-8 %v", len(p.Body), utf8.ValidString(p.Body))
		}
		msg := p.Error()
		if strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
			t.Fatalf("Error() is not one line of valid UTF-8: %q", msg)
		}
		_ = p.Codes()
	})
}

// FuzzMetadata is Altinn's package metadata and Resource Registry
// answering anything (any status, any body): Package and Resource never
// panic, and either answer an error or a package with its urn (a resource
// with its identifier), never a zero value; a resource's texts in any
// language come trimmed.
func FuzzMetadata(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"id":"1d71e7c7-2d0c-4f3f-a1b2-000000000001","urn":"urn:altinn:accesspackage:regnskapsforer-lonn","name":"Regnskapsfører lønn","description":"x","isAssignable":false,"isDelegable":true}`},
		{200, `{"identifier":"ske-krav-og-betalinger","title":{"nb":" Krav og betalinger ","en":"Claims"},"description":{"nb":"x"},"rightDescription":{},"resourceType":"GenericAccessResource","delegable":true}`},
		{200, `{}`}, {200, `null`}, {200, `[]`}, {200, `{"urn":12}`}, {204, ``}, {404, `{"title":"Not Found"}`},
		{500, "<html>\x00</html>"}, {200, "{\"identifier\":\"\xff\",\"urn\":\"\xff\"}"},
	} {
		f.Add(s.status, []byte(s.body))
	}
	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}))
	f.Cleanup(srv.Close)
	m := NewMetadata(srv.URL, srv.Client())
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 200 || st > 599 {
			st = 200 + (st%400+400)%400
		}
		mu.Lock()
		status, body = st, b
		mu.Unlock()
		p, err := m.PackageIn(context.Background(), "urn:altinn:accesspackage:regnskapsforer-lonn", "nn")
		if err == nil && (p == nil || p.URN == "") || err != nil && p != nil {
			t.Fatalf("PackageIn on %d %q = %+v, %v", st, b, p, err)
		}
		r, err := m.Resource(context.Background(), "ske-krav-og-betalinger")
		if err == nil && (r == nil || r.Identifier == "") || err != nil && r != nil {
			t.Fatalf("Resource on %d %q = %+v, %v", st, b, r, err)
		}
		if r != nil {
			for _, lang := range []string{"nb", "nn", "en", "se", ""} {
				txt := r.In(lang)
				for _, s := range []string{txt.Title, txt.Description, txt.RightDescription} {
					if s != strings.TrimSpace(s) {
						t.Fatalf("resource text %q is not trimmed", s)
					}
				}
			}
		}
	})
}
