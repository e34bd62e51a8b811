package altinn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// StatusNoChangeNeeded is the status of a change request that asked for
// nothing: Altinn answers 200 with it and an empty confirmUrl, and stores
// nothing. It is only ever returned, never stored.
const StatusNoChangeNeeded = "NoChangeNeeded"

// ChangeRequest is a change request (endringsforespørsel) as Altinn reports
// it: rights and access packages to add to, and to remove from, an existing
// standard system user. The customer approves or rejects it at ConfirmURL;
// as with requests, the vendor learns the outcome only by reading it again.
type ChangeRequest struct {
	// ID equals the vendor's correlation-id.
	ID                     string          `json:"id"`
	ExternalRef            string          `json:"externalRef"`
	SystemID               string          `json:"systemId"`
	SystemUserID           string          `json:"systemUserId"`
	PartyOrgNo             string          `json:"partyOrgNo"`
	RequiredRights         []Right         `json:"requiredRights"`
	UnwantedRights         []Right         `json:"unwantedRights"`
	RequiredAccessPackages []AccessPackage `json:"requiredAccessPackages"`
	UnwantedAccessPackages []AccessPackage `json:"unwantedAccessPackages"`
	// Status is New, Accepted or Rejected (Denied and Timedout exist in
	// Altinn's enum), or StatusNoChangeNeeded from a create that asked for
	// nothing.
	Status      string `json:"status"`
	RedirectURL string `json:"redirectUrl,omitempty"`
	// ConfirmURL is "" for StatusNoChangeNeeded.
	ConfirmURL string `json:"confirmUrl"`
	// Created is zero when Altinn left it out or sent a placeholder.
	Created time.Time `json:"created"`
	// TimedOut is Altinn's flag for change requests older than 180 days.
	TimedOut bool `json:"timedOut"`
}

// UnmarshalJSON decodes a ChangeRequest, tolerating odd created values.
func (r *ChangeRequest) UnmarshalJSON(b []byte) error {
	type plain ChangeRequest
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

// CreateChangeRequest is what the vendor asks to change on a standard system
// user. CorrelationID is the vendor's own GUID and becomes the change
// request's id; Altinn asks for a new one for every change. Nil lists are
// sent as empty ones.
type CreateChangeRequest struct {
	CorrelationID          string
	SystemUserID           string
	RequiredRights         []Right
	UnwantedRights         []Right
	RequiredAccessPackages []AccessPackage
	UnwantedAccessPackages []AccessPackage
	// RedirectURL, if set, must match one of the system's registered
	// redirect URLs, as for requests; the browser is sent back to it byte
	// for byte after the customer's decision.
	RedirectURL string
}

// changeRequestBody is ChangeRequestSystemUser on the wire: the four lists
// always as arrays, never null.
type changeRequestBody struct {
	RequiredRights         []Right         `json:"requiredRights"`
	UnwantedRights         []Right         `json:"unwantedRights"`
	RequiredAccessPackages []AccessPackage `json:"requiredAccessPackages"`
	UnwantedAccessPackages []AccessPackage `json:"unwantedAccessPackages"`
	RedirectURL            string          `json:"redirectUrl,omitempty"`
}

// CreateChangeRequest asks Altinn to change the rights and access packages of
// the standard system user r.SystemUserID. The bool is true only when Altinn
// stored a new change request (201). It is false on 200, which Altinn sends
// both for a correlation-id it already has (the stored change request is
// returned, in any status, and r is ignored) and for a request that asks for
// nothing (Status is StatusNoChangeNeeded, ConfirmURL is "", nothing stored).
//
// CreateChangeRequest returns a *Problem for non-2xx answers: notably 404
// AUTH-00015 (matching ErrNotFound) for an unknown system user or an agent
// system user, which cannot be changed; a plain-text 400 (Problem.Body set,
// no Code) for a correlation-id Altinn refuses, such as one equal to the
// system-user id; a bare 401 (matching ErrUnauthorized) when the system user
// is another vendor's; 404 AUTH-00011; and 400 AUTH-00000/-00001/-00021/
// -00026/-00063/-00064 for invalid input. An undecodable 2xx body gives an
// error wrapping ErrMalformed, and transport and context errors are returned
// wrapped. It is not retried; after a transport error, read the change
// request with GetChangeRequest (the id is the correlation-id). An empty
// CorrelationID or SystemUserID is refused with an error, without calling
// Altinn.
func (c *Client) CreateChangeRequest(ctx context.Context, r CreateChangeRequest) (cr *ChangeRequest, created bool, err error) {
	e := endpoint{method: http.MethodPost, tmpl: "changerequest/vendor", scope: ScopeRequestWrite}
	if r.CorrelationID == "" || r.SystemUserID == "" {
		return nil, false, fmt.Errorf("altinn: %s: correlation id and system user id are required", e.op())
	}
	q := url.Values{"correlation-id": {r.CorrelationID}, "system-user-id": {r.SystemUserID}}
	e.url = c.urlFor("changerequest/vendor?" + q.Encode())
	e.body = changeRequestBody{
		RequiredRights:         orEmpty(r.RequiredRights),
		UnwantedRights:         orEmpty(r.UnwantedRights),
		RequiredAccessPackages: orEmpty(r.RequiredAccessPackages),
		UnwantedAccessPackages: orEmpty(r.UnwantedAccessPackages),
		RedirectURL:            r.RedirectURL,
	}
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, false, err
	}
	cr, err = decodeChangeRequest(e, resp.body)
	if err != nil {
		return nil, false, err
	}
	return cr, resp.status == http.StatusCreated, nil
}

