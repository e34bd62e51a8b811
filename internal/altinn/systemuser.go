package altinn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SystemUser is a system user as the vendor sees it. Approving a request
// creates one whose ID equals the request's ID; the customer can delete it
// at any time, after which Altinn no longer returns it (or returns it with
// IsDeleted set).
type SystemUser struct {
	ID               string `json:"id"`
	IntegrationTitle string `json:"integrationTitle"`
	SystemID         string `json:"systemId"`
	// ProductName is often "" (Altinn fills it only on some paths).
	ProductName string `json:"productName"`
	// ReporteeOrgNo is the customer that owns the system user.
	ReporteeOrgNo string `json:"reporteeOrgNo"`
	// Created is zero when Altinn left it out or sent a placeholder.
	Created      time.Time `json:"created"`
	IsDeleted    bool      `json:"isDeleted"`
	SupplierName string    `json:"supplierName"`
	// SupplierOrgNo is sent as "supplierOrgno", lowercase "no".
	SupplierOrgNo string `json:"supplierOrgno"`
	ExternalRef   string `json:"externalRef"`
	// UserType is "standard" or "agent".
	UserType string `json:"userType"`
	// Raw is the JSON of this system user as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a SystemUser, tolerating odd created values.
func (s *SystemUser) UnmarshalJSON(b []byte) error {
	type plain SystemUser
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

// SystemUserByQuery reads the system user for a key, to confirm that an
// approval really produced one (and to get its ID). An empty externalRef is
// left out of the query, and Altinn defaults it to orgNo. It needs the
// request.write scope, not a read scope.
//
// SystemUserByQuery returns a *Problem matching ErrNotFound on 404 (no
// system user, deleted, or another vendor's: Altinn sends a bare 404 with no
// code), a *Problem matching ErrUnauthorized on 401, an error wrapping
// ErrMalformed for an undecodable 2xx body, and wrapped transport or context
// errors. A 200 is returned as is, so check IsDeleted. An empty systemID or
// orgNo is refused with an error, without calling Altinn.
func (c *Client) SystemUserByQuery(ctx context.Context, systemID, orgNo, externalRef string) (*SystemUser, error) {
	e := endpoint{method: http.MethodGet, tmpl: "systemuser/vendor/byquery", scope: ScopeRequestWrite}
	if systemID == "" || orgNo == "" {
		return nil, fmt.Errorf("altinn: %s: systemID and orgNo are required", e.op())
	}
	q := url.Values{"system-id": {systemID}, "orgno": {orgNo}}
	if externalRef != "" {
		q.Set("external-ref", externalRef)
	}
	e.url = c.urlFor("vendor/byquery?" + q.Encode())
	resp, err := c.do(ctx, e)
	if err != nil {
		return nil, err
	}
	return decodeSystemUser(e, resp.body)
}

// ListSystemUsers returns all live system users, standard and agent, of the
// vendor's system systemID, following the pages' next links. It is how a
// reconciler notices system users that customers have deleted.
//
// ListSystemUsers returns a *Problem for non-2xx answers (404 AUTH-00011,
// matching ErrNotFound, for a system the vendor does not own), an error
// wrapping ErrMalformed for an undecodable page or an unusable next link,
// and wrapped transport or context errors. It refuses, with an error, a next
// link to another scheme or host than the base URL (the bearer token would
// go with it), a next link seen before, and more than 10,000 pages. On any
// error it returns no users, never a partial list. An empty systemID is
// refused with an error, without calling Altinn.
func (c *Client) ListSystemUsers(ctx context.Context, systemID string) ([]SystemUser, error) {
	e := endpoint{method: http.MethodGet, tmpl: "systemuser/vendor/bysystem/{systemId}", scope: ScopeSystemRegisterWrite}
	if systemID == "" {
		return nil, fmt.Errorf("altinn: %s: empty systemID", e.op())
	}
	e.url = c.urlFor("vendor/bysystem/" + segment(systemID))
	seen := map[string]bool{e.url: true}
	users := []SystemUser{}
	for pages := 1; ; pages++ {
		resp, err := c.do(ctx, e)
		if err != nil {
			return nil, err
		}
		data, next, err := decodePage(e, resp.body)
		if err != nil {
			return nil, err
		}
		for _, raw := range data {
			u, err := decodeSystemUser(e, raw)
			if err != nil {
				return nil, err
			}
			users = append(users, *u)
		}
		if next == "" {
			return users, nil
		}
		if pages >= c.maxPages {
			return nil, fmt.Errorf("altinn: %s: still a next link after %d pages; giving up", e.op(), pages)
		}
		if e.url, err = c.nextURL(e, next); err != nil {
			return nil, err
		}
		if seen[e.url] {
			return nil, fmt.Errorf("altinn: %s: next link repeats an earlier page; giving up", e.op())
		}
		seen[e.url] = true
	}
}

// decodePage decodes Altinn's Paginated<T>: {"links":{"next":"..."},"data":[...]}.
// A bare JSON array is accepted as a single, last page.
func decodePage(e endpoint, body []byte) (data []json.RawMessage, next string, err error) {
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		err = decode(e, b, &data)
		return data, "", err
	}
	var p struct {
		Links *struct {
			Next *string `json:"next"`
		} `json:"links"`
		Data []json.RawMessage `json:"data"`
	}
	if err := decode(e, body, &p); err != nil {
		return nil, "", err
	}
	if p.Links != nil && p.Links.Next != nil {
		next = strings.TrimSpace(*p.Links.Next)
	}
	return p.Data, next, nil
}

// nextURL resolves a next link against the page it came from and checks that
// it stays on the base URL's scheme and host, since the bearer token is sent
// to it.
func (c *Client) nextURL(e endpoint, link string) (string, error) {
	cur, err := url.Parse(e.url)
	if err != nil {
		return "", malformed(e, err)
	}
	u, err := cur.Parse(link)
	if err != nil {
		return "", malformed(e, fmt.Errorf("next link: %w", err))
	}
	if u.User != nil || origin(u) != origin(c.base) {
		return "", fmt.Errorf("altinn: %s: refusing next link to %s://%s, which is not %s",
			e.op(), u.Scheme, u.Host, origin(c.base))
	}
	u.Fragment = ""
	return u.String(), nil
}

// origin returns scheme://host:port in lower case, with the default port
// made explicit, so that "https://x" and "HTTPS://X:443" compare equal.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// decodeSystemUser decodes one system user. One without an id is treated as
// malformed.
func decodeSystemUser(e endpoint, body []byte) (*SystemUser, error) {
	var s SystemUser
	if err := decode(e, body, &s); err != nil {
		return nil, err
	}
	if s.ID == "" {
		return nil, malformed(e, errors.New("system user has no id"))
	}
	s.Raw = json.RawMessage(body)
	return &s, nil
}
