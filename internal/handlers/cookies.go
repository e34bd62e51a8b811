package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/views"
)

const (
	flowCookie = "onboard_flow"
	langCookie = "onboard_lang"
	maxFlows   = 20
)

// The flow cookie lists the return references this browser started. It is
// signed with the session key, so any instance can check it and nobody can
// add a reference they only saw in a link.
func (h *Handler) flowRefs(c echo.Context) []string {
	raw := h.flowPayload(c)
	if raw == nil {
		return nil
	}
	return strings.Split(string(raw), " ")
}

// flowPayload is the flow cookie's references as it holds them, one space
// between each, once its signature is checked; nil for none, or for a
// cookie nobody signed. (ownsFlow and addFlow look through it without
// splitting it: a browser that started many onboardings, an accountant's,
// holds up to maxFlows.)
func (h *Handler) flowPayload(c echo.Context) []byte {
	ck, err := c.Cookie(flowCookie)
	if err != nil {
		return nil
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return nil
	}
	want := h.sign(payload)
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(raw) == 0 {
		return nil
	}
	return raw
}

// hasFlowRef says whether ref is one of the references in raw (a
// flowPayload): slices.Contains(strings.Split(raw, " "), ref) without the
// split.
func hasFlowRef(raw []byte, ref string) bool {
	if raw == nil {
		return false
	}
	for {
		i := bytes.IndexByte(raw, ' ')
		if i < 0 {
			return string(raw) == ref
		}
		if string(raw[:i]) == ref {
			return true
		}
		raw = raw[i+1:]
	}
}

func (h *Handler) ownsFlow(c echo.Context, ref string) bool {
	return hasFlowRef(h.flowPayload(c), ref)
}

func (h *Handler) addFlow(c echo.Context, ref string) {
	raw := h.flowPayload(c)
	if hasFlowRef(raw, ref) {
		return
	}
	// The newest maxFlows: the last maxFlows-1 held, and ref.
	if raw != nil {
		for n := bytes.Count(raw, []byte{' '}) + 1; n > maxFlows-1; n-- {
			raw = raw[bytes.IndexByte(raw, ' ')+1:]
		}
	}
	b := make([]byte, 0, len(raw)+1+len(ref))
	if raw != nil {
		b = append(append(b, raw...), ' ')
	}
	payload := base64.RawURLEncoding.EncodeToString(append(b, ref...))
	c.SetCookie(&http.Cookie{
		Name: flowCookie, Value: payload + "." + base64.RawURLEncoding.EncodeToString(h.sign(payload)),
		Path: "/", MaxAge: 60 * 60 * 24 * 30, HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
}

// reserve makes the company page's reservation for product and n: a fresh
// return reference and its signature, bound to the product and the number
// so it reserves nothing else ("" when no random reference can be made).
func (h *Handler) reserve(product, n string) string {
	ref, err := onboarding.NewRef()
	if err != nil {
		return ""
	}
	return ref + "." + base64.RawURLEncoding.EncodeToString(h.signReservation(product, n, ref))
}

// reserved is the return reference a posted reservation holds, when it is
// one this service made for product and n; "" otherwise.
func (h *Handler) reserved(product, n, reservation string) string {
	ref, sig, ok := strings.Cut(reservation, ".")
	if !ok || ref == "" {
		return ""
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.signReservation(product, n, ref)) {
		return ""
	}
	return ref
}

func (h *Handler) signReservation(product, n, ref string) []byte {
	return h.mac("reserve", product+":"+n+":"+ref)
}

func (h *Handler) sign(payload string) []byte { return h.mac("flow", payload) }

// mac is the HMAC-SHA256 of payload under the session key for one purpose
// (flow, reserve, back, csrf), so a value signed for one use never passes
// for another.
func (h *Handler) mac(purpose, payload string) []byte {
	// A state keyed once and reset, not a new one per value (every customer
	// page checks one or two of them); the same bytes are signed.
	m, _ := h.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, h.SessionKey)
	} else {
		m.Reset()
	}
	_, _ = io.WriteString(m, purpose)
	_, _ = io.WriteString(m, ":")
	_, _ = io.WriteString(m, payload)
	sum := m.Sum(make([]byte, 0, sha256.Size))
	h.macs.Put(m)
	return sum
}

// langOf picks the language: the switch's cookie, then Accept-Language,
// then bokmål. The dashboard speaks bokmål and English only (staffLangs), so
// a nynorsk reader gets bokmål there.
func langOf(c echo.Context) string {
	lang := i18n.Default
	if ck, err := c.Cookie(langCookie); err == nil && i18n.Supported(ck.Value) {
		lang = ck.Value
	} else if l := i18n.FromAcceptLanguage(c.Request().Header.Get("Accept-Language")); l != "" {
		lang = l
	}
	if staffPath(c.Request().URL.Path) && !slices.Contains(staffLangs, lang) {
		return i18n.Default
	}
	return lang
}

// staffLangs are the dashboard's languages: its texts (admin.*) are in
// bokmål and English.
var staffLangs = []string{"nb", "en"}

// staffPath reports whether path is on the dashboard (dashboardRoutes).
func staffPath(path string) bool { return path == "/admin" || strings.HasPrefix(path, "/admin/") }

// langLinks are the language switch's links on a page in lang: one per other
// language (on the dashboard only its own), each named in its own language
// and leading back to next.
func langLinks(lang, next string, staff bool) []views.LangLink {
	var out []views.LangLink
	for _, l := range i18n.Others(lang) {
		if staff && !slices.Contains(staffLangs, l) {
			continue
		}
		out = append(out, views.LangLink{Lang: l, Name: i18n.T(l, "lang.name."+l),
			URL: "/lang/" + l + "?next=" + url.QueryEscape(next)})
	}
	return out
}

// switchURL is the two-language switch's link (views.Page.LangURL, until the
// layouts list LangLinks): to English, and from English to bokmål.
func switchURL(links []views.LangLink) string {
	for _, l := range links {
		if l.Lang == "en" {
			return l.URL
		}
	}
	return links[0].URL
}

// localPath accepts only a path on this site, never another host
// ("//evil.example", "/\evil.example", "https://…"), so the language switch
// is no open redirect.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
