package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// confirmPath returns the path and query of a confirmUrl.
func confirmPath(t *testing.T, confirmURL string) string {
	t.Helper()
	u, err := url.Parse(confirmURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// submit posts the confirm page's form as a browser on the same origin would.
func (e *env) submit(page, id, action string, header map[string]string) response {
	e.t.Helper()
	form := url.Values{"id": {id}, "action": {action}}
	req, err := http.NewRequest("POST", e.url+page, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return response{resp.StatusCode, resp.Header, readAll(e.t, resp)}
}

const standardPage = "/accessmanagement/ui/systemuser/request"

func TestConfirmPageShowsRequest(t *testing.T) {
	e := newEnv(t)
	created := e.create(e.token(), standardBody(customerOrg), http.StatusCreated)
	r := e.do("GET", confirmPath(t, created["confirmUrl"].(string)), "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	page := string(r.body)
	for _, want := range []string{
		`lang="nb"`, "Altinn simulator", "SmartCloud AS", "SmartCloud", "Lunefull Handlekraftig Tiger AS", customerOrg,
		"ske-krav-og-betalinger", pkgSkatt,
		`data-testid="sim-approve"`, `data-testid="sim-reject"`, `data-testid="sim-escalate"`,
		"Godkjenn", "Avvis", "Be en tilgangsstyrer godkjenne",
		`name="id" value="` + created["id"].(string) + `"`, `method="post"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("page has a script")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, p := range []string{
		standardPage + "?id=" + newUUID(),
		standardPage + "?id=nope",
		"/accessmanagement/ui/systemuser/agentrequest?id=" + created["id"].(string),
	} {
		if r := e.do("GET", p, "", nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
}

func TestConfirmApproveRedirectsExactly(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	// Characters a careless redirect would re-encode or append to.
	stored := returnURL + "?ref=onb_42&state=a%2Fb%20c&empty=&x=%C3%B8"
	created := e.create(tok, with(standardBody(customerOrg), "redirectUrl", "  "+stored+" "), http.StatusCreated)
	id := created["id"].(string)
	if created["redirectUrl"] != stored {
		t.Fatalf("stored redirectUrl %q", created["redirectUrl"])
	}
	r := e.submit(standardPage, id, "approve", nil)
	if r.status != http.StatusFound {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != stored {
		t.Errorf("Location %q, want %q", loc, stored)
	}
	got := e.do("GET", reqPath+"/"+id, tok, nil).json(t)
	if got["status"] != "Accepted" {
		t.Errorf("status %v", got["status"])
	}
	info := e.sim.Requests()[0]
	if info.SystemUserID != id {
		t.Errorf("system user id %q, want the request id", info.SystemUserID)
	}
	// The page now shows a banner and no buttons, and offers no redirect.
	page := e.do("GET", confirmPath(t, created["confirmUrl"].(string)), "", nil)
	if strings.Contains(string(page.body), "sim-approve") || !strings.Contains(string(page.body), "allerede godkjent") {
		t.Errorf("accepted page:\n%s", page.body)
	}
	// A second submit (back button) is refused without a redirect.
	if r := e.submit(standardPage, id, "approve", nil); r.status != http.StatusConflict || r.header.Get("Location") != "" {
		t.Errorf("second approve: %d %v", r.status, r.header)
	}
}

func TestConfirmRejectAndEscalate(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	rejected := e.create(tok, with(standardBody(customerOrg), "redirectUrl", returnURL+"?r=1"), http.StatusCreated)
	if r := e.submit(standardPage, rejected["id"].(string), "reject", nil); r.status != http.StatusFound || r.header.Get("Location") != returnURL+"?r=1" {
		t.Errorf("reject: %d %v", r.status, r.header)
	}
	if got := e.do("GET", reqPath+"/"+rejected["id"].(string), tok, nil).json(t); got["status"] != "Rejected" {
		t.Errorf("after reject: %v", got["status"])
	}
	page := string(e.do("GET", confirmPath(t, rejected["confirmUrl"].(string)), "", nil).body)
	if strings.Contains(page, "sim-reject") || !strings.Contains(page, "avvist") {
		t.Errorf("rejected page:\n%s", page)
	}

	escalated := e.createAgent(tok, with(agentBody(validOrg(3)), "redirectUrl", returnURL), http.StatusCreated)
	agentPage := "/accessmanagement/ui/systemuser/agentrequest"
	if r := e.submit(standardPage, escalated["id"].(string), "escalate", nil); r.status != http.StatusNotFound {
		t.Errorf("agent id on the standard page: %d", r.status)
	}
	if r := e.submit(agentPage, escalated["id"].(string), "escalate", nil); r.status != http.StatusFound || r.header.Get("Location") != returnURL {
		t.Errorf("escalate: %d %v", r.status, r.header)
	}
	got := e.do("GET", reqPath+"/agent/"+escalated["id"].(string), tok, nil).json(t)
	if got["status"] != "New" || got["escalated"] != true {
		t.Errorf("after escalate: %v", got)
	}
	// Still New: the buttons remain for an access manager.
	if page := string(e.do("GET", confirmPath(t, escalated["confirmUrl"].(string)), "", nil).body); !strings.Contains(page, "sim-approve") {
		t.Error("escalated request lost its buttons")
	}
}

func TestConfirmWithoutRedirectLogsOut(t *testing.T) {
	e := newEnv(t)
	created := e.create(e.token(), with(standardBody(customerOrg), "redirectUrl", ""), http.StatusCreated)
	if created["redirectUrl"] != "" {
		t.Errorf(`redirectUrl "" must be kept: %v`, created["redirectUrl"])
	}
	r := e.submit(standardPage, created["id"].(string), "approve", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != e.url+"/logged-out" {
		t.Fatalf("approve: %d %v", r.status, r.header)
	}
	page := e.do("GET", "/logged-out", "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), "You are logged out of Altinn") {
		t.Errorf("logged-out page: %d %s", page.status, page.body)
	}
}

func TestConfirmApproveWhenSystemUserExists(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	a := e.create(tok, with(standardBody(customerOrg), "redirectUrl", returnURL), http.StatusCreated)
	b := e.create(tok, with(standardBody(customerOrg), "externalRef", "", "redirectUrl", returnURL), http.StatusCreated)
	if err := e.sim.Approve(a["id"].(string)); err != nil {
		t.Fatal(err)
	}
	r := e.submit(standardPage, b["id"].(string), "approve", nil)
	if r.status == http.StatusFound || r.header.Get("Location") != "" {
		t.Fatalf("redirected: %d %v", r.status, r.header)
	}
	if !strings.Contains(string(r.body), "AUTH-00004") || !strings.Contains(string(r.body), "sim-approve") {
		t.Errorf("error page:\n%s", r.body)
	}
	if got := e.do("GET", reqPath+"/"+b["id"].(string), tok, nil).json(t); got["status"] != "New" {
		t.Errorf("status %v", got["status"])
	}
}

func TestConfirmFormChecks(t *testing.T) {
	e := newEnv(t)
	id := e.create(e.token(), standardBody(customerOrg), http.StatusCreated)["id"].(string)
	if r := e.submit(standardPage, id, "approve", map[string]string{"Sec-Fetch-Site": "cross-site"}); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", r.status)
	}
	if r := e.submit(standardPage, id, "approve", map[string]string{"Origin": "https://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", r.status)
	}
	if r := e.submit(standardPage, id, "delete", nil); r.status != http.StatusBadRequest {
		t.Errorf("unknown action: %d", r.status)
	}
	if r := e.submit(standardPage, newUUID(), "approve", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown id: %d", r.status)
	}
	if got := e.sim.Requests()[0].Status; got != "New" {
		t.Errorf("status %s after refused posts", got)
	}
}
