package handlers

import (
	"crypto/sha256"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// badKeys holds back an address that keeps sending missing or unknown API
// keys (issue 13): the API's per-key limit comes after the key's lookup,
// so without this every bad key costs a database query, unlimited. An
// address may get badKeyBurst refusals at once, then one a second; beyond
// that it gets a 429 before any lookup. Good keys never count, and a key
// that was good here lately is still looked up from a held-back address, so
// a client sharing the address (a NAT, a proxy) with one sending bad keys
// is not shut out with it.
type badKeys struct {
	mu   sync.Mutex
	m    map[string]*rate.Limiter
	good map[[32]byte]time.Time // SHA-256 of keys found live, and when
}

const (
	badKeyRate  = rate.Limit(1)
	badKeyBurst = 20
	// badKeyAddrs bounds the map: past it, addresses whose allowance is
	// whole again are forgotten.
	badKeyAddrs = 10000
	// goodKeyTTL is how long a key found live passes a held-back address;
	// goodKeys bounds how many are kept.
	goodKeyTTL = 10 * time.Minute
	goodKeys   = 10000
)

// markGood remembers that key was found live.
func (b *badKeys) markGood(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.good == nil {
		b.good = make(map[[32]byte]time.Time)
	}
	if len(b.good) >= goodKeys {
		for k, at := range b.good {
			if now.Sub(at) > goodKeyTTL {
				delete(b.good, k)
			}
		}
		if len(b.good) >= goodKeys {
			clear(b.good) // all fresh: start over rather than grow
		}
	}
	b.good[sha256.Sum256([]byte(key))] = now
}

// knownGood reports whether key was found live within goodKeyTTL.
func (b *badKeys) knownGood(key string, now time.Time) bool {
	if key == "" {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	at, ok := b.good[sha256.Sum256([]byte(key))]
	return ok && now.Sub(at) <= goodKeyTTL
}

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
