package sim

import (
	"net/http"
	"strings"
)

// routes builds the whole HTTP surface of the simulator on one mux. The fault injector
// and the call counter sit in front of it; the admin routes under /_sim/ bypass both.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Maskinporten.
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleMetadata)
	mux.HandleFunc("GET /jwk", s.handleJWK)
	mux.HandleFunc("/token", s.handleToken) // any method: non-POST gets an OAuth error

	// Altinn vendor API.
	const req = apiBase + "/request/vendor"
	mux.HandleFunc("POST "+req, s.handleCreate(false))
	mux.HandleFunc("POST "+req+"/agent", s.handleCreate(true))
	mux.HandleFunc("GET "+req+"/{id}", s.handleGetRequest(false))
	mux.HandleFunc("GET "+req+"/agent/{id}", s.handleGetRequest(true))
	mux.HandleFunc("GET "+req+"/byexternalref/{systemId}/{orgNo}/{externalRef}", s.handleRequestByExternalRef(false))
	mux.HandleFunc("GET "+req+"/agent/byexternalref/{systemId}/{orgNo}/{externalRef}", s.handleRequestByExternalRef(true))
	mux.HandleFunc("GET "+req+"/bysystem/{systemId}", s.handleRequestsBySystem(false))
	mux.HandleFunc("GET "+req+"/agent/bysystem/{systemId}", s.handleRequestsBySystem(true))
	mux.HandleFunc("DELETE "+req+"/{id}", s.handleDeleteRequest)
	mux.HandleFunc("GET "+apiBase+"/vendor/byquery", s.handleSystemUserByQuery)
	mux.HandleFunc("GET "+apiBase+"/vendor/bysystem/{systemId}", s.handleSystemUsersBySystem)
	const change = apiBase + "/changerequest/vendor"
	mux.HandleFunc("POST "+change, s.handleCreateChange)
	mux.HandleFunc("GET "+change+"/{id}", s.handleGetChange)
	mux.HandleFunc("GET "+change+"/byexternalref/{systemId}/{orgNo}/{externalRef}", s.handleChangeByExternalRef)
	mux.HandleFunc("GET "+change+"/bysystem/{systemId}", s.handleChangesBySystem)
	mux.HandleFunc("DELETE "+change+"/{id}", s.handleDeleteChange)

	// Altinn's system register vendor API (sysregister.go).
	mux.HandleFunc("GET "+registerBase, s.handleListSystems)
	mux.HandleFunc("GET "+registerBase+"/{$}", s.handleListSystems)
	mux.HandleFunc("POST "+registerBase, s.handleCreateSystem)
	mux.HandleFunc("GET "+registerBase+"/{systemId}", s.handleGetSystem)
	mux.HandleFunc("PUT "+registerBase+"/{systemId}", s.handleUpdateSystem)
	mux.HandleFunc("PUT "+registerBase+"/{systemId}/rights", s.handleUpdateRights)
	mux.HandleFunc("PUT "+registerBase+"/{systemId}/accesspackages", s.handleUpdatePackages)
	mux.HandleFunc("DELETE "+registerBase+"/{systemId}", s.handleDeleteSystem)
	mux.HandleFunc("GET "+registerBase+"/{systemId}/changelog", s.handleChangelog)

	// Anonymous metadata: access packages and resources (metadata.go).
	mux.HandleFunc("GET /accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urnValue}", s.handlePackageByURN)
	mux.HandleFunc("GET /resourceregistry/api/v1/resource/{id}", s.handleResource)

	// Brønnøysund's Enhetsregisteret, as the wizard reads names (brreg.go).
	mux.HandleFunc("GET "+brregBase+"/enheter/{orgnr}", s.handleBrreg(false))
	mux.HandleFunc("GET "+brregBase+"/underenheter/{orgnr}", s.handleBrreg(true))

	// The customer's side.
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET "+confirmBase+"/request", s.handleConfirmPage(false))
	mux.HandleFunc("GET "+confirmBase+"/agentrequest", s.handleConfirmPage(true))
	mux.Handle("POST "+confirmBase+"/request", csrf.Handler(s.handleConfirmAction(false)))
	mux.Handle("POST "+confirmBase+"/agentrequest", csrf.Handler(s.handleConfirmAction(true)))
	mux.HandleFunc("GET "+confirmBase+"/changerequest", s.handleChangePage)
	mux.Handle("POST "+confirmBase+"/changerequest", csrf.Handler(http.HandlerFunc(s.handleChangeAction)))
	mux.HandleFunc("GET /logged-out", s.handleLoggedOut)

	// ID-porten (idporten.go) and Altinn's token exchange for its tokens.
	mux.HandleFunc("GET "+idportenBase+"/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET "+idportenBase+"/jwks.json", s.handleIDPortenJWKS)
	mux.HandleFunc("GET "+idportenBase+"/authorize", s.handleAuthorize)
	mux.Handle("POST "+idportenBase+"/authorize", csrf.Handler(http.HandlerFunc(s.handleAuthorizeChoice)))
	mux.HandleFunc(idportenBase+"/token", s.handleIDPortenToken) // any method: non-POST gets an OAuth error
	mux.HandleFunc("GET "+exchangePath, s.handleExchange)
	// The vendor's view of a system user's clients (authorizedparties.go).
	mux.HandleFunc("GET "+mpExchangePath, s.handleMaskinportenExchange)
	mux.HandleFunc("GET "+authorizedPartiesPath, s.handleAuthorizedParties)

	// Client delegation for agent system users (clientdelegation.go).
	mux.HandleFunc("GET "+enduserBase+"/agents", s.handleAgents)
	mux.HandleFunc("GET "+enduserBase+"/clients/available", s.handleAvailableClients)
	mux.HandleFunc("GET "+enduserBase+"/clients", s.handleDelegatedClients)
	mux.HandleFunc("POST "+enduserBase+"/clients", s.handleAddClient)
	mux.HandleFunc("DELETE "+enduserBase+"/clients", s.handleRemoveClient)

	// Admin API for people testing without Go.
	mux.HandleFunc("GET /_sim/requests", s.adminListRequests)
	mux.HandleFunc("POST /_sim/requests/{id}/{action}", s.adminRequestAction)
	mux.HandleFunc("GET /_sim/changerequests", s.adminListChanges)
	mux.HandleFunc("POST /_sim/changerequests/{id}/{action}", s.adminChangeAction)
	mux.HandleFunc("POST /_sim/systemusers/{id}/delete", s.adminDeleteSystemUser)
	mux.HandleFunc("GET /_sim/stats", s.adminStats)
	mux.HandleFunc("POST /_sim/faults", s.adminAddFault)
	mux.HandleFunc("DELETE /_sim/faults", s.adminClearFaults)
	mux.HandleFunc("DELETE /_sim/faults/{id}", s.adminRemoveFault)
	mux.HandleFunc("POST /_sim/clock", s.adminClock)
	mux.HandleFunc("GET /_sim/clientdelegations", s.adminListDelegations)
	mux.HandleFunc("GET /_sim/firms/{orgNo}/clients", s.adminFirmClients)
	mux.HandleFunc("POST /_sim/firms/{orgNo}/clients/{client}/end", s.adminEndClient)
	mux.HandleFunc("GET /_sim/persons", s.adminPersons)
	mux.HandleFunc("POST /_sim/idporten/clients", s.adminAddIDPortenClient)
	mux.HandleFunc("POST /_sim/systemusers/{id}/clients/{client}", s.adminClientDelegation)
	mux.HandleFunc("DELETE /_sim/systemusers/{id}/clients/{client}", s.adminClientDelegation)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") {
			mux.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			s.mu.Lock()
			s.stats.Calls[pattern]++
			s.mu.Unlock()
		}
		s.serveWithFaults(w, r, mux)
	})
}
