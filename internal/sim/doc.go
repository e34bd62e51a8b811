// Package sim is a simulator of the three pieces of the outside world that
// onboard talks to when it connects a customer to Altinn 3 through a system user:
//
//   - the Maskinporten token endpoint (RFC 7523 JWT-bearer grants),
//   - Altinn's system-user vendor API under /authentication/api/v1/systemuser/,
//   - the Altinn confirm page where a person at the customer approves, rejects or
//     escalates a request, or approves or rejects a change request.
//
// It is the backend the service uses when it runs without credentials, and the one all
// tests run against. It is written from the contract notes in shared/altinn
// (contract.md, maskinporten.md), not from our own client, so that it catches our
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
// Not kept: organisations, the package and resource catalogues and the
// Maskinporten clients (they come from the seed and AddClient at every start),
// the token-signing key (a restart makes clients fetch new tokens, as after a
// 401), faults, Stats and used grant ids. When the seed's systems differ from
// those the file was saved with, the seed's systems replace the saved ones
// (StateInfo.SeedChanged). A file New cannot read is an error that names it;
// deleting the file starts afresh from the seed.
//
// # Deliberate differences from Altinn
//
//   - The real system register only accepts https redirect URLs. The simulator also
//     accepts http when the host is localhost, 127.0.0.1 or [::1], so a developer's
//     service on http://localhost can receive the customer's return. Matching itself is
//     as in Altinn.
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
//   - The system register API and x5c (certificate) grants are not simulated.
package sim
