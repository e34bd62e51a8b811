package handlers

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/handoff"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/views"
)

// HandoffVerifier checks the signed token the vendor's product sends a
// customer to /start with (internal/handoff).
type HandoffVerifier interface {
	Verify(ctx context.Context, token string) (*handoff.Handoff, error)
	CheckReturnURL(raw string) error
}

const backCookie = "onboard_back"

// handoffStart is /start?token=…: the vendor's product sends a signed-in
// customer here. A valid token starts the onboarding for the organisation it
// names and carries on exactly like a submitted number; anything else gets a
// page that says the link did not work.
func (h *Handler) handoffStart(c echo.Context) error {
	if h.Handoff == nil {
		return echo.ErrNotFound
	}
	token := c.QueryParam("token")
	ho, err := h.Handoff.Verify(c.Request().Context(), token)
	if err != nil {
		// Why a token was refused (the error map) gives the page the
		// customer sees: never the wizard, never the reason's own text.
		if f := failureOf(err); f.Status < 500 {
			h.logger().WarnContext(c.Request().Context(), "hand-off refused",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
			return h.handoffRefused(c, token, f.Status, f.customerKey())
		}
		return err // the database: a 5xx page
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: ho.Lang, Path: "/", MaxAge: 60 * 60 * 24 * 365,
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode})
	// The rest of this request speaks the token's language too.
	c.Request().AddCookie(&http.Cookie{Name: langCookie, Value: ho.Lang})
	o, started, err := h.Onboardings.Start(c.Request().Context(), onboarding.StartInput{
		Product: ho.Product, OrgNo: ho.OrgNo, CustomerRef: ho.CustomerRef, Lang: ho.Lang, Cause: domain.CauseCustomer,
	})
	if errors.Is(err, onboarding.ErrUnknownProduct) {
		return h.handoffRefused(c, token, http.StatusBadRequest, "handoff.err.product")
	}
	if err := settled(err); err != nil {
		return err
	}
	if started {
		h.addFlow(c, o.Ref)
	}
	h.setBack(c, o.Ref, ho.ReturnURL)
	return h.sendOn(c, o)
}

// handoffRefused renders the refusal in the customer's language: the one the
// token asks for when it says (read without trusting anything else in it),
// else the browser's.
func (h *Handler) handoffRefused(c echo.Context, token string, status int, key string) error {
	lang := langOf(c)
	var claims handoff.Claims
	if len(token) > 8192 {
		token = ""
	}
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err == nil && i18n.Supported(claims.Lang) {
		lang = claims.Lang
	}
	p := h.page(c, i18n.T(lang, "handoff.err.heading"))
	p.Lang = lang
	// The switch must not carry the token along in its link.
	p.LangLinks = langLinks(lang, "/", false)
	p.LangURL = switchURL(p.LangLinks)
	return render(c, status, views.ErrorPage(views.Error{Page: p, Status: status, Message: i18n.T(lang, key)}))
}

// The back cookie remembers, for the onboarding a hand-off started, where
// the vendor's product wants the customer sent back. It is signed with the
// session key like the flow cookie.
func (h *Handler) setBack(c echo.Context, ref, returnURL string) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(ref + " " + returnURL))
	c.SetCookie(&http.Cookie{
		Name: backCookie, Value: payload + "." + base64.RawURLEncoding.EncodeToString(h.signBack(payload)),
		Path: "/", MaxAge: 60 * 60 * 24, HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode,
	})
}

// backURL is the return URL remembered for ref, or "" (re-checked against
// the allowlist, which may have changed since).
func (h *Handler) backURL(c echo.Context, ref string) string {
	if h.Handoff == nil {
		return ""
	}
	ck, err := c.Cookie(backCookie)
	if err != nil {
		return ""
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return ""
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.signBack(payload)) {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	r, u, ok := strings.Cut(string(raw), " ")
	if !ok || r != ref || h.Handoff.CheckReturnURL(u) != nil {
		return ""
	}
	return u
}

func (h *Handler) signBack(payload string) []byte { return h.mac("back", payload) }
