package altinn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AttributePair is one attribute of a right's resource, such as
// {"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}.
type AttributePair struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Right is a resource right a system user is asked to hold. It must match a
// right registered on the system; Action is ignored by Altinn when matching.
type Right struct {
	Action   string          `json:"action,omitempty"`
	Resource []AttributePair `json:"resource"`
}

// AccessPackage names an access package by URN, e.g.
// "urn:altinn:accesspackage:regnskapsforer-lonn".
type AccessPackage struct {
	URN string `json:"urn"`
}

// CreateRequest is the body of a request for a standard system user. The key
// Altinn deduplicates on is (SystemID, PartyOrgNo, ExternalRef); an empty
// ExternalRef is omitted, so Altinn defaults it to PartyOrgNo. (Sending ""
// instead would dodge Altinn's duplicate check.)
type CreateRequest struct {
	SystemID         string          `json:"systemId"`
	PartyOrgNo       string          `json:"partyOrgNo"`
	ExternalRef      string          `json:"externalRef,omitempty"`
	IntegrationTitle string          `json:"integrationTitle,omitempty"`
	Rights           []Right         `json:"rights,omitempty"`
	AccessPackages   []AccessPackage `json:"accessPackages,omitempty"`
	// RedirectURL, if set, must match one of the system's registered
	// redirect URLs (query and fragment aside). Altinn sends the browser
	// back to it byte for byte after approval or rejection, so put your own
	// state in its query.
	RedirectURL string `json:"redirectUrl,omitempty"`
}

// CreateAgentRequest is the body of a request for an agent (client-system)
// system user. It has no rights: agents get access packages only, at least
// one, each of them client-delegable.
type CreateAgentRequest struct {
	SystemID         string          `json:"systemId"`
	PartyOrgNo       string          `json:"partyOrgNo"`
	ExternalRef      string          `json:"externalRef,omitempty"`
	IntegrationTitle string          `json:"integrationTitle,omitempty"`
	AccessPackages   []AccessPackage `json:"accessPackages,omitempty"`
	RedirectURL      string          `json:"redirectUrl,omitempty"`
}

// Request statuses. Current Altinn writes only New, Accepted and Rejected;
// Denied and Timedout exist in its enum, and servers before 2025-11-20
// overwrote the status with Timedout after 10 days.
const (
	StatusNew      = "New"
	StatusAccepted = "Accepted"
	StatusRejected = "Rejected"
	StatusDenied   = "Denied"
	StatusTimedout = "Timedout"
)

// Request is a request for a system user as Altinn reports it. The customer
// approves or rejects it at ConfirmURL; the vendor learns the outcome only by
// reading it again.
type Request struct {
	ID               string          `json:"id"`
	IntegrationTitle string          `json:"integrationTitle"`
	ExternalRef      string          `json:"externalRef"`
	SystemID         string          `json:"systemId"`
	PartyOrgNo       string          `json:"partyOrgNo"`
	Rights           []Right         `json:"rights"`
	AccessPackages   []AccessPackage `json:"accessPackages"`
	Status           string          `json:"status"`
	RedirectURL      string          `json:"redirectUrl"`
	ConfirmURL       string          `json:"confirmUrl"`
	// Escalated is set when the customer's user passed the request on to an
	// access manager; the status is still New.
	Escalated bool `json:"escalated"`
	// Created is zero when Altinn left it out or sent a placeholder.
	Created time.Time `json:"created"`
	// TimedOut is Altinn's flag for requests older than 180 days.
	TimedOut bool `json:"timedOut"`
	// Agent is true when the request was read from an agent endpoint.
	Agent bool `json:"-"`
	// Raw is the response body as received, for storing and debugging.
	Raw json.RawMessage `json:"-"`
}

// Expired reports whether Altinn considers the request timed out, either by
// the timedOut flag of current servers or by the legacy status "Timedout".
func (r *Request) Expired() bool {
	return r != nil && (r.TimedOut || strings.EqualFold(r.Status, StatusTimedout))
}

