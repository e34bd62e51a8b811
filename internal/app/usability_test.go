package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// usabilityEvents are the usability_changed events an endpoint received,
// each checked for a valid signature, in the order of their created.
func usabilityEvents(t *testing.T, ep *vendorEndpoint) []webhookBody {
	t.Helper()
	var out []webhookBody
	for _, r := range ep.requests() {
		ev := decodeWebhook(t, r.body)
		if ev.Type != "onboarding.usability_changed" {
			continue
		}
		if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, r.at); err != nil {
			t.Fatalf("usability event %s: signature: %v", ev.ID, err)
		}
		if r.header.Get("Onboard-Event-Type") != ev.Type || r.header.Get("Onboard-Event-Id") != ev.ID {
			t.Fatalf("usability event %s: headers %v", ev.ID, r.header)
		}
		out = append(out, ev)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Created.Before(out[j-1].Created); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// waitUsabilityEvents waits until the endpoint has received n usability events.
func waitUsabilityEvents(t *testing.T, ep *vendorEndpoint, n int) []webhookBody {
	t.Helper()
	var got []webhookBody
	waitFor(t, 30*time.Second, "usability events", func() bool {
		got = usabilityEvents(t, ep)
		return len(got) >= n
	})
	if len(got) != n {
		t.Fatalf("%d usability events, want %d: %+v", len(got), n, got)
	}
	return got
}

// usabilityChecks are the onboarding's usability checks on its timeline,
// as "cause:outcome:code".
func (e *env) usabilityChecks(o *domain.Onboarding) []string {
	e.t.Helper()
	var out []string
	for _, ev := range e.events(o) {
		if ev.Kind == domain.EventUsability {
			out = append(out, string(ev.Cause)+":"+ev.ToStatus+":"+ev.AltinnCode)
		}
	}
	return out
}

// noTokenStored fails the test when anything that looks like a JWT (the
// system-user token, or any other) was written to the timeline or a
// webhook event.
func (e *env) noTokenStored() {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM onboarding_events WHERE message LIKE '%eyJ%' OR coalesce(raw_text, raw::text) LIKE '%eyJ%')
		     + (SELECT count(*) FROM webhook_events WHERE payload::text LIKE '%eyJ%')
		     + (SELECT count(*) FROM onboardings WHERE usable_message LIKE '%eyJ%')`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	if n != 0 {
		e.t.Fatalf("%d rows hold something like a token", n)
	}
}

var (
	usabilityStateRE  = regexp.MustCompile(`data-testid="usability" data-state="([a-z_]+)" data-skipped="(true|false)"`)
	usabilityReasonRE = regexp.MustCompile(`data-testid="usability-reason">([^<]*)<`)
)

// usabilityOnPage is the detail page's usability section: its state,
// whether it was skipped, and the reason shown ("" for none).
func usabilityOnPage(t *testing.T, p page) (state string, skipped bool, reason string) {
	t.Helper()
	m := usabilityStateRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no usability section on the page (%d):\n%s", p.status, p.body)
	}
	if r := usabilityReasonRE.FindStringSubmatch(p.body); r != nil {
		reason = html.UnescapeString(r[1])
	}
	return m[1], m[2] == "true", reason
}

// testConnection runs Test connection as b: the confirm page, then the
// confirmed POST, which lands on the detail page with its notice.
func (e *env) testConnection(b *browser, o *domain.Onboarding) {
	e.t.Helper()
	path := e.web.URL + "/admin/onboardings/" + o.ID
	detail := b.get(path)
	if !strings.Contains(detail.body, `href="/admin/onboardings/`+o.ID+`/testconnection" data-testid="action-testconnection"`) {
		e.t.Fatalf("the detail page offers no Test connection:\n%s", detail.body)
	}
	confirm := b.get(path + "/testconnection")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-action="testconnection"`) {
		e.t.Fatalf("confirm page: %d\n%s", confirm.status, confirm.body)
	}
	// Without confirm=yes the POST only asks again.
	calls := e.app.Sim.Stats().Calls["POST /token"]
	if res := b.post(path+"/testconnection", url.Values{"_csrf": {csrfOf(e.t, confirm)}}); res.status != http.StatusOK ||
		!strings.Contains(res.body, `data-action="testconnection"`) || e.app.Sim.Stats().Calls["POST /token"] != calls {
		e.t.Fatalf("unconfirmed POST: %d, token calls %d -> %d", res.status, calls, e.app.Sim.Stats().Calls["POST /token"])
	}
	dashDoneAt(e.t, b.post(path+"/testconnection", url.Values{"_csrf": {csrfOf(e.t, confirm)}, "confirm": {"yes"}}), o, "testconnection")
}

