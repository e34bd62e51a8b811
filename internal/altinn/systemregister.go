package altinn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The system register's vendor routes (shared/altinn/systemregister.md):
// every one needs a token with ScopeSystemRegisterWrite, and the owner of a
// system is the organisation in the token's consumer claim.
const registerPath = "/authentication/api/v1/systemregister/"

// VendorAuthority is the authority of an organisation number in the system
// register's vendor field.
const VendorAuthority = "iso6523-actorid-upis"

var (
	// ErrNotOwner means Altinn answered 403 on one system's route: the
	// system belongs to another organisation than the one in the token.
	// (Altinn answers a token without the systemregister.write scope with
	// the same empty 403, so check the scope first.) It is returned
	// together with the *Problem, which matches ErrForbidden too.
	ErrNotOwner = errors.New("altinn: the system belongs to another organisation")
	// ErrSystemDeleted means Altinn refused to change a system because it
	// is marked as deleted. A deleted system's id can never be used again.
	ErrSystemDeleted = errors.New("altinn: the system is marked as deleted")
)

// Vendor is the organisation that registered a system: authority
// "iso6523-actorid-upis" and ID "0192:<orgno>". Altinn's GET leaves the
// authority out.
type Vendor struct {
	Authority string `json:"authority,omitempty"`
	ID        string `json:"ID"`
}

