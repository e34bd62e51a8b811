// Package altinn is the HTTP client for Altinn 3's system-user vendor API: it
// creates and reads requests for system users (standard and agent), deletes
// them, looks up the system users a customer has approved, and asks for
// changes to a system user's rights (change requests).
//
// The client is deliberately thin. It maps each endpoint to one method, turns
// every non-2xx answer into a *Problem that carries Altinn's AUTH-000NN code,
// and retries nothing except a single retry with a fresh token after a 401.
// Whether to retry a 5xx, or how to settle an ambiguous create, is the
// caller's decision, because creates are not idempotent. It does honour a
// Retry-After on a 429 or 5xx: until it passes, every call fails at once with
// a *HeldError and nothing is sent (see hold.go).
package altinn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Scopes that the vendor API asks for. Each client method sends exactly one
// of them, as the contract prescribes for its endpoint.
const (
	// ScopeRequestWrite is needed to create and delete requests and change
	// requests and, oddly, to query a system user by key (GET
	// systemuser/vendor/byquery).
	ScopeRequestWrite = "altinn:authentication/systemuser.request.write"
	// ScopeRequestRead is needed for every GET on request/vendor/... and
	// changerequest/vendor/...
	ScopeRequestRead = "altinn:authentication/systemuser.request.read"
	// ScopeSystemRegisterWrite is needed to list a system's system users.
	ScopeSystemRegisterWrite = "altinn:authentication/systemregister.write"
)

const (
	apiPath        = "/authentication/api/v1/systemuser/"
	userAgent      = "onboard/1"
	defaultTimeout = 30 * time.Second
	// maxBodyBytes bounds how much of a response is read. A page of 50
	// system users is a few tens of KiB.
	maxBodyBytes = 4 << 20
	// defaultMaxPages stops ListSystemUsers from following next links
	// forever should Altinn hand out an endless chain of them.
	defaultMaxPages = 10000
)

// TokenSource gives Maskinporten access tokens for the vendor's own
// Maskinporten client. It is implemented by *maskinporten.Client and declared
// here, at the consumer, so that tests can pass a fake.
type TokenSource interface {
	// Token returns an access token carrying scopes, usually from a cache.
	Token(ctx context.Context, scopes ...string) (string, error)
	// Invalidate drops the cached token for scopes, so that the next Token
	// call fetches a new one. The client calls it after Altinn answers 401.
	Invalidate(scopes ...string)
}

// Client calls Altinn's system-user vendor API with Maskinporten tokens from
// a TokenSource. It is safe for concurrent use; build one per environment
// (TT02, production), since base URL and tokens belong together.
type Client struct {
	base     *url.URL // parsed baseURL, trailing slash removed
	baseErr  error    // why baseURL or tokens are unusable; returned by every call
	tokens   TokenSource
	hc       *http.Client
	timeout  time.Duration    // each call's deadline (see httpClient)
	now      func() time.Time // for Retry-After HTTP-dates
	maxPages int              // loop guard for ListSystemUsers

	holdMu    sync.Mutex
	notBefore time.Time // no call is sent before this (Retry-After); see hold.go
}