// TestUsabilityClientIDRemovedAndRestored is the "shown by": a
// customer connects and is usable; the service's client id is taken off the
// product's system in the simulator, so the system-user grant fails with
// MP-303; Test connection and the reconciler both find it, the onboarding
// stays connected but is flagged not usable with the reason in words, and
// the vendor's endpoint hears of it, signed; with the client id back it is
// usable again and the endpoint hears that too.
func TestUsabilityClientIDRemovedAndRestored(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	e := webhookEnv(t, ep)
	e.startJobs()
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusConnected || o.Usable == nil || !*o.Usable || o.UsableOKAt == nil || o.UsableSince == nil {
		t.Fatalf("after connecting: status %s usable %v (ok at %v); want connected and usable", o.Status, o.Usable, o.UsableOKAt)
	}
	if got := e.usabilityChecks(o); len(got) != 1 || got[0] != "customer:usable:" {
		t.Fatalf("checks after connecting: %v, want one by the customer's return", got)
	}
	evs := waitUsabilityEvents(t, ep, 1)
	if d := evs[0].Data; d["usable"] != true || d["previous_usable"] != nil || d["id"] != o.ID || d["status"] != "connected" ||
		d["code"] != nil || d["last_success_at"] == nil {
		t.Fatalf("first usability event: %v", d)
	}

	operator, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	if state, skipped, _ := usabilityOnPage(t, operator.get(path)); state != "usable" || skipped {
		t.Fatalf("detail page: %s (skipped %v), want usable", state, skipped)
	}

	// The vendor's PUT to the system register dropped the client id.
	systemID := e.app.Config.Products[0].SystemID
	if err := e.app.Sim.RemoveClientID(systemID, e.app.Config.MaskinportenClientID); err != nil {
		t.Fatal(err)
	}

	// Viewers may look, not test.
	vp := viewer.get(path)
	if strings.Contains(vp.body, `data-testid="action-testconnection"`) {
		t.Fatal("a viewer is offered Test connection")
	}
	audit := e.dashCount("audit_log")
	if res := viewer.get(path + "/testconnection"); res.status != http.StatusForbidden {
		t.Fatalf("viewer GET testconnection: %d, want 403", res.status)
	}
	if res := viewer.post(path+"/testconnection", url.Values{"_csrf": {csrfOf(t, vp)}, "confirm": {"yes"}}); res.status != http.StatusForbidden {
		t.Fatalf("viewer POST testconnection: %d, want 403", res.status)
	}
	if res := operator.post(path+"/testconnection", url.Values{"confirm": {"yes"}}); res.status != http.StatusForbidden && res.status != http.StatusBadRequest {
		t.Fatalf("testconnection without CSRF: %d", res.status)
	}
	if e.dashCount("audit_log") != audit || len(e.usabilityChecks(o)) != 1 {
		t.Fatal("a refused Test connection was audited or checked something")
	}

	// The operator tests the connection: still connected, not usable, and why.
	e.testConnection(operator, o)
	o = e.dashReload(o)
	if o.Status != domain.StatusConnected || o.Usable == nil || *o.Usable || o.UsableCode == nil || *o.UsableCode != "MP-303" {
		t.Fatalf("after the test: status %s usable %v code %v; want connected, not usable, MP-303", o.Status, o.Usable, o.UsableCode)
	}
	if o.UsableMessage == nil || !strings.Contains(*o.UsableMessage, "MP-303") || o.UsableOKAt == nil {
		t.Fatalf("the failure keeps Maskinporten's words and the last success: %v %v", o.UsableMessage, o.UsableOKAt)
	}
	if got := e.usabilityChecks(o); len(got) != 2 || got[1] != "staff:not_usable:MP-303" {
		t.Fatalf("checks: %v", got)
	}
	a := e.dashStaffActed(o, olga, "onboarding.testconnection")
	if a.Detail["outcome"] != domain.UsableFailed || a.Detail["code"] != "MP-303" || a.Detail["to"] != "connected" {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	page := operator.get(path + "?done=testconnection")
	state, _, reason := usabilityOnPage(t, page)
	if state != "not_usable" || !strings.Contains(reason, "clientId") || !strings.Contains(reason, "externalRef") {
		t.Fatalf("detail page: state %s, reason %q; want not usable, naming clientId and externalRef", state, reason)
	}
	if reason != i18n.T("nb", "usability.reason.systemuser") && reason != i18n.T("en", "usability.reason.systemuser") {
		t.Fatalf("the reason is not the translated MP-303 text: %q", reason)
	}
	for _, want := range []string{`data-testid="done"`, `data-testid="usability-code">MP-303<`, `data-testid="detail-status" data-status="connected"`,
		`data-testid="event-outcome" data-outcome="not_usable"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("detail page lacks %s", want)
		}
	}
	evs = waitUsabilityEvents(t, ep, 2)
	d := evs[1].Data
	if d["usable"] != false || d["previous_usable"] != true || d["code"] != "MP-303" || d["status"] != "connected" ||
		!strings.Contains(d["reason"].(string), "clientId") || !strings.Contains(d["detail"].(string), "MP-303") {
		t.Fatalf("not-usable event: %v", d)
	}

	// The list finds it by usability.
	if ids, _ := dashListPage(t, operator.get(e.web.URL+"/admin/onboardings?usability=not_usable")); len(ids) != 1 || ids[0] != o.ID {
		t.Fatalf("?usability=not_usable lists %v", ids)
	}
	if ids, _ := dashListPage(t, operator.get(e.web.URL+"/admin/onboardings?usability=usable")); len(ids) != 0 {
		t.Fatalf("?usability=usable lists %v", ids)
	}
	if res := operator.get(e.web.URL + "/admin/onboardings?usability=maybe"); res.status != http.StatusBadRequest {
		t.Fatalf("?usability=maybe: %d", res.status)
	}
	// So does the export, with the usability columns.
	records, err := csv.NewReader(strings.NewReader(operator.get(e.web.URL + "/admin/onboardings.csv?usability=not_usable").body)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("export of the not usable: %v %v", err, records)
	}
	col := func(name string) string { return records[1][slices.Index(records[0], name)] }
	if col("id") != o.ID || col("usable") != "false" || col("usable_code") != "MP-303" || col("usable_ok_at") == "" {
		t.Fatalf("export row: %v %v", records[0], records[1])
	}

	// The reconciler's daily look checks again and finds the same: no news.
	o = e.reconcile(o)
	if o.Status != domain.StatusConnected || o.Usable == nil || *o.Usable {
		t.Fatalf("after a reconciler pass: %s usable %v", o.Status, o.Usable)
	}
	if got := e.usabilityChecks(o); len(got) != 3 || got[2] != "reconciler:not_usable:MP-303" {
		t.Fatalf("checks: %v", got)
	}

	// The vendor puts the client id back; the next look finds it usable.
	if err := e.app.Sim.AddClientID(systemID, e.app.Config.MaskinportenClientID); err != nil {
		t.Fatal(err)
	}
	o = e.reconcile(o)
	if o.Usable == nil || !*o.Usable || o.UsableCode != nil || o.UsableMessage != nil || time.Since(*o.UsableSince) > time.Minute {
		t.Fatalf("after the fix: usable %v code %v since %v", o.Usable, o.UsableCode, o.UsableSince)
	}
	if got := e.usabilityChecks(o); len(got) != 4 || got[3] != "reconciler:usable:" {
		t.Fatalf("checks: %v", got)
	}
	evs = waitUsabilityEvents(t, ep, 3)
	if d := evs[2].Data; d["usable"] != true || d["previous_usable"] != false || d["code"] != nil || d["reason"] != nil {
		t.Fatalf("usable-again event: %v", d)
	}
	if state, _, reason := usabilityOnPage(t, operator.get(path)); state != "usable" || reason != "" {
		t.Fatalf("detail page after the fix: %s %q", state, reason)
	}
	e.noTokenStored()
}

// TestUsabilityInTheAPI: the API shows a connected onboarding's usability,
// as documented, and lists by it.
func TestUsabilityInTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(e.signedIn("boss@example.com"), "ERP")
	doc := e.openAPI()
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	pending := dashOrgNos(1)[0]
	e.startFlow(e.browser(), "standard", pending)

	get := func() map[string]any {
		t.Helper()
		res := e.api(doc, http.MethodGet, "/api/v1/onboardings/"+o.ID, key, "")
		if res.status != http.StatusOK {
			t.Fatalf("get: %d\n%s", res.status, res.body)
		}
		u, _ := res.json(t)["usability"].(map[string]any)
		if u == nil {
			t.Fatalf("a connected onboarding without usability:\n%s", res.body)
		}
		return u
	}
	if u := get(); u["state"] != "usable" || u["checked"] != true || u["last_outcome"] != "usable" || u["last_success_at"] == nil || u["code"] != nil {
		t.Fatalf("usable: %v", u)
	}
	if err := e.app.Sim.RemoveClientID(e.app.Config.Products[0].SystemID, e.app.Config.MaskinportenClientID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Onboardings.TestConnection(context.Background(), o, domain.CauseStaff, "test"); err != nil {
		t.Fatal(err)
	}
	u := get()
	if u["state"] != "not_usable" || u["code"] != "MP-303" || !strings.Contains(u["reason"].(string), "clientId") ||
		!strings.Contains(u["detail"].(string), "MP-303") || u["last_success_at"] == nil {
		t.Fatalf("not usable: %v", u)
	}
	res := e.api(doc, http.MethodGet, "/api/v1/onboardings?usability=not_usable", key, "")
	var list struct {
		Items []struct {
			ID        string          `json:"id"`
			Usability json.RawMessage `json:"usability"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &list); err != nil || len(list.Items) != 1 || list.Items[0].ID != o.ID {
		t.Fatalf("?usability=not_usable: %v %s", err, res.body)
	}
	// A pending onboarding has no usability: null.
	res = e.api(doc, http.MethodGet, "/api/v1/onboardings?status=pending", key, "")
	if err := json.Unmarshal(res.body, &list); err != nil || len(list.Items) != 1 || string(list.Items[0].Usability) != "null" {
		t.Fatalf("pending: %v %s", err, res.body)
	}
	if res := e.api(doc, http.MethodGet, "/api/v1/onboardings?usability=maybe", key, ""); res.status != http.StatusBadRequest {
		t.Fatalf("?usability=maybe: %d", res.status)
	}
}

// TestUsabilityWithoutScopes: a product with no scopes is never checked;
// the timeline, the detail page and the API say so, and no Test connection
// is offered.
func TestUsabilityWithoutScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_PRODUCTS": changeProducts(t, nil, []string{changePackage})})
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	admin := e.signedIn("boss@example.com")
	key := e.createAPIKey(admin, "ERP")
	b := e.browser()
	tokens := e.app.Sim.Stats().Calls["POST /token"]
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusConnected || o.Usable != nil || o.UsableCheckedAt != nil {
		t.Fatalf("status %s usable %v checked %v; want connected and not checked", o.Status, o.Usable, o.UsableCheckedAt)
	}
	if got := e.usabilityChecks(o); len(got) != 1 || got[0] != "customer:skipped:" {
		t.Fatalf("checks: %v, want one noting the skip", got)
	}
	var msg string
	for _, ev := range e.events(o) {
		if ev.Kind == domain.EventUsability {
			msg = ev.Message
		}
	}
	if !strings.Contains(msg, "not checked: no scopes configured") {
		t.Fatalf("the skip's message: %q", msg)
	}
	// The reconciler passes over it quietly, and asks Maskinporten for no
	// system-user token (a vendor token, at most).
	o = e.reconcile(o)
	if got := e.usabilityChecks(o); len(got) != 1 {
		t.Fatalf("checks after a reconciler pass: %v", got)
	}
	if n := e.app.Sim.Stats().Calls["POST /token"] - tokens; n > 1 {
		t.Fatalf("%d token requests for a product without scopes", n)
	}

	path := e.web.URL + "/admin/onboardings/" + o.ID
	p := admin.get(path)
	if state, skipped, _ := usabilityOnPage(t, p); state != "not_checked" || !skipped {
		t.Fatalf("detail page: %s skipped %v", state, skipped)
	}
	if !strings.Contains(p.body, html.EscapeString(i18n.T("nb", "usability.skipped"))) || strings.Contains(p.body, `data-testid="action-testconnection"`) {
		t.Fatalf("detail page does not say it is not checked, or offers a test:\n%s", p.body)
	}
	if res := admin.post(path+"/testconnection", url.Values{"_csrf": {csrfOf(t, p)}, "confirm": {"yes"}}); res.status != http.StatusConflict ||
		!strings.Contains(res.body, html.EscapeString(i18n.T("nb", "admin.action.err.noscopes"))) {
		t.Fatalf("Test connection without scopes: %d\n%s", res.status, res.body)
	}
	res := e.api(e.openAPI(), http.MethodGet, "/api/v1/onboardings/"+o.ID, key, "")
	u, _ := res.json(t)["usability"].(map[string]any)
	if u == nil || u["state"] != "not_checked" || u["checked"] != false || u["reason"] != "Not checked: no scopes configured for this product." {
		t.Fatalf("API: %s", res.body)
	}
	if ids, _ := dashListPage(t, admin.get(e.web.URL+"/admin/onboardings?usability=not_checked")); len(ids) != 1 || ids[0] != o.ID {
		t.Fatalf("?usability=not_checked lists %v", ids)
	}
}

