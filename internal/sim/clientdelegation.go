package sim

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// enduserBase is the base of the client-delegation API (clientdelegation.md §2).
const enduserBase = "/authentication/api/v1/enduser/systemuser"

// zeroGUID is what .NET binds a missing GUID query parameter to.
const zeroGUID = "00000000-0000-0000-0000-000000000000"

// How a delegation was made, in ClientDelegationInfo.Via.
const (
	ViaAPI    = "api"
	ViaPortal = "portal"
)

// Errors of the client-delegation hooks.
var (
	// ErrNotAgent means the system user is a standard one (AUTH.VLD-00015).
	ErrNotAgent = errors.New("sim: the system user is not an agent system user (AUTH.VLD-00015)")
	// ErrClientNotFound means the client is not among the firm's clients that
	// hold any of the system user's packages (AUTH-00079).
	ErrClientNotFound = errors.New("sim: the client is not one of the firm's clients for the system user's packages (AUTH-00079)")
	// ErrClientLacksPackages means the client has not given the firm every
	// package the system user holds (AUTH-00080).
	ErrClientLacksPackages = errors.New("sim: the client has not given the firm all the system user's access packages (AUTH-00080)")
	// ErrNoPackages means the agent system user holds no packages (AUTH-00063).
	ErrNoPackages = errors.New("sim: the agent system user has no access packages (AUTH-00063)")
	// ErrDelegationNotFound means the client is not delegated to the system
	// user (AUTH-00038).
	ErrDelegationNotFound = errors.New("sim: the client is not delegated to the system user (AUTH-00038)")
)

// delegationState is Access Management's side: the firms' clients (from the
// seed, not saved) and the delegations of clients to agent system users
// (saved in the state file).
type delegationState struct {
	firms       map[string]*firm
	delegations map[delegationKey]*delegation
	seq         int
}

// firm is a facilitator with its clients in Access Management's order.
type firm struct {
	orgNo, name string
	clients     []*firmClient
	byUUID      map[string]*firmClient
}

// firmClient is one client of a firm.
type firmClient struct {
	uuid, orgNo, name, rel string
	packages               []string
	deleted                bool
	// ended is set by EndClientRelationship: the client no longer has the
	// firm as its facilitator (kept in the state file).
	ended bool
}

// delegationKey is a system user and a client party.
type delegationKey struct{ agent, client string }

// delegation is a client delegated to an agent system user.
type delegation struct {
	agent, client, clientOrgNo, facilitator string
	// by is the pid of the person who added it; "" when done in the portal.
	by, via string
	created time.Time
	seq     int
}

// ClientDelegationInfo is one delegation, for tests and the admin API.
type ClientDelegationInfo struct {
	SystemUserID string `json:"systemUserId"`
	// ClientID is the client's party UUID, as the API names it.
	ClientID         string    `json:"clientId"`
	ClientOrgNo      string    `json:"clientOrgNo"`
	ClientName       string    `json:"clientName"`
	FacilitatorOrgNo string    `json:"facilitatorOrgNo"`
	By               string    `json:"by,omitempty"`
	Via              string    `json:"via"`
	Created          time.Time `json:"created"`
}

// FirmClientInfo is what Access Management knows of one client of a firm.
type FirmClientInfo struct {
	ClientID     string   `json:"clientId"`
	OrgNo        string   `json:"orgNo"`
	Name         string   `json:"name"`
	Relationship string   `json:"relationship"`
	Packages     []string `json:"packages"`
	Deleted      bool     `json:"deleted,omitempty"`
	// Ended is a relationship ended since the seed (EndClientRelationship).
	Ended bool `json:"ended,omitempty"`
}

