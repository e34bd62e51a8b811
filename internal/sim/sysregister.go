package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file is Altinn's system register vendor API (systemregister.md), under
// /authentication/api/v1/systemregister/vendor: a vendor reads, creates, replaces
// and soft-deletes its own systems there, and reads each one's change log.

// registerBase is the base of the vendor routes.
const registerBase = "/authentication/api/v1/systemregister/vendor"

// Change types of the change log.
const (
	changeCreate         = "create"
	changeUpdate         = "update"
	changeRightsUpdate   = "rightsupdate"
	changePackagesUpdate = "accesspackageupdate"
	changeDelete         = "delete"
)

// registerBody is RegisterSystemRequest, the body of POST and PUT. Pointers tell a
// missing field from an empty one; names match case-insensitively and unknown ones
// are ignored, as in Altinn.
type registerBody struct {
	ID                  *string           `json:"id"`
	Vendor              *vendorRef        `json:"vendor"`
	Name                map[string]string `json:"name"`
	Description         map[string]string `json:"description"`
	Rights              rightList         `json:"rights"`
	AccessPackages      []pkgRef          `json:"accessPackages"`
	ClientID            []string          `json:"clientId"`
	IsVisible           *bool             `json:"isVisible"`
	AllowedRedirectURLs []string          `json:"allowedRedirectUrls"`
}

// vendorRef is the body's vendor: {"authority": ..., "ID": "0192:<orgno>"}.
type vendorRef struct {
	Authority *string `json:"authority"`
	ID        *string `json:"ID"`
}

// rightList is the body's rights, remembering an explicit null (which Altinn most
// likely answers with a 500, systemregister.md §2).
type rightList struct {
	list []Right
	null bool
}

// UnmarshalJSON reads a list of rights or null.
func (l *rightList) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		l.null = true
		return nil
	}
	return json.Unmarshal(b, &l.list)
}

// registerPath is the path prefix of validation errors.
const registerPath = "/registersystemrequest"

// vldError is one AUTH.VLD item of a validation problem.
type vldError struct {
	code int
	path string
	// ext is an optional extension key and value, e.g. "Invalid Urn Details : ".
	ext []string
	// title replaces the code's title in vldTitles when set.
	title string
}

// vldTitles are Altinn's titles of the system register's validation errors
// (ValidationErrors in altinn-authentication).
var vldTitles = map[int]string{
	0:  "the org number identifier is not valid ISO6523 identifier",
	1:  "The system id does not match the format orgnumber_xxxx...",
	2:  "The system id already exists",
	3:  "One or more resources specified in rights were not found in Altinn's resource register.",
	4:  "One of the client id is already tagged with an existing system",
	5:  "One or more of the redirect urls format is not valid. The valid format is https://xxx.xx",
	6:  "One or more duplicate rights found",
	7:  "One or more duplicate access package(s) found",
	8:  "One or all the accesspackage(s) is not found in altinn's access packages or is not delegable",
	9:  "One or more resource id is in wrong format. The valid format is urn:altinn:resource",
	11: "Request contains duplicate client ids",
	12: "The system ID in the request body does not match the system ID in the URL",
	13: "System ID cannot have spaces in id (leading, trailing or in between the id)",
	17: "One or more resources specified in rights is of resource type which is not delegable.",
	18: "Access packages meant for system user for client relations can't be used in combination with the flag isVisible: true",
}

// vld makes a validation error for AUTH.VLD-000NN at the path under
// /registersystemrequest.
func vld(code int, path string, ext ...string) vldError {
	return vldError{code: code, path: registerPath + path, ext: ext}
}

