package maskinporten

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Result is one token the token endpoint issued, outside the cache.
type Result struct {
	// AccessToken is the token itself (a secret): callers that only prove a
	// token can be had throw it away and never log or store it.
	AccessToken string
	Scope       string        // the scopes granted, as Maskinporten lists them
	ExpiresIn   time.Duration // zero when the answer had no expires_in
	// Received is when the answer came, on the client's clock, and
	// ServerDate the answer's Date header (zero when it had none): the two
	// tell how far the clocks are apart (a grant's iat may be 10 s off).
	Received   time.Time
	ServerDate time.Time
}

// SystemUser names the system user a system-user token acts as: its owner
// (the customer, or for an agent system user the accountant) and the
// external ref of its request.
type SystemUser struct {
	OrgNo string // nine digits, without the 0192: prefix
	// ExternalRef is sent in the grant when it is not the owner's
	// organisation number (Altinn's default): a custom ref is required
	// verbatim, or Maskinporten answers MP-303.
	ExternalRef string
}

// Probe fetches a token for scopes with a fresh grant and no cache, as a
// set-up check does: one call per scope names the missing one. The token in
// the result is not cached; the caller throws it away.
func (c *Client) Probe(ctx context.Context, scopes ...string) (*Result, error) {
	key, err := scopeKey(scopes)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	return c.exchange(ctx, key, nil)
}

// SystemUserToken fetches a system-user token (a grant with
// authorization_details of type urn:altinn:systemuser) for su with scopes,
// the service owner's API scopes. It is never cached: it proves that the
// vendor can act for the customer, and the caller throws the token away.
// Maskinporten's refusals come back as *Error; MP-303 means no approved
// system user matched (see Explain).
func (c *Client) SystemUserToken(ctx context.Context, su SystemUser, scopes ...string) (*Result, error) {
	if !isOrgNo(su.OrgNo) {
		return nil, fmt.Errorf("maskinporten: system-user org %q is not nine digits", su.OrgNo)
	}
	if len(scopes) == 0 {
		return nil, errors.New("maskinporten: a system-user token needs at least one scope")
	}
	key, err := scopeKey(scopes)
	if err != nil {
		return nil, err
	}
	el := map[string]any{
		"type":           "urn:altinn:systemuser",
		"systemuser_org": map[string]string{"authority": "iso6523-actorid-upis", "ID": "0192:" + su.OrgNo},
	}
	if su.ExternalRef != "" && su.ExternalRef != su.OrgNo {
		el["externalRef"] = su.ExternalRef
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	return c.exchange(ctx, key, []any{el})
}

// ClientID is the Maskinporten client the grants are issued for.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// KeyID is the kid the grants are signed with.
func (c *Client) KeyID() string { return c.cfg.KeyID }

// Issuer is the Maskinporten issuer the grants are addressed to.
func (c *Client) Issuer() string { return c.cfg.Issuer }

func isOrgNo(s string) bool {
	if len(s) != 9 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}
