package config

import (
	"strings"
	"testing"
	"time"
)

func TestHandoffSettings(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HandoffEnabled() || c.HandoffMaxAge != 5*time.Minute {
		t.Fatalf("defaults: enabled %v max age %s, want off and 5m", c.HandoffEnabled(), c.HandoffMaxAge)
	}
	c, err = load(t, map[string]string{
		"ONBOARD_HANDOFF_HS256_SECRET": "0123456789abcdef0123456789abcdef",
		"ONBOARD_HANDOFF_RETURN_HOSTS": "App.Vendor.example, localhost:9000",
		"ONBOARD_HANDOFF_MAX_AGE":      "2m",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.HandoffEnabled() || c.HandoffMaxAge != 2*time.Minute || strings.Join(c.HandoffReturnHosts, ",") != "app.vendor.example,localhost:9000" {
		t.Fatalf("got enabled %v max age %s hosts %v", c.HandoffEnabled(), c.HandoffMaxAge, c.HandoffReturnHosts)
	}
	if r := c.Redacted(); r["handoff_hs256_key"] != "(set)" {
		t.Fatalf("redacted secret: %v", r["handoff_hs256_key"])
	}
	for name, env := range map[string]map[string]string{
		"short secret":     {"ONBOARD_HANDOFF_HS256_SECRET": "short", "ONBOARD_HANDOFF_RETURN_HOSTS": "a.example"},
		"no return hosts":  {"ONBOARD_HANDOFF_HS256_SECRET": "0123456789abcdef0123456789abcdef"},
		"missing key":      {"ONBOARD_HANDOFF_PUBLIC_KEY_FILE": "/nonexistent/key.pem", "ONBOARD_HANDOFF_RETURN_HOSTS": "a.example"},
		"max age too long": {"ONBOARD_HANDOFF_MAX_AGE": "2h"},
	} {
		if _, err := load(t, env); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
