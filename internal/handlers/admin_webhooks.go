package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/webhooks"
	"github.com/onboard-altinn/onboard/views"
)

// WebhookLog is the part of the database the detail page reads for the
// events sent to the vendor's product.
type WebhookLog interface {
	WebhookDeliveries(ctx context.Context, onboardingID string, attemptsEach int) ([]db.WebhookDelivery, error)
}

// Redeliverer sends one delivery of an onboarding's event again
// (webhooks.Outbox).
type Redeliverer interface {
	// by is who asks, from where and the action: the audit entry and the
	// staff event are written in the redelivery's transaction.
	Redeliver(ctx context.Context, onboardingID string, deliveryID int64, by db.AuditEntry) (*db.WebhookDelivery, error)
}

// AuditRedeliver is the audit action of sending a webhook delivery again.
const AuditRedeliver = "webhook.redeliver"

// webhookAttemptsShown is how many of a delivery's latest attempts the
// detail page lists.
const webhookAttemptsShown = 20

// webhookSection is the detail page's webhook section for o: its events,
// newest first, each with its deliveries and their latest attempts.
func (h *Handler) webhookSection(c echo.Context, o *domain.Onboarding) (views.WebhookSection, error) {
	w := views.WebhookSection{Configured: h.Redeliver != nil}
	if h.WebhookLog == nil {
		return w, nil
	}
	ds, err := h.WebhookLog.WebhookDeliveries(c.Request().Context(), o.ID, webhookAttemptsShown)
	if err != nil {
		return w, err
	}
	w.Show = w.Configured || len(ds) > 0
	redeliver := h.Redeliver != nil && canAct(c)
	for _, d := range ds {
		if n := len(w.Events); n == 0 || w.Events[n-1].ID != d.EventID {
			w.Events = append(w.Events, webhookEventView(c, d))
		}
		row := views.WebhookDelivery{
			ID: d.ID, URL: config.RedactURL(d.URL), Status: d.Status, Attempts: d.Attempts,
			Older: max(d.Attempts-len(d.Recent), 0),
		}
		if d.LastStatusCode != nil {
			row.LastStatusCode = *d.LastStatusCode
		}
		if d.LastError != nil {
			row.LastError = *d.LastError
		}
		switch {
		case d.Status == db.WebhookDelivered && d.DeliveredAt != nil:
			row.Delivered = when(c, *d.DeliveredAt)
		case d.Status == db.WebhookPending && d.NextAttemptAt != nil:
			row.NextAttempt = when(c, *d.NextAttemptAt)
		}
		if redeliver {
			row.RedeliverURL = redeliverPath(o.ID, d.ID)
		}
		for _, a := range d.Recent {
			row.Recent = append(row.Recent, views.WebhookAttempt{At: when(c, a.At),
				StatusCode: a.StatusCode, Error: a.Error, LatencyMS: a.LatencyMS})
		}
		ev := &w.Events[len(w.Events)-1]
		ev.Deliveries = append(ev.Deliveries, row)
	}
	return w, nil
}

// webhookEventView is the event d belongs to, as the page shows it.
func webhookEventView(c echo.Context, d db.WebhookDelivery) views.WebhookEvent {
	var body struct {
		Data struct {
			Status         string  `json:"status"`
			PreviousStatus *string `json:"previous_status"`
		} `json:"data"`
	}
	_ = json.Unmarshal(d.Payload, &body) // our own JSON; a field it lacks is shown as nothing
	ev := views.WebhookEvent{ID: d.EventID, Created: when(c, d.EventCreatedAt),
		Status: body.Data.Status, Payload: prettyJSON(d.Payload)}
	if body.Data.PreviousStatus != nil {
		ev.PreviousStatus = *body.Data.PreviousStatus
	}
	return ev
}

func redeliverPath(onboardingID string, deliveryID int64) string {
	return detailPath(onboardingID) + "/webhooks/" + strconv.FormatInt(deliveryID, 10) + "/redeliver"
}

// redeliverWebhook sends one delivery of the onboarding's event again, now,
// with a fresh retry schedule, and audits it (operators; the route checks).
func (h *Handler) redeliverWebhook(c echo.Context, o *domain.Onboarding) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	if h.Redeliver == nil {
		return h.notPossible(c, o, "admin.webhooks.err.off")
	}
	id, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || id <= 0 {
		return h.adminError(c, http.StatusNotFound, "admin.webhooks.err.notfound")
	}
	_, err = h.Redeliver.Redeliver(c.Request().Context(), o.ID, id,
		db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: AuditRedeliver, IP: c.RealIP()})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return h.adminError(c, http.StatusNotFound, "admin.webhooks.err.notfound")
	case errors.Is(err, webhooks.ErrEndpointGone):
		return h.notPossible(c, o, "admin.webhooks.err.gone")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, detailPath(o.ID)+"?done=redeliver#webhooks")
}