// New returns a Client for the Altinn platform at baseURL, for example
// "https://platform.tt02.altinn.no"; a trailing slash is fine. Requests go to
// baseURL+"/authentication/api/v1/...". When hc is nil a client with a 30 s
// timeout is used. New does no I/O; a baseURL that is not an absolute http(s)
// URL, or a nil tokens, makes every method return an error instead of
// panicking here.
func New(baseURL string, tokens TokenSource, hc *http.Client) *Client {
	c := &Client{tokens: tokens, now: time.Now, maxPages: defaultMaxPages}
	c.hc, c.timeout = httpClient(hc)
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	switch {
	case err != nil:
		c.baseErr = fmt.Errorf("altinn: base URL %q: %w", baseURL, err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.baseErr = fmt.Errorf("altinn: base URL %q is not an absolute http(s) URL", baseURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		c.baseErr = fmt.Errorf("altinn: base URL %q must not carry a query, fragment or user info", baseURL)
	case tokens == nil:
		c.baseErr = errors.New("altinn: no TokenSource")
	}
	c.base = u
	return c
}

// httpClient is hc (nil: one with a 30 s timeout) as the clients use it: its
// Timeout moves from the http.Client to a deadline on each call's context
// (withTimeout), which bounds the call, its redirects and the reading of its
// body alike, and fails it as "context deadline exceeded" whatever
// RoundTripper carries it. (An http.Client times out a RoundTripper it does
// not know, such as the service's metrics transport, by cancelling the
// request, which reads as "request canceled".)
func httpClient(hc *http.Client) (*http.Client, time.Duration) {
	if hc == nil {
		return &http.Client{}, defaultTimeout
	}
	if hc.Timeout <= 0 {
		return hc, 0
	}
	cp := *hc
	cp.Timeout = 0
	return &cp, hc.Timeout
}

// withTimeout is ctx bounded by the client's timeout d (none: ctx as it is).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// endpoint is one call: what to send, and how to name it in errors.
type endpoint struct {
	method string
	tmpl   string // path template for errors, e.g. "request/vendor/{id}"
	// name is the call's name in Operation when it is shorter than tmpl
	// ("request/vendor/byexternalref"); "" means tmpl.
	name  string
	url   string // absolute URL to call
	scope string
	body  any // marshalled as JSON when non-nil
	// person is a person's token (clients.go): sent instead of a
	// Maskinporten token for scope, and never refreshed here.
	person string
}

// op names the call in errors: "GET request/vendor/{id}".
func (e endpoint) op() string { return e.method + " " + e.tmpl }

// operation names the call in Operation.
func (e endpoint) operation() string {
	if e.name != "" {
		return e.method + " " + e.name
	}
	return e.op()
}

type operationKey struct{}

// withOperation is ctx carrying e's name for Operation.
func withOperation(ctx context.Context, e endpoint) context.Context {
	return context.WithValue(ctx, operationKey{}, e.operation())
}

// Operation names the Altinn call req is, as this package's clients name it
// ("GET request/vendor/{id}", "GET systemuser/vendor/bysystem/{systemId}",
// "GET accesspackages/package/urn/{urn}"): the same names as the calls on an
// onboarding's timeline, and never an id or organisation number. A request
// the clients did not make is "other". It is for an http.RoundTripper under
// the clients (the service's metrics, internal/metrics.Transport), which
// sees every request they send, each retry and page included, and none that
// was held back (Retry-After) or never got a token.
func Operation(req *http.Request) string {
	if op, ok := req.Context().Value(operationKey{}).(string); ok {
		return op
	}
	return "other"
}

// Gate bounds how many calls are under way at Altinn at once among those
// made with a context that carries it (WithGate): a bulk campaign's "Altinn
// calls at once", whatever its rows do in the database around their calls.
// A call waits for its turn before its timeout starts.
type Gate chan struct{}

// NewGate lets n calls through at once.
func NewGate(n int) Gate { return make(Gate, max(n, 1)) }

type gateKey struct{}

// WithGate is ctx with g bounding the Altinn calls made with it.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// enter waits for a turn at ctx's gate, if it has one, and returns the
// function that gives it back.
func enter(ctx context.Context, e endpoint) (func(), error) {
	g, _ := ctx.Value(gateKey{}).(Gate)
	if g == nil {
		return func() {}, nil
	}
	select {
	case g <- struct{}{}:
		return func() { <-g }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("altinn: %s: %w", e.op(), ctx.Err())
	}
}

// urlFor builds the absolute URL of rel (relative to .../systemuser/), whose
// segments the caller has already escaped.
func (c *Client) urlFor(rel string) string {
	if c.base == nil {
		return "" // New failed to parse the base URL; do returns baseErr
	}
	return c.base.String() + apiPath + rel
}

// response is a 2xx answer, read in full.
type response struct {
	status int
	body   []byte
}

// do sends e, retrying once with a fresh token if Altinn answers 401. It
// returns the 2xx response, a *Problem for any other status, or a wrapped
// transport or token error.
func (c *Client) do(ctx context.Context, e endpoint) (*response, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var payload []byte
	if e.body != nil {
		var err error
		if payload, err = json.Marshal(e.body); err != nil {
			return nil, fmt.Errorf("altinn: %s: encode body: %w", e.op(), err)
		}
	}
	for attempt := 0; ; attempt++ {
		if until := c.NotBefore(); !until.IsZero() {
			return nil, &HeldError{Op: e.op(), Until: until}
		}
		token := e.person
		if token == "" {
			var err error
			if token, err = c.tokens.Token(ctx, e.scope); err != nil {
				return nil, fmt.Errorf("altinn: %s: get token: %w", e.op(), err)
			}
		}
		status, header, body, err := c.send(ctx, e, payload, token)
		if err != nil {
			return nil, err
		}
		if status >= 200 && status < 300 {
			return &response{status: status, body: body}, nil
		}
		if status == http.StatusUnauthorized && attempt == 0 && e.person == "" {
			// The token may have been revoked or have expired early: get
			// a new one and try once more. A second 401 is returned.
			c.tokens.Invalidate(e.scope)
			continue
		}
		p := parseProblem(status, header, redact(body, token), c.now())
		c.holdFor(p)
		return nil, p
	}
}

// send makes one HTTP request and reads the whole response.
func (c *Client) send(ctx context.Context, e endpoint, payload []byte, token string) (int, http.Header, []byte, error) {
	leave, err := enter(ctx, e)
	if err != nil {
		return 0, nil, nil, err
	}
	defer leave()
	// A call may have waited at the gate behind one that Altinn answered
	// with a Retry-After: it is held as a call made after that answer is
	// (do's check came before its wait).
	if until := c.NotBefore(); !until.IsZero() {
		return 0, nil, nil, &HeldError{Op: e.op(), Until: until}
	}
	ctx, cancel := withTimeout(ctx, c.timeout)
	defer cancel() // once the body is read
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(withOperation(ctx, e), e.method, e.url, body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("altinn: %s: build request: %w", e.op(), err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("altinn: %s: %w", e.op(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("altinn: %s: read response: %w", e.op(), err)
	}
	if len(b) > maxBodyBytes {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return 0, nil, nil, malformed(e, fmt.Errorf("body longer than %d bytes", maxBodyBytes))
		}
		b = b[:maxBodyBytes]
	}
	return resp.StatusCode, resp.Header, b, nil
}

// redact removes the bearer token from an error body, in case a server or
// proxy echoes request headers, so that it never reaches an error message.
func redact(body []byte, token string) []byte {
	if token == "" || !bytes.Contains(body, []byte(token)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(token), []byte("[REDACTED]"))
}

// decode unmarshals a 2xx body into v, reporting failure as ErrMalformed.
func decode(e endpoint, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return malformed(e, err)
	}
	return nil
}

// malformedError is a 2xx answer whose body cannot be decoded. It matches
// both ErrMalformed and the underlying decoding error.
type malformedError struct {
	op  string
	err error
}

func malformed(e endpoint, err error) error { return &malformedError{op: e.op(), err: err} }

func (e *malformedError) Error() string {
	return "altinn: " + e.op + ": malformed response: " + e.err.Error()
}

func (e *malformedError) Unwrap() []error { return []error{ErrMalformed, e.err} }

// flexTime decodes Altinn's date-times leniently. Old servers send
// "0001-01-01T00:00:00" without a zone, some fields may be null or missing,
// and a bad timestamp is not worth failing a whole response for: anything
// unparseable becomes the zero time.
type flexTime time.Time

// timeLayouts are tried in order; the zoneless ones are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func (t *flexTime) UnmarshalJSON(b []byte) error {
	*t = flexTime{}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return nil // null, a number, an object: tolerated as "unknown"
	}
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			*t = flexTime(v)
			return nil
		}
	}
	return nil
}
