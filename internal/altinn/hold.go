package altinn

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// MaxHold caps how long one Retry-After can hold the client back, so that a
// wrong or hostile header cannot stop every call for days.
const MaxHold = 15 * time.Minute

// ErrHeld means a call was not sent because Altinn asked us, with
// Retry-After, not to call again yet. A *HeldError matches it and
// ErrUnavailable, so callers that retry later on ErrUnavailable need nothing
// new.
var ErrHeld = errors.New("altinn: held back by Retry-After")

// HeldError is the error of a call that was not sent: an earlier answer
// (429, or a 5xx) carried a Retry-After that has not passed yet.
type HeldError struct {
	Op    string    // the call that was held back: "POST request/vendor"
	Until time.Time // when calls may be sent again
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("altinn: %s: not sent: Altinn asked us to wait until %s (Retry-After)",
		e.Op, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrHeld) and errors.Is(err, ErrUnavailable) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld || target == ErrUnavailable }

// NotBefore returns when the client sends calls again, or the zero time when
// it is not held back. The hold is per client, that is per process: several
// instances each learn it from their own calls, and the reconciler also
// keeps each onboarding's next check after it.
func (c *Client) NotBefore() time.Time {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	if !c.notBefore.IsZero() && !c.now().Before(c.notBefore) {
		c.notBefore = time.Time{}
	}
	return c.notBefore
}

// holdFor holds every call back for p's Retry-After (at most MaxHold), when
// p is a 429 or 5xx that asked for a wait. A shorter wait never shortens a
// hold already set.
func (c *Client) holdFor(p *Problem) {
	if p.RetryAfter <= 0 || (p.Status != http.StatusTooManyRequests && p.Status < 500) {
		return
	}
	until := c.now().Add(min(p.RetryAfter, MaxHold))
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	if until.After(c.notBefore) {
		c.notBefore = until
	}
}
