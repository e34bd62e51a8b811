package brreg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// answer is what the test register sends for one path.
type answer struct {
	status int
	ctype  string // "" = application/json
	body   string
	hang   bool // wait until the client gives up
}

const (
	numFound   = "923609016"
	numSub     = "974760673"
	numParent  = "971524960"
	entityJSON = `{"organisasjonsnummer":"923609016","navn":"EQUINOR ASA","organisasjonsform":{"kode":"ASA","beskrivelse":"Allmennaksjeselskap"},"konkurs":false,"underAvvikling":false,"underTvangsavviklingEllerTvangsopplosning":false,"_links":{"self":{"href":"https://data.brreg.no/enhetsregisteret/api/enheter/923609016"}}}`
)

// register serves answers by path and checks what every request carries.
func register(t *testing.T, answers map[string]answer) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		want := acceptEntity
		if strings.HasPrefix(r.URL.Path, "/api/underenheter/") {
			want = acceptSubUnit
		}
		if got := r.Header.Get("Accept"); got != want {
			t.Errorf("%s: Accept %q, want %q", r.URL.Path, got, want)
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "onboard/") {
			t.Errorf("User-Agent %q does not say who asks", ua)
		}
		a, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if a.hang {
			<-r.Context().Done()
			return
		}
		ct := a.ctype
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		orgNo   string
		answers map[string]answer
		want    Entity
		wantErr error
		calls   int32
		cached  bool
	}{
		{
			name:  "found",
			orgNo: "923 609 016",
			answers: map[string]answer{"/api/enheter/923609016": {status: 200,
				ctype: "application/vnd.brreg.enhetsregisteret.enhet.v2+json;charset=UTF-8", body: entityJSON}},
			want:  Entity{OrgNo: numFound, Name: "EQUINOR ASA", Form: "ASA"},
			calls: 1, cached: true,
		},
		{
			name:    "found, plain JSON",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200, body: entityJSON}},
			want:    Entity{OrgNo: numFound, Name: "EQUINOR ASA", Form: "ASA"},
			calls:   1, cached: true,
		},
		{
			name:  "deleted (slettedato)",
			orgNo: numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200,
				body: `{"organisasjonsnummer":"923609016","navn":"GAMLE FIRMA AS","organisasjonsform":{"kode":"AS"},"slettedato":"2021-03-04"}`}},
			want:    Entity{OrgNo: numFound, Name: "GAMLE FIRMA AS", Form: "AS", Deleted: true, DeletedOn: "2021-03-04"},
			wantErr: ErrDeleted,
			calls:   1, cached: true,
		},
		{
			name:  "removed (410)",
			orgNo: numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 410,
				body: `{"organisasjonsnummer":"923609016","slettedato":"2019-01-02"}`}},
			want:    Entity{OrgNo: numFound, Deleted: true, DeletedOn: "2019-01-02"},
			wantErr: ErrDeleted,
			calls:   1, cached: true,
		},
		{
			name:    "removed (410) without a body",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 410}},
			want:    Entity{OrgNo: numFound, Deleted: true},
			wantErr: ErrDeleted,
			calls:   1, cached: true,
		},
		{
			name:    "unknown: 404 on both",
			orgNo:   numFound,
			answers: map[string]answer{},
			wantErr: ErrUnknown,
			calls:   2, cached: true,
		},
		{
			name:    "malformed number: no request",
			orgNo:   "923609017",
			answers: map[string]answer{},
			wantErr: ErrUnknown,
			calls:   0,
		},
		{
			name:    "400 from the register",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 400, body: `{"status":400,"error":"Bad Request"}`}},
			wantErr: ErrUnknown,
			calls:   1, cached: true,
		},
		{
			name:  "sub-unit",
			orgNo: numSub,
			answers: map[string]answer{"/api/underenheter/974760673": {status: 200,
				ctype: "application/vnd.brreg.enhetsregisteret.underenhet.v2+json",
				body:  `{"organisasjonsnummer":"974760673","navn":"EQUINOR ASA AVD BERGEN","organisasjonsform":{"kode":"BEDR"},"overordnetEnhet":"971524960","beliggenhetsadresse":{"poststed":"BERGEN"}}`}},
			want:  Entity{OrgNo: numSub, Name: "EQUINOR ASA AVD BERGEN", Form: "BEDR", ParentOrgNo: numParent},
			calls: 2, cached: true,
		},
		{
			name:  "bankrupt and being wound up",
			orgNo: numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200,
				body: `{"organisasjonsnummer":"923609016","navn":"KONKURS AS","organisasjonsform":{"kode":"AS"},"konkurs":true,"konkursdato":"2024-05-06","underTvangsavviklingEllerTvangsopplosning":true}`}},
			want:  Entity{OrgNo: numFound, Name: "KONKURS AS", Form: "AS", Bankrupt: true, WindingUp: true},
			calls: 1, cached: true,
		},
		{
			name:    "5xx",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 503, ctype: "text/html", body: "<h1>Service Unavailable</h1>"}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "5xx on the sub-unit path",
			orgNo:   numFound,
			answers: map[string]answer{"/api/underenheter/923609016": {status: 502}},
			wantErr: ErrUnavailable,
			calls:   2,
		},
		{
			name:    "429",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 429, body: `{"status":429}`}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "timeout",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {hang: true}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "bad JSON",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200, body: `{"organisasjonsnummer":"923609016","navn":`}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "HTML with 200",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200, ctype: "text/html", body: "<html>maintenance</html>"}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "another number's entity",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 200, body: strings.ReplaceAll(entityJSON, "923609016", "974760673")}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
		{
			name:    "406",
			orgNo:   numFound,
			answers: map[string]answer{"/api/enheter/923609016": {status: 406}},
			wantErr: ErrUnavailable,
			calls:   1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := register(t, tc.answers)
			c := New(srv.URL+"/api/", srv.Client())
			c.Timeout = 100 * time.Millisecond
			start := time.Now()
			got, err := c.Lookup(context.Background(), tc.orgNo)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Lookup took %v", took)
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Lookup(%q) error = %v, want %v", tc.orgNo, err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Lookup(%q) entity (-want +got):\n%s", tc.orgNo, d)
			}
			if n := calls.Load(); n != tc.calls {
				t.Errorf("%d requests, want %d", n, tc.calls)
			}
			// Again: a cached answer asks nothing; an unavailable one asks again.
			got2, err2 := c.Lookup(context.Background(), tc.orgNo)
			if !errors.Is(err2, tc.wantErr) || cmp.Diff(got, got2) != "" {
				t.Errorf("second Lookup = %+v, %v; want the first answer", got2, err2)
			}
			wantCalls := 2 * tc.calls
			if tc.cached {
				wantCalls = tc.calls
			}
			if n := calls.Load(); n != wantCalls {
				t.Errorf("after a second Lookup: %d requests, want %d (cached: %v)", n, wantCalls, tc.cached)
			}
		})
	}
}

