package sim

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// What the vendor sees of an agent system user's clients without a person
// (clientdelegation.md §6, systemuser-token.md §3 and §6): a Maskinporten
// system-user token is exchanged for an Altinn token, and authorizedparties
// lists the parties the system user may act for.
const (
	// mpExchangePath is Altinn's exchange of a Maskinporten token.
	mpExchangePath = "/authentication/api/v1/exchange/maskinporten"
	// authorizedPartiesPath lists the parties the token's subject may act for.
	authorizedPartiesPath = "/accessmanagement/api/v1/enduser/authorizedparties"
	// authorizedPartiesScope is the scope authorizedparties wants.
	authorizedPartiesScope = "altinn:accessmanagement/authorizedparties"
	// exchangedLifetime is Altinn's JwtValidityMinutes (30 in the repo's
	// default): an exchanged Maskinporten token's lifetime, whatever the
	// Maskinporten token's exp.
	exchangedLifetime = 30 * time.Minute
)

// handleMaskinportenExchange serves GET exchange/maskinporten: a Maskinporten
// token the simulator issued (signature, issuer, lifetime) for an Altinn
// token that keeps scope, consumer and authorization_details and adds
// urn:altinn:orgNumber (the consumer's) and urn:altinn:authlevel 3; its exp
// is Altinn's own (30 minutes). An unreadable or invalid token, or one with
// no consumer, is a 401 (systemuser-token.md §6). The body is the JWT as
// text.
func (s *Server) handleMaskinportenExchange(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown kid")
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(s.issuer), jwt.WithExpirationRequired(),
		jwt.WithLeeway(bearerLeeway), jwt.WithTimeFunc(s.now))
	org := consumerOrg(claims["consumer"])
	if err != nil || org == "" {
		s.logf("sim: maskinporten exchange refused: %v (consumer %q)", err, org)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	now := s.now()
	out := jwt.MapClaims{
		"iss": s.AltinnIssuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(exchangedLifetime).Unix(),
		"jti": newUUID(), "scope": claims["scope"], "consumer": claims["consumer"], "client_id": claims["client_id"],
		"urn:altinn:orgNumber": org, "urn:altinn:authlevel": "3",
	}
	if d, ok := claims["authorization_details"]; ok {
		out["authorization_details"] = d
	}
	akey, akid := s.idp.altinn.get()
	signed, err := signJWT(out, akey, akid)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(signed))
}

// AuthorizedParty is one party of authorizedparties' answer, in Access
// Management's shape (the fields the simulator fills; the rest empty).
type AuthorizedParty struct {
	PartyUUID                        string            `json:"partyUuid"`
	Name                             string            `json:"name"`
	OrganizationNumber               string            `json:"organizationNumber"`
	ParentID                         *string           `json:"parentId"`
	PersonID                         string            `json:"personId"`
	PartyID                          int               `json:"partyId"`
	Type                             string            `json:"type"`
	UnitType                         string            `json:"unitType"`
	IsDeleted                        bool              `json:"isDeleted"`
	OnlyHierarchyElementWithNoAccess bool              `json:"onlyHierarchyElementWithNoAccess"`
	AuthorizedAccessPackages         []string          `json:"authorizedAccessPackages"`
	AuthorizedResources              []string          `json:"authorizedResources"`
	AuthorizedRoles                  []string          `json:"authorizedRoles"`
	AuthorizedInstances              []any             `json:"authorizedInstances"`
	Subunits                         []AuthorizedParty `json:"subunits"`
}

// handleAuthorizedParties serves GET authorizedparties for an Altinn token
// from the Maskinporten exchange of a system-user token: without the scope
// altinn:accessmanagement/authorizedparties a 403; a token that is not an
// exchanged system-user token a 401. For an agent system user the parties
// are the clients delegated to it (each with the system user's packages);
// for a standard one its owner. A deleted system user has none.
// UNCONFIRMED (doc.go): whether an agent's own owner org is listed too
// (here: not), and the exact fields of a party.
func (s *Server) handleAuthorizedParties(w http.ResponseWriter, r *http.Request) {
	suID, scopes, err := s.verifySystemUserAltinnToken(r.Header.Get("Authorization"))
	if err != nil {
		s.logf("sim: authorizedparties refused: %v", err)
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !slices.Contains(scopes, authorizedPartiesScope) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	s.mu.Lock()
	out := s.authorizedPartiesLocked(suID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// authorizedPartiesLocked lists the parties system user suID may act for.
// The caller holds s.mu.
func (s *Server) authorizedPartiesLocked(suID string) []AuthorizedParty {
	out := []AuthorizedParty{}
	id, _ := parseGUID(suID)
	u := s.users[id]
	if u == nil || u.deleted {
		return out
	}
	party := func(uuid, orgNo, name string) AuthorizedParty {
		return AuthorizedParty{PartyUUID: uuid, Name: name, OrganizationNumber: orgNo, PartyID: orgPartyID(orgNo),
			Type: "Organization", UnitType: "AS", AuthorizedAccessPackages: append([]string{}, u.packages...),
			AuthorizedResources: []string{}, AuthorizedRoles: []string{}, AuthorizedInstances: []any{}, Subunits: []AuthorizedParty{}}
	}
	if !u.agent {
		name, _ := s.orgNameLocked(u.partyOrgNo)
		return append(out, party(partyUUID(u.partyOrgNo), u.partyOrgNo, name))
	}
	for _, d := range s.delegationsOfLocked(u.id) {
		out = append(out, party(d.client, d.clientOrgNo, s.clientNameLocked(d)))
	}
	return out
}

// verifySystemUserAltinnToken checks an Altinn token from the Maskinporten
// exchange (Altinn's key and issuer, not expired) and returns its system
// user's id and scopes.
func (s *Server) verifySystemUserAltinnToken(h string) (string, []string, error) {
	claims, err := s.altinnTokenClaims(h)
	if err != nil {
		return "", nil, err
	}
	details, _ := claims["authorization_details"].([]any)
	for _, el := range details {
		m, _ := el.(map[string]any)
		if t, _ := m["type"].(string); t != systemUserType {
			continue
		}
		ids, _ := m["systemuser_id"].([]any)
		if len(ids) > 0 {
			if id, ok := ids[0].(string); ok && id != "" {
				sc, _ := claims["scope"].(string)
				return id, strings.Fields(sc), nil
			}
		}
	}
	return "", nil, fmt.Errorf("not a system user's token")
}
