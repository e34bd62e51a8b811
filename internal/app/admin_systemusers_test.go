package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// bysystemCalls is how many system-user list pages Altinn (the simulator)
// has served.
func (e *env) bysystemCalls() int {
	return e.app.Sim.Stats().Calls["GET /authentication/api/v1/systemuser/vendor/bysystem/{systemId}"]
}

// TestAdminSystemUsersCopy: the system-users page reads Altinn's lists at
// most once a minute (issue 15) and says when; "Read again from Altinn"
// and an import read them at once; an Altinn failure is shown and not
// kept. Whether each is known is read on every view.
func TestAdminSystemUsersCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.insightOutsideWizard("310000035")
	op := e.insightStaff("otto@example.com", string(domain.RoleOperator))

	// Views at once, while Altinn is slow, make one read between them.
	const bysystem = "/authentication/api/v1/systemuser/vendor/bysystem/"
	slow := e.app.Sim.Inject(sim.Fault{Path: bysystem, Latency: 300 * time.Millisecond})
	before := e.bysystemCalls()
	statuses := make([]int, 6)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			if res, err := op.c.Get(e.web.URL + "/admin/systemusers"); err == nil {
				statuses[i] = res.StatusCode
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	slow()
	together := e.bysystemCalls() - before
	// Read again from Altinn, then shown at the address without ?reload
	// (a reload or a bookmark of it takes the copy), from the read just
	// made: no second call.
	reload := func() page {
		t.Helper()
		res := op.get(e.web.URL + "/admin/systemusers?reload=1")
		if res.status != http.StatusSeeOther || res.location != "/admin/systemusers" {
			t.Fatalf("read again: %d to %q, want 303 to /admin/systemusers\n%s", res.status, res.location, res.body)
		}
		calls := e.bysystemCalls()
		shown := op.get(e.web.URL + res.location)
		if n := e.bysystemCalls(); n != calls {
			t.Fatalf("the page after reading again made %d more Altinn calls, want none", n-calls)
		}
		return shown
	}
	list := reload()
	if list.status != http.StatusOK {
		t.Fatalf("system users: %d\n%s", list.status, list.body)
	}
	read := e.bysystemCalls()
	if one := read - before - together; one < 1 || together != one || slices.ContainsFunc(statuses, func(s int) bool { return s != http.StatusOK }) {
		t.Fatalf("%d views at once made %d Altinn calls (statuses %v), one view %d", len(statuses), together, statuses, one)
	}
	if !strings.Contains(list.body, `data-testid="read-at"`) || !strings.Contains(list.body, "Lest fra Altinn kl.") {
		t.Errorf("the page should say when the list was read from Altinn:\n%s", list.body)
	}
	if !strings.Contains(list.body, `data-testid="reload"`) {
		t.Errorf("the page should offer to read the list again")
	}

	// A system user made in Altinn's portal now is not on the copy: the
	// second view within the minute asks Altinn nothing.
	second := e.insightOutsideWizard("310000019")
	again := op.get(e.web.URL + "/admin/systemusers")
	if n := e.bysystemCalls(); n != read {
		t.Fatalf("the second view within the minute made %d Altinn calls, want none", n-read)
	}
	if got := insightRows(t, again); got[first] != "unknown+import" || got[second] != "" {
		t.Fatalf("rows from the copy = %v, want %s only", got, first)
	}

	// Read again from Altinn: a new read, which lists it.
	fresh := reload()
	if n := e.bysystemCalls(); n <= read {
		t.Fatal("Read again from Altinn asked Altinn nothing")
	}
	read = e.bysystemCalls()
	if got := insightRows(t, fresh); got[first] != "unknown+import" || got[second] != "unknown+import" {
		t.Fatalf("rows read again = %v, want both", got)
	}
	if op.get(e.web.URL + "/admin/systemusers"); e.bysystemCalls() != read {
		t.Fatal("the view after the one read again should use its copy")
	}

	// An import drops the copy: the page after it reads Altinn again (a
	// third one, made since, is there) and shows the import known.
	third := e.insightOutsideWizard("310000027")
	res := op.post(e.web.URL+"/admin/systemusers/"+second+"/import", url.Values{"_csrf": {csrfOf(t, fresh)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("import: %d\n%s", res.status, res.body)
	}
	read = e.bysystemCalls()
	after := op.get(e.web.URL + res.location)
	if e.bysystemCalls() <= read {
		t.Fatal("the page after an import used the copy")
	}
	if got := insightRows(t, after); got[second] != "known" || got[third] != "unknown+import" {
		t.Fatalf("rows after the import = %v, want %s known and %s listed", got, second, third)
	}
	if !strings.Contains(after.body, `data-testid="imported-notice"`) {
		t.Error("the page after the import should say it happened")
	}

	// Altinn fails: the page says so, and the failure is not kept: the next
	// view asks Altinn again (and neither is the copy from before it).
	remove := e.app.Sim.Inject(sim.Fault{Path: bysystem, Status: http.StatusServiceUnavailable, Times: 1})
	defer remove()
	if res := op.get(e.web.URL + "/admin/systemusers?reload=1"); res.status != http.StatusBadGateway ||
		!strings.Contains(res.body, "Altinn svarte ikke") {
		t.Fatalf("Altinn down: %d, want 502 saying so\n%s", res.status, res.body)
	}
	read = e.bysystemCalls()
	ok := op.get(e.web.URL + "/admin/systemusers")
	if ok.status != http.StatusOK || e.bysystemCalls() <= read {
		t.Fatalf("the view after a failure: %d after %d new Altinn calls, want 200 from a new read", ok.status, e.bysystemCalls()-read)
	}

}
