package config

import (
	"strings"
	"testing"
	"time"
)

func TestBrregSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     string
		vars    map[string]string
		url     string
		timeout time.Duration
		err     string
	}{
		{name: "sim: the simulator's register", env: EnvSim, url: "http://localhost:8081/enhetsregisteret/api", timeout: 2 * time.Second},
		{name: "tt02: the ppe copy", env: EnvTT02, url: "https://data.ppe.brreg.no/enhetsregisteret/api", timeout: 2 * time.Second},
		{name: "prod", env: EnvProd, url: "https://data.brreg.no/enhetsregisteret/api", timeout: 2 * time.Second},
		{name: "custom: off by default", env: EnvCustom, url: "", timeout: 2 * time.Second},
		{name: "custom: named", env: EnvCustom, vars: map[string]string{"ONBOARD_BRREG_URL": "https://register.example/api/"}, url: "https://register.example/api", timeout: 2 * time.Second},
		{name: "off", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_URL": "OFF"}, url: "", timeout: 2 * time.Second},
		{name: "shorter timeout", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_TIMEOUT": "750ms"}, url: "https://data.brreg.no/enhetsregisteret/api", timeout: 750 * time.Millisecond},
		{name: "timeout above 2s", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_TIMEOUT": "5s"}, err: "ONBOARD_BRREG_TIMEOUT"},
		{name: "timeout zero", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_TIMEOUT": "0s"}, err: "ONBOARD_BRREG_TIMEOUT"},
		{name: "timeout not a duration", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_TIMEOUT": "soon"}, err: "ONBOARD_BRREG_TIMEOUT"},
		{name: "relative URL", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_URL": "/enhetsregisteret/api"}, err: "ONBOARD_BRREG_URL"},
		{name: "URL with a query", env: EnvProd, vars: map[string]string{"ONBOARD_BRREG_URL": "https://x.example/api?a=b"}, err: "ONBOARD_BRREG_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{AltinnEnv: tc.env, SimPublicURL: "http://localhost:8081"}
			errs := c.loadBrreg(func(k, def string) string {
				if v := tc.vars[k]; v != "" {
					return v
				}
				return def
			})
			if tc.err != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
					t.Fatalf("errors %v, want one mentioning %s", errs, tc.err)
				}
				return
			}
			if len(errs) > 0 || c.BrregURL != tc.url || c.BrregTimeout != tc.timeout {
				t.Fatalf("got %q %v %v, want %q %v", c.BrregURL, c.BrregTimeout, errs, tc.url, tc.timeout)
			}
		})
	}
}

// TestBrregFollowsTheSimulatorsPort: with port 0 the simulator's register
// moves with the simulator, as its Altinn URLs do.
func TestBrregFollowsTheSimulatorsPort(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"ONBOARD_ADDR": "127.0.0.1:0", "ONBOARD_SIM_ADDR": "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c.Bind("127.0.0.1:4321", "127.0.0.1:4322")
	if want := "http://localhost:4322/enhetsregisteret/api"; c.BrregURL != want {
		t.Fatalf("BrregURL = %q, want %q", c.BrregURL, want)
	}
}