// TestUsabilityMaskinportenDown: a Maskinporten that answers 5xx (or not at
// all) is "could not check": a usable onboarding stays usable, the timeline
// says so, and the vendor's endpoint hears nothing.
func TestUsabilityMaskinportenDown(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	e := webhookEnv(t, ep)
	e.startJobs()
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Usable == nil || !*o.Usable {
		t.Fatalf("usable %v after connecting", o.Usable)
	}
	since := *o.UsableSince
	waitUsabilityEvents(t, ep, 1)
	operator, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))

	// A 503 from the token endpoint.
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/token", Status: http.StatusServiceUnavailable, Body: "down for maintenance", Times: 1})
	e.testConnection(operator, o)
	remove()
	o = e.dashReload(o)
	if o.Status != domain.StatusConnected || o.Usable == nil || !*o.Usable || !o.UsableSince.Equal(since) ||
		o.UsableOutcome == nil || *o.UsableOutcome != domain.UsableUnavailable {
		t.Fatalf("after a 503: status %s usable %v since %v outcome %v; want still usable, could not check", o.Status, o.Usable, o.UsableSince, o.UsableOutcome)
	}
	var check domain.Event
	for _, ev := range e.events(o) {
		if ev.Kind == domain.EventUsability {
			check = ev
		}
	}
	if check.ToStatus != domain.UsableUnavailable || check.HTTPStatus != http.StatusServiceUnavailable || !strings.HasPrefix(check.Message, "could not check") {
		t.Fatalf("the timeline's check: %+v", check)
	}
	p := operator.get(e.web.URL + "/admin/onboardings/" + o.ID)
	if state, _, _ := usabilityOnPage(t, p); state != "usable" || !strings.Contains(p.body, `data-testid="usability-unavailable"`) ||
		!strings.Contains(p.body, `data-outcome="unavailable"`) {
		t.Fatalf("detail page after a 503: %s\n%s", state, p.body)
	}

	// No answer at all, at the reconciler's look: the same.
	remove = e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: "/token", Hang: true, Times: 1})
	o = e.reconcile(o)
	remove()
	if o.Status != domain.StatusConnected || o.Usable == nil || !*o.Usable {
		t.Fatalf("after no answer: %s usable %v", o.Status, o.Usable)
	}
	if got := e.usabilityChecks(o); got[len(got)-1] != "reconciler:unavailable:" {
		t.Fatalf("checks: %v, want the reconciler's could-not-check last", got)
	}
	// No usability change, so no new event: the deliveries settle at one
	// per status change and the first usability event.
	e.waitDeliveries(o, len(e.statusChanges(o))+1, delivered)
	if n := len(usabilityEvents(t, ep)); n != 1 {
		t.Fatalf("%d usability events, want only the first", n)
	}
	e.noTokenStored()
}

