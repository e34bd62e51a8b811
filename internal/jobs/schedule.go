package jobs

import (
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// Schedule says when an onboarding is next re-read from Altinn. The
// onboarding service applies it on every save (next_check_at, in the same
// transaction as the status), and the sweep enqueues what is due.
type Schedule struct {
	// Waiting are the ages in a waiting status (requesting, pending,
	// accepted), counted from when the onboarding entered it, at which it
	// is re-read: soon at first, then less often. After the last age it is
	// re-read at every multiple of the last (with 24h last: daily).
	Waiting []time.Duration
	// Connected is how often a connected onboarding is re-read, to notice a
	// system user the customer deleted in Altinn (then it is revoked).
	Connected time.Duration
}

// Waiting reports whether an onboarding in status is waiting for something
// to happen at Altinn (the customer's decision, or our own request), so it
// is re-read on the waiting schedule.
func Waiting(status domain.Status) bool {
	switch status {
	case domain.StatusRequesting, domain.StatusPending, domain.StatusAccepted:
		return true
	}
	return false
}

// NextCheck returns when to next re-read an onboarding that entered status
// at since, seen at now: always after now, or nil for a status nothing at
// Altinn can change by itself (rejected, expired, failed, cancelled,
// revoked: a person moves those on).
//
// A look that comes within half the first age of the next age counts as
// that one too: the next is the first age at least that far after now. A
// look made late (a busy machine, a backlog) just before an age would
// otherwise be followed by another a moment later, which the batches, that
// claim what is due as soon as it is due, would make.
func (s Schedule) NextCheck(status domain.Status, since, now time.Time) *time.Time {
	var t time.Time
	switch {
	case Waiting(status) && len(s.Waiting) > 0:
		age := now.Sub(since)
		gap := s.Waiting[0] / 2
		for _, a := range s.Waiting {
			if a > age && a-age >= gap {
				t = since.Add(a)
				return &t
			}
		}
		last := s.Waiting[len(s.Waiting)-1]
		n := age/last + 1
		if n*last-age < gap {
			n++
		}
		t = since.Add(n * last)
	case status == domain.StatusConnected && s.Connected > 0:
		t = now.Add(s.Connected)
	default:
		return nil
	}
	return &t
}
