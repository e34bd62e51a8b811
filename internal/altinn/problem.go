package altinn

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors for the kinds of failure callers branch on. A *Problem
// matches the first four through errors.Is, so callers need not look at
// status codes.
var (
	// ErrNotFound means Altinn answered 404: AUTH-00010 (no such request),
	// AUTH-00011 (no such system, or not the vendor's), or a bare 404.
	ErrNotFound = errors.New("altinn: not found")
	// ErrUnauthorized means Altinn answered 401 even to a freshly fetched
	// token, so the Maskinporten client or the token's consumer is wrong.
	ErrUnauthorized = errors.New("altinn: unauthorized")
	// ErrForbidden means Altinn answered 403, usually for a missing scope.
	ErrForbidden = errors.New("altinn: forbidden")
	// ErrUnavailable means Altinn answered 5xx or 429, so trying again
	// later may help.
	ErrUnavailable = errors.New("altinn: unavailable")
	// ErrMalformed means Altinn answered 2xx with a body that cannot be
	// decoded. The call may still have taken effect.
	ErrMalformed = errors.New("altinn: malformed response")
)

// maxProblemBody is how much of a non-JSON error body Problem.Body keeps.
const maxProblemBody = 4 << 10

// maxMessageChars bounds the body text quoted in Problem.Error.
const maxMessageChars = 200

// Problem is a non-2xx answer from Altinn. Altinn mostly sends RFC 9457
// problem details with an AUTH-000NN code, but some paths answer with a
// generic ASP.NET problem, an empty body or plain text; Problem holds
// whatever came, so that callers can branch on Code and log the rest.
type Problem struct {
	// Status is the HTTP status code of the response.
	Status int
	// Type, Title, Detail and TraceID are the problem-details members.
	Type, Title, Detail string
	// Code is Altinn's error code, e.g. "AUTH-00021", from the code member
	// or, failing that, from a type of the form "urn:altinn:error:AUTH-000NN".
	// It is empty for generic problems and non-JSON bodies.
	Code    string
	TraceID string
	// Errors is the ASP.NET validation map (member name → messages) of a
	// model-binding 400, if any.
	Errors map[string][]string
	// Validation is the list of a validation 400 in the shape of Altinn's
	// ProblemDetails library (validationErrors, or errors, as a list), one
	// item per failed rule, such as the system register's AUTH.VLD-000NN
	// codes. Errors holds the same items as "code: title" by path.
	Validation []ValidationError
	// Extensions holds the other top-level members, such as
	// NotFoundPackages or NotDelegablePackages, as strings: JSON strings
	// unquoted, other values as compact JSON.
	Extensions map[string]string
	// Body is the raw response body, truncated to 4 KiB, when it was not a
	// JSON object (plain text, HTML, or empty).
	Body string
	// RetryAfter is the wait the Retry-After header asked for, if any.
	RetryAfter time.Duration
}

// Error returns the status, code and title on one line, e.g.
// "altinn: 400 AUTH-00021: <title>", followed by the detail, extensions and
// validation errors when present. It is built from the response alone, so it
// never holds the bearer token.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("altinn: ")
	b.WriteString(strconv.Itoa(p.Status))
	if p.Code != "" {
		b.WriteString(" " + flat(p.Code))
	}
	msg := flat(p.Title)
	if msg == "" {
		msg = oneLine(p.Body, maxMessageChars)
	}
	if msg == "" {
		msg = http.StatusText(p.Status)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if p.Detail != "" && p.Detail != p.Title {
		b.WriteString(": " + flat(p.Detail))
	}
	for _, k := range sortedKeys(p.Extensions) {
		if k == "statusDescription" || k == "instance" {
			continue // restate the status or the path; noise in a log line
		}
		b.WriteString(" [" + flat(k) + ": " + oneLine(p.Extensions[k], maxMessageChars) + "]")
	}
	for _, k := range sortedKeys(p.Errors) {
		b.WriteString(" [" + flat(k) + ": " + oneLine(strings.Join(p.Errors[k], " "), maxMessageChars) + "]")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and friends work on a *Problem:
// 404 is ErrNotFound, 401 ErrUnauthorized, 403 ErrForbidden, and 5xx or 429
// ErrUnavailable.
func (p *Problem) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return p.Status == http.StatusNotFound
	case ErrUnauthorized:
		return p.Status == http.StatusUnauthorized
	case ErrForbidden:
		return p.Status == http.StatusForbidden
	case ErrUnavailable:
		return p.Status >= 500 || p.Status == http.StatusTooManyRequests
	}
	return false
}

// parseProblem builds a Problem from a non-2xx response. It accepts any JSON
// object regardless of Content-Type, since Altinn sends problem+json,
// application/json, or nothing at all depending on the path.
func parseProblem(status int, header http.Header, body []byte, now time.Time) *Problem {
	p := &Problem{Status: status, RetryAfter: retryAfter(header.Get("Retry-After"), now)}
	var members map[string]json.RawMessage
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &members) != nil {
		p.Body = truncateUTF8(string(body), maxProblemBody)
		return p
	}
	for _, k := range sortedKeys(members) { // a fixed order: "title" and "Title" give one answer
		v := members[k]
		switch strings.ToLower(k) {
		case "type":
			p.Type = stringify(v)
		case "title":
			p.Title = stringify(v)
		case "detail":
			p.Detail = stringify(v)
		case "code":
			p.Code = stringify(v)
		case "traceid":
			p.TraceID = stringify(v)
		case "status":
			// The HTTP status is authoritative.
		case "errors", "validationerrors":
			p.Validation = append(p.Validation, parseValidationList(v)...)
			if errs, ok := parseValidationErrors(v); ok {
				if p.Errors == nil {
					p.Errors = map[string][]string{}
				}
				for f, msgs := range errs {
					p.Errors[f] = append(p.Errors[f], msgs...)
				}
				continue
			}
			p.addExtension(k, v)
		default:
			p.addExtension(k, v)
		}
	}
	if p.Code == "" {
		if c, ok := strings.CutPrefix(p.Type, "urn:altinn:error:"); ok {
			p.Code = c
		}
	}
	return p
}

