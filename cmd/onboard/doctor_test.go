package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/sim"
)

var (
	doctorKeyOnce sync.Once
	doctorKey     *rsa.PrivateKey
)

// vendorKey is one RSA key for every test here: the vendor's Maskinporten key.
func vendorKey(t *testing.T) *rsa.PrivateKey {
	doctorKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		doctorKey = k
	})
	return doctorKey
}

// simWorld is a simulator set up the way `make run` sets up its own
// (app.SimSeed and app.RegisterWithSim, with the breaks of
// ONBOARD_SIM_BREAK), served on loopback, and the settings of a
// configuration pointed at it as at any Altinn (custom mode).
type simWorld struct {
	t    *testing.T
	sim  *sim.Server
	url  string
	vars map[string]string
}

func newSimWorld(t *testing.T, settings map[string]string) *simWorld {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simURL := "http://" + ln.Addr().String()
	key := vendorKey(t)
	vars := map[string]string{
		"ONBOARD_DATA_DIR":               t.TempDir(),
		"ONBOARD_PUBLIC_URL":             "http://localhost:8080",
		"ONBOARD_ALTINN_ENV":             config.EnvCustom,
		"ONBOARD_ALTINN_BASE_URL":        simURL,
		"ONBOARD_MASKINPORTEN_ISSUER":    simURL + "/",
		"ONBOARD_ALTINN_CONFIRM_HOSTS":   strings.TrimPrefix(simURL, "http://"),
		"ONBOARD_MASKINPORTEN_CLIENT_ID": config.SimClientID,
		"ONBOARD_MASKINPORTEN_KID":       "onboard-dev-key",
		"ONBOARD_MASKINPORTEN_KEY":       string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"ONBOARD_DEV":                    "true",
		"ONBOARD_ALTINN_TIMEOUT":         "5s",
	}
	for k, v := range settings {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	seed, err := app.SimSeed(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{PublicURL: simURL, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RegisterWithSim(s, cfg, &key.PublicKey); err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &simWorld{t: t, sim: s, url: simURL, vars: vars}
}

// run runs `onboard <args>` against the world with stdin, and returns what
// it printed and its error.
func (w *simWorld) run(stdin string, args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), args, func(k string) string { return w.vars[k] }, strings.NewReader(stdin), &out, &errOut)
	if strings.Contains(out.String()+errOut.String(), "PRIVATE KEY") {
		w.t.Error("the output holds the private key")
	}
	return out.String(), errOut.String(), err
}

// system reads the products' system from the simulator as Altinn's API
// gives it.
func (w *simWorld) system(id string) *altinn.RegisteredSystem {
	w.t.Helper()
	cfg, err := config.Load(func(k string) string { return w.vars[k] })
	if err != nil {
		w.t.Fatal(err)
	}
	_, c := app.SetupFor(cfg)
	s, err := c.Altinn.GetSystem(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// lineOf is the doctor's line for the check named name.
func lineOf(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 6 && strings.HasPrefix(l[6:], name) {
			return l
		}
	}
	return ""
}

const sysID = "991825827_smartcloud"

// productScope is a service owner's scope a product's system-user token
// asks for.
const productScope = "altinn:accessmanagement/authorizedparties"

func TestDoctorPassesOnTheDefault(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, nil)
	out, _, err := w.run("", "doctor")
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "ok    ") {
			t.Errorf("not ok: %s", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "16 of 16 checks ok, 0 failed") {
		t.Errorf("summary: %q", last)
	}
	for _, name := range []string{"Maskinporten key", "token for " + altinn.ScopeRequestRead, "token for " + altinn.ScopeRequestWrite,
		"token for " + altinn.ScopeSystemRegisterWrite, "clock", "system " + sysID, "redirect URL", "client id"} {
		if lineOf(out, name) == "" {
			t.Errorf("no line for %q:\n%s", name, out)
		}
	}
}

// TestDoctorFailsEachBreak starts the simulator misconfigured in each way
// (ONBOARD_SIM_BREAK, and a standard product asking for a client-only
// package) and checks that doctor fails that check, names the thing, says
// where to fix it and exits non-zero.
func TestDoctorFailsEachBreak(t *testing.T) {
	t.Parallel()
	clientOnly := "urn:altinn:accesspackage:regnskapsforer-lonn"
	for _, tt := range []struct {
		name     string
		settings map[string]string
		check    string   // the failing line's name
		words    []string // in that line
	}{
		{"scope", map[string]string{"ONBOARD_SIM_BREAK": "scope"}, "token for " + altinn.ScopeSystemRegisterWrite,
			[]string{"FAIL", "not on the Maskinporten client onboard-dev", "Samarbeidsportalen"}},
		{"another scope", map[string]string{"ONBOARD_SIM_BREAK": "scope=" + altinn.ScopeRequestRead}, "token for " + altinn.ScopeRequestRead,
			[]string{"FAIL", altinn.ScopeRequestRead, "Samarbeidsportalen"}},
		{"product scope", map[string]string{"ONBOARD_SIM_BREAK": "scope=" + productScope, "ONBOARD_SYSTEM_USER_SCOPES": productScope},
			"token for " + productScope + " (product standard, agent)",
			[]string{"FAIL", "MP-200", "not on the Maskinporten client onboard-dev", "Samarbeidsportalen"}},
		{"system", map[string]string{"ONBOARD_SIM_BREAK": "system"}, "system " + sysID,
			[]string{"FAIL", "not in Altinn's system register", "onboard system apply"}},
		{"right", map[string]string{"ONBOARD_SIM_BREAK": "right"}, "rights and packages of product standard",
			[]string{"FAIL", "ske-krav-og-betalinger", "onboard system apply"}},
		{"redirect", map[string]string{"ONBOARD_SIM_BREAK": "redirect"}, "redirect URL",
			[]string{"FAIL", "http://localhost:8080/return", "ONBOARD_PUBLIC_URL"}},
		{"clientid", map[string]string{"ONBOARD_SIM_BREAK": "clientid"}, "client id",
			[]string{"FAIL", config.SimClientID, "MP-303"}},
		{"clock", map[string]string{"ONBOARD_SIM_BREAK": "clock"}, "clock",
			[]string{"FAIL", "30 s", "NTP"}},
		{"client-only package on a standard product", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"payroll","kind":"standard",
			"systemId":"` + sysID + `","accessPackages":["` + clientOnly + `"]}]`}, "package kinds of product payroll",
			[]string{"FAIL", clientOnly, "agent", "ONBOARD_PRODUCTS"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newSimWorld(t, tt.settings)
			out, _, err := w.run("", "doctor")
			if err == nil {
				t.Fatalf("doctor passed:\n%s", out)
			}
			if !strings.Contains(err.Error(), tt.check) {
				t.Errorf("the error does not name the check %q: %v", tt.check, err)
			}
			line := lineOf(out, tt.check)
			for _, word := range tt.words {
				if !strings.Contains(line, word) {
					t.Errorf("line lacks %q: %q\n%s", word, line, out)
				}
			}
			if tt.name == "clock" {
				// A skewed clock makes every grant fail: the clock is blamed,
				// not the scopes.
				for _, l := range strings.Split(out, "\n") {
					if strings.Contains(l, "token for") && strings.Contains(l, "not on the Maskinporten client") {
						t.Errorf("a scope is blamed for the clock: %s", l)
					}
				}
			}
		})
	}
}

// TestSystemDiffAndApply: with the return URL not registered and a new
// right in the configuration, the diff lists exactly those changes; apply
// without confirmation changes nothing; with it, a request with the
// redirect URL and the new right succeeds at the simulator, and what the
// configuration does not own survives.
func TestSystemDiffAndApply(t *testing.T) {
	t.Parallel()
	products := `[{"id":"standard","kind":"standard","systemId":"` + sysID + `","rights":["ske-krav-og-betalinger","ske-mva"],
	 "accessPackages":["urn:altinn:accesspackage:skattegrunnlag"]},
	 {"id":"agent","kind":"agent","systemId":"` + sysID + `","externalRef":"agent","accessPackages":["urn:altinn:accesspackage:regnskapsforer-lonn"]}]`
	w := newSimWorld(t, map[string]string{"ONBOARD_SIM_BREAK": "redirect", "ONBOARD_PRODUCTS": products})
	// Something the configuration does not own: another redirect URL.
	if err := w.sim.AddRedirectURL(sysID, "https://other.example/back"); err != nil {
		t.Fatal(err)
	}
	before := w.system(sysID)

	create := func() error {
		cfg, err := config.Load(func(k string) string { return w.vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		_, c := app.SetupFor(cfg)
		_, _, err = c.Altinn.CreateRequest(context.Background(), altinn.CreateRequest{
			SystemID: sysID, PartyOrgNo: "310000027",
			Rights:      []altinn.Right{{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: "ske-mva"}}}},
			RedirectURL: cfg.ReturnURL() + "?ref=abc",
		})
		return err
	}
	if err := create(); err == nil {
		t.Fatal("a request with the unregistered return URL and a right not on the system was accepted")
	}

	out, _, err := w.run("", "system", "diff")
	if err != nil {
		t.Fatalf("diff: %v\n%s", err, out)
	}
	changes := changeLines(out)
	want := []string{"+ rights: ske-mva", "+ allowedRedirectUrls: http://localhost:8080/return"}
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff changes %q, want exactly %q:\n%s", changes, want, out)
	}
	if !strings.Contains(out, "https://other.example/back") || !strings.Contains(out, "kept") {
		t.Errorf("the diff does not say the other redirect URL is kept:\n%s", out)
	}

	// Without confirmation nothing changes, and it says so.
	for _, stdin := range []string{"", "no\n", "y\n"} {
		out, _, err = w.run(stdin, "system", "apply")
		if err == nil || !strings.Contains(err.Error(), "nothing was sent") {
			t.Fatalf("apply answered %q: err = %v\n%s", stdin, err, out)
		}
	}
	if after := w.system(sysID); !jsonEqual(t, before, after) {
		t.Fatalf("an unconfirmed apply changed the system:\nbefore %s\nafter %s", before.Raw, after.Raw)
	}

	out, _, err = w.run("yes\n", "system", "apply")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Updated system "+sysID) {
		t.Errorf("apply output:\n%s", out)
	}
	if err := create(); err != nil {
		t.Fatalf("after apply, the request still fails: %v", err)
	}
	after := w.system(sysID)
	if !containsString(after.AllowedRedirectURLs, "https://other.example/back") {
		t.Errorf("the other redirect URL did not survive: %v", after.AllowedRedirectURLs)
	}
	if !containsString(after.ClientIDs, config.SimClientID) || after.IsVisible {
		t.Errorf("after apply: client ids %v, isVisible %v", after.ClientIDs, after.IsVisible)
	}
	// A second apply has nothing to send, and the doctor is happy.
	out, _, err = w.run("", "system", "apply")
	if err != nil || !strings.Contains(out, "Nothing to send") {
		t.Errorf("second apply: %v\n%s", err, out)
	}
	if out, _, err := w.run("", "doctor"); err != nil {
		t.Errorf("doctor after apply: %v\n%s", err, out)
	}
	// --prune drops the other redirect URL.
	out, _, err = w.run("", "system", "apply", "--prune", "--yes")
	if err != nil || !strings.Contains(out, "- allowedRedirectUrls: https://other.example/back") {
		t.Fatalf("apply --prune: %v\n%s", err, out)
	}
	if after := w.system(sysID); containsString(after.AllowedRedirectURLs, "https://other.example/back") {
		t.Errorf("--prune kept %v", after.AllowedRedirectURLs)
	}
	out, _, err = w.run("", "system", "changelog")
	if err != nil || !strings.Contains(out, "update") {
		t.Errorf("changelog: %v\n%s", err, out)
	}
}

// TestSystemApplyRegistersAMissingSystem: with the system missing, apply
// registers it (POST) and the doctor passes afterwards.
func TestSystemApplyRegistersAMissingSystem(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, map[string]string{"ONBOARD_SIM_BREAK": "system"})
	out, _, err := w.run("", "system", "diff")
	if err != nil || !strings.Contains(out, "not in the system register") {
		t.Fatalf("diff: %v\n%s", err, out)
	}
	out, _, err = w.run("", "system", "apply", "--yes")
	if err != nil || !strings.Contains(out, "Registered system "+sysID) {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	got := w.system(sysID)
	if got.IsVisible || !containsString(got.ClientIDs, config.SimClientID) || len(got.Rights) != 1 || len(got.AccessPackages) != 2 {
		t.Errorf("registered: %s", got.Raw)
	}
	if out, _, err := w.run("", "doctor"); err != nil {
		t.Errorf("doctor after apply: %v\n%s", err, out)
	}
}

// TestSystemApplyRefused: a PUT Altinn refuses prints Altinn's codes in words
// and exits non-zero.
func TestSystemApplyRefused(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, map[string]string{"ONBOARD_SIM_BREAK": "redirect"})
	// Put the service's client id on another system: Altinn refuses a
	// client id that another system has (AUTH.VLD-00004).
	if err := w.sim.RemoveClientID(sysID, config.SimClientID); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) string { return w.vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, c := app.SetupFor(cfg)
	if _, err := c.Altinn.CreateSystem(context.Background(), altinn.RegisteredSystem{ID: "991825827_other",
		Vendor: altinn.Vendor{ID: "0192:991825827"}, Name: map[string]string{"nb": "Other", "nn": "Other", "en": "Other"},
		Description: map[string]string{"nb": "x", "nn": "x", "en": "x"}, ClientIDs: []string{config.SimClientID},
		AllowedRedirectURLs: []string{"https://other.example/back"}, IsVisible: true}); err != nil {
		t.Fatal(err)
	}
	out, _, err := w.run("", "system", "apply", "--yes")
	if err == nil {
		t.Fatalf("apply passed:\n%s", out)
	}
	if !strings.Contains(out, "Altinn refused") || !strings.Contains(out, "AUTH.VLD-00004") || !strings.Contains(out, "client onboard-dev is already on system 991825827_other") {
		t.Errorf("the refusal is not in words:\n%s", out)
	}
	if strings.Contains(out, "goroutine") || strings.Contains(err.Error(), "goroutine") {
		t.Errorf("a stack trace:\n%s", out)
	}
}

// TestBadInput: a malformed scope list, a system id that is not
// <orgno>_<name>, an unknown flag, and a missing simulator each give a
// clear message and a non-zero exit.
func TestDoctorAndSystemBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"malformed scopes", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":"x y"}]`},
			[]string{"doctor"}, "scopes must be a list of strings"},
		{"a scope with a space", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":["x y"]}]`},
			[]string{"doctor"}, "is not a scope"},
		{"bad system id", map[string]string{"ONBOARD_SYSTEM_ID": "smartcloud"}, []string{"system", "diff"}, "<vendor orgno>_<name>"},
		{"bad changelog id", nil, []string{"system", "changelog", "12345_x"}, "<vendor orgno>_<name>"},
		{"unknown flag", nil, []string{"system", "apply", "--force"}, "unknown flag --force"},
		{"prune on show", nil, []string{"system", "show", "--prune"}, "takes no --prune"},
		{"unknown subcommand", nil, []string{"system", "destroy"}, "unknown system command"},
		{"doctor arguments", nil, []string{"doctor", "now"}, "takes no arguments"},
		{"no simulator running", map[string]string{"ONBOARD_SIM_PUBLIC_URL": "http://127.0.0.1:1"}, []string{"doctor"}, "start `make run`"},
		{"no simulator for apply", map[string]string{"ONBOARD_SIM_PUBLIC_URL": "http://127.0.0.1:1"}, []string{"system", "apply"}, "start `make run`"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ONBOARD_DATA_DIR": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			var out strings.Builder
			err := run(context.Background(), tt.args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q\n%s", err, tt.want, out.String())
			}
		})
	}
}

