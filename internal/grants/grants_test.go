package grants_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/grants"
	"github.com/onboard-altinn/onboard/internal/sim"
)

const (
	skattegrunnlag = "urn:altinn:accesspackage:skattegrunnlag"
	krav           = "ske-krav-og-betalinger"
	packageRoute   = "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/"
	resourceRoute  = "/resourceregistry/api/v1/resource/"
)

// altinnStub is a real HTTP server answering the metadata routes as told,
// counting its calls by path.
type altinnStub struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  map[string]int
	status int           // answer with this status instead (0: 200)
	name   string        // the package's bokmål name
	hold   chan struct{} // when set, every answer waits for it to close
}

func newStub(t *testing.T) *altinnStub {
	s := &altinnStub{calls: map[string]int{}, name: "Skattegrunnlag"}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path]++
		status, name, hold := s.status, s.name, s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		lang := r.Header.Get("Accept-Language")
		switch {
		case r.URL.Path == packageRoute+skattegrunnlag:
			n, d := name, "Bokmål om skattegrunnlag."
			switch lang {
			case "nn":
				d = "Nynorsk om skattegrunnlag."
			case "en":
				n, d = "Tax base", "English on the tax base."
			}
			w.Write([]byte(`{"id":"x","urn":"` + skattegrunnlag + `","name":"` + n + `","description":"` + d + `"}`))
		case r.URL.Path == resourceRoute+krav:
			w.Write([]byte(`{"identifier":"` + krav + `","title":{"nb":"Krav og betalinger","nn":"Krav og betalingar","en":"Claims and payments"},
			 "description":{"nb":"Om krav."},"rightDescription":{"nb":"Se krav.","en":"See claims."}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *altinnStub) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

func (s *altinnStub) set(f func(s *altinnStub)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// clock is a test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newCache(s *altinnStub) (*grants.Cache, *clock) {
	clk := &clock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := grants.New(altinn.NewMetadata(s.srv.URL, s.srv.Client()), nil)
	c.Now, c.Wait = clk.Now, 5*time.Second
	return c, clk
}

func TestNameInEveryLanguage(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	c, _ := newCache(s)
	ctx := context.Background()
	for _, tc := range []struct {
		kind       grants.Kind
		id, lang   string
		want       grants.Text
		wantCalls  int
		callsRoute string
	}{
		{grants.Package, skattegrunnlag, "nb", grants.Text{Name: "Skattegrunnlag", Description: "Bokmål om skattegrunnlag."}, 1, packageRoute + skattegrunnlag},
		{grants.Package, skattegrunnlag, "nn", grants.Text{Name: "Skattegrunnlag", Description: "Nynorsk om skattegrunnlag."}, 2, packageRoute + skattegrunnlag},
		{grants.Package, skattegrunnlag, "en", grants.Text{Name: "Tax base", Description: "English on the tax base."}, 3, packageRoute + skattegrunnlag},
		{grants.Package, skattegrunnlag, "en", grants.Text{Name: "Tax base", Description: "English on the tax base."}, 3, packageRoute + skattegrunnlag},
		// One read of a resource serves every language; a missing
		// translation is bokmål's.
		{grants.Right, krav, "nb", grants.Text{Name: "Krav og betalinger", Description: "Se krav."}, 1, resourceRoute + krav},
		{grants.Right, krav, "nn", grants.Text{Name: "Krav og betalingar", Description: "Se krav."}, 1, resourceRoute + krav},
		{grants.Right, krav, "en", grants.Text{Name: "Claims and payments", Description: "See claims."}, 1, resourceRoute + krav},
	} {
		if got := c.Name(ctx, tc.kind, tc.id, tc.lang); got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.id, tc.lang, got, tc.want)
		}
		if n := s.count(tc.callsRoute); n != tc.wantCalls {
			t.Errorf("%s %s: %d calls, want %d", tc.id, tc.lang, n, tc.wantCalls)
		}
	}
}

// TestConcurrentFirstCallersFetchOnce: many pages at once, in every
// language, cost one read of a resource.
func TestConcurrentFirstCallersFetchOnce(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	c, _ := newCache(s)
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for i := range 30 {
		lang := []string{"nb", "nn", "en"}[i%3]
		wg.Go(func() {
			if got := c.Name(context.Background(), grants.Right, krav, lang); !strings.HasPrefix(got.Name, "Krav og betaling") && got.Name != "Claims and payments" {
				wrong.Add(1)
			}
		})
	}
	wg.Wait()
	if n := s.count(resourceRoute + krav); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
	if wrong.Load() != 0 {
		t.Errorf("%d callers did not get Altinn's name", wrong.Load())
	}

	// While Altinn is slow, callers who give up share the one fetch still
	// under way, and find its answer afterwards.
	hold := make(chan struct{})
	s.set(func(s *altinnStub) { s.hold = hold })
	c.Wait = 20 * time.Millisecond
	for range 10 {
		wg.Go(func() {
			if got := c.Name(context.Background(), grants.Package, skattegrunnlag, "nb"); got.Name != "Skattegrunnlag" {
				wrong.Add(1) // i18n's name is the same word here
			}
		})
	}
	wg.Wait()
	close(hold)
	c.Wait = 5 * time.Second
	if got := c.Name(context.Background(), grants.Package, skattegrunnlag, "nb"); got.Description != "Bokmål om skattegrunnlag." {
		t.Errorf("after the slow fetch: %+v", got)
	}
	if n := s.count(packageRoute + skattegrunnlag); n != 1 {
		t.Errorf("%d fetches of the package, want 1", n)
	}
}

// TestExpiry: an answer is kept for TTL, then asked for again.
func TestExpiry(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	c, clk := newCache(s)
	ctx := context.Background()
	path := packageRoute + skattegrunnlag
	if got := c.Name(ctx, grants.Package, skattegrunnlag, "nb").Name; got != "Skattegrunnlag" {
		t.Fatalf("name %q", got)
	}
	s.set(func(s *altinnStub) { s.name = "Skattegrunnlag (ny)" })
	clk.advance(23 * time.Hour)
	if got := c.Name(ctx, grants.Package, skattegrunnlag, "nb").Name; got != "Skattegrunnlag" || s.count(path) != 1 {
		t.Errorf("within a day: %q after %d calls", got, s.count(path))
	}
	clk.advance(2 * time.Hour)
	if got := c.Name(ctx, grants.Package, skattegrunnlag, "nb").Name; got != "Skattegrunnlag (ny)" || s.count(path) != 2 {
		t.Errorf("after a day: %q after %d calls", got, s.count(path))
	}

	// Altinn failing: the old answer stays, and Altinn is left alone for
	// Retry.
	s.set(func(s *altinnStub) { s.status = http.StatusBadGateway })
	clk.advance(25 * time.Hour)
	if got := c.Name(ctx, grants.Package, skattegrunnlag, "nb").Name; got != "Skattegrunnlag (ny)" || s.count(path) != 3 {
		t.Errorf("Altinn down: %q after %d calls", got, s.count(path))
	}
	clk.advance(30 * time.Second)
	c.Name(ctx, grants.Package, skattegrunnlag, "nb")
	if n := s.count(path); n != 3 {
		t.Errorf("within Retry: %d calls, want 3", n)
	}
	s.set(func(s *altinnStub) { s.status = 0; s.name = "Skattegrunnlag (igjen)" })
	clk.advance(time.Minute)
	if got := c.Name(ctx, grants.Package, skattegrunnlag, "nb").Name; got != "Skattegrunnlag (igjen)" || s.count(path) != 4 {
		t.Errorf("after Retry: %q after %d calls", got, s.count(path))
	}
}

// TestFallback: unknown, failing and slow all give the service's own name,
// else the id in words, never a raw URN.
func TestFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const unknown = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"

	s := newStub(t) // knows neither of these
	c, clk := newCache(s)
	for _, tc := range []struct {
		kind     grants.Kind
		id, lang string
		want     string
	}{
		{grants.Package, unknown, "nb", "Regnskapsfører med signeringsrettighet"}, // i18n's
		{grants.Package, unknown, "en", "Accountant with signing rights"},
		{grants.Package, "urn:altinn:accesspackage:ukjent-pakke", "en", "Ukjent pakke"},
		{grants.Right, "app_ttd_min-app", "nb", "App ttd min app"},
	} {
		got := c.Name(ctx, tc.kind, tc.id, tc.lang)
		if got.Name != tc.want || got.Description != "" {
			t.Errorf("%s %s: %+v, want %q", tc.id, tc.lang, got, tc.want)
		}
	}
	// A 404 is remembered in every language: no new call before TTL.
	c.Name(ctx, grants.Package, unknown, "nn")
	if n := s.count(packageRoute + unknown); n != 1 {
		t.Errorf("unknown package: %d calls, want 1", n)
	}
	clk.advance(25 * time.Hour)
	c.Name(ctx, grants.Package, unknown, "nb")
	if n := s.count(packageRoute + unknown); n != 2 {
		t.Errorf("unknown package after a day: %d calls, want 2", n)
	}

	// Slow: the page waits Wait, not the fetch's length.
	slow := newStub(t)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	slow.set(func(s *altinnStub) { s.hold = hold })
	sc, _ := newCache(slow)
	sc.Wait = 50 * time.Millisecond
	start := time.Now()
	if got := sc.Name(ctx, grants.Right, krav, "en"); got.Name != "Claims and payments at the Tax Administration" {
		t.Errorf("slow Altinn: %+v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the page waited %v", d)
	}

	// Down: a closed server.
	down := newStub(t)
	down.srv.Close()
	dc, _ := newCache(down)
	if got := dc.Name(ctx, grants.Package, skattegrunnlag, "en"); got.Name != "Tax base" || got.Description != "" {
		t.Errorf("Altinn down: %+v", got)
	}

	// No cache at all.
	var none *grants.Cache
	if got := none.Name(ctx, grants.Right, krav, "nb"); got.Name != "Krav og betalinger hos Skatteetaten" {
		t.Errorf("nil cache: %+v", got)
	}
	none.Warm(ctx, grants.Right, krav)
}

func TestReadable(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"urn:altinn:accesspackage:regnskapsforer-lonn": "Regnskapsforer lonn",
		"URN:ALTINN:ACCESSPACKAGE:SKATT":               "SKATT",
		"ske-krav-og-betalinger":                       "Ske krav og betalinger",
		"app_ttd_min-app":                              "App ttd min app",
		"  ærlig--sak ":                                "Ærlig sak",
		"":                                             "",
		"urn:":                                         "",
		"ikke:urn":                                     "Ikke:urn",
	} {
		if got := grants.Readable(id); got != want {
			t.Errorf("Readable(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestAgainstTheSimulator names the default products' grants from the
// simulator in every language, and Warm fills the cache beforehand.
func TestAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	s, err := sim.New(sim.Config{PublicURL: "http://" + ts.Listener.Addr().String(), Seed: sim.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		s.Handler().ServeHTTP(w, r)
	})
	ts.Start()
	t.Cleanup(ts.Close)
	c := grants.New(altinn.NewMetadata(ts.URL, ts.Client()), nil)
	ctx := context.Background()
	c.Warm(ctx, grants.Package, skattegrunnlag, "urn:altinn:accesspackage:regnskapsforer-lonn")
	c.Warm(ctx, grants.Right, krav)
	warmed := calls.Load()
	if warmed != 7 { // two packages in three languages, one resource
		t.Errorf("Warm made %d calls, want 7", warmed)
	}
	for _, tc := range []struct {
		kind     grants.Kind
		id, lang string
		want     string
	}{
		{grants.Package, skattegrunnlag, "nb", "Skattegrunnlag"},
		{grants.Package, skattegrunnlag, "en", "Tax base"},
		{grants.Package, "urn:altinn:accesspackage:regnskapsforer-lonn", "nn", "Rekneskapsførar løn"},
		{grants.Right, krav, "nb", "Krav og betalinger"},
		{grants.Right, krav, "nn", "Krav og betalingar"},
		{grants.Right, krav, "en", "Claims and payments"},
	} {
		got := c.Name(ctx, tc.kind, tc.id, tc.lang)
		if got.Name != tc.want || got.Description == "" || strings.Contains(got.Description, "urn:") {
			t.Errorf("%s %s: %+v, want %q with a description", tc.id, tc.lang, got, tc.want)
		}
	}
	rs, ps := c.Names(ctx, "en", []string{krav, "ukjent-ressurs"}, []string{skattegrunnlag})
	if len(rs) != 2 || rs[0].Name != "Claims and payments" || rs[1].Name != "Ukjent ressurs" || len(ps) != 1 || ps[0].Name != "Tax base" {
		t.Errorf("Names: %+v %+v", rs, ps)
	}
	if n := calls.Load(); n != warmed+1 { // only the unknown resource
		t.Errorf("%d calls after Warm, want 1", n-warmed)
	}
}
