package app

import (
	"log/slog"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/handlers"
	"github.com/onboard-altinn/onboard/internal/mail"
)

// newMail builds the mail jobs and pages, or nil when mail is off (no SMTP
// host outside dev, which is said at start). In dev without a host the
// messages go to the built-in outbox (/admin/mail).
func newMail(cfg *config.Config, store *db.DB, log *slog.Logger) (*mail.Workers, *handlers.MailPages, error) {
	m := cfg.Mail
	if !m.Enabled() {
		log.Warn("email to customers is off: ONBOARD_SMTP_HOST is not set, so no approval links, reminders or receipts are sent",
			"component", "mail")
		return nil, nil, nil
	}
	key, err := sessionKey(cfg)
	if err != nil {
		return nil, nil, err
	}
	pages := &handlers.MailPages{Store: store, Mode: "outbox"}
	send := &mail.SendWorker{Store: store, From: m.From, Log: log}
	if s := mail.NewSMTP(m); s != nil {
		send.Sender = s
		pages.Mode, pages.Host = "smtp", m.SMTPHost
		log.Info("email to customers through SMTP", "component", "mail", "host", m.SMTPHost, "port", m.SMTPPort, "tls", m.SMTPTLS)
	} else {
		log.Info("email to customers kept in the built-in outbox (dev, no ONBOARD_SMTP_HOST): see /admin/mail", "component", "mail")
	}
	w := &mail.Workers{Send: send, Interval: m.Interval, Sweep: &mail.SweepWorker{
		DB: store, Products: cfg.Products, Vendor: cfg.Vendor,
		Support:   mail.SupportContact(cfg.Brand.SupportEmail, cfg.Brand.SupportPhone, cfg.Brand.SupportURL),
		PublicURL: cfg.PublicURL, Key: key, ReminderAges: m.ReminderAges, ExpiryReminder: m.ExpiryReminder,
		Lifetime: m.RequestLifetime, Log: log,
	}}
	return w, pages, nil
}