// writeValidation writes Altinn's validation problem (STD-00000) with the errors in
// validationErrors, each with code, title and paths, extension keys last.
func writeValidation(w http.ResponseWriter, errs []vldError) {
	items := make([]json.RawMessage, 0, len(errs))
	for _, e := range errs {
		title := vldTitles[e.code]
		if e.title != "" {
			title = e.title
		}
		b, _ := json.Marshal(struct {
			Code  string   `json:"code"`
			Title string   `json:"title"`
			Paths []string `json:"paths"`
		}{fmt.Sprintf("AUTH.VLD-%05d", e.code), title, []string{e.path}})
		for i := 0; i+1 < len(e.ext); i += 2 {
			kb, _ := json.Marshal(e.ext[i])
			vb, _ := json.Marshal(e.ext[i+1])
			b = fmt.Appendf(b[:len(b)-1], ",%s:%s}", kb, vb)
		}
		items = append(items, b)
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = jsonEncoder(w).Encode(struct {
		Type              string            `json:"type"`
		Title             string            `json:"title"`
		Status            int               `json:"status"`
		Code              string            `json:"code"`
		StatusDescription string            `json:"statusDescription"`
		ValidationErrors  []json.RawMessage `json:"validationErrors"`
		TraceID           string            `json:"traceId"`
	}{"urn:altinn:error:STD-00000", "One or more validation errors occurred.", http.StatusBadRequest,
		"STD-00000", "Bad Request", items, traceID()})
}

// writeServerError writes the 500 of an unhandled exception in Altinn.
func writeServerError(w http.ResponseWriter) {
	p := bareProblem(http.StatusInternalServerError)
	p.Title = "An error occurred while processing your request."
	writeProblem(w, p)
}

// systemNotFound is the plain-text 404 of PUT and GET changelog.
func systemNotFound(w http.ResponseWriter, id string) {
	writeText(w, http.StatusNotFound, fmt.Sprintf("System with ID '%s' not found.", id))
}

// decodeRegisterBody does the framework's part for POST and PUT: media type, JSON,
// the required fields (id, vendor, name, description), and Altinn's
// TrimStringsActionFilter, which trims the body's strings and those of nested
// objects but not list items or map values.
func decodeRegisterBody(w http.ResponseWriter, r *http.Request) (*registerBody, *problem) {
	b, prob := decodeJSON[registerBody](w, r)
	if prob != nil {
		return nil, prob
	}
	trim := func(sp *string) {
		if sp != nil {
			*sp = strings.TrimSpace(*sp)
		}
	}
	trim(b.ID)
	if b.Vendor != nil {
		trim(b.Vendor.ID)
		trim(b.Vendor.Authority)
	}
	trimRights(b.Rights.list)
	for i := range b.AccessPackages {
		b.AccessPackages[i].URN = strings.TrimSpace(b.AccessPackages[i].URN)
	}
	errs := map[string][]string{}
	if b.ID == nil || *b.ID == "" {
		errs["Id"] = []string{"The Id field is required."}
	}
	if b.Vendor == nil {
		errs["Vendor"] = []string{"The Vendor field is required."}
	} else if b.Vendor.ID == nil || *b.Vendor.ID == "" {
		errs["Vendor.ID"] = []string{"The ID field is required."}
	}
	if b.Name == nil {
		errs["Name"] = []string{"The Name field is required."}
	}
	if b.Description == nil {
		errs["Description"] = []string{"The Description field is required."}
	}
	if len(errs) > 0 {
		return nil, validationProblem(errs)
	}
	return b, nil
}

// trimRights trims the strings of rights, which are nested objects.
func trimRights(rights []Right) {
	for i := range rights {
		rights[i].Action = strings.TrimSpace(rights[i].Action)
		for j := range rights[i].Resource {
			p := &rights[i].Resource[j]
			p.ID, p.Value = strings.TrimSpace(p.ID), strings.TrimSpace(p.Value)
		}
	}
}

// registerAuth checks the token and scope of a vendor route (401 or 403 with an
// empty body) and that it names a consumer (403: Altinn's HasWriteAccess fails).
func (s *Server) registerAuth(w http.ResponseWriter, r *http.Request) (*accessToken, bool) {
	at, ok := s.authorize(w, r, ScopeRegisterWrite, ScopeRegisterAdmin)
	if !ok {
		return nil, false
	}
	if at.consumerOrg == "" {
		w.WriteHeader(http.StatusForbidden)
		return nil, false
	}
	return at, true
}

// handleListSystems serves GET vendor: the caller's systems, deleted ones left out,
// as RegisteredSystemDTO, ordered by id.
func (s *Server) handleListSystems(w http.ResponseWriter, r *http.Request) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []systemDTO{}
	for _, sys := range s.systems {
		if sys.VendorOrgNo == at.consumerOrg && !sys.Deleted {
			out = append(out, systemDTO{
				SystemID: sys.ID, SystemVendorOrgNumber: sys.VendorOrgNo, SystemVendorOrgName: "",
				Name: sys.Name, Description: sys.Description, Rights: cloneRights(sys.Rights),
				AccessPackages: pkgRefsOf(sys.AccessPackages), IsVisible: sys.Visible(),
			})
		}
	}
	slices.SortFunc(out, func(a, b systemDTO) int { return strings.Compare(a.SystemID, b.SystemID) })
	writeJSON(w, http.StatusOK, out)
}