// GetChangeRequest reads a change request by id (the correlation-id), to
// learn whether the customer has approved it.
//
// GetChangeRequest returns a *Problem for non-2xx answers: 404 AUTH-00010
// (unknown or deleted) and 404 AUTH-00011 match ErrNotFound, a bare 401
// matches ErrUnauthorized. An undecodable 2xx body gives an error wrapping
// ErrMalformed; transport and context errors are returned wrapped. An empty
// id is refused with an error, without calling Altinn.
func (c *Client) GetChangeRequest(ctx context.Context, id string) (*ChangeRequest, error) {
	e := endpoint{method: http.MethodGet, tmpl: "changerequest/vendor/{id}", scope: ScopeRequestRead}
	if id == "" {
		return nil, fmt.Errorf("altinn: %s: empty id", e.op())
	}
	e.url = c.urlFor("changerequest/vendor/" + segment(id))
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, err
	}
	return decodeChangeRequest(e, resp.body)
}

// DeleteChangeRequest soft-deletes a change request in any status. It does
// not undo an approved change.
//
// DeleteChangeRequest returns nil on any 2xx (Altinn sends 202), a *Problem
// matching ErrNotFound for 404 AUTH-00010 (unknown or already deleted), a
// *Problem matching ErrForbidden for 403 (missing scope), and wrapped
// transport or context errors. An empty id is refused with an error, without
// calling Altinn.
func (c *Client) DeleteChangeRequest(ctx context.Context, id string) error {
	e := endpoint{method: http.MethodDelete, tmpl: "changerequest/vendor/{id}", scope: ScopeRequestWrite}
	if id == "" {
		return fmt.Errorf("altinn: %s: empty id", e.op())
	}
	e.url = c.urlFor("changerequest/vendor/" + segment(id))
	_, err := c.do(ctx, e)
	return err
}

// decodeChangeRequest decodes a change request body. One without an id is
// treated as malformed.
func decodeChangeRequest(e endpoint, body []byte) (*ChangeRequest, error) {
	var r ChangeRequest
	if err := decode(e, body, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, malformed(e, errors.New("change request has no id"))
	}
	return &r, nil
}

// orEmpty returns s, or an empty slice for nil, so that it is sent as [].
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
