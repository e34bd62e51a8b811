package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// firmClient returns the i-th client of Fjellheim Regnskap in the seed.
func seedFirmClient(t *testing.T, i int) FirmClient {
	t.Helper()
	return DefaultFirms()[0].Clients[i]
}

// clientsPath is a clients* route with the query.
func clientsPath(route, agent, client string) string {
	q := url.Values{}
	if agent != "" {
		q.Set("agent", agent)
	}
	if client != "" {
		q.Set("client", client)
	}
	return enduserBase + route + "?" + q.Encode()
}

// clientList decodes a ClientInfoPaginated answer.
func decodeClientList(t *testing.T, r response) clientList {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"links":{}`) {
		t.Errorf("links must be {}: %s", r.body)
	}
	var l clientList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// vldCode returns the first AUTH.VLD code of a validation problem.
func vldCode(t *testing.T, r response) string {
	t.Helper()
	var p struct {
		Code   string `json:"code"`
		Errors []struct {
			Code string `json:"code"`
		} `json:"validationErrors"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Code != "STD-00000" || len(p.Errors) == 0 {
		t.Fatalf("not a validation problem: %d %s", r.status, r.body)
	}
	return p.Errors[0].Code
}

// TestClientDelegationJourney is the accountant's whole journey: an agent
// system user approved for the firm; a login through ID-porten (discovery,
// authorize, the picker, the token with PKCE and private_key_jwt); the
// exchange; list, add, list, add again, remove, remove again.
func TestClientDelegationJourney(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), FirmOrgNo)

	d := e.do("GET", "/idporten/.well-known/openid-configuration", "", nil).json(t)
	authz, _ := url.Parse(d["authorization_endpoint"].(string))
	r := e.do("GET", authz.Path+"?"+authzParams().Encode(), "", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), pickerTitle) {
		t.Fatalf("picker: %d", r.status)
	}
	tok := e.altinnToken(PersonClientAdmin)

	avail := decodeClientList(t, e.do("GET", clientsPath("/clients/available", agent, ""), tok, nil))
	// The agent holds regnskapsforer-med-signeringsrettighet and -lonn: the
	// business-manager clients and those that gave only -uten-signeringsrettighet
	// are not listed, nor the deleted one.
	if want := FirmClientCount - 16; len(avail.Data) != want {
		t.Fatalf("available: %d clients, want %d", len(avail.Data), want)
	}
	if avail.Info.SystemUserID != agent || avail.Info.OwnerOrg != FirmOrgNo {
		t.Errorf("systemUserInformation %+v", avail.Info)
	}
	first := avail.Data[0]
	if first.ClientOrg != "314248295" || first.ClientName != "LUNEFULL HANDLEKRAFTIG TIGER AS" || first.ClientID != partyUUID("314248295") {
		t.Errorf("first client %+v", first)
	}
	if slices.ContainsFunc(avail.Data, func(c clientInfo) bool { return c.ClientOrg == BrregDeleted }) {
		t.Error("the deleted organisation is listed")
	}

	add := e.do("POST", clientsPath("/clients", agent, first.ClientID), tok, nil)
	if add.status != http.StatusOK || add.json(t)["agent"] != agent || add.json(t)["client"] != first.ClientID {
		t.Fatalf("add: %d %s", add.status, add.body)
	}
	got := decodeClientList(t, e.do("GET", clientsPath("/clients", agent, ""), tok, nil))
	if len(got.Data) != 1 || got.Data[0] != first {
		t.Fatalf("delegated %+v", got.Data)
	}
	// Adding it again answers as the first time and stores nothing twice.
	if again := e.do("POST", clientsPath("/clients", agent, first.ClientID), tok, nil); again.status != http.StatusOK {
		t.Fatalf("add again: %d %s", again.status, again.body)
	}
	if n := len(e.sim.ClientDelegations()); n != 1 {
		t.Errorf("%d delegations after adding twice", n)
	}
	if st := e.sim.Stats(); st.ClientsAdded != 1 || st.ClientsAddedAgain != 1 {
		t.Errorf("stats %+v", st)
	}
	info := e.sim.ClientDelegations()[0]
	if info.By != PersonClientAdmin || info.Via != ViaAPI || info.ClientOrgNo != "314248295" || info.FacilitatorOrgNo != FirmOrgNo {
		t.Errorf("delegation %+v", info)
	}

	// The main administrator (HADM) may too.
	admin := e.altinnToken(PersonMainAdmin)
	second := avail.Data[1]
	if r := e.do("POST", clientsPath("/clients", agent, second.ClientID), admin, nil); r.status != http.StatusOK {
		t.Fatalf("HADM add: %d %s", r.status, r.body)
	}
	del := e.do("DELETE", clientsPath("/clients", agent, first.ClientID), tok, nil)
	if del.status != http.StatusOK || del.json(t)["client"] != first.ClientID {
		t.Fatalf("remove: %d %s", del.status, del.body)
	}
	got = decodeClientList(t, e.do("GET", clientsPath("/clients", agent, ""), tok, nil))
	if len(got.Data) != 1 || got.Data[0] != second {
		t.Errorf("after remove %+v", got.Data)
	}
	if code, status := problemCode(t, e.do("DELETE", clientsPath("/clients", agent, first.ClientID), tok, nil)); code != "AUTH-00038" || status != 404 {
		t.Errorf("remove again: %s %v", code, status)
	}

	// GET agents lists the firm's agent system users.
	ag := e.do("GET", enduserBase+"/agents?party="+FirmOrgNo, tok, nil)
	var users []map[string]any
	if err := json.Unmarshal(ag.body, &users); err != nil || ag.status != http.StatusOK || len(users) != 1 || users[0]["id"] != agent ||
		users[0]["userType"] != "agent" || users[0]["supplierOrgno"] != vendorOrg {
		t.Errorf("agents: %d %s", ag.status, ag.body)
	}
	if r := e.do("GET", enduserBase+"/agents?party=123456789", tok, nil); r.status != http.StatusNotFound {
		t.Errorf("agents of an unknown party: %d", r.status)
	}
}

