// Package maskinporten gets access tokens from Maskinporten with the JWT-bearer
// grant (RFC 7523), so that the rest of onboard can call Altinn's vendor APIs
// without knowing how the grant is built, signed or cached.
//
// A Client signs a fresh grant for every token request, caches the resulting
// access token per scope set until shortly before it expires, and makes sure
// that concurrent callers asking for the same scopes share one request.
package maskinporten

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
)

const (
	grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	wellKnownPath      = ".well-known/oauth-authorization-server"

	defaultHTTPTimeout   = 10 * time.Second
	defaultGrantLifetime = 60 * time.Second
	maxGrantLifetime     = 120 * time.Second // Maskinporten rejects exp-iat > 120 s.
	defaultRefreshMargin = 30 * time.Second

	// fetchTimeout bounds one token fetch (discovery plus POST). It is needed
	// because the fetch runs detached from the caller's context so that one
	// impatient caller cannot fail the fetch for everybody sharing it.
	fetchTimeout = 30 * time.Second

	maxBodyBytes  = 1 << 20 // a token response is a few KiB
	maxErrorChars = 200     // Description length taken from a non-JSON error body
	minKeyBits    = 2048    // Maskinporten requires RSA keys of at least 2048 bits
)

// Config configures a Client. Issuer, ClientID, KeyID and Key are required;
// the rest have defaults suitable for production.
type Config struct {
	// Issuer is the Maskinporten issuer identifier, e.g.
	// "https://test.maskinporten.no/". It is used verbatim as the grant's aud,
	// so copy it from the metadata document, trailing slash included.
	Issuer string
	// TokenEndpoint is optional. When empty it is discovered once from
	// Issuer's ".well-known/oauth-authorization-server" document, falling back
	// to Issuer+"token" when discovery fails.
	TokenEndpoint string
	// ClientID is the Maskinporten client_id, sent as the grant's iss.
	ClientID string
	// KeyID is the kid of the public key registered on the client.
	KeyID string
	// Key signs the grants. It must be RSA with at least 2048 bits.
	Key *rsa.PrivateKey
	// HTTPClient is optional; the default has a 10 s timeout.
	HTTPClient *http.Client
	// Now is an optional clock, for tests.
	Now func() time.Time
	// GrantLifetime is exp-iat of each grant: default 60 s, at most 120 s.
	GrantLifetime time.Duration
	// RefreshMargin is how long before expiry a cached token is replaced:
	// default 30 s. Tokens living shorter than the margin are replaced at
	// half their lifetime instead.
	RefreshMargin time.Duration
}

// Client gets Maskinporten access tokens and caches them per scope set. It is
// safe for concurrent use; build one per Maskinporten client and environment,
// so that test and production tokens never share a cache.
type Client struct {
	cfg   Config
	hc    *http.Client
	now   func() time.Time
	group singleflight.Group

	fetches atomic.Int64

	mu       sync.Mutex
	endpoint string            // token endpoint, once known
	cache    map[string]cached // by scopeKey
}

// cached is a token and the moment it stops being handed out.
type cached struct {
	token     string
	refreshAt time.Time
}

// New validates cfg, fills in defaults and returns a Client. It does no I/O:
// the token endpoint, if not configured, is discovered on the first fetch.
func New(cfg Config) (*Client, error) {
	if err := checkURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("maskinporten: Issuer: %w", err)
	}
	if cfg.TokenEndpoint != "" {
		if err := checkURL(cfg.TokenEndpoint); err != nil {
			return nil, fmt.Errorf("maskinporten: TokenEndpoint: %w", err)
		}
	}
	switch {
	case cfg.ClientID == "":
		return nil, errors.New("maskinporten: ClientID is required")
	case cfg.KeyID == "":
		return nil, errors.New("maskinporten: KeyID is required")
	case cfg.Key == nil:
		return nil, errors.New("maskinporten: Key is required")
	case cfg.Key.N.BitLen() < minKeyBits:
		return nil, fmt.Errorf("maskinporten: Key has %d bits, Maskinporten needs at least %d", cfg.Key.N.BitLen(), minKeyBits)
	}
	if cfg.GrantLifetime == 0 {
		cfg.GrantLifetime = defaultGrantLifetime
	}
	if cfg.GrantLifetime < time.Second || cfg.GrantLifetime > maxGrantLifetime {
		return nil, fmt.Errorf("maskinporten: GrantLifetime %v is outside 1s..%v", cfg.GrantLifetime, maxGrantLifetime)
	}
	if cfg.RefreshMargin == 0 {
		cfg.RefreshMargin = defaultRefreshMargin
	}
	if cfg.RefreshMargin < 0 {
		return nil, fmt.Errorf("maskinporten: RefreshMargin %v is negative", cfg.RefreshMargin)
	}
	c := &Client{cfg: cfg, hc: cfg.HTTPClient, now: cfg.Now, endpoint: cfg.TokenEndpoint, cache: map[string]cached{}}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// checkURL reports an error unless s is an absolute http(s) URL, so that a