// TestDoctorWithoutADevKey: in sim mode with the simulator running but no
// dev key in the data folder, the key check says to start make run first.
func TestDoctorWithoutADevKey(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, nil)
	u, _ := url.Parse(w.url)
	env := map[string]string{"ONBOARD_DATA_DIR": t.TempDir(), "ONBOARD_SIM_PUBLIC_URL": w.url, "ONBOARD_SIM_ADDR": u.Host}
	var out strings.Builder
	err := run(context.Background(), []string{"doctor"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
	line := lineOf(out.String(), "Maskinporten key")
	if err == nil || !strings.Contains(line, "make run") || !strings.Contains(line, "maskinporten-dev.pem") {
		t.Fatalf("err = %v, key line %q\n%s", err, line, out.String())
	}
}

func TestSystemShow(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, nil)
	out, _, err := w.run("", "system", "show")
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("show is not a list of one system: %v\n%s", err, out)
	}
	s := got[0]
	if s["id"] != sysID || s["isVisible"] != false || !strings.Contains(out, `"http://localhost:8080/return"`) ||
		!strings.Contains(out, `"`+config.SimClientID+`"`) || !strings.Contains(out, `"nn"`) {
		t.Errorf("show:\n%s", out)
	}
}

// changeLines are the diff's change lines ("+ …", "- …", "~ …").
func changeLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "+ ") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "~ ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func jsonEqual(t *testing.T, a, b *altinn.RegisteredSystem) bool {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestSystemIDOfAnotherOrg: a system id whose orgno is not the client's
// organisation (a typo in the prefix) is named as such by doctor, before
// it would say "not registered", and apply's 403 says the same.
func TestSystemIDOfAnotherOrg(t *testing.T) {
	t.Parallel()
	w := newSimWorld(t, nil) // the client belongs to 991825827
	w.vars["ONBOARD_PRODUCTS"] = `[{"id":"a","kind":"standard","systemId":"123456789_other","rights":["ske-krav-og-betalinger"]}]`
	want := "starts with 123456789, but your Maskinporten client belongs to 991825827"
	out, _, err := w.run("", "doctor")
	if err == nil {
		t.Fatalf("doctor passed:\n%s", out)
	}
	if l := lineOf(out, "system 123456789_other"); !strings.Contains(l, want) || !strings.Contains(l, "use one that starts with 991825827") {
		t.Errorf("system line: %q\n%s", l, out)
	}
	out, _, err = w.run("", "system", "apply", "--yes")
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("apply: %v\n%s", err, out)
	}
}
