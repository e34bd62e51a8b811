package app_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// Route patterns as the simulator counts calls (sim.Stats.Calls).
const (
	callCreate = "POST " + vendorPath
	callRead   = "GET " + vendorPath + "/{id}"
	callLookup = "GET " + vendorPath + "/byexternalref/{systemId}/{orgNo}/{externalRef}"
	callToken  = "/token"
)

// faultCase is one fault the outside world can throw at the service, and
// what must come of it.
type faultCase struct {
	name string
	// on says where the fault meets the customer: "create" (the submit of
	// the org number) or "read" (the status page of a pending onboarding).
	on       string
	faults   []sim.Fault
	settings map[string]string

	// What the customer sees: where the submit's 303 leads ("status" or
	// "altinn"; create only), then the status page's outcome and the text
	// (an i18n key) it says.
	submitTo string
	outcome  string
	says     string
	// What the database holds: status, error_code ("" none), a word in
	// error_message, and the failed Altinn call in the history with the
	// HTTP status it got (0: no answer).
	status   string
	code     string
	msgHas   string
	call     string
	callHTTP int
	// What Altinn holds for the key while the fault lasts (all requests,
	// deleted ones too).
	stored int
	// calls are exact counts of calls the simulator saw while the fault lasted.
	calls map[string]int
	// check, when set, checks more while the fault lasts.
	check func(t *testing.T, e *env, b *browser, o *domain.Onboarding)
}

// foreignConfirm is a 201 whose confirmUrl sends the customer off Altinn.
const foreignConfirm = `{"id":"6f1c0e52-3f1e-4f8b-9d1e-7c2b1a0d9e11","systemId":"991825827_smartcloud","partyOrgNo":"314248295",` +
	`"externalRef":"314248295","status":"New","redirectUrl":"",` +
	`"confirmUrl":"https://evil.example/accessmanagement/ui/systemuser/request?id=6f1c0e52-3f1e-4f8b-9d1e-7c2b1a0d9e11"}`