// TestClientDelegationRefused checks §3's checks in order, each with the
// notes' answer.
func TestClientDelegationRefused(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	vendor := e.token()
	agent := e.approvedAgent(vendor, FirmOrgNo)
	standard := e.approvedUser(vendor, with(standardBody(FirmOrgNo), "externalRef", "standard"))
	otherAgent := e.approvedAgent(vendor, OtherFirmOrgNo)
	noPkgAgent := e.approvedAgent(vendor, "310000043") // not a firm: nobody's facilitator
	tok := e.altinnToken(PersonClientAdmin)
	readOnly := e.altinnTokenScopes(PersonClientAdmin, "openid "+ScopeClientDelegationsRead)
	noRole := e.altinnToken(PersonNoRole)
	otherFirm := e.altinnToken(PersonOtherFirm)
	idpAccess := e.idportenTokens(PersonClientAdmin, loginScopes)["access_token"].(string)

	regn := partyUUID(seedFirmClient(t, 0).OrgNo)
	forretning := seedFirmClient(t, 7)
	lonnOnly := seedFirmClient(t, 19)
	utenSign := seedFirmClient(t, 31)
	if forretning.Relationship != RelForretningsforer || lonnOnly.Relationship != RelFullmakt || utenSign.Relationship != RelFullmakt {
		t.Fatalf("seed changed: %+v %+v %+v", forretning, lonnOnly, utenSign)
	}
	vestland := partyUUID(DefaultFirms()[1].Clients[4].OrgNo) // a client of the other firm

	for _, tt := range []struct {
		name, method, path, token string
		status                    int
		code                      string // AUTH code, AUTH.VLD code, or "" for an empty body
	}{
		{"no token", "GET", clientsPath("/clients/available", agent, ""), "", 401, ""},
		{"a Maskinporten token", "GET", clientsPath("/clients/available", agent, ""), vendor, 401, ""},
		{"an ID-porten token not exchanged", "GET", clientsPath("/clients/available", agent, ""), idpAccess, 401, ""},
		{"read scope only, on add", "POST", clientsPath("/clients", agent, regn), readOnly, 403, ""},
		{"read scope only, on remove", "DELETE", clientsPath("/clients", agent, regn), readOnly, 403, ""},
		{"no agent", "GET", clientsPath("/clients/available", "", ""), tok, 400, "AUTH.VLD-00014"},
		{"zero agent", "GET", clientsPath("/clients", zeroGUID, ""), tok, 400, "AUTH.VLD-00014"},
		{"agent not a GUID", "GET", clientsPath("/clients", "abc", ""), tok, 400, "errors"},
		{"unknown agent", "POST", clientsPath("/clients", newUUID(), regn), tok, 400, "AUTH.VLD-00014"},
		{"a standard system user", "GET", clientsPath("/clients/available", standard, ""), tok, 400, "AUTH.VLD-00015"},
		{"no client", "POST", clientsPath("/clients", agent, ""), tok, 400, "AUTH.VLD-00016"},
		{"client not a GUID", "POST", clientsPath("/clients", agent, "314248295"), tok, 400, "errors"},
		{"a person without the role", "GET", clientsPath("/clients/available", agent, ""), noRole, 403, ""},
		{"a person without the role adds", "POST", clientsPath("/clients", agent, regn), noRole, 403, ""},
		{"a token for another firm", "POST", clientsPath("/clients", agent, regn), otherFirm, 403, ""},
		{"another firm's system user", "GET", clientsPath("/clients", otherAgent, ""), tok, 403, ""},
		{"a client that is not the firm's", "POST", clientsPath("/clients", agent, vestland), tok, 400, "AUTH-00079"},
		{"a business-manager client", "POST", clientsPath("/clients", agent, partyUUID(forretning.OrgNo)), tok, 400, "AUTH-00079"},
		{"a deleted organisation", "POST", clientsPath("/clients", agent, partyUUID(BrregDeleted)), tok, 400, "AUTH-00079"},
		{"a package the relationship does not allow", "POST", clientsPath("/clients", agent, partyUUID(lonnOnly.OrgNo)), tok, 400, "AUTH-00080"},
		{"a system user of an org where the person has no role", "POST", clientsPath("/clients", noPkgAgent, regn), tok, 403, ""},
		{"remove what is not delegated", "DELETE", clientsPath("/clients", agent, regn), tok, 404, "AUTH-00038"},
		{"agents without a party", "GET", enduserBase + "/agents", tok, 400, "errors"},
		{"agents of another firm", "GET", enduserBase + "/agents?party=" + OtherFirmOrgNo, tok, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.method, tt.path, tt.token, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			switch {
			case tt.code == "":
				if len(r.body) != 0 {
					t.Errorf("body %s, want none", r.body)
				}
			case tt.code == "errors":
				if m := r.json(t); m["errors"] == nil {
					t.Errorf("want a validation problem with errors: %s", r.body)
				}
			case strings.HasPrefix(tt.code, "AUTH.VLD"):
				if got := vldCode(t, r); got != tt.code {
					t.Errorf("code %s, want %s", got, tt.code)
				}
			default:
				if got, _ := problemCode(t, r); got != tt.code {
					t.Errorf("code %s, want %s", got, tt.code)
				}
			}
		})
	}
	if n := len(e.sim.ClientDelegations()); n != 0 {
		t.Errorf("%d delegations after refusals", n)
	}
}

