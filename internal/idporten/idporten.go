// Package idporten logs a person in with ID-porten, the OpenID Connect
// provider Altinn's person-facing APIs trust: the authorization code flow
// with PKCE (S256), state and nonce, the id_token verified against the
// provider's keys, and the client authenticated by private_key_jwt or a
// secret (../shared/altinn/clientdelegation.md §7).
//
// The flow's parts come from golang.org/x/oauth2 (the authorize URL, the
// code exchange, PKCE) and github.com/coreos/go-oidc (discovery, the JWKS,
// the id_token's signature, issuer, audience and expiry); this package adds
// only what ID-porten asks beyond them: the private_key_jwt assertion, the
// iss parameter on the way back (RFC 9207), the nonce and the acr level.
//
// A login's tokens are Secret: they print as "[redacted]" in logs and
// fmt output, and are meant to live only in a server-side session for the
// minutes they are needed.
package idporten

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// The scopes Altinn's client-delegation API needs, after openid.
var DefaultScopes = []string{oidc.ScopeOpenID, "altinn:clientdelegations.read", "altinn:clientdelegations.write"}

// Levels of assurance, lowest first (ID-porten's acr values).
const (
	LevelLow         = "idporten-loa-low"
	LevelSubstantial = "idporten-loa-substantial"
	LevelHigh        = "idporten-loa-high"
)

var levels = []string{LevelLow, LevelSubstantial, LevelHigh}

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionLifetime is the private_key_jwt's exp-iat; ID-porten takes
	// at most 120 s.
	assertionLifetime = 60 * time.Second
	// metadataTTL is how long the discovery document is kept (Digdir: about
	// a day).
	metadataTTL = 24 * time.Hour
	// MaxPending is how long a login may take from Begin to Complete.
	MaxPending  = 10 * time.Minute
	httpTimeout = 10 * time.Second
)

// Config configures a Client. Issuer, ClientID, RedirectURL and one of Key
// (with KeyID) or ClientSecret are required.
type Config struct {
	// Issuer is ID-porten's issuer, without a trailing slash:
	// https://test.idporten.no (TT02) or https://idporten.no.
	Issuer      string
	ClientID    string
	RedirectURL string
	// Scopes default to DefaultScopes.
	Scopes []string
	// ACR is the level asked for and the lowest accepted in the id_token;
	// LevelSubstantial by default.
	ACR string
	// Key and KeyID sign the private_key_jwt client assertion.
	Key   *rsa.PrivateKey
	KeyID string
	// ClientSecret is client_secret_post, when there is no Key.
	ClientSecret Secret
	// HTTPClient is used for discovery, the JWKS and the token call.
	HTTPClient *http.Client
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
}

// Secret is a token or secret: it never prints.
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString keeps %#v from printing it too.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps slog from printing it.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Reveal is the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Pending is what a login must remember between Begin and Complete, in the
// server-side session (never in a cookie as such: Verifier is a secret).
type Pending struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier Secret    `json:"verifier"`
	Begun    time.Time `json:"begun"`
}

// Login is a person logged in.
type Login struct {
	// Subject is ID-porten's pairwise sub for this client.
	Subject string
	// PID is the person's national identity number: personal data, kept
	// only as long as the login and never logged.
	PID Secret
	// ACR is the level the person logged in with.
	ACR string
	// AccessToken is what Altinn's token exchange takes.
	AccessToken Secret
	// Expiry is the access token's expiry.
	Expiry time.Time
	// Scope is the scope the access token was granted.
	Scope string
	// RefreshToken gets a new access token when this one runs out
	// (Refresh); "" when ID-porten gave none.
	RefreshToken Secret
}

// The ways a login fails that the page should tell apart. Others are
// ID-porten or the network failing.
var (
	// ErrState: the answer is not for the login this browser began (bad or
	// missing state), or there was none.
	ErrState = errors.New("idporten: the answer does not belong to this login")
	// ErrExpired: the login took longer than MaxPending.
	ErrExpired = errors.New("idporten: the login took too long")
	// ErrCancelled: the person cancelled, or ID-porten refused (error=...).
	ErrCancelled = errors.New("idporten: the login was cancelled or refused")
	// ErrLevel: the person logged in at a lower level than asked.
	ErrLevel = errors.New("idporten: the login's level of assurance is too low")
	// ErrToken: the token answer or the id_token did not pass the checks
	// (signature, issuer, audience, expiry, nonce).
	ErrToken = errors.New("idporten: the token did not pass the checks")
)

