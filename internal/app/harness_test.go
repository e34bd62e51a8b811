package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// env is the whole service on a real Postgres database, against the built-in
// simulator, both on loopback listeners.
type env struct {
	t   *testing.T
	app *app.App
	web *httptest.Server
	sim *httptest.Server
	db  *db.DB

	jobsOnce sync.Once // the River client started (reconcile_test.go)
}

var (
	keyOnce sync.Once
	keyPEM  string
)

// testKeyPEM is one RSA key shared by every test, so no test pays for
// generating its own.
func testKeyPEM(t *testing.T) string {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return keyPEM
}

func newEnv(t *testing.T, settings map[string]string) *env {
	t.Helper()
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := testVars(t, dbtest.NewURL(t), webLn.Addr().String(), "http://"+webLn.Addr().String())
	vars["ONBOARD_SIM_ADDR"] = simLn.Addr().String()
	vars["ONBOARD_SIM_PUBLIC_URL"] = "http://" + simLn.Addr().String()
	a, store := buildApp(t, vars, settings, "")
	e := &env{t: t, app: a, db: store}
	e.web = &httptest.Server{Listener: webLn, Config: &http.Server{Handler: a.Web}}
	e.web.Start()
	t.Cleanup(e.web.Close)
	e.sim = &httptest.Server{Listener: simLn, Config: &http.Server{Handler: a.Sim.Handler()}}
	e.sim.Start()
	t.Cleanup(e.sim.Close)
	return e
}

// testVars are the settings every test instance shares: its database, its
// address and public URL, the test key, short timeouts and no throttling.
func testVars(t *testing.T, dbURL, addr, publicURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":                    dbURL,
		"ONBOARD_DATA_DIR":                t.TempDir(),
		"ONBOARD_ADDR":                    addr,
		"ONBOARD_PUBLIC_URL":              publicURL,
		"ONBOARD_MASKINPORTEN_KEY":        testKeyPEM(t),
		"ONBOARD_ALTINN_TIMEOUT":          "2s",
		"ONBOARD_SESSION_KEY":             "0123456789abcdef0123456789abcdef-test",
		"ONBOARD_SUBMIT_RATE_PER_MINUTE":  "600",
		"ONBOARD_STATUS_REFRESH_INTERVAL": "0s",
		// The simulator in memory: tests start from a fresh one each time.
		"ONBOARD_SIM_STATE": "off",
	}
}

// againstSim points vars at a simulator another instance serves on simURL,
// as at any Altinn (custom mode), with the dev Maskinporten client.
func againstSim(vars map[string]string, simURL string) {
	vars["ONBOARD_ALTINN_ENV"] = config.EnvCustom
	vars["ONBOARD_ALTINN_BASE_URL"] = simURL
	vars["ONBOARD_MASKINPORTEN_ISSUER"] = simURL + "/"
	vars["ONBOARD_ALTINN_CONFIRM_HOSTS"] = strings.TrimPrefix(simURL, "http://")
	vars["ONBOARD_MASKINPORTEN_CLIENT_ID"] = config.SimClientID
	vars["ONBOARD_MASKINPORTEN_KID"] = "onboard-dev-key"
	vars["ONBOARD_DEV"] = "true"
}

// buildApp loads vars with settings on top and builds the app on its own
// database pool, as a separate process would; instance names it in the
// verbose log.
func buildApp(t *testing.T, vars, settings map[string]string, instance string) (*app.App, *db.DB) {
	t.Helper()
	for k, v := range settings {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
		if instance != "" {
			log = log.With("instance", instance)
		}
	}
	a, err := app.Build(cfg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	return a, store
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// browser is one person's browser: its own cookies, and redirects are not
// followed, so each step's status and Location can be checked.
type browser struct {
	t *testing.T
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body), header: res.Header}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", p.body)
	}
	return m[1]
}

// submitOrg opens the org-number step of product and submits orgNo; the
// answer is a 303: to the form with the error, or to the confirm page.
func (e *env) submitOrg(b *browser, product, orgNo string) page {
	e.t.Helper()
	form := b.get(e.web.URL + "/onboard/" + product + "/org")
	if form.status != http.StatusOK {
		e.t.Fatalf("org step: %d", form.status)
	}
	return b.post(e.web.URL+"/onboard/"+product+"/org", url.Values{"orgno": {orgNo}, "_csrf": {csrfOf(e.t, form)}})
}

