package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// clientHook is one client event the vendor's endpoint received.
type clientHook struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created string `json:"created"`
	Data    struct {
		OnboardingID string `json:"onboarding_id"`
		OrgNo        string `json:"org_no"`
		SystemUserID string `json:"system_user_id"`
		Client       struct {
			ID        string  `json:"id"`
			OrgNo     string  `json:"org_no"`
			Name      string  `json:"name"`
			State     string  `json:"state"`
			Reason    *string `json:"reason"`
			ChangedBy string  `json:"changed_by"`
			ChangedAt string  `json:"changed_at"`
		} `json:"client"`
	} `json:"data"`
}

// clientHooks are the client events ep received, each once (by event id),
// after checking each one's signature and that no national id is in it.
func clientHooks(t *testing.T, ep *vendorEndpoint) []clientHook {
	t.Helper()
	seen := map[string]bool{}
	var out []clientHook
	for _, r := range ep.requests() {
		typ := r.header.Get("Onboard-Event-Type")
		if !strings.HasPrefix(typ, "client.") {
			continue
		}
		if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, time.Now()); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		for _, pid := range []string{sim.PersonClientAdmin, sim.PersonMainAdmin} {
			if strings.Contains(string(r.body), pid) {
				t.Fatalf("a national id in a webhook: %s", r.body)
			}
		}
		var h clientHook
		if err := json.Unmarshal(r.body, &h); err != nil || h.Type != typ || h.ID != r.header.Get("Onboard-Event-Id") {
			t.Fatalf("client event %v: %s", err, r.body)
		}
		if !seen[h.ID] {
			seen[h.ID] = true
			out = append(out, h)
		}
	}
	return out
}

// waitClientHooks polls until ep has n client events.
func (e *env) waitClientHooks(ep *vendorEndpoint, n int) []clientHook {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		hs := clientHooks(e.t, ep)
		if len(hs) >= n {
			return hs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d client events within 15 s, want %d: %+v", len(hs), n, hs)
		}
		time.Sleep(20 * time.Millisecond) // polling, with the deadline above
	}
}