// misconfigured endpoint fails at start-up rather than on the first fetch.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// Token returns an access token for scopes, from the cache when it is not
// about to expire, otherwise from the token endpoint. Concurrent calls for the
// same scope set share one fetch; if ctx ends first Token returns ctx.Err()
// and the fetch carries on for the others.
//
// Token returns an error when scopes is empty or holds an empty or
// space-containing scope, a *Error when the token endpoint answers with a
// non-2xx status, and a plain error for transport failures and malformed
// responses. Failures are not cached.
func (c *Client) Token(ctx context.Context, scopes ...string) (string, error) {
	key, err := scopeKey(scopes)
	if err != nil {
		return "", err
	}
	if tok, ok := c.cached(key); ok {
		return tok, nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ch := c.group.DoChan(key, func() (any, error) {
		// A caller may have missed the cache just before the previous
		// fetch for key stored its token; don't fetch again for it.
		if tok, ok := c.cached(key); ok {
			return tok, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		return c.fetch(fctx, key)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// Invalidate drops the cached token for scopes, so that the next Token call
// fetches a new one. Call it after an API rejects the token with 401.
func (c *Client) Invalidate(scopes ...string) {
	key, err := scopeKey(scopes)
	if err != nil {
		return
	}
	c.mu.Lock()
	delete(c.cache, key)
	c.mu.Unlock()
}

// Fetches returns the number of POSTs made to the token endpoint so far, for
// tests and metrics.
func (c *Client) Fetches() int64 { return c.fetches.Load() }

// scopeKey returns the scopes sorted, de-duplicated and space-separated: the
// cache key and the grant's scope claim.
func scopeKey(scopes []string) (string, error) {
	if len(scopes) == 0 {
		return "", errors.New("maskinporten: at least one scope is required")
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return "", fmt.Errorf("maskinporten: invalid scope %q", s)
		}
	}
	s := slices.Clone(scopes)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " "), nil
}

// cached returns the cached token for key unless it is due for refresh.
func (c *Client) cached(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || !c.now().Before(e.refreshAt) {
		return "", false
	}
	return e.token, true
}

// tokenResponse is the success body of the token endpoint.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// fetch gets a new token for scope (a scopeKey) and caches it.
func (c *Client) fetch(ctx context.Context, scope string) (string, error) {
	res, err := c.exchange(ctx, scope, nil)
	if err != nil {
		return "", err
	}
	if res.ExpiresIn > 0 {
		lifetime := res.ExpiresIn
		margin := c.cfg.RefreshMargin
		if lifetime < margin {
			margin = lifetime / 2
		}
		c.mu.Lock()
		c.cache[scope] = cached{token: res.AccessToken, refreshAt: res.Received.Add(lifetime - margin)}
		c.mu.Unlock()
	}
	// Without expires_in the token is handed out once and not cached.
	return res.AccessToken, nil
}

// exchange signs a grant for scope (with authorization_details when details
// is not nil), posts it to the token endpoint and reads the answer. Nothing
// is cached.
func (c *Client) exchange(ctx context.Context, scope string, details any) (*Result, error) {
	endpoint := c.tokenEndpoint(ctx)
	assertion, err := c.grant(scope, details)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("maskinporten: build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	c.fetches.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("maskinporten: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("maskinporten: read token response (status %d): %w", resp.StatusCode, err)
	}
	res := &Result{Received: c.now()}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		res.ServerDate = d
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := parseError(resp.StatusCode, body)
		e.ServerDate = res.ServerDate
		return nil, e
	}

	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("maskinporten: decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("maskinporten: token response has no access_token")
	}
	res.AccessToken, res.Scope = tr.AccessToken, tr.Scope
	if tr.ExpiresIn > 0 {
		// Capped where a Duration ends: a larger expires_in would wrap round
		// to a negative (or a short) lifetime.
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		res.ExpiresIn = time.Duration(min(tr.ExpiresIn, maxSeconds)) * time.Second
	}
	return res, nil
}

// grant returns a freshly signed JWT-bearer grant for scope. Every grant gets
// a new jti, since Maskinporten rejects a reused one (MP-012).
func (c *Client) grant(scope string, details any) (string, error) {
	jti, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("maskinporten: generate jti: %w", err)
	}
	iat := c.now().Unix()
	claims := jwt.MapClaims{
		// aud must be a JSON string, so no RegisteredClaims: its
		// ClaimStrings encodes a single audience as an array by default.
		"aud":   c.cfg.Issuer,
		"iss":   c.cfg.ClientID,
		"iat":   iat,
		"exp":   iat + int64(c.cfg.GrantLifetime/time.Second),
		"jti":   jti.String(),
		"scope": scope,
	}
	if details != nil {
		claims["authorization_details"] = details
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = c.cfg.KeyID
	s, err := t.SignedString(c.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("maskinporten: sign grant: %w", err)
	}
	return s, nil
}

// tokenEndpoint returns the configured or discovered token endpoint. Discovery
// reads the issuer's RFC 8414 metadata; when the server answers without a
// usable document it falls back to Issuer+"token" for good, and when it cannot
// be reached it falls back for this fetch only and tries again next time.
func (c *Client) tokenEndpoint(ctx context.Context) string {
	c.mu.Lock()
	endpoint := c.endpoint
	c.mu.Unlock()
	if endpoint != "" {
		return endpoint
	}
	base := strings.TrimSuffix(c.cfg.Issuer, "/") + "/"
	endpoint, answered := c.discover(ctx, base)
	if endpoint == "" {
		endpoint = base + "token"
	}
	if answered {
		c.mu.Lock()
		c.endpoint = endpoint
		c.mu.Unlock()
	}
	return endpoint
}

// discover returns the token_endpoint from the metadata at base, or "" when
// there is none. answered reports whether the server gave an HTTP response.
func (c *Client) discover(ctx context.Context, base string) (endpoint string, answered bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+wellKnownPath, nil)
	if err != nil {
		return "", false
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", true
	}
	var meta struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBodyBytes)).Decode(&meta); err != nil {
		return "", true
	}
	// RFC 8414 §3.3: metadata naming another issuer must not be used.
	if meta.Issuer != "" && strings.TrimSuffix(meta.Issuer, "/")+"/" != base {
		return "", true
	}
	if checkURL(meta.TokenEndpoint) != nil {
		return "", true
	}
	return meta.TokenEndpoint, true
}
