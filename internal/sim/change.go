package sim

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// StatusNoChangeNeeded is the status of a change request that asks for nothing. It is
// only returned, never stored.
const StatusNoChangeNeeded = "NoChangeNeeded"

// noChangeCreated is what Altinn sends as created for a NoChangeNeeded answer: the
// response is built in code without a stored row, so it carries .NET's default
// DateTime (UNCONFIRMED; a client must tolerate it either way).
const noChangeCreated = "0001-01-01T00:00:00"

// changeRequest is a stored change request (endringsforespørsel) for a standard
// system user. Its id is the vendor's correlation-id.
type changeRequest struct {
	id               string
	systemUserID     string
	systemID         string
	partyOrgNo       string
	externalRef      string
	requiredRights   []Right
	unwantedRights   []Right
	requiredPackages []string
	unwantedPackages []string
	redirectURL      *string
	status           string
	deleted          bool
	created          time.Time
	seq              int
}

// changeBody is ChangeRequestSystemUser. Missing lists are empty ones.
type changeBody struct {
	RequiredRights         []Right  `json:"requiredRights"`
	UnwantedRights         []Right  `json:"unwantedRights"`
	RequiredAccessPackages []pkgRef `json:"requiredAccessPackages"`
	UnwantedAccessPackages []pkgRef `json:"unwantedAccessPackages"`
	RedirectURL            *string  `json:"redirectUrl"`
}

// changeResponse is ChangeRequestResponse. Nulls are omitted as in Altinn.
type changeResponse struct {
	ID                     string   `json:"id"`
	ExternalRef            string   `json:"externalRef"`
	SystemID               string   `json:"systemId"`
	SystemUserID           string   `json:"systemUserId"`
	PartyOrgNo             string   `json:"partyOrgNo"`
	RequiredRights         []Right  `json:"requiredRights"`
	UnwantedRights         []Right  `json:"unwantedRights"`
	RequiredAccessPackages []pkgRef `json:"requiredAccessPackages"`
	UnwantedAccessPackages []pkgRef `json:"unwantedAccessPackages"`
	Status                 string   `json:"status"`
	RedirectURL            *string  `json:"redirectUrl,omitempty"`
	ConfirmURL             string   `json:"confirmUrl"`
	Created                string   `json:"created"`
	TimedOut               *bool    `json:"timedOut,omitempty"`
}

// ChangeRequestInfo is a snapshot of one stored change request, for tests and the
// admin API.
type ChangeRequestInfo struct {
	// ID is the vendor's correlation-id.
	ID           string `json:"id"`
	SystemUserID string `json:"systemUserId"`
	SystemID     string `json:"systemId"`
	PartyOrgNo   string `json:"partyOrgNo"`
	ExternalRef  string `json:"externalRef"`
	// RequiredRights and RequiredAccessPackages are to be added on approval,
	// UnwantedRights and UnwantedAccessPackages removed.
	RequiredRights         []Right  `json:"requiredRights"`
	UnwantedRights         []Right  `json:"unwantedRights"`
	RequiredAccessPackages []string `json:"requiredAccessPackages"`
	UnwantedAccessPackages []string `json:"unwantedAccessPackages"`
	// Status is the status as the API would show it now (legacy10d may read Timedout).
	Status   string `json:"status"`
	TimedOut bool   `json:"timedOut"`
	Deleted  bool   `json:"deleted"`
	// RedirectURL is the stored redirectUrl, "" when none was given.
	RedirectURL string    `json:"redirectUrl"`
	ConfirmURL  string    `json:"confirmUrl"`
	Created     time.Time `json:"created"`
}

// ChangeRequests returns a snapshot of every stored change request, deleted ones
// included, in the order they were created. NoChangeNeeded answers are not stored.
func (s *Server) ChangeRequests() []ChangeRequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*changeRequest, 0, len(s.changes))
	for _, c := range s.changes {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *changeRequest) int { return a.seq - b.seq })
	out := make([]ChangeRequestInfo, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.changeInfoLocked(c))
	}
	return out
}

