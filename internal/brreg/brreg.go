// Package brreg looks up an organisation's name in Brønnøysund's
// Enhetsregisteret (data.brreg.no, open, no key), so the wizard can ask the
// customer to confirm the company before sending them to Altinn. The
// simulator serves a fake register with the same API (internal/sim/brreg.go).
//
// The lookup is a friendly early check, never a gate: Altinn checks the
// number itself. A caller treats ErrUnavailable as "go on without a name".
package brreg

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/onboard-altinn/onboard/internal/orgno"
)

// Errors returned by Lookup.
var (
	// ErrUnknown: no entity or sub-unit has that number in this register
	// (404 on both /enheter and /underenheter), or the number is malformed.
	ErrUnknown = errors.New("brreg: no organisation with that number")
	// ErrDeleted: the entity is deleted (a slettedato) or removed for legal
	// reasons (410 Gone). Lookup returns the Entity too, with what is known.
	ErrDeleted = errors.New("brreg: organisation deleted")
	// ErrUnavailable: the register did not answer in time, answered 429,
	// 5xx or anything unexpected, or with a body that could not be read.
	// Never cached.
	ErrUnavailable = errors.New("brreg: Enhetsregisteret unavailable")
)

// Entity is what the wizard and the dashboard need of one organisation.
type Entity struct {
	OrgNo     string
	Name      string // the registered name (usually upper case); "" when removed (410)
	Form      string // organisasjonsform.kode, e.g. "AS", "ENK", "BEDR"
	Deleted   bool
	DeletedOn string // slettedato, YYYY-MM-DD, when Deleted
	// ParentOrgNo is set for a sub-unit (overordnetEnhet): system users
	// belong to the legal entity, so the wizard offers that one instead.
	ParentOrgNo string
	Bankrupt    bool // konkurs
	WindingUp   bool // underAvvikling or underTvangsavviklingEllerTvangsopplosning
}

// SubUnit reports whether e is a sub-unit (underenhet) of another entity.
func (e Entity) SubUnit() bool { return e.ParentOrgNo != "" }

// Default base URLs; the simulator's is its own /enhetsregisteret/api.
const (
	ProdURL = "https://data.brreg.no/enhetsregisteret/api"
	TT02URL = "https://data.ppe.brreg.no/enhetsregisteret/api"
)

// MaxTimeout caps one Lookup (both requests, when a sub-unit is tried): the
// wizard waits for it, so a slow register must not hold the customer.
const MaxTimeout = 2 * time.Second

// Media types Enhetsregisteret versions its answers by.
const (
	acceptEntity  = "application/vnd.brreg.enhetsregisteret.enhet.v2+json"
	acceptSubUnit = "application/vnd.brreg.enhetsregisteret.underenhet.v2+json"
)

// How long answers are kept. The register changes slowly; an unknown number
// is kept shorter, as a new company may be registered the same day.
const (
	foundTTL   = 6 * time.Hour
	unknownTTL = time.Hour
	// DefaultCacheSize bounds the cache (entries, least recently used out).
	DefaultCacheSize = 10000
	maxBody          = 1 << 20
)

// DefaultUserAgent says who is asking, as public clients of the register do.
const DefaultUserAgent = "onboard/1 (Altinn system access onboarding; Enhetsregisteret name lookup)"

// Client looks organisations up in one register (one base URL) and caches
// the answers in memory. It is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
	// Timeout bounds one Lookup; New sets MaxTimeout, and a larger value
	// is cut to MaxTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request (DefaultUserAgent).
	UserAgent string
	// Now is the cache's clock (time.Now).
	Now func() time.Time

	group singleflight.Group
	cache *cache
}

// New returns a client for the register at baseURL (e.g. ProdURL, no
// trailing slash needed) using hc (nil: http.DefaultClient's transport).
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{
		base:      strings.TrimRight(baseURL, "/"),
		hc:        hc,
		Timeout:   MaxTimeout,
		UserAgent: DefaultUserAgent,
		Now:       time.Now,
		cache:     newCache(DefaultCacheSize),
	}
}

