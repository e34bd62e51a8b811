package app

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// webhookMetrics counts delivery attempts and deliveries given up. It is
// the webhook worker's Observer.
type webhookMetrics struct {
	attempts *prometheus.CounterVec
	failures prometheus.Counter
}

func newWebhookMetrics(r prometheus.Registerer) *webhookMetrics {
	m := &webhookMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboard_webhook_attempts_total",
			Help: "Webhook delivery attempts, by outcome (delivered: the endpoint answered 2xx; error: anything else).",
		}, []string{"outcome"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onboard_webhook_failures_total",
			Help: "Webhook deliveries given up: no 2xx within ONBOARD_WEBHOOK_MAX_AGE.",
		}),
	}
	r.MustRegister(m.attempts, m.failures)
	return m
}

// WebhookAttempt counts one attempt.
func (m *webhookMetrics) WebhookAttempt(_ time.Duration, err error) {
	if err != nil {
		m.attempts.WithLabelValues("error").Inc()
		return
	}
	m.attempts.WithLabelValues("delivered").Inc()
}

// WebhookFailed counts one delivery given up.
func (m *webhookMetrics) WebhookFailed() { m.failures.Inc() }

// newWebhookWorker is the River worker that delivers webhook events. It is
// registered whether or not URLs are configured, so deliveries stored
// before a restart without them still end (delivered, or failed by age).
func newWebhookWorker(cfg *config.Config, store *db.DB, r prometheus.Registerer, log *slog.Logger) *webhooks.Worker {
	return &webhooks.Worker{
		Store: store, HTTP: webhooks.NewHTTPClient(), Secret: cfg.WebhookSecret, MaxAge: cfg.WebhookMaxAge,
		Observer: newWebhookMetrics(r), Log: log.With("component", "webhooks"),
		URLs: append([]string{}, cfg.WebhookURLs...),
	}
}