// TestClientDelegationPortal checks the admin API's stand-in for Altinn's
// portal: add and remove by org number, the list, the firm's facts, and
// that the API sees the portal's changes.
func TestClientDelegationPortal(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), FirmOrgNo)
	c := seedFirmClient(t, 2)
	if r := e.do("POST", "/_sim/systemusers/"+agent+"/clients/"+c.OrgNo, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("portal add: %d %s", r.status, r.body)
	}
	var list []ClientDelegationInfo
	if err := json.Unmarshal(e.do("GET", "/_sim/clientdelegations", "", nil).body, &list); err != nil || len(list) != 1 ||
		list[0].Via != ViaPortal || list[0].ClientOrgNo != c.OrgNo || list[0].ClientID != partyUUID(c.OrgNo) || list[0].By != "" {
		t.Fatalf("delegations %+v %v", list, err)
	}
	tok := e.altinnToken(PersonClientAdmin)
	if got := decodeClientList(t, e.do("GET", clientsPath("/clients", agent, ""), tok, nil)); len(got.Data) != 1 || got.Data[0].ClientOrg != c.OrgNo {
		t.Errorf("the API does not see the portal's add: %+v", got.Data)
	}
	if r := e.do("POST", "/_sim/systemusers/"+agent+"/clients/"+seedFirmClient(t, 19).OrgNo, "", nil); r.status != http.StatusBadRequest {
		t.Errorf("portal add of a client lacking a package: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/_sim/systemusers/"+agent+"/clients/"+c.OrgNo, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("portal remove: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/_sim/systemusers/"+agent+"/clients/"+c.OrgNo, "", nil); r.status != http.StatusNotFound {
		t.Errorf("portal remove again: %d", r.status)
	}
	if got := decodeClientList(t, e.do("GET", clientsPath("/clients", agent, ""), tok, nil)); len(got.Data) != 0 {
		t.Errorf("the API does not see the portal's remove: %+v", got.Data)
	}
	var facts []FirmClientInfo
	if err := json.Unmarshal(e.do("GET", "/_sim/firms/"+FirmOrgNo+"/clients", "", nil).body, &facts); err != nil || len(facts) != FirmClientCount+1 {
		t.Fatalf("firm clients: %d %v", len(facts), err)
	}
	if f := facts[7]; f.Relationship != RelForretningsforer || len(f.Packages) != 1 {
		t.Errorf("client 7 %+v", f)
	}
	if r := e.do("GET", "/_sim/firms/123456785/clients", "", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown firm: %d", r.status)
	}
	var persons []Person
	if err := json.Unmarshal(e.do("GET", "/_sim/persons", "", nil).body, &persons); err != nil || len(persons) != 4 {
		t.Errorf("persons %+v %v", persons, err)
	}

	// Deleting the system user drops its delegations.
	if err := e.sim.DelegateClient(agent, c.OrgNo); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.DeleteSystemUser(agent); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sim.ClientDelegations()); n != 0 {
		t.Errorf("%d delegations of a deleted system user", n)
	}
}

