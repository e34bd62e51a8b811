package handlers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
)

// TestSystemUserListsKeepAMinute: a system's list is read again once it is
// a minute old, not before; a fresh read skips the copy; a failed read is
// not kept; drop forgets every copy; systems are kept apart. (The join of
// views at once and the import's drop are in internal/app's
// TestAdminSystemUsersCopy, against the simulator.)
func TestSystemUserListsKeepAMinute(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	l := &systemUserLists{now: func() time.Time { return now }}
	var calls atomic.Int32
	fail := false
	fetch := func(_ context.Context, systemID string) ([]altinn.SystemUser, error) {
		calls.Add(1)
		if fail {
			return nil, errors.New("altinn: 503")
		}
		return []altinn.SystemUser{{ID: systemID + "-user"}}, nil
	}
	get := func(system string, fresh bool, want int32) {
		t.Helper()
		users, at, err := l.get(context.Background(), system, fresh, fetch)
		if n := calls.Load(); n != want {
			t.Fatalf("%s at %s: %d reads of Altinn, want %d", system, now.Format(time.TimeOnly), n, want)
		}
		if !fail && (err != nil || len(users) != 1 || users[0].ID != system+"-user" || at.After(now)) {
			t.Fatalf("%s: %v read at %s (%v)", system, users, at, err)
		}
	}
	get("a", false, 1)
	now = now.Add(59 * time.Second)
	get("a", false, 1) // the copy
	get("b", false, 2) // another system's own read
	now = now.Add(time.Second)
	get("a", false, 3) // a minute old: read again
	get("a", true, 4)  // read again now, whatever its age
	get("a", false, 4)
	l.drop()
	get("a", false, 5)
	fail = true
	now = now.Add(time.Minute)
	if _, _, err := l.get(context.Background(), "a", false, fetch); err == nil || calls.Load() != 6 {
		t.Fatalf("a failed read: %v, %d reads", err, calls.Load())
	}
	fail = false
	get("a", false, 7) // the failure was not kept
}
