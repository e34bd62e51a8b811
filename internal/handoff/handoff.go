// Package handoff verifies the signed token with which the vendor's product
// sends a signed-in customer to /start: who the customer is (organisation
// number, the product's own customer reference), their language and where to
// send them back. The token is a JWT signed with HS256 (a shared secret) or
// RS256/ES256 (the vendor's private key; the service holds the public key).
package handoff

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

// Why a token is refused. Every refusal Verify returns wraps one of these;
// any other error is the jti store failing.
var (
	ErrInvalid   = errors.New("handoff: invalid token")          // malformed, bad signature, wrong algorithm, wrong audience, bad claims
	ErrExpired   = errors.New("handoff: token expired")          // exp passed, or a lifetime longer than allowed
	ErrReplayed  = errors.New("handoff: token already used")     // its jti was seen before
	ErrReturnURL = errors.New("handoff: return URL not allowed") // not https, or a host off the allowlist
	ErrProduct   = errors.New("handoff: unknown product")
)

// Leeway is the clock skew allowed between the vendor's servers and ours.
const Leeway = 30 * time.Second

// JTIStore remembers the token ids already used. Use records jti until
// expires and returns ErrReplayed when it was recorded before.
type JTIStore interface {
	UseHandoffJTI(ctx context.Context, jti string, expires time.Time) (fresh bool, err error)
}

// Config is what the Verifier needs.
type Config struct {
	HS256Secret  []byte // shared secret, 32+ bytes; nil: HS256 not accepted
	PublicKeyPEM []byte // PEM RSA or EC P-256 public key; nil: RS256/ES256 not accepted
	ReturnHosts  []string
	MaxAge       time.Duration // longest exp - iat accepted
	Audience     string        // the service's public URL
	Products     []string      // known product ids; the first is the default
	Dev          bool          // plain http return URLs allowed to loopback hosts
	JTIs         JTIStore
	Now          func() time.Time // tests; nil: time.Now
}

// Verifier checks hand-off tokens.
type Verifier struct {
	cfg     Config
	methods []string
	pub     any
}

// New builds a Verifier. It needs at least one key, return hosts and products.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{cfg: cfg}
	if len(cfg.HS256Secret) > 0 {
		if len(cfg.HS256Secret) < 32 {
			return nil, errors.New("handoff: the HS256 secret must be at least 32 bytes")
		}
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if len(cfg.PublicKeyPEM) > 0 {
		pub, alg, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		v.pub = pub
		v.methods = append(v.methods, alg)
	}
	switch {
	case len(v.methods) == 0:
		return nil, errors.New("handoff: no key configured")
	case len(cfg.ReturnHosts) == 0:
		return nil, errors.New("handoff: no return hosts configured")
	case len(cfg.Products) == 0:
		return nil, errors.New("handoff: no products")
	case cfg.MaxAge <= 0:
		return nil, errors.New("handoff: max age must be positive")
	case cfg.Audience == "":
		return nil, errors.New("handoff: no audience")
	case cfg.JTIs == nil:
		return nil, errors.New("handoff: no jti store")
	}
	return v, nil
}

// Methods lists the algorithms accepted, as configured.
func (v *Verifier) Methods() []string { return slices.Clone(v.methods) }

func parsePublicKey(b []byte) (any, string, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, "", errors.New("handoff: the public key file holds no PEM block")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("handoff: PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("handoff: public key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, "", errors.New("handoff: the RSA key must be at least 2048 bits")
		}
		return k, jwt.SigningMethodRS256.Alg(), nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New("handoff: the EC key must be on P-256 (ES256)")
		}
		return k, jwt.SigningMethodES256.Alg(), nil
	}
	return nil, "", fmt.Errorf("handoff: unsupported public key type %T", key)
}

// Claims are the token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Org         string `json:"org"`
	CustomerRef string `json:"customer_ref"`
	Lang        string `json:"lang"`
	ReturnURL   string `json:"return_url"`
	Product     string `json:"product,omitempty"`
}

// Handoff is a verified token, ready to start an onboarding.
type Handoff struct {
	Product     string
	OrgNo       string // normalised, nine digits
	CustomerRef string
	Lang        string
	ReturnURL   string
}

func (v *Verifier) now() time.Time {
	if v.cfg.Now != nil {
		return v.cfg.Now()
	}
	return time.Now()
}

// keyFor returns the one key for the token's algorithm: the secret for
// HS256, the public key for RS256/ES256. WithValidMethods has already
// refused any other algorithm (none among them).
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if len(v.cfg.HS256Secret) > 0 {
			return v.cfg.HS256Secret, nil
		}
	case *jwt.SigningMethodRSA:
		if k, ok := v.pub.(*rsa.PublicKey); ok {
			return k, nil
		}
	case *jwt.SigningMethodECDSA:
		if k, ok := v.pub.(*ecdsa.PublicKey); ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no key for %s", t.Method.Alg())
}

