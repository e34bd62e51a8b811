package handlers

import (
	"context"
	"errors"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/mail"
	"github.com/onboard-altinn/onboard/views"
)

// MailStore is what the mail pages read and write (internal/db).
type MailStore interface {
	MailMessages(ctx context.Context, limit int) ([]db.MailMessage, error)
	MailPaused(ctx context.Context) (bool, string, *time.Time, error)
	SetMailPaused(ctx context.Context, paused bool, by db.AuditEntry) error
	OptOutMail(ctx context.Context, onboardingID string, at time.Time, ev domain.Event) (bool, error)
}

// MailPages are the customer's opt-out page and the dashboard's mail page
// (nil: the service makes no mail, and neither page exists).
type MailPages struct {
	Store MailStore
	// Mode is how mail goes: admin.mail.mode.smtp (with Host), .outbox or
	// .off.
	Mode, Host string
}

// mailContacts stores the address an onboarding's mail goes to (*db.DB).
type mailContacts interface {
	SetMailContact(ctx context.Context, onboardingID, email string) error
}

// setMailContact keeps the address the API or staff gave for an onboarding
// ("" : none given, nothing changes), whether mail is on now or later.
func (h *Handler) setMailContact(ctx context.Context, onboardingID, email string) error {
	if email == "" {
		return nil
	}
	s, ok := h.APIKeys.(mailContacts)
	if !ok {
		return nil
	}
	return s.SetMailContact(ctx, onboardingID, email)
}

// renderNewFormEmail is the new-onboarding form again, its address refused.
func (h *Handler) renderNewFormEmail(c echo.Context, product, typed, email string) error {
	lang := langOf(c)
	if len(email) > 400 {
		email = email[:400]
	}
	m := views.NewOnboardingForm{AdminPage: h.adminPage(c, "admin.new.heading"), Action: newPath, BackURL: listPath,
		Product: product, OrgNo: typed, Email: email, EmailErrorKey: "admin.new.email.err"}
	for _, p := range h.Products {
		m.Products = append(m.Products, views.ProductOption{ID: p.ID, Name: p.DisplayName(lang), Agent: p.Kind == domain.KindAgent})
	}
	return render(c, http.StatusUnprocessableEntity, views.NewOnboardingPage(m))
}

// validEmail accepts a bare address (no display name) of at most 320
// characters, as a message's recipient needs.
func validEmail(s string) bool {
	if len(s) > 320 {
		return false
	}
	a, err := netmail.ParseAddress(s)
	return err == nil && a.Address == s
}

// AuditMailPaused is the audit action of pausing or resuming all mail.
const AuditMailPaused = "mail.paused"

// mailStop shows the opt-out question for a message's link (GET), and
// stops the onboarding's mail (POST). The link is signed with the session
// key; a wrong one says so and changes nothing.
func (h *Handler) mailStop(c echo.Context) error {
	if h.Mail == nil {
		return echo.ErrNotFound
	}
	id, token := c.Param("id"), c.QueryParam("t")
	lang := langOf(c)
	m := views.MailStop{Page: h.page(c, "mail.stop.title"), Vendor: h.Vendor,
		Action: views.MailStopPath + url.PathEscape(id) + "?t=" + url.QueryEscape(token)}
	m.CSRF, _ = c.Get("csrf").(string)
	var o *domain.Onboarding
	if mail.CheckStopToken(h.SessionKey, id, token) {
		var err error
		if o, err = h.Store.OnboardingByID(c.Request().Context(), id); err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	if o == nil {
		m.Invalid = true
		return render(c, http.StatusNotFound, views.MailStopPage(m))
	}
	m.Org = o.OrgNo
	if o.OrgName != nil && *o.OrgName != "" {
		m.Org = *o.OrgName
	}
	if lang == "" {
		m.Lang = o.Lang
	}
	if c.Request().Method == http.MethodPost {
		ctx, cancel := changeContext(c)
		defer cancel()
		if _, err := h.Mail.Store.OptOutMail(ctx, o.ID, time.Now(), domain.Event{Kind: domain.EventMail,
			Cause: domain.CauseCustomer, Operation: mail.OpStop, Message: "the customer stopped the emails"}); err != nil {
			return err
		}
		m.Done = true
	}
	return render(c, http.StatusOK, views.MailStopPage(m))
}

// mailAdmin is the dashboard's mail page: how mail goes, the pause, and
// the latest messages with their text (the outbox in dev).
func (h *Handler) mailAdmin(c echo.Context) error {
	if h.Mail == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	m := views.MailAdmin{AdminPage: h.adminPage(c, "admin.mail.title"), PauseURL: views.MailAdminPath + "/pause"}
	if h.Mail.Mode == "smtp" {
		m.Mode = m.T("admin.mail.mode.smtp", h.Mail.Host)
	} else {
		m.Mode = m.T("admin.mail.mode.outbox")
	}
	if me := staffFrom(c); me != nil && me.Role == domain.RoleAdmin {
		m.CanPause = true
	}
	switch c.QueryParam("done") {
	case "paused":
		m.DoneKey = "admin.mail.done.paused"
	case "resumed":
		m.DoneKey = "admin.mail.done.resumed"
	}
	paused, by, at, err := h.Mail.Store.MailPaused(ctx)
	if err != nil {
		return err
	}
	m.Paused, m.PausedBy = paused, by
	if at != nil {
		m.PausedAt = when(c, *at)
	}
	msgs, err := h.Mail.Store.MailMessages(ctx, 200)
	if err != nil {
		return err
	}
	colors := map[string]string{domain.MailSent: "success", domain.MailOutbox: "info", domain.MailFailed: "warning",
		domain.MailRefused: "danger", db.MailQueued: "neutral", db.MailSkipped: "neutral"}
	for _, msg := range msgs {
		m.Rows = append(m.Rows, views.MailRow{At: when(c, msg.CreatedAt), To: msg.To,
			Kind: m.T("admin.mail.kind." + msg.Message), Subject: msg.Subject,
			Status: m.T("admin.mail.status." + msg.Status), StatusColor: colors[msg.Status], Error: msg.Error,
			Text: strings.Split(strings.TrimSpace(msg.Text), "\n\n"), OnboardingURL: "/admin/onboardings/" + url.PathEscape(msg.OnboardingID)})
	}
	return render(c, http.StatusOK, views.MailAdminPage(m))
}

// mailPause pauses or resumes all mail (admins): paused messages wait, and
// go when mail is resumed.
func (h *Handler) mailPause(c echo.Context) error {
	if h.Mail == nil {
		return echo.ErrNotFound
	}
	me := staffFrom(c)
	if me == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	paused := c.FormValue("paused") == "true"
	by := staffAudit(c, me)
	by.Action, by.Detail = AuditMailPaused, map[string]any{"paused": paused}
	ctx, cancel := changeContext(c)
	defer cancel()
	if err := h.Mail.Store.SetMailPaused(ctx, paused, by); err != nil {
		return err
	}
	done := "resumed"
	if paused {
		done = "paused"
	}
	return c.Redirect(http.StatusSeeOther, views.MailAdminPath+"?done="+done)
}