// TestClientDelegationFaults checks that faults apply to the new routes: a
// latency on the add path delays it, a status answers instead.
func TestClientDelegationFaults(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), FirmOrgNo)
	tok := e.altinnToken(PersonClientAdmin)
	const latency = 150 * time.Millisecond
	remove := e.sim.Inject(Fault{Method: "POST", Path: enduserBase + "/clients", Latency: latency})
	start := time.Now()
	if r := e.do("POST", clientsPath("/clients", agent, partyUUID(seedFirmClient(t, 0).OrgNo)), tok, nil); r.status != http.StatusOK {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if el := time.Since(start); el < latency {
		t.Errorf("add took %s, want at least %s", el, latency)
	}
	remove()
	e.sim.Inject(Fault{Path: idportenBase + "/token", Status: http.StatusServiceUnavailable, Times: 1})
	if r := e.do("POST", idportenBase+"/token", "", "x"); r.status != http.StatusServiceUnavailable {
		t.Errorf("token under a fault: %d", r.status)
	}
	e.sim.Inject(Fault{Path: exchangePath, Status: http.StatusBadGateway, Times: 1})
	if r := e.do("GET", exchangePath, tok, nil); r.status != http.StatusBadGateway {
		t.Errorf("exchange under a fault: %d", r.status)
	}
	if got := e.sim.Stats().Calls["POST "+enduserBase+"/clients"]; got != 1 {
		t.Errorf("calls counted %d", got)
	}
}

// TestClientDelegationState checks that delegations survive a restart and
// that the ID-porten logins do not.
func TestClientDelegationState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	se := newStateEnv(t, path)
	se.addIDPClients()
	agent := se.approvedAgent(se.token(), FirmOrgNo)
	tok := se.altinnToken(PersonClientAdmin)
	for _, i := range []int{0, 1, 2} {
		if r := se.do("POST", clientsPath("/clients", agent, partyUUID(seedFirmClient(t, i).OrgNo)), tok, nil); r.status != http.StatusOK {
			t.Fatalf("add %d: %d %s", i, r.status, r.body)
		}
	}
	if err := se.sim.DelegateClient(agent, seedFirmClient(t, 3).OrgNo); err != nil {
		t.Fatal(err)
	}
	before := se.sim.ClientDelegations()
	se2 := se.restart()
	if got := se2.sim.ClientDelegations(); len(got) != 4 || !slices.Equal(got, before) {
		t.Fatalf("after restart %+v, want %+v", got, before)
	}
	if r := se2.do("GET", clientsPath("/clients", agent, ""), tok, nil); r.status != http.StatusUnauthorized {
		t.Errorf("a token from before the restart: %d (new keys)", r.status)
	}
	se2.addIDPClients()
	tok = se2.altinnToken(PersonClientAdmin)
	if got := decodeClientList(t, se2.do("GET", clientsPath("/clients", agent, ""), tok, nil)); len(got.Data) != 4 {
		t.Errorf("delegated after restart: %d", len(got.Data))
	}
	if r := se2.do("POST", clientsPath("/clients", agent, partyUUID(seedFirmClient(t, 4).OrgNo)), tok, nil); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if got := se2.sim.ClientDelegations(); got[4].Created.Before(got[3].Created) || len(got) != 5 {
		t.Errorf("sequence does not continue: %+v", got)
	}
}

