package sim

import (
	"net/http"
	"slices"
)

// byID serves a vendor call on one stored thing named by the path's {id}
// (a request or a change request), with the checks every such endpoint
// makes, in Altinn's order: the token and scope, a GUID id, a consumer, then
// 404 AUTH-00010 when find (called under the lock) does not find it and 404
// AUTH-00011 when it belongs to another vendor's system. fn then answers,
// still under the lock.
func (s *Server) byID(w http.ResponseWriter, r *http.Request, scope string,
	find func(id string) (systemID string, ok bool), fn func(id string)) {
	at, ok := s.authorize(w, r, scope)
	if !ok {
		return
	}
	id, ok := parseGUID(r.PathValue("id"))
	if !ok {
		writeProblem(w, guidProblem("requestId", r.PathValue("id")))
		return
	}
	if at.consumerOrg == "" {
		writeProblem(w, bareProblem(http.StatusUnauthorized))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	systemID, found := find(id)
	if !found {
		writeProblem(w, authProblem(10))
		return
	}
	if !s.ownsLocked(at.consumerOrg, systemID) {
		writeProblem(w, authProblem(11))
		return
	}
	fn(id)
}

// bySystem serves a vendor list call on the path's {systemId}: the token
// and scopes, a page token that decodes into from, a consumer, and 404
// AUTH-00011 unless the system is the caller's. fn then answers under the
// lock.
func bySystem[K any](s *Server, w http.ResponseWriter, r *http.Request, scopes []string, fn func(systemID string, from K)) {
	at, ok := s.authorize(w, r, scopes...)
	if !ok {
		return
	}
	var from K
	if tok := r.URL.Query().Get("token"); tok != "" {
		if !decodeToken(tok, &from) {
			writeProblem(w, validationProblem(map[string][]string{"token": {"The value '" + tok + "' is not valid."}}))
			return
		}
	}
	if at.consumerOrg == "" {
		writeProblem(w, bareProblem(http.StatusUnauthorized))
		return
	}
	systemID := r.PathValue("systemId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ownsLocked(at.consumerOrg, systemID) {
		writeProblem(w, authProblem(11))
		return
	}
	fn(systemID, from)
}

// writePage answers a list with Altinn's Paginated envelope: items ordered
// by key, pageSize of them, and a next link whose token is the key of the
// first one left out.
func writePage[T any, K any, R any](s *Server, w http.ResponseWriter, r *http.Request, items []T,
	key func(T) K, cmp func(a, b K) int, resp func(T) R) {
	slices.SortFunc(items, func(a, b T) int { return cmp(key(a), key(b)) })
	var out paginated
	if len(items) > pageSize {
		out.Links.Next = s.nextURL(r, encodeToken(key(items[pageSize])))
		items = items[:pageSize]
	}
	data := make([]R, 0, len(items))
	for _, it := range items {
		data = append(data, resp(it))
	}
	out.Data = data
	writeJSON(w, http.StatusOK, out)
}
