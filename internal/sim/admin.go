package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// adminListRequests serves GET /_sim/requests.
func (s *Server) adminListRequests(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Requests())
}

// adminStats serves GET /_sim/stats.
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// adminRequestAction serves POST /_sim/requests/{id}/approve|reject|escalate and
// answers with the request as RequestInfo.
func (s *Server) adminRequestAction(w http.ResponseWriter, r *http.Request) {
	var act func(string) error
	switch r.PathValue("action") {
	case "approve":
		act = s.Approve
	case "reject":
		act = s.Reject
	case "escalate":
		act = s.Escalate
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
	info := s.infoLocked(s.requests[id])
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// adminDeleteSystemUser serves POST /_sim/systemusers/{id}/delete.
func (s *Server) adminDeleteSystemUser(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteSystemUser(r.PathValue("id")); err != nil {
		writeProblem(w, authProblem(15))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminAddFault serves POST /_sim/faults. The body is a Fault in JSON; latency may be
// a duration string ("2s") or nanoseconds.
func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Fault
		Latency json.RawMessage `json:"latency"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	f := in.Fault
	if err == nil && len(in.Latency) > 0 {
		f.Latency, err = parseDuration(in.Latency)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "bad fault: "+err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": s.addFault(f)})
}

// adminClearFaults serves DELETE /_sim/faults.
func (s *Server) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// adminRemoveFault serves DELETE /_sim/faults/{id}.
func (s *Server) adminRemoveFault(w http.ResponseWriter, r *http.Request) {
	if !s.removeFault(r.PathValue("id")) {
		writeAdminError(w, http.StatusNotFound, "no such fault")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminClock serves POST /_sim/clock {"offset":"240h"}: the age of every request and
// system user grows by the offset (offsets add up). Grant and token checks keep
// Config.Now, because clients outside the process sign grants with their own clock.
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Offset json.RawMessage `json:"offset"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	var d time.Duration
	if err == nil {
		d, err = parseDuration(in.Offset)
	}
	if err == nil && d < 0 {
		err = errors.New("the clock only moves forward")
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "bad clock offset: "+err.Error())
		return
	}
	s.mu.Lock()
	s.worldOffset += d
	s.changedLocked()
	now, total := s.worldNowLocked(), s.worldOffset
	s.mu.Unlock()
	s.logf("sim: clock moved forward by %s (total %s)", d, total)
	writeJSON(w, http.StatusOK, map[string]string{"now": now.UTC().Format(time.RFC3339Nano), "offset": total.String()})
}

// parseDuration reads a duration given as a Go duration string or as nanoseconds.
func parseDuration(raw json.RawMessage) (time.Duration, error) {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return time.ParseDuration(str)
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("want a duration such as \"2s\" or nanoseconds, got %s", raw)
	}
	return time.Duration(n), nil
}

// hookProblem maps a test-hook error to the problem Altinn would give.
func hookProblem(err error) *problem {
	switch {
	case errors.Is(err, ErrNotNew):
		return authProblem(13)
	case errors.Is(err, ErrSystemUserExists):
		return authProblem(4)
	case errors.Is(err, ErrNoSystemUser):
		return authProblem(15)
	default:
		return authProblem(10)
	}
}

// writeAdminError writes a bare problem with a detail, for admin input errors.
func writeAdminError(w http.ResponseWriter, status int, detail string) {
	p := bareProblem(status)
	p.Detail = detail
	writeProblem(w, p)
}
