package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/views"
)

func (h *Handler) apiKeyList(c echo.Context) error {
	m := views.APIKeyList{}
	if c.QueryParam("done") == "revoked" {
		m.DoneKey = "admin.apikeys.done.revoked"
	}
	return h.renderAPIKeys(c, http.StatusOK, m)
}

func (h *Handler) renderAPIKeys(c echo.Context, status int, m views.APIKeyList) error {
	keys, err := h.APIKeys.ListAPIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	m.AdminPage, m.AddURL = h.adminPage(c, "admin.apikeys.heading"), views.APIKeysPath
	for _, k := range keys {
		r := views.APIKeyRow{Name: k.Name, Prefix: k.Prefix, Created: day(c, k.CreatedAt)}
		if k.CreatedBy != nil {
			r.CreatedBy = *k.CreatedBy
		}
		if k.LastUsedAt != nil {
			r.LastUsed = when(c, *k.LastUsedAt)
		}
		if k.RevokedAt != nil {
			r.Revoked = day(c, *k.RevokedAt)
		} else {
			r.RevokeURL = views.APIKeysPath + "/" + strconv.FormatInt(k.ID, 10) + "/revoke"
		}
		m.Rows = append(m.Rows, r)
	}
	return render(c, status, views.APIKeysPage(m))
}

// addAPIKey makes a key and shows it once; only its hash is stored.
func (h *Handler) addAPIKey(c echo.Context) error {
	me := staffFrom(c)
	if me == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" || utf8.RuneCountInString(name) > 100 {
		if len(name) > 400 {
			name = name[:400]
		}
		return h.renderAPIKeys(c, http.StatusBadRequest, views.APIKeyList{Name: name, ErrorKey: "admin.apikeys.err.name"})
	}
	ctx, cancel := changeContext(c)
	defer cancel()
	k, key, err := h.APIKeys.CreateAPIKey(ctx, name, staffAudit(c, me))
	if err != nil {
		return err
	}
	h.logger().InfoContext(ctx, "api key created", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "prefix", k.Prefix)
	return render(c, http.StatusOK, views.APIKeyCreatedPage(views.APIKeyCreated{
		AdminPage: h.adminPage(c, "admin.apikeys.created.heading"),
		Name:      k.Name, Prefix: k.Prefix, Key: key, BackURL: views.APIKeysPath,
	}))
}

// revokeAPIKey revokes a key; the next request with it is refused.
func (h *Handler) revokeAPIKey(c echo.Context) error {
	me := staffFrom(c)
	if me == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return h.adminError(c, http.StatusNotFound, "admin.apikeys.err.notfound")
	}
	ctx, cancel := changeContext(c)
	defer cancel()
	err = h.APIKeys.RevokeAPIKey(ctx, id, staffAudit(c, me))
	if errors.Is(err, db.ErrNotFound) {
		return h.adminError(c, http.StatusNotFound, "admin.apikeys.err.notfound")
	}
	if err != nil {
		return err
	}
	h.logger().InfoContext(ctx, "api key revoked", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"by", me.Email, "api_key_id", id)
	return c.Redirect(http.StatusSeeOther, views.APIKeysPath+"?done=revoked")
}