// systemDTO is RegisteredSystemDTO, an item of GET vendor.
type systemDTO struct {
	SystemID              string            `json:"systemId"`
	SystemVendorOrgNumber string            `json:"systemVendorOrgNumber"`
	SystemVendorOrgName   string            `json:"systemVendorOrgName"`
	Name                  map[string]string `json:"name,omitempty"`
	Description           map[string]string `json:"description,omitempty"`
	Rights                []Right           `json:"rights"`
	AccessPackages        []pkgRef          `json:"accessPackages"`
	IsVisible             bool              `json:"isVisible"`
}

// systemResponse is RegisteredSystemResponse, the answer of GET vendor/{id}. The
// vendor's authority is a C# field the serializer skips; null fields are left out.
type systemResponse struct {
	ID     string `json:"id"`
	Vendor struct {
		ID string `json:"ID"`
	} `json:"vendor"`
	Name                map[string]string `json:"name,omitempty"`
	Description         map[string]string `json:"description,omitempty"`
	Rights              []Right           `json:"rights"`
	AccessPackages      []pkgRef          `json:"accessPackages"`
	IsDeleted           bool              `json:"isDeleted"`
	ClientID            []string          `json:"clientId"`
	IsVisible           bool              `json:"isVisible"`
	AllowedRedirectURLs []string          `json:"allowedRedirectUrls"`
}

// ownedSystemLocked returns the system id names when the token's vendor owns
// it. Otherwise it answers and returns nil: an unknown id as the route does at
// Altinn (notFound: each route has its own answer, systemregister.md §1), and
// another vendor's system with 403 and an empty body. The caller holds s.mu.
func (s *Server) ownedSystemLocked(w http.ResponseWriter, id string, at *accessToken, notFound func(http.ResponseWriter, string)) *System {
	sys := s.systems[id]
	switch {
	case sys == nil:
		notFound(w, id)
		return nil
	case sys.VendorOrgNo != at.consumerOrg:
		w.WriteHeader(http.StatusForbidden)
		return nil
	}
	return sys
}