// OrgNo is the vendor's organisation number without the "0192:" prefix.
func (v Vendor) OrgNo() string {
	id := strings.TrimSpace(v.ID)
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// UnmarshalJSON reads {"authority","ID"} with member names in any case, or
// a bare string "0192:<orgno>".
func (v *Vendor) UnmarshalJSON(b []byte) error {
	*v = Vendor{}
	var s string
	if json.Unmarshal(b, &s) == nil {
		v.ID = strings.TrimSpace(s)
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		if string(bytes.TrimSpace(b)) == "null" {
			return nil
		}
		return err
	}
	// In a fixed order (sortedKeys), so a body with both "ID" and "id"
	// decodes the same way every time.
	for _, k := range sortedKeys(m) {
		raw := m[k]
		switch strings.ToLower(k) {
		case "authority":
			v.Authority = strings.TrimSpace(stringify(raw))
		case "id":
			v.ID = strings.TrimSpace(stringify(raw))
		}
	}
	return nil
}

// RegisteredSystem is a system in Altinn's system register: what GET
// vendor/{systemId} answers and what POST and PUT take. A PUT replaces the
// whole system, so change a system by reading it, changing what you mean to
// and sending it all back.
type RegisteredSystem struct {
	// ID is "<vendor orgno>_<name>".
	ID     string
	Vendor Vendor
	// Name and Description are texts by language (nb, nn, en). Customers
	// see the name in the portal, in their language, or "N/A".
	Name, Description map[string]string
	Rights            []Right
	AccessPackages    []AccessPackage
	// ClientIDs are the Maskinporten clients that may get system-user
	// tokens for the system (Altinn's clientId).
	ClientIDs []string
	// IsVisible shows the system in the portal's self-service list. It must
	// be false when the system has client-only access packages. Altinn's
	// default, and what a response without it is read as, is true.
	IsVisible bool
	// AllowedRedirectURLs are where a request's redirectUrl may send the
	// customer back to (compared on scheme, host, port and path).
	AllowedRedirectURLs []string
	// IsDeleted is only in answers: a deleted system stays readable, but
	// cannot be changed and its id cannot be used again.
	IsDeleted bool
	// Raw is the system as received, for what the fields above leave out.
	Raw json.RawMessage
}

// systemJSON is a RegisteredSystem on the wire. Every list is sent, empty
// rather than null: a PUT turns a missing list into [] anyway, and an
// explicit null may make Altinn answer 500.
type systemJSON struct {
	ID                  string            `json:"id"`
	Vendor              Vendor            `json:"vendor"`
	Name                map[string]string `json:"name"`
	Description         map[string]string `json:"description"`
	Rights              []Right           `json:"rights"`
	AccessPackages      []AccessPackage   `json:"accessPackages"`
	ClientID            []string          `json:"clientId"`
	IsVisible           bool              `json:"isVisible"`
	AllowedRedirectURLs []string          `json:"allowedRedirectUrls"`
}

// MarshalJSON writes the system as Altinn's RegisterSystemRequest.
func (s RegisteredSystem) MarshalJSON() ([]byte, error) {
	out := systemJSON{
		ID: s.ID, Vendor: s.Vendor, IsVisible: s.IsVisible,
		Name: orEmptyMap(s.Name), Description: orEmptyMap(s.Description),
		Rights: make([]Right, 0, len(s.Rights)), AccessPackages: orEmpty(s.AccessPackages),
		ClientID: orEmpty(s.ClientIDs), AllowedRedirectURLs: orEmpty(s.AllowedRedirectURLs),
	}
	if out.Vendor.Authority == "" {
		out.Vendor.Authority = VendorAuthority
	}
	for _, r := range s.Rights {
		r.Resource = orEmpty(r.Resource)
		out.Rights = append(out.Rights, r)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a system leniently: member names in any case,
// "clientId" or "clientIds", null lists as empty, language keys in lower
// case, strings trimmed, and a missing isVisible as true.
func (s *RegisteredSystem) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID                  string            `json:"id"`
		SystemID            string            `json:"systemId"`
		Vendor              Vendor            `json:"vendor"`
		Name                map[string]string `json:"name"`
		Description         map[string]string `json:"description"`
		Rights              []Right           `json:"rights"`
		AccessPackages      []AccessPackage   `json:"accessPackages"`
		ClientID            []string          `json:"clientId"`
		ClientIDs           []string          `json:"clientIds"`
		IsVisible           *bool             `json:"isVisible"`
		AllowedRedirectURLs []string          `json:"allowedRedirectUrls"`
		IsDeleted           bool              `json:"isDeleted"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = RegisteredSystem{
		ID: strings.TrimSpace(aux.ID), Vendor: aux.Vendor,
		Name: langMap(aux.Name), Description: langMap(aux.Description),
		Rights: aux.Rights, AccessPackages: aux.AccessPackages,
		ClientIDs:           trimAll(append(aux.ClientID, aux.ClientIDs...)),
		AllowedRedirectURLs: trimAll(aux.AllowedRedirectURLs),
		IsVisible:           aux.IsVisible == nil || *aux.IsVisible, IsDeleted: aux.IsDeleted,
		Raw: append(json.RawMessage(nil), b...),
	}
	if s.ID == "" {
		s.ID = strings.TrimSpace(aux.SystemID)
	}
	for i := range s.AccessPackages {
		s.AccessPackages[i].URN = strings.TrimSpace(s.AccessPackages[i].URN)
	}
	return nil
}

// SystemSummary is one of the vendor's systems as GET vendor lists them:
// without client ids, redirect URLs or the deleted flag (deleted systems are
// not listed).
type SystemSummary struct {
	ID string
	// VendorOrgNo is the bare organisation number.
	VendorOrgNo       string
	Name, Description map[string]string
	Rights            []Right
	AccessPackages    []AccessPackage
	IsVisible         bool
}

// UnmarshalJSON reads Altinn's RegisteredSystemDTO leniently.
func (s *SystemSummary) UnmarshalJSON(b []byte) error {
	var aux struct {
		SystemID       string            `json:"systemId"`
		ID             string            `json:"id"`
		VendorOrgNo    string            `json:"systemVendorOrgNumber"`
		Name           map[string]string `json:"name"`
		Description    map[string]string `json:"description"`
		Rights         []Right           `json:"rights"`
		AccessPackages []AccessPackage   `json:"accessPackages"`
		IsVisible      *bool             `json:"isVisible"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = SystemSummary{ID: strings.TrimSpace(aux.SystemID), VendorOrgNo: strings.TrimSpace(aux.VendorOrgNo),
		Name: langMap(aux.Name), Description: langMap(aux.Description), Rights: aux.Rights,
		AccessPackages: aux.AccessPackages, IsVisible: aux.IsVisible == nil || *aux.IsVisible}
	if s.ID == "" {
		s.ID = strings.TrimSpace(aux.ID)
	}
	return nil
}

// SystemChange is one entry of a system's changelog.
type SystemChange struct {
	// SystemInternalID is Altinn's internal GUID of the system.
	SystemInternalID string `json:"systemInternalId"`
	// ChangedByOrgNo is the organisation that made the change.
	ChangedByOrgNo string `json:"changedByOrgNumber"`
	// ChangeType is create, update, rightsupdate, accesspackageupdate or
	// delete.
	ChangeType string `json:"changeType"`
	// ChangedData is the body as sent (PascalCase keys), absent for delete.
	ChangedData json.RawMessage `json:"changedData"`
	// ClientID is the Maskinporten client that made the change.
	ClientID string `json:"clientId"`
	// Created is zero when Altinn left it out or sent something unreadable.
	Created time.Time `json:"created"`
}

// UnmarshalJSON decodes a SystemChange, tolerating odd created values.
func (s *SystemChange) UnmarshalJSON(b []byte) error {
	type plain SystemChange
	aux := struct {
		*plain
		Created flexTime `json:"created"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	s.Created = time.Time(aux.Created)
	return nil
}

// registerURL builds the absolute URL of rel (relative to
// .../systemregister/), whose segments the caller has already escaped.
func (c *Client) registerURL(rel string) string {
	if c.base == nil {
		return ""
	}
	return c.base.String() + registerPath + rel
}

// registerCall is one system-register call; the scope is always
// systemregister.write.
func (c *Client) registerCall(method, tmpl, rel string, body any) endpoint {
	return endpoint{method: method, tmpl: "systemregister/" + tmpl, url: c.registerURL(rel),
		scope: ScopeSystemRegisterWrite, body: body}
}

// ListSystems returns the vendor's systems (deleted ones are left out).
//
// ListSystems returns a *Problem for non-2xx answers (403 matching
// ErrForbidden when the token has no consumer or lacks the scope), an error
// wrapping ErrMalformed for an undecodable 2xx body, and wrapped transport
// or context errors.
func (c *Client) ListSystems(ctx context.Context) ([]SystemSummary, error) {
	e := c.registerCall(http.MethodGet, "vendor", "vendor", nil)
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, err
	}
	out := []SystemSummary{}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return out, nil
	}
	if err := decode(e, resp.body, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetSystem reads one system, deleted or not (check IsDeleted).
//
// GetSystem returns a *Problem matching ErrNotFound when no system has the
// id (Altinn sends a bare 404), an error matching ErrNotOwner (and
// ErrForbidden) when another organisation owns it, other *Problems for other
// non-2xx answers, an error wrapping ErrMalformed for an undecodable 2xx
// body, and wrapped transport or context errors. An empty systemID is
// refused without calling Altinn.
func (c *Client) GetSystem(ctx context.Context, systemID string) (*RegisteredSystem, error) {
	e := c.registerCall(http.MethodGet, "vendor/{systemId}", "vendor/"+segment(systemID), nil)
	if strings.TrimSpace(systemID) == "" {
		return nil, fmt.Errorf("altinn: %s: empty systemID", e.op())
	}
	resp, err := c.doSystem(ctx, e)
	if err != nil {
		return nil, err
	}
	var s RegisteredSystem
	if err := decode(e, resp.body, &s); err != nil {
		return nil, err
	}
	if s.ID == "" {
		return nil, malformed(e, errors.New("system without id"))
	}
	return &s, nil
}

// CreateSystem registers a new system (POST vendor) and returns Altinn's
// internal id of it. Altinn checks redirect URLs (absolute https) only here.
//
// CreateSystem returns a *Problem whose Validation lists the AUTH.VLD codes
// of a refused body (400), a *Problem with the text in Body for 409 ("The
// System already exist"), an error matching ErrNotOwner when the vendor in
// the body is not the token's organisation, an error wrapping ErrMalformed
// for an undecodable 2xx body, and wrapped transport or context errors.
func (c *Client) CreateSystem(ctx context.Context, s RegisteredSystem) (string, error) {
	e := c.registerCall(http.MethodPost, "vendor", "vendor", s)
	if strings.TrimSpace(s.ID) == "" {
		return "", fmt.Errorf("altinn: %s: the system has no id", e.op())
	}
	resp, err := c.doSystem(ctx, e)
	if err != nil {
		return "", err
	}
	// A JSON string ("<guid>"), though plain text or an object with an id
	// is accepted too.
	b := bytes.TrimSpace(resp.body)
	var id string
	if json.Unmarshal(b, &id) == nil {
		return id, nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &obj) == nil && obj.ID != "" {
		return obj.ID, nil
	}
	if len(b) > 0 && b[0] != '{' && b[0] != '[' {
		return oneLine(string(b), 100), nil
	}
	return "", malformed(e, fmt.Errorf("no system id in %q", oneLine(string(b), 100)))
}

// UpdateSystem replaces the whole system s.ID with s (PUT vendor/{id}):
// every list left empty becomes empty at Altinn, and a clientId list without
// the service's client breaks every system-user token (MP-303). Read the
// system first and change only what you mean to.
//
// UpdateSystem returns a *Problem matching ErrNotFound (with Altinn's text
// in Body) for an unknown id or a vendor that is not the stored one, an
// error matching ErrSystemDeleted for a deleted system, a *Problem whose
// Validation lists the AUTH.VLD codes of a refused body, an error matching
// ErrNotOwner for another organisation's system, and wrapped transport or
// context errors.
func (c *Client) UpdateSystem(ctx context.Context, s RegisteredSystem) error {
	e := c.registerCall(http.MethodPut, "vendor/{systemId}", "vendor/"+segment(s.ID), s)
	if strings.TrimSpace(s.ID) == "" {
		return fmt.Errorf("altinn: %s: the system has no id", e.op())
	}
	return c.doSucceeded(ctx, e)
}

// SetSystemRights replaces only the system's rights (PUT
// vendor/{id}/rights). Its errors are those of UpdateSystem.
func (c *Client) SetSystemRights(ctx context.Context, systemID string, rights []Right) error {
	body := make([]Right, 0, len(rights))
	for _, r := range rights {
		r.Resource = orEmpty(r.Resource)
		body = append(body, r)
	}
	e := c.registerCall(http.MethodPut, "vendor/{systemId}/rights", "vendor/"+segment(systemID)+"/rights", body)
	if strings.TrimSpace(systemID) == "" {
		return fmt.Errorf("altinn: %s: empty systemID", e.op())
	}
	return c.doSucceeded(ctx, e)
}

// SetSystemAccessPackages replaces only the system's access packages (PUT
// vendor/{id}/accesspackages); Altinn checks them against the stored
// isVisible. Its errors are those of UpdateSystem.
func (c *Client) SetSystemAccessPackages(ctx context.Context, systemID string, packages []AccessPackage) error {
	e := c.registerCall(http.MethodPut, "vendor/{systemId}/accesspackages",
		"vendor/"+segment(systemID)+"/accesspackages", orEmpty(packages))
	if strings.TrimSpace(systemID) == "" {
		return fmt.Errorf("altinn: %s: empty systemID", e.op())
	}
	return c.doSucceeded(ctx, e)
}

// SystemChangelog returns the system's changelog, newest first as Altinn
// sends it.
//
// SystemChangelog returns a *Problem matching ErrNotFound (with Altinn's
// text in Body) for an unknown id, an error matching ErrNotOwner for another
// organisation's system, an error wrapping ErrMalformed for an undecodable
// 2xx body, and wrapped transport or context errors.
func (c *Client) SystemChangelog(ctx context.Context, systemID string) ([]SystemChange, error) {
	e := c.registerCall(http.MethodGet, "vendor/{systemId}/changelog", "vendor/"+segment(systemID)+"/changelog", nil)
	if strings.TrimSpace(systemID) == "" {
		return nil, fmt.Errorf("altinn: %s: empty systemID", e.op())
	}
	resp, err := c.doSystem(ctx, e)
	if err != nil {
		return nil, err
	}
	out := []SystemChange{}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return out, nil
	}
	if err := decode(e, resp.body, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// doSystem is do for a route about one system: a 403 there means another
// organisation owns it, and a 400 whose text says "deleted" that the
// system is deleted.
func (c *Client) doSystem(ctx context.Context, e endpoint) (*response, error) {
	resp, err := c.do(ctx, e)
	var p *Problem
	if err == nil || !errors.As(err, &p) {
		return resp, err
	}
	switch {
	case p.Status == http.StatusForbidden:
		return nil, &systemError{kind: ErrNotOwner, p: p}
	case p.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(p.Body+" "+p.Title+" "+p.Detail), "deleted"):
		return nil, &systemError{kind: ErrSystemDeleted, p: p}
	}
	return nil, err
}

// doSucceeded sends a write whose answer is {"succeeded":true}. Any other
// 2xx body is accepted too, except an explicit "succeeded": false.
func (c *Client) doSucceeded(ctx context.Context, e endpoint) error {
	resp, err := c.doSystem(ctx, e)
	if err != nil {
		return err
	}
	var r struct {
		Succeeded *bool `json:"succeeded"`
	}
	if json.Unmarshal(resp.body, &r) == nil && r.Succeeded != nil && !*r.Succeeded {
		return fmt.Errorf("altinn: %s: Altinn answered %d but succeeded: false", e.op(), resp.status)
	}
	return nil
}

// systemError is a *Problem with a meaning on a system's route: it matches
// its kind (ErrNotOwner, ErrSystemDeleted) and everything the Problem
// matches, and errors.As finds the Problem.
type systemError struct {
	kind error
	p    *Problem
}

func (e *systemError) Error() string {
	return e.kind.Error() + " (" + strings.TrimPrefix(e.p.Error(), "altinn: ") + ")"
}

func (e *systemError) Unwrap() []error { return []error{e.kind, e.p} }

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// langMap lower-cases and trims a text map's language keys and trims its
// texts; empty texts are dropped.
func langMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) { // a fixed order: "NB" and "nb" give one answer
		k, v := strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(m[k])
		if k != "" && v != "" {
			out[k] = v
		}
	}
	return out
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
