package sim

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestAdminRequestActions(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	a := e.create(tok, standardBody(customerOrg), http.StatusCreated)["id"].(string)
	b := e.create(tok, standardBody(validOrg(1)), http.StatusCreated)["id"].(string)
	c := e.createAgent(tok, agentBody(validOrg(2)), http.StatusCreated)["id"].(string)

	r := e.do("POST", "/_sim/requests/"+a+"/approve", "", nil)
	if r.status != 200 || r.json(t)["status"] != "Accepted" || r.json(t)["systemUserId"] != a {
		t.Errorf("approve: %d %s", r.status, r.body)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/requests/"+a+"/approve", "", nil)); code != "AUTH-00013" {
		t.Errorf("approve twice: %s", code)
	}
	if r := e.do("POST", "/_sim/requests/"+b+"/reject", "", nil); r.json(t)["status"] != "Rejected" {
		t.Errorf("reject: %s", r.body)
	}
	if r := e.do("POST", "/_sim/requests/"+c+"/escalate", "", nil); r.json(t)["escalated"] != true {
		t.Errorf("escalate: %s", r.body)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/requests/"+newUUID()+"/approve", "", nil)); code != "AUTH-00010" {
		t.Errorf("unknown: %s", code)
	}
	if r := e.do("POST", "/_sim/requests/"+a+"/explode", "", nil); r.status != 404 {
		t.Errorf("unknown action: %d", r.status)
	}

	var list []RequestInfo
	if err := json.Unmarshal(e.do("GET", "/_sim/requests", "", nil).body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != a || list[2].Kind != "agent" || list[2].ConfirmURL == "" {
		t.Errorf("list %+v", list)
	}

	if r := e.do("POST", "/_sim/systemusers/"+a+"/delete", "", nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/systemusers/"+a+"/delete", "", nil)); code != "AUTH-00015" {
		t.Errorf("delete twice: %s", code)
	}
	var st Stats
	if err := json.Unmarshal(e.do("GET", "/_sim/stats", "", nil).body, &st); err != nil || st.RequestsCreated != 3 {
		t.Errorf("stats %+v %v", st, err)
	}
}

func TestAdminFaults(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	r := e.do("POST", "/_sim/faults", "", `{"path":"`+reqPath+`","status":503,"latency":"1ms","header":{"Retry-After":"1"}}`)
	if r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := e.do("GET", reqPath+"/"+newUUID(), tok, nil); r.status != 503 || r.header.Get("Retry-After") != "1" {
		t.Errorf("faulted: %d", r.status)
	}
	// A catch-all fault does not lock people out of the admin API.
	e.do("POST", "/_sim/faults", "", `{"status":500,"latency":1000}`)
	if r := e.do("GET", "/_sim/requests", "", nil); r.status != 200 {
		t.Errorf("admin behind a fault: %d", r.status)
	}
	if r := e.do("DELETE", "/_sim/faults/"+id, "", nil); r.status != 204 {
		t.Errorf("remove: %d", r.status)
	}
	if r := e.do("DELETE", "/_sim/faults/"+id, "", nil); r.status != 404 {
		t.Errorf("remove twice: %d", r.status)
	}
	if r := e.do("GET", reqPath+"/"+newUUID(), tok, nil); r.status != 500 {
		t.Errorf("second fault: %d", r.status)
	}
	if r := e.do("DELETE", "/_sim/faults", "", nil); r.status != 204 {
		t.Errorf("clear: %d", r.status)
	}
	if r := e.do("GET", reqPath+"/"+newUUID(), tok, nil); r.status != 404 {
		t.Errorf("after clear: %d", r.status)
	}
	if r := e.do("POST", "/_sim/faults", "", `{"latency":"soon"}`); r.status != 400 {
		t.Errorf("bad latency: %d", r.status)
	}
}

func TestAdminClock(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	id := e.create(tok, standardBody(customerOrg), http.StatusCreated)["id"].(string)
	if r := e.do("POST", "/_sim/clock", "", `{"offset":"4300h"}`); r.status != 200 {
		t.Fatalf("clock: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/_sim/clock", "", `{"offset":"100h"}`); r.json(t)["offset"] != "4400h0m0s" {
		t.Errorf("offsets add up: %s", r.body)
	}
	// The token from before still works: the offset only ages Altinn's data.
	got := e.do("GET", reqPath+"/"+id, tok, nil)
	if got.status != 200 || got.json(t)["timedOut"] != true {
		t.Errorf("after 4400h: %d %s", got.status, got.body)
	}
	if r := e.do("POST", "/_sim/clock", "", `{"offset":"-1h"}`); r.status != 400 {
		t.Errorf("backwards: %d", r.status)
	}
	if r := e.do("POST", "/_sim/clock", "", `{}`); r.status != 400 {
		t.Errorf("no offset: %d", r.status)
	}
}