// TestDefaultFirmsAndPersons checks the seed's firm, clients and persons.
func TestDefaultFirmsAndPersons(t *testing.T) {
	firms := DefaultFirms()
	if len(firms) != 2 || firms[0].OrgNo != FirmOrgNo || !validOrgNo(FirmOrgNo) || !validOrgNo(OtherFirmOrgNo) {
		t.Fatalf("firms %v", firms)
	}
	seen := map[string]bool{}
	names := map[string]bool{}
	live := 0
	for _, c := range firms[0].Clients {
		if !validOrgNo(c.OrgNo) || seen[c.OrgNo] || c.Name == "" || names[c.Name] {
			t.Errorf("client %+v: invalid or repeated", c)
		}
		seen[c.OrgNo], names[c.Name] = true, true
		if !c.Deleted {
			live++
		}
	}
	if live != FirmClientCount {
		t.Errorf("%d live clients, want %d", live, FirmClientCount)
	}
	if a, b := DefaultFirms(), DefaultFirms(); a[0].Clients[200].OrgNo != b[0].Clients[200].OrgNo || a[0].Clients[200].Name != b[0].Clients[200].Name {
		t.Error("the clients are not deterministic")
	}
	for _, p := range DefaultPersons() {
		if !validPID(p.PID) {
			t.Errorf("person %s: invalid pid", p.PID)
		}
	}
	for _, tt := range []struct {
		pid  string
		want bool
	}{
		{PersonClientAdmin, true}, {"15838540064", false}, {"1583854006", false}, {"1583854006x", false}, {"", false},
	} {
		if got := validPID(tt.pid); got != tt.want {
			t.Errorf("validPID(%q) = %v", tt.pid, got)
		}
	}
	c := DevIDPortenClient("http://localhost:8080/", "k", pemOf(&testKey().PublicKey))
	if c.RedirectURIs[0] != "http://localhost:8080/idporten/callback" || c.ClientID != IDPortenDevClientID {
		t.Errorf("dev client %+v", c)
	}
	seed := DefaultSeed()
	seed.IDPortenClients = []IDPortenClient{{ClientID: "x", RedirectURIs: []string{"http://vendor.example/cb"}, AuthMethod: AuthClientSecretPost, Secret: clientSecret}}
	if err := seed.validate(); err == nil {
		t.Error("an http redirect URI off localhost was accepted")
	}
	seed.IDPortenClients = nil
	seed.Firms = []Firm{{OrgNo: FirmOrgNo, Clients: []FirmClient{{OrgNo: "314248295", Relationship: "venn"}}}}
	if err := seed.validate(); err == nil {
		t.Error("an unknown relationship was accepted")
	}
}

// FuzzClientQuery feeds the clients routes any query with a valid token:
// no panic, and only the statuses of §3 and §4.
func FuzzClientQuery(f *testing.F) {
	s, err := New(Config{PublicURL: "http://sim.test", Seed: DefaultSeed()})
	if err != nil {
		f.Fatal(err)
	}
	key, kid := s.idp.altinn.get()
	tok, err := signJWT(jwt.MapClaims{"iss": s.AltinnIssuer(), "pid": PersonClientAdmin, "urn:altinn:authlevel": "3",
		"scope": ScopeClientDelegationsRead + " " + ScopeClientDelegationsWrite, "exp": time.Now().Add(time.Hour).Unix()}, key, kid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("agent=" + zeroGUID + "&client=x")
	f.Add("agent={" + newUUID() + "}&client=" + newUUID())
	f.Add("agent=%zz")
	f.Add("agent=" + strings.ToUpper(newUUID()) + "&client=" + zeroGUID)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, q string) {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			for _, route := range []string{"/clients", "/clients/available", "/agents"} {
				req := httptest.NewRequest(m, enduserBase+route, nil)
				req.URL.RawQuery = q
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				switch w.Code {
				case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
				default:
					t.Fatalf("%s %s?%q: %d %s", m, route, q, w.Code, w.Body)
				}
			}
		}
	})
}

