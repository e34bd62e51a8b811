package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMailSettings(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	pw := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, m Mail)
	}{
		{name: "dev without a host: the outbox, default ages", check: func(t *testing.T, m Mail) {
			if !m.Outbox || !m.Enabled() || m.SMTPHost != "" || !slices.Equal(m.ReminderAges, []time.Duration{3 * day, 7 * day, 14 * day}) ||
				m.ExpiryReminder != day || m.RequestLifetime != RequestLifetime || m.Interval != time.Minute {
				t.Errorf("%+v", m)
			}
		}},
		{name: "a host with a password file", env: map[string]string{"ONBOARD_SMTP_HOST": "smtp.example.com",
			"ONBOARD_SMTP_USERNAME": "u", "ONBOARD_SMTP_PASSWORD_FILE": pw, "ONBOARD_MAIL_FROM": "Vendor <no-reply@vendor.example>"},
			check: func(t *testing.T, m Mail) {
				if m.Outbox || m.SMTPPort != 587 || m.SMTPTLS != SMTPStartTLS || m.SMTPPassword != "s3cret" {
					t.Errorf("%+v", m)
				}
			}},
		{name: "implicit TLS defaults to 465", env: map[string]string{"ONBOARD_SMTP_HOST": "smtp.example.com", "ONBOARD_SMTP_TLS": "tls",
			"ONBOARD_MAIL_FROM": "a@b.example"}, check: func(t *testing.T, m Mail) {
			if m.SMTPPort != 465 {
				t.Errorf("port %d", m.SMTPPort)
			}
		}},
		{name: "a host needs a sender", env: map[string]string{"ONBOARD_SMTP_HOST": "smtp.example.com"}, wantErr: "ONBOARD_MAIL_FROM is required"},
		{name: "bad TLS mode", env: map[string]string{"ONBOARD_SMTP_TLS": "ssl3"}, wantErr: "ONBOARD_SMTP_TLS"},
		{name: "bad sender", env: map[string]string{"ONBOARD_MAIL_FROM": "not an address"}, wantErr: "ONBOARD_MAIL_FROM"},
		{name: "days must ascend", env: map[string]string{"ONBOARD_REMINDER_DAYS": "7,3"}, wantErr: "must ascend"},
		{name: "no reminders by age", env: map[string]string{"ONBOARD_REMINDER_DAYS": "off", "ONBOARD_REMINDER_BEFORE_EXPIRY": "0"},
			check: func(t *testing.T, m Mail) {
				if len(m.ReminderAges) != 0 || m.ExpiryReminder != 0 {
					t.Errorf("%+v", m)
				}
			}},
		{name: "legacy simulator requests live 10 days", env: map[string]string{"ONBOARD_SIM_TIMEOUT_MODE": "legacy10d"},
			check: func(t *testing.T, m Mail) {
				if m.RequestLifetime != 10*day {
					t.Errorf("lifetime %v", m.RequestLifetime)
				}
			}},
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
			tt.check(t, c.Mail)
			if r := c.Redacted(); r["smtp_password"] == "s3cret" {
				t.Error("the password is in the redacted config")
			}
		})
	}
}

func FuzzParseDays(f *testing.F) {
	f.Add("3,7,14")
	f.Add("off")
	f.Add(" 1 , 2,x")
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := parseDays(s)
		if err != nil {
			return
		}
		for i, d := range ds {
			if d < 24*time.Hour || d > 365*24*time.Hour || d%(24*time.Hour) != 0 || (i > 0 && d <= ds[i-1]) {
				t.Fatalf("%q: %v", s, ds)
			}
		}
	})
}
