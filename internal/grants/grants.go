// Package grants names what a customer is asked to grant, in words: the
// names and descriptions of access packages from Altinn's metadata API and of
// single rights from the Resource Registry (shared/altinn/metadata.md), by
// language, cached in memory.
//
// It is its own package, not a part of internal/altinn, because it is about
// what a page shows rather than about talking to Altinn: it falls back to
// the service's own texts (internal/i18n's package.* and right.* keys) and
// last to a readable form of the id, so a page never shows a raw URN and
// never waits long for Altinn.
package grants

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/i18n"
)

// Kind is what a grant is: a single right or an access package.
type Kind int

const (
	// Right is a single right, named by its resource id
	// ("ske-krav-og-betalinger").
	Right Kind = iota
	// Package is an access package, named by its URN
	// ("urn:altinn:accesspackage:skattegrunnlag").
	Package
)

// Text is a grant in words, in one language.
type Text struct {
	Name        string
	Description string // "" when nothing better than the name is known
}

// Source reads Altinn's texts (*altinn.Metadata).
type Source interface {
	PackageIn(ctx context.Context, urn, lang string) (*altinn.PackageInfo, error)
	Resource(ctx context.Context, id string) (*altinn.Resource, error)
}

// Defaults of a Cache's settings.
const (
	// DefaultTTL is how long Altinn's texts are kept before they are asked
	// for again: packages are seeded from code and change rarely (§4).
	DefaultTTL = 24 * time.Hour
	// DefaultRetry is how long a failed fetch is not tried again, so a down
	// Altinn costs a page no wait at all in between.
	DefaultRetry = time.Minute
	// DefaultWait is how long a page waits for a fetch it started.
	DefaultWait = time.Second
	// DefaultFetchTimeout bounds a fetch, which goes on after the page
	// has stopped waiting so that the next page has the text.
	DefaultFetchTimeout = 10 * time.Second
)

// Cache keeps Altinn's texts by (id, language). It fills an entry on first
// use and asks again once it is older than TTL; concurrent first callers
// share one fetch. It is safe for concurrent use. A nil *Cache names every
// grant by the service's own texts.
type Cache struct {
	src Source
	// TTL, Retry, Wait and FetchTimeout are the Default* values unless set
	// before first use.
	TTL, Retry, Wait, FetchTimeout time.Duration
	// Now is the clock of expiry (time.Now when nil); Wait is real time.
	Now func() time.Time
	Log *slog.Logger

	mu      sync.Mutex
	entries map[key]*entry
	flight  singleflight.Group
}

type key struct {
	kind     Kind
	id, lang string
}

// entry is what is known of one (id, language).
type entry struct {
	text    Text
	found   bool      // text is Altinn's
	expires time.Time // ask again from then on
}

// New returns a Cache reading from src.
func New(src Source, log *slog.Logger) *Cache {
	return &Cache{src: src, Log: log}
}

// Name returns the grant id of kind in lang, in words: Altinn's name and
// description when Altinn gives them in time, else the service's own name
// for it (i18n's right.<id> or package.<urn>), else a readable form of id.
// It waits at most Wait for Altinn, and not at all while an answer is fresh
// or a failure recent.
func (c *Cache) Name(ctx context.Context, kind Kind, id, lang string) Text {
	// A name that is just the id (the simulator's made-up resources) is
	// no name.
	if t, ok := c.lookup(ctx, kind, id, lang); ok && t.Name != "" && t.Name != id {
		return t
	}
	prefix := "right."
	if kind == Package {
		prefix = "package."
	}
	if s := i18n.T(lang, prefix+id); s != prefix+id {
		return Text{Name: s}
	}
	return Text{Name: Readable(id)}
}

// Names names rights and packages in lang at once, as Name does, waiting
// for Altinn at most Wait in all.
func (c *Cache) Names(ctx context.Context, lang string, rights, packages []string) (r, p []Text) {
	r, p = make([]Text, len(rights)), make([]Text, len(packages))
	var wg sync.WaitGroup
	for i, id := range rights {
		wg.Go(func() { r[i] = c.Name(ctx, Right, id, lang) })
	}
	for i, id := range packages {
		wg.Go(func() { p[i] = c.Name(ctx, Package, id, lang) })
	}
	wg.Wait()
	return r, p
}

// Warm fetches every id of kind in every offered language, so the first
// customers need not wait. It returns when all are fetched or ctx is done.
func (c *Cache) Warm(ctx context.Context, kind Kind, ids ...string) {
	if c == nil {
		return
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		for _, lang := range i18n.Languages {
			wg.Go(func() {
				c.mu.Lock()
				_, known := c.entries[key{kind, id, lang}]
				c.mu.Unlock()
				if !known {
					select {
					case <-c.fetch(ctx, kind, id, lang):
					case <-ctx.Done():
					}
				}
			})
		}
	}
	wg.Wait()
}

