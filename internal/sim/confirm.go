package sim

import (
	"bytes"
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"
)

// confirmBase is the path of Altinn's confirm UI for system-user requests.
const confirmBase = "/accessmanagement/ui/systemuser"

//go:embed confirm.html
var confirmHTML string

// pages are parsed on first use: a service that talks to the real Altinn
// never renders them, and html/template's parser need not be in its memory.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("pages").Parse(confirmHTML))
})

// message is a text in Norwegian and English, with an optional Altinn code.
type message struct {
	NB, EN, Code string
}

// confirmView is the confirm page, shaped like the screen.
type confirmView struct {
	Heading, HeadingEN      string
	Path, ID                string
	VendorName, VendorOrgNo string
	SystemName              string
	IntegrationTitle        string
	PartyName, PartyOrgNo   string
	Rights, Packages        []string
	Status                  string
	Escalated, CanAct       bool
	Banner, Error           *message
}

var (
	msgNotFound  = message{NB: "Forespørselen finnes ikke", EN: "The request was not found, or it has been deleted."}
	msgLoggedOut = message{NB: "Du er logget ut av Altinn", EN: "You are logged out of Altinn."}
	// statusBanners are shown instead of the buttons when the status is not New, as
	// the real page does; no redirect is offered.
	statusBanners = map[string]message{
		StatusAccepted: {NB: "Forespørselen er allerede godkjent.", EN: "The request has already been approved."},
		StatusRejected: {NB: "Forespørselen er avvist.", EN: "The request has been rejected."},
		StatusDenied:   {NB: "Forespørselen er avslått.", EN: "The request has been denied."},
		StatusTimedout: {NB: "Forespørselen er utløpt.", EN: "The request has timed out."},
	}
)

// handleConfirmPage serves GET .../request?id= and .../agentrequest?id=: the page a
// person at the customer sees after logging in.
func (s *Server) handleConfirmPage(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.confirmView(r.URL.Query().Get("id"), agent, r.URL.Path)
		if !ok {
			renderPage(w, http.StatusNotFound, "message", msgNotFound)
			return
		}
		renderPage(w, http.StatusOK, "confirm", v)
	}
}

// handleConfirmAction serves the page's three forms. On success the browser is sent
// to the stored redirectUrl exactly as stored (Altinn's logout flow ends there), or to
// the logged-out page when there is none. A failed approval shows the error and keeps
// the person on the page, as Altinn does.
func (s *Server) handleConfirmAction(agent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			renderPage(w, http.StatusBadRequest, "message", message{NB: "Ugyldig skjema", EN: "The form could not be read."})
			return
		}
		id, action := r.PostForm.Get("id"), r.PostForm.Get("action")
		switch action {
		case actionApprove, actionReject, actionEscalate:
		default:
			renderPage(w, http.StatusBadRequest, "message", message{NB: "Ukjent handling", EN: "Unknown action."})
			return
		}
		kind := "standard"
		if agent {
			kind = "agent"
		}
		redirect, err := s.decide(id, kind, action)
		if err != nil {
			v, ok := s.confirmView(id, agent, r.URL.Path)
			if !ok || errors.Is(err, ErrNotFound) {
				renderPage(w, http.StatusNotFound, "message", msgNotFound)
				return
			}
			status := http.StatusConflict
			v.Error = &message{NB: "Forespørselen kan ikke lenger behandles.", EN: "The status of the request is not New.", Code: "AUTH-00013"}
			if errors.Is(err, ErrSystemUserExists) {
				status = http.StatusBadRequest
				v.Error = &message{
					NB:   "Det finnes allerede en systembruker for dette systemet og denne virksomheten.",
					EN:   "Failed to create new SystemUser, existing SystemUser tied to the given System-Id.",
					Code: "AUTH-00004",
				}
			}
			renderPage(w, status, "confirm", v)
			return
		}
		s.redirectAfterDecision(w, redirect)
	}
}

// redirectAfterDecision sends the person on after they decided: to the
// stored redirectUrl, or to the logged-out page when there is none. Location
// is set directly: http.Redirect would rewrite a relative URL, and the stored
// value must reach the browser byte for byte.
func (s *Server) redirectAfterDecision(w http.ResponseWriter, redirect *string) {
	target := s.publicURL + "/logged-out"
	if redirect != nil && *redirect != "" {
		target = *redirect
	}
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// handleLoggedOut is where a person lands when the request has no redirectUrl.
func (s *Server) handleLoggedOut(w http.ResponseWriter, r *http.Request) {
	renderPage(w, http.StatusOK, "message", msgLoggedOut)
}

// confirmView builds the page for a live request of the kind, read now.
func (s *Server) confirmView(rawID string, agent bool, path string) (confirmView, bool) {
	id, ok := parseGUID(rawID)
	if !ok {
		return confirmView{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := s.requests[id]
	if req == nil || req.deleted || req.agent != agent {
		return confirmView{}, false
	}
	status, _ := s.statusLocked(req)
	v := confirmView{
		Heading:          "Forespørsel om systemtilgang",
		HeadingEN:        "Request for system access",
		Path:             path,
		ID:               req.id,
		SystemName:       req.systemID,
		IntegrationTitle: req.integrationTitle,
		PartyOrgNo:       req.partyOrgNo,
		Packages:         req.packages,
		Status:           status,
		Escalated:        req.escalated,
		CanAct:           status == StatusNew,
	}
	if agent {
		v.Heading, v.HeadingEN = "Forespørsel om klientsystemtilgang", "Request for client system access"
	}
	v.PartyName, _ = s.orgNameLocked(req.partyOrgNo)
	if sys := s.systems[req.systemID]; sys != nil {
		v.SystemName = sys.Name["nb"]
		v.VendorOrgNo = sys.VendorOrgNo
		v.VendorName, _ = s.orgNameLocked(sys.VendorOrgNo)
	}
	if v.VendorName == "" {
		v.VendorName = v.VendorOrgNo
	}
	v.Rights = rightLabels(req.rights)
	if !v.CanAct {
		if b, ok := statusBanners[status]; ok {
			v.Banner = &b
		}
	}
	return v, true
}

// rightLabels shows each right as the values of its resource, comma-separated.
func rightLabels(rights []Right) []string {
	var out []string
	for _, right := range rights {
		var parts []string
		for _, p := range right.Resource {
			parts = append(parts, p.Value)
		}
		out = append(out, strings.Join(parts, ", "))
	}
	return out
}

// renderPage renders a page template with headers that keep it simple and safe: no
// scripts at all, no framing, no caching.
func renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages().ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "sim: render page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
