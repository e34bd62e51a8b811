package altinn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Client delegation (../shared/altinn/clientdelegation.md): a person at
// the firm that owns an agent system user (its client administrator) adds
// the firm's clients to it. These calls take the person's Altinn token, from
// ExchangeIDPorten, never the vendor's Maskinporten token.

// The scopes the person's ID-porten token must carry (§1, §2).
const (
	ScopeClientDelegationRead  = "altinn:clientdelegations.read"
	ScopeClientDelegationWrite = "altinn:clientdelegations.write"
)

const (
	exchangePath = "/authentication/api/v1/exchange/id-porten"
	enduserPath  = "/authentication/api/v1/enduser/systemuser/"
	// maxTokenBytes bounds the exchange's answer, a JWT.
	maxTokenBytes = 64 << 10
)

// PersonToken is a person's Altinn token: the exchange's JWT and when it
// expires (the ID-porten access token's exp, §1.4). It never prints.
type PersonToken struct {
	token  string
	Expiry time.Time
}

func (PersonToken) String() string   { return "[redacted]" }
func (PersonToken) GoString() string { return "[redacted]" }

// Valid reports whether there is a token that has not expired at now.
func (t PersonToken) Valid(now time.Time) bool { return t.token != "" && now.Before(t.Expiry) }

// ExchangeIDPorten exchanges a person's ID-porten access token (not the
// id_token) for an Altinn token (§1.2). A 401 (expired, invalid, the
// person unknown in Altinn) is a *Problem matching ErrUnauthorized; a 403
// (no altinn: scope) one with Status 403.
func (c *Client) ExchangeIDPorten(ctx context.Context, idportenAccessToken string) (PersonToken, error) {
	e := endpoint{method: http.MethodGet, tmpl: "exchange/id-porten", person: idportenAccessToken}
	if idportenAccessToken == "" {
		return PersonToken{}, fmt.Errorf("altinn: %s: no ID-porten token", e.op())
	}
	e.url = c.platformURL(exchangePath)
	return c.exchange(ctx, e)
}

// exchange makes a token exchange e and reads the Altinn token it answers.
func (c *Client) exchange(ctx context.Context, e endpoint) (PersonToken, error) {
	resp, err := c.do(ctx, e)
	if err != nil {
		return PersonToken{}, err
	}
	raw := string(bytes.Trim(bytes.TrimSpace(resp.body), `"`))
	if len(raw) > maxTokenBytes {
		return PersonToken{}, malformed(e, fmt.Errorf("token longer than %d bytes", maxTokenBytes))
	}
	// The token is Altinn's, for Altinn: its signature is Altinn's to
	// check. Only its expiry is read, to know when to log in again.
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return PersonToken{}, malformed(e, err)
	}
	if claims.ExpiresAt == nil {
		return PersonToken{}, malformed(e, fmt.Errorf("token without exp"))
	}
	return PersonToken{token: raw, Expiry: claims.ExpiresAt.Time}, nil
}

// AgentSystemUser is one of GET agents' entries (§4): an agent system
// user of the organisation, from any vendor.
type AgentSystemUser struct {
	ID             string          `json:"id"`
	SystemID       string          `json:"systemId"`
	ReporteeOrgNo  string          `json:"reporteeOrgNo"`
	SupplierOrgNo  string          `json:"supplierOrgno"`
	ExternalRef    string          `json:"externalRef"`
	IsDeleted      bool            `json:"isDeleted"`
	UserType       string          `json:"userType"`
	AccessPackages []AccessPackage `json:"accessPackages"`
}

// ClientInfo is one client in a ClientList.
type ClientInfo struct {
	// ID is the client's party UUID: what AddClient and RemoveClient take.
	ID      string `json:"clientId"`
	OrgNo   string `json:"clientOrganizationNumber"`
	OrgName string `json:"clientOrganizationName"`
}

