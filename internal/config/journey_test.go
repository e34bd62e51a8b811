package config

import (
	"strings"
	"testing"
)

func TestSupportContactAndVendorURL(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"ONBOARD_DEV": "false", "ONBOARD_PUBLIC_URL": "https://onboard.example.com",
		"ONBOARD_SESSION_KEY": strings.Repeat("s", 32)}
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
		name      string
		env       map[string]string
		wantErr   string // "" for none
		email     string
		vendorURL string
	}{
		{name: "sim in dev gets the example contact", env: nil, email: SimSupportEmail},
		{name: "sim in dev keeps a configured one", env: map[string]string{"ONBOARD_SUPPORT_URL": "https://help.example.com"}},
		{name: "outside dev without a contact", env: prod, wantErr: "a support contact is required outside dev"},
		{name: "outside dev with an email", env: with(prod, "ONBOARD_SUPPORT_EMAIL", "help@example.com"), email: "help@example.com"},
		{name: "outside dev with a phone", env: with(prod, "ONBOARD_SUPPORT_PHONE", "+47 22 00 00 00")},
		{name: "outside dev with a URL", env: with(prod, "ONBOARD_SUPPORT_URL", "https://help.example.com")},
		{name: "vendor URL", env: with(prod, "ONBOARD_SUPPORT_URL", "https://help.example.com", "ONBOARD_VENDOR_URL", "https://app.example.com/"),
			vendorURL: "https://app.example.com/"},
		{name: "plain http vendor URL outside dev", env: with(prod, "ONBOARD_SUPPORT_URL", "https://help.example.com", "ONBOARD_VENDOR_URL", "http://app.example.com/"),
			wantErr: "ONBOARD_VENDOR_URL \"http://app.example.com/\" must be https outside dev"},
		{name: "plain http vendor URL in dev", env: map[string]string{"ONBOARD_VENDOR_URL": "http://localhost:3000/"}, vendorURL: "http://localhost:3000/"},
		{name: "not a URL", env: map[string]string{"ONBOARD_VENDOR_URL": "app.example.com"}, wantErr: "must be an absolute http(s) URL"},
		{name: "javascript URL", env: map[string]string{"ONBOARD_VENDOR_URL": "javascript:alert(1)"}, wantErr: "must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.email != "" && c.Brand.SupportEmail != tt.email {
				t.Errorf("support email %q, want %q", c.Brand.SupportEmail, tt.email)
			}
			if c.VendorURL != tt.vendorURL {
				t.Errorf("vendor URL %q, want %q", c.VendorURL, tt.vendorURL)
			}
		})
	}
}
