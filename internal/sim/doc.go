// Package sim is a simulator of the pieces of the outside world that onboard talks
// to when it connects a customer to Altinn 3 through a system user:
//
//   - the Maskinporten token endpoint (RFC 7523 JWT-bearer grants),
//   - Altinn's system-user vendor API under /authentication/api/v1/systemuser/,
//   - Altinn's system register vendor API under /authentication/api/v1/systemregister/,
//     with the access-package metadata and Resource Registry it checks against,
//   - the Altinn confirm page where a person at the customer approves, rejects or
//     escalates a request, or approves or rejects a change request,
//   - ID-porten (OpenID Connect, with a test-person picker instead of a login),
//     Altinn's exchange of its tokens, and Altinn's client-delegation API with
//     which an accountant adds the firm's clients to an agent system user
//     (clientdelegation.md).
//
// It is the backend the service uses when it runs without credentials, and the one all
// tests run against. It is written from the contract notes in shared/altinn
// (contract.md, maskinporten.md, systemregister.md, metadata.md), not from our own
// client, so that it catches our
// client's mistakes: it validates grants the way Maskinporten does, follows Altinn's
// processing order for creates, returns the same status codes and problem bodies, and
// redirects the browser to the stored redirectUrl byte for byte.
//
// # Routes
//
// Maskinporten (issuer = PublicURL + "/"):
//
//	GET  /.well-known/oauth-authorization-server
//	GET  /jwk
//	POST /token
//
// All three send a Date header from Maskinporten's clock, which grants are checked
// against (iat within 10 s) and which SetMaskinportenClockOffset can skew.
//
// Altinn vendor API (base = PublicURL):
//
//	POST   /authentication/api/v1/systemuser/request/vendor
//	POST   /authentication/api/v1/systemuser/request/vendor/agent
//	GET    /authentication/api/v1/systemuser/request/vendor/{id}
//	GET    /authentication/api/v1/systemuser/request/vendor/agent/{id}
//	GET    /authentication/api/v1/systemuser/request/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}
//	GET    /authentication/api/v1/systemuser/request/vendor/agent/byexternalref/{systemId}/{orgNo}/{externalRef}
//	GET    /authentication/api/v1/systemuser/request/vendor/bysystem/{systemId}
//	GET    /authentication/api/v1/systemuser/request/vendor/agent/bysystem/{systemId}
//	DELETE /authentication/api/v1/systemuser/request/vendor/{id}
//	GET    /authentication/api/v1/systemuser/vendor/byquery?system-id=&orgno=&external-ref=
//	GET    /authentication/api/v1/systemuser/vendor/bysystem/{systemId}
//	POST   /authentication/api/v1/systemuser/changerequest/vendor?correlation-id=&system-user-id=
//	GET    /authentication/api/v1/systemuser/changerequest/vendor/{id}
//	GET    /authentication/api/v1/systemuser/changerequest/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}
//	GET    /authentication/api/v1/systemuser/changerequest/vendor/bysystem/{systemId}
//	DELETE /authentication/api/v1/systemuser/changerequest/vendor/{id}
//
// Altinn system register vendor API (scope systemregister.write or .admin; another
// vendor's system is a 403 with an empty body):
//
//	GET    /authentication/api/v1/systemregister/vendor
//	POST   /authentication/api/v1/systemregister/vendor
//	GET    /authentication/api/v1/systemregister/vendor/{systemId}
//	PUT    /authentication/api/v1/systemregister/vendor/{systemId}
//	PUT    /authentication/api/v1/systemregister/vendor/{systemId}/rights
//	PUT    /authentication/api/v1/systemregister/vendor/{systemId}/accesspackages
//	DELETE /authentication/api/v1/systemregister/vendor/{systemId}
//	GET    /authentication/api/v1/systemregister/vendor/{systemId}/changelog
//
// They follow systemregister.md §1-4: POST and PUT in Altinn's processing order,
// validation errors as one 400 (STD-00000) listing AUTH.VLD-000NN codes, PUT as a
// whole replace (a list left out becomes empty, isVisible left out true, and the
// clientId list is what system-user tokens are checked against), soft deletes whose
// ids are never free again, and a change log (newest first, changedData with
// PascalCase keys). Packages are checked against the access-package catalogue,
// rights against the Resource Registry, both below.
//
// Anonymous metadata:
//
//	GET /accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urnValue}
//	GET /resourceregistry/api/v1/resource/{id}
//
// The first answers Access Management's PackageDto in the Accept-Language language
// for the one package whose URN ends with the value. Whether a package is assignable
// (to a standard system user) or delegable (to an agent one) belongs to the package:
// the simulator has a built-in catalogue of ordinary, client-only, admin-type and
// unusable packages (metadata.go, systemregister.md §7), to which a seed system's
// packages and their flags are added. The second answers a ServiceResource: the
// built-in resources (two of type MaskinportenSchema, which the register refuses in
// rights with AUTH.VLD-00017), the seed systems' rights, and with Seed.AnyResource
// every plausible id as a delegable resource of type Default.
//
// Brønnøysund's Enhetsregisteret (open, as data.brreg.no; brreg.go), where the
// wizard reads the company's name:
//
//	GET /enhetsregisteret/api/enheter/{orgnr}
//	GET /enhetsregisteret/api/underenheter/{orgnr}
//
// A malformed number (not nine digits, or a wrong mod-11 check digit) is a 400;
// an organisation of the seed answers its name in upper case, as the register
// writes names ("LUNEFULL HANDLEKRAFTIG TIGER AS"); with Seed.AnyValidOrg every
// other valid number is an AS named from its digits 6-8 (BrregName, e.g.
// 311093363 is "NORDRE ELV KONSULT AS"), else a 404. The answers are HAL-ish
// (_links.self) in the versioned media type the client asks for
// (application/vnd.brreg.enhetsregisteret.enhet.v2+json, or underenhet), else
// application/json. Special numbers, all valid mod-11:
//
//	319900004  deleted: 200 with slettedato 2023-06-30 (few fields)    BrregDeleted
//	319900012  removed: 410 {"organisasjonsnummer","slettedato"}       BrregRemoved
//	319900020  unknown: 404 on /enheter and on /underenheter           BrregUnknown
//	319900039  a sub-unit (BEDR): 404 on /enheter, 200 on /underenheter
//	           with overordnetEnhet 314248295 (the demo customer)      BrregSubUnit
//	319900047  bankrupt: konkurs true                                  BrregBankrupt
//	319900055  being wound up: underAvvikling true                     BrregWindingUp
//	319900063  the register down: 503                                  BrregUnavailable
//	319900071  slow: answers after 3 s (past the service's 2 s limit)  BrregSlow
//
// Only BrregSubUnit is a sub-unit: every other number is a 404 on /underenheter.
// Faults apply here as everywhere, e.g. {"path":"/enhetsregisteret/api/","hang":true}
// or {"path":"/enhetsregisteret/api/enheter/","status":429}.
//
// ID-porten (issuer = PublicURL + "/idporten", no trailing slash; idporten.go):
//
//	GET  /idporten/.well-known/openid-configuration
//	GET  /idporten/authorize       the test-person picker ("Simulert ID-porten – ingen ekte innlogging")
//	POST /idporten/authorize       the picker's form: a code (or access_denied) to the redirect URI
//	POST /idporten/token           authorization_code and refresh_token grants
//	GET  /idporten/jwks.json
//
// authorize follows clientdelegation.md §7: response_type=code only, a known
// client_id and one of its redirect URIs matched exactly (else an error page, never
// a redirect), scope with openid (others must be registered on the client: by
// default altinn:clientdelegations.read and .write), state, nonce and a PKCE
// code_challenge with method S256 all required (plain or none is invalid_request),
// acr_values idporten-loa-substantial (the default) or idporten-loa-high. Other
// errors go to the redirect URI with error, error_description, state and iss
// (RFC 9207), as does the code. The picker lists the seed's persons with their
// roles; it needs no JavaScript (and allows none). token authenticates the client
// by the one method it is registered with: private_key_jwt (client_assertion with
// a registered kid, RS256/384/512, iss = sub = client_id, aud = the issuer, exp -
// iat at most 120 s, iat within 10 s, a jti used once), client_secret_basic or
// client_secret_post; a failure is 401 invalid_client. A code lasts 60 s, is
// spent by its first redemption (even a failed one), must come with the same
// redirect_uri and a code_verifier whose S256 is the challenge (else
// invalid_grant). The answer has an id_token (RS256 with kid: iss, aud =
// client_id, pairwise sub, pid, nonce, acr, amr ["TestID"], iat, exp, auth_time,
// sid, locale), an access_token (a JWT "by value": client_id, client_amr,
// aud "unspecified", sub, pid, acr, amr, scope without openid, iat, exp,
// auth_time, jti), token_type Bearer, expires_in (Config.IDPortenTokenLifetime,
// 120 s by default), scope and a refresh_token (2 h, spent on use). Clients come
// from Seed.IDPortenClients and AddIDPortenClient (DevIDPortenClient is the
// service's: client id onboard-dev-idporten, redirect URI <service public
// URL>/idporten/callback, private_key_jwt).
//
// Altinn's token exchange (clientdelegation.md §1):
//
//	GET /authentication/api/v1/exchange/id-porten     Authorization: Bearer <ID-porten access token>
//
// It checks the signature against ID-porten's key and the lifetime (10 s skew),
// not iss or aud; no pid or acr, or a person not in the seed, is a 401 (as is a
// Maskinporten token: another key); no scope starting with altinn: a 403 (so the
// id_token, which has no scope, is refused). 200 answers the Altinn JWT as
// text/plain: ID-porten's claims, iss = PublicURL + "/authentication/api/v1/openid/",
// urn:altinn:userid, urn:altinn:partyid, urn:altinn:party:uuid and
// urn:altinn:authlevel (substantial 3, high 4), with the access token's exp.
//
// What the vendor sees without a person (systemuser-token.md §6,
// clientdelegation.md §6; authorizedparties.go):
//
//	GET /authentication/api/v1/exchange/maskinporten   Authorization: Bearer <Maskinporten token>
//	GET /accessmanagement/api/v1/enduser/authorizedparties   scope altinn:accessmanagement/authorizedparties
//
// The exchange takes a Maskinporten token the simulator issued (its key,
// issuer and lifetime) with a consumer, else 401, and answers an Altinn JWT
// as text/plain keeping scope, consumer and authorization_details, adding
// urn:altinn:orgNumber and urn:altinn:authlevel "3", living 30 minutes
// (Altinn's JwtValidityMinutes) whatever the Maskinporten token's exp.
// authorizedparties takes such a token of a system user (else 401; without
// the scope 403) and answers a JSON array of parties (partyUuid, name,
// organizationNumber, partyId, type "Organization", unitType,
// authorizedAccessPackages: the system user's, …, subunits []): for an agent
// system user the clients delegated to it, in the order added; for a
// standard one its owner; none once deleted. UNCONFIRMED, chosen as most
// likely: that an agent's owner org is not itself listed (the service skips
// it anyway), that the query parameters (includeAltinn2 and the like) change
// nothing here, and the exact fields of a party.
//
// Client delegation (base /authentication/api/v1/enduser/systemuser; clientdelegation.go):
//
//	GET    .../agents?party={orgno}                   scope altinn:clientdelegations.read
//	GET    .../clients/available?agent={id}           read
//	GET    .../clients?agent={id}                     read
//	POST   .../clients?agent={id}&client={party uuid} altinn:clientdelegations.write
//	DELETE .../clients?agent={id}&client={party uuid} write
//
// They take only an Altinn token from the exchange (a Maskinporten or raw ID-porten
// token is a 401, empty body) and check, in §3's order: the scope (403, empty); a
// non-GUID agent or client (400 with errors); agent missing or zero, or not a live
// system user (400 STD-00000 with AUTH.VLD-00014), a standard one (AUTH.VLD-00015);
// client missing or zero (AUTH.VLD-00016); the owner in Register (404 "System
// Owner not Found"); the PDP check (403, empty): the person holds
// klientadministrator or hovedadministrator, or KLADM or HADM, at the owner, at
// authentication level 3 or more. Then: available lists the owner's live clients
// that gave it any of the system user's packages; clients lists those delegated,
// in the order added; POST needs packages on the system user (AUTH-00063), the
// client among the available ones (AUTH-00079 "Client not found", 400) holding
// every package (AUTH-00080, 400), and answers {"agent","client"}; DELETE answers
// the same, or 404 AUTH-00038 when the client is not delegated. Lists are
// {"links":{},"systemUserInformation":{...},"data":[{clientId,
// clientOrganizationNumber, clientOrganizationName}]}, never paged. agents
// answers every live agent system user of the org, from every vendor (404 "Party
// not found" for an org not in Register).
//
// The seed (DefaultFirms, DefaultPersons): Fjellheim Regnskap AS (310000019) has
// 320 live clients, the seed's named organisations first and then valid numbers
// from 312100000 up with names made of their digits; every 40th from the 8th has
// the firm as business manager (forretningsforer-eiendom), from the 20th gave it
// only regnskapsforer-lonn, from the 32nd only regnskapsforer-uten-
// signeringsrettighet; the rest have it as accountant (all three regnskapsforer
// packages). 319900004 (BrregDeleted) is a deleted client, never available. Vestland
// Revisjon AS (315000009) audits four organisations and keeps the books of two.
// Persons: 15838540063 Kari Fjellheim (klientadministrator at Fjellheim Regnskap),
// 02879040089 Henrik Dahl (HADM there), 24917240082 Vera Vestrheim
// (klientadministrator at Vestland Revisjon only) and 11886840073 Ola Berg (works
// at Fjellheim Regnskap without a role). A client's party UUID is derived from
// its org number, so it is the same at every start.
//
// Confirm page (the customer's side):
//
//	GET|POST /accessmanagement/ui/systemuser/request?id=...
//	GET|POST /accessmanagement/ui/systemuser/agentrequest?id=...
//	GET|POST /accessmanagement/ui/systemuser/changerequest?id=...
//	GET      /logged-out
//
// # Admin API
//
// People who test without Go (vendors running `onboard sim`) drive the simulator over
// HTTP. These routes are unauthenticated, are never subject to injected faults, and
// exist only in the simulator:
//
//	POST   /_sim/requests/{id}/approve          approve as the customer would (200 + request JSON)
//	POST   /_sim/requests/{id}/reject           reject (200 + request JSON)
//	POST   /_sim/requests/{id}/escalate         escalate to an access manager (200 + request JSON)
//	POST   /_sim/systemusers/{id}/delete        the customer deletes the system user (204)
//	GET    /_sim/requests                       all requests as a JSON list (see RequestInfo)
//	POST   /_sim/changerequests/{id}/approve    approve a change request (200 + ChangeRequestInfo)
//	POST   /_sim/changerequests/{id}/reject     reject a change request (200 + ChangeRequestInfo)
//	GET    /_sim/changerequests                 all change requests as a JSON list (see ChangeRequestInfo)
//	GET    /_sim/stats                          call counters (see Stats)
//	POST   /_sim/faults                         inject a Fault given as JSON; returns {"id": "..."}
//	DELETE /_sim/faults                         remove all faults
//	DELETE /_sim/faults/{id}                    remove one fault
//	POST   /_sim/clock                          {"offset":"240h"} moves the clock forward
//	GET    /_sim/clientdelegations              every client delegation (see ClientDelegationInfo)
//	POST   /_sim/systemusers/{id}/clients/{c}   add client c (party UUID or org number) as in Altinn's portal (204)
//	DELETE /_sim/systemusers/{id}/clients/{c}   remove it as in the portal (204; 404 AUTH-00038)
//	GET    /_sim/firms/{orgNo}/clients          the firm's clients: relationship, packages, deleted, ended
//	POST   /_sim/firms/{orgNo}/clients/{c}/end  client c leaves the firm: no longer available, an add is AUTH-00079 (204)
//	GET    /_sim/persons                        the test persons and their roles
//	POST   /_sim/idporten/clients               register an ID-porten client given as IDPortenClient JSON (201)
//
// The admin clock, like Server.SetNow, ages requests and system users (timedOut,
// legacy Timedout) but leaves the checks of grants and access tokens on the real clock
// (Config.Now), because the client signs its grants and caches its tokens by that one.
//
// Errors from the admin API use the same problem+json shape as Altinn: approving a
// request that is not New gives 409 AUTH-00013, an unknown id 404 AUTH-00010, a key
// that already has a system user 400 AUTH-00004, and approving a change request whose
// system user is gone 404 AUTH-00015.
//
// System users remember their rights and access packages: those of the approved
// request, with the required ones of each approved change request added (unless
// already held) and the unwanted ones removed. Server.SystemUserRights shows them.
//
// A Fault in JSON uses the field names method, path, status, body, header, latency
// (a Go duration string such as "2s", or nanoseconds), times, afterStore, hang and
// malformed.
//
// # Set-up mistakes on purpose
//
// So that `onboard doctor` can be seen failing, the app starts the simulator
// misconfigured when ONBOARD_SIM_BREAK names a mistake (config.SimBreaks):
//
//	scope[=<scope>]  the service's Maskinporten client lacks the scope (default systemregister.write): MP-200
//	system           the products' systems are not in the system register (left out of the seed)
//	right            the system lacks the first product right (taken out of the seed)
//	redirect         the service's return URL is not an allowed redirect URL: AUTH-00021
//	clientid         the service's client id is not on the system's clientId list: MP-303
//	clock[=<offset>] Maskinporten's clock is off by the offset (default 30s)
//
// Without them the app's RegisterWithSim does at every start what a vendor does in
// Altinn: it gives its client the vendor scopes and every product's scopes and puts
// the client id (AddClientID) and the return URL (AddRedirectURL) on each product's
// system the register has; a system it lacks is left for `onboard system apply` to
// register, and the client belongs to the vendor the system ids start with. The hooks behind the breaks are RemoveClientID, RemoveRedirectURL and
// SetMaskinportenClockOffset; "system" and "right" change the seed, so a state file
// saved under them is replaced by the seed's systems when they are lifted.
//
// # State across restarts
//
// With Config.StatePath set (the app's ONBOARD_SIM_STATE, by default
// sim-state.json in ONBOARD_DATA_DIR), the simulator keeps what Altinn keeps in
// its database in that file: the system register as changed since the seed,
// requests, system users, change requests, their sequences and the admin
// clock's offset. New restores it, so a restart of `make run` leaves every
// customer as it was. Nothing answered is lost: an answer to any call that may
// change the state (every method but GET and HEAD, the confirm page's forms and
// the admin API's POSTs included) leaves only once the change is on disk, a read
// that sees a change waits for it too, and exported hooks such as Approve save
// before they return. Concurrent changes share one write (group commit); the file
// is replaced atomically (a temporary file, fsync, rename) and readable by its
// owner only. A change that cannot be saved is answered with a 500.
//
// The client delegations and the client relationships ended through the admin
// API are kept too (in the same file version: a file without them has none); a
// system user deleted by the customer loses its delegations.
//
// Not kept: organisations, the package and resource catalogues and the
// Maskinporten clients (they come from the seed and AddClient at every start),
// the firms' clients, the persons and the ID-porten clients (seed and
// AddIDPortenClient), the token-signing keys (a restart makes clients fetch new
// tokens, as after a 401, and ends every ID-porten login: codes, refresh tokens
// and exchanged Altinn tokens no longer work), faults, Stats and used grant ids. When the seed's systems differ from
// those the file was saved with, the seed's systems replace the saved ones
// (StateInfo.SeedChanged). A file New cannot read is an error that names it;
// deleting the file starts afresh from the seed.
//
// # Deliberate differences from Altinn
//
//   - The real system register only accepts https redirect URLs. The simulator also
//     accepts http when the host is localhost, 127.0.0.1 or [::1], so a developer's
//     service on http://localhost can receive the customer's return. Matching itself is
//     as in Altinn. This holds for the system register's POST and PUT too, so `onboard
//     system apply` against the simulator never shows the AUTH.VLD-00005 that Altinn
//     gives for an http://localhost return URL (a wrong ONBOARD_PUBLIC_URL).
//   - DELETE request/vendor/{id} checks that the caller owns the request's system
//     (404 AUTH-00011). Altinn does not (contract §3.4); the simulator follows the
//     contract's bugCompat-off default so that a client deleting someone else's request
//     is caught. Likewise the request lists page correctly instead of skipping an item
//     at each page boundary, and the agent list is ordered by id. The same holds for
//     change requests: DELETE checks ownership, bysystem pages instead of looping on
//     the first page, and byexternalref returns the access-package lists instead of
//     empty ones (it returns the newest change request for the key, where Altinn
//     returns an arbitrary one).
//   - The confirm page acts at once: there is no ID-porten login, logout round trip or
//     party check, and escalation redirects to the redirectUrl for agent requests too.
//   - The change-request page has no escalate button. A correlation-id already used by
//     a deleted change request, or by another vendor's, fails with 404 AUTH-00012
//     (storing failed) once validation passes.
//   - The system register checks ownership for .admin tokens too (whether Digdir's
//     admin scope passes it in Altinn is UNCONFIRMED), orders GET vendor by id, and
//     answers an unknown system on PUT rights and accesspackages with a 500, as
//     Altinn most likely does (systemregister.md §1). The package catalogue is a part
//     of Altinn's (about 30 of some 220 packages); English and Nynorsk names are
//     Altinn's where known here.
//   - x5c (certificate) grants are not simulated.
//   - ID-porten: there is no login, session, SSO, logout or consent; the picker
//     logs anyone in at the acr asked for. Codes, refresh tokens and the signing
//     key live in memory. Access tokens are always JWTs (that Altinn's scopes are
//     issued "by value" is UNCONFIRMED, clientdelegation.md §1). The lifetimes (60 s
//     codes, 120 s tokens, 2 h refresh tokens) are the simulator's choice; that a
//     failed redemption spends the code follows RFC 6749's advice. ID-porten's
//     real authorize endpoint is on another host (login.idporten.no); here every
//     endpoint is under the issuer. ui_locales and prompt are accepted and ignored.
//   - Exchange: a person must be in the seed ("unknown in Altinn" is a 401);
//     ?test=true is ignored, as in Altinn's code.
//   - Client delegation, where the notes are UNCONFIRMED: available is filtered to
//     clients holding any of the system user's packages (Access Management's
//     filter; whether it wants any or all is not known), so a client that gave
//     only some of them is listed and refused with AUTH-00080 on POST. Adding a
//     client already delegated answers 200 as the first time and stores nothing
//     twice (Access Management's delegation is taken to be idempotent). Removing
//     one that is not delegated is 404 AUTH-00038. The titles of AUTH-00038/79/80
//     and the AUTH.VLD-00014..16 messages are the simulator's words. A deleted
//     organisation is not available (Access Management is taken to drop its
//     relationships); what happens to existing delegations when a client drops
//     its accountant is not simulated. ClientInfo carries no access packages, as
//     in the notes' shape; the admin API's firm list shows them.
//   - The portal routes (systemuser/agent/{party}/...) are not simulated; the admin
//     API stands in for them.
package sim
