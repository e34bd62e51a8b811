package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const (
	changePath  = "/authentication/api/v1/systemuser/changerequest/vendor"
	changePage  = "/accessmanagement/ui/systemuser/changerequest"
	rightKrav   = "ske-krav-og-betalinger"
	rightMeld   = "ske-innrapportering-a-melding"
	pkgRevisor  = "urn:altinn:accesspackage:ansvarlig-revisor"
	emptyGUID   = "00000000-0000-0000-0000-000000000000"
	textPlainCT = "text/plain; charset=utf-8"
)

// withChangeSeed gives the default system a second right and a second assignable
// package, so that a change request has something to add.
func withChangeSeed(cfg *Config) {
	sys := &cfg.Seed.Systems[0]
	sys.Rights = append(slices.Clone(sys.Rights), Right{Resource: []AttributePair{{ID: "urn:altinn:resource", Value: rightMeld}}})
	sys.AccessPackages = append(slices.Clone(sys.AccessPackages), Package{URN: pkgRevisor, Assignable: true})
}

// changeURL is the create route with the query parameters that are not "".
func changeURL(correlationID, systemUserID string) string {
	q := url.Values{}
	if correlationID != "" {
		q.Set("correlation-id", correlationID)
	}
	if systemUserID != "" {
		q.Set("system-user-id", systemUserID)
	}
	return changePath + "?" + q.Encode()
}

// rights is a list of wire rights on urn:altinn:resource values.
func rights(values ...string) []any {
	out := []any{}
	for _, v := range values {
		out = append(out, map[string]any{"resource": []any{map[string]any{"id": "urn:altinn:resource", "value": v}}})
	}
	return out
}

// packages is a list of wire access packages.
func packages(urns ...string) []any {
	out := []any{}
	for _, u := range urns {
		out = append(out, map[string]any{"urn": u})
	}
	return out
}

// emptyChange is a change-request body with all four lists empty, then kv set.
func emptyChange(kv ...any) map[string]any {
	return with(map[string]any{
		"requiredRights": []any{}, "unwantedRights": []any{},
		"requiredAccessPackages": []any{}, "unwantedAccessPackages": []any{},
	}, kv...)
}

// addBody asks to add the second right and package and to drop the skattegrunnlag
// package.
func addBody() map[string]any {
	return emptyChange("requiredRights", rights(rightMeld), "requiredAccessPackages", packages(pkgRevisor),
		"unwantedAccessPackages", packages(pkgSkatt))
}

