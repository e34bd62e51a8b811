package config

import (
	"reflect"
	"strings"
	"testing"
)

// fuzzVars are the settings FuzzLoad sets, one at a time, to anything:
// every ONBOARD_ variable but those that name a file to read.
var fuzzVars = []string{"ONBOARD_ACCESS_PACKAGES", "ONBOARD_ADDR", "ONBOARD_AGENT_ACCESS_PACKAGES", "ONBOARD_ALTINN_BASE_URL",
	"ONBOARD_ALTINN_CONFIRM_HOSTS", "ONBOARD_ALTINN_ENV", "ONBOARD_ALTINN_PORTAL_URL", "ONBOARD_ALTINN_TIMEOUT",
	"ONBOARD_BEHIND_PROXY", "ONBOARD_BRAND_ACCENT_COLOR", "ONBOARD_BRAND_NAME", "ONBOARD_BRAND_PRIMARY_COLOR",
	"ONBOARD_BRREG_TIMEOUT", "ONBOARD_BRREG_URL", "ONBOARD_CAMPAIGN_CONCURRENCY", "ONBOARD_CAMPAIGN_KICK_INTERVAL",
	"ONBOARD_CAMPAIGN_RATE", "ONBOARD_DEV", "ONBOARD_HANDOFF_HS256_SECRET", "ONBOARD_HANDOFF_MAX_AGE",
	"ONBOARD_HANDOFF_RETURN_HOSTS", "ONBOARD_JOB_WORKERS", "ONBOARD_LOG_LEVEL", "ONBOARD_MAIL_FROM", "ONBOARD_MAIL_INTERVAL",
	"ONBOARD_MASKINPORTEN_CLIENT_ID", "ONBOARD_MASKINPORTEN_ISSUER", "ONBOARD_MASKINPORTEN_KEY", "ONBOARD_MASKINPORTEN_KID",
	"ONBOARD_METRICS_OPEN", "ONBOARD_METRICS_TOKEN", "ONBOARD_PRODUCTS", "ONBOARD_PUBLIC_URL", "ONBOARD_RECONCILE_SCHEDULE",
	"ONBOARD_REMINDER_BEFORE_EXPIRY", "ONBOARD_REMINDER_DAYS", "ONBOARD_REVOKE_SWEEP_INTERVAL", "ONBOARD_RIGHTS",
	"ONBOARD_SESSION_KEY", "ONBOARD_SHUTDOWN_DRAIN", "ONBOARD_SIM_ADDR", "ONBOARD_SIM_BREAK", "ONBOARD_SIM_PUBLIC_URL",
	"ONBOARD_SIM_STATE", "ONBOARD_SIM_TIMEOUT_MODE", "ONBOARD_SMTP_HOST", "ONBOARD_SMTP_PASSWORD", "ONBOARD_SMTP_PORT",
	"ONBOARD_SMTP_TLS", "ONBOARD_SMTP_USERNAME", "ONBOARD_STAFF_RESET_TTL", "ONBOARD_STAFF_SESSION_TTL",
	"ONBOARD_STATUS_REFRESH_INTERVAL", "ONBOARD_SUBMIT_RATE_PER_MINUTE", "ONBOARD_SUPPORT_EMAIL", "ONBOARD_SUPPORT_PHONE",
	"ONBOARD_SUPPORT_URL", "ONBOARD_SWEEP_INTERVAL", "ONBOARD_SYSTEM_ID", "ONBOARD_SYSTEM_USER_SCOPES", "ONBOARD_VENDOR_NAME",
	"ONBOARD_VENDOR_URL", "ONBOARD_WEBHOOK_MAX_AGE", "ONBOARD_WEBHOOK_RETENTION", "ONBOARD_WEBHOOK_SECRET", "ONBOARD_WEBHOOK_URLS"}

// secretVars must never be quoted in an error (a log line at start-up).
var secretVars = map[string]bool{"ONBOARD_HANDOFF_HS256_SECRET": true, "ONBOARD_MASKINPORTEN_KEY": true,
	"ONBOARD_METRICS_TOKEN": true, "ONBOARD_SESSION_KEY": true, "ONBOARD_SMTP_PASSWORD": true, "ONBOARD_WEBHOOK_SECRET": true}

// FuzzLoad sets one setting (of the sim defaults) to anything: Load never
// panics, loads the same twice, and a refusal names a setting and never
// quotes a secret's value.
func FuzzLoad(f *testing.F) {
	for i, v := range []string{"", "0", "-1", "9223372036854775808", "1e309", "true", "maybe", "10s", "-5m", "2562048h",
		"http://localhost:9999", "https://", "ftp://x", "a,b,,c", "\x00", "\xff", "#FF0000", "#fff", "red",
		`[{"id":"a","kind":"standard","systemId":"991825827_a","rights":["r"]}]`, `[{`, `[]`, `null`,
		`[{"id":"a","kind":"agent","systemId":"991825827_a","accessPackages":["urn:altinn:accesspackage:x"]}]`,
		"1m,5m,-1s", "test", "prod", "sim", "custom", "debug", "s3cret-value-that-is-long", "127.0.0.1:0", ":8080",
		"kari@example.com", "Kari <kari@example.com>", "991825827_smartcloud", "99182582_x", "7,1,30", "0,0"} {
		f.Add(uint8(i*7), v)
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := fuzzVars[int(which)%len(fuzzVars)]
		env := map[string]string{name: value}
		get := func(k string) string { return env[k] }
		c, err := Load(get)
		c2, err2 := Load(get)
		if (err == nil) != (err2 == nil) || err == nil && !reflect.DeepEqual(c, c2) {
			t.Fatalf("%s=%q loads two ways: %v / %v", name, value, err, err2)
		}
		if err == nil {
			return
		}
		msg := err.Error()
		// A refusal names a setting: this one, or one whose default comes
		// from it (ONBOARD_ADDR's goes into ONBOARD_PUBLIC_URL's).
		if !strings.Contains(msg, "ONBOARD_") {
			t.Fatalf("%s=%q is refused without naming a setting: %v", name, value, err)
		}
		if v := strings.TrimSpace(value); secretVars[name] && len(v) >= 4 && strings.Contains(msg, v) {
			t.Fatalf("the refusal of %s quotes its value: %v", name, err)
		}
	})
}
