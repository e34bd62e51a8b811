package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// errBadText refuses a request carrying text the service cannot store or
// show: not valid UTF-8, or holding a NUL (Postgres refuses both, SQLSTATE
// 22021). The error map makes it a 400 with words, a page or a problem
// document.
var errBadText = errors.New("handlers: text that is not valid UTF-8 or holds a NUL")

// goodText reports whether s is valid UTF-8 without a NUL.
func goodText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// checkText is the one place text is checked on the way in, before any
// handler reads it: the path, every query parameter, every form field (the
// urlencoded body's and a multipart form's text fields; an uploaded file is
// its parser's) and every string, key or value, of a JSON body. Each must be
// goodText. It comes after the body limits, so what it reads is bounded.
func checkText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !goodText(r.URL.Path) {
			return errBadText
		}
		// Parsed as the handlers' c.QueryParam does (the pairs it can
		// read, an ill-escaped one left out).
		if q, _ := url.ParseQuery(r.URL.RawQuery); !goodValues(q) {
			return errBadText
		}
		if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		switch ct {
		case echo.MIMEApplicationForm:
			// A form that does not parse is refused whole: the pairs
			// before and after a broken one would reach the handlers
			// unchecked (net/http keeps what it could read).
			if err := r.ParseForm(); err != nil {
				return bodyError(err)
			}
			if !goodValues(r.PostForm) {
				return errBadText
			}
		case echo.MIMEMultipartForm:
			f, err := c.MultipartForm()
			if err != nil {
				return bodyError(err)
			}
			if !goodValues(f.Value) {
				return errBadText
			}
		default:
			// JSON, or whatever a client sends the API (which reads its
			// body whatever the Content-Type says), or a body nobody
			// reads: valid UTF-8 without NUL, and no NUL in a JSON
			// string's escapes.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return bodyError(err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !goodJSON(body) {
				return errBadText
			}
		}
		return next(c)
	}
}

// bodyError is a body that could not be read or parsed: the body limit's
// 413 as it is; anything else (a broken escape, a malformed multipart
// body, a connection cut off) a 400 like bad text, never a 500.
func bodyError(err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he // echo's body limit: 413
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.ErrStatusRequestEntityTooLarge
	}
	return errBadText
}

// dataFields are form fields whose value is data a parser reads with
// words of its own: a campaign's pasted list (campaigns.Parse says a list
// that is not text is not text). Their names are still checked.
var dataFields = map[string]bool{"paste": true}

func goodValues(v map[string][]string) bool {
	for k, vs := range v {
		if !goodText(k) {
			return false
		}
		if dataFields[k] {
			continue
		}
		for _, s := range vs {
			if !goodText(s) {
				return false
			}
		}
	}
	return true
}

// goodJSON reports whether body is valid UTF-8 without a NUL byte and no
// string in it (after its escapes, so "\u0000" too) holds a NUL. A body that is not JSON is
// the handler's to refuse: it passes here.
func goodJSON(body []byte) bool {
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	for {
		t, err := d.Token()
		if err != nil {
			return true // the end, or not JSON: the handler's to say
		}
		if s, ok := t.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
}