// handleGetSystem serves GET vendor/{systemId}: the system, deleted or not; a bare
// 404 when unknown, 403 with an empty body when another vendor's.
func (s *Server) handleGetSystem(w http.ResponseWriter, r *http.Request) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.ownedSystemLocked(w, r.PathValue("systemId"), at, func(w http.ResponseWriter, _ string) {
		writeProblem(w, bareProblem(http.StatusNotFound))
	})
	if sys == nil {
		return
	}
	resp := systemResponse{
		ID: sys.ID, Name: sys.Name, Description: sys.Description, Rights: cloneRights(sys.Rights),
		AccessPackages: pkgRefsOf(sys.AccessPackages), IsDeleted: sys.Deleted,
		ClientID: append([]string{}, sys.ClientIDs...), IsVisible: sys.Visible(),
		AllowedRedirectURLs: make([]string, 0, len(sys.AllowedRedirectURLs)),
	}
	resp.Vendor.ID = "0192:" + sys.VendorOrgNo
	for _, u := range sys.AllowedRedirectURLs {
		resp.AllowedRedirectURLs = append(resp.AllowedRedirectURLs, dotnetURI(u))
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleCreateSystem serves POST vendor in Altinn's order: VLD-00000 on its own;
// then every other check collected; then ownership (403 even with errors); then the
// 400 list; then the insert, where a client id repeated in the body hits the
// primary key (409). It answers 200 with the internal GUID as a JSON string.
func (s *Server) handleCreateSystem(w http.ResponseWriter, r *http.Request) {
	at, ok := s.authorize(w, r, ScopeRegisterWrite, ScopeRegisterAdmin)
	if !ok {
		return
	}
	b, p := decodeRegisterBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	vendorOrg, ok := strings.CutPrefix(*b.Vendor.ID, "0192:")
	if !ok {
		writeValidation(w, []vldError{vld(0, "/vendor/id")})
		return
	}
	if b.Rights.null {
		writeServerError(w)
		return
	}
	id := *b.ID
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []vldError
	if prefix, _, _ := strings.Cut(id, "_"); prefix != vendorOrg {
		errs = append(errs, vld(1, "/systemid"))
	}
	if strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		errs = append(errs, vld(13, "/systemid"))
	}
	if s.systems[id] != nil {
		errs = append(errs, vld(2, "/systemid"))
	}
	for _, u := range b.AllowedRedirectURLs {
		if checkRegisteredRedirectURL(u) != nil {
			errs = append(errs, vld(5, "/allowedredirecturls"))
			break
		}
	}
	if s.clientIDTakenLocked(b.ClientID, "") {
		errs = append(errs, vld(4, "/clientid"))
	}
	errs = append(errs, s.rightsErrorsLocked(b.Rights.list)...)
	errs = append(errs, s.packageErrorsLocked(b.AccessPackages, b.IsVisible == nil || *b.IsVisible)...)
	if at.consumerOrg == "" || vendorOrg != at.consumerOrg {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	if hasDuplicate(b.ClientID) {
		writeText(w, http.StatusConflict, "The System already exist: "+id)
		return
	}
	if len(id) > maxColumn {
		writeText(w, http.StatusInternalServerError, "value too long for type character varying(255)")
		return
	}
	sys := &System{ID: id, VendorOrgNo: vendorOrg, InternalID: newUUID()}
	s.applyBodyLocked(sys, b)
	s.systems[id] = sys
	s.logChangeLocked(sys, at, changeCreate, changedSystemData(b))
	s.logf("sim: system %s registered by %s", id, at.consumerOrg)
	writeJSON(w, http.StatusOK, sys.InternalID)
}

// handleUpdateSystem serves PUT vendor/{systemId}, a whole replace, in Altinn's
// order: unknown (404 text), not the caller's (403), body vendor not the stored one
// (the same 404), body id not the path's (VLD-00012), deleted (400 text), then the
// rights, package and client-id checks. Redirect URLs are not checked. Every field
// is overwritten: a list left out becomes empty, isVisible left out becomes true,
// and the client links follow clientId.
func (s *Server) handleUpdateSystem(w http.ResponseWriter, r *http.Request) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	b, p := decodeRegisterBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	id := r.PathValue("systemId")
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.ownedSystemLocked(w, id, at, systemNotFound)
	if sys == nil {
		return
	}
	switch {
	case *b.Vendor.ID != "0192:"+sys.VendorOrgNo:
		systemNotFound(w, id)
		return
	case *b.ID != id:
		writeValidation(w, []vldError{vld(12, "/systemid")})
		return
	case sys.Deleted:
		writeText(w, http.StatusBadRequest, "Cannot update a system marked as deleted.")
		return
	case b.Rights.null:
		writeServerError(w)
		return
	}
	errs := s.rightsErrorsLocked(b.Rights.list)
	errs = append(errs, s.packageErrorsLocked(b.AccessPackages, b.IsVisible == nil || *b.IsVisible)...)
	if hasDuplicate(b.ClientID) {
		errs = append(errs, vld(11, "/clientid"))
	}
	if s.clientIDTakenLocked(b.ClientID, id) {
		errs = append(errs, vld(4, "/clientid"))
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.applyBodyLocked(sys, b)
	s.logChangeLocked(sys, at, changeUpdate, changedSystemData(b))
	s.logf("sim: system %s replaced by %s", id, at.consumerOrg)
	writeJSON(w, http.StatusOK, updateResult{true})
}

// updateResult is SystemRegisterUpdateResult.
type updateResult struct {
	Succeeded bool `json:"succeeded"`
}

// applyBodyLocked overwrites every field of sys from a POST or PUT body. Redirect
// URLs are stored as .NET's Uri.ToString() writes them. The caller holds s.mu.
func (s *Server) applyBodyLocked(sys *System, b *registerBody) {
	sys.Name = cloneTexts(b.Name)
	sys.Description = cloneTexts(b.Description)
	sys.Rights = cloneRights(b.Rights.list)
	sys.AccessPackages = packagesOf(b.AccessPackages)
	sys.ClientIDs = append([]string{}, b.ClientID...)
	visible := b.IsVisible == nil || *b.IsVisible
	sys.IsVisible = &visible
	sys.AllowedRedirectURLs = make([]string, 0, len(b.AllowedRedirectURLs))
	for _, u := range b.AllowedRedirectURLs {
		sys.AllowedRedirectURLs = append(sys.AllowedRedirectURLs, dotnetURI(u))
	}
}

// handleUpdateRights serves PUT vendor/{systemId}/rights: the rights list only.
func (s *Server) handleUpdateRights(w http.ResponseWriter, r *http.Request) {
	s.updateList(w, r, func(sys *System, at *accessToken, body []byte) bool {
		var rights []Right
		if err := json.Unmarshal(body, &rights); err != nil {
			writeProblem(w, validationProblem(map[string][]string{"$": {"The JSON value could not be converted to System.Collections.Generic.List`1[Right]."}}))
			return false
		}
		trimRights(rights)
		if errs := s.rightsErrorsLocked(rights); len(errs) > 0 {
			writeValidation(w, errs)
			return false
		}
		sys.Rights = cloneRights(rights)
		s.logChangeLocked(sys, at, changeRightsUpdate, changedRights(rights))
		return true
	})
}

// handleUpdatePackages serves PUT vendor/{systemId}/accesspackages: the package list
// only, checked against the stored isVisible.
func (s *Server) handleUpdatePackages(w http.ResponseWriter, r *http.Request) {
	s.updateList(w, r, func(sys *System, at *accessToken, body []byte) bool {
		var pkgs []pkgRef
		if err := json.Unmarshal(body, &pkgs); err != nil {
			writeProblem(w, validationProblem(map[string][]string{"$": {"The JSON value could not be converted to System.Collections.Generic.List`1[AccessPackage]."}}))
			return false
		}
		for i := range pkgs {
			pkgs[i].URN = strings.TrimSpace(pkgs[i].URN)
		}
		if errs := s.packageErrorsLocked(pkgs, sys.Visible()); len(errs) > 0 {
			writeValidation(w, errs)
			return false
		}
		sys.AccessPackages = packagesOf(pkgs)
		data := make([]changedPackage, 0, len(pkgs))
		for _, p := range pkgs {
			data = append(data, changedPackage(p))
		}
		s.logChangeLocked(sys, at, changePackagesUpdate, mustJSON(data))
		return true
	})
}

// updateList runs PUT rights and PUT accesspackages: the token, a JSON list body,
// then under the lock an unknown system (most likely a 500 in Altinn), another
// vendor's (403), a deleted one (400 text), and apply, which answers itself when it
// returns false.
func (s *Server) updateList(w http.ResponseWriter, r *http.Request, apply func(sys *System, at *accessToken, body []byte) bool) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	raw, p := decodeJSON[json.RawMessage](w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.ownedSystemLocked(w, r.PathValue("systemId"), at, func(w http.ResponseWriter, _ string) { writeServerError(w) })
	if sys == nil {
		return
	}
	if sys.Deleted {
		writeText(w, http.StatusBadRequest, "Cannot update a system marked as deleted.")
		return
	}
	if apply(sys, at, *raw) {
		writeJSON(w, http.StatusOK, updateResult{true})
	}
}

// handleDeleteSystem serves DELETE vendor/{systemId}: a soft delete that also drops
// the client links. Unknown gives a 400 validation problem ("return": "System not
// found"); another vendor's 403. It answers 200 only when both the delete and the
// link removal changed something, so a system without client ids, or one already
// deleted, answers a bare 400 (after being deleted).
func (s *Server) handleDeleteSystem(w http.ResponseWriter, r *http.Request) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	id := r.PathValue("systemId")
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.ownedSystemLocked(w, id, at, func(w http.ResponseWriter, _ string) {
		writeProblem(w, validationProblem(map[string][]string{"return": {"System not found"}}))
	})
	if sys == nil {
		return
	}
	wasDeleted, hadClients := sys.Deleted, len(sys.ClientIDs) > 0
	if !wasDeleted {
		sys.Deleted = true
		sys.ClientIDs = []string{}
		s.logChangeLocked(sys, at, changeDelete, nil)
		s.logf("sim: system %s deleted by %s", id, at.consumerOrg)
	}
	if wasDeleted || !hadClients {
		writeProblem(w, bareProblem(http.StatusBadRequest))
		return
	}
	writeJSON(w, http.StatusOK, updateResult{true})
}