// approvedUser creates a request with body, approves it, and returns the system user id.
func (e *env) approvedUser(tok string, body map[string]any) string {
	e.t.Helper()
	id := e.create(tok, body, http.StatusCreated)["id"].(string)
	if err := e.sim.Approve(id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// approvedAgent creates an agent request, approves it, and returns the system user id.
func (e *env) approvedAgent(tok, org string) string {
	e.t.Helper()
	id := e.createAgent(tok, agentBody(org), http.StatusCreated)["id"].(string)
	if err := e.sim.Approve(id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// createChange posts a change request and fails the test unless the status is want.
func (e *env) createChange(tok, correlationID, systemUserID string, body map[string]any, want int) map[string]any {
	e.t.Helper()
	r := e.do("POST", changeURL(correlationID, systemUserID), tok, body)
	if r.status != want {
		e.t.Fatalf("create change: status %d, want %d: %s", r.status, want, r.body)
	}
	return r.json(e.t)
}

// tokenWithoutConsumer is a valid simulator token with the vendor scopes and no
// consumer claim.
func (e *env) tokenWithoutConsumer() string {
	e.t.Helper()
	now := e.clock.Now().Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": e.url + "/", "scope": ScopeRequestWrite + " " + ScopeRequestRead, "iat": now, "exp": now + 60,
	})
	tok.Header["kid"] = e.sim.kid
	s, err := tok.SignedString(e.sim.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestChangeCreate(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	corr := newUUID()
	r := e.do("POST", changeURL(corr, userID), tok, with(addBody(), "redirectUrl", "  "+returnURL+"?c=1 "))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != e.url+"/authentication/api/v1/systemuser/changerequest/"+corr {
		t.Errorf("Location %q", loc)
	}
	got := r.json(t)
	if !createdPattern.MatchString(got["created"].(string)) {
		t.Errorf("created %q", got["created"])
	}
	want := map[string]any{
		"id":                     corr,
		"externalRef":            customerOrg,
		"systemId":               systemID,
		"systemUserId":           userID,
		"partyOrgNo":             customerOrg,
		"requiredRights":         rights(rightMeld),
		"unwantedRights":         []any{},
		"requiredAccessPackages": packages(pkgRevisor),
		"unwantedAccessPackages": packages(pkgSkatt),
		"status":                 "New",
		"redirectUrl":            returnURL + "?c=1",
		"confirmUrl":             e.url + "/accessmanagement/ui/systemuser/changerequest?id=" + corr + "&DONTCHOOSEREPORTEE=true",
		"created":                got["created"],
		"timedOut":               false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.do("GET", changePath+"/"+corr, tok, nil).json(t)); diff != "" {
		t.Errorf("GET (-want +got):\n%s", diff)
	}
	st := e.sim.Stats()
	if st.ChangeRequestsCreated != 1 || st.Calls["POST "+changePath] != 1 || st.Calls["GET "+changePath+"/{id}"] != 1 {
		t.Errorf("stats %+v", st)
	}
	// The correlation-id is read in any GUID format.
	if got := e.createChange(tok, strings.ToUpper(strings.ReplaceAll(corr, "-", "")), userID, addBody(), http.StatusOK); got["id"] != corr {
		t.Errorf("N-format correlation id: %v", got["id"])
	}
}

// TestChangeProcessingOrder walks contract §5's steps in order: each case is refused
// by its own step although later steps would refuse it too.
func TestChangeProcessingOrder(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	otherTok := e.tokenFor(otherClientID, otherKID, ScopeRequestWrite, ScopeRequestRead)
	noConsumer := e.tokenWithoutConsumer()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	agentID := e.approvedAgent(tok, validOrg(1))
	otherUserID := e.approvedUser(otherTok, with(standardBody(customerOrg), "systemId", otherSystemID))
	unregistered := validOrg(2)
	unregisteredUser := e.approvedUser(tok, standardBody(unregistered))
	e.sim.mu.Lock()
	e.sim.anyValidOrg = false // the customer has since left Register
	e.sim.mu.Unlock()

	tests := []struct {
		name       string
		token      string
		path       string
		body       any
		wantStatus int
		wantText   bool   // a plain-text body
		wantCode   string // an Altinn code; "" for a bare or validation problem
		wantKey    string // a key of a validation problem's errors
	}{
		{name: "1 correlation-id missing", path: changeURL("", userID), body: addBody(), wantStatus: 400, wantText: true},
		{name: "1 correlation-id empty GUID", path: changeURL(emptyGUID, userID), body: addBody(), wantStatus: 400, wantText: true},
		{name: "1 before 2: no consumer either", token: noConsumer, path: changeURL("", newUUID()), body: addBody(), wantStatus: 400, wantText: true},
		{name: "binding: correlation-id not a GUID", path: changeURL("nope", userID), body: addBody(), wantStatus: 400, wantKey: "correlation-id"},
		{name: "binding: system-user-id not a GUID", path: changeURL(newUUID(), "nope"), body: addBody(), wantStatus: 400, wantKey: "system-user-id"},
		{name: "binding: malformed body", path: changeURL(newUUID(), userID), body: `{"requiredRights":`, wantStatus: 400, wantKey: "$"},
		{name: "2 no consumer", token: noConsumer, path: changeURL(newUUID(), newUUID()), body: addBody(), wantStatus: 401},
		{name: "3 unknown system user", path: changeURL(newUUID(), newUUID()), body: addBody(), wantStatus: 404, wantCode: "AUTH-00015"},
		{name: "3 system-user-id missing", path: changeURL(newUUID(), ""), body: addBody(), wantStatus: 404, wantCode: "AUTH-00015"},
		{name: "3 before 4: unknown id equal to correlation-id", path: changeURL(emptyGUID[:35]+"1", emptyGUID[:35]+"1"), body: addBody(), wantStatus: 404, wantCode: "AUTH-00015"},
		{name: "4 correlation-id equals system-user-id", path: changeURL(userID, userID), body: addBody(), wantStatus: 400, wantText: true},
		{name: "4 before 5: another vendor's, equal ids", path: changeURL(otherUserID, otherUserID), body: addBody(), wantStatus: 400, wantText: true},
		{name: "5 another vendor's system user", path: changeURL(newUUID(), otherUserID), body: addBody(), wantStatus: 401},
		{name: "5 before 6: another vendor's, nothing asked", path: changeURL(newUUID(), otherUserID), body: emptyChange(), wantStatus: 401},
		{name: "8 agent system user", path: changeURL(newUUID(), agentID), body: addBody(), wantStatus: 404, wantCode: "AUTH-00015"},
		{name: "9 org not in Register", path: changeURL(newUUID(), unregisteredUser), body: addBody(), wantStatus: 400, wantCode: "AUTH-00000"},
		{name: "9 redirect not registered", path: changeURL(newUUID(), userID), body: with(addBody(), "redirectUrl", "https://evil.example/return"), wantStatus: 400, wantCode: "AUTH-00021"},
		{name: "9 redirect sub-path", path: changeURL(newUUID(), userID), body: with(addBody(), "redirectUrl", returnURL+"/more"), wantStatus: 400, wantCode: "AUTH-00021"},
		{name: "9 redirect on a system without URLs", token: otherTok, path: changeURL(newUUID(), otherUserID), body: with(addBody(), "redirectUrl", returnURL), wantStatus: 400, wantCode: "AUTH-00026"},
		{name: "9 relative redirect", path: changeURL(newUUID(), userID), body: with(addBody(), "redirectUrl", "/return"), wantStatus: 500},
		{name: "9 required right not on the system", path: changeURL(newUUID(), userID), body: emptyChange("requiredRights", rights("nope")), wantStatus: 400, wantCode: "AUTH-00001"},
		{name: "9 required package not on the system", path: changeURL(newUUID(), userID), body: emptyChange("requiredAccessPackages", packages("urn:x")), wantStatus: 400, wantCode: "AUTH-00063"},
		{name: "9 required package not assignable", path: changeURL(newUUID(), userID), body: emptyChange("requiredAccessPackages", packages(pkgLonn)), wantStatus: 400, wantCode: "AUTH-00064"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tok
			if tt.token != "" {
				token = tt.token
			}
			r := e.do("POST", tt.path, token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantText {
				if ct := r.header.Get("Content-Type"); ct != textPlainCT || len(r.body) == 0 {
					t.Errorf("Content-Type %q body %q, want plain text", ct, r.body)
				}
				return
			}
			code, status := problemCode(t, r)
			if code != tt.wantCode || int(status) != tt.wantStatus {
				t.Errorf("code %q status %v, want %q %d", code, status, tt.wantCode, tt.wantStatus)
			}
			if tt.wantKey != "" {
				if errs, _ := r.json(t)["errors"].(map[string]any); errs[tt.wantKey] == nil {
					t.Errorf("errors %v lack %q", errs, tt.wantKey)
				}
			}
		})
	}
	if n := len(e.sim.ChangeRequests()); n != 0 {
		t.Errorf("%d change requests stored by refused creates", n)
	}
	if st := e.sim.Stats(); st.ChangeRequestsCreated != 0 {
		t.Errorf("ChangeRequestsCreated %d", st.ChangeRequestsCreated)
	}

	// The unwanted lists are not validated.
	e.createChange(tok, newUUID(), userID, emptyChange("unwantedRights", rights("nope"), "unwantedAccessPackages", packages("urn:x")), http.StatusCreated)
}

func TestChangeScopes(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	userID := e.approvedUser(e.token(), standardBody(customerOrg))
	readOnly := e.tokenFor(testClientID, testKID, ScopeRequestRead)
	writeOnly := e.tokenFor(testClientID, testKID, ScopeRequestWrite)
	if r := e.do("POST", changeURL(newUUID(), userID), readOnly, addBody()); r.status != http.StatusForbidden || len(r.body) != 0 {
		t.Errorf("POST with read scope: %d %s", r.status, r.body)
	}
	if r := e.do("GET", changePath+"/"+newUUID(), writeOnly, nil); r.status != http.StatusForbidden {
		t.Errorf("GET with write scope: %d", r.status)
	}
	if r := e.do("DELETE", changePath+"/"+newUUID(), readOnly, nil); r.status != http.StatusForbidden {
		t.Errorf("DELETE with read scope: %d", r.status)
	}
	if r := e.do("POST", changeURL(newUUID(), userID), "", addBody()); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("POST without token: %d %v", r.status, r.header)
	}
}

func TestChangeNoChangeNeeded(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	agentID := e.approvedAgent(tok, validOrg(1))
	corr := newUUID()
	// Lists left out count as empty, and a redirectUrl is echoed without being checked.
	got := e.createChange(tok, corr, userID, map[string]any{"redirectUrl": "https://unchecked.example/"}, http.StatusOK)
	want := map[string]any{
		"id": corr, "externalRef": customerOrg, "systemId": systemID, "systemUserId": userID, "partyOrgNo": customerOrg,
		"requiredRights": []any{}, "unwantedRights": []any{}, "requiredAccessPackages": []any{}, "unwantedAccessPackages": []any{},
		"status": "NoChangeNeeded", "redirectUrl": "https://unchecked.example/", "confirmUrl": "",
		"created": "0001-01-01T00:00:00", "timedOut": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	// Step 6 comes before the agent check of step 8.
	if got := e.createChange(tok, newUUID(), agentID, emptyChange(), http.StatusOK); got["status"] != "NoChangeNeeded" {
		t.Errorf("agent, nothing asked: %v", got)
	}
	if n := len(e.sim.ChangeRequests()); n != 0 {
		t.Errorf("%d change requests stored", n)
	}
	if code, _ := problemCode(t, e.do("GET", changePath+"/"+corr, tok, nil)); code != "AUTH-00010" {
		t.Errorf("GET after NoChangeNeeded: %s", code)
	}
	// The correlation-id is still free.
	e.createChange(tok, corr, userID, addBody(), http.StatusCreated)
	// And once stored, an empty body is still NoChangeNeeded (step 6 before step 7).
	if got := e.createChange(tok, corr, userID, emptyChange(), http.StatusOK); got["status"] != "NoChangeNeeded" {
		t.Errorf("empty body for a stored id: %v", got)
	}
}

func TestChangeRepeatedCorrelationID(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	secondUser := e.approvedUser(tok, standardBody(validOrg(3)))
	corr := newUUID()
	first := e.createChange(tok, corr, userID, with(addBody(), "redirectUrl", returnURL+"?a=1"), http.StatusCreated)

	// Another body, even another system user: 200 with what is stored.
	second := e.createChange(tok, corr, secondUser, emptyChange("unwantedRights", rights(rightKrav), "redirectUrl", returnURL+"?a=2"), http.StatusOK)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("repeat differs (-first +second):\n%s", diff)
	}
	// In any status.
	if err := e.sim.RejectChange(corr); err != nil {
		t.Fatal(err)
	}
	if got := e.createChange(tok, corr, userID, addBody(), http.StatusOK); got["status"] != "Rejected" || got["confirmUrl"] != first["confirmUrl"] {
		t.Errorf("after reject: %v", got)
	}
	if st := e.sim.Stats(); st.ChangeRequestsCreated != 1 {
		t.Errorf("ChangeRequestsCreated %d, want 1", st.ChangeRequestsCreated)
	}
	// A deleted change request's id cannot be stored again.
	if r := e.do("DELETE", changePath+"/"+corr, tok, nil); r.status != http.StatusAccepted {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r := e.do("POST", changeURL(corr, userID), tok, addBody())
	if code, _ := problemCode(t, r); code != "AUTH-00012" {
		t.Errorf("reused deleted id: %d %s", r.status, r.body)
	}
}

func TestChangeApprove(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	rs, ps, ok := e.sim.SystemUserRights(userID)
	if !ok || !cmp.Equal(rightValues(rs), []string{rightKrav}) || !cmp.Equal(ps, []string{pkgSkatt}) {
		t.Fatalf("after the request: %v %v %v", rs, ps, ok)
	}
	// Add the second right (and the first again, which is skipped), add a package,
	// remove one.
	corr := newUUID()
	e.createChange(tok, corr, userID, with(addBody(), "requiredRights", rights(rightKrav, rightMeld)), http.StatusCreated)
	if err := e.sim.ApproveChange(corr); err != nil {
		t.Fatal(err)
	}
	rs, ps, _ = e.sim.SystemUserRights(userID)
	if !cmp.Equal(rightValues(rs), []string{rightKrav, rightMeld}) || !cmp.Equal(ps, []string{pkgRevisor}) {
		t.Errorf("after approval: rights %v packages %v", rightValues(rs), ps)
	}
	if got := e.do("GET", changePath+"/"+corr, tok, nil).json(t); got["status"] != "Accepted" {
		t.Errorf("status %v", got["status"])
	}
	if err := e.sim.ApproveChange(corr); err != ErrNotNew {
		t.Errorf("second approval: %v", err)
	}
	if err := e.sim.RejectChange(corr); err != ErrNotNew {
		t.Errorf("reject after approval: %v", err)
	}

	// Removing a right.
	corr2 := newUUID()
	e.createChange(tok, corr2, userID, emptyChange("unwantedRights", rights(rightKrav)), http.StatusCreated)
	if err := e.sim.ApproveChange(corr2); err != nil {
		t.Fatal(err)
	}
	if rs, _, _ := e.sim.SystemUserRights(userID); !cmp.Equal(rightValues(rs), []string{rightMeld}) {
		t.Errorf("after removal: %v", rightValues(rs))
	}

	// A change for a system user the customer has deleted cannot be approved.
	corr3 := newUUID()
	e.createChange(tok, corr3, userID, addBody(), http.StatusCreated)
	if err := e.sim.DeleteSystemUser(userID); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.ApproveChange(corr3); err != ErrNoSystemUser {
		t.Errorf("approve for a deleted system user: %v", err)
	}
	if _, _, ok := e.sim.SystemUserRights(userID); ok {
		t.Error("SystemUserRights ok for a deleted system user")
	}
	if err := e.sim.ApproveChange(newUUID()); err != ErrNotFound {
		t.Errorf("unknown: %v", err)
	}
}

func TestChangeReject(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	corr := newUUID()
	e.createChange(tok, corr, userID, addBody(), http.StatusCreated)
	if err := e.sim.RejectChange(corr); err != nil {
		t.Fatal(err)
	}
	rs, ps, _ := e.sim.SystemUserRights(userID)
	if !cmp.Equal(rightValues(rs), []string{rightKrav}) || !cmp.Equal(ps, []string{pkgSkatt}) {
		t.Errorf("after reject: %v %v", rightValues(rs), ps)
	}
	if info := e.sim.ChangeRequests(); len(info) != 1 || info[0].Status != "Rejected" || info[0].SystemUserID != userID {
		t.Errorf("info %+v", info)
	}
	if err := e.sim.ApproveChange(corr); err != ErrNotNew {
		t.Errorf("approve after reject: %v", err)
	}
	if err := e.sim.RejectChange(corr); err != ErrNotNew {
		t.Errorf("reject twice: %v", err)
	}
}

func TestChangeConfirmPage(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	stored := returnURL + "?ref=onb_42&state=a%2Fb%20c&x=%C3%B8"
	corr := newUUID()
	created := e.createChange(tok, corr, userID, with(addBody(), "unwantedRights", rights(rightKrav), "redirectUrl", stored), http.StatusCreated)

	r := e.do("GET", confirmPath(t, created["confirmUrl"].(string)), "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	page := string(r.body)
	for _, want := range []string{
		"Altinn simulator", "SmartCloud AS", "Lunefull Handlekraftig Tiger AS", customerOrg,
		`data-testid="sim-change-add"`, rightMeld, pkgRevisor,
		`data-testid="sim-change-remove"`, rightKrav, pkgSkatt,
		`data-testid="sim-approve"`, `data-testid="sim-reject"`, `data-testid="sim-status"`,
		`name="id" value="` + corr + `"`, `action="` + changePage + `"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "sim-escalate") || strings.Contains(strings.ToLower(page), "<script") {
		t.Error("page has an escalate button or a script")
	}
	for _, p := range []string{changePage + "?id=" + newUUID(), changePage + "?id=nope", standardPage + "?id=" + corr} {
		if r := e.do("GET", p, "", nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}

	r = e.submit(changePage, corr, "approve", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != stored {
		t.Fatalf("approve: %d Location %q, want %q", r.status, r.header.Get("Location"), stored)
	}
	if rs, ps, _ := e.sim.SystemUserRights(userID); !cmp.Equal(rightValues(rs), []string{rightMeld}) || !cmp.Equal(ps, []string{pkgRevisor}) {
		t.Errorf("after approval: %v %v", rightValues(rs), ps)
	}
	page = string(e.do("GET", confirmPath(t, created["confirmUrl"].(string)), "", nil).body)
	if strings.Contains(page, "sim-approve") || !strings.Contains(page, `data-testid="sim-info"`) {
		t.Errorf("accepted page:\n%s", page)
	}
	if r := e.submit(changePage, corr, "approve", nil); r.status != http.StatusConflict || r.header.Get("Location") != "" {
		t.Errorf("second approve: %d %v", r.status, r.header)
	}
	if r := e.submit(changePage, corr, "escalate", nil); r.status != http.StatusBadRequest {
		t.Errorf("escalate: %d", r.status)
	}

	// Reject, without a redirectUrl: the logged-out page.
	corr2 := newUUID()
	e.createChange(tok, corr2, userID, addBody(), http.StatusCreated)
	if r := e.submit(changePage, corr2, "reject", nil); r.status != http.StatusFound || r.header.Get("Location") != e.url+"/logged-out" {
		t.Errorf("reject: %d %v", r.status, r.header)
	}
	if info := e.sim.ChangeRequests(); info[1].Status != "Rejected" {
		t.Errorf("status %q", info[1].Status)
	}
	// A cross-site form post is refused.
	corr3 := newUUID()
	e.createChange(tok, corr3, userID, addBody(), http.StatusCreated)
	if r := e.submit(changePage, corr3, "approve", map[string]string{"Sec-Fetch-Site": "cross-site"}); r.status != http.StatusForbidden {
		t.Errorf("cross-site: %d", r.status)
	}
}

func TestChangeReadAndDelete(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	otherTok := e.tokenFor(otherClientID, otherKID, ScopeRequestWrite, ScopeRequestRead)
	userID := e.approvedUser(tok, with(standardBody(customerOrg), "externalRef", "avd 2"))
	older, newer := newUUID(), newUUID()
	e.createChange(tok, older, userID, emptyChange("unwantedRights", rights(rightKrav)), http.StatusCreated)
	e.createChange(tok, newer, userID, addBody(), http.StatusCreated)

	// byexternalref: the newest, with its packages (bugCompat off).
	byRef := changePath + "/byexternalref/" + systemID + "/" + customerOrg + "/avd%202"
	got := e.do("GET", byRef, tok, nil).json(t)
	if got["id"] != newer || len(got["requiredAccessPackages"].([]any)) != 1 || len(got["unwantedAccessPackages"].([]any)) != 1 {
		t.Errorf("byexternalref: %v", got)
	}
	if code, _ := problemCode(t, e.do("GET", byRef, otherTok, nil)); code != "AUTH-00011" {
		t.Errorf("byexternalref by another vendor: %s", code)
	}
	if code, _ := problemCode(t, e.do("GET", changePath+"/byexternalref/"+systemID+"/"+customerOrg+"/"+customerOrg, tok, nil)); code != "AUTH-00010" {
		t.Errorf("byexternalref, other key: %s", code)
	}

	// GET by id: another vendor's, not a GUID, no consumer.
	if code, _ := problemCode(t, e.do("GET", changePath+"/"+older, otherTok, nil)); code != "AUTH-00011" {
		t.Errorf("GET by another vendor: %s", code)
	}
	if r := e.do("GET", changePath+"/nope", tok, nil); r.status != 400 {
		t.Errorf("GET non-GUID: %d", r.status)
	}
	if r := e.do("GET", changePath+"/"+older, e.tokenWithoutConsumer(), nil); r.status != 401 {
		t.Errorf("GET without consumer: %d", r.status)
	}

	// DELETE: another vendor's, then ours, then again.
	if code, _ := problemCode(t, e.do("DELETE", changePath+"/"+older, otherTok, nil)); code != "AUTH-00011" {
		t.Errorf("DELETE by another vendor: %s", code)
	}
	if r := e.do("DELETE", changePath+"/"+older, tok, nil); r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if code, _ := problemCode(t, e.do(m, changePath+"/"+older, tok, nil)); code != "AUTH-00010" {
			t.Errorf("%s after delete: %s", m, code)
		}
	}
	if err := e.sim.ApproveChange(older); err != ErrNotFound {
		t.Errorf("approve deleted: %v", err)
	}
	if info := e.sim.ChangeRequests(); len(info) != 2 || !info[0].Deleted {
		t.Errorf("info %+v", info)
	}
}

func TestChangesBySystemPages(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	var ids []string
	for range pageSize + 2 {
		id := newUUID()
		e.createChange(tok, id, userID, addBody(), http.StatusCreated)
		ids = append(ids, id)
	}
	del := ids[0]
	if r := e.do("DELETE", changePath+"/"+del, tok, nil); r.status != http.StatusAccepted {
		t.Fatal(r.status)
	}
	slices.Sort(ids)
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == del })

	var seen []string
	path := changePath + "/bysystem/" + systemID
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		var p struct {
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(e.do("GET", path, tok, nil).body, &p); err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Data {
			seen = append(seen, d["id"].(string))
		}
		path = strings.TrimPrefix(p.Links.Next, e.url)
		if pages == 0 && (len(p.Data) != pageSize || path == "") {
			t.Errorf("first page: %d items, next %q", len(p.Data), path)
		}
	}
	if diff := cmp.Diff(ids, seen); diff != "" {
		t.Errorf("listed ids (-want +got):\n%s", diff)
	}
	otherTok := e.tokenFor(otherClientID, otherKID, ScopeRequestRead)
	if code, _ := problemCode(t, e.do("GET", changePath+"/bysystem/"+systemID, otherTok, nil)); code != "AUTH-00011" {
		t.Errorf("another vendor's system: %s", code)
	}
	if st := e.sim.Stats(); st.Calls["GET "+changePath+"/bysystem/{systemId}"] != 3 {
		t.Errorf("calls %v", st.Calls)
	}
}

func TestChangeFaultsAndTimeout(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	remove := e.sim.Inject(Fault{Method: "POST", Path: changePath, Status: 503, Header: map[string]string{"Retry-After": "1"}, Times: 1})
	defer remove()
	corr := newUUID()
	if r := e.do("POST", changeURL(corr, userID), tok, addBody()); r.status != 503 || r.header.Get("Retry-After") != "1" {
		t.Errorf("fault: %d %v", r.status, r.header)
	}
	// AfterStore: stored, and the answer lost.
	e.sim.Inject(Fault{Path: changePath, Status: 502, AfterStore: true, Times: 1})
	if r := e.do("POST", changeURL(corr, userID), tok, addBody()); r.status != 502 {
		t.Errorf("after-store fault: %d", r.status)
	}
	if got := e.createChange(tok, corr, userID, addBody(), http.StatusOK); got["status"] != "New" {
		t.Errorf("after the lost answer: %v", got)
	}
	if st := e.sim.Stats(); st.Calls["POST "+changePath] != 3 || st.ChangeRequestsCreated != 1 {
		t.Errorf("stats %+v", st)
	}

	// 181 days on: timedOut, status unchanged, still approvable.
	e.sim.SetNow(func() time.Time { return e.clock.Now().Add(181 * 24 * time.Hour) })
	if got := e.do("GET", changePath+"/"+corr, tok, nil).json(t); got["timedOut"] != true || got["status"] != "New" {
		t.Errorf("aged: %v", got)
	}
	if err := e.sim.ApproveChange(corr); err != nil {
		t.Errorf("approve aged: %v", err)
	}
}

func TestAdminChangeActions(t *testing.T) {
	e := newEnv(t, withChangeSeed)
	tok := e.token()
	userID := e.approvedUser(tok, standardBody(customerOrg))
	a, b := newUUID(), newUUID()
	e.createChange(tok, a, userID, addBody(), http.StatusCreated)
	e.createChange(tok, b, userID, addBody(), http.StatusCreated)

	r := e.do("POST", "/_sim/changerequests/"+a+"/approve", "", nil)
	if m := r.json(t); r.status != 200 || m["status"] != "Accepted" || m["systemUserId"] != userID {
		t.Errorf("approve: %d %s", r.status, r.body)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/changerequests/"+a+"/approve", "", nil)); code != "AUTH-00013" {
		t.Errorf("approve twice: %s", code)
	}
	if r := e.do("POST", "/_sim/changerequests/"+b+"/reject", "", nil); r.json(t)["status"] != "Rejected" {
		t.Errorf("reject: %s", r.body)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/changerequests/"+newUUID()+"/approve", "", nil)); code != "AUTH-00010" {
		t.Errorf("unknown: %s", code)
	}
	if r := e.do("POST", "/_sim/changerequests/"+a+"/escalate", "", nil); r.status != 404 {
		t.Errorf("unknown action: %d", r.status)
	}
	c := newUUID()
	e.createChange(tok, c, userID, addBody(), http.StatusCreated)
	if err := e.sim.DeleteSystemUser(userID); err != nil {
		t.Fatal(err)
	}
	if code, _ := problemCode(t, e.do("POST", "/_sim/changerequests/"+c+"/approve", "", nil)); code != "AUTH-00015" {
		t.Errorf("system user gone: %s", code)
	}

	var list []ChangeRequestInfo
	if err := json.Unmarshal(e.do("GET", "/_sim/changerequests", "", nil).body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != a || list[1].Status != "Rejected" || list[2].Status != "New" ||
		list[0].ConfirmURL == "" || !cmp.Equal(list[0].RequiredAccessPackages, []string{pkgRevisor}) {
		t.Errorf("list %+v", list)
	}
	var st Stats
	if err := json.Unmarshal(e.do("GET", "/_sim/stats", "", nil).body, &st); err != nil || st.ChangeRequestsCreated != 3 {
		t.Errorf("stats %+v %v", st, err)
	}
}

// rightValues lists the resource values of rights, for comparing.
func rightValues(rs []Right) []string {
	out := []string{}
	for _, r := range rs {
		for _, p := range r.Resource {
			out = append(out, p.Value)
		}
	}
	return out
}