// Client runs logins against one ID-porten.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	fetched  time.Time
}

// New checks cfg and returns a Client; discovery happens on first use.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Issuer == "" || strings.HasSuffix(cfg.Issuer, "/"):
		return nil, errors.New("idporten: the issuer is required, without a trailing slash")
	case cfg.ClientID == "":
		return nil, errors.New("idporten: the client id is required")
	case cfg.RedirectURL == "":
		return nil, errors.New("idporten: the redirect URL is required")
	case cfg.Key == nil && cfg.ClientSecret == "":
		return nil, errors.New("idporten: a key (private_key_jwt) or a client secret is required")
	case cfg.Key != nil && cfg.KeyID == "":
		return nil, errors.New("idporten: the key needs its key id (kid)")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if cfg.ACR == "" {
		cfg.ACR = LevelSubstantial
	}
	if !slices.Contains(levels, cfg.ACR) {
		return nil, fmt.Errorf("idporten: acr %q is not one of %s", cfg.ACR, strings.Join(levels, ", "))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: httpTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// clientContext carries the HTTP client to x/oauth2 and go-oidc.
func (c *Client) clientContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, c.cfg.HTTPClient)
	return context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient)
}

// discover returns the provider, fetching the metadata when it is older
// than metadataTTL. The JWKS is go-oidc's, fetched as keys are needed.
func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil && c.cfg.Now().Sub(c.fetched) < metadataTTL {
		return c.provider, nil
	}
	// The provider keeps this context for its key fetches: not the
	// caller's, which ends with the request.
	p, err := oidc.NewProvider(c.clientContext(context.WithoutCancel(ctx)), c.cfg.Issuer)
	if err != nil {
		if c.provider != nil {
			return c.provider, nil // stale metadata beats none
		}
		return nil, fmt.Errorf("idporten: discovery: %w", err)
	}
	c.provider, c.fetched = p, c.cfg.Now()
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	oc := &oauth2.Config{ClientID: c.cfg.ClientID, Endpoint: ep, RedirectURL: c.cfg.RedirectURL, Scopes: c.cfg.Scopes}
	if c.cfg.Key == nil {
		oc.ClientSecret = c.cfg.ClientSecret.Reveal()
	}
	return oc
}

// Begin starts a login: the URL to send the browser to, and what to keep
// in the session until it comes back. lang is nb, nn or en (ui_locales).
func (c *Client) Begin(ctx context.Context, lang string) (string, Pending, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	pend := Pending{State: random(), Nonce: random(), Verifier: Secret(oauth2.GenerateVerifier()), Begun: c.cfg.Now()}
	opts := []oauth2.AuthCodeOption{
		oidc.Nonce(pend.Nonce),
		oauth2.S256ChallengeOption(pend.Verifier.Reveal()),
		oauth2.SetAuthURLParam("acr_values", c.cfg.ACR),
	}
	if slices.Contains([]string{"nb", "nn", "en", "se"}, lang) {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", lang))
	}
	return c.oauth(p).AuthCodeURL(pend.State, opts...), pend, nil
}

