package sim

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// pageSize is Altinn's PaginationOptions:Size.
	pageSize = 50
	// maxColumn is the length of Altinn's varchar(255) columns for externalRef and
	// integrationTitle; a longer value fails when the request is stored.
	maxColumn = 255
)

// createBody is the body of both create endpoints. Pointers tell a missing or null
// property from an empty one; encoding/json matches property names case-insensitively
// and ignores unknown ones, as Altinn does.
type createBody struct {
	SystemID         *string  `json:"systemId"`
	PartyOrgNo       *string  `json:"partyOrgNo"`
	ExternalRef      *string  `json:"externalRef"`
	IntegrationTitle *string  `json:"integrationTitle"`
	Rights           []Right  `json:"rights"`
	AccessPackages   []pkgRef `json:"accessPackages"`
	RedirectURL      *string  `json:"redirectUrl"`
}

// pkgRef is an access package on the wire.
type pkgRef struct {
	URN string `json:"urn"`
}

// requestResponse is RequestSystemResponse (standard) and, without rights,
// AgentRequestSystemResponse. Nulls are omitted as in Altinn.
type requestResponse struct {
	ID               string   `json:"id"`
	IntegrationTitle string   `json:"integrationTitle"`
	ExternalRef      string   `json:"externalRef"`
	SystemID         string   `json:"systemId"`
	PartyOrgNo       string   `json:"partyOrgNo"`
	Rights           *[]Right `json:"rights,omitempty"`
	AccessPackages   []pkgRef `json:"accessPackages"`
	Status           string   `json:"status"`
	RedirectURL      *string  `json:"redirectUrl,omitempty"`
	ConfirmURL       string   `json:"confirmUrl"`
	Escalated        bool     `json:"escalated"`
	Created          string   `json:"created"`
	TimedOut         *bool    `json:"timedOut,omitempty"`
}

// systemUserResponse is SystemUserExternalDTO, what the vendor sees of a system user.
type systemUserResponse struct {
	ID               string `json:"id"`
	IntegrationTitle string `json:"integrationTitle"`
	SystemID         string `json:"systemId"`
	ProductName      string `json:"productName"`
	ReporteeOrgNo    string `json:"reporteeOrgNo"`
	Created          string `json:"created"`
	IsDeleted        bool   `json:"isDeleted"`
	SupplierName     string `json:"supplierName"`
	SupplierOrgno    string `json:"supplierOrgno"`
	ExternalRef      string `json:"externalRef"`
	UserType         string `json:"userType"`
}

// paginated is Altinn's Paginated<T>: links.next is omitted on the last page.
type paginated struct {
	Links struct {
		Next string `json:"next,omitempty"`
	} `json:"links"`
	Data any `json:"data"`
}

// authorize checks the bearer token and the scopes (any of them) as Altinn's middleware
// does, before model binding: no or bad token → 401 with an empty body and a
// WWW-Authenticate header; no matching scope → 403 with an empty body.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scopes ...string) (*accessToken, bool) {
	h := r.Header.Get("Authorization")
	at, err := s.verifyBearer(h)
	if err != nil {
		if h == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
		return nil, false
	}
	for _, sc := range scopes {
		if slices.Contains(at.scopes, sc) {
			return at, true
		}
	}
	w.WriteHeader(http.StatusForbidden)
	return nil, false
}

// handleCreate serves POST request/vendor and request/vendor/agent.
func (s *Server) handleCreate(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at, ok := s.authorize(w, r, ScopeRequestWrite)
		if !ok {
			return
		}
		body, p := decodeCreateBody(w, r)
		if p != nil {
			writeProblem(w, p)
			return
		}
		if at.consumerOrg == "" {
			writeProblem(w, authProblem(23))
			return
		}
		status, resp, p := s.createRequest(at.consumerOrg, body, agent)
		if p != nil {
			writeProblem(w, p)
			return
		}
		if status == http.StatusCreated {
			w.Header().Set("Location", s.publicURL+apiBase+"/request/"+resp.ID)
		}
		writeJSON(w, status, resp)
	}
}