// TestEndClientRelationship checks that a client that leaves the firm after
// it was listed cannot be added (AUTH-00079), keeps a delegation made before,
// and stays ended after a restart.
func TestEndClientRelationship(t *testing.T) {
	se := newStateEnv(t, filepath.Join(t.TempDir(), "state.json"))
	se.addIDPClients()
	agent := se.approvedAgent(se.token(), FirmOrgNo)
	tok := se.altinnToken(PersonClientAdmin)
	kept, leaving := seedFirmClient(t, 0), seedFirmClient(t, 1)
	if err := se.sim.DelegateClient(agent, kept.OrgNo); err != nil {
		t.Fatal(err)
	}
	if r := se.do("POST", "/_sim/firms/"+FirmOrgNo+"/clients/"+leaving.OrgNo+"/end", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if err := se.sim.EndClientRelationship(FirmOrgNo, kept.OrgNo); err != nil {
		t.Fatal(err)
	}
	if err := se.sim.EndClientRelationship(FirmOrgNo, "123456785"); err == nil {
		t.Error("ending an unknown client")
	}
	check := func(e *env, tok string) {
		t.Helper()
		if code, _ := problemCode(t, e.do("POST", clientsPath("/clients", agent, partyUUID(leaving.OrgNo)), tok, nil)); code != "AUTH-00079" {
			t.Errorf("add of a client that left: %s", code)
		}
		avail := decodeClientList(t, e.do("GET", clientsPath("/clients/available", agent, ""), tok, nil))
		if len(avail.Data) != FirmClientCount-18 {
			t.Errorf("available: %d", len(avail.Data))
		}
		if got := decodeClientList(t, e.do("GET", clientsPath("/clients", agent, ""), tok, nil)); len(got.Data) != 1 || got.Data[0].ClientOrg != kept.OrgNo {
			t.Errorf("delegated: %+v", got.Data)
		}
	}
	check(se.env, tok)
	se2 := se.restart()
	se2.addIDPClients()
	check(se2.env, se2.altinnToken(PersonClientAdmin))
	if f := se2.sim.FirmClients(FirmOrgNo); !f[1].Ended || f[2].Ended {
		t.Errorf("ended flags %+v %+v", f[1], f[2])
	}
}

// TestGeneratedFirm checks a big firm for the benchmark: 1,000 clients, all
// available and delegable.
func TestGeneratedFirm(t *testing.T) {
	big := GeneratedFirm("315000017", "Stor Regnskap AS", 31300000, 1000)
	e := newEnv(t, func(c *Config) {
		c.Seed.Firms = append(c.Seed.Firms, big)
		c.Seed.Persons = append(c.Seed.Persons, Person{PID: "30859240085", Name: "Stor Admin", Roles: []PersonRole{{OrgNo: big.OrgNo, Roles: []string{"KLADM"}}}})
	})
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), big.OrgNo)
	tok := e.altinnToken("30859240085")
	avail := decodeClientList(t, e.do("GET", clientsPath("/clients/available", agent, ""), tok, nil))
	if len(avail.Data) != 1000 {
		t.Fatalf("available: %d", len(avail.Data))
	}
	for _, c := range avail.Data[:50] {
		if r := e.do("POST", clientsPath("/clients", agent, c.ClientID), tok, nil); r.status != http.StatusOK {
			t.Fatalf("add %s: %d %s", c.ClientOrg, r.status, r.body)
		}
	}
	if n := len(e.sim.ClientDelegations()); n != 50 {
		t.Errorf("%d delegations", n)
	}
}

// TestClientDelegationConcurrentAdds checks that adds of the same clients at
// once store each client once.
func TestClientDelegationConcurrentAdds(t *testing.T) {
	e := newEnv(t)
	e.addIDPClients()
	agent := e.approvedAgent(e.token(), FirmOrgNo)
	tok := e.altinnToken(PersonClientAdmin)
	clients := decodeClientList(t, e.do("GET", clientsPath("/clients/available", agent, ""), tok, nil)).Data[:10]
	errs := make(chan error, 40)
	for w := 0; w < 4; w++ {
		go func() {
			for _, c := range clients {
				req, _ := http.NewRequest("POST", e.url+clientsPath("/clients", agent, c.ClientID), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
				}
				errs <- err
			}
		}()
	}
	for i := 0; i < 40; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := e.sim.Stats(); st.ClientsAdded != 10 || st.ClientsAddedAgain != 30 || len(e.sim.ClientDelegations()) != 10 {
		t.Errorf("stats %+v, %d delegations", st, len(e.sim.ClientDelegations()))
	}
}