func (p *Problem) addExtension(k string, v json.RawMessage) {
	if string(v) == "null" {
		return
	}
	if p.Extensions == nil {
		p.Extensions = map[string]string{}
	}
	p.Extensions[k] = stringify(v)
}

// parseValidationErrors reads an errors member in the shapes seen in the
// wild: ASP.NET's {"field":["msg",...]} (or a single string per field), and
// Altinn.Authorization.ProblemDetails' [{"code","title","detail","paths"}].
func parseValidationErrors(v json.RawMessage) (map[string][]string, bool) {
	var asMap map[string]json.RawMessage
	if json.Unmarshal(v, &asMap) == nil {
		out := make(map[string][]string, len(asMap))
		for field, raw := range asMap {
			var msgs []string
			if json.Unmarshal(raw, &msgs) != nil {
				msgs = []string{stringify(raw)}
			}
			out[field] = msgs
		}
		return out, true
	}
	var asList []struct {
		Code   string   `json:"code"`
		Title  string   `json:"title"`
		Detail string   `json:"detail"`
		Paths  []string `json:"paths"`
	}
	if json.Unmarshal(v, &asList) == nil {
		out := map[string][]string{}
		for _, e := range asList {
			msg := strings.TrimSpace(strings.Join(nonEmpty(e.Code, e.Title, e.Detail), ": "))
			paths := e.Paths
			if len(paths) == 0 {
				paths = []string{""}
			}
			for _, path := range paths {
				out[path] = append(out[path], msg)
			}
		}
		return out, true
	}
	return nil, false
}

// stringify returns a JSON string's value, or any other JSON value as
// compact JSON text.
func stringify(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	// Compact JSON keeps the bytes as sent: invalid UTF-8 inside a string
	// is dropped, as decoding a string would have replaced it.
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return strings.ToValidUTF8(b.String(), "")
	}
	return strings.ToValidUTF8(string(v), "")
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP-date.
// Unreadable or past values give 0.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune, and
// drops invalid UTF-8.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// flat collapses whitespace in s (line breaks too), so what Altinn wrote
// stays on Error's one line.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// oneLine collapses whitespace in s and cuts it to n runes, for log lines.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	return slices.DeleteFunc(ss, func(s string) bool { return s == "" })
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ValidationError is one item of a validation problem's list: a rule the
// request broke, such as AUTH.VLD-00005 (a redirect URL that is not https).
type ValidationError struct {
	// Code is the rule's code, e.g. "AUTH.VLD-00018".
	Code   string
	Title  string
	Detail string
	// Paths are the JSON paths of the offending fields, e.g.
	// "/registersystemrequest/accesspackages".
	Paths []string
	// Extensions are the item's other members, as strings: the system
	// register puts the offending ids under keys such as
	// "Invalid Urn Details : ", joined by " | ".
	Extensions map[string]string
}

// Codes returns the codes of the problem's validation list, in order and
// without repeats; none when it has no list.
func (p *Problem) Codes() []string {
	var out []string
	for _, v := range p.Validation {
		if v.Code != "" && !slices.Contains(out, v.Code) {
			out = append(out, v.Code)
		}
	}
	return out
}

// SpecificCode is the code the problem is best known by: the first of its
// validation list when it has one (an AUTH.VLD-000NN under a generic
// STD-00000), else its own code.
func (p *Problem) SpecificCode() string {
	if codes := p.Codes(); len(codes) > 0 {
		return codes[0]
	}
	return p.Code
}

// HasCode reports whether the problem is code, or carries code in its
// validation list. Codes compare without regard to case.
func (p *Problem) HasCode(code string) bool {
	if strings.EqualFold(p.Code, code) {
		return true
	}
	for _, v := range p.Validation {
		if strings.EqualFold(v.Code, code) {
			return true
		}
	}
	return false
}

// parseValidationList reads a validation list ([{code, title, detail,
// paths, ...}]) with member names in any case. Anything else (the ASP.NET
// map, a string) gives nothing.
func parseValidationList(v json.RawMessage) []ValidationError {
	var items []map[string]json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return nil
	}
	out := make([]ValidationError, 0, len(items))
	for _, item := range items {
		var e ValidationError
		for k, raw := range item {
			switch strings.ToLower(k) {
			case "code":
				e.Code = stringify(raw)
			case "title":
				e.Title = stringify(raw)
			case "detail":
				e.Detail = stringify(raw)
			case "paths", "path":
				var paths []string
				if json.Unmarshal(raw, &paths) != nil {
					if s := stringify(raw); s != "" {
						paths = []string{s}
					}
				}
				e.Paths = append(e.Paths, paths...)
			default:
				if string(raw) == "null" {
					continue
				}
				if e.Extensions == nil {
					e.Extensions = map[string]string{}
				}
				e.Extensions[k] = stringify(raw)
			}
		}
		out = append(out, e)
	}
	return out
}
