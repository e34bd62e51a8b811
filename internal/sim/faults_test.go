package sim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	e.sim.Inject(Fault{
		Method: "POST", Path: reqPath, Status: 503, Times: 1,
		Body:   `{"title":"Service Unavailable","status":503}`,
		Header: map[string]string{"Retry-After": "2"},
	})
	// GETs on the same prefix are not affected by a POST fault.
	if r := e.do("GET", reqPath+"/bysystem/"+systemID, tok, nil); r.status != 200 {
		t.Errorf("GET: %d", r.status)
	}
	r := e.do("POST", reqPath, tok, standardBody(customerOrg))
	if r.status != 503 || r.header.Get("Retry-After") != "2" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("faulted: %d %v", r.status, r.header)
	}
	if n := len(e.sim.Requests()); n != 0 {
		t.Errorf("%d requests stored by a plain fault", n)
	}
	// Times: 1 is used up.
	e.create(tok, standardBody(customerOrg), http.StatusCreated)
	if got := e.sim.Stats().Calls["POST "+reqPath]; got != 2 {
		t.Errorf("calls %d, want 2 (faulted calls count)", got)
	}
}

func TestFaultTimesAndRemove(t *testing.T) {
	e := newEnv(t)
	e.sim.Inject(Fault{Path: "/token", Status: 500, Times: 2, Body: "boom"})
	grant := func() int {
		status, _ := e.postTokenRaw(e.sign(e.claims(testClientID, ScopeRequestRead), testKID))
		return status
	}
	for i, want := range []int{500, 500, 200} {
		if got := grant(); got != want {
			t.Errorf("call %d: %d, want %d", i, got, want)
		}
	}
	remove := e.sim.Inject(Fault{Path: "/token", Status: 502})
	if got := grant(); got != 502 {
		t.Errorf("until removed: %d", got)
	}
	remove()
	if got := grant(); got != 200 {
		t.Errorf("after remove: %d", got)
	}
	e.sim.Inject(Fault{Status: 418})
	e.sim.Inject(Fault{Status: 419})
	if got := grant(); got != 418 {
		t.Errorf("first fault wins: %d", got)
	}
	e.sim.ClearFaults()
	if got := grant(); got != 200 {
		t.Errorf("after ClearFaults: %d", got)
	}
}

func TestFaultAfterStore(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	e.sim.Inject(Fault{Method: "POST", Path: reqPath, Status: 504, AfterStore: true, Times: 1})
	if r := e.do("POST", reqPath, tok, standardBody(customerOrg)); r.status != 504 {
		t.Fatalf("status %d", r.status)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 1 || reqs[0].Status != "New" {
		t.Fatalf("AfterStore stored %+v", reqs)
	}
	// The retry finds the stored request: 200, same id.
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["id"] != reqs[0].ID {
		t.Errorf("retry %v, stored %s", got["id"], reqs[0].ID)
	}
}

func TestFaultMalformed(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	e.sim.Inject(Fault{Method: "POST", Path: reqPath, Malformed: true, AfterStore: true})
	r := e.do("POST", reqPath, tok, standardBody(customerOrg))
	var v any
	if r.status != 200 || json.Unmarshal(r.body, &v) == nil {
		t.Errorf("malformed: %d %s", r.status, r.body)
	}
	if n := len(e.sim.Requests()); n != 1 {
		t.Errorf("%d requests stored", n)
	}
}

func TestFaultHangAndLatencyRespectContext(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	for _, f := range []Fault{
		{Path: reqPath, Hang: true},
		{Path: reqPath, Latency: time.Hour, Status: 500},
	} {
		remove := e.sim.Inject(f)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+reqPath+"/"+newUUID(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		_, err := http.DefaultClient.Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%+v: err %v", f, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%+v: took %s", f, d)
		}
		remove()
	}
	// The handlers have returned: the server closes (t.Cleanup) without waiting, and
	// a normal call still works.
	if r := e.do("GET", reqPath+"/"+newUUID(), tok, nil); r.status != 404 {
		t.Errorf("after: %d", r.status)
	}
}

func TestFaultLatencyPassesThrough(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	e.sim.Inject(Fault{Path: reqPath, Latency: 50 * time.Millisecond})
	start := time.Now()
	r := e.do("GET", reqPath+"/"+newUUID(), tok, nil)
	if code, _ := problemCode(t, r); code != "AUTH-00010" {
		t.Errorf("code %s", code)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("no latency: %s", d)
	}
}

// postTokenRaw posts a grant and returns the status and raw body.
func (e *env) postTokenRaw(assertion string) (int, string) {
	e.t.Helper()
	form := "grant_type=" + grantTypeJWTBearer + "&assertion=" + assertion
	resp, err := http.Post(e.url+"/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, string(readAll(e.t, resp))
}