// Lookup finds orgNo (spaces allowed) in /enheter, then in /underenheter on
// a 404. It returns the Entity with a nil error when found and not deleted
// (check Bankrupt, WindingUp and ParentOrgNo); the Entity with ErrDeleted
// when deleted or removed; ErrUnknown when neither has it or the number is
// malformed; ErrUnavailable (wrapping the cause) when the register did not
// give a usable answer within Timeout. Found, deleted and unknown answers
// are cached for hours; unavailable ones never.
func (c *Client) Lookup(ctx context.Context, orgNo string) (Entity, error) {
	n, err := orgno.Normalize(orgNo)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	if r, ok := c.cache.get(n, c.Now()); ok {
		return r.entity, r.err
	}
	v, _, _ := c.group.Do(n, func() (any, error) {
		e, err := c.lookup(ctx, n)
		if err == nil || errors.Is(err, ErrDeleted) {
			c.cache.put(n, result{e, err}, c.Now().Add(foundTTL))
		} else if errors.Is(err, ErrUnknown) {
			c.cache.put(n, result{e, err}, c.Now().Add(unknownTTL))
		}
		return result{e, err}, nil
	})
	r := v.(result)
	return r.entity, r.err
}

func (c *Client) lookup(ctx context.Context, n string) (Entity, error) {
	d := c.Timeout
	if d <= 0 || d > MaxTimeout {
		d = MaxTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	e, err := c.get(ctx, "/enheter/", n, acceptEntity, false)
	if errors.Is(err, errNotFound) {
		e, err = c.get(ctx, "/underenheter/", n, acceptSubUnit, true)
		if errors.Is(err, errNotFound) {
			return Entity{}, ErrUnknown
		}
	}
	return e, err
}

// errNotFound is a 404 of one of the two paths.
var errNotFound = errors.New("brreg: 404")

func (c *Client) get(ctx context.Context, path, n, accept string, sub bool) (Entity, error) {
	url := c.base + path + n
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.UserAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: GET %s: %w", ErrUnavailable, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Entity{}, fmt.Errorf("%w: GET %s: reading the body: %w", ErrUnavailable, url, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if len(body) > maxBody || !isJSON(resp.Header.Get("Content-Type")) {
			return Entity{}, fmt.Errorf("%w: GET %s: not a JSON entity (%q, %d bytes)", ErrUnavailable, url, resp.Header.Get("Content-Type"), len(body))
		}
		e, err := parse(body, n, sub)
		if err != nil {
			return Entity{}, fmt.Errorf("%w: GET %s: %w", ErrUnavailable, url, err)
		}
		if e.Deleted {
			return e, ErrDeleted
		}
		return e, nil
	case http.StatusGone:
		// Removed for legal reasons; the body holds at most the number and
		// slettedato, so take what it has and nothing else.
		e := Entity{OrgNo: n, Deleted: true}
		if p, err := parse(body, n, sub); err == nil {
			e.DeletedOn = p.DeletedOn
		}
		return e, ErrDeleted
	case http.StatusNotFound:
		return Entity{}, errNotFound
	case http.StatusBadRequest:
		// The number passed our check, so the register says it cannot exist.
		return Entity{}, ErrUnknown
	default:
		return Entity{}, fmt.Errorf("%w: GET %s: status %d", ErrUnavailable, url, resp.StatusCode)
	}
}

// isJSON accepts application/json, the register's versioned
// application/vnd.brreg….v2+json, and a missing Content-Type.
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// result is one cached answer.
type result struct {
	entity Entity
	err    error
}

// cache is a size-bounded LRU of answers with an expiry each.
type cache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key     string
	r       result
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *cache) get(key string, now time.Time) (result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return result{}, false
	}
	ce := el.Value.(*cacheEntry)
	if !now.Before(ce.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		return result{}, false
	}
	c.ll.MoveToFront(el)
	return ce.r, true
}

func (c *cache) put(key string, r result, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = &cacheEntry{key, r, expires}
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key, r, expires})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// len reports the number of cached answers (tests).
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
