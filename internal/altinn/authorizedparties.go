package altinn

import (
	"context"
	"fmt"
	"net/http"
)

// What the vendor can see of an agent system user's clients without a
// person (clientdelegation.md §6, systemuser-token.md §3 and §6): a
// Maskinporten system-user token for the owner org, with scope
// ScopeAuthorizedParties, exchanged for an Altinn token, then
// authorizedparties: the parties the system user may act for, that is the
// clients delegated to it.

// ScopeAuthorizedParties is the scope authorizedparties wants.
const ScopeAuthorizedParties = "altinn:accessmanagement/authorizedparties"

const (
	mpExchangePath        = "/authentication/api/v1/exchange/maskinporten"
	authorizedPartiesPath = "/accessmanagement/api/v1/enduser/authorizedparties"
)

// AuthorizedParty is one of authorizedparties' entries (the fields read).
type AuthorizedParty struct {
	PartyUUID string `json:"partyUuid"`
	Name      string `json:"name"`
	OrgNo     string `json:"organizationNumber"`
	Type      string `json:"type"`
	IsDeleted bool   `json:"isDeleted"`
}

// ExchangeMaskinporten exchanges a Maskinporten token (a system user's)
// for an Altinn token (systemuser-token.md §6); its lifetime is Altinn's,
// read from the JWT. A 401 is a *Problem matching ErrUnauthorized.
func (c *Client) ExchangeMaskinporten(ctx context.Context, maskinportenToken string) (PersonToken, error) {
	e := endpoint{method: http.MethodGet, tmpl: "exchange/maskinporten", person: maskinportenToken}
	if maskinportenToken == "" {
		return PersonToken{}, fmt.Errorf("altinn: %s: no Maskinporten token", e.op())
	}
	e.url = c.platformURL(mpExchangePath)
	return c.exchange(ctx, e)
}

// AuthorizedParties lists the parties the exchanged token's subject may
// act for: for an agent system user's token, its clients.
func (c *Client) AuthorizedParties(ctx context.Context, t PersonToken) ([]AuthorizedParty, error) {
	e := endpoint{method: http.MethodGet, tmpl: "accessmanagement/enduser/authorizedparties", person: t.token}
	e.url = c.platformURL(authorizedPartiesPath)
	resp, err := c.doPerson(ctx, e)
	if err != nil {
		return nil, err
	}
	var out []AuthorizedParty
	return out, decode(e, resp.body, &out)
}
