package config

import (
	"strings"
	"testing"
	"time"
)

func TestStaffResetTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        time.Duration // 0: refused
	}{
		{"default", "", 24 * time.Hour},
		{"hours", "2h", 2 * time.Hour},
		{"the shortest", "1m", time.Minute},
		{"the longest", "720h", 720 * time.Hour},
		{"too short", "59s", 0},
		{"too long", "721h", 0},
		{"zero", "0", 0},
		{"negative", "-1h", 0},
		{"not a duration", "a day", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tt.value != "" {
				env["ONBOARD_STAFF_RESET_TTL"] = tt.value
			}
			c, err := Load(func(k string) string { return env[k] })
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "ONBOARD_STAFF_RESET_TTL must be a duration from 1m to 720h") {
					t.Fatalf("%q: err %v, want it refused", tt.value, err)
				}
				return
			}
			if err != nil || c.StaffResetTTL != tt.want {
				t.Fatalf("%q: %v, %v; want %v", tt.value, c, err, tt.want)
			}
		})
	}
}
