package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIDPortenInTheSimulator(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := c.IDPorten
	if !p.On() || p.Issuer != "http://localhost:8081/idporten" || p.ClientID != SimIDPortenClientID ||
		p.RedirectURL != "http://localhost:8080/idporten/callback" || p.ACR != "idporten-loa-substantial" {
		t.Fatalf("ID-porten in the simulator: %+v", p)
	}
}

// TestIDPortenOutsideTheSimulator: off unless a client id is given; with
// one, its issuer follows the environment and a key or a secret is needed.
func TestIDPortenOutsideTheSimulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := map[string]string{
		"ONBOARD_PUBLIC_URL": "https://onboard.example.com", "ONBOARD_MASKINPORTEN_CLIENT_ID": "client",
		"ONBOARD_MASKINPORTEN_KID": "kid", "ONBOARD_MASKINPORTEN_KEY_FILE": write("mp.pem", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"),
		"ONBOARD_SESSION_KEY_FILE": write("session", strings.Repeat("s", 40)), "ONBOARD_SUPPORT_URL": "https://help.example.com/",
		"ONBOARD_METRICS_TOKEN": "t",
	}
	key := write("idp.pem", "-----BEGIN PRIVATE KEY-----\nidporten-secret-key\n-----END PRIVATE KEY-----\n")
	secret := write("idp-secret", "the-client-secret\n")
	tests := []struct {
		name       string
		env        map[string]string
		on         bool
		issuer     string
		wantErr    string
		withSecret bool
	}{
		{name: "off", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02"}},
		{name: "tt02 with a key", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_IDPORTEN_CLIENT_ID": "c",
			"ONBOARD_IDPORTEN_KEY_FILE": key, "ONBOARD_IDPORTEN_KID": "k"}, on: true, issuer: "https://test.idporten.no"},
		{name: "prod with a secret", env: map[string]string{"ONBOARD_ALTINN_ENV": "prod", "ONBOARD_IDPORTEN_CLIENT_ID": "c",
			"ONBOARD_IDPORTEN_CLIENT_SECRET_FILE": secret}, on: true, issuer: "https://idporten.no", withSecret: true},
		{name: "no credentials", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_IDPORTEN_CLIENT_ID": "c"},
			wantErr: "ONBOARD_IDPORTEN_KEY_FILE"},
		{name: "key without kid", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_IDPORTEN_CLIENT_ID": "c",
			"ONBOARD_IDPORTEN_KEY_FILE": key}, wantErr: "ONBOARD_IDPORTEN_KID"},
		{name: "custom without issuer", env: map[string]string{"ONBOARD_ALTINN_ENV": "custom", "ONBOARD_ALTINN_BASE_URL": "https://a.example",
			"ONBOARD_MASKINPORTEN_ISSUER": "https://mp.example/", "ONBOARD_IDPORTEN_CLIENT_ID": "c", "ONBOARD_IDPORTEN_CLIENT_SECRET_FILE": secret},
			wantErr: "ONBOARD_IDPORTEN_ISSUER"},
		{name: "plain http issuer", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_IDPORTEN_CLIENT_ID": "c",
			"ONBOARD_IDPORTEN_CLIENT_SECRET_FILE": secret, "ONBOARD_IDPORTEN_ISSUER": "http://idp.example"}, wantErr: "ONBOARD_IDPORTEN_ISSUER"},
		{name: "unknown level", env: map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_IDPORTEN_ACR": "level4"}, wantErr: "ONBOARD_IDPORTEN_ACR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := load(t, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := c.IDPorten
			if p.On() != tt.on || (tt.on && (p.Issuer != tt.issuer || p.RedirectURL != "https://onboard.example.com/idporten/callback")) {
				t.Fatalf("%+v", p)
			}
			if tt.withSecret && string(p.ClientSecret) != "the-client-secret" {
				t.Errorf("client secret %q", p.ClientSecret)
			}
			red := fmt.Sprint(c.Redacted())
			if strings.Contains(red, "the-client-secret") || strings.Contains(red, "idporten-secret-key") {
				t.Errorf("Redacted leaks an ID-porten secret: %s", red)
			}
		})
	}
}
