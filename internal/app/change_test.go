package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

const (
	changeRight   = "ske-krav-og-betalinger"
	changePackage = "urn:altinn:accesspackage:skattegrunnlag"
	changeSystem  = "991825827_smartcloud"
	changePath    = "/authentication/api/v1/systemuser/changerequest/vendor"
)

// changeProducts is ONBOARD_PRODUCTS with a standard product asking for
// rights and packages, and the agent product of the default settings.
func changeProducts(t *testing.T, rights, packages []string) string {
	t.Helper()
	b, err := json.Marshal([]config.Product{
		{ID: "standard", Kind: domain.KindStandard, SystemID: changeSystem, Rights: rights, AccessPackages: packages,
			Name: map[string]string{"nb": "Eget system", "en": "Own system"}},
		{ID: "agent", Kind: domain.KindAgent, SystemID: changeSystem, ExternalRef: "agent",
			AccessPackages: []string{"urn:altinn:accesspackage:regnskapsforer-lonn"},
			Name:           map[string]string{"nb": "Klientsystem", "en": "Client system"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// changeRedeploy is the service after its configuration changed: a second
// instance on base's database, pointed at base's simulator as at any Altinn,
// with settings on top. Its return URL is registered at the simulator.
func changeRedeploy(t *testing.T, base *env, settings map[string]string) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := testVars(t, base.app.Config.DatabaseURL, ln.Addr().String(), "http://"+ln.Addr().String())
	againstSim(vars, base.sim.URL)
	a, store := buildApp(t, vars, settings, "redeployed")
	if err := base.app.Sim.AddRedirectURL(changeSystem, a.Config.ReturnURL()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, db: store, sim: base.sim}
	e.web = &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Web}}
	e.web.Start()
	t.Cleanup(e.web.Close)
	return e
}

// changeSetup connects org to a standard product asking for the package
// only, then redeploys the service with the product asking for the right
// too. The customer's browser b started the onboarding.
func changeSetup(t *testing.T) (base, after *env, b *browser, o *domain.Onboarding) {
	t.Helper()
	base = newEnv(t, map[string]string{"ONBOARD_PRODUCTS": changeProducts(t, nil, []string{changePackage})})
	b = base.browser()
	base.returnTo(b, base.decide(b, base.startFlow(b, "standard", org), "approve").location)
	o = base.onboardingForOrg(org)
	if o.Status != domain.StatusConnected {
		t.Fatalf("setup: %q, want connected", o.Status)
	}
	if d := cmp.Diff([][]string{{}, {changePackage}}, [][]string{o.GrantedRights, o.GrantedPackages}); d != "" {
		t.Fatalf("grants on connecting (-want +got):\n%s", d)
	}
	after = changeRedeploy(t, base, map[string]string{
		"ONBOARD_PRODUCTS": changeProducts(t, []string{changeRight}, []string{changePackage})})
	return base, after, b, o
}

func (e *env) lacking(rights, packages []string) []string {
	e.t.Helper()
	ids, err := e.db.OnboardingsLacking(context.Background(), "standard", rights, packages)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func (e *env) changeRequests(o *domain.Onboarding) []domain.ChangeRequest {
	e.t.Helper()
	crs, err := e.db.ChangeRequests(context.Background(), o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return crs
}

// simChanges are the change requests the simulator stored for a system user.
func simChanges(s *sim.Server, systemUserID string) []sim.ChangeRequestInfo {
	var out []sim.ChangeRequestInfo
	for _, c := range s.ChangeRequests() {
		if c.SystemUserID == systemUserID {
			out = append(out, c)
		}
	}
	return out
}

func simRightIDs(rs []sim.Right) []string {
	var ids []string
	for _, r := range rs {
		for _, a := range r.Resource {
			ids = append(ids, a.Value)
		}
	}
	return ids
}

// changeReturn follows Altinn's redirect back to the service and the page it
// leads to.
func (e *env) changeReturn(b *browser, location string) page {
	e.t.Helper()
	ret := b.get(location)
	if ret.status != http.StatusSeeOther || !strings.HasPrefix(ret.location, "/change/") {
		e.t.Fatalf("return: %d Location %q\n%s", ret.status, ret.location, ret.body)
	}
	return b.get(e.web.URL + ret.location)
}

func changeOutcomeOf(t *testing.T, p page) string {
	t.Helper()
	const marker = `data-testid="change-outcome" data-status="`
	i := strings.Index(p.body, marker)
	if i < 0 {
		t.Fatalf("not a change outcome page (%d):\n%s", p.status, p.body)
	}
	rest := p.body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// TestChangeNewRightsApproved: the product now asks for a right the
// customer's system user lacks. The dashboard lists the customer; one change
// request is made (again asking gives the same one); the customer approves
// it on Altinn's page and comes back; the system user holds the right, the
// grants moved, and nobody lacks anything any more.
func TestChangeNewRightsApproved(t *testing.T) {
	t.Parallel()
	base, after, b, o := changeSetup(t)
	ctx := context.Background()

	if got := base.lacking(nil, []string{changePackage}); len(got) != 0 {
		t.Fatalf("under the old configuration nobody lacks anything: %v", got)
	}
	if d := cmp.Diff([]string{o.ID}, after.lacking([]string{changeRight}, []string{changePackage})); d != "" {
		t.Fatalf("lacking the new right (-want +got):\n%s", d)
	}
	ob, _ := after.dashStaff("olga@example.com", string(domain.RoleOperator))
	changes := ob.get(after.web.URL + "/admin/changes")
	for _, want := range []string{
		`data-testid="change-product" data-product="standard" data-lacking="1"`,
		`data-testid="lacking-row" data-id="` + o.ID + `"`,
		`href="/admin/onboardings/` + o.ID + `"`,
		`">` + changeRight + `</code>`, // what it lacks
		`action="/admin/campaigns/change" data-testid="change-campaign-form"`,
		`name="product" value="standard"`,
		`data-product="agent" data-lacking="0"`, `data-testid="agent-note"`,
	} {
		if !strings.Contains(changes.body, want) {
			t.Errorf("changes page lacks %s", want)
		}
	}
	if !strings.Contains(changes.body, `name="_csrf" value="`+csrfOf(t, changes)+`"`) {
		t.Error("the campaign form carries no CSRF token")
	}

	cr, err := after.app.Onboardings.RequestChange(ctx, o, domain.CauseStaff, "test")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Status != domain.ChangePending || cr.ConfirmURL == nil ||
		!strings.Contains(*cr.ConfirmURL, "/accessmanagement/ui/systemuser/changerequest?id="+cr.ID) {
		t.Fatalf("change request: %+v, want pending with Altinn's confirm page", cr)
	}
	if d := cmp.Diff([][]string{{changeRight}, {}, {}, {}},
		[][]string{cr.RequiredRights, cr.UnwantedRights, cr.RequiredPackages, cr.UnwantedPackages}); d != "" {
		t.Fatalf("what it asks (-want +got):\n%s", d)
	}
	again, err := after.app.Onboardings.RequestChange(ctx, o, domain.CauseStaff, "test")
	if err != nil || again.ID != cr.ID {
		t.Fatalf("asking again: %v, %+v; want the live one (%s)", err, again, cr.ID)
	}
	at := simChanges(base.app.Sim, *o.SystemUserID)
	if len(at) != 1 || at[0].ID != cr.ID || !slices.Equal(simRightIDs(at[0].RequiredRights), []string{changeRight}) ||
		at[0].RedirectURL != after.web.URL+"/return?ref="+cr.Ref {
		t.Fatalf("Altinn holds %+v, want the one change request %s", at, cr.ID)
	}
	if got := after.lacking([]string{changeRight}, []string{changePackage}); len(got) != 0 {
		t.Fatalf("a customer with a live change request is not lacking: %v", got)
	}

	// The customer approves on Altinn's change page and comes back.
	back := after.decide(b, *cr.ConfirmURL, "approve")
	if back.status != http.StatusFound || back.location != after.web.URL+"/return?ref="+cr.Ref {
		t.Fatalf("Altinn after approve: %d %q", back.status, back.location)
	}
	outcome := after.changeReturn(b, back.location)
	if st := changeOutcomeOf(t, outcome); st != string(domain.ChangeAccepted) {
		t.Fatalf("outcome %q, want accepted", st)
	}
	// The change in Altinn's words (the simulator's title), not its id.
	if !strings.Contains(outcome.body, "314 248 295") || !strings.Contains(outcome.body, "Krav og betalinger") ||
		strings.Contains(outcome.body, changeRight) {
		t.Error("the browser that started the onboarding should see the organisation and the change, in words")
	}
	if _, pkgs, ok := base.app.Sim.SystemUserRights(*o.SystemUserID); !ok || !slices.Contains(pkgs, changePackage) {
		t.Fatalf("system user at Altinn: %v %v", pkgs, ok)
	}
	if rights, _, _ := base.app.Sim.SystemUserRights(*o.SystemUserID); !slices.Equal(simRightIDs(rights), []string{changeRight}) {
		t.Fatalf("system user's rights at Altinn: %v, want the new right", simRightIDs(rights))
	}
	o = after.dashReload(o)
	if d := cmp.Diff([][]string{{changeRight}, {changePackage}}, [][]string{o.GrantedRights, o.GrantedPackages}); d != "" {
		t.Fatalf("grants after approval (-want +got):\n%s", d)
	}
	if got := after.lacking([]string{changeRight}, []string{changePackage}); len(got) != 0 {
		t.Fatalf("nobody lacks anything after approval: %v", got)
	}
	var ops, kinds []string
	for _, ev := range after.events(o) {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == domain.EventAltinnCall {
			ops = append(ops, ev.Operation)
		}
	}
	for _, want := range []string{"POST changerequest/vendor", "GET changerequest/vendor/{id}"} {
		if !contains(ops, want) {
			t.Errorf("timeline lacks the call %q: %v", want, ops)
		}
	}
	if !contains(kinds, domain.EventChange) || !contains(kinds, domain.EventReturn) {
		t.Errorf("timeline lacks the change and the return: %v", kinds)
	}

	// A stranger holding the return link sees the outcome, nothing else.
	stranger := after.browser()
	p := after.changeReturn(stranger, after.web.URL+"/return?ref="+cr.Ref)
	if st := changeOutcomeOf(t, p); st != string(domain.ChangeAccepted) || strings.Contains(p.body, "314 248 295") ||
		strings.Contains(p.body, org) || !strings.Contains(p.body, `data-testid="other-browser"`) {
		t.Fatalf("a stranger's page (status %q) shows organisation details:\n%s", st, p.body)
	}
	// The old return behaviour for an onboarding's ref is unchanged.
	if ret := stranger.get(after.web.URL + "/return?ref=" + o.Ref); ret.status != http.StatusSeeOther || ret.location != "/status/"+o.Ref {
		t.Fatalf("onboarding return: %d %q", ret.status, ret.location)
	}
	if ret := stranger.get(after.web.URL + "/return?ref=" + dashRef(t)); ret.status != http.StatusNotFound {
		t.Fatalf("unknown ref: %d, want 404", ret.status)
	}

	// The detail page tells the story.
	detail := ob.get(after.web.URL + "/admin/onboardings/" + o.ID)
	for _, want := range []string{`data-testid="changes"`, `data-testid="change-request" data-id="` + cr.ID + `" data-status="accepted"`,
		`data-testid="action-change"`} {
		if !strings.Contains(detail.body, want) {
			t.Errorf("detail page lacks %s", want)
		}
	}
}

// TestChangeRejected: the customer rejects the change on Altinn's page; the
// grants stay, and the customer is listed as lacking again. While it was
// pending, the return page offered the way back to Altinn.
func TestChangeRejected(t *testing.T) {
	t.Parallel()
	base, after, b, o := changeSetup(t)
	cr, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil || cr.Status != domain.ChangePending {
		t.Fatalf("change request: %v %+v", err, cr)
	}
	// Back without deciding (another tab): still pending, with the link.
	pending := after.changeReturn(b, after.web.URL+"/return?ref="+cr.Ref)
	if st := changeOutcomeOf(t, pending); st != string(domain.ChangePending) || !strings.Contains(pending.body, `data-testid="continue"`) {
		t.Fatalf("pending page (%q) must lead back to Altinn:\n%s", st, pending.body)
	}
	outcome := after.changeReturn(b, after.decide(b, *cr.ConfirmURL, "reject").location)
	if st := changeOutcomeOf(t, outcome); st != string(domain.ChangeRejected) {
		t.Fatalf("outcome %q, want rejected", st)
	}
	if rights, _, _ := base.app.Sim.SystemUserRights(*o.SystemUserID); len(rights) != 0 {
		t.Fatalf("a rejected change gave rights: %v", simRightIDs(rights))
	}
	o = after.dashReload(o)
	if len(o.GrantedRights) != 0 || !slices.Equal(o.GrantedPackages, []string{changePackage}) {
		t.Fatalf("grants after a rejection: %v %v", o.GrantedRights, o.GrantedPackages)
	}
	if d := cmp.Diff([]string{o.ID}, after.lacking([]string{changeRight}, []string{changePackage})); d != "" {
		t.Fatalf("after a rejection the customer lacks the right again (-want +got):\n%s", d)
	}
	// In English too.
	b.get(after.web.URL + "/lang/en")
	if en := b.get(after.web.URL + "/change/" + cr.Ref); !strings.Contains(en.body, "The change was rejected in Altinn.") {
		t.Fatalf("English page:\n%s", en.body)
	}

	// Asked again: a new correlation id. The customer approves but never
	// comes back; the next refresh of the onboarding (the reconciler's
	// sweep) notices.
	next, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil || next.ID == cr.ID || next.Status != domain.ChangePending {
		t.Fatalf("asking again after a rejection: %v %+v, want a new pending change request", err, next)
	}
	if err := base.app.Sim.ApproveChange(next.ID); err != nil {
		t.Fatal(err)
	}
	if err := after.app.Onboardings.Refresh(context.Background(), o, domain.CauseReconciler, ""); err != nil {
		t.Fatal(err)
	}
	if crs := after.changeRequests(o); crs[0].ID != next.ID || crs[0].Status != domain.ChangeAccepted {
		t.Fatalf("after the sweep: %+v, want the new one accepted", crs[0])
	}
	if o = after.dashReload(o); !slices.Equal(o.GrantedRights, []string{changeRight}) {
		t.Fatalf("grants after the sweep: %v", o.GrantedRights)
	}
}

// TestChangeNoChangeNeeded: a change request for a system user that already
// holds what its product asks for: Altinn says NoChangeNeeded and stores
// nothing; the grants are the configuration. A row from before grants were
// kept counts as holding the configuration.
func TestChangeNoChangeNeeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	p, _ := config.FindProduct(e.app.Config.Products, "standard")
	if got := e.lacking(p.Rights, p.AccessPackages); len(got) != 0 {
		t.Fatalf("lacking under the same configuration: %v", got)
	}
	cr, err := e.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Status != domain.ChangeNoChange || cr.ConfirmURL != nil || !cr.Empty() {
		t.Fatalf("change request: %+v, want no_change", cr)
	}
	if n := len(e.app.Sim.ChangeRequests()); n != 0 || e.app.Sim.Stats().Calls["POST "+changePath] != 1 {
		t.Fatalf("Altinn stored %d change requests (POSTs %d), want none after one POST", n, e.app.Sim.Stats().Calls["POST "+changePath])
	}
	o = e.dashReload(o)
	if d := cmp.Diff([][]string{p.Rights, p.AccessPackages}, [][]string{o.GrantedRights, o.GrantedPackages}); d != "" {
		t.Fatalf("grants (-want +got):\n%s", d)
	}

	// Grants unknown (a row from before they were kept): as configured.
	if _, err := e.db.Pool.Exec(context.Background(),
		`UPDATE onboardings SET granted_rights = NULL, granted_packages = NULL WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.lacking(p.Rights, p.AccessPackages); len(got) != 0 {
		t.Fatalf("a row without grants counts as configured, but is lacking: %v", got)
	}
	if got := e.lacking(nil, []string{changePackage}); len(got) != 0 {
		t.Fatalf("unknown grants are never listed: %v", got)
	}

	// The same through the dashboard: a viewer may not, an operator may.
	o = e.dashReload(o)
	vb, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	vdetail := vb.get(path)
	if strings.Contains(vdetail.body, `data-testid="action-change"`) {
		t.Fatal("a viewer is offered the change action")
	}
	for _, res := range []page{vb.get(path + "/change"), vb.post(path+"/change", url.Values{"_csrf": {csrfOf(t, vdetail)}, "confirm": {"yes"}})} {
		if res.status != http.StatusForbidden {
			t.Fatalf("a viewer's change: %d, want 403", res.status)
		}
	}
	if changes := vb.get(e.web.URL + "/admin/changes"); changes.status != http.StatusOK ||
		strings.Contains(changes.body, `data-testid="change-campaign-form"`) {
		t.Fatalf("a viewer reads the changes page (%d) but gets no campaign form", changes.status)
	}
	ob, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	detail := ob.get(path)
	if !strings.Contains(detail.body, `href="/admin/onboardings/`+o.ID+`/change" data-testid="action-change"`) {
		t.Fatalf("an operator is not offered the change action:\n%s", detail.body)
	}
	confirm := ob.get(path + "/change")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-testid="confirm-form" data-action="change"`) ||
		!strings.Contains(confirm.body, `data-testid="change-nothing"`) {
		t.Fatalf("confirmation page: %d\n%s", confirm.status, confirm.body)
	}
	posts := e.app.Sim.Stats().Calls["POST "+changePath]
	if res := ob.post(path+"/change", url.Values{"_csrf": {csrfOf(t, detail)}}); res.status != http.StatusOK ||
		e.app.Sim.Stats().Calls["POST "+changePath] != posts {
		t.Fatalf("without confirm=yes it only asks: %d", res.status)
	}
	dashDoneAt(t, ob.post(path+"/change", url.Values{"_csrf": {csrfOf(t, detail)}, "confirm": {"yes"}}), o, "change")
	a := e.dashStaffActed(o, olga, "onboarding.change", "POST changerequest/vendor")
	if a.Detail["status"] != string(domain.ChangeNoChange) || a.Detail["result"] != "ok" {
		t.Fatalf("audit detail: %v", a.Detail)
	}
	if crs := e.changeRequests(o); len(crs) != 2 || crs[0].Status != domain.ChangeNoChange {
		t.Fatalf("change requests: %+v", crs)
	}
}

// TestChangeRepeatedCorrelationID: Altinn stores the change request but the
// answer is lost. It stays requesting; the retry sends the same correlation
// id and gets the stored one back, so Altinn holds exactly one. Staff can
// then withdraw it.
func TestChangeRepeatedCorrelationID(t *testing.T) {
	t.Parallel()
	base, after, _, o := changeSetup(t)
	remove := base.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: changePath, Status: 500, AfterStore: true, Times: 1})
	defer remove()
	cr, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Status != domain.ChangeRequesting || cr.ErrorCode == nil || *cr.ErrorCode != onboarding.CodeUnavailable {
		t.Fatalf("after a lost answer: %+v, want requesting and unavailable", cr)
	}
	if at := simChanges(base.app.Sim, *o.SystemUserID); len(at) != 1 || at[0].ID != cr.ID {
		t.Fatalf("Altinn holds %+v, want the one stored under our correlation id", at)
	}
	retry, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseCampaign, "campaign")
	if err != nil {
		t.Fatal(err)
	}
	if retry.ID != cr.ID || retry.Status != domain.ChangePending || retry.ConfirmURL == nil || retry.ErrorCode != nil {
		t.Fatalf("retry: %+v, want the same change request, pending", retry)
	}
	if at := simChanges(base.app.Sim, *o.SystemUserID); len(at) != 1 || base.app.Sim.Stats().ChangeRequestsCreated != 1 {
		t.Fatalf("Altinn holds %d change requests (%d created), want exactly one", len(at), base.app.Sim.Stats().ChangeRequestsCreated)
	}
	if crs := after.changeRequests(o); len(crs) != 1 {
		t.Fatalf("stored change requests: %d, want 1", len(crs))
	}

	// Withdrawn from the dashboard, after confirmation.
	ob, olga := after.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := after.web.URL + "/admin/onboardings/" + o.ID
	detail := ob.get(path)
	if strings.Contains(detail.body, `data-testid="action-change"`) || !strings.Contains(detail.body, `data-testid="change-cancel"`) {
		t.Fatalf("a live change request is withdrawn, not asked again:\n%s", detail.body)
	}
	cancel := path + "/changes/" + cr.ID + "/cancel"
	if res := ob.get(cancel); res.status != http.StatusOK || !strings.Contains(res.body, `data-action="changecancel"`) {
		t.Fatalf("withdraw confirmation: %d", res.status)
	}
	dashDoneAt(t, ob.post(cancel, url.Values{"_csrf": {csrfOf(t, detail)}, "confirm": {"yes"}}), o, "changecancel")
	after.dashStaffActed(o, olga, "onboarding.change_cancel", "DELETE changerequest/vendor/{id}")
	if at := simChanges(base.app.Sim, *o.SystemUserID); len(at) != 1 || !at[0].Deleted {
		t.Fatalf("at Altinn after withdrawing: %+v", at)
	}
	if crs := after.changeRequests(o); crs[0].Status != domain.ChangeCancelled {
		t.Fatalf("after withdrawing: %q", crs[0].Status)
	}
	if d := cmp.Diff([]string{o.ID}, after.lacking([]string{changeRight}, []string{changePackage})); d != "" {
		t.Fatalf("lacking again once withdrawn (-want +got):\n%s", d)
	}
}

// TestChangeAgentRefused: an agent (client) system user cannot be changed:
// refused before Altinn is called, with words that say a new system user is
// needed. A standard onboarding whose system user Altinn answers AUTH-00015
// for (while byquery still finds it) is refused the same way.
func TestChangeAgentRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "agent", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Kind != domain.KindAgent || o.Status != domain.StatusConnected {
		t.Fatalf("setup: %s %s", o.Kind, o.Status)
	}
	if _, err := e.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test"); !errors.Is(err, onboarding.ErrAgentChange) {
		t.Fatalf("RequestChange on an agent: %v, want ErrAgentChange", err)
	}
	if n := e.app.Sim.Stats().Calls["POST "+changePath]; n != 0 || len(e.changeRequests(o)) != 0 {
		t.Fatalf("an agent's refusal called Altinn %d times or stored something", n)
	}
	ob, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	detail := ob.get(path)
	if !strings.Contains(detail.body, `data-testid="change-agent"`) || strings.Contains(detail.body, `data-testid="action-change"`) ||
		!strings.Contains(detail.body, "ny systembruker") {
		t.Fatalf("the agent's detail page must say a new system user is needed:\n%s", detail.body)
	}
	res := ob.post(path+"/change", url.Values{"_csrf": {csrfOf(t, detail)}, "confirm": {"yes"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "ny systembruker") {
		t.Fatalf("change on an agent: %d\n%s", res.status, res.body)
	}
	if changes := ob.get(e.web.URL + "/admin/changes"); !strings.Contains(changes.body, `data-product="agent" data-lacking="0"`) ||
		!strings.Contains(changes.body, `data-testid="agent-note"`) {
		t.Fatal("the changes page must say an agent product cannot be changed")
	}

	// Altinn's own refusal (AUTH-00015) of a system user byquery finds.
	other := dashOrgNos(1)[0]
	sb := e.browser()
	e.returnTo(sb, e.decide(sb, e.startFlow(sb, "standard", other), "approve").location)
	s := e.onboardingForOrg(other)
	remove := e.app.Sim.Inject(sim.Fault{Method: http.MethodPost, Path: changePath, Status: http.StatusNotFound, Times: 1,
		Body: `{"type":"urn:altinn:error:AUTH-00015","title":"The SystemUser was not found.","status":404,"code":"AUTH-00015"}`})
	defer remove()
	cr, err := e.app.Onboardings.RequestChange(context.Background(), s, domain.CauseStaff, "test")
	if !errors.Is(err, onboarding.ErrAgentChange) || cr == nil || cr.Status != domain.ChangeFailed ||
		cr.ErrorCode == nil || *cr.ErrorCode != "AUTH-00015" {
		t.Fatalf("AUTH-00015: %v %+v, want ErrAgentChange and a failed change request", err, cr)
	}
	if s = e.dashReload(s); s.Status != domain.StatusConnected {
		t.Fatalf("the onboarding is %q, want still connected", s.Status)
	}
}

// TestChangeNoticedByReconciler: a customer approves a change request in
// Altinn and never comes back. The pending change request puts its
// onboarding on the waiting schedule (not the connected one's day), so the
// reconciler's sweep notices within seconds here.
func TestChangeNoticedByReconciler(t *testing.T) {
	t.Parallel()
	base := newEnv(t, map[string]string{"ONBOARD_PRODUCTS": changeProducts(t, nil, []string{changePackage})})
	b := base.browser()
	base.returnTo(b, base.decide(b, base.startFlow(b, "standard", org), "approve").location)
	o := base.onboardingForOrg(org)
	after := changeRedeploy(t, base, map[string]string{
		"ONBOARD_PRODUCTS":           changeProducts(t, []string{changeRight}, []string{changePackage}),
		"ONBOARD_RECONCILE_SCHEDULE": "1s,2s",
		"ONBOARD_SWEEP_INTERVAL":     "1s",
	})
	cr, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil || cr.Status != domain.ChangePending {
		t.Fatalf("change request: %v %+v", err, cr)
	}
	if next := after.dashReload(o).NextCheckAt; next == nil || time.Until(*next) > 5*time.Second {
		t.Fatalf("the onboarding's next look is at %v, want within seconds while its change request waits", next)
	}
	if err := base.app.Sim.ApproveChange(cr.ID); err != nil {
		t.Fatal(err)
	}
	after.startJobs()
	deadline := time.Now().Add(20 * time.Second)
	for after.changeRequests(o)[0].Status != domain.ChangeAccepted {
		if time.Now().After(deadline) {
			t.Fatalf("the reconciler did not notice the approval: %+v", after.changeRequests(o)[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o = after.dashReload(o); !slices.Equal(o.GrantedRights, []string{changeRight}) {
		t.Fatalf("grants after the sweep: %v", o.GrantedRights)
	}
}