// decodeCreateBody does the framework's part: media type, JSON, the required fields,
// and Altinn's TrimStringsActionFilter on the top-level strings.
func decodeCreateBody(w http.ResponseWriter, r *http.Request) (*createBody, *problem) {
	b, prob := decodeJSON[createBody](w, r)
	if prob != nil {
		return nil, prob
	}
	for _, sp := range []*string{b.SystemID, b.PartyOrgNo, b.ExternalRef, b.IntegrationTitle, b.RedirectURL} {
		if sp != nil {
			*sp = strings.TrimSpace(*sp)
		}
	}
	errs := map[string][]string{}
	if b.SystemID == nil || *b.SystemID == "" {
		errs["SystemId"] = []string{"The SystemId field is required."}
	}
	if b.PartyOrgNo == nil || *b.PartyOrgNo == "" {
		errs["PartyOrgNo"] = []string{"The PartyOrgNo field is required."}
	}
	if len(errs) > 0 {
		return nil, validationProblem(errs)
	}
	return b, nil
}

// createRequest runs Altinn's create flow (contract §3.1 and §3.2) in its order.
func (s *Server) createRequest(vendor string, b *createBody, agent bool) (int, *requestResponse, *problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	systemID, orgNo := *b.SystemID, *b.PartyOrgNo

	// The key: only null is replaced here, so externalRef "" stays "" and misses
	// the duplicate checks below (the quirk in contract §3.1).
	keyRef := orgNo
	if b.ExternalRef != nil {
		keyRef = *b.ExternalRef
	}
	if s.activeUserLocked(systemID, orgNo, keyRef) != nil {
		return 0, nil, authProblem(4)
	}
	sys := s.systems[systemID]
	owned := sys != nil && sys.VendorOrgNo == vendor
	existing := s.liveRequestLocked(agent, systemID, orgNo, keyRef)
	var existingStatus string
	if existing != nil {
		existingStatus, _ = s.statusLocked(existing)
	}
	if owned && existing != nil && existingStatus != StatusTimedout {
		// The body of this call is ignored: 200 with what is stored.
		return http.StatusOK, s.responseLocked(existing), nil
	}

	if sys == nil {
		return 0, nil, authProblem(11)
	}
	if existing != nil {
		switch existingStatus {
		case StatusAccepted:
			return 0, nil, authProblem(6)
		case StatusNew:
			return 0, nil, authProblem(7)
		case StatusDenied:
			return 0, nil, authProblem(8)
		case StatusRejected:
			return 0, nil, authProblem(9)
		}
	}
	if !owned {
		return 0, nil, authProblem(11)
	}
	if _, ok := s.orgNameLocked(orgNo); !ok {
		return 0, nil, authProblem(0)
	}
	if p := checkRedirect(sys, b.RedirectURL); p != nil {
		return 0, nil, p
	}
	if agent {
		if len(b.AccessPackages) == 0 {
			return 0, nil, authProblem(58)
		}
		if p := s.checkPackagesLocked(sys, b.AccessPackages, true); p != nil {
			return 0, nil, p
		}
	} else {
		if b.Rights == nil && b.AccessPackages == nil {
			return 0, nil, authProblem(1)
		}
		if len(b.Rights) == 0 && len(b.AccessPackages) == 0 {
			return 0, nil, authProblem(59)
		}
		if len(b.Rights) > 0 && !rightsAllowed(sys.Rights, b.Rights) {
			return 0, nil, authProblem(1)
		}
		if len(b.AccessPackages) > 0 {
			if p := s.checkPackagesLocked(sys, b.AccessPackages, false); p != nil {
				return 0, nil, p
			}
		}
	}

	ref := orgNo
	if b.ExternalRef != nil && *b.ExternalRef != "" {
		ref = *b.ExternalRef
	}
	title := sys.Name["nb"]
	if b.IntegrationTitle != nil && *b.IntegrationTitle != "" {
		title = *b.IntegrationTitle
	}
	if len(ref) > maxColumn || len(title) > maxColumn {
		return 0, nil, authProblem(12)
	}
	req := &request{
		id:               newUUID(),
		agent:            agent,
		systemID:         systemID,
		partyOrgNo:       orgNo,
		externalRef:      ref,
		integrationTitle: title,
		packages:         []string{},
		redirectURL:      b.RedirectURL,
		status:           StatusNew,
		created:          s.worldNowLocked().UTC().Truncate(time.Microsecond),
	}
	if !agent {
		req.rights = cloneRights(b.Rights)
	}
	for _, p := range b.AccessPackages {
		req.packages = append(req.packages, p.URN)
	}
	s.reqSeq++
	req.seq = s.reqSeq
	s.requests[req.id] = req
	k := requestKey{req.agent, req.systemID, req.partyOrgNo, req.externalRef}
	s.byKey[k] = append(s.byKey[k], req)
	s.changedLocked()
	s.stats.RequestsCreated++
	s.logf("sim: request %s created for %s/%s/%s", req.id, systemID, orgNo, ref)
	return http.StatusCreated, s.responseLocked(req), nil
}