// TestFaults throws each fault of the outside world (Altinn, Maskinporten)
// at a customer and checks what the customer sees (a page saying what to do
// next: never a 500 or an error text), what the database holds afterwards,
// and that Altinn never ends with more than one request for the key. Then
// the fault goes away and the customer (and the reconciler) finish with
// exactly one request.
func TestFaults(t *testing.T) {
	t.Parallel()
	problem := func(status int, title string) string {
		return `{"type":"https://tools.ietf.org/html/rfc9110","title":"` + title + `","status":` + strconv.Itoa(status) + `}`
	}
	unavailable := func(name string, f sim.Fault, httpStatus int, msg string) faultCase {
		return faultCase{name: name, on: "create", faults: []sim.Fault{f},
			submitTo: "status", outcome: string(domain.StatusRequesting), says: "outcome.unavailable",
			status: string(domain.StatusRequesting), code: "altinn_unavailable", msgHas: msg,
			call: "POST request/vendor", callHTTP: httpStatus,
			calls: map[string]int{callCreate: 1, callLookup: 1}}
	}
	storedAnyway := func(name string, f sim.Fault, httpStatus int) faultCase {
		// Altinn stored the request but its answer was lost: the status page's
		// lookup by external ref finds it, and the customer goes on.
		return faultCase{name: name, on: "create", faults: []sim.Fault{f},
			submitTo: "status", outcome: string(domain.StatusPending), says: "outcome.pending",
			status: string(domain.StatusPending), call: "POST request/vendor", callHTTP: httpStatus, stored: 1,
			calls: map[string]int{callCreate: 1, callLookup: 1}}
	}
	readFails := func(name string, f sim.Fault, httpStatus int, msg string) faultCase {
		// The customer waits on the status page: it shows the stored state
		// and Altinn's link again, and says nothing is lost.
		return faultCase{name: name, on: "read", faults: []sim.Fault{f},
			outcome: string(domain.StatusPending), says: "outcome.pending",
			status: string(domain.StatusPending), code: "altinn_unavailable", msgHas: msg,
			call: "GET request/vendor/{id}", callHTTP: httpStatus, stored: 1,
			calls: map[string]int{callCreate: 1, callRead: 1}}
	}
	tokenRefused := func(name string, status int, body string) faultCase {
		return faultCase{name: name, on: "create",
			faults:   []sim.Fault{{Method: http.MethodPost, Path: "/token", Status: status, Body: body}},
			submitTo: "status", outcome: string(domain.StatusRequesting), says: "outcome.unavailable",
			status: string(domain.StatusRequesting), code: "altinn_unavailable", msgHas: "maskinporten",
			call: "POST request/vendor", callHTTP: 0,
			// No token, so nothing reached Altinn; one fetch per attempt
			// (the submit, the status page's lookup), none cached.
			calls: map[string]int{callCreate: 0, callLookup: 0, callToken: 2}}
	}

	tests := []faultCase{
		unavailable("Altinn 500 on create", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 500,
			Body: problem(500, "An error occurred while processing your request.")}, 500, "500"),
		unavailable("Altinn 502 on create (gateway page)", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 502,
			Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}, 502, "502"),
		unavailable("Altinn 503 on create", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 503,
			Body: "Service Unavailable"}, 503, "503"),
		storedAnyway("Altinn 500 on create after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 500, AfterStore: true}, 500),
		storedAnyway("Altinn 502 on create after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 502, AfterStore: true}, 502),
		storedAnyway("Altinn 503 on create after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 503, AfterStore: true}, 503),
		{
			name: "Altinn 429 with Retry-After on create", on: "create",
			faults: []sim.Fault{{Method: http.MethodPost, Path: vendorPath, Status: 429, Times: 1,
				Header: map[string]string{"Retry-After": "12"}}},
			submitTo: "status", outcome: string(domain.StatusRequesting), says: "outcome.unavailable",
			status: string(domain.StatusRequesting), code: "altinn_unavailable", msgHas: "Retry-After",
			call: "POST request/vendor", callHTTP: 429,
			// The status page's lookup was held back: not sent.
			calls: map[string]int{callCreate: 1, callLookup: 0},
			check: func(t *testing.T, e *env, b *browser, o *domain.Onboarding) {
				holdEnds := e.app.Onboardings.NotBefore()
				// Generous bounds: a loaded CI machine may take seconds to get here.
				if d := time.Until(holdEnds); d < 6*time.Second || d > 12*time.Second {
					t.Fatalf("held until %v from now, want the 12 s Altinn asked for", d)
				}
				if o.NextCheckAt == nil || o.NextCheckAt.Before(holdEnds.Add(-time.Millisecond)) {
					t.Fatalf("next check %v, want none before the hold ends (%v)", o.NextCheckAt, holdEnds)
				}
				// The customer presses "try again" at once, and the reconciler
				// comes by: nothing is sent before the Retry-After passes.
				page := b.get(e.web.URL + "/status/" + o.Ref)
				retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, page)}})
				if retry.status != http.StatusSeeOther || !strings.HasPrefix(retry.location, "/status/") {
					t.Fatalf("retry during the hold: %d %q, want back to the status page", retry.status, retry.location)
				}
				o = e.reconcile(o)
				if o.NextCheckAt == nil || o.NextCheckAt.Before(holdEnds.Add(-time.Millisecond)) {
					t.Fatalf("after a reconcile during the hold: next check %v, want not before %v", o.NextCheckAt, holdEnds)
				}
				if c := e.app.Sim.Stats().Calls; c[callCreate] != 1 || c[callLookup] != 0 {
					t.Fatalf("Altinn was called during its Retry-After: %d creates, %d lookups", c[callCreate], c[callLookup])
				}
				time.Sleep(time.Until(holdEnds))
			},
		},
		{
			name: "Altinn 429 with Retry-After on the status read", on: "read",
			faults: []sim.Fault{{Method: http.MethodGet, Path: vendorPath + "/", Status: 429, Times: 1,
				Header: map[string]string{"Retry-After": "12"}}},
			outcome: string(domain.StatusPending), says: "outcome.pending",
			status: string(domain.StatusPending), code: "altinn_unavailable", msgHas: "429",
			call: "GET request/vendor/{id}", callHTTP: 429, stored: 1,
			calls: map[string]int{callCreate: 1, callRead: 1},
			check: func(t *testing.T, e *env, b *browser, o *domain.Onboarding) {
				holdEnds := e.app.Onboardings.NotBefore()
				if o.NextCheckAt == nil || o.NextCheckAt.Before(holdEnds.Add(-time.Millisecond)) {
					t.Fatalf("next check %v, want none before the hold ends (%v)", o.NextCheckAt, holdEnds)
				}
				// A reload and the reconciler during the hold: no read sent.
				if p := b.get(e.web.URL + "/status/" + o.Ref); p.status != http.StatusOK {
					t.Fatalf("reload during the hold: %d", p.status)
				}
				o = e.reconcile(o)
				if o.NextCheckAt == nil || o.NextCheckAt.Before(holdEnds.Add(-time.Millisecond)) {
					t.Fatalf("after a reconcile during the hold: next check %v, want not before %v", o.NextCheckAt, holdEnds)
				}
				if n := e.app.Sim.Stats().Calls[callRead]; n != 1 {
					t.Fatalf("Altinn got %d reads, want 1: none during its Retry-After", n)
				}
				time.Sleep(time.Until(holdEnds))
			},
		},
		unavailable("Altinn hangs on create (timeout)", sim.Fault{Method: http.MethodPost, Path: vendorPath, Hang: true}, 0, "deadline"),
		storedAnyway("Altinn stores, then hangs on create (timeout)", sim.Fault{Method: http.MethodPost, Path: vendorPath, AfterStore: true, Hang: true}, 0),
		readFails("Altinn hangs on the status read (timeout)", sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Hang: true}, 0, "deadline"),
		{
			name: "Maskinporten hangs (timeout)", on: "create",
			faults:   []sim.Fault{{Method: http.MethodPost, Path: "/token", Hang: true}},
			submitTo: "status", outcome: string(domain.StatusRequesting), says: "outcome.unavailable",
			status: string(domain.StatusRequesting), code: "altinn_unavailable", msgHas: "maskinporten",
			call: "POST request/vendor", callHTTP: 0,
			calls: map[string]int{callCreate: 0, callLookup: 0, callToken: 2},
		},
		unavailable("malformed JSON on create", sim.Fault{Method: http.MethodPost, Path: vendorPath, Malformed: true}, 0, "malformed"),
		storedAnyway("malformed JSON on create after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Malformed: true, AfterStore: true}, 0),
		readFails("malformed JSON on the status read", sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Malformed: true}, 0, "malformed"),
		readFails("Altinn 503 on the status read", sim.Fault{Method: http.MethodGet, Path: vendorPath + "/", Status: 503}, 503, "503"),
		{
			name: "confirmUrl on a host not allowed", on: "create",
			// Altinn answers the create, and every read after it, with a
			// confirmUrl off the allowlist.
			faults: []sim.Fault{
				{Method: http.MethodPost, Path: vendorPath, Status: 201, Body: foreignConfirm,
					Header: map[string]string{"Content-Type": "application/json"}},
				{Method: http.MethodGet, Path: vendorPath + "/", Status: 200, Body: foreignConfirm,
					Header: map[string]string{"Content-Type": "application/json"}},
			},
			// Never sent to the foreign host: to our status page, which says why.
			submitTo: "status", outcome: string(domain.StatusPending), says: "outcome.confirmhost",
			status: string(domain.StatusPending), code: "confirm_host", msgHas: "evil.example",
			calls: map[string]int{callCreate: 1, callRead: 1},
			check: func(t *testing.T, e *env, b *browser, o *domain.Onboarding) {
				if o.ConfirmURL != nil {
					t.Fatalf("a foreign confirmUrl was stored: %q", *o.ConfirmURL)
				}
				if p := b.get(e.web.URL + "/status/" + o.Ref); strings.Contains(p.body, "evil.example") ||
					strings.Contains(p.body, `data-testid="continue"`) {
					t.Fatalf("the status page links to the foreign host:\n%s", p.body)
				}
			},
		},
		{
			// Altinn rejects the token once: the client fetches a new one and
			// the create goes through; the customer never notices.
			name: "Altinn 401 once (token rejected, fresh token works)", on: "create",
			faults: []sim.Fault{{Method: http.MethodPost, Path: vendorPath, Status: 401, Times: 1,
				Header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}}},
			submitTo: "altinn", outcome: string(domain.StatusPending), says: "outcome.pending",
			status: string(domain.StatusPending), stored: 1,
			// Two tokens for the create (the rejected one, the fresh one),
			// one for the status page's read (another scope).
			calls: map[string]int{callCreate: 2, callToken: 3},
		},
		{
			// Altinn rejects the fresh token too: one new token, no third try,
			// and a clear failure the customer can retry.
			name: "Altinn 401 twice (token rejected, fresh token too)", on: "create",
			faults: []sim.Fault{{Method: http.MethodPost, Path: vendorPath, Status: 401,
				Header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}}},
			submitTo: "status", outcome: string(domain.StatusFailed), says: "outcome.failed",
			status: string(domain.StatusFailed), code: "altinn_refused", msgHas: "401",
			call: "POST request/vendor", callHTTP: 401,
			calls: map[string]int{callCreate: 2, callToken: 2},
		},
		tokenRefused("Maskinporten 400 invalid_grant", 400,
			`{"error":"invalid_grant","error_description":"Invalid assertion. Client authentication failed."}`),
		tokenRefused("Maskinporten 401 invalid_client", 401, `{"error":"invalid_client","error_description":"Unknown client"}`),
		tokenRefused("Maskinporten 503", 503, "Service Unavailable"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			settings := map[string]string{"ONBOARD_ALTINN_TIMEOUT": "1s"}
			for k, v := range tt.settings {
				settings[k] = v
			}
			e := newEnv(t, settings)
			b := e.browser()
			if tt.on == "read" {
				e.startFlow(b, "standard", org)
			}
			var removes []func()
			for _, f := range tt.faults {
				removes = append(removes, e.app.Sim.Inject(f))
			}

			// What the customer sees.
			start := time.Now()
			var o *domain.Onboarding
			if tt.on == "create" {
				res := e.submitAndConfirm(b, "standard", org)
				customerPage(t, "submit", res)
				o = e.onboardingForOrg(org)
				switch {
				case res.status != http.StatusSeeOther:
					t.Fatalf("submit: %d, want 303\n%s", res.status, res.body)
				case tt.submitTo == "status" && res.location != "/status/"+o.Ref:
					t.Fatalf("submit: Location %q, want the status page", res.location)
				case tt.submitTo == "altinn" && !strings.HasPrefix(res.location, e.sim.URL+"/accessmanagement/"):
					t.Fatalf("submit: Location %q, want Altinn's confirm page", res.location)
				}
			}
			o = e.onboardingForOrg(org)
			page := b.get(e.web.URL + "/status/" + o.Ref)
			customerPage(t, "status page", page)
			if took := time.Since(start); took > 25*time.Second {
				t.Fatalf("the customer waited %v for a page", took)
			}
			if st, _ := outcomeOf(t, page); st != tt.outcome {
				t.Fatalf("status page shows %q, want %q\n%s", st, tt.outcome, page.body)
			}
			if want := html.EscapeString(i18n.T("nb", tt.says)); !strings.Contains(page.body, want) {
				t.Fatalf("status page does not say %q:\n%s", want, page.body)
			}

			// What the database holds.
			o = e.onboardingForOrg(org)
			if string(o.Status) != tt.status {
				t.Fatalf("db: status %q, want %q (error %v)", o.Status, tt.status, deref(o.ErrorMessage))
			}
			if got := deref(o.ErrorCode); got != tt.code {
				t.Fatalf("db: error_code %q, want %q (%s)", got, tt.code, deref(o.ErrorMessage))
			}
			if !strings.Contains(deref(o.ErrorMessage), tt.msgHas) {
				t.Fatalf("db: error_message %q, want it to mention %q", deref(o.ErrorMessage), tt.msgHas)
			}
			if tt.call != "" && !hasCall(e.events(o), tt.call, tt.callHTTP) {
				t.Fatalf("db: no %s call with status %d in the history: %v", tt.call, tt.callHTTP, callsOf(e.events(o)))
			}

			// What Altinn holds and was asked.
			if n := e.allRequestsFor(org); n != tt.stored {
				t.Fatalf("Altinn holds %d requests for the key, want %d", n, tt.stored)
			}
			stats := e.app.Sim.Stats().Calls
			for call, want := range tt.calls {
				if stats[call] != want {
					t.Errorf("Altinn/Maskinporten saw %d × %s, want %d (all calls: %v)", stats[call], call, want, stats)
				}
			}
			if tt.check != nil {
				tt.check(t, e, b, o)
			}
			if t.Failed() {
				return
			}

			// The fault goes away: the customer reloads, and tries again if
			// the page offers it; the reconciler comes by. Exactly one
			// request at Altinn, and the customer is on the way to approve it.
			for _, remove := range removes {
				remove()
			}
			page = b.get(e.web.URL + "/status/" + o.Ref)
			customerPage(t, "reload", page)
			o = e.onboardingForOrg(org)
			if o.Status != domain.StatusPending {
				retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, page)}})
				if retry.status != http.StatusSeeOther || !strings.HasPrefix(retry.location, e.sim.URL+"/accessmanagement/") {
					t.Fatalf("try again after the fault: %d %q, want Altinn's confirm page", retry.status, retry.location)
				}
			}
			o = e.reconcile(e.onboardingForOrg(org))
			if o.Status != domain.StatusPending || o.ErrorCode != nil || o.ConfirmURL == nil {
				t.Fatalf("after the fault: %q (error %v), want pending with Altinn's link", o.Status, deref(o.ErrorMessage))
			}
			if n, live := e.allRequestsFor(org), e.simRequestsFor(org); n != 1 || live != 1 {
				t.Fatalf("after the fault Altinn holds %d requests for the key (%d live), want exactly 1", n, live)
			}
			if *o.AltinnRequestID != e.app.Sim.Requests()[0].ID {
				t.Fatalf("the onboarding follows %s, Altinn holds %s", *o.AltinnRequestID, e.app.Sim.Requests()[0].ID)
			}
		})
	}
}

