package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// authCodes holds Altinn's problem descriptors for the AUTH codes the simulator
// returns: HTTP status and title, as in Altinn.Authentication.Core.Problems.Problem.
var authCodes = map[int]struct {
	status int
	title  string
}{
	0:  {http.StatusBadRequest, "Can't resolve the Organisation Number from the logged in Reportee PartyId."},
	1:  {http.StatusBadRequest, "One or more Right not found or not delegable."},
	4:  {http.StatusBadRequest, "Failed to create new SystemUser, existing SystemUser tied to the given System-Id."},
	6:  {http.StatusBadRequest, "The combination of External Ids refer to an already Accepted SystemUser."},
	7:  {http.StatusBadRequest, "The combination of External Ids refer to a Pending Request, please reuse or delete."},
	8:  {http.StatusBadRequest, "The combination of External Ids refer to a Denied Request, please delete and renew the Request."},
	9:  {http.StatusBadRequest, "The combination of External Ids refer to a Rejected Request, please delete and renew the Request."},
	10: {http.StatusNotFound, "The Id does not refer to a Request in our system."},
	11: {http.StatusNotFound, "The Id does not refer to a Registered System."},
	12: {http.StatusNotFound, "An error occured when storing the Request."},
	13: {http.StatusConflict, "The Status of the Request is not New."},
	15: {http.StatusNotFound, "The SystemUser was not found."},
	21: {http.StatusBadRequest, "The RedirectUri was not found or not valid."},
	23: {http.StatusUnauthorized, "Can't resolve the Organisation Number for the Vendor from the Token."},
	26: {http.StatusBadRequest, "No redirect uris are set for the system"},
	// Client delegation (clientdelegation.md §4); the titles are the
	// simulator's, the statuses of 38 and 80 UNCONFIRMED.
	38: {http.StatusNotFound, "Delegation not found"},
	58: {http.StatusBadRequest, "No AccessPackages found, an Agent SystemUser must have at least one"},
	59: {http.StatusBadRequest, "No AccessPackages or Single Rights found, a SystemUser must have at least one"},
	63: {http.StatusBadRequest, "One or more accesspackage is not found in the referenced system in the System Register."},
	64: {http.StatusBadRequest, "One or more access packages cannot be delegated. Either they are intended for clients or they cannot be delegated further."},
	65: {http.StatusBadRequest, "One or more access packages cannot be delegated because they are not intended for client relationships"},
	79: {http.StatusBadRequest, "Client not found"},
	80: {http.StatusBadRequest, "The client does not have all the access packages of the system user"},
}

// problem is an RFC 9457 problem as Altinn writes it. Altinn's own problems have a
// code; the framework's have none ("bare") and validation problems have errors.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Code   string              `json:"code,omitempty"`
	Errors map[string][]string `json:"errors,omitempty"`
	ext    map[string]string
}

// authProblem returns Altinn's problem for AUTH-000NN, with optional extension keys
// given as name, value pairs (e.g. "NotFoundPackages", "urn:...").
func authProblem(n int, ext ...string) *problem {
	d, ok := authCodes[n]
	if !ok {
		d.status, d.title = http.StatusInternalServerError, "Unknown problem."
	}
	code := fmt.Sprintf("AUTH-%05d", n)
	p := &problem{Type: "urn:altinn:error:" + code, Title: d.title, Status: d.status, Code: code}
	for i := 0; i+1 < len(ext); i += 2 {
		if p.ext == nil {
			p.ext = map[string]string{}
		}
		p.ext[ext[i]] = ext[i+1]
	}
	return p
}

// bareProblem is ASP.NET's generic ProblemDetails for a plain status result, with no
// Altinn code.
func bareProblem(status int) *problem {
	sections := map[int]string{
		http.StatusBadRequest:           "15.5.1",
		http.StatusUnauthorized:         "15.5.2",
		http.StatusForbidden:            "15.5.4",
		http.StatusNotFound:             "15.5.5",
		http.StatusMethodNotAllowed:     "15.5.6",
		http.StatusConflict:             "15.5.10",
		http.StatusUnsupportedMediaType: "15.5.16",
		http.StatusInternalServerError:  "15.6.1",
	}
	return &problem{
		Type:   "https://tools.ietf.org/html/rfc9110#section-" + sections[status],
		Title:  http.StatusText(status),
		Status: status,
	}
}

// validationProblem is ASP.NET's ValidationProblemDetails for model-binding and
// validation failures.
func validationProblem(errs map[string][]string) *problem {
	p := bareProblem(http.StatusBadRequest)
	p.Title = "One or more validation errors occurred."
	p.Errors = errs
	return p
}

// writeProblem writes p as application/problem+json with a fresh traceId, in
// ASP.NET's field order, extension keys last.
func writeProblem(w http.ResponseWriter, p *problem) {
	var buf bytes.Buffer
	_ = jsonEncoder(&buf).Encode(struct {
		*problem
		TraceID string `json:"traceId"`
	}{p, traceID()})
	out := bytes.TrimRight(buf.Bytes(), "}\n")
	keys := make([]string, 0, len(p.ext))
	for k := range p.ext {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(p.ext[k])
		out = fmt.Appendf(out, ",%s:%s", kb, vb)
	}
	out = append(out, "}\n"...)
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(p.Status)
	_, _ = w.Write(out)
}

// traceID returns a W3C trace context id as ASP.NET puts it in problems.
func traceID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}

// jsonEncoder returns the encoder for response bodies. It escapes <, > and & as
// \u003c and so on, as System.Text.Json's default encoder in Altinn does, so a client
// that does not decode JSON properly (a redirectUrl with & in it) is caught.
func jsonEncoder(w io.Writer) *json.Encoder {
	return json.NewEncoder(w)
}