// initDelegation sets up the firms, persons and ID-porten from the seed.
// Every client is added to Register under its name. The caller is New.
func (s *Server) initDelegation(cfg Config) error {
	s.cd = delegationState{firms: map[string]*firm{}, delegations: map[delegationKey]*delegation{}}
	for _, f := range cfg.Seed.Firms {
		ff := &firm{orgNo: f.OrgNo, name: f.Name, byUUID: map[string]*firmClient{}}
		if _, ok := s.orgs[f.OrgNo]; !ok && f.Name != "" {
			s.orgs[f.OrgNo] = f.Name
		}
		for _, c := range f.Clients {
			fc := &firmClient{uuid: partyUUID(c.OrgNo), orgNo: c.OrgNo, name: c.Name, rel: c.Relationship,
				packages: slices.Clone(c.clientPackages()), deleted: c.Deleted}
			if _, ok := s.orgs[c.OrgNo]; !ok && c.Name != "" && !c.Deleted {
				s.orgs[c.OrgNo] = c.Name
			}
			ff.clients = append(ff.clients, fc)
			ff.byUUID[fc.uuid] = fc
		}
		s.cd.firms[f.OrgNo] = ff
	}
	return s.initIDPorten(cfg)
}

// partyUUID is an organisation's party UUID in Register, stable per number.
func partyUUID(orgNo string) string { return derivedGUID("party:" + orgNo) }

// orgPartyID is an organisation's party id in Register.
func orgPartyID(orgNo string) int { return 50000000 + derivedInt("orgparty:"+orgNo, 9000000) }

// clientInfo is ClientInfo on the wire.
type clientInfo struct {
	ClientID   string `json:"clientId"`
	ClientOrg  string `json:"clientOrganizationNumber"`
	ClientName string `json:"clientOrganizationName"`
}

// clientList is ClientInfoPaginated: no paging, links always {}.
type clientList struct {
	Links struct{} `json:"links"`
	Info  struct {
		SystemUserID string `json:"systemUserId"`
		OwnerOrg     string `json:"systemUserOwnerOrg"`
	} `json:"systemUserInformation"`
	Data []clientInfo `json:"data"`
}

// agentSystemUser is the internal system-user model GET agents answers.
type agentSystemUser struct {
	ID               string   `json:"id"`
	IntegrationTitle string   `json:"integrationTitle"`
	SystemID         string   `json:"systemId"`
	ProductName      string   `json:"productName"`
	SystemInternalID string   `json:"systemInternalId"`
	PartyID          string   `json:"partyId"`
	PartyUUID        string   `json:"partyUuId"`
	ReporteeOrgNo    string   `json:"reporteeOrgNo"`
	Created          string   `json:"created"`
	IsDeleted        bool     `json:"isDeleted"`
	SupplierName     string   `json:"supplierName"`
	SupplierOrgno    string   `json:"supplierOrgno"`
	ExternalRef      string   `json:"externalRef"`
	AccessPackages   []pkgRef `json:"accessPackages"`
	UserType         string   `json:"userType"`
}

// personAuthorize checks the Altinn token and the scope as the middleware
// does: no or bad token → 401 with an empty body; no scope → 403, empty.
func (s *Server) personAuthorize(w http.ResponseWriter, r *http.Request, scope string) (*personToken, bool) {
	h := r.Header.Get("Authorization")
	pt, err := s.verifyAltinnToken(h)
	if err != nil {
		if h == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
		return nil, false
	}
	if !slices.Contains(pt.scopes, scope) {
		w.WriteHeader(http.StatusForbidden)
		return nil, false
	}
	return pt, true
}

// mayAdministerLocked is the PDP check: may the person read or write
// altinn_client_administration at the org, at authentication level 3 or
// more (the policy's obligation). The caller holds s.mu.
func (s *Server) mayAdministerLocked(pt *personToken, orgNo string) bool {
	p := s.idp.persons[pt.pid]
	return p != nil && pt.authLevel >= 3 && mayAdministerClients(p.roles[orgNo])
}

// queryGUID binds a GUID query parameter as .NET does: missing is the zero
// GUID, anything else must parse.
func queryGUID(r *http.Request, name string) (string, *problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return zeroGUID, nil
	}
	g, ok := parseGUID(v)
	if !ok {
		return "", validationProblem(map[string][]string{name: {fmt.Sprintf("The value '%s' is not valid.", v)}})
	}
	return g, nil
}

// writeVLD writes one AUTH.VLD error with Altinn's message for it.
func writeVLD(w http.ResponseWriter, code int, title, param string) {
	writeValidation(w, []vldError{{code: code, path: param, title: title}})
}