// Verify checks the token and, when everything else holds, uses up its jti.
// Every refusal wraps one of the Err values above.
func (v *Verifier) Verify(ctx context.Context, token string) (*Handoff, error) {
	if token == "" || len(token) > 8192 {
		return nil, fmt.Errorf("%w: empty or too long", ErrInvalid)
	}
	// The header's and claims' JSON as sent: encoding/json would turn
	// invalid UTF-8 into U+FFFD without a word, so the raw bytes are
	// looked at first.
	for i, seg := range strings.SplitN(token, ".", 3) {
		if i == 2 {
			break
		}
		if raw, err := base64.RawURLEncoding.DecodeString(seg); err == nil && !utf8.Valid(raw) {
			return nil, fmt.Errorf("%w: the token's JSON is not valid UTF-8", ErrInvalid)
		}
	}
	var c Claims
	p := jwt.NewParser(
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(v.now),
	)
	if _, err := p.ParseWithClaims(token, &c, v.keyFor); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("%w: %v", ErrExpired, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.IssuedAt == nil {
		return nil, fmt.Errorf("%w: iat is required", ErrInvalid)
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) > v.cfg.MaxAge {
		return nil, fmt.Errorf("%w: lifetime %s is longer than %s", ErrExpired, c.ExpiresAt.Sub(c.IssuedAt.Time), v.cfg.MaxAge)
	}
	for name, s := range map[string]string{"jti": c.ID, "customer_ref": c.CustomerRef, "org": c.Org, "lang": c.Lang,
		"return_url": c.ReturnURL, "product": c.Product} {
		// Stored or shown: Postgres refuses invalid UTF-8 and NUL.
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("%w: %s is not valid UTF-8 or holds a NUL", ErrInvalid, name)
		}
	}
	if c.ID == "" || len(c.ID) > 200 {
		return nil, fmt.Errorf("%w: jti is required (at most 200 characters)", ErrInvalid)
	}
	h := &Handoff{CustomerRef: strings.TrimSpace(c.CustomerRef), Lang: c.Lang, ReturnURL: c.ReturnURL, Product: c.Product}
	n, err := orgno.Normalize(c.Org)
	if err != nil || len(c.Org) > 20 {
		return nil, fmt.Errorf("%w: org: %v", ErrInvalid, err)
	}
	h.OrgNo = n
	if h.CustomerRef == "" || len(h.CustomerRef) > 200 {
		return nil, fmt.Errorf("%w: customer_ref is required (at most 200 characters)", ErrInvalid)
	}
	if !i18n.Supported(h.Lang) {
		return nil, fmt.Errorf("%w: lang %q: want one of %s", ErrInvalid, h.Lang, strings.Join(i18n.Languages, ", "))
	}
	if h.ReturnURL == "" {
		return nil, fmt.Errorf("%w: return_url is required", ErrInvalid)
	}
	if err := v.checkReturnURL(h.ReturnURL); err != nil {
		return nil, err
	}
	if h.Product == "" {
		h.Product = v.cfg.Products[0]
	} else if !slices.Contains(v.cfg.Products, h.Product) {
		return nil, fmt.Errorf("%w: %q", ErrProduct, h.Product)
	}
	// Last, so a token refused for another reason is not used up.
	fresh, err := v.cfg.JTIs.UseHandoffJTI(ctx, c.ID, c.ExpiresAt.Add(Leeway))
	if err != nil {
		return nil, fmt.Errorf("handoff: record jti: %w", err)
	}
	if !fresh {
		return nil, fmt.Errorf("%w: jti %q", ErrReplayed, c.ID)
	}
	return h, nil
}

// checkReturnURL accepts an absolute https URL on an allowlisted host (plain
// http only to a loopback host in dev).
func (v *Verifier) checkReturnURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || len(raw) > 2048 ||
		strings.ContainsAny(raw, "\r\n\t\\") {
		return fmt.Errorf("%w: not an absolute URL", ErrReturnURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && v.cfg.Dev && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("%w: scheme %q", ErrReturnURL, u.Scheme)
	}
	if !v.AllowedHost(u) {
		return fmt.Errorf("%w: host %q is not on the allowlist", ErrReturnURL, u.Host)
	}
	return nil
}

// AllowedHost reports whether u's host (host, or host:port when the
// allowlist entry has a port) is on the allowlist.
func (v *Verifier) AllowedHost(u *url.URL) bool {
	for _, h := range v.cfg.ReturnHosts {
		if strings.EqualFold(h, u.Host) || strings.EqualFold(h, u.Hostname()) && u.Port() == "" {
			return true
		}
	}
	return false
}

// CheckReturnURL is checkReturnURL for a URL read back from a cookie.
func (v *Verifier) CheckReturnURL(raw string) error { return v.checkReturnURL(raw) }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