// requestKey is a request's Altinn key: Altinn allows one live request per key.
type requestKey struct {
	agent                             bool
	systemID, partyOrgNo, externalRef string
}

// liveRequestLocked returns the newest non-deleted request of the kind for the key, or
// nil. The caller holds s.mu.
func (s *Server) liveRequestLocked(agent bool, systemID, orgNo, externalRef string) *request {
	var found *request
	for _, r := range s.byKey[requestKey{agent, systemID, orgNo, externalRef}] {
		if r.deleted {
			continue
		}
		if found == nil || r.seq > found.seq {
			found = r
		}
	}
	return found
}

// responseLocked renders r as the vendor API shows it now, with the confirmUrl
// recomputed. In legacy10d mode timedOut is left out: the field came with the change
// that retired the 10-day rule. The caller holds s.mu.
func (s *Server) responseLocked(r *request) *requestResponse {
	status, timedOut := s.statusLocked(r)
	resp := &requestResponse{
		ID:               r.id,
		IntegrationTitle: r.integrationTitle,
		ExternalRef:      r.externalRef,
		SystemID:         r.systemID,
		PartyOrgNo:       r.partyOrgNo,
		AccessPackages:   make([]pkgRef, 0, len(r.packages)),
		Status:           status,
		RedirectURL:      r.redirectURL,
		ConfirmURL:       s.confirmURL(r),
		Escalated:        r.escalated,
		Created:          formatTime(r.created),
	}
	if !r.agent {
		rights := cloneRights(r.rights)
		resp.Rights = &rights
	}
	for _, p := range r.packages {
		resp.AccessPackages = append(resp.AccessPackages, pkgRef{URN: p})
	}
	if s.timeoutMode != TimeoutLegacy10d {
		resp.TimedOut = &timedOut
	}
	return resp
}

// handleGetRequest serves GET request/vendor/{id} and request/vendor/agent/{id}.
func (s *Server) handleGetRequest(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.byID(w, r, ScopeRequestRead, func(id string) (string, bool) {
			req := s.requests[id]
			if req == nil || req.deleted || req.agent != agent {
				return "", false
			}
			return req.systemID, true
		}, func(id string) {
			writeJSON(w, http.StatusOK, s.responseLocked(s.requests[id]))
		})
	}
}

// handleRequestByExternalRef serves GET request/vendor[/agent]/byexternalref/... . The
// path segments are taken as they are: not trimmed, not defaulted.
func (s *Server) handleRequestByExternalRef(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at, ok := s.authorize(w, r, ScopeRequestRead)
		if !ok {
			return
		}
		if at.consumerOrg == "" {
			writeProblem(w, bareProblem(http.StatusUnauthorized))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		req := s.liveRequestLocked(agent, r.PathValue("systemId"), r.PathValue("orgNo"), r.PathValue("externalRef"))
		if req == nil {
			writeProblem(w, authProblem(10))
			return
		}
		if !s.ownsLocked(at.consumerOrg, req.systemID) {
			writeProblem(w, authProblem(11))
			return
		}
		writeJSON(w, http.StatusOK, s.responseLocked(req))
	}
}

// handleRequestsBySystem serves GET request/vendor[/agent]/bysystem/{systemId}: the
// non-deleted requests of the kind, every status, ordered by id, 50 a page. The token
// is base64url of the JSON string of the first id of the next page, and the next page
// starts at that id (Altinn's off-by-one skip is not reproduced).
func (s *Server) handleRequestsBySystem(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bySystem(s, w, r, []string{ScopeRequestRead}, func(systemID, from string) {
			var reqs []*request
			for _, q := range s.requests {
				if !q.deleted && q.agent == agent && q.systemID == systemID && q.id >= from {
					reqs = append(reqs, q)
				}
			}
			writePage(s, w, r, reqs, func(q *request) string { return q.id }, strings.Compare, s.responseLocked)
		})
	}
}

