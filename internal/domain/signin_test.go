package domain

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Free: 3, First: 5 * time.Second, Max: 5 * time.Minute}
	tests := []struct {
		name     string
		failures int
		want     time.Duration
	}{
		{"none", 0, 0},
		{"below free", 2, 0},
		{"at free: the first wait", 3, 5 * time.Second},
		{"one more doubles", 4, 10 * time.Second},
		{"and again", 5, 20 * time.Second},
		{"still growing", 8, 160 * time.Second},
		{"capped", 9, 5 * time.Minute},
		{"capped far beyond", 1000, 5 * time.Minute},
		{"negative count", -1, 0},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.failures); got != tt.want {
			t.Errorf("%s: Delay(%d) = %v, want %v", tt.name, tt.failures, got, tt.want)
		}
	}
	if got := (Backoff{Free: 1}).Delay(5); got != 0 {
		t.Errorf("a rule without a first wait never waits, got %v", got)
	}
}

func TestBackoffWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	b := Backoff{Free: 3, First: 5 * time.Second, Max: 5 * time.Minute}
	tests := []struct {
		name string
		f    Failures
		want time.Duration
	}{
		{"free", Failures{N: 2, Last: now}, 0},
		{"just failed", Failures{N: 3, Last: now}, 5 * time.Second},
		{"partly waited", Failures{N: 4, Last: now.Add(-4 * time.Second)}, 6 * time.Second},
		{"waited out", Failures{N: 4, Last: now.Add(-10 * time.Second)}, 0},
		{"long ago", Failures{N: 50, Last: now.Add(-time.Hour)}, 0},
		{"a clock a little behind", Failures{N: 3, Last: now.Add(time.Second)}, 6 * time.Second},
	}
	for _, tt := range tests {
		if got := b.Wait(tt.f, now); got != tt.want {
			t.Errorf("%s: Wait(%+v) = %v, want %v", tt.name, tt.f, got, tt.want)
		}
	}
}

func TestSignInWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		f     SignInFailures
		wait  time.Duration
		limit SignInLimit
	}{
		{"nothing failed", SignInFailures{Now: now}, 0, LimitNone},
		{"a few wrong passwords", SignInFailures{Pair: Failures{2, now}, Email: Failures{2, now}, Address: Failures{2, now}, Now: now}, 0, LimitNone},
		{"one address guessing one email", SignInFailures{Pair: Failures{10, now}, Email: Failures{10, now}, Address: Failures{10, now}, Now: now}, 5 * time.Minute, LimitPair},
		{"many addresses, one email: at most 30 s", SignInFailures{Email: Failures{500, now}, Now: now}, 30 * time.Second, LimitEmail},
		{"one address, many emails: at most 10 s", SignInFailures{Pair: Failures{1, now}, Email: Failures{1, now}, Address: Failures{5000, now}, Now: now}, 10 * time.Second, LimitAddress},
		{"the longest wait wins", SignInFailures{Pair: Failures{3, now}, Email: Failures{25, now}, Now: now}, 30 * time.Second, LimitEmail},
		{"many addresses, one email, from an address that signed in as it before", SignInFailures{Email: Failures{500, now}, KnownPair: true, Now: now}, 0, LimitNone},
		{"a known address still has its own back-off", SignInFailures{Pair: Failures{4, now}, Email: Failures{500, now}, KnownPair: true, Now: now}, 10 * time.Second, LimitPair},
		{"waited out", SignInFailures{Pair: Failures{4, now.Add(-11 * time.Second)}, Email: Failures{25, now.Add(-31 * time.Second)}, Now: now}, 0, LimitNone},
	}
	for _, tt := range tests {
		wait, limit := SignInWait(tt.f)
		if wait != tt.wait || limit != tt.limit {
			t.Errorf("%s: SignInWait = %v %q, want %v %q", tt.name, wait, limit, tt.wait, tt.limit)
		}
	}
	// Each rule is bounded: no count of failures waits longer than its Max,
	// so nobody is ever locked out.
	for _, r := range []Backoff{SignInPair, SignInEmail, SignInAddress} {
		if d := r.Delay(1 << 20); d != r.Max || r.Max > 5*time.Minute {
			t.Errorf("%+v: Delay(huge) = %v, want its Max, at most 5 minutes", r, d)
		}
	}
	if SignInEmail.Max > 30*time.Second || SignInAddress.Max > 10*time.Second {
		t.Error("the rules that can hit the real person from elsewhere must stay short")
	}
}
