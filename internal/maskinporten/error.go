package maskinporten

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer from the token endpoint: the OAuth 2 error body
// ({error, error_description, error_uri}) and the HTTP status. Description
// usually carries Maskinporten's MP-xxx code and a correlation id, so log it.
type Error struct {
	StatusCode  int    // HTTP status
	Code        string // OAuth 2 error code, e.g. "invalid_grant"; empty if the body was not JSON
	Description string // error_description, or the start of a non-JSON body
	URI         string // error_uri, rarely set
	// ServerDate is the answer's Date header (zero when it had none), so a
	// caller can tell a clock problem from the rest.
	ServerDate time.Time
}

// MPCode returns Maskinporten's "MP-nnn" code from the description, or ""
// when there is none.
func (e *Error) MPCode() string {
	m := mpCodePattern.FindString(e.Description)
	return m
}

var mpCodePattern = regexp.MustCompile(`MP-[0-9]{3}`)

// Error returns the status, code and description on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("maskinporten: token endpoint returned ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// parseError turns a non-2xx token response into an *Error.
func parseError(status int, body []byte) *Error {
	e := &Error{StatusCode: status}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	if json.Unmarshal(body, &oe) == nil && (oe.Error != "" || oe.Description != "") {
		// On one line, as Error promises: a description may hold line breaks.
		e.Code, e.Description, e.URI = flat(oe.Error), flat(oe.Description), flat(oe.URI)
		return e
	}
	e.Description = truncate(body)
	return e
}

// flat collapses the whitespace in s, line breaks too.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate returns the start of a non-JSON body (an HTML error page, say) as
// one short line of valid UTF-8.
func truncate(body []byte) string {
	if len(body) > 4*maxErrorChars {
		body = body[:4*maxErrorChars]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	if r := []rune(s); len(r) > maxErrorChars {
		return string(r[:maxErrorChars]) + "…"
	}
	return s
}