// submitAndConfirm submits orgNo for product, says yes on the "is this the
// right company?" page and returns the answer to that (a 303 to Altinn,
// the status page or the known page).
func (e *env) submitAndConfirm(b *browser, product, orgNo string) page {
	e.t.Helper()
	return e.confirmOrg(b, product, e.companyPage(b, product, orgNo))
}

// companyPage submits orgNo for product, which must be a 303 to the
// confirm page, and opens that.
func (e *env) companyPage(b *browser, product, orgNo string) page {
	e.t.Helper()
	res := e.submitOrg(b, product, orgNo)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/onboard/"+product+"/confirm?") {
		e.t.Fatalf("org step: %d Location %q, want 303 to the confirm page\n%s", res.status, res.location, res.body)
	}
	cp := b.get(e.web.URL + res.location)
	if cp.status != http.StatusOK || !strings.Contains(cp.body, `data-testid="org-confirm"`) {
		e.t.Fatalf("confirm page: %d\n%s", cp.status, cp.body)
	}
	return cp
}

var (
	hiddenOrgRE     = regexp.MustCompile(`name="orgno" value="([0-9]{9})"`)
	hiddenCheckedRE = regexp.MustCompile(`name="checked" value="(true|false)"`)
	reservationRE   = regexp.MustCompile(`name="reservation" value="([^"]+)"`)
)

// confirmOrg says "yes, continue to Altinn" on a confirm page of product.
func (e *env) confirmOrg(b *browser, product string, cp page) page {
	e.t.Helper()
	return b.post(e.web.URL+"/onboard/"+product+"/confirm", confirmForm(e.t, cp))
}

// confirmForm is the form a confirm page's "yes" posts: every hidden field.
func confirmForm(t *testing.T, cp page) url.Values {
	t.Helper()
	n, ch := hiddenOrgRE.FindStringSubmatch(cp.body), hiddenCheckedRE.FindStringSubmatch(cp.body)
	if n == nil || ch == nil {
		t.Fatalf("no confirm form on the page:\n%s", cp.body)
	}
	form := url.Values{"orgno": {n[1]}, "checked": {ch[1]}, "_csrf": {csrfOf(t, cp)}}
	if r := reservationRE.FindStringSubmatch(cp.body); r != nil {
		form.Set("reservation", r[1])
	}
	return form
}

// decide clicks a button on the simulator's confirm page and returns the
// simulator's answer (a 302 to the stored redirectUrl).
func (e *env) decide(b *browser, confirmURL, action string) page {
	e.t.Helper()
	cp := b.get(confirmURL)
	if cp.status != http.StatusOK {
		e.t.Fatalf("confirm page %s: %d\n%s", confirmURL, cp.status, cp.body)
	}
	u, _ := url.Parse(confirmURL)
	return b.post(e.sim.URL+u.Path, url.Values{"id": {u.Query().Get("id")}, "action": {action}})
}

// follow GETs a redirect target and the status page it leads to.
func (e *env) returnTo(b *browser, location string) page {
	e.t.Helper()
	ret := b.get(location)
	if ret.status != http.StatusSeeOther || !strings.HasPrefix(ret.location, "/status/") {
		e.t.Fatalf("return: %d Location %q\n%s", ret.status, ret.location, ret.body)
	}
	return b.get(e.web.URL + ret.location)
}

var outcomeRE = regexp.MustCompile(`data-testid="outcome" data-status="([a-z]+)" data-escalated="(true|false)"`)

func outcomeOf(t *testing.T, p page) (status string, escalated bool) {
	t.Helper()
	m := outcomeRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("not an outcome page (%d):\n%s", p.status, p.body)
	}
	return m[1], m[2] == "true"
}

func (e *env) onboardingForOrg(orgNo string) *domain.Onboarding {
	e.t.Helper()
	var id string
	err := e.db.Pool.QueryRow(context.Background(),
		`SELECT id FROM onboardings WHERE org_no = $1 ORDER BY created_at DESC LIMIT 1`, orgNo).Scan(&id)
	if err != nil {
		e.t.Fatalf("onboarding for %s: %v", orgNo, err)
	}
	o, err := e.db.OnboardingByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) events(o *domain.Onboarding) []domain.Event {
	e.t.Helper()
	evs, err := e.db.Events(context.Background(), o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// simRequestsFor counts the simulator's live (not deleted) requests for an org.
func (e *env) simRequestsFor(orgNo string) int {
	n := 0
	for _, r := range e.app.Sim.Requests() {
		if r.PartyOrgNo == orgNo && !r.Deleted {
			n++
		}
	}
	return n
}
