package setup

import (
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
)

// Field names as the register's JSON calls them, for diffs.
const (
	FieldName        = "name"
	FieldDescription = "description"
	FieldRights      = "rights"
	FieldPackages    = "accessPackages"
	FieldClientID    = "clientId"
	FieldRedirect    = "allowedRedirectUrls"
	FieldVisible     = "isVisible"
	FieldVendor      = "vendor"
)

// Change is one field that apply would change: a list item added (From
// empty) or removed (To empty), or a value set from From to To. Field is
// the register's name, with the language for texts ("name.nn").
type Change struct {
	Field    string
	From, To string
}

// Kept is something Altinn has that the configuration does not mention,
// and that apply keeps unless told to prune.
type Kept struct {
	Field string
	Value string
}

// Plan is what apply would do to one system: create it, or replace it with
// Body, which differs from what Altinn has by Changes.
type Plan struct {
	SystemID string
	// Create: the system is not in the register, so apply POSTs Body.
	Create bool
	// Deleted: the system is deleted in Altinn; nothing can be applied and
	// the id can never be used again.
	Deleted bool
	// Have is Altinn's system (nil when Create).
	Have *altinn.RegisteredSystem
	// Body is the whole system apply sends.
	Body altinn.RegisteredSystem
	// Changes are the fields Body changes, in field order; none: nothing
	// to do.
	Changes []Change
	// Kept is what Altinn has beyond the configuration, kept in Body
	// (empty with prune, where it shows as removals in Changes instead).
	Kept []Kept
	// Unknown are the access packages whose kind the metadata could not
	// tell; whether the system must be invisible was decided from Altinn's
	// known client-only packages for them.
	Unknown []string
	// Err is why the system could not be read (nothing else is set).
	Err error
}

// Merge plans apply for want against have (nil: not registered). It keeps
// what Altinn has that the configuration does not own (other redirect URLs,
// clients, rights, packages, texts in other languages) unless prune, and
// adds what the configuration needs. clientOnly tells whether a package is
// client-only, and known whether it could tell; a system with a client-only
// package is made invisible in the portal (AUTH.VLD-00018), otherwise
// Altinn's visibility is kept.
func Merge(want Wanted, have *altinn.RegisteredSystem, prune bool, kinds func(urn string) (clientOnly, known bool)) Plan {
	p := Plan{SystemID: want.System.ID, Have: have}
	if have == nil {
		p.Create = true
		p.Body = want.System
		p.Body.Rights = slices.Clone(want.System.Rights)
		have = &altinn.RegisteredSystem{ID: want.System.ID, IsVisible: true}
	} else {
		p.Deleted = have.IsDeleted
		body := altinn.RegisteredSystem{ID: want.System.ID, Vendor: want.System.Vendor}
		// A PUT must carry the stored vendor id verbatim, or Altinn
		// answers 404.
		if have.Vendor.ID != "" {
			body.Vendor.ID = have.Vendor.ID
		}
		var kept []Kept
		body.Name, kept = mergeTexts(FieldName, want.System.Name, have.Name, want.NameSet, prune, kept)
		body.Description, kept = mergeTexts(FieldDescription, want.System.Description, have.Description, want.DescriptionSet, prune, kept)
		body.Rights, kept = mergeList(FieldRights, want.System.Rights, have.Rights, SameRight, RightName, prune, kept)
		body.AccessPackages, kept = mergeList(FieldPackages, want.System.AccessPackages, have.AccessPackages,
			func(a, b altinn.AccessPackage) bool { return samePackage(a.URN, b.URN) },
			func(a altinn.AccessPackage) string { return a.URN }, prune, kept)
		body.ClientIDs, kept = mergeList(FieldClientID, want.System.ClientIDs, have.ClientIDs,
			func(a, b string) bool { return a == b }, func(a string) string { return a }, prune, kept)
		body.AllowedRedirectURLs, kept = mergeList(FieldRedirect, want.System.AllowedRedirectURLs, have.AllowedRedirectURLs,
			SameRedirectURL, func(a string) string { return a }, prune, kept)
		body.IsVisible = have.IsVisible
		p.Body, p.Kept = body, kept
	}
	for _, pkg := range p.Body.AccessPackages {
		clientOnly, known := kinds(pkg.URN)
		if !known {
			p.Unknown = append(p.Unknown, pkg.URN)
		}
		if clientOnly {
			p.Body.IsVisible = false
		}
	}
	p.Changes = Diff(*have, p.Body)
	return p
}

