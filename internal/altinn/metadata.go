package altinn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// metadataPath is Access Management's anonymous package metadata
// (shared/altinn/metadata.md).
const metadataPath = "/accessmanagement/api/v1/meta/info/accesspackages/"

// PackageInfo is what Altinn's metadata says about one access package.
type PackageInfo struct {
	ID  string `json:"id"`
	URN string `json:"urn"`
	// Name and Description are in the language asked for, or bokmål
	// where no translation exists.
	Name        string `json:"name"`
	Description string `json:"description"`
	// IsAssignable: a standard system user may be given the package.
	IsAssignable bool `json:"isAssignable"`
	// IsDelegable: it can be passed on by client delegation, so an agent
	// system user may hold it.
	IsDelegable bool `json:"isDelegable"`
}

// ClientOnly reports whether the package is one of the accountants',
// auditors' or property managers' packages that only agent systems may
// hold: delegable but not assignable. A system with one must not be
// visible in the portal (AUTH.VLD-00018).
func (p PackageInfo) ClientOnly() bool { return p.IsDelegable && !p.IsAssignable }

// Metadata reads Access Management's package metadata and the Resource
// Registry's resources. Both are anonymous: no token is sent. It is safe for
// concurrent use.
type Metadata struct {
	base    *url.URL
	baseErr error
	hc      *http.Client
	timeout time.Duration // each call's deadline (see httpClient)
	lang    string        // Package's language
}

// NewMetadata returns a Metadata client for the Altinn platform at baseURL
// (the same as the vendor API's, e.g. "https://platform.tt02.altinn.no").
// Package asks for texts in English, PackageIn in the language given. When hc is nil a client with a 30 s
// timeout is used. A baseURL that is not an absolute http(s) URL makes every
// call return an error.
func NewMetadata(baseURL string, hc *http.Client) *Metadata {
	m := &Metadata{lang: "en"}
	m.hc, m.timeout = httpClient(hc)
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	switch {
	case err != nil:
		m.baseErr = fmt.Errorf("altinn: metadata base URL %q: %w", baseURL, err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		m.baseErr = fmt.Errorf("altinn: metadata base URL %q is not an absolute http(s) URL", baseURL)
	}
	m.base = u
	return m
}

// Package looks up an access package by its URN (or just its last part,
// such as "skatt-naering"), with its texts in English. See PackageIn.
func (m *Metadata) Package(ctx context.Context, urn string) (*PackageInfo, error) {
	return m.PackageIn(ctx, urn, m.lang)
}

// PackageIn looks up an access package by its URN (or just its last part),
// with its name and description in lang: "nb", "nn" or "en" is sent as the
// one tag of Accept-Language (metadata.md §3); anything else asks for
// bokmål. Altinn answers a text it has no translation of in bokmål.
//
// PackageIn returns a *Problem matching ErrNotFound for a package Altinn
// does not know (404, or an empty 204), other *Problems for other non-2xx
// answers, an error wrapping ErrMalformed for an undecodable 2xx body, and
// wrapped transport or context errors. An empty urn is refused without
// calling Altinn.
func (m *Metadata) PackageIn(ctx context.Context, urn, lang string) (*PackageInfo, error) {
	e := endpoint{method: http.MethodGet, tmpl: "accesspackages/package/urn/{urn}"}
	urn = strings.TrimSpace(urn)
	if m.baseErr != nil {
		return nil, m.baseErr
	}
	if urn == "" {
		return nil, fmt.Errorf("altinn: %s: empty urn", e.op())
	}
	e.url = m.base.String() + metadataPath + "package/urn/" + segment(urn)
	var p PackageInfo
	if err := m.get(ctx, e, metadataLang(lang), "no access package "+urn, &p); err != nil {
		return nil, err
	}
	if p.URN == "" {
		return nil, malformed(e, errors.New("package without urn"))
	}
	return &p, nil
}

// resourcePath is the Resource Registry's anonymous resource route
// (metadata.md §5).
const resourcePath = "/resourceregistry/api/v1/resource/"

// Resource is what the Resource Registry says about one resource, the id a
// system's right names. Its texts are by language ("nb", "nn", "en"); often
// only "nb" is filled.
type Resource struct {
	Identifier       string            `json:"identifier"`
	Title            map[string]string `json:"title"`
	Description      map[string]string `json:"description"`
	RightDescription map[string]string `json:"rightDescription"`
	ResourceType     string            `json:"resourceType"`
	Delegable        bool              `json:"delegable"`
}

// ResourceText is a resource's texts in one language.
type ResourceText struct {
	Title, Description, RightDescription string
}

// In returns r's texts in lang as Altinn's portal shows them: the
// language's text, else bokmål's, field by field.
func (r *Resource) In(lang string) ResourceText {
	lang = metadataLang(lang)
	pick := func(m map[string]string) string {
		if v := strings.TrimSpace(m[lang]); v != "" {
			return v
		}
		return strings.TrimSpace(m["nb"])
	}
	return ResourceText{Title: pick(r.Title), Description: pick(r.Description), RightDescription: pick(r.RightDescription)}
}

// Resource reads a resource from the Resource Registry by its identifier
// (e.g. "ske-krav-og-betalinger"), with its texts in every language it has.
// The route is anonymous: no token is sent.
//
// Resource returns a *Problem matching ErrNotFound for an identifier the
// registry does not know (404, or an empty 204), other *Problems for other
// non-2xx answers, an error wrapping ErrMalformed for an undecodable 2xx
// body, and wrapped transport or context errors. An empty id is refused
// without calling Altinn.
func (m *Metadata) Resource(ctx context.Context, id string) (*Resource, error) {
	e := endpoint{method: http.MethodGet, tmpl: "resourceregistry/resource/{id}"}
	id = strings.TrimSpace(id)
	if m.baseErr != nil {
		return nil, m.baseErr
	}
	if id == "" {
		return nil, fmt.Errorf("altinn: %s: empty id", e.op())
	}
	e.url = m.base.String() + resourcePath + segment(id)
	var r Resource
	if err := m.get(ctx, e, "", "no resource "+id, &r); err != nil {
		return nil, err
	}
	if r.Identifier == "" {
		return nil, malformed(e, errors.New("resource without identifier"))
	}
	return &r, nil
}

// get calls e anonymously, with Accept-Language: lang unless lang is "",
// and decodes a 2xx body into v. A 204 is a 404 named by missing.
func (m *Metadata) get(ctx context.Context, e endpoint, lang, missing string, v any) error {
	ctx, cancel := withTimeout(ctx, m.timeout)
	defer cancel() // once the body is read
	req, err := http.NewRequestWithContext(withOperation(ctx, e), e.method, e.url, nil)
	if err != nil {
		return fmt.Errorf("altinn: %s: build request: %w", e.op(), err)
	}
	req.Header.Set("Accept", "application/json")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := m.hc.Do(req)
	if err != nil {
		return fmt.Errorf("altinn: %s: %w", e.op(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("altinn: %s: read response: %w", e.op(), err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return &Problem{Status: http.StatusNotFound, Title: missing}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseProblem(resp.StatusCode, resp.Header, body, time.Now())
	}
	return decode(e, body, v)
}

// metadataLang is the one Accept-Language tag sent for lang: "nb", "nn" or
// "en" (a region dropped), bokmål for anything else.
func metadataLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	switch lang {
	case "nn", "nno":
		return "nn"
	case "en", "eng":
		return "en"
	}
	return "nb"
}