// changeInfoLocked builds the ChangeRequestInfo of c. The caller holds s.mu.
func (s *Server) changeInfoLocked(c *changeRequest) ChangeRequestInfo {
	status, timedOut := s.agedStatusLocked(c.status, c.created)
	info := ChangeRequestInfo{
		ID: c.id, SystemUserID: c.systemUserID, SystemID: c.systemID, PartyOrgNo: c.partyOrgNo,
		ExternalRef:            c.externalRef,
		RequiredRights:         cloneRights(c.requiredRights),
		UnwantedRights:         cloneRights(c.unwantedRights),
		RequiredAccessPackages: append([]string{}, c.requiredPackages...),
		UnwantedAccessPackages: append([]string{}, c.unwantedPackages...),
		Status:                 status, TimedOut: timedOut, Deleted: c.deleted,
		ConfirmURL: s.changeConfirmURL(c.id), Created: c.created,
	}
	if c.redirectURL != nil {
		info.RedirectURL = *c.redirectURL
	}
	return info
}

// ApproveChange approves a change request as the customer's approve button does: the
// required rights and access packages the system user lacks are added, the unwanted
// ones removed, and the status becomes Accepted. It returns ErrNotFound, ErrNotNew, or
// ErrNoSystemUser when the system user has been deleted (the change request then stays
// New).
func (s *Server) ApproveChange(changeRequestID string) error {
	_, err := s.decideChange(changeRequestID, actionApprove)
	return s.commitAfter(err)
}

// RejectChange rejects a change request as the customer's reject button does. It
// returns ErrNotFound or ErrNotNew.
func (s *Server) RejectChange(changeRequestID string) error {
	_, err := s.decideChange(changeRequestID, actionReject)
	return s.commitAfter(err)
}

