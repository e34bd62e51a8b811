package app

import (
	"log/slog"
	"time"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/metrics"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// webhookMetrics counts delivery attempts and deliveries given up. It is
// the webhook worker's Observer.
type webhookMetrics struct {
	attempts *metrics.Counter
	failures *metrics.Counter
}

func newWebhookMetrics(r *metrics.Registry) *webhookMetrics {
	return &webhookMetrics{
		attempts: r.Counter("onboard_webhook_attempts_total",
			"Webhook delivery attempts, by outcome (delivered: the endpoint answered 2xx; error: anything else).", "outcome"),
		failures: r.Counter("onboard_webhook_failures_total",
			"Webhook deliveries given up: no 2xx within ONBOARD_WEBHOOK_MAX_AGE."),
	}
}

// WebhookAttempt counts one attempt.
func (m *webhookMetrics) WebhookAttempt(_ time.Duration, err error) {
	if err != nil {
		m.attempts.Inc("error")
		return
	}
	m.attempts.Inc("delivered")
}

// WebhookFailed counts one delivery given up.
func (m *webhookMetrics) WebhookFailed() { m.failures.Inc() }

// newWebhookWorker is the River worker that delivers webhook events. It is
// registered whether or not URLs are configured, so deliveries stored
// before a restart without them still end (delivered, or failed by age).
func newWebhookWorker(cfg *config.Config, store *db.DB, r *metrics.Registry, log *slog.Logger) *webhooks.Worker {
	return &webhooks.Worker{
		Store: store, HTTP: webhooks.NewHTTPClient(), Secret: cfg.WebhookSecret, MaxAge: cfg.WebhookMaxAge,
		Observer: newWebhookMetrics(r), Log: log.With("component", "webhooks"),
		URLs: append([]string{}, cfg.WebhookURLs...),
	}
}
