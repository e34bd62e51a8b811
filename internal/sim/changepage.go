package sim

import (
	"errors"
	"net/http"
)

// changeView is the confirm page of a change request, shaped like the screen.
type changeView struct {
	Heading, HeadingEN           string
	Path, ID                     string
	VendorName, VendorOrgNo      string
	SystemName                   string
	IntegrationTitle             string
	PartyName, PartyOrgNo        string
	AddRights, AddPackages       []string
	RemoveRights, RemovePackages []string
	Status                       string
	CanAct                       bool
	Banner, Error                *message
}

// handleChangePage serves GET .../changerequest?id=: what the change would add and
// remove, with approve and reject buttons while the status is New.
func (s *Server) handleChangePage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.changeView(r.URL.Query().Get("id"), r.URL.Path)
	if !ok {
		renderPage(w, http.StatusNotFound, "message", msgNotFound)
		return
	}
	renderPage(w, http.StatusOK, "change", v)
}

// handleChangeAction serves the change page's two forms. As for requests, success
// sends the browser to the stored redirectUrl byte for byte, or to the logged-out page
// when there is none; a failure keeps the person on the page.
func (s *Server) handleChangeAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, "message", message{NB: "Ugyldig skjema", EN: "The form could not be read."})
		return
	}
	id, action := r.PostForm.Get("id"), r.PostForm.Get("action")
	switch action {
	case actionApprove, actionReject:
	default:
		renderPage(w, http.StatusBadRequest, "message", message{NB: "Ukjent handling", EN: "Unknown action."})
		return
	}
	redirect, err := s.decideChange(id, action)
	if err != nil {
		v, ok := s.changeView(id, r.URL.Path)
		if !ok || errors.Is(err, ErrNotFound) {
			renderPage(w, http.StatusNotFound, "message", msgNotFound)
			return
		}
		status := http.StatusConflict
		v.Error = &message{NB: "Forespørselen kan ikke lenger behandles.", EN: "The status of the request is not New.", Code: "AUTH-00013"}
		if errors.Is(err, ErrNoSystemUser) {
			status = http.StatusNotFound
			v.Error = &message{NB: "Systembrukeren finnes ikke lenger.", EN: "The SystemUser was not found.", Code: "AUTH-00015"}
		}
		renderPage(w, status, "change", v)
		return
	}
	s.redirectAfterDecision(w, redirect)
}

// changeView builds the page for a live change request, read now.
func (s *Server) changeView(rawID, path string) (changeView, bool) {
	id, ok := parseGUID(rawID)
	if !ok {
		return changeView{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[id]
	if c == nil || c.deleted {
		return changeView{}, false
	}
	status, _ := s.agedStatusLocked(c.status, c.created)
	v := changeView{
		Heading:        "Forespørsel om endring av systemtilgang",
		HeadingEN:      "Request to change system access",
		Path:           path,
		ID:             c.id,
		SystemName:     c.systemID,
		PartyOrgNo:     c.partyOrgNo,
		AddRights:      rightLabels(c.requiredRights),
		AddPackages:    c.requiredPackages,
		RemoveRights:   rightLabels(c.unwantedRights),
		RemovePackages: c.unwantedPackages,
		Status:         status,
		CanAct:         status == StatusNew,
	}
	if u := s.users[c.systemUserID]; u != nil {
		v.IntegrationTitle = u.integrationTitle
	}
	v.PartyName, _ = s.orgNameLocked(c.partyOrgNo)
	if sys := s.systems[c.systemID]; sys != nil {
		v.SystemName = sys.Name["nb"]
		v.VendorOrgNo = sys.VendorOrgNo
		v.VendorName, _ = s.orgNameLocked(sys.VendorOrgNo)
	}
	if v.VendorName == "" {
		v.VendorName = v.VendorOrgNo
	}
	if !v.CanAct {
		if b, ok := statusBanners[status]; ok {
			v.Banner = &b
		}
	}
	return v, true
}
