package i18n

import (
	"testing"
	"time"
)

func TestWaitWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"nb", 0, "1 sekund"},
		{"nb", 400 * time.Millisecond, "1 sekund"},
		{"nb", 1500 * time.Millisecond, "2 sekunder"},
		{"nb", 30 * time.Second, "30 sekunder"},
		{"nb", 90 * time.Second, "90 sekunder"},
		{"nb", 91 * time.Second, "2 minutter"},
		{"nb", 5 * time.Minute, "5 minutter"},
		{"en", 10 * time.Second, "10 seconds"},
		{"en", 1 * time.Second, "1 second"},
		{"en", 160 * time.Second, "3 minutes"},
		{"nn", 20 * time.Second, "20 sekunder"}, // the dashboard reads bokmål
	}
	for _, tt := range tests {
		if got := WaitWords(tt.lang, tt.d); got != tt.want {
			t.Errorf("WaitWords(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.want)
		}
	}
}