// handleDeleteRequest serves DELETE request/vendor/{id}: a soft delete of a request of
// either kind in any status, 202 with an empty body. The real service does not check
// that the caller owns the request; the simulator does (contract §9, bugCompat off),
// so a client that deletes someone else's request is caught.
func (s *Server) handleDeleteRequest(w http.ResponseWriter, r *http.Request) {
	s.byID(w, r, ScopeRequestWrite, func(id string) (string, bool) {
		req := s.requests[id]
		if req == nil || req.deleted {
			return "", false
		}
		return req.systemID, true
	}, func(id string) {
		s.requests[id].deleted = true
		s.changedLocked()
		s.logf("sim: request %s deleted by the vendor", id)
		w.WriteHeader(http.StatusAccepted)
	})
}

// handleSystemUserByQuery serves GET systemuser/vendor/byquery. Anything not found,
// deleted or another vendor's is a bare 404.
func (s *Server) handleSystemUserByQuery(w http.ResponseWriter, r *http.Request) {
	at, ok := s.authorize(w, r, ScopeRequestWrite)
	if !ok {
		return
	}
	q := r.URL.Query()
	systemID, orgNo, ref := q.Get("system-id"), q.Get("orgno"), q.Get("external-ref")
	errs := map[string][]string{}
	if systemID == "" {
		errs["system-id"] = []string{"The system-id field is required."}
	}
	if orgNo == "" {
		errs["orgno"] = []string{"The orgno field is required."}
	}
	if len(errs) > 0 {
		writeProblem(w, validationProblem(errs))
		return
	}
	if at.consumerOrg == "" {
		writeProblem(w, bareProblem(http.StatusUnauthorized))
		return
	}
	if ref == "" {
		ref = orgNo
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.activeUserLocked(systemID, orgNo, ref)
	if u == nil || !s.ownsLocked(at.consumerOrg, u.systemID) {
		writeProblem(w, bareProblem(http.StatusNotFound))
		return
	}
	writeJSON(w, http.StatusOK, s.systemUserResponseLocked(u))
}

// handleSystemUsersBySystem serves GET systemuser/vendor/bysystem/{systemId}: the
// non-deleted system users of both kinds, in creation order, 50 a page; the token is
// base64url of the JSON number of the first item of the next page.
func (s *Server) handleSystemUsersBySystem(w http.ResponseWriter, r *http.Request) {
	bySystem(s, w, r, []string{ScopeRegisterWrite, ScopeRegisterAdmin}, func(systemID string, from int) {
		var users []*systemUser
		for _, u := range s.users {
			if !u.deleted && u.systemID == systemID && u.seq >= from {
				users = append(users, u)
			}
		}
		writePage(s, w, r, users, func(u *systemUser) int { return u.seq }, cmp.Compare[int], s.systemUserResponseLocked)
	})
}

// systemUserResponseLocked renders u as SystemUserExternalDTO. The caller holds s.mu.
func (s *Server) systemUserResponseLocked(u *systemUser) systemUserResponse {
	resp := systemUserResponse{
		ID:               u.id,
		IntegrationTitle: u.integrationTitle,
		SystemID:         u.systemID,
		ReporteeOrgNo:    u.partyOrgNo,
		Created:          formatTime(u.created),
		IsDeleted:        u.deleted,
		ExternalRef:      u.externalRef,
		UserType:         "standard",
	}
	if u.agent {
		resp.UserType = "agent"
	}
	if sys := s.systems[u.systemID]; sys != nil {
		resp.SupplierOrgno = sys.VendorOrgNo
		resp.SupplierName, _ = s.orgNameLocked(sys.VendorOrgNo)
	}
	return resp
}

// ownsLocked reports whether the system exists and belongs to the vendor. The caller
// holds s.mu.
func (s *Server) ownsLocked(vendor, systemID string) bool {
	sys := s.systems[systemID]
	return sys != nil && sys.VendorOrgNo == vendor
}

// nextURL is the absolute URL of the next page: the same route with ?token=.
func (s *Server) nextURL(r *http.Request, token string) string {
	return s.publicURL + r.URL.EscapedPath() + "?token=" + url.QueryEscape(token)
}

// encodeToken makes a page token: base64url of the JSON of v, as Altinn does.
func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a page token made by encodeToken, with or without padding.
func decodeToken(tok string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tok, "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// guidProblem is the framework's answer to a path segment that is not a GUID.
func guidProblem(name, value string) *problem {
	return validationProblem(map[string][]string{name: {fmt.Sprintf("The value '%s' is not valid.", value)}})
}

// redirectAllowed reports whether raw matches one of the allowed URLs as Altinn
// compares them: scheme, host and port (default ports normalised) and path exactly,
// with query and fragment ignored on both sides. Scheme and host are case-insensitive,
// the path is not. An error means raw is not an absolute URL.
func redirectAllowed(allowed []string, raw string) (bool, error) {
	want, err := redirectKey(raw)
	if err != nil {
		return false, err
	}
	for _, a := range allowed {
		if k, err := redirectKey(a); err == nil && k == want {
			return true, nil
		}
	}
	return false, nil
}

// redirectKey is scheme://host:port/path of an absolute URL, normalised as .NET's Uri
// does for comparison.
func redirectKey(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case port == "" && scheme == "https", port == "443" && scheme == "https":
		port = "443"
	case port == "" && scheme == "http", port == "80" && scheme == "http":
		port = "80"
	}
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port + path, nil
}

// rightsAllowed applies Altinn's rights check: no more rights than the system has, and
// every requested right fully matches a system right (the same attribute pairs in any
// order; action ignored).
func rightsAllowed(system, requested []Right) bool {
	if len(requested) > len(system) {
		return false
	}
	for _, rr := range requested {
		if !slices.ContainsFunc(system, func(sr Right) bool { return sameResource(sr.Resource, rr.Resource) }) {
			return false
		}
	}
	return true
}

// sameResource reports whether two resources hold the same attribute pairs.
func sameResource(a, b []AttributePair) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	cmp := func(x, y AttributePair) int {
		if c := strings.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return strings.Compare(x.Value, y.Value)
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(sa, cmp)
	slices.SortFunc(sb, cmp)
	return slices.Equal(sa, sb)
}

// checkPackagesLocked applies Altinn's access-package checks: AUTH-00063 when the
// system has no packages or fewer than requested (no extension) or a package is not
// on the system (NotFoundPackages); AUTH-00064 (standard, not assignable) or
// AUTH-00065 (agent, not client-delegable) with NotDelegablePackages. Whether a
// package is assignable or client-delegable is the package's own metadata (the
// catalogue, with a seed package's flags added). The caller holds s.mu.
func (s *Server) checkPackagesLocked(sys *System, requested []pkgRef, agent bool) *problem {
	if len(sys.AccessPackages) == 0 || len(requested) > len(sys.AccessPackages) {
		return authProblem(63)
	}
	var notFound, notDelegable []string
	for _, p := range requested {
		i := slices.IndexFunc(sys.AccessPackages, func(sp Package) bool { return sp.URN == p.URN })
		if i < 0 {
			notFound = append(notFound, p.URN)
			continue
		}
		if assignable, delegable := s.packageFlagsLocked(sys.AccessPackages[i]); agent && !delegable || !agent && !assignable {
			notDelegable = append(notDelegable, p.URN)
		}
	}
	if len(notFound) > 0 {
		return authProblem(63, "NotFoundPackages", strings.Join(notFound, ","))
	}
	if len(notDelegable) > 0 {
		code := 64
		if agent {
			code = 65
		}
		return authProblem(code, "NotDelegablePackages", strings.Join(notDelegable, ","))
	}
	return nil
}

// cloneRights deep-copies rights, never returning nil.
func cloneRights(rs []Right) []Right {
	out := make([]Right, 0, len(rs))
	for _, r := range rs {
		out = append(out, Right{Action: r.Action, Resource: slices.Clone(r.Resource)})
	}
	return out
}

// decodeJSON does ASP.NET's model binding of a JSON body into a T, as
// Altinn's controllers get it: the media type (415), a readable, non-empty,
// non-null body, and a value that converts (400 ValidationProblemDetails
// naming the JSON path).
func decodeJSON[T any](w http.ResponseWriter, r *http.Request) (*T, *problem) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, bareProblem(http.StatusUnsupportedMediaType)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, validationProblem(map[string][]string{"$": {"The request body could not be read."}})
	}
	required := []string{"The request field is required."}
	switch trimmed := bytes.TrimSpace(raw); {
	case len(trimmed) == 0:
		return nil, validationProblem(map[string][]string{"": {"A non-empty request body is required."}, "request": required})
	case string(trimmed) == "null":
		return nil, validationProblem(map[string][]string{"request": required})
	}
	var b T
	if err := json.Unmarshal(raw, &b); err != nil {
		path := "$"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			path = "$." + te.Field
		}
		return nil, validationProblem(map[string][]string{
			path:      {"The JSON value could not be converted: " + err.Error()},
			"request": required,
		})
	}
	return &b, nil
}
