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
	// Name and Description are in the language asked for (English), or
	// bokmål where no translation exists.
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

// Metadata reads Access Management's package metadata. The API is
// anonymous: no token is sent. It is safe for concurrent use.
type Metadata struct {
	base    *url.URL
	baseErr error
	hc      *http.Client
	timeout time.Duration // each call's deadline (see httpClient)
	lang    string
}

// NewMetadata returns a Metadata client for the Altinn platform at baseURL
// (the same as the vendor API's, e.g. "https://platform.tt02.altinn.no").
// Texts are asked for in English. When hc is nil a client with a 30 s
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
// such as "skatt-naering").
//
// Package returns a *Problem matching ErrNotFound for a package Altinn does
// not know (404, or an empty 204), other *Problems for other non-2xx
// answers, an error wrapping ErrMalformed for an undecodable 2xx body, and
// wrapped transport or context errors. An empty urn is refused without
// calling Altinn.
func (m *Metadata) Package(ctx context.Context, urn string) (*PackageInfo, error) {
	e := endpoint{method: http.MethodGet, tmpl: "accesspackages/package/urn/{urn}"}
	urn = strings.TrimSpace(urn)
	if m.baseErr != nil {
		return nil, m.baseErr
	}
	if urn == "" {
		return nil, fmt.Errorf("altinn: %s: empty urn", e.op())
	}
	e.url = m.base.String() + metadataPath + "package/urn/" + segment(urn)
	ctx, cancel := withTimeout(ctx, m.timeout)
	defer cancel() // once the body is read
	req, err := http.NewRequestWithContext(withOperation(ctx, e), e.method, e.url, nil)
	if err != nil {
		return nil, fmt.Errorf("altinn: %s: build request: %w", e.op(), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", m.lang)
	req.Header.Set("User-Agent", userAgent)
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("altinn: %s: %w", e.op(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("altinn: %s: read response: %w", e.op(), err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil, &Problem{Status: http.StatusNotFound, Title: "no access package " + urn}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, parseProblem(resp.StatusCode, resp.Header, body, time.Now())
	}
	var p PackageInfo
	if err := decode(e, body, &p); err != nil {
		return nil, err
	}
	if p.URN == "" {
		return nil, malformed(e, errors.New("package without urn"))
	}
	return &p, nil
}