// Complete finishes the login the browser came back from with query q
// (the redirect URL's query): it checks the state, ID-porten's iss, the
// error parameter, exchanges the code with the PKCE verifier, and verifies
// the id_token (signature, issuer, audience, expiry, nonce, level).
func (c *Client) Complete(ctx context.Context, pend Pending, q url.Values) (*Login, error) {
	if pend.State == "" || q.Get("state") != pend.State {
		return nil, ErrState
	}
	if c.cfg.Now().Sub(pend.Begun) > MaxPending {
		return nil, ErrExpired
	}
	if iss := q.Get("iss"); iss != "" && iss != c.cfg.Issuer {
		// RFC 9207: an answer from another issuer (a mix-up attack).
		return nil, fmt.Errorf("%w: iss %q", ErrState, truncate(iss, 100))
	}
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("%w: %s", ErrCancelled, truncate(e, 100))
	}
	code := q.Get("code")
	if code == "" {
		return nil, fmt.Errorf("%w: no code", ErrToken)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(pend.Verifier.Reveal())}
	if c.cfg.Key != nil {
		assertion, err := c.assertion()
		if err != nil {
			return nil, err
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", assertionType),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	tok, err := c.oauth(p).Exchange(c.clientContext(ctx), code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, fmt.Errorf("%w: token: %s", ErrToken, truncate(re.ErrorCode, 100))
		}
		return nil, fmt.Errorf("idporten: token: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no id_token", ErrToken)
	}
	idt, err := p.VerifierContext(c.clientContext(context.WithoutCancel(ctx)),
		&oidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: id_token: %v", ErrToken, err)
	}
	if idt.Nonce != pend.Nonce {
		return nil, fmt.Errorf("%w: nonce", ErrToken)
	}
	var claims struct {
		PID string `json:"pid"`
		ACR string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: id_token claims: %v", ErrToken, err)
	}
	if slices.Index(levels, claims.ACR) < slices.Index(levels, c.cfg.ACR) {
		return nil, fmt.Errorf("%w: %q", ErrLevel, truncate(claims.ACR, 50))
	}
	scope, _ := tok.Extra("scope").(string)
	return &Login{Subject: idt.Subject, PID: Secret(claims.PID), ACR: claims.ACR,
		AccessToken: Secret(tok.AccessToken), Expiry: tok.Expiry, Scope: scope, RefreshToken: Secret(tok.RefreshToken)}, nil
}

// Refresh exchanges a login's refresh token for a new access token (and,
// as ID-porten rotates them, a new refresh token: the old one is spent).
// ID-porten's access tokens last minutes; a login that must outlast one
// refreshes. The answer has no id_token, so only AccessToken, Expiry, Scope
// and RefreshToken are set. A refusal (invalid_grant: spent, expired, or
// another client's) matches ErrToken.
func (c *Client) Refresh(ctx context.Context, refreshToken Secret) (*Login, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token", ErrToken)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken.Reveal()}, "client_id": {c.cfg.ClientID}}
	if c.cfg.Key != nil {
		assertion, err := c.assertion()
		if err != nil {
			return nil, err
		}
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", assertion)
	} else {
		form.Set("client_secret", c.cfg.ClientSecret.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("idporten: refresh: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("idporten: refresh: %w", err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
		Error        string `json:"error"`
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, 256<<10))
	if err := dec.Decode(&body); err != nil && res.StatusCode/100 == 2 {
		return nil, fmt.Errorf("%w: refresh: %v", ErrToken, err)
	}
	switch {
	case res.StatusCode >= 500:
		return nil, fmt.Errorf("idporten: refresh: %d", res.StatusCode)
	case res.StatusCode/100 != 2:
		return nil, fmt.Errorf("%w: refresh: %d %s", ErrToken, res.StatusCode, truncate(body.Error, 100))
	case body.AccessToken == "" || body.ExpiresIn <= 0:
		return nil, fmt.Errorf("%w: refresh: no access token", ErrToken)
	}
	return &Login{AccessToken: Secret(body.AccessToken), Expiry: c.cfg.Now().Add(time.Duration(body.ExpiresIn) * time.Second),
		Scope: body.Scope, RefreshToken: Secret(body.RefreshToken)}, nil
}

// assertion is the private_key_jwt: iss = sub = client id, aud = the
// issuer, signed RS256 with the key's kid.
func (c *Client) assertion() (string, error) {
	now := c.cfg.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: c.cfg.ClientID, Subject: c.cfg.ClientID, Audience: jwt.ClaimStrings{c.cfg.Issuer},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID: random(),
	})
	t.Header["kid"] = c.cfg.KeyID
	s, err := t.SignedString(c.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("idporten: sign the client assertion: %w", err)
	}
	return s, nil
}

// random is 32 bytes from crypto/rand, base64url: a state, nonce or jti.
func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
