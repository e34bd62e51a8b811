package handlers

import (
	"sync"

	"golang.org/x/time/rate"
)

// badKeys holds back an address that keeps sending missing or unknown API
// keys (issue 13): the API's per-key limit comes after the key's lookup,
// so without this every bad key costs a database query, unlimited. An
// address may get badKeyBurst refusals at once, then one a second; beyond
// that it gets a 429 before any lookup. Good keys never count.
type badKeys struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

const (
	badKeyRate  = rate.Limit(1)
	badKeyBurst = 20
	// badKeyAddrs bounds the map: past it, addresses whose allowance is
	// whole again are forgotten.
	badKeyAddrs = 10000
)

// blocked reports whether addr has spent its allowance of refusals.
func (b *badKeys) blocked(addr string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[addr]
	return ok && l.Tokens() < 1
}

// refused counts one refusal of addr's key.
func (b *badKeys) refused(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[string]*rate.Limiter)
	}
	l, ok := b.m[addr]
	if !ok {
		if len(b.m) >= badKeyAddrs {
			for a, o := range b.m {
				if o.Tokens() >= badKeyBurst {
					delete(b.m, a)
				}
			}
		}
		l = rate.NewLimiter(badKeyRate, badKeyBurst)
		b.m[addr] = l
	}
	l.Allow()
}