// TestLookupTimeoutCap shows that a Timeout above MaxTimeout is cut, and
// that a caller's own deadline is kept.
func TestLookupTimeoutCap(t *testing.T) {
	t.Parallel()
	srv, _ := register(t, map[string]answer{"/api/enheter/923609016": {hang: true}})
	c := New(srv.URL+"/api", srv.Client())
	c.Timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Lookup(ctx, numFound); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lookup = %v, want ErrUnavailable from the caller's deadline", err)
	}
	start := time.Now()
	if _, err := c.Lookup(context.Background(), numFound); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Lookup = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took < MaxTimeout-100*time.Millisecond || took > MaxTimeout+time.Second {
		t.Errorf("Lookup gave up after %v, want about MaxTimeout (%v)", took, MaxTimeout)
	}
}

// TestCacheBoundedAndExpires checks the cache's size bound (least recently
// used out) and that answers expire.
func TestCacheBoundedAndExpires(t *testing.T) {
	t.Parallel()
	srv, calls := register(t, map[string]answer{"/api/enheter/923609016": {status: 200, body: entityJSON}})
	c := New(srv.URL+"/api", srv.Client())
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	c.cache = newCache(3)
	for _, n := range []string{numFound, "974760673", "971524960", "314248295"} {
		_, _ = c.Lookup(context.Background(), n)
	}
	if got := c.cache.len(); got != 3 {
		t.Fatalf("cache holds %d, want 3", got)
	}
	before := calls.Load()
	if _, err := c.Lookup(context.Background(), numFound); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == before {
		t.Errorf("the least recently used entry (%s) was not evicted", numFound)
	}
	before = calls.Load()
	if _, err := c.Lookup(context.Background(), numFound); err != nil || calls.Load() != before {
		t.Errorf("fresh entry not served from the cache: %v, %d requests", err, calls.Load()-before)
	}
	now = now.Add(foundTTL)
	if _, err := c.Lookup(context.Background(), numFound); err != nil || calls.Load() != before+1 {
		t.Errorf("expired entry served from the cache: %v, %d requests", err, calls.Load()-before)
	}
}

func TestParseCleansName(t *testing.T) {
	t.Parallel()
	e, err := parse([]byte(`{"organisasjonsnummer":"923609016","navn":"  A\u0000B\u200b  \n C AS ","organisasjonsform":{"kode":"<b>"}}`), numFound, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "A B C AS" || e.Form != "" {
		t.Errorf("name %q form %q, want %q and no form", e.Name, e.Form, "A B C AS")
	}
	if _, err := parse([]byte(`{"organisasjonsnummer":"974760673","navn":"X","overordnetEnhet":"123"}`), numSub, true); err == nil {
		t.Error("a sub-unit with an invalid parent was accepted")
	}
}
