package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/i18n"
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
	return strings.Split(string(raw), " ")
}

func (h *Handler) ownsFlow(c echo.Context, ref string) bool {
	return slices.Contains(h.flowRefs(c), ref)
}

func (h *Handler) addFlow(c echo.Context, ref string) {
	refs := h.flowRefs(c)
	if slices.Contains(refs, ref) {
		return
	}
	refs = append(refs, ref)
	if len(refs) > maxFlows {
		refs = refs[len(refs)-maxFlows:]
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(refs, " ")))
	c.SetCookie(&http.Cookie{
		Name: flowCookie, Value: payload + "." + base64.RawURLEncoding.EncodeToString(h.sign(payload)),
		Path: "/", MaxAge: 60 * 60 * 24 * 30, HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) sign(payload string) []byte {
	m := hmac.New(sha256.New, h.SessionKey)
	m.Write([]byte("flow:" + payload))
	return m.Sum(nil)
}

// langOf picks the language: the switch's cookie, then Accept-Language,
// then bokmål.
func langOf(c echo.Context) string {
	if ck, err := c.Cookie(langCookie); err == nil && i18n.Supported(ck.Value) {
		return ck.Value
	}
	if l := i18n.FromAcceptLanguage(c.Request().Header.Get("Accept-Language")); l != "" {
		return l
	}
	return i18n.Default
}

func otherLang(lang string) string {
	if lang == "en" {
		return "nb"
	}
	return "en"
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
