package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// simOnlyApp builds the app without a database against its own simulator,
// served on a loopback listener, with settings on top of a minimal sim-mode
// configuration. dataDir holds the dev key and, unless settings turn it off,
// the simulator's state file.
func simOnlyApp(t *testing.T, dataDir string, settings map[string]string) (*app.App, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"ONBOARD_DATA_DIR":         dataDir,
		"ONBOARD_PUBLIC_URL":       "http://127.0.0.1:9",
		"ONBOARD_MASKINPORTEN_KEY": testKeyPEM(t),
		"ONBOARD_SESSION_KEY":      "0123456789abcdef0123456789abcdef-test",
		"ONBOARD_SIM_ADDR":         ln.Addr().String(),
		"ONBOARD_SIM_PUBLIC_URL":   "http://" + ln.Addr().String(),
	}
	for k, v := range settings {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Sim.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return a, nil
}

// probe fetches a token for one scope from the app's Maskinporten client and
// returns the Maskinporten code of a refusal ("" when a token came) and the
// answer's Date header.
func probe(t *testing.T, a *app.App, scope string) (code string, date time.Time) {
	t.Helper()
	res, err := a.Maskinporten.Probe(context.Background(), scope)
	if err == nil {
		return "", res.ServerDate
	}
	var me *maskinporten.Error
	if !errors.As(err, &me) {
		t.Fatalf("probe %s: %v", scope, err)
	}
	if me.MPCode() == "" {
		return me.Description, me.ServerDate
	}
	return me.MPCode(), me.ServerDate
}

func TestSimBreaks(t *testing.T) {
	const (
		system       = "991825827_smartcloud"
		right        = "ske-krav-og-betalinger"
		productScope = "altinn:accessmanagement/authorizedparties"
	)
	type check struct {
		missingScope string // the scope a token cannot be had for
		noSystem     bool
		noRight      bool
		noRedirect   bool
		noClientID   bool
		clockSkew    time.Duration
	}
	tests := []struct {
		name string
		brk  string
		want check
	}{
		{name: "none"},
		{name: "scope, default", brk: "scope", want: check{missingScope: altinn.ScopeSystemRegisterWrite}},
		{name: "scope named", brk: "scope=" + productScope, want: check{missingScope: productScope}},
		{name: "system", brk: "system", want: check{noSystem: true}},
		{name: "right", brk: "right", want: check{noRight: true}},
		{name: "redirect", brk: "redirect", want: check{noRedirect: true}},
		{name: "clientid", brk: "clientid", want: check{noClientID: true}},
		{name: "clock, default", brk: "clock", want: check{clockSkew: 30 * time.Second}},
		{name: "clock offset", brk: "clock=-2m", want: check{clockSkew: -2 * time.Minute}},
		{name: "two at once", brk: "clientid, redirect", want: check{noClientID: true, noRedirect: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := simOnlyApp(t, t.TempDir(), map[string]string{"ONBOARD_SIM_BREAK": tt.brk})
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			for _, scope := range []string{altinn.ScopeSystemRegisterWrite, altinn.ScopeRequestWrite, productScope} {
				code, date := probe(t, a, scope)
				switch {
				case w.clockSkew != 0:
					if code == "" || !strings.Contains(code, "Issue time") {
						t.Errorf("%s on a skewed clock: %q, want the grant refused for its iat", scope, code)
					}
					if skew := time.Until(date); skew < w.clockSkew-3*time.Second || skew > w.clockSkew+3*time.Second {
						t.Errorf("Date header %v is %v off, want about %v", date, skew, w.clockSkew)
					}
				case scope == w.missingScope:
					if code != "MP-200" {
						t.Errorf("%s: %q, want MP-200", scope, code)
					}
				default:
					if code != "" {
						t.Errorf("%s: %q, want a token", scope, code)
					}
					if skew := time.Until(date); skew < -3*time.Second || skew > 3*time.Second {
						t.Errorf("Date header %v is %v off", date, skew)
					}
				}
			}
			sys, ok := a.Sim.System(system)
			if ok == w.noSystem {
				t.Fatalf("system present %v, want %v", ok, !w.noSystem)
			}
			if w.noSystem {
				return
			}
			hasRight := slices.ContainsFunc(sys.Rights, func(r sim.Right) bool {
				return slices.ContainsFunc(r.Resource, func(p sim.AttributePair) bool { return p.Value == right })
			})
			if hasRight == w.noRight {
				t.Errorf("right on the system %v, want %v: %v", hasRight, !w.noRight, sys.Rights)
			}
			if has := slices.Contains(sys.AllowedRedirectURLs, a.Config.ReturnURL()); has == w.noRedirect {
				t.Errorf("return URL registered %v, want %v: %v", has, !w.noRedirect, sys.AllowedRedirectURLs)
			}
			if has := slices.Contains(sys.ClientIDs, config.SimClientID); has == w.noClientID {
				t.Errorf("client id on the system %v, want %v: %v", has, !w.noClientID, sys.ClientIDs)
			}
		})
	}

	for _, tt := range []struct {
		name     string
		settings map[string]string
		want     string
	}{
		{name: "bad clock offset", settings: map[string]string{"ONBOARD_SIM_BREAK": "clock=soon"}, want: "ONBOARD_SIM_BREAK=clock=soon"},
		{name: "right without a product right", settings: map[string]string{"ONBOARD_SIM_BREAK": "right",
			"ONBOARD_PRODUCTS": `[{"id":"a","kind":"agent","systemId":"991825827_smartcloud","accessPackages":["urn:altinn:accesspackage:regnskapsforer-lonn"]}]`},
			want: "no product asks for a right"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := simOnlyApp(t, t.TempDir(), tt.settings)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestSimBreaksLifted starts the service on one state file with breaks, then
// without: the saved state does not keep a lifted break, and the registration
// steps, run at every start, change nothing the second time.
func TestSimBreaksLifted(t *testing.T) {
	const system = "991825827_smartcloud"
	dir := t.TempDir()
	state := map[string]string{"ONBOARD_SIM_STATE": filepath.Join(dir, "sim-state.json")}
	with := func(breaks string) map[string]string {
		m := map[string]string{"ONBOARD_SIM_BREAK": breaks}
		for k, v := range state {
			m[k] = v
		}
		return m
	}
	a, err := simOnlyApp(t, dir, with("system"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Sim.System(system); ok {
		t.Fatal("system break: the system is registered")
	}
	a, err = simOnlyApp(t, dir, with("clientid,redirect,right"))
	if err != nil {
		t.Fatal(err)
	}
	sys, ok := a.Sim.System(system)
	if !ok || slices.Contains(sys.ClientIDs, config.SimClientID) || len(sys.AllowedRedirectURLs) != 0 || len(sys.Rights) != 0 {
		t.Fatalf("second start with breaks: %v %+v", ok, sys)
	}
	for range 2 {
		a, err = simOnlyApp(t, dir, with(""))
		if err != nil {
			t.Fatal(err)
		}
		sys, ok = a.Sim.System(system)
		if !ok || !slices.Equal(sys.ClientIDs, []string{config.SimClientID}) ||
			!slices.Equal(sys.AllowedRedirectURLs, []string{a.Config.ReturnURL()}) || len(sys.Rights) != 1 {
			t.Errorf("start without breaks: %v %+v", ok, sys)
		}
	}
	if info := a.Sim.StateInfo(); !info.Restored {
		t.Errorf("state not restored: %+v", info)
	}
}