// lookup returns Altinn's text for (kind, id, lang) and whether there is
// one: fresh from the cache, fetched within Wait, or stale when a fetch
// fails or is slow.
func (c *Cache) lookup(ctx context.Context, kind Kind, id, lang string) (Text, bool) {
	if c == nil || c.src == nil || strings.TrimSpace(id) == "" {
		return Text{}, false
	}
	k := key{kind, id, lang}
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	if e != nil && c.now().Before(e.expires) {
		return e.text, e.found
	}
	done := c.fetch(context.WithoutCancel(ctx), kind, id, lang)
	wait := time.NewTimer(c.setting(c.Wait, DefaultWait))
	defer wait.Stop()
	select {
	case <-done:
		c.mu.Lock()
		e = c.entries[k]
		c.mu.Unlock()
	case <-wait.C:
	case <-ctx.Done():
	}
	if e == nil {
		return Text{}, false
	}
	return e.text, e.found
}

// fetch asks Altinn for (kind, id, lang), once for all concurrent callers
// (a resource once for all its languages), and stores the answer. The
// channel tells when it is stored; the fetch goes on if nobody waits.
func (c *Cache) fetch(ctx context.Context, kind Kind, id, lang string) <-chan singleflight.Result {
	flightKey := "package\x00" + id + "\x00" + lang
	if kind == Right {
		flightKey = "right\x00" + id
	}
	return c.flight.DoChan(flightKey, func() (any, error) {
		// A caller that found no fresh entry just before the last fetch
		// ended would otherwise fetch again.
		c.mu.Lock()
		e := c.entries[key{kind, id, lang}]
		c.mu.Unlock()
		if e != nil && c.now().Before(e.expires) {
			return nil, nil
		}
		ctx, cancel := context.WithTimeout(ctx, c.setting(c.FetchTimeout, DefaultFetchTimeout))
		defer cancel()
		texts := map[string]Text{}
		langs := i18n.Languages
		var err error
		switch kind {
		case Package:
			langs = []string{lang}
			var p *altinn.PackageInfo
			if p, err = c.src.PackageIn(ctx, id, lang); err == nil {
				texts[lang] = Text{Name: strings.TrimSpace(p.Name), Description: strings.TrimSpace(p.Description)}
			}
		default:
			var r *altinn.Resource
			if r, err = c.src.Resource(ctx, id); err == nil {
				for _, l := range i18n.Languages {
					texts[l] = rightText(r.In(l))
				}
			}
		}
		c.store(kind, id, langs, texts, err)
		return nil, err
	})
}

// store records a fetch's answer for langs: texts by language, or err. An
// unknown id is remembered as unknown (in every language) for TTL; after
// another failure a stale text is kept and the fetch is not tried again for
// Retry.
func (c *Cache) store(kind Kind, id string, langs []string, texts map[string]Text, err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[key]*entry{}
	}
	ttl := c.setting(c.TTL, DefaultTTL)
	switch {
	case err == nil:
		for lang, t := range texts {
			c.entries[key{kind, id, lang}] = &entry{text: t, found: t.Name != "", expires: now.Add(ttl)}
		}
	case errors.Is(err, altinn.ErrNotFound):
		c.log().Warn("grants: Altinn does not know a configured grant; its own name is shown", "id", id, "err", err)
		for _, lang := range i18n.Languages {
			c.entries[key{kind, id, lang}] = &entry{expires: now.Add(ttl)}
		}
	default:
		c.log().Warn("grants: reading a grant's texts from Altinn failed; trying again later", "id", id, "err", err)
		retry := now.Add(c.setting(c.Retry, DefaultRetry))
		for _, lang := range langs {
			k := key{kind, id, lang}
			if e := c.entries[k]; e != nil {
				c.entries[k] = &entry{text: e.text, found: e.found, expires: retry}
			} else {
				c.entries[k] = &entry{expires: retry}
			}
		}
	}
}

// rightText is a right's words: its title, and what a right on it lets one
// do (rightDescription), else what the resource is (description).
func rightText(t altinn.ResourceText) Text {
	desc := t.RightDescription
	if desc == "" || desc == t.Title {
		desc = t.Description
	}
	if desc == t.Title {
		desc = ""
	}
	return Text{Name: t.Title, Description: desc}
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) setting(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func (c *Cache) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Readable is id in words, for a grant nobody has named: a URN's last part
// ("urn:altinn:accesspackage:regnskapsforer-lonn" → "Regnskapsforer lonn"),
// dashes and underscores as spaces, the first letter upper case.
func Readable(id string) string {
	id = strings.TrimSpace(id)
	if i := strings.LastIndexByte(id, ':'); i >= 0 && strings.HasPrefix(strings.ToLower(id), "urn:") {
		id = id[i+1:]
	}
	id = strings.Join(strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || unicode.IsSpace(r) }), " ")
	r, n := utf8.DecodeRuneInString(id)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + id[n:]
}
