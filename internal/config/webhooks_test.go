package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const webhookSecret = "whsec-0123456789abcdef0123456789abcdef"

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "webhook.secret")
	if err := os.WriteFile(secretFile, []byte(webhookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prod := map[string]string{
		"ONBOARD_DEV": "false", "ONBOARD_PUBLIC_URL": "https://onboard.example.com",
		"ONBOARD_SESSION_KEY": strings.Repeat("s", 32), "ONBOARD_SUPPORT_EMAIL": "support@example.com",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		urls    string // joined by a space, when valid
		maxAge  time.Duration
		wantErr string
	}{
		{name: "none by default", env: nil, maxAge: 48 * time.Hour},
		{name: "https outside dev, secret from a file",
			env:  with(prod, "ONBOARD_WEBHOOK_URLS", "https://a.example/hooks, https://b.example/onboard?k=1", "ONBOARD_WEBHOOK_SECRET_FILE", secretFile),
			urls: "https://a.example/hooks https://b.example/onboard?k=1", maxAge: 48 * time.Hour},
		{name: "loopback http in dev",
			env:  map[string]string{"ONBOARD_WEBHOOK_URLS": "http://127.0.0.1:9000/h,http://localhost:9001/h,http://[::1]:9002/h", "ONBOARD_WEBHOOK_SECRET": webhookSecret, "ONBOARD_WEBHOOK_MAX_AGE": "72h"},
			urls: "http://127.0.0.1:9000/h http://localhost:9001/h http://[::1]:9002/h", maxAge: 72 * time.Hour},
		{name: "http outside dev", env: with(prod, "ONBOARD_WEBHOOK_URLS", "http://127.0.0.1:9000/h", "ONBOARD_WEBHOOK_SECRET", webhookSecret),
			wantErr: "must be https"},
		{name: "http to another host in dev", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "http://vendor.example/h", "ONBOARD_WEBHOOK_SECRET": webhookSecret},
			wantErr: "loopback"},
		{name: "not absolute", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "/hooks", "ONBOARD_WEBHOOK_SECRET": webhookSecret},
			wantErr: "absolute"},
		{name: "other scheme", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "ftp://vendor.example/h", "ONBOARD_WEBHOOK_SECRET": webhookSecret},
			wantErr: "must be https"},
		{name: "listed twice", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "https://a.example/h,https://a.example/h", "ONBOARD_WEBHOOK_SECRET": webhookSecret},
			wantErr: "twice"},
		{name: "URLs without a secret", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "https://a.example/h"},
			wantErr: "ONBOARD_WEBHOOK_SECRET (or _FILE) is required"},
		{name: "short secret", env: map[string]string{"ONBOARD_WEBHOOK_URLS": "https://a.example/h", "ONBOARD_WEBHOOK_SECRET": "short"},
			wantErr: "at least 32 bytes"},
		{name: "max age under a day", env: map[string]string{"ONBOARD_WEBHOOK_MAX_AGE": "23h"}, wantErr: "ONBOARD_WEBHOOK_MAX_AGE"},
		{name: "max age not a duration", env: map[string]string{"ONBOARD_WEBHOOK_MAX_AGE": "2d"}, wantErr: "ONBOARD_WEBHOOK_MAX_AGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.WebhookURLs, " "); got != tt.urls {
				t.Errorf("URLs = %q, want %q", got, tt.urls)
			}
			if c.WebhookMaxAge != tt.maxAge {
				t.Errorf("max age = %v, want %v", c.WebhookMaxAge, tt.maxAge)
			}
			if tt.urls != "" && string(c.WebhookSecret) != webhookSecret {
				t.Errorf("secret = %q, want it read (and trimmed from the file)", c.WebhookSecret)
			}
		})
	}
}

func TestWebhookSecretsAreRedacted(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"ONBOARD_WEBHOOK_URLS":   "https://user:hunter2@vendor.example/hooks?token=hunter3",
		"ONBOARD_WEBHOOK_SECRET": webhookSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprint(c.Redacted())
	for _, secret := range []string{"hunter2", "hunter3", webhookSecret} {
		if strings.Contains(s, secret) {
			t.Errorf("Redacted() shows %q: %s", secret, s)
		}
	}
	if !strings.Contains(s, "https://vendor.example/hooks") {
		t.Errorf("Redacted() lacks where events go: %s", s)
	}
	// A refused URL is named without its credentials too.
	_, err = load(t, map[string]string{"ONBOARD_WEBHOOK_URLS": "http://user:hunter2@vendor.example/h?token=hunter3", "ONBOARD_DEV": "false"})
	if err == nil || strings.Contains(err.Error(), "hunter") {
		t.Errorf("error for a refused URL: %v", err)
	}
}