// customerPage fails the test when a page the customer gets is a 500 or
// shows anything of an error's insides.
func customerPage(t *testing.T, what string, p page) {
	t.Helper()
	if p.status >= 500 {
		t.Fatalf("%s: %d\n%s", what, p.status, p.body)
	}
	if leak := insidesRE.FindString(p.body); leak != "" {
		t.Fatalf("%s shows %q to the customer:\n%s", what, leak, p.body)
	}
	for _, leak := range []string{"panic", "altinn: ", "maskinporten:", "stack"} {
		if strings.Contains(p.body, leak) {
			t.Fatalf("%s shows %q to the customer:\n%s", what, leak, p.body)
		}
	}
}

// allRequestsFor counts every request Altinn ever stored for the org,
// deleted ones too.
func (e *env) allRequestsFor(orgNo string) int {
	n := 0
	for _, r := range e.app.Sim.Requests() {
		if r.PartyOrgNo == orgNo {
			n++
		}
	}
	return n
}

func hasCall(evs []domain.Event, op string, status int) bool {
	for _, ev := range evs {
		if ev.Kind == domain.EventAltinnCall && ev.Operation == op && ev.HTTPStatus == status && ev.Message != "" {
			return true
		}
	}
	return false
}

func callsOf(evs []domain.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Kind == domain.EventAltinnCall {
			out = append(out, ev.Operation+" "+strconv.Itoa(ev.HTTPStatus)+" "+ev.Message)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pgProxy stands between the app and Postgres, so a test can take the
// database away (every connection cut, new ones refused) and bring it back,
// as a Postgres restart or failover does, without touching the server that
// other tests share.
type pgProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// newPGProxy proxies the database at dbURL and returns the proxy and the
// URL that goes through it.
func newPGProxy(t *testing.T, dbURL string) (*pgProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close() // refused: the server is not there
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut drops every connection and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// load is customers using the service while the test does something to it:
// status page views and new submits, each from an address of its own (the
// service is behind a proxy), so the rate limits stay out of the way.
type load struct {
	e    *env
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	results []loadResult
	orgs    []string // org numbers submitted
}

type loadResult struct {
	at         time.Time
	took       time.Duration
	what       string
	status     int
	body       string
	retryAfter string
	err        error
}

var loadIP atomic.Int64

// count is how many of the workers' results that started at since or
// later match.
func (l *load) count(since time.Time, match func(loadResult) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if !r.at.Before(since) && match(r) {
			n++
		}
	}
	return n
}

func (l *load) do(method, path string, form url.Values) loadResult {
	return l.doJar(nil, method, path, form)
}

// startLoad runs workers that view the status page of ref and submit new
// org numbers (each with the CSRF token of the form they fetched) until
// stopped.
func startLoad(e *env, ref string, workers int) *load {
	l := &load{e: e, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			jar, _ := cookiejar.New(nil)
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				var r loadResult
				if i%3 == 2 {
					// A new customer: the form, then the submit.
					org := validOrg(1000 + w*1000 + i)
					form := l.doJar(jar, http.MethodGet, "/onboard/standard/org", nil)
					m := csrfRE.FindStringSubmatch(form.body)
					if form.status != http.StatusOK || m == nil {
						r = form // recorded, not dropped: a bare break would end the worker
					} else {
						l.mu.Lock()
						l.orgs = append(l.orgs, org)
						l.mu.Unlock()
						r = l.doJar(jar, http.MethodPost, "/onboard/standard/org", url.Values{"orgno": {org}, "_csrf": {m[1]}})
					}
				} else {
					r = l.doJar(jar, http.MethodGet, "/status/"+ref, nil)
				}
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) doJar(jar http.CookieJar, method, path string, form url.Values) loadResult {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, l.e.web.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	n := loadIP.Add(1)
	req.Header.Set("X-Forwarded-For", "203.0."+strconv.FormatInt(113+n/250%10, 10)+"."+strconv.FormatInt(1+n%250, 10))
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	res, err := c.Do(req)
	r := loadResult{at: start, what: method + " " + path, err: err}
	if err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r.status, r.body, r.retryAfter = res.StatusCode, string(b), res.Header.Get("Retry-After")
	}
	r.took = time.Since(start)
	return r
}

// finish stops the workers and returns what they got.
func (l *load) finish() ([]loadResult, []string) {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results, l.orgs
}

// validOrg makes a valid organisation number from n (mod-11 check digit),
// skipping the numbers whose check digit would be 10.
func validOrg(n int) string {
	weights := []int{3, 2, 7, 6, 5, 4, 3, 2}
	for ; ; n++ {
		s := fmt.Sprintf("31%06d", n%1000000)
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		check := (11 - sum%11) % 11
		if check == 10 {
			continue
		}
		return s + strconv.Itoa(check)
	}
}

// TestFaultPostgresRestart takes the database away under load (every
// connection cut, new ones refused, as a restart does) and brings it back:
// meanwhile every request fails fast with a page saying to try again in a
// moment (503, never 500); afterwards the same process serves again and its
// background jobs carry on, with nothing lost and no request made twice.
// Then every connection of the app is terminated by Postgres itself
// (pg_terminate_backend), which costs at most a few 503s.
func TestFaultPostgresRestart(t *testing.T) {
	t.Parallel()
	direct := dbtest.NewURL(t)
	proxy, proxied := newPGProxy(t, direct)
	e := newEnv(t, map[string]string{
		"DATABASE_URL": proxied, "ONBOARD_BEHIND_PROXY": "true", "ONBOARD_ALTINN_TIMEOUT": "2s",
		"ONBOARD_SWEEP_INTERVAL": "1s", "ONBOARD_RECONCILE_SCHEDULE": "1s,2s,3s",
	})
	check, err := db.Open(context.Background(), direct+"&application_name=faults_test")
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	e.startJobs()
	b := e.browser()
	e.startFlow(b, "standard", org)
	o := e.onboardingForOrg(org)

	clear503 := html.EscapeString(i18n.T("nb", "error.503"))
	is503Page := func(r loadResult) bool {
		return r.status == http.StatusServiceUnavailable && strings.Contains(r.body, clear503) &&
			strings.Contains(r.body, `data-status="503"`)
	}
	l := startLoad(e, o.Ref, 6)
	anything := func(loadResult) bool { return true }
	good := func(r loadResult) bool { return r.status == http.StatusOK || r.status == http.StatusSeeOther }
	waitFor(t, 20*time.Second, "good answers under load before the cut", func() bool { return l.count(time.Time{}, good) >= 6 })
	cutAt := time.Now()
	proxy.cut()

	// While the database is away: a clear 503 at once, for the customer and
	// the load balancer alike; the process itself is up.
	for _, path := range []string{"/status/" + o.Ref, "/readyz"} {
		start := time.Now()
		r := l.do(http.MethodGet, path, nil)
		if r.status != http.StatusServiceUnavailable || time.Since(start) > 3*time.Second {
			t.Fatalf("GET %s without the database: %d after %v, want a 503 at once\n%s", path, r.status, time.Since(start), r.body)
		}
		if path != "/readyz" && (!is503Page(r) || r.retryAfter == "") {
			t.Fatalf("GET %s without the database: not the clear 503 page:\n%s", path, r.body)
		}
	}
	if r := l.do(http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Fatalf("/healthz without the database: %d, want 200 (the process is up)", r.status)
	}
	// New customers try to start while it is away (their form or their
	// submit sent after the cut): none of them may reach Altinn.
	creates := e.app.Sim.Stats().Calls[callCreate]
	starts := func(r loadResult) bool { return strings.HasSuffix(r.what, " /onboard/standard/org") }
	waitFor(t, 20*time.Second, "new customers trying while the database is away", func() bool { return l.count(cutAt, starts) >= 4 })
	if n := e.app.Sim.Stats().Calls[callCreate]; n != creates {
		t.Fatalf("%d creates reached Altinn while the database was away: nothing may be created that is not recorded first", n-creates)
	}
	restoreAt := time.Now()
	proxy.restore()

	// Back without a restart: the first good answer comes soon.
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := l.do(http.MethodGet, "/status/"+o.Ref, nil)
		if r.status == http.StatusOK {
			t.Logf("served again %v after the database came back", time.Since(restoreAt).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the database came back: %d\n%s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Load on the recovered service.
	recovered := time.Now()
	waitFor(t, 20*time.Second, "load on the recovered service", func() bool { return l.count(recovered, anything) >= 12 })

	// Postgres itself ends every connection of the app (as a restart of
	// the server does): the pool replaces them.
	var killed int
	if err := check.Pool.QueryRow(context.Background(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()
		  AND application_name <> 'faults_test'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	waitFor(t, 20*time.Second, "load after the backends were terminated", func() bool { return l.count(killedAt, anything) >= 12 })
	results, orgs := l.finish()

	var served, unavailable, during, after int
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("%s at %v: %v", r.what, r.at.Sub(cutAt).Round(time.Millisecond), r.err)
		case r.status >= 500 && !is503Page(r):
			t.Errorf("%s at %v: %d, want the clear 503 page:\n%s", r.what, r.at.Sub(cutAt).Round(time.Millisecond), r.status, r.body)
		case r.status == http.StatusServiceUnavailable:
			unavailable++
			if r.at.After(restoreAt.Add(5 * time.Second)) {
				after++
			}
		case r.status == http.StatusOK || r.status == http.StatusSeeOther:
			served++
			if r.at.After(cutAt.Add(100*time.Millisecond)) && r.at.Before(restoreAt.Add(-200*time.Millisecond)) {
				during++
			}
		default:
			t.Errorf("%s: %d\n%s", r.what, r.status, r.body)
		}
		// Failing fast: a 503 within a few seconds, never the request's
		// own 45 s deadline; and nothing else hangs either.
		if (r.status == http.StatusServiceUnavailable && r.took > 3*time.Second) || r.took > 10*time.Second {
			t.Errorf("%s at %v: %d after %v: requests must fail fast", r.what, r.at.Sub(cutAt).Round(time.Millisecond), r.status, r.took)
		}
	}
	t.Logf("load: %d requests, %d served, %d clear 503s; %d backends terminated; %d new customers", len(results), served, unavailable, killed, len(orgs))
	if unavailable == 0 || served == 0 {
		t.Fatalf("the load saw %d 503s and %d good answers: the outage did not show", unavailable, served)
	}
	if during > 0 {
		t.Errorf("%d requests were served while the database was away", during)
	}
	if after > 3 {
		t.Errorf("%d requests failed more than 5 s after the database came back (terminated backends cost at most a few)", after)
	}

	// The background jobs carry on in the same process: approved at
	// Altinn with nobody coming back, the reconciler finds it.
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	// Nothing lost, nothing twice: every customer who got an onboarding
	// recorded ends with it at Altinn exactly once (those whose submit met
	// the outage before the record was written have none, and were told to
	// try again).
	deadline = time.Now().Add(30 * time.Second)
	for {
		pending := 0
		rows, err := check.Pool.Query(context.Background(), `SELECT org_no, status FROM onboardings`)
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[string]string{}
		for rows.Next() {
			var orgNo, st string
			if err := rows.Scan(&orgNo, &st); err != nil {
				t.Fatal(err)
			}
			statuses[orgNo] = st
			if st == string(domain.StatusRequesting) {
				pending++
			}
		}
		rows.Close()
		if statuses[org] == string(domain.StatusConnected) && pending == 0 {
			for orgNo := range statuses {
				if n := e.allRequestsFor(orgNo); n != 1 {
					t.Errorf("org %s: Altinn holds %d requests, want exactly 1", orgNo, n)
				}
			}
			t.Logf("%d onboardings, each with exactly one request at Altinn; the approved one connected by the reconciler", len(statuses))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the outage: %s is %q, %d still requesting", org, statuses[org], pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