// UnmarshalJSON decodes a Request, tolerating odd created values.
func (r *Request) UnmarshalJSON(b []byte) error {
	type plain Request
	aux := struct {
		*plain
		Created flexTime `json:"created"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.Created = time.Time(aux.Created)
	return nil
}

// CreateRequest asks Altinn for a standard system user for req's key. The
// bool is true when Altinn created a new request (201) and false when it
// returned the request it already had for the key (200): in that case req's
// rights and redirect URL were ignored, and the request may be in any status.
//
// CreateRequest returns a *Problem for non-2xx answers (notably 400
// AUTH-00004 when a system user already exists for the key, 404 AUTH-00011
// for a system the vendor does not own, and 400 AUTH-00000/-00001/-00021/
// -00026/-00059/-00063/-00064 for invalid input), an error wrapping
// ErrMalformed for an undecodable 2xx body, and a wrapped transport or
// context error otherwise. It is not retried: after a transport error the
// request may or may not exist, so look it up with GetRequestByExternalRef.
func (c *Client) CreateRequest(ctx context.Context, req CreateRequest) (*Request, bool, error) {
	e := endpoint{
		method: http.MethodPost, tmpl: "request/vendor",
		url: c.urlFor("request/vendor"), scope: ScopeRequestWrite, body: req,
	}
	return c.create(ctx, e, false)
}

// CreateAgentRequest asks Altinn for an agent system user for req's key. The
// bool is true on 201 (new) and false on 200 (the existing agent request for
// the key, whatever its status).
//
// CreateAgentRequest returns the same errors as CreateRequest, with 400
// AUTH-00058 (no access packages) and AUTH-00065 (a package not
// client-delegable) in place of the rights errors.
func (c *Client) CreateAgentRequest(ctx context.Context, req CreateAgentRequest) (*Request, bool, error) {
	e := endpoint{
		method: http.MethodPost, tmpl: "request/vendor/agent",
		url: c.urlFor("request/vendor/agent"), scope: ScopeRequestWrite, body: req,
	}
	return c.create(ctx, e, true)
}

func (c *Client) create(ctx context.Context, e endpoint, agent bool) (*Request, bool, error) {
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, false, err
	}
	r, err := decodeRequest(e, resp.body, agent)
	if err != nil {
		return nil, false, err
	}
	return r, resp.status == http.StatusCreated, nil
}

// GetRequest reads a standard request by id, to learn whether the customer
// has approved it.
//
// GetRequest returns a *Problem for non-2xx answers: 404 AUTH-00010 (unknown,
// deleted, or an agent request; a request is deleted too when the customer
// deletes its system user) and 404 AUTH-00011 match ErrNotFound, a bare 401
// matches ErrUnauthorized. An undecodable 2xx body gives an error wrapping
// ErrMalformed; transport and context errors are returned wrapped. An empty
// id is refused with an error, without calling Altinn.
func (c *Client) GetRequest(ctx context.Context, id string) (*Request, error) {
	return c.getRequest(ctx, "request/vendor/{id}", "request/vendor/", id, false)
}

// GetAgentRequest reads an agent request by id. It returns the same errors
// as GetRequest; the id of a standard request gives 404 AUTH-00010.
func (c *Client) GetAgentRequest(ctx context.Context, id string) (*Request, error) {
	return c.getRequest(ctx, "request/vendor/agent/{id}", "request/vendor/agent/", id, true)
}

func (c *Client) getRequest(ctx context.Context, tmpl, prefix, id string, agent bool) (*Request, error) {
	e := endpoint{method: http.MethodGet, tmpl: tmpl, scope: ScopeRequestRead}
	if id == "" {
		return nil, fmt.Errorf("altinn: %s: empty id", e.op())
	}
	e.url = c.urlFor(prefix + segment(id))
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, err
	}
	return decodeRequest(e, resp.body, agent)
}

// GetRequestByExternalRef reads the standard request for a key. It is how to
// settle a create whose outcome is unknown (a timeout, say). An empty
// externalRef means the default, orgNo.
//
// GetRequestByExternalRef returns the same errors as GetRequest: 404
// AUTH-00010 when there is no live request for the key. An empty systemID
// or orgNo is refused with an error, without calling Altinn.
func (c *Client) GetRequestByExternalRef(ctx context.Context, systemID, orgNo, externalRef string) (*Request, error) {
	return c.getRequestByRef(ctx, "request/vendor/byexternalref/", systemID, orgNo, externalRef, false)
}

// GetAgentRequestByExternalRef reads the agent request for a key; an empty
// externalRef means orgNo. It returns the same errors as GetRequest.
func (c *Client) GetAgentRequestByExternalRef(ctx context.Context, systemID, orgNo, externalRef string) (*Request, error) {
	return c.getRequestByRef(ctx, "request/vendor/agent/byexternalref/", systemID, orgNo, externalRef, true)
}

func (c *Client) getRequestByRef(ctx context.Context, prefix, systemID, orgNo, externalRef string, agent bool) (*Request, error) {
	e := endpoint{
		method: http.MethodGet, tmpl: prefix + "{systemId}/{orgNo}/{externalRef}",
		name: strings.TrimSuffix(prefix, "/"), scope: ScopeRequestRead,
	}
	if systemID == "" || orgNo == "" {
		return nil, fmt.Errorf("altinn: %s: systemID and orgNo are required", e.op())
	}
	if externalRef == "" {
		externalRef = orgNo // Altinn does not default path segments itself
	}
	e.url = c.urlFor(prefix + segment(systemID) + "/" + segment(orgNo) + "/" + segment(externalRef))
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, err
	}
	return decodeRequest(e, resp.body, agent)
}

// DeleteRequest soft-deletes a request, standard or agent, in any status.
// It is the only way to free a key whose request was rejected, so that a
// new request can be created. Deleting an accepted request does not remove
// the system user.
//
// DeleteRequest returns nil on any 2xx (Altinn sends 202), a *Problem
// matching ErrNotFound for 404 AUTH-00010 (unknown or already deleted), a
// *Problem matching ErrForbidden for 403 (missing scope), and wrapped
// transport or context errors. An empty id is refused with an error, without
// calling Altinn.
func (c *Client) DeleteRequest(ctx context.Context, id string) error {
	e := endpoint{method: http.MethodDelete, tmpl: "request/vendor/{id}", scope: ScopeRequestWrite}
	if id == "" {
		return fmt.Errorf("altinn: %s: empty id", e.op())
	}
	e.url = c.urlFor("request/vendor/" + segment(id))
	_, err := c.do(ctx, e)
	return err
}

// decodeRequest decodes a request body. A body without an id is treated as
// malformed, since nothing can be done with such a request.
func decodeRequest(e endpoint, body []byte, agent bool) (*Request, error) {
	var r Request
	if err := decode(e, body, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, malformed(e, errors.New("request has no id"))
	}
	r.Agent = agent
	r.Raw = json.RawMessage(body)
	return &r, nil
}

// segment escapes s as one path segment, including "/" and the dot
// segments that a proxy might otherwise resolve.
func segment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}