// Diff lists, field by field, what changes from have to body: texts by
// language, list items added and removed (items compared as Altinn
// compares them), and visibility. The vendor and id are not compared.
func Diff(have, body altinn.RegisteredSystem) []Change {
	var out []Change
	out = append(out, diffTexts(FieldName, have.Name, body.Name)...)
	out = append(out, diffTexts(FieldDescription, have.Description, body.Description)...)
	out = append(out, diffList(FieldRights, have.Rights, body.Rights, SameRight, RightName)...)
	out = append(out, diffList(FieldPackages, have.AccessPackages, body.AccessPackages,
		func(a, b altinn.AccessPackage) bool { return samePackage(a.URN, b.URN) },
		func(a altinn.AccessPackage) string { return a.URN })...)
	out = append(out, diffList(FieldClientID, have.ClientIDs, body.ClientIDs,
		func(a, b string) bool { return a == b }, func(a string) string { return a })...)
	out = append(out, diffList(FieldRedirect, have.AllowedRedirectURLs, body.AllowedRedirectURLs,
		SameRedirectURL, func(a string) string { return a })...)
	if have.IsVisible != body.IsVisible {
		out = append(out, Change{Field: FieldVisible, From: strconv.FormatBool(have.IsVisible), To: strconv.FormatBool(body.IsVisible)})
	}
	return out
}

// mergeTexts merges one text map. Owned texts win; otherwise Altinn's are
// kept and missing languages filled in from want. Languages Altinn has that
// want does not mention are kept unless prune (only when owned).
func mergeTexts(field string, want, have map[string]string, owned, prune bool, kept []Kept) (map[string]string, []Kept) {
	out := map[string]string{}
	for lang, v := range want {
		if !owned && have[lang] != "" {
			v = have[lang]
		}
		out[lang] = v
	}
	for _, lang := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[lang]; ok || have[lang] == "" {
			continue
		}
		if owned && prune {
			continue
		}
		out[lang] = have[lang]
		kept = append(kept, Kept{Field: field + "." + lang, Value: have[lang]})
	}
	return out, kept
}

// mergeList keeps have's items in their order (those not wanted only
// without prune, noted as kept) and appends the wanted items have lacks.
func mergeList[T any](field string, want, have []T, same func(a, b T) bool, name func(T) string, prune bool, kept []Kept) ([]T, []Kept) {
	out := make([]T, 0, len(want)+len(have))
	for _, h := range have {
		if slices.ContainsFunc(want, func(w T) bool { return same(w, h) }) {
			out = append(out, h)
			continue
		}
		if prune {
			continue
		}
		out = append(out, h)
		kept = append(kept, Kept{Field: field, Value: name(h)})
	}
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h T) bool { return same(w, h) }) {
			out = append(out, w)
		}
	}
	return out, kept
}

func diffTexts(field string, have, body map[string]string) []Change {
	var out []Change
	langs := slices.Sorted(maps.Keys(have))
	for _, k := range slices.Sorted(maps.Keys(body)) {
		if !slices.Contains(langs, k) {
			langs = append(langs, k)
		}
	}
	slices.SortFunc(langs, langOrder)
	for _, lang := range langs {
		if have[lang] != body[lang] {
			out = append(out, Change{Field: field + "." + lang, From: have[lang], To: body[lang]})
		}
	}
	return out
}

// langOrder puts nb, nn and en first, then the rest alphabetically.
func langOrder(a, b string) int {
	rank := func(s string) int {
		if i := slices.Index(Languages, s); i >= 0 {
			return i
		}
		return len(Languages)
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func diffList[T any](field string, have, body []T, same func(a, b T) bool, name func(T) string) []Change {
	var out []Change
	for _, h := range have {
		if !slices.ContainsFunc(body, func(b T) bool { return same(b, h) }) {
			out = append(out, Change{Field: field, From: name(h)})
		}
	}
	for _, b := range body {
		if !slices.ContainsFunc(have, func(h T) bool { return same(b, h) }) {
			out = append(out, Change{Field: field, To: name(b)})
		}
	}
	return out
}

// SameRedirectURL compares two redirect URLs as Altinn matches a request's
// redirectUrl against a system's allowed ones (systemregister.md §5): on
// scheme, host, port and path, exactly, after .NET's normalisation (scheme
// and host in lower case, the default port dropped, an empty path as "/").
// Query and fragment do not count; path case and a trailing slash on a
// non-empty path do. URLs that are not absolute never match.
func SameRedirectURL(a, b string) bool {
	ka, ok := RedirectKey(a)
	if !ok {
		return false
	}
	kb, ok := RedirectKey(b)
	return ok && ka == kb
}

// RedirectKey is the part of a redirect URL Altinn compares:
// scheme://host[:port]/path, normalised. ok is false for a URL that is not
// absolute.
func RedirectKey(raw string) (key string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	hostport := host
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + hostport + path, true
}