// clientCall runs the checks every clients* route shares (clientdelegation.md
// §3, in order): the scope, the agent (and client) parameters, the agent
// system user, the owner in Register, the PDP check. Then it calls act under
// s.mu with the system user. A non-nil problem from act is written; a nil
// one writes the value as JSON.
func (s *Server) clientCall(w http.ResponseWriter, r *http.Request, scope, action string, needClient bool,
	act func(pt *personToken, u *systemUser, client string) (any, *problem)) {
	pt, ok := s.personAuthorize(w, r, scope)
	if !ok {
		return
	}
	agent, p := queryGUID(r, "agent")
	client := zeroGUID
	if p == nil && needClient {
		client, p = queryGUID(r, "client")
	}
	if p != nil {
		writeProblem(w, p)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if agent == zeroGUID {
		writeVLD(w, 14, "agent query parameter missing", "agent")
		return
	}
	u := s.users[agent]
	if u == nil || u.deleted {
		writeVLD(w, 14, "System user not found", "agent")
		return
	}
	if !u.agent {
		writeVLD(w, 15, "The system user is not of type agent", "agent")
		return
	}
	if needClient && client == zeroGUID {
		writeVLD(w, 16, "client query parameter missing", "client")
		return
	}
	if _, found := s.orgNameLocked(u.partyOrgNo); !found {
		p := bareProblem(http.StatusNotFound)
		p.Title = "System Owner not Found"
		writeProblem(w, p)
		return
	}
	if !s.mayAdministerLocked(pt, u.partyOrgNo) {
		s.logf("sim: %s may not %s clients of %s", pt.pid, action, u.partyOrgNo)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	v, p := act(pt, u, client)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleAvailableClients serves GET clients/available?agent=.
func (s *Server) handleAvailableClients(w http.ResponseWriter, r *http.Request) {
	s.clientCall(w, r, ScopeClientDelegationsRead, "read", false, func(_ *personToken, u *systemUser, _ string) (any, *problem) {
		out := s.clientListLocked(u)
		for _, c := range s.facilitatorClientsLocked(u) {
			out.Data = append(out.Data, clientInfo{c.uuid, c.orgNo, c.name})
		}
		return out, nil
	})
}

// handleDelegatedClients serves GET clients?agent=: the clients delegated to
// the system user, in the order they were added.
func (s *Server) handleDelegatedClients(w http.ResponseWriter, r *http.Request) {
	s.clientCall(w, r, ScopeClientDelegationsRead, "read", false, func(_ *personToken, u *systemUser, _ string) (any, *problem) {
		out := s.clientListLocked(u)
		for _, d := range s.delegationsOfLocked(u.id) {
			out.Data = append(out.Data, clientInfo{d.client, d.clientOrgNo, s.clientNameLocked(d)})
		}
		return out, nil
	})
}

// handleAddClient serves POST clients?agent=&client=.
func (s *Server) handleAddClient(w http.ResponseWriter, r *http.Request) {
	s.clientCall(w, r, ScopeClientDelegationsWrite, "write", true, func(pt *personToken, u *systemUser, client string) (any, *problem) {
		if _, err := s.delegateLocked(u, client, pt.pid, ViaAPI); err != nil {
			return nil, delegationProblem(err)
		}
		return map[string]string{"agent": u.id, "client": client}, nil
	})
}

// handleRemoveClient serves DELETE clients?agent=&client=.
func (s *Server) handleRemoveClient(w http.ResponseWriter, r *http.Request) {
	s.clientCall(w, r, ScopeClientDelegationsWrite, "write", true, func(pt *personToken, u *systemUser, client string) (any, *problem) {
		if err := s.removeDelegationLocked(u, client, pt.pid); err != nil {
			return nil, delegationProblem(err)
		}
		return map[string]string{"agent": u.id, "client": client}, nil
	})
}

// handleAgents serves GET agents?party=<orgno>: every live agent system
// user of the org, from every vendor, once the person may read its clients.
func (s *Server) handleAgents(w http.ResponseWriter, r *http.Request) {
	pt, ok := s.personAuthorize(w, r, ScopeClientDelegationsRead)
	if !ok {
		return
	}
	party := strings.TrimSpace(r.URL.Query().Get("party"))
	if party == "" {
		writeProblem(w, validationProblem(map[string][]string{"party": {"The party field is required."}}))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.orgNameLocked(party); !found || !isOrgNo(party) {
		p := bareProblem(http.StatusNotFound)
		p.Title = "Party not found"
		writeProblem(w, p)
		return
	}
	if !s.mayAdministerLocked(pt, party) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var users []*systemUser
	for _, u := range s.users {
		if u.agent && !u.deleted && u.partyOrgNo == party {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(a, b *systemUser) int { return a.seq - b.seq })
	out := make([]agentSystemUser, 0, len(users))
	for _, u := range users {
		a := agentSystemUser{
			ID: u.id, IntegrationTitle: u.integrationTitle, SystemID: u.systemID, PartyID: fmt.Sprint(orgPartyID(party)),
			ReporteeOrgNo: party, Created: formatTime(u.created), ExternalRef: u.externalRef,
			AccessPackages: []pkgRef{}, UserType: "agent",
		}
		if sys := s.systems[u.systemID]; sys != nil {
			a.SystemInternalID = sys.InternalID
			a.SupplierOrgno = sys.VendorOrgNo
			a.SupplierName, _ = s.orgNameLocked(sys.VendorOrgNo)
		}
		for _, p := range u.packages {
			a.AccessPackages = append(a.AccessPackages, pkgRef{URN: p})
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, out)
}

// delegationProblem maps a hook error to Altinn's problem.
func delegationProblem(err error) *problem {
	switch {
	case errors.Is(err, ErrNoPackages):
		return authProblem(63)
	case errors.Is(err, ErrClientNotFound):
		return authProblem(79)
	case errors.Is(err, ErrClientLacksPackages):
		return authProblem(80)
	case errors.Is(err, ErrDelegationNotFound):
		return authProblem(38)
	case errors.Is(err, ErrNotAgent):
		return authProblem(15)
	default:
		return authProblem(15)
	}
}

// clientListLocked is an empty list for the system user.
func (s *Server) clientListLocked(u *systemUser) *clientList {
	out := &clientList{Data: []clientInfo{}}
	out.Info.SystemUserID, out.Info.OwnerOrg = u.id, u.partyOrgNo
	return out
}

// facilitatorClientsLocked is what Access Management answers for the system
// user's owner as facilitator, filtered by the system user's packages: the
// live clients that gave the owner any of them (UNCONFIRMED: any or all). The
// caller holds s.mu.
func (s *Server) facilitatorClientsLocked(u *systemUser) []*firmClient {
	f := s.cd.firms[u.partyOrgNo]
	if f == nil {
		return nil
	}
	var out []*firmClient
	for _, c := range f.clients {
		if !c.deleted && !c.ended && slices.ContainsFunc(u.packages, func(p string) bool { return slices.Contains(c.packages, p) }) {
			out = append(out, c)
		}
	}
	return out
}

// delegationsOfLocked are the system user's delegations in the order made.
// The caller holds s.mu.
func (s *Server) delegationsOfLocked(agent string) []*delegation {
	var out []*delegation
	for k, d := range s.cd.delegations {
		if k.agent == agent {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *delegation) int { return a.seq - b.seq })
	return out
}

// clientNameLocked is the delegated client's name as the firm lists it, or
// as Register has it. The caller holds s.mu.
func (s *Server) clientNameLocked(d *delegation) string {
	if f := s.cd.firms[d.facilitator]; f != nil {
		if c := f.byUUID[d.client]; c != nil {
			return c.name
		}
	}
	name, _ := s.orgNameLocked(d.clientOrgNo)
	return name
}

// delegateLocked delegates the client (a party UUID) to the agent system user
// as Altinn does on POST: the system user must hold packages (AUTH-00063),
// the client must be among the facilitator's clients (AUTH-00079) and hold
// every package (AUTH-00080). A client already delegated is answered as a
// success again and not stored twice (UNCONFIRMED). It reports whether a new
// delegation was made. The caller holds s.mu.
func (s *Server) delegateLocked(u *systemUser, client, by, via string) (bool, error) {
	if !u.agent {
		return false, ErrNotAgent
	}
	if len(u.packages) == 0 {
		return false, ErrNoPackages
	}
	var c *firmClient
	for _, fc := range s.facilitatorClientsLocked(u) {
		if fc.uuid == client {
			c = fc
		}
	}
	if c == nil {
		return false, ErrClientNotFound
	}
	for _, p := range u.packages {
		if !slices.Contains(c.packages, p) {
			return false, ErrClientLacksPackages
		}
	}
	k := delegationKey{u.id, client}
	if s.cd.delegations[k] != nil {
		s.stats.ClientsAddedAgain++
		return false, nil
	}
	s.cd.seq++
	s.cd.delegations[k] = &delegation{agent: u.id, client: client, clientOrgNo: c.orgNo, facilitator: u.partyOrgNo,
		by: by, via: via, created: s.worldNowLocked().UTC().Truncate(time.Microsecond), seq: s.cd.seq}
	s.stats.ClientsAdded++
	s.changedLocked()
	s.logf("sim: client %s (%s) delegated to system user %s via %s", c.orgNo, client, u.id, via)
	return true, nil
}

// removeDelegationLocked removes the client's delegation (AUTH-00038 when
// there is none). The caller holds s.mu.
func (s *Server) removeDelegationLocked(u *systemUser, client, by string) error {
	k := delegationKey{u.id, client}
	d := s.cd.delegations[k]
	if d == nil {
		return ErrDelegationNotFound
	}
	delete(s.cd.delegations, k)
	s.stats.ClientsRemoved++
	s.changedLocked()
	s.logf("sim: client %s (%s) removed from system user %s", d.clientOrgNo, client, u.id)
	return nil
}

// resolveClientLocked reads a client given as a party UUID or an org number.
func (s *Server) resolveClientLocked(client string) string {
	if g, ok := parseGUID(client); ok {
		return g
	}
	if isOrgNo(client) {
		return partyUUID(client)
	}
	return client
}

// agentUserLocked returns the live system user with the id. The caller holds s.mu.
func (s *Server) agentUserLocked(systemUserID string) (*systemUser, error) {
	id, ok := parseGUID(systemUserID)
	if !ok {
		return nil, ErrNotFound
	}
	u := s.users[id]
	if u == nil || u.deleted {
		return nil, ErrNotFound
	}
	if !u.agent {
		return nil, ErrNotAgent
	}
	return u, nil
}

// DelegateClient adds a client to an agent system user as a person does in
// Altinn's portal, with the same checks as the API but no person: client is
// the party UUID or the org number. A client already delegated is no error.
// It returns ErrNotFound, ErrNotAgent, ErrNoPackages, ErrClientNotFound or
// ErrClientLacksPackages.
func (s *Server) DelegateClient(systemUserID, client string) error {
	s.mu.Lock()
	u, err := s.agentUserLocked(systemUserID)
	if err == nil {
		_, err = s.delegateLocked(u, s.resolveClientLocked(client), "", ViaPortal)
	}
	s.mu.Unlock()
	return s.commitAfter(err)
}

// RemoveClientDelegation removes a client from an agent system user as a
// person does in the portal. It returns ErrNotFound, ErrNotAgent or
// ErrDelegationNotFound.
func (s *Server) RemoveClientDelegation(systemUserID, client string) error {
	s.mu.Lock()
	u, err := s.agentUserLocked(systemUserID)
	if err == nil {
		err = s.removeDelegationLocked(u, s.resolveClientLocked(client), "")
	}
	s.mu.Unlock()
	return s.commitAfter(err)
}

// ClientDelegations returns every delegation, in the order made.
func (s *Server) ClientDelegations() []ClientDelegationInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*delegation, 0, len(s.cd.delegations))
	for _, d := range s.cd.delegations {
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b *delegation) int { return a.seq - b.seq })
	out := make([]ClientDelegationInfo, 0, len(all))
	for _, d := range all {
		out = append(out, ClientDelegationInfo{SystemUserID: d.agent, ClientID: d.client, ClientOrgNo: d.clientOrgNo,
			ClientName: s.clientNameLocked(d), FacilitatorOrgNo: d.facilitator, By: d.by, Via: d.via, Created: d.created})
	}
	return out
}

// FirmClients returns the firm's clients as Access Management knows them,
// deleted ones included; nil for an org that is nobody's facilitator.
func (s *Server) FirmClients(orgNo string) []FirmClientInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.cd.firms[orgNo]
	if f == nil {
		return nil
	}
	out := make([]FirmClientInfo, 0, len(f.clients))
	for _, c := range f.clients {
		out = append(out, FirmClientInfo{ClientID: c.uuid, OrgNo: c.orgNo, Name: c.name, Relationship: c.rel,
			Packages: slices.Clone(c.packages), Deleted: c.deleted, Ended: c.ended})
	}
	return out
}

// removeDelegationsOfLocked drops the delegations of a deleted system user.
// The caller holds s.mu.
func (s *Server) removeDelegationsOfLocked(agent string) {
	for k := range s.cd.delegations {
		if k.agent == agent {
			delete(s.cd.delegations, k)
		}
	}
}

// adminListDelegations serves GET /_sim/clientdelegations.
func (s *Server) adminListDelegations(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.ClientDelegations())
}

// adminFirmClients serves GET /_sim/firms/{orgNo}/clients.
func (s *Server) adminFirmClients(w http.ResponseWriter, r *http.Request) {
	cs := s.FirmClients(r.PathValue("orgNo"))
	if cs == nil {
		writeAdminError(w, http.StatusNotFound, "no such firm")
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

// adminPersons serves GET /_sim/persons: the test persons and their roles.
func (s *Server) adminPersons(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]Person, 0, len(s.idp.order))
	for _, pid := range s.idp.order {
		p := s.idp.persons[pid]
		pp := Person{PID: p.pid, Name: p.name}
		for _, org := range p.orgOrder {
			pp.Roles = append(pp.Roles, PersonRole{OrgNo: org, Roles: slices.Clone(p.roles[org])})
		}
		out = append(out, pp)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// adminClientDelegation serves POST and DELETE
// /_sim/systemusers/{id}/clients/{client}: the portal's add and remove.
func (s *Server) adminClientDelegation(w http.ResponseWriter, r *http.Request) {
	id, client := r.PathValue("id"), r.PathValue("client")
	var err error
	if r.Method == http.MethodDelete {
		err = s.RemoveClientDelegation(id, client)
	} else {
		err = s.DelegateClient(id, client)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			writeProblem(w, authProblem(15))
			return
		}
		writeProblem(w, delegationProblem(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// EndClientRelationship ends a client's relationship to its firm, as when
// the client takes another accountant in Enhetsregisteret or its explicit
// delegation is withdrawn: it is no longer available, so adding it is
// AUTH-00079. Delegations already made stay (whether Access Management
// removes them is UNCONFIRMED). client is the party UUID or the org number.
// It returns ErrNotFound for a firm or client the seed does not have.
func (s *Server) EndClientRelationship(firmOrgNo, client string) error {
	s.mu.Lock()
	var c *firmClient
	if f := s.cd.firms[firmOrgNo]; f != nil {
		c = f.byUUID[s.resolveClientLocked(client)]
	}
	if c == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	if !c.ended {
		c.ended = true
		s.changedLocked()
		s.logf("sim: client %s no longer has %s as facilitator", c.orgNo, firmOrgNo)
	}
	s.mu.Unlock()
	return s.commit()
}

// adminEndClient serves POST /_sim/firms/{orgNo}/clients/{client}/end.
func (s *Server) adminEndClient(w http.ResponseWriter, r *http.Request) {
	if err := s.EndClientRelationship(r.PathValue("orgNo"), r.PathValue("client")); err != nil {
		writeAdminError(w, http.StatusNotFound, "no such firm or client")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endedLocked lists the ended relationships, for the state file. The caller
// holds s.mu.
func (s *Server) endedLocked() []savedEnded {
	var out []savedEnded
	for _, f := range s.cd.firms {
		for _, c := range f.clients {
			if c.ended {
				out = append(out, savedEnded{FirmOrgNo: f.orgNo, ClientOrgNo: c.orgNo})
			}
		}
	}
	slices.SortFunc(out, func(a, b savedEnded) int {
		return strings.Compare(a.FirmOrgNo+a.ClientOrgNo, b.FirmOrgNo+b.ClientOrgNo)
	})
	return out
}

// restoreEndedLocked applies saved ended relationships; one the seed no
// longer has is dropped. The caller holds s.mu.
func (s *Server) restoreEndedLocked(ended []savedEnded) {
	for _, e := range ended {
		if f := s.cd.firms[e.FirmOrgNo]; f != nil {
			if c := f.byUUID[partyUUID(e.ClientOrgNo)]; c != nil {
				c.ended = true
			}
		}
	}
}