// changeLogItem is SystemChangeLog on the wire.
type changeLogItem struct {
	SystemInternalID   string          `json:"systemInternalId"`
	ChangedByOrgNumber string          `json:"changedByOrgNumber"`
	ChangeType         string          `json:"changeType"`
	ChangedData        json.RawMessage `json:"changedData,omitempty"`
	ClientID           string          `json:"clientId"`
	Created            string          `json:"created"`
}

// handleChangelog serves GET vendor/{systemId}/changelog, newest first.
func (s *Server) handleChangelog(w http.ResponseWriter, r *http.Request) {
	at, ok := s.registerAuth(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.ownedSystemLocked(w, r.PathValue("systemId"), at, systemNotFound)
	if sys == nil {
		return
	}
	out := make([]changeLogItem, 0, len(sys.Changelog))
	for i := len(sys.Changelog) - 1; i >= 0; i-- {
		e := sys.Changelog[i]
		out = append(out, changeLogItem{
			SystemInternalID: sys.InternalID, ChangedByOrgNumber: e.ChangedByOrgNumber, ChangeType: e.ChangeType,
			ChangedData: e.ChangedData, ClientID: e.ClientID, Created: formatTime(e.Created),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// logChangeLocked appends a change-log entry and records the change for the state
// file. The caller holds s.mu.
func (s *Server) logChangeLocked(sys *System, at *accessToken, changeType string, data json.RawMessage) {
	sys.Changelog = append(sys.Changelog, ChangeLogEntry{
		ChangedByOrgNumber: at.consumerOrg, ChangeType: changeType, ChangedData: data,
		ClientID: at.clientID, Created: s.worldNowLocked().UTC().Truncate(time.Microsecond),
	})
	s.changedLocked()
}

// rightsErrorsLocked checks rights as the register does: every resource attribute
// must be urn:altinn:resource (VLD-00009), exist in the Resource Registry
// (VLD-00003) with a delegable type (VLD-00017), and no right may repeat another
// (VLD-00006). The caller holds s.mu.
func (s *Server) rightsErrorsLocked(rights []Right) []vldError {
	var badFormat, missing, notDelegable, dup bool
	for i, r := range rights {
		if len(r.Resource) == 0 {
			badFormat = true
		}
		for _, pair := range r.Resource {
			if pair.ID != resourceAttr {
				badFormat = true
				continue
			}
			res := s.resourceLocked(pair.Value)
			switch {
			case res == nil:
				missing = true
			case slices.Contains(notDelegableTypes, res.resourceType):
				notDelegable = true
			}
		}
		for _, prev := range rights[:i] {
			if sameResource(prev.Resource, r.Resource) {
				dup = true
			}
		}
	}
	var errs []vldError
	if badFormat {
		errs = append(errs, vld(9, "/rights/resource"))
	}
	if missing {
		errs = append(errs, vld(3, "/rights/resource"))
	}
	if notDelegable {
		errs = append(errs, vld(17, "/rights/resource"))
	}
	if dup {
		errs = append(errs, vld(6, "/rights/resource"))
	}
	return errs
}

// packageErrorsLocked checks access packages as the register does, against Access
// Management's metadata: a URN of at least four parts that is found and is
// delegable or assignable (VLD-00008, naming the offenders under "Invalid Urn
// Details : "), no duplicates (VLD-00007), and with visible, no package that is not
// assignable (VLD-00018). The caller holds s.mu.
func (s *Server) packageErrorsLocked(pkgs []pkgRef, visible bool) []vldError {
	var badFormat, notFound, notDelegable []string
	clientOnly, dup := false, false
	seen := map[string]bool{}
	for _, p := range pkgs {
		if seen[p.URN] {
			dup = true
		}
		seen[p.URN] = true
		if len(strings.Split(p.URN, ":")) < 4 {
			badFormat = append(badFormat, p.URN)
			continue
		}
		ap := s.packageLocked(p.URN)
		switch {
		case ap == nil:
			notFound = append(notFound, p.URN)
			continue
		case !ap.assignable && !ap.delegable:
			notDelegable = append(notDelegable, p.URN)
		}
		if visible && !ap.assignable {
			clientOnly = true
		}
	}
	var errs []vldError
	if len(badFormat)+len(notFound)+len(notDelegable) > 0 {
		var parts []string
		if len(badFormat) > 0 {
			parts = append(parts, "Invalid format: "+strings.Join(badFormat, ", "))
		}
		if len(notFound) > 0 {
			parts = append(parts, "Not found: "+strings.Join(notFound, ", "))
		}
		if len(notDelegable) > 0 {
			parts = append(parts, "Not delegable: "+strings.Join(notDelegable, ", "))
		}
		errs = append(errs, vld(8, "/accesspackages", "Invalid Urn Details : ", strings.Join(parts, " | ")))
	}
	if dup {
		errs = append(errs, vld(7, "/accesspackages"))
	}
	if clientOnly {
		errs = append(errs, vld(18, "/accesspackages"))
	}
	return errs
}

// clientIDTakenLocked reports whether one of ids is on a non-deleted system other
// than except (any case, as Altinn compares them). The caller holds s.mu.
func (s *Server) clientIDTakenLocked(ids []string, except string) bool {
	for _, sys := range s.systems {
		if sys.ID == except || sys.Deleted {
			continue
		}
		for _, id := range ids {
			if slices.ContainsFunc(sys.ClientIDs, func(c string) bool { return strings.EqualFold(c, id) }) {
				return true
			}
		}
	}
	return false
}

// hasDuplicate reports whether a string repeats in list, in any case.
func hasDuplicate(list []string) bool {
	seen := map[string]bool{}
	for _, v := range list {
		k := strings.ToLower(v)
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

// dotnetURI writes an absolute URL as .NET's Uri.ToString() does for the parts
// that matter here: scheme and host in lower case, a default port dropped, an empty
// path as "/". Anything that is not an absolute URL is returned as it is.
func dotnetURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return raw
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if p := u.Port(); scheme == "https" && p == "443" || scheme == "http" && p == "80" {
		host = strings.TrimSuffix(host, ":"+p)
	}
	out := scheme + "://"
	if u.User != nil {
		out += u.User.String() + "@"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out += host + path
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	return out
}

// pkgRefsOf renders a system's packages on the wire, never nil.
func pkgRefsOf(pkgs []Package) []pkgRef {
	out := make([]pkgRef, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, pkgRef{URN: p.URN})
	}
	return out
}

// packagesOf makes a system's packages from a body's, URN only: the flags belong to
// the catalogue.
func packagesOf(refs []pkgRef) []Package {
	out := make([]Package, 0, len(refs))
	for _, r := range refs {
		out = append(out, Package{URN: r.URN})
	}
	return out
}

// cloneTexts copies a language map.
func cloneTexts(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The change log's changedData is the body as Altinn deserialised it, written
// with PascalCase keys; the vendor's authority is not serialised.
type (
	changedSystem struct {
		ID                  string            `json:"Id"`
		Vendor              changedVendor     `json:"Vendor"`
		Name                map[string]string `json:"Name"`
		Description         map[string]string `json:"Description"`
		Rights              []changedRight    `json:"Rights"`
		AccessPackages      []changedPackage  `json:"AccessPackages"`
		ClientID            []string          `json:"ClientId"`
		IsVisible           bool              `json:"IsVisible"`
		AllowedRedirectURLs []string          `json:"AllowedRedirectUrls"`
	}
	changedVendor struct {
		ID string `json:"ID"`
	}
	changedRight struct {
		Action   string        `json:"Action,omitempty"`
		Resource []changedPair `json:"Resource"`
	}
	changedPair struct {
		ID    string `json:"Id"`
		Value string `json:"Value"`
	}
	changedPackage struct {
		URN string `json:"Urn"`
	}
)

// changedSystemData is the changedData of a create or a whole update.
func changedSystemData(b *registerBody) json.RawMessage {
	d := changedSystem{
		ID: *b.ID, Vendor: changedVendor{*b.Vendor.ID}, Name: b.Name, Description: b.Description,
		Rights: changedRightsOf(b.Rights.list), AccessPackages: make([]changedPackage, 0, len(b.AccessPackages)),
		ClientID: append([]string{}, b.ClientID...), IsVisible: b.IsVisible == nil || *b.IsVisible,
		AllowedRedirectURLs: append([]string{}, b.AllowedRedirectURLs...),
	}
	for _, p := range b.AccessPackages {
		d.AccessPackages = append(d.AccessPackages, changedPackage(p))
	}
	return mustJSON(d)
}

// changedRights is the changedData of a rights update.
func changedRights(rights []Right) json.RawMessage { return mustJSON(changedRightsOf(rights)) }

// changedRightsOf writes rights with PascalCase keys.
func changedRightsOf(rights []Right) []changedRight {
	out := make([]changedRight, 0, len(rights))
	for _, r := range rights {
		cr := changedRight{Action: r.Action, Resource: make([]changedPair, 0, len(r.Resource))}
		for _, p := range r.Resource {
			cr.Resource = append(cr.Resource, changedPair(p))
		}
		out = append(out, cr)
	}
	return out
}

// mustJSON marshals v, which cannot fail for the simulator's own types.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// System returns a copy of the system as the register holds it, deleted or not, and
// whether it exists.
func (s *Server) System(id string) (System, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.systems[id]
	if sys == nil {
		return System{}, false
	}
	return *cloneSystem(*sys), true
}

// ErrUnknownSystem means the system is not in the system register.
var ErrUnknownSystem = errors.New("sim: unknown system")

// AddClientID puts a Maskinporten client id on the system's clientId list, as a
// vendor does in the system register so that system-user tokens for the system can
// be issued to that client (without it they fail with MP-303). It does nothing when
// the id is there already or the system is deleted (a deleted system cannot be
// changed). Unlike the register's PUT it does not refuse a client id that another
// system holds (VLD-00004). It returns ErrUnknownSystem.
func (s *Server) AddClientID(systemID, clientID string) error {
	return s.editSystem(systemID, func(sys *System) bool {
		if sys.Deleted || slices.Contains(sys.ClientIDs, clientID) {
			return false
		}
		sys.ClientIDs = append(sys.ClientIDs, clientID)
		return true
	})
}

// RemoveClientID takes a Maskinporten client id off the system's clientId list, so
// that system-user tokens for the client fail with MP-303. It returns
// ErrUnknownSystem.
func (s *Server) RemoveClientID(systemID, clientID string) error {
	return s.editSystem(systemID, func(sys *System) bool {
		n := len(sys.ClientIDs)
		sys.ClientIDs = slices.DeleteFunc(sys.ClientIDs, func(c string) bool { return c == clientID })
		return len(sys.ClientIDs) != n
	})
}

// RemoveRedirectURL takes off the system every allowed redirect URL that a request's
// redirectUrl of url would match (query and fragment ignored), so such requests
// fail with AUTH-00021 (AUTH-00026 when none is left). It returns ErrUnknownSystem.
func (s *Server) RemoveRedirectURL(systemID, url string) error {
	want, err := redirectKey(url)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return s.editSystem(systemID, func(sys *System) bool {
		n := len(sys.AllowedRedirectURLs)
		sys.AllowedRedirectURLs = slices.DeleteFunc(sys.AllowedRedirectURLs, func(u string) bool {
			k, err := redirectKey(u)
			return err == nil && k == want
		})
		return len(sys.AllowedRedirectURLs) != n
	})
}

// editSystem applies edit to the system under the lock and, when edit reports a
// change, saves the state before it returns.
func (s *Server) editSystem(systemID string, edit func(sys *System) bool) error {
	s.mu.Lock()
	sys := s.systems[systemID]
	if sys == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownSystem, systemID)
	}
	if edit(sys) {
		s.changedLocked()
	}
	gen := s.gen
	s.mu.Unlock()
	return s.commitTo(gen)
}
