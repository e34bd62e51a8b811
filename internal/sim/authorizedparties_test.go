package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// systemUserToken gets a Maskinporten system-user token for the owner org's
// system user (no externalRef: the org number) with scopes.
func (e *env) systemUserToken(owner string, scopes ...string) string {
	e.t.Helper()
	c := e.claims(testClientID, scopes...)
	c["authorization_details"] = []any{map[string]any{
		"type":           "urn:altinn:systemuser",
		"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + owner},
	}}
	status, body := e.postToken(e.sign(c, testKID))
	if status != http.StatusOK {
		e.t.Fatalf("system-user token: %d %v", status, body)
	}
	return body["access_token"].(string)
}

// exchangeMaskinporten exchanges a Maskinporten token for an Altinn token.
func (e *env) exchangeMaskinporten(tok string) (int, string) {
	e.t.Helper()
	r := e.do("GET", mpExchangePath, tok, nil)
	return r.status, string(r.body)
}

func (e *env) authorizedParties(altinnTok string) (int, []AuthorizedParty) {
	e.t.Helper()
	r := e.do("GET", authorizedPartiesPath, altinnTok, nil)
	var out []AuthorizedParty
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &out); err != nil {
			e.t.Fatalf("authorizedparties: %v: %s", err, r.body)
		}
	}
	return r.status, out
}

// TestAuthorizedPartiesOfAgent: a system-user token for the firm's agent
// system user, exchanged at Altinn, lists the clients delegated to it (in
// the portal or through the API) and follows their removal; the exchange
// and the list refuse what Altinn refuses.
func TestAuthorizedPartiesOfAgent(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), FirmOrgNo)

	mp := e.systemUserToken(FirmOrgNo, authorizedPartiesScope)
	status, alt := e.exchangeMaskinporten(mp)
	if status != http.StatusOK || alt == "" {
		t.Fatalf("exchange: %d %q", status, alt)
	}
	if status, parties := e.authorizedParties(alt); status != http.StatusOK || len(parties) != 0 {
		t.Fatalf("no clients yet: %d %+v", status, parties)
	}

	c2, c3 := seedFirmClient(t, 2), seedFirmClient(t, 3)
	for _, c := range []FirmClient{c2, c3} {
		if err := e.sim.DelegateClient(agent, c.OrgNo); err != nil {
			t.Fatal(err)
		}
	}
	status, parties := e.authorizedParties(alt)
	if status != http.StatusOK || len(parties) != 2 {
		t.Fatalf("two clients: %d %+v", status, parties)
	}
	for i, c := range []FirmClient{c2, c3} {
		p := parties[i]
		if p.OrganizationNumber != c.OrgNo || p.PartyUUID != partyUUID(c.OrgNo) || p.Name == "" || p.Type != "Organization" || len(p.AuthorizedAccessPackages) == 0 {
			t.Errorf("party %d: %+v (want %s)", i, p, c.OrgNo)
		}
	}
	if err := e.sim.RemoveClientDelegation(agent, c2.OrgNo); err != nil {
		t.Fatal(err)
	}
	if _, parties := e.authorizedParties(alt); len(parties) != 1 || parties[0].OrganizationNumber != c3.OrgNo {
		t.Errorf("after a removal: %+v", parties)
	}

	// The exchanged token lives Altinn's 30 minutes, past the Maskinporten one.
	e.clock.Add(20 * time.Minute)
	if status, _ := e.authorizedParties(alt); status != http.StatusOK {
		t.Errorf("at 20 minutes: %d", status)
	}
	e.clock.Add(11 * time.Minute)
	if status, _ := e.authorizedParties(alt); status != http.StatusUnauthorized {
		t.Errorf("at 31 minutes: %d", status)
	}

	// Refusals: no token, a Maskinporten token itself, an exchange of
	// something else, a token without the scope.
	if status, _ := e.exchangeMaskinporten(""); status != http.StatusUnauthorized {
		t.Errorf("exchange without a token: %d", status)
	}
	if status, _ := e.exchangeMaskinporten("not.a.jwt"); status != http.StatusUnauthorized {
		t.Errorf("exchange of garbage: %d", status)
	}
	mp = e.systemUserToken(FirmOrgNo, authorizedPartiesScope)
	if status, _ := e.authorizedParties(mp); status != http.StatusUnauthorized {
		t.Errorf("a Maskinporten token at authorizedparties: %d", status)
	}
	_, other := e.exchangeMaskinporten(e.systemUserToken(FirmOrgNo, serviceScope))
	if status, _ := e.authorizedParties(other); status != http.StatusForbidden {
		t.Errorf("without the scope: %d", status)
	}
	// A vendor token (no system user) exchanges, but lists nothing.
	_, vendor := e.exchangeMaskinporten(e.tokenFor(testClientID, testKID, authorizedPartiesScope))
	if status, _ := e.authorizedParties(vendor); status != http.StatusUnauthorized {
		t.Errorf("a vendor's own token: %d", status)
	}

	// A deleted system user has no parties.
	_, alt = e.exchangeMaskinporten(e.systemUserToken(FirmOrgNo, authorizedPartiesScope))
	if err := e.sim.DeleteSystemUser(agent); err != nil {
		t.Fatal(err)
	}
	if status, parties := e.authorizedParties(alt); status != http.StatusOK || len(parties) != 0 {
		t.Errorf("deleted system user: %d %+v", status, parties)
	}
}