// TestUsabilityAgentProduct: an agent system user's token is asked for with
// the accountant's organisation (the onboarding's org, which approved it)
// and the agent product's own externalRef, and is usable.
func TestUsabilityAgentProduct(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "agent", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Kind != domain.KindAgent || o.ExternalRef == o.OrgNo || o.Status != domain.StatusConnected {
		t.Fatalf("agent onboarding: kind %s ref %s status %s", o.Kind, o.ExternalRef, o.Status)
	}
	if o.Usable == nil || !*o.Usable {
		t.Fatalf("agent onboarding: usable %v (%v %v)", o.Usable, o.UsableCode, o.UsableMessage)
	}
	// The grant named the custom externalRef: with the org's default ref the
	// simulator finds no system user, as Maskinporten would (MP-303).
	wrong := onboarding.Service{DB: e.db, Products: e.app.Config.Products, Tokens: wrongRef{e.app.Maskinporten}}
	if err := wrong.TestConnection(context.Background(), o, domain.CauseStaff, "test"); err != nil {
		t.Fatal(err)
	}
	if o.Usable == nil || *o.Usable || o.UsableCode == nil || *o.UsableCode != "MP-303" {
		t.Fatalf("with the default externalRef: usable %v code %v", o.Usable, o.UsableCode)
	}
	if err := e.app.Onboardings.TestConnection(context.Background(), o, domain.CauseStaff, "test"); err != nil {
		t.Fatal(err)
	}
	if o.Usable == nil || !*o.Usable {
		t.Fatalf("with the product's externalRef again: usable %v", o.Usable)
	}
}

// wrongRef asks for system-user tokens with the organisation's default
// externalRef, whatever the onboarding's is.
type wrongRef struct{ onboarding.SystemUserTokens }

func (w wrongRef) SystemUserToken(ctx context.Context, su maskinporten.SystemUser, scopes ...string) (*maskinporten.Result, error) {
	su.ExternalRef = ""
	return w.SystemUserTokens.SystemUserToken(ctx, su, scopes...)
}