// ClientList is GET clients/available's and GET clients' answer (§4). It
// has no paging: Links is always empty.
type ClientList struct {
	SystemUser struct {
		ID       string `json:"systemUserId"`
		OwnerOrg string `json:"systemUserOwnerOrg"`
	} `json:"systemUserInformation"`
	Data []ClientInfo `json:"data"`
}

// Agents lists the agent system users of the organisation ownerOrgNo (§2).
func (c *Client) Agents(ctx context.Context, t PersonToken, ownerOrgNo string) ([]AgentSystemUser, error) {
	e := c.enduser(http.MethodGet, "agents", url.Values{"party": {ownerOrgNo}}, t)
	resp, err := c.doPerson(ctx, e)
	if err != nil {
		return nil, err
	}
	var out []AgentSystemUser
	return out, decode(e, resp.body, &out)
}

// AvailableClients lists the clients the firm may add to the agent system
// user agentID (§2, §4).
func (c *Client) AvailableClients(ctx context.Context, t PersonToken, agentID string) (*ClientList, error) {
	return c.clientList(ctx, t, "clients/available", agentID)
}

// DelegatedClients lists the clients added to the agent system user.
func (c *Client) DelegatedClients(ctx context.Context, t PersonToken, agentID string) (*ClientList, error) {
	return c.clientList(ctx, t, "clients", agentID)
}

func (c *Client) clientList(ctx context.Context, t PersonToken, rel, agentID string) (*ClientList, error) {
	e := c.enduser(http.MethodGet, rel, url.Values{"agent": {agentID}}, t)
	resp, err := c.doPerson(ctx, e)
	if err != nil {
		return nil, err
	}
	var out ClientList
	if err := decode(e, resp.body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddClient delegates the client (its party UUID) to the agent system user
// (§2, §4). Altinn refuses a client that is not the firm's (AUTH-00079) or
// does not hold all the system user's packages (AUTH-00080) as *Problems.
func (c *Client) AddClient(ctx context.Context, t PersonToken, agentID, clientID string) error {
	_, err := c.doPerson(ctx, c.enduser(http.MethodPost, "clients", url.Values{"agent": {agentID}, "client": {clientID}}, t))
	return err
}

// RemoveClient takes the client away from the agent system user.
func (c *Client) RemoveClient(ctx context.Context, t PersonToken, agentID, clientID string) error {
	_, err := c.doPerson(ctx, c.enduser(http.MethodDelete, "clients", url.Values{"agent": {agentID}, "client": {clientID}}, t))
	return err
}

// enduser is a call under enduser/systemuser/ with the person's token.
func (c *Client) enduser(method, rel string, q url.Values, t PersonToken) endpoint {
	e := endpoint{method: method, tmpl: "enduser/systemuser/" + rel, person: t.token}
	e.url = c.platformURL(enduserPath + rel + "?" + q.Encode())
	return e
}

// ErrNoPersonToken is a client-delegation call without a person's token:
// nothing is sent (the vendor's own token must never stand in for it).
var ErrNoPersonToken = errors.New("no person token: the person must log in with ID-porten first")

// doPerson is do for a call that needs the person's token.
func (c *Client) doPerson(ctx context.Context, e endpoint) (*response, error) {
	if e.person == "" {
		return nil, fmt.Errorf("altinn: %s: %w", e.op(), ErrNoPersonToken)
	}
	return c.do(ctx, e)
}

// platformURL is the absolute URL of path on the platform host.
func (c *Client) platformURL(path string) string {
	if c.base == nil {
		return ""
	}
	return strings.TrimRight(c.base.String(), "/") + path
}

// Reveal is the token itself, for the one place that seals it for the
// server-side session (internal/sealed); never log it.
func (t PersonToken) Reveal() string { return t.token }

// RestorePersonToken is a token Reveal gave, opened from the server-side
// session, with its expiry.
func RestorePersonToken(token string, expiry time.Time) PersonToken {
	return PersonToken{token: token, Expiry: expiry}
}