// storedClientEvents counts the onboarding's stored client events by type.
func (e *env) storedClientEvents(o *domain.Onboarding) map[string]int {
	e.t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT type FROM webhook_events WHERE onboarding_id = $1 AND type LIKE 'client.%'`, o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			e.t.Fatal(err)
		}
		out[typ]++
	}
	return out
}

// TestClientsVendor: the vendor knows (issue 14, point 3). Kari adds
// clients through the service (one add answered 503 first, then retried):
// each is sent as client.delegated exactly once, a job run again for a
// done client sends nothing, the API lists them (checked against
// openapi.json); a removal is client.removed; a client added and one
// removed in Altinn's portal are noticed by the reconciler with webhooks
// (changed_by altinn) and timeline events, once however often it looks, as
// is one the clients page notices; a viewer sees them on the dashboard.
func TestClientsVendor(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	e := newEnv(t, map[string]string{
		"ONBOARD_WEBHOOK_URLS":   ep.url(),
		"ONBOARD_WEBHOOK_SECRET": testWebhookSecret,
	})
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "agent", sim.FirmOrgNo), "approve").location)
	o := e.onboardingForOrg(sim.FirmOrgNo)
	if o.Kind != domain.KindAgent || o.Status != domain.StatusConnected || o.SystemUserID == nil {
		t.Fatalf("the agent onboarding is %s %s", o.Kind, o.Status)
	}
	su := *o.SystemUserID

	if back := e.clientsLogin(b, o, sim.PersonClientAdmin); back.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%.1000s", back.status, back.body)
	}
	list := b.get(e.web.URL + "/clients/" + o.Ref)
	var ids []string
	for _, m := range clientRowRE.FindAllStringSubmatch(list.body, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) < 20 {
		t.Fatalf("%d clients listed", len(ids))
	}
	asked := ids[:4]
	path := "/authentication/api/v1/enduser/systemuser/clients"
	defer e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: path, Status: http.StatusServiceUnavailable, Times: 1})()
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/add", url.Values{"_csrf": {csrfOf(t, list)}, "client": asked}); p.status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%.1000s", p.status, p.body)
	}
	e.startJobs()
	e.waitDone(b, o)
	var added []string
	for _, id := range asked {
		if e.clientRows(o.ID)[id] == string(domain.ClientDelegated) {
			added = append(added, id)
		}
	}
	if len(added) < 3 {
		t.Fatalf("only %d of 4 delegated: %v", len(added), e.clientRows(o.ID))
	}
	hooks := e.waitClientHooks(ep, len(added))
	var got []string
	for _, h := range hooks {
		if h.Type != "client.delegated" || h.Data.OnboardingID != o.ID || h.Data.OrgNo != sim.FirmOrgNo || h.Data.SystemUserID != su ||
			h.Data.Client.State != "delegated" || h.Data.Client.ChangedBy != "person" || h.Data.Client.OrgNo == "" || h.Data.Client.Name == "" {
			t.Errorf("client event %+v", h)
		}
		got = append(got, h.Data.Client.ID)
	}
	slices.Sort(got)
	slices.Sort(added)
	if !slices.Equal(got, added) {
		t.Fatalf("client.delegated for %v, want each of %v once", got, added)
	}

	// River running a done client's job again sends nothing.
	done, cancel := e.app.Jobs.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	res, err := e.app.Jobs.Insert(context.Background(), clients.Args{OnboardingID: o.ID, ClientID: added[0]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range done {
		if ev.Job.ID == res.Job.ID {
			break
		}
	}
	cancel()
	if n := e.storedClientEvents(o); n["client.delegated"] != len(added) || n["client.removed"] != 0 {
		t.Fatalf("after a job ran again: %v", n)
	}

	// The API lists them, as documented.
	doc := e.openAPI()
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(e.signedIn("boss@example.com"), "ERP")
	api := e.api(doc, http.MethodGet, "/api/v1/onboardings/"+o.ID+"/clients", key, "")
	var l struct {
		Counts map[string]int `json:"counts"`
		Items  []struct {
			ID, State, ChangedBy string
		} `json:"items"`
	}
	if err := json.Unmarshal(api.body, &l); err != nil || api.status != http.StatusOK || l.Counts["delegated"] != len(added) ||
		len(l.Items) != len(asked) || l.Counts["failed"] != len(asked)-len(added) {
		t.Fatalf("API clients: %d %v\n%s", api.status, err, api.body)
	}
	if strings.Contains(string(api.body), sim.PersonClientAdmin) || strings.Contains(string(api.body), `"person"`) == false {
		t.Errorf("API clients: a national id, or no changed_by person:\n%s", api.body)
	}

	// A removal through the service: client.removed.
	if p := b.post(e.web.URL+"/clients/"+o.Ref+"/remove", url.Values{"_csrf": {csrfOf(t, list)}, "client": {added[0]}}); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	e.waitDone(b, o)
	hooks = e.waitClientHooks(ep, len(added)+1)
	if h := hooks[len(hooks)-1]; h.Type != "client.removed" || h.Data.Client.ID != added[0] || h.Data.Client.State != "removed" || h.Data.Client.ChangedBy != "person" {
		t.Fatalf("removal's event %+v", h)
	}

	// In Altinn's portal: a client added, one removed. The reconciler notices.
	var portal string
	for _, id := range ids[4:] {
		if err := e.app.Sim.DelegateClient(su, id); err == nil {
			portal = id
			break
		}
	}
	if portal == "" {
		t.Fatal("no client the portal could add")
	}
	if err := e.app.Sim.RemoveClientDelegation(su, added[1]); err != nil {
		t.Fatal(err)
	}
	before := len(e.events(o))
	e.reconcile(o)
	rows := e.clientRows(o.ID)
	if rows[portal] != string(domain.ClientDelegated) || rows[added[1]] != string(domain.ClientRemoved) {
		t.Fatalf("after the reconciler: portal's add %q, portal's removal %q", rows[portal], rows[added[1]])
	}
	hooks = e.waitClientHooks(ep, len(added)+3)
	byClient := map[string]clientHook{}
	for _, h := range hooks[len(added)+1:] {
		byClient[h.Data.Client.ID] = h
	}
	if h := byClient[portal]; h.Type != "client.delegated" || h.Data.Client.ChangedBy != "altinn" {
		t.Errorf("portal's add: %+v", h)
	}
	if h := byClient[added[1]]; h.Type != "client.removed" || h.Data.Client.ChangedBy != "altinn" {
		t.Errorf("portal's removal: %+v", h)
	}
	var portalEvents int
	for _, ev := range e.events(o)[before:] {
		if ev.Kind == domain.EventClients && ev.Cause == domain.CauseReconciler {
			portalEvents++
		}
	}
	if portalEvents != 2 {
		t.Errorf("%d reconciler client events on the timeline, want 2", portalEvents)
	}
	// Looking again changes nothing and sends nothing.
	n := e.storedClientEvents(o)
	e.reconcile(o)
	if again := e.storedClientEvents(o); again["client.delegated"] != n["client.delegated"] || again["client.removed"] != n["client.removed"] {
		t.Fatalf("a second look sent more: %v, then %v", n, again)
	}

	// The clients page notices a portal change too, with its webhook, once:
	// the reconciler's next look sends nothing more.
	if err := e.app.Sim.RemoveClientDelegation(su, portal); err != nil {
		t.Fatal(err)
	}
	if p := b.get(e.web.URL + "/clients/" + o.Ref); p.status != http.StatusOK {
		t.Fatalf("clients page: %d", p.status)
	}
	hooks = e.waitClientHooks(ep, len(added)+4)
	if h := hooks[len(hooks)-1]; h.Type != "client.removed" || h.Data.Client.ID != portal || h.Data.Client.ChangedBy != "altinn" {
		t.Errorf("the page's notice: %+v", h)
	}
	n = e.storedClientEvents(o)
	e.reconcile(o)
	if again := e.storedClientEvents(o); again["client.removed"] != n["client.removed"] || again["client.delegated"] != n["client.delegated"] {
		t.Fatalf("the reconciler told again what the page noticed: %v, then %v", n, again)
	}
	api = e.api(doc, http.MethodGet, "/api/v1/onboardings/"+o.ID+"/clients", key, "")
	if api.status != http.StatusOK || !strings.Contains(string(api.body), `"altinn"`) {
		t.Errorf("API clients after the portal: %d\n%s", api.status, api.body)
	}
	e.t.Logf("client events: %v", e.storedClientEvents(o))

	// A viewer sees the clients on the onboarding's detail page: counts by
	// state, and each with its state, by whom and when, in words.
	e.addStaff("viewer@example.com", string(domain.RoleViewer))
	viewer := e.signedIn("viewer@example.com")
	for _, lang := range []string{"nb", "en"} {
		viewer.get(e.web.URL + "/lang/" + lang + "?next=/admin/")
		p := viewer.get(e.web.URL + "/admin/onboardings/" + o.ID)
		if p.status != http.StatusOK || !strings.Contains(p.body, `<html lang="`+lang+`"`) || !strings.Contains(p.body, `data-testid="clients-section"`) {
			t.Fatalf("detail page (%s): %d\n%.2000s", lang, p.status, p.body)
		}
		final := e.clientRows(o.ID)
		if n := strings.Count(p.body, `data-testid="client-admin-row"`); n != len(final) {
			t.Errorf("%s: %d client rows, want %d", lang, n, len(final))
		}
		wantRow := `data-id="` + portal + `" data-state="removed" data-by="altinn"`
		if !strings.Contains(p.body, wantRow) {
			t.Errorf("%s: no row %s", lang, wantRow)
		}
		words := map[string][]string{"nb": {"i Altinns portal", "via onboard", "Lagt til", "Fjernet"},
			"en": {"in Altinn&#39;s portal", "via onboard", "Added", "Removed"}}[lang]
		for _, w := range words {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s: the detail page does not say %q", lang, w)
			}
		}
		if !strings.Contains(p.body, `data-testid="clients-count" data-state="delegated" data-n="`) {
			t.Errorf("%s: no count of delegated clients", lang)
		}
	}
}
