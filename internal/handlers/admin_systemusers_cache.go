package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
)

// systemUsersMaxAge is how long the system-users page shows a system's list
// as read from Altinn before it reads it again (issue 15): a page view was
// an Altinn call, several for a big list (pages of 50). The page says when
// the list was read and offers to read it again at once.
const systemUsersMaxAge = time.Minute

// systemUsersReadTimeout bounds one read of a system's list from Altinn
// (all its pages), which every view of the page may be waiting for.
const systemUsersReadTimeout = time.Minute

// systemUserLists is the system-users page's short-lived copy of Altinn's
// lists, per system, for this instance: read at most once per
// systemUsersMaxAge, and by one call however many views want it at once
// (the others wait for that call). A failed read is not kept: the next
// view asks Altinn again.
type systemUserLists struct {
	mu    sync.Mutex
	lists map[string]*systemUserList // by system id
	now   func() time.Time           // nil: time.Now (a test's clock otherwise)
}

func (l *systemUserLists) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// systemUserList is one read of a system's list: under way until done is
// closed, then users and err (and at, when it was asked for) are set and
// never change.
type systemUserList struct {
	done  chan struct{}
	at    time.Time
	users []altinn.SystemUser
	err   error
}

// get returns the system's list and when it was read from Altinn: the kept
// copy when it is younger than systemUsersMaxAge (or a read under way),
// else a new read with fetch. fresh skips the copy and the read under way:
// the list is read after the call began.
func (l *systemUserLists) get(ctx context.Context, systemID string, fresh bool,
	fetch func(context.Context, string) ([]altinn.SystemUser, error)) ([]altinn.SystemUser, time.Time, error) {
	l.mu.Lock()
	e := l.lists[systemID]
	if e != nil && !fresh {
		select {
		case <-e.done:
			if e.err != nil || l.clock().Sub(e.at) >= systemUsersMaxAge {
				e = nil
			}
		default: // under way: wait for it
		}
	} else {
		e = nil
	}
	if e == nil {
		e = &systemUserList{done: make(chan struct{}), at: l.clock()}
		if l.lists == nil {
			l.lists = map[string]*systemUserList{}
		}
		l.lists[systemID] = e
		// The read is the copy's, not this view's: a view that goes away
		// (the browser closed) does not fail the others waiting for it.
		// The Altinn client bounds each call (its timeout), and
		// systemUsersReadTimeout the whole read, however many pages it
		// follows: the views that join it wait no longer than that.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), systemUsersReadTimeout)
		go func() {
			defer cancel()
			defer close(e.done)
			e.users, e.err = fetch(rctx, systemID)
			if e.err != nil {
				l.mu.Lock()
				if l.lists[systemID] == e {
					delete(l.lists, systemID)
				}
				l.mu.Unlock()
			}
		}()
	}
	l.mu.Unlock()
	select {
	case <-e.done:
		return e.users, e.at, e.err
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
}

// drop forgets every kept list (an import changed what the page shows):
// the next view reads Altinn again. A read under way still answers those
// waiting for it, and is not kept.
func (l *systemUserLists) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.lists)
}
