package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(func(k string) string { return env[k] })
}

func TestSimDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"env":            {c.AltinnEnv, "sim"},
		"addr":           {c.Addr, "127.0.0.1:8080"},
		"sim addr":       {c.SimAddr, "127.0.0.1:8081"},
		"public url":     {c.PublicURL, "http://localhost:8080"},
		"return url":     {c.ReturnURL(), "http://localhost:8080/return"},
		"altinn":         {c.AltinnBaseURL, "http://localhost:8081"},
		"issuer":         {c.MaskinportenIssuer, "http://localhost:8081/"},
		"confirm host":   {strings.Join(c.ConfirmHosts, ","), "localhost:8081"},
		"system":         {c.Products[0].SystemID, "991825827_smartcloud"},
		"right":          {strings.Join(c.Products[0].Rights, ","), "ske-krav-og-betalinger"},
		"package":        {strings.Join(c.Products[0].AccessPackages, ","), "urn:altinn:accesspackage:skattegrunnlag"},
		"agent product":  {string(c.Products[1].Kind), "agent"},
		"dev by default": {fmt.Sprint(c.Dev), "true"},
		"schedule":       {fmt.Sprint(c.ReconcileSchedule), "[1m0s 5m0s 15m0s 1h0m0s 6h0m0s 24h0m0s]"},
		"revoke sweep":   {c.RevokeSweepInterval.String(), "24h0m0s"},
		"sweep":          {c.SweepInterval.String(), "30s"},
		"job workers":    {fmt.Sprint(c.JobWorkers), "10"},
		"metrics token":  {string(c.MetricsToken), ""},
	}
	for name, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", name, v[0], v[1])
		}
	}
}

func TestRealEnvironmentsFillInURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	session := filepath.Join(dir, "session")
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(session, []byte(strings.Repeat("s", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ env, altinn, issuer, confirm string }{
		{"tt02", "https://platform.tt02.altinn.no", "https://test.maskinporten.no/", "am.ui.tt02.altinn.no"},
		{"prod", "https://platform.altinn.no", "https://maskinporten.no/", "am.ui.altinn.no"},
	}
	for _, tt := range tests {
		c, err := load(t, map[string]string{
			"ONBOARD_ALTINN_ENV": tt.env, "ONBOARD_PUBLIC_URL": "https://onboard.example.com/",
			"ONBOARD_MASKINPORTEN_CLIENT_ID": "client", "ONBOARD_MASKINPORTEN_KID": "kid",
			"ONBOARD_MASKINPORTEN_KEY_FILE": key, "ONBOARD_SESSION_KEY_FILE": session,
			"ONBOARD_METRICS_TOKEN": "secret-scrape-token", "ONBOARD_SUPPORT_URL": "https://help.example.com/",
		})
		if err != nil {
			t.Fatalf("%s: %v", tt.env, err)
		}
		if c.AltinnBaseURL != tt.altinn || c.MaskinportenIssuer != tt.issuer || c.ConfirmHosts[0] != tt.confirm || c.Dev {
			t.Errorf("%s: got %s %s %v dev=%v", tt.env, c.AltinnBaseURL, c.MaskinportenIssuer, c.ConfirmHosts, c.Dev)
		}
		if c.ReturnURL() != "https://onboard.example.com/return" {
			t.Errorf("%s: return URL %q", tt.env, c.ReturnURL())
		}
		if string(c.MetricsToken) != "secret-scrape-token" {
			t.Errorf("%s: metrics token %q", tt.env, c.MetricsToken)
		}
		if len(c.SessionKey) != 40 {
			t.Errorf("%s: session key from file should be trimmed, got %d bytes", tt.env, len(c.SessionKey))
		}
		red := fmt.Sprint(c.Redacted())
		if strings.Contains(red, "secret") || strings.Contains(red, "PRIVATE") || strings.Contains(red, strings.Repeat("s", 40)) {
			t.Errorf("%s: Redacted leaks a secret: %s", tt.env, red)
		}
	}
}

func TestRedactedHidesDatabasePassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"postgres://app:hunter2@db.example:5432/onboard",
		"postgres://app@db.example/onboard?password=hunter2",
		"host=db.example user=app password=hunter2 dbname=onboard",
	} {
		c, err := load(t, map[string]string{"DATABASE_URL": u})
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(c.Redacted()); strings.Contains(s, "hunter2") || !strings.Contains(s, "db.example") {
			t.Errorf("Redacted(%q) = %s", u, s)
		}
	}
}

func TestInvalidSettingsAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown env", map[string]string{"ONBOARD_ALTINN_ENV": "at22"}, "ONBOARD_ALTINN_ENV"},
		{"custom without URLs", map[string]string{"ONBOARD_ALTINN_ENV": "custom"}, "ONBOARD_ALTINN_BASE_URL"},
		{"public URL with query", map[string]string{"ONBOARD_PUBLIC_URL": "http://x.example/?a=b"}, "ONBOARD_PUBLIC_URL"},
		{"short session key", map[string]string{"ONBOARD_SESSION_KEY": "short"}, "32 bytes"},
		{"session key outside dev", map[string]string{"ONBOARD_DEV": "false", "ONBOARD_PUBLIC_URL": "https://x.example"}, "ONBOARD_SESSION_KEY"},
		{"bad rate", map[string]string{"ONBOARD_SUBMIT_RATE_PER_MINUTE": "-1"}, "RATE"},
		{"bad products json", map[string]string{"ONBOARD_PRODUCTS": "[{"}, "ONBOARD_PRODUCTS"},
		{"unknown product field", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"colour":"red"}]`}, "colour"},
		{"agent with rights", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"agent","systemId":"991825827_a","rights":["r"],"accessPackages":["p"]}]`}, "access packages only"},
		{"agent without packages", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"agent","systemId":"991825827_a"}]`}, "at least one access package"},
		{"nothing asked", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a"}]`}, "no rights"},
		{"duplicate ids", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"]},{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"]}]`}, "duplicate"},
		{"id with slash", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a/b","kind":"standard","systemId":"991825827_a","rights":["r"]}]`}, "path segment"},
		{"system id without org", map[string]string{"ONBOARD_SYSTEM_ID": "smartcloud"}, "<vendor orgno>_<name>"},
		{"system id short org", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"1_a","rights":["r"]}]`}, "nine-digit organisation number"},
		{"system id with space", map[string]string{"ONBOARD_SYSTEM_ID": "991825827_smart cloud"}, "<vendor orgno>_<name>"},
		{"scopes not a list", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":"a:b"}]`}, "scopes must be a list of strings"},
		{"scope with space", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":["a:b c:d"]}]`}, "no spaces"},
		{"scope twice", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":["a:b","a:b"]}]`}, "twice"},
		{"scope empty", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"scopes":[""]}]`}, "not a scope"},
		{"system names differ", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"],"systemName":{"nb":"A"}},{"id":"b","kind":"standard","systemId":"991825827_a","rights":["r"],"systemName":{"nb":"B"}}]`}, "systemName differs"},
		{"package urn too short", map[string]string{"ONBOARD_ACCESS_PACKAGES": "urn:altinn:skattegrunnlag"}, "not an access package URN"},
		{"package code with space", map[string]string{"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_a","accessPackages":["skatt grunnlag"]}]`}, "not an access package"},
		{"unknown sim break", map[string]string{"ONBOARD_SIM_BREAK": "everything"}, "ONBOARD_SIM_BREAK"},
		{"missing key file", map[string]string{"ONBOARD_MASKINPORTEN_KEY_FILE": "/nonexistent/key.pem"}, "KEY_FILE"},
		{"schedule not a duration", map[string]string{"ONBOARD_RECONCILE_SCHEDULE": "1m,soon"}, "ONBOARD_RECONCILE_SCHEDULE"},
		{"schedule not ascending", map[string]string{"ONBOARD_RECONCILE_SCHEDULE": "5m,1m"}, "ascend"},
		{"schedule empty", map[string]string{"ONBOARD_RECONCILE_SCHEDULE": " , "}, "ONBOARD_RECONCILE_SCHEDULE"},
		{"schedule negative", map[string]string{"ONBOARD_RECONCILE_SCHEDULE": "-1m"}, "positive"},
		{"revoke sweep zero", map[string]string{"ONBOARD_REVOKE_SWEEP_INTERVAL": "0s"}, "ONBOARD_REVOKE_SWEEP_INTERVAL"},
		{"sweep under a second", map[string]string{"ONBOARD_SWEEP_INTERVAL": "500ms"}, "ONBOARD_SWEEP_INTERVAL"},
		{"no job workers", map[string]string{"ONBOARD_JOB_WORKERS": "0"}, "ONBOARD_JOB_WORKERS"},
		// Named as set, not through what is made of them (the fuzzer found
		// these refused as ONBOARD_PUBLIC_URL or CONFIRM_HOSTS).
		{"addr without port", map[string]string{"ONBOARD_ADDR": "localhost"}, "ONBOARD_ADDR"},
		{"addr with a bad port", map[string]string{"ONBOARD_ADDR": ":99999"}, "ONBOARD_ADDR"},
		{"sim addr with a path", map[string]string{"ONBOARD_SIM_ADDR": "127.0.0.1:8081/x"}, "ONBOARD_SIM_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := load(t, tt.env); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestBindFillsInPortZero(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"ONBOARD_ADDR": "127.0.0.1:0", "ONBOARD_SIM_ADDR": "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c.Bind("127.0.0.1:4321", "127.0.0.1:4322")
	if c.PublicURL != "http://localhost:4321" || c.AltinnBaseURL != "http://localhost:4322" ||
		c.MaskinportenIssuer != "http://localhost:4322/" || c.ConfirmHosts[0] != "localhost:4322" {
		t.Fatalf("after Bind: %s %s %s %v", c.PublicURL, c.AltinnBaseURL, c.MaskinportenIssuer, c.ConfirmHosts)
	}
}

func TestShortPackageCodesBecomeURNs(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"ONBOARD_ACCESS_PACKAGES": "skattegrunnlag,urn:altinn:accesspackage:skatt-naering",
		"ONBOARD_AGENT_ACCESS_PACKAGES": "regnskapsforer-lonn"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Products[0].AccessPackages, ","), "urn:altinn:accesspackage:skattegrunnlag,urn:altinn:accesspackage:skatt-naering"; got != want {
		t.Errorf("standard packages = %s, want %s", got, want)
	}
	if got, want := strings.Join(c.Products[1].AccessPackages, ","), "urn:altinn:accesspackage:regnskapsforer-lonn"; got != want {
		t.Errorf("agent packages = %s, want %s", got, want)
	}
}
