package handlers

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A limiter forgets an address only once its bucket would be full again
// (a new visitor's is), and never within a minute.
func TestForgetAfterARefilledBucket(t *testing.T) {
	for _, c := range []struct {
		r     rate.Limit
		burst int
		want  time.Duration
	}{
		{1, 30, time.Minute},                       // status pages: full after 30 s
		{rate.Limit(1.0 / 60), 3, 3 * time.Minute}, // one submit a minute, bursts of 3
		{10, 100, time.Minute},                     // API keys: full after 10 s
		{0, 5, 5 * time.Minute},
	} {
		if got := forgetAfter(c.r, c.burst); got != c.want {
			t.Errorf("forgetAfter(%v, %d) = %s, want %s", c.r, c.burst, got, c.want)
		}
	}
}