// SystemUserRights returns what the system user holds now: its rights and the URNs of
// its access packages, those of the approved request as changed by approved change
// requests. ok is false when there is no such system user or it has been deleted.
func (s *Server) SystemUserRights(systemUserID string) (rights []Right, packages []string, ok bool) {
	id, ok := parseGUID(systemUserID)
	if !ok {
		return nil, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil || u.deleted {
		return nil, nil, false
	}
	return cloneRights(u.rights), append([]string{}, u.packages...), true
}

// decideChange applies the customer's decision to a live change request whose status
// reads New, and returns its stored redirectUrl (nil when none was given).
func (s *Server) decideChange(changeRequestID, action string) (*string, error) {
	id, ok := parseGUID(changeRequestID)
	if !ok {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[id]
	if c == nil || c.deleted {
		return nil, ErrNotFound
	}
	if st, _ := s.agedStatusLocked(c.status, c.created); st != StatusNew {
		return nil, ErrNotNew
	}
	switch action {
	case actionApprove:
		u := s.users[c.systemUserID]
		if u == nil || u.deleted {
			return nil, ErrNoSystemUser
		}
		// Altinn skips what is already delegated, delegates the rest, then revokes
		// the unwanted rights and packages.
		for _, r := range c.requiredRights {
			if !slices.ContainsFunc(u.rights, func(h Right) bool { return sameResource(h.Resource, r.Resource) }) {
				u.rights = append(u.rights, Right{Action: r.Action, Resource: slices.Clone(r.Resource)})
			}
		}
		for _, p := range c.requiredPackages {
			if !slices.Contains(u.packages, p) {
				u.packages = append(u.packages, p)
			}
		}
		for _, r := range c.unwantedRights {
			u.rights = slices.DeleteFunc(u.rights, func(h Right) bool { return sameResource(h.Resource, r.Resource) })
		}
		u.packages = slices.DeleteFunc(u.packages, func(p string) bool { return slices.Contains(c.unwantedPackages, p) })
		c.status = StatusAccepted
		s.logf("sim: change request %s approved; system user %s changed", c.id, u.id)
	case actionReject:
		c.status = StatusRejected
		s.logf("sim: change request %s rejected", c.id)
	default:
		return nil, fmt.Errorf("sim: unknown action %q", action)
	}
	s.changedLocked()
	if c.redirectURL == nil {
		return nil, nil
	}
	u := *c.redirectURL
	return &u, nil
}

// changeConfirmURL is where the customer approves the change request id, built like
// the confirmUrl of requests.
func (s *Server) changeConfirmURL(id string) string {
	return s.publicURL + confirmBase + "/changerequest?id=" + id + "&DONTCHOOSEREPORTEE=true"
}

// changeResponseLocked renders c as the vendor API shows it now, with the confirmUrl
// recomputed. The caller holds s.mu.
func (s *Server) changeResponseLocked(c *changeRequest) *changeResponse {
	status, timedOut := s.agedStatusLocked(c.status, c.created)
	resp := &changeResponse{
		ID:                     c.id,
		ExternalRef:            c.externalRef,
		SystemID:               c.systemID,
		SystemUserID:           c.systemUserID,
		PartyOrgNo:             c.partyOrgNo,
		RequiredRights:         cloneRights(c.requiredRights),
		UnwantedRights:         cloneRights(c.unwantedRights),
		RequiredAccessPackages: pkgRefs(c.requiredPackages),
		UnwantedAccessPackages: pkgRefs(c.unwantedPackages),
		Status:                 status,
		RedirectURL:            c.redirectURL,
		ConfirmURL:             s.changeConfirmURL(c.id),
		Created:                formatTime(c.created),
	}
	if s.timeoutMode != TimeoutLegacy10d {
		resp.TimedOut = &timedOut
	}
	return resp
}

// handleCreateChange serves POST changerequest/vendor?correlation-id=&system-user-id=
// in the order of contract §5.
func (s *Server) handleCreateChange(w http.ResponseWriter, r *http.Request) {
	at, ok := s.authorize(w, r, ScopeRequestWrite)
	if !ok {
		return
	}
	// The framework binds the query and the body before the controller runs.
	q := r.URL.Query()
	corrID, corrOK := parseGUID(q.Get("correlation-id"))
	userID, userOK := parseGUID(q.Get("system-user-id"))
	errs := map[string][]string{}
	if v := q.Get("correlation-id"); v != "" && !corrOK {
		errs["correlation-id"] = []string{fmt.Sprintf("The value '%s' is not valid.", v)}
	}
	if v := q.Get("system-user-id"); v != "" && !userOK {
		errs["system-user-id"] = []string{fmt.Sprintf("The value '%s' is not valid.", v)}
	}
	if len(errs) > 0 {
		writeProblem(w, validationProblem(errs))
		return
	}
	body, p := decodeChangeBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	const emptyGUID = "00000000-0000-0000-0000-000000000000"
	if !corrOK || corrID == emptyGUID {
		writeText(w, http.StatusBadRequest, "The correlation-id is required and must not be an empty GUID.")
		return
	}
	if at.consumerOrg == "" {
		writeProblem(w, bareProblem(http.StatusUnauthorized))
		return
	}
	status, resp, text, p := s.createChange(at.consumerOrg, corrID, userID, body)
	switch {
	case text != "":
		writeText(w, http.StatusBadRequest, text)
		return
	case p != nil:
		writeProblem(w, p)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", s.publicURL+apiBase+"/changerequest/"+resp.ID)
	}
	writeJSON(w, status, resp)
}

// createChange runs steps 3 to 10 of contract §5. A non-empty text is a plain-text 400.
func (s *Server) createChange(vendor, corrID, userID string, b *changeBody) (int, *changeResponse, string, *problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if userID == "" || u == nil || u.deleted {
		return 0, nil, "", authProblem(15)
	}
	if corrID == userID {
		return 0, nil, "The correlation-id can not be the same as the system-user-id.", nil
	}
	if !s.ownsLocked(vendor, u.systemID) {
		return 0, nil, "", bareProblem(http.StatusUnauthorized)
	}
	if len(b.RequiredRights) == 0 && len(b.UnwantedRights) == 0 &&
		len(b.RequiredAccessPackages) == 0 && len(b.UnwantedAccessPackages) == 0 {
		resp := &changeResponse{
			ID: corrID, ExternalRef: u.externalRef, SystemID: u.systemID, SystemUserID: u.id,
			PartyOrgNo: u.partyOrgNo, RequiredRights: []Right{}, UnwantedRights: []Right{},
			RequiredAccessPackages: []pkgRef{}, UnwantedAccessPackages: []pkgRef{},
			Status: StatusNoChangeNeeded, RedirectURL: b.RedirectURL, Created: noChangeCreated,
		}
		if s.timeoutMode != TimeoutLegacy10d {
			resp.TimedOut = new(bool)
		}
		return http.StatusOK, resp, "", nil
	}
	if c := s.changes[corrID]; c != nil && !c.deleted && s.ownsLocked(vendor, c.systemID) {
		// Whatever the status and whatever system-user-id this call named.
		return http.StatusOK, s.changeResponseLocked(c), "", nil
	}
	if u.agent {
		return 0, nil, "", authProblem(15)
	}
	sys := s.systems[u.systemID]
	if sys == nil || sys.VendorOrgNo != vendor {
		return 0, nil, "", authProblem(11)
	}
	if _, ok := s.orgNameLocked(u.partyOrgNo); !ok {
		return 0, nil, "", authProblem(0)
	}
	if p := checkRedirect(sys, b.RedirectURL); p != nil {
		return 0, nil, "", p
	}
	if len(b.RequiredRights) > 0 && !rightsAllowed(sys.Rights, b.RequiredRights) {
		return 0, nil, "", authProblem(1)
	}
	if len(b.RequiredAccessPackages) > 0 {
		if p := s.checkPackagesLocked(sys, b.RequiredAccessPackages, false); p != nil {
			return 0, nil, "", p
		}
	}
	if s.changes[corrID] != nil {
		// The id is taken by a deleted change request or another vendor's: the insert
		// fails on the primary key.
		return 0, nil, "", authProblem(12)
	}
	c := &changeRequest{
		id:               corrID,
		systemUserID:     u.id,
		systemID:         u.systemID,
		partyOrgNo:       u.partyOrgNo,
		externalRef:      u.externalRef,
		requiredRights:   cloneRights(b.RequiredRights),
		unwantedRights:   cloneRights(b.UnwantedRights),
		requiredPackages: urns(b.RequiredAccessPackages),
		unwantedPackages: urns(b.UnwantedAccessPackages),
		redirectURL:      b.RedirectURL,
		status:           StatusNew,
		created:          s.worldNowLocked().UTC().Truncate(time.Microsecond),
	}
	s.changeSeq++
	c.seq = s.changeSeq
	s.changes[c.id] = c
	s.changedLocked()
	s.stats.ChangeRequestsCreated++
	s.logf("sim: change request %s created for system user %s", c.id, u.id)
	return http.StatusCreated, s.changeResponseLocked(c), "", nil
}

// checkRedirect applies the redirectUrl checks of the create endpoints to a non-empty
// redirectUrl: AUTH-00026 when the system has no URLs, a 500 for a URL that is not
// absolute (Altinn's new Uri(...) throws), AUTH-00021 when none matches.
func checkRedirect(sys *System, redirectURL *string) *problem {
	if redirectURL == nil || *redirectURL == "" {
		return nil
	}
	if len(sys.AllowedRedirectURLs) == 0 {
		return authProblem(26)
	}
	ok, err := redirectAllowed(sys.AllowedRedirectURLs, *redirectURL)
	if err != nil {
		// Altinn parses the URL with new Uri(...) before matching; a relative or
		// malformed URL most likely ends in an unhandled exception (contract §1,
		// UNCONFIRMED).
		p := bareProblem(http.StatusInternalServerError)
		p.Title = "An error occurred while processing your request."
		return p
	}
	if !ok {
		return authProblem(21)
	}
	return nil
}

// decodeChangeBody does the framework's part for a change-request body: media type,
// JSON, and the trimming of the top-level redirectUrl.
func decodeChangeBody(w http.ResponseWriter, r *http.Request) (*changeBody, *problem) {
	b, prob := decodeJSON[changeBody](w, r)
	if prob != nil {
		return nil, prob
	}
	if b.RedirectURL != nil {
		*b.RedirectURL = strings.TrimSpace(*b.RedirectURL)
	}
	return b, nil
}

// handleGetChange serves GET changerequest/vendor/{id}.
func (s *Server) handleGetChange(w http.ResponseWriter, r *http.Request) {
	s.byID(w, r, ScopeRequestRead, s.findChangeLocked, func(id string) {
		writeJSON(w, http.StatusOK, s.changeResponseLocked(s.changes[id]))
	})
}

// findChangeLocked finds a live change request for byID. The caller holds s.mu.
func (s *Server) findChangeLocked(id string) (string, bool) {
	c := s.changes[id]
	if c == nil || c.deleted {
		return "", false
	}
	return c.systemID, true
}

// handleChangeByExternalRef serves GET changerequest/vendor/byexternalref/{systemId}/
// {orgNo}/{externalRef}: the newest live change request for the system user's key
// (Altinn returns an arbitrary one). Altinn's copy leaves the access-package lists
// empty; the simulator returns them (contract §9, bugCompat off).
func (s *Server) handleChangeByExternalRef(w http.ResponseWriter, r *http.Request) {
	at, ok := s.authorize(w, r, ScopeRequestRead)
	if !ok {
		return
	}
	if at.consumerOrg == "" {
		writeProblem(w, bareProblem(http.StatusUnauthorized))
		return
	}
	systemID, orgNo, ref := r.PathValue("systemId"), r.PathValue("orgNo"), r.PathValue("externalRef")
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *changeRequest
	for _, c := range s.changes {
		if c.deleted || c.systemID != systemID || c.partyOrgNo != orgNo || c.externalRef != ref {
			continue
		}
		if found == nil || c.seq > found.seq {
			found = c
		}
	}
	if found == nil {
		writeProblem(w, authProblem(10))
		return
	}
	if !s.ownsLocked(at.consumerOrg, found.systemID) {
		writeProblem(w, authProblem(11))
		return
	}
	writeJSON(w, http.StatusOK, s.changeResponseLocked(found))
}

// handleChangesBySystem serves GET changerequest/vendor/bysystem/{systemId}: the live
// change requests of the system, every status, ordered by id, 50 a page, paged like
// the request list. Altinn ignores the token and loops on the first page; the
// simulator pages correctly (contract §9, bugCompat off).
func (s *Server) handleChangesBySystem(w http.ResponseWriter, r *http.Request) {
	bySystem(s, w, r, []string{ScopeRequestRead}, func(systemID, from string) {
		var cs []*changeRequest
		for _, c := range s.changes {
			if !c.deleted && c.systemID == systemID && c.id >= from {
				cs = append(cs, c)
			}
		}
		writePage(s, w, r, cs, func(c *changeRequest) string { return c.id }, strings.Compare, s.changeResponseLocked)
	})
}

// handleDeleteChange serves DELETE changerequest/vendor/{id}: a soft delete in any
// status, 202 with an empty body. As for requests, the simulator checks that the
// caller owns the change request's system (404 AUTH-00011).
func (s *Server) handleDeleteChange(w http.ResponseWriter, r *http.Request) {
	s.byID(w, r, ScopeRequestWrite, s.findChangeLocked, func(id string) {
		s.changes[id].deleted = true
		s.changedLocked()
		s.logf("sim: change request %s deleted by the vendor", id)
		w.WriteHeader(http.StatusAccepted)
	})
}

// adminListChanges serves GET /_sim/changerequests.
func (s *Server) adminListChanges(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.ChangeRequests())
}

// adminChangeAction serves POST /_sim/changerequests/{id}/approve|reject and answers
// with the change request as ChangeRequestInfo.
func (s *Server) adminChangeAction(w http.ResponseWriter, r *http.Request) {
	var act func(string) error
	switch r.PathValue("action") {
	case actionApprove:
		act = s.ApproveChange
	case actionReject:
		act = s.RejectChange
	default:
		writeProblem(w, bareProblem(http.StatusNotFound))
		return
	}
	if err := act(r.PathValue("id")); err != nil {
		writeProblem(w, hookProblem(err))
		return
	}
	id, _ := parseGUID(r.PathValue("id"))
	s.mu.Lock()
	info := s.changeInfoLocked(s.changes[id])
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// writeText writes a plain-text body, as ASP.NET does for BadRequest("text").
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// pkgRefs renders access-package URNs for the wire, never nil.
func pkgRefs(urns []string) []pkgRef {
	out := make([]pkgRef, 0, len(urns))
	for _, u := range urns {
		out = append(out, pkgRef{URN: u})
	}
	return out
}

// urns lists the URNs of access packages, never nil.
func urns(ps []pkgRef) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.URN)
	}
	return out
}
