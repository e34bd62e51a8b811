package domain

import "time"

// Backoff is one rule of the staff sign-in throttle: after Free failures
// counted in Window, each further attempt waits First, doubling with every
// further failure and never more than Max, counted from the latest failure.
// It only ever delays: once the wait has passed an attempt is checked, so
// the real person, who waits, always gets in with the right password. An
// attempt refused by the throttle is not a failure and adds nothing.
type Backoff struct {
	Free   int           // failures allowed without a wait
	First  time.Duration // the first wait, after Free failures
	Max    time.Duration // the longest wait
	Window time.Duration // failures older than this no longer count
}

// Delay is the wait after the given number of failures: 0 below Free, then
// First, 2×First, 4×First, … up to Max.
func (b Backoff) Delay(failures int) time.Duration {
	if failures < b.Free || b.First <= 0 {
		return 0
	}
	d := b.First
	for i := b.Free; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Wait is how long from now until the rule lets the next attempt through,
// for f failures; 0 when it does at once.
func (b Backoff) Wait(f Failures, now time.Time) time.Duration {
	d := b.Delay(f.N)
	if d == 0 {
		return 0
	}
	return max(0, f.Last.Add(d).Sub(now))
}

// Failures is what one rule counts: how many failed sign-ins, and when the
// latest was.
type Failures struct {
	N    int
	Last time.Time
}

// SignInFailures are the failed sign-ins that bear on one attempt, each
// counted since its own reset, and the clock they are measured by (the
// database's, which stamped them).
type SignInFailures struct {
	Pair    Failures // this address for this email; reset by its success or an admin's unlock
	Email   Failures // this email from any address; reset by its success or an unlock
	Address Failures // this address for any email; reset by a success from it
	// KnownPair: this address has signed in as this email before. Then the
	// email's rule, which is about guesses from elsewhere, does not hold
	// the attempt back: the real person at their usual address is never
	// slowed by someone else's guessing (the pair's own rule still holds).
	KnownPair bool
	Now       time.Time
}

// SignInLimit names the rule that holds an attempt back.
type SignInLimit string

// The sign-in throttle's rules, in SignInWait's order.
const (
	LimitNone    SignInLimit = ""
	LimitPair    SignInLimit = "pair"
	LimitEmail   SignInLimit = "email"
	LimitAddress SignInLimit = "address"
)

// The sign-in throttle (README, "Staff sign-in"). Nothing locks: each rule
// only delays, and each delay is bounded.
//   - SignInPair slows one address guessing one email: 3 free failures,
//     then 5 s doubling to 5 minutes.
//   - SignInEmail slows many addresses guessing one email, without locking
//     out its owner elsewhere: 20 free, then 2 s doubling to 30 s.
//   - SignInAddress slows one address guessing many emails, kept low so
//     that everyone behind one proxy address (ONBOARD_BEHIND_PROXY unset)
//     is only delayed: 30 free, then 1 s doubling to 10 s.
var (
	SignInPair    = Backoff{Free: 3, First: 5 * time.Second, Max: 5 * time.Minute, Window: time.Hour}
	SignInEmail   = Backoff{Free: 20, First: 2 * time.Second, Max: 30 * time.Second, Window: 15 * time.Minute}
	SignInAddress = Backoff{Free: 30, First: time.Second, Max: 10 * time.Second, Window: 15 * time.Minute}
)

// SignInWait is how long an attempt must wait, the longest of the three
// rules' waits, and the rule it comes from (LimitNone and 0 when the attempt
// may go ahead).
func SignInWait(f SignInFailures) (time.Duration, SignInLimit) {
	wait, limit := time.Duration(0), LimitNone
	for _, r := range []struct {
		rule  Backoff
		f     Failures
		limit SignInLimit
	}{
		{SignInPair, f.Pair, LimitPair},
		{SignInEmail, f.Email, LimitEmail},
		{SignInAddress, f.Address, LimitAddress},
	} {
		if r.limit == LimitEmail && f.KnownPair {
			continue
		}
		if w := r.rule.Wait(r.f, f.Now); w > wait {
			wait, limit = w, r.limit
		}
	}
	return wait, limit
}
