package config

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// SMTP TLS modes (ONBOARD_SMTP_TLS).
const (
	SMTPStartTLS = "starttls" // STARTTLS required (go-mail's TLSMandatory)
	SMTPTLS      = "tls"      // TLS from the first byte (implicit TLS, port 465)
	SMTPNoTLS    = "none"     // plain text: only for a relay on the same host or network
)

// RequestLifetime is how long Altinn keeps a request open: its timedOut
// flag is set 180 days after it was created (contract §8); in the
// simulator's legacy10d mode, and at Altinn before 2025-11-20, 10 days.
const RequestLifetime = 180 * 24 * time.Hour

// Mail is how the service emails customers (internal/mail). With no SMTP
// host, in dev the messages go to the built-in outbox (stored, shown on
// /admin/mail) and elsewhere mail is off.
type Mail struct {
	SMTPHost     string // ONBOARD_SMTP_HOST; empty: no SMTP
	SMTPPort     int    // ONBOARD_SMTP_PORT (default 587; 465 with tls; 25 with none)
	SMTPUsername string // ONBOARD_SMTP_USERNAME
	SMTPPassword string // ONBOARD_SMTP_PASSWORD(_FILE) (secret)
	SMTPTLS      string // ONBOARD_SMTP_TLS: starttls, tls or none
	From         string // ONBOARD_MAIL_FROM: the sender's address (and name), required with a host
	// ReminderAges are the ages of a waiting request at which the customer
	// is reminded (ONBOARD_REMINDER_DAYS, default 3,7,14 days).
	ReminderAges []time.Duration
	// ExpiryReminder is how long before Altinn's request expires one more
	// reminder goes (ONBOARD_REMINDER_BEFORE_EXPIRY, default 24h; 0: none).
	ExpiryReminder time.Duration
	// RequestLifetime is how long Altinn keeps a request: RequestLifetime,
	// 10 days with the simulator's legacy10d mode.
	RequestLifetime time.Duration
	// Interval is how often due messages are looked for
	// (ONBOARD_MAIL_INTERVAL, default 1m).
	Interval time.Duration
	// Outbox: no SMTP host in dev, so messages are kept in the database
	// and shown on the outbox page instead of being sent.
	Outbox bool
}

// Enabled reports whether any mail is made: sent through SMTP, or kept in
// the dev outbox.
func (m Mail) Enabled() bool { return m.SMTPHost != "" || m.Outbox }

// loadMail reads the mail settings.
func (c *Config) loadMail(get func(k, def string) string, secret func(string) ([]byte, error)) []error {
	var errs []error
	m := &c.Mail
	m.SMTPHost = get("ONBOARD_SMTP_HOST", "")
	m.SMTPTLS = strings.ToLower(get("ONBOARD_SMTP_TLS", SMTPStartTLS))
	defPort := "587"
	switch m.SMTPTLS {
	case SMTPStartTLS:
	case SMTPTLS:
		defPort = "465"
	case SMTPNoTLS:
		defPort = "25"
	default:
		errs = append(errs, fmt.Errorf("ONBOARD_SMTP_TLS %q must be starttls, tls or none", m.SMTPTLS))
	}
	p, err := strconv.Atoi(get("ONBOARD_SMTP_PORT", defPort))
	if err != nil || p < 1 || p > 65535 {
		errs = append(errs, errors.New("ONBOARD_SMTP_PORT must be a port number, such as 587"))
	}
	m.SMTPPort = p
	m.SMTPUsername = get("ONBOARD_SMTP_USERNAME", "")
	if b, err := secret("ONBOARD_SMTP_PASSWORD"); err != nil {
		errs = append(errs, err)
	} else {
		m.SMTPPassword = string(b)
	}
	m.From = get("ONBOARD_MAIL_FROM", "")
	if m.From == "" && m.SMTPHost == "" && c.Dev {
		m.From = "onboard@example.no"
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			errs = append(errs, fmt.Errorf("ONBOARD_MAIL_FROM %q is not an address (name <address> or address)", m.From))
		}
	} else if m.SMTPHost != "" {
		errs = append(errs, errors.New("ONBOARD_MAIL_FROM is required with ONBOARD_SMTP_HOST"))
	}
	if m.SMTPHost != "" && m.SMTPTLS == SMTPNoTLS && m.SMTPPassword != "" && !c.Dev {
		errs = append(errs, errors.New("ONBOARD_SMTP_TLS=none with a password outside dev would send the password in the clear"))
	}
	m.ReminderAges, err = parseDays(get("ONBOARD_REMINDER_DAYS", "3,7,14"))
	if err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_REMINDER_DAYS: %w", err))
	}
	m.ExpiryReminder, err = time.ParseDuration(get("ONBOARD_REMINDER_BEFORE_EXPIRY", "24h"))
	if err != nil || m.ExpiryReminder < 0 {
		errs = append(errs, errors.New("ONBOARD_REMINDER_BEFORE_EXPIRY must be a duration such as 24h (0 for none)"))
	}
	m.RequestLifetime = RequestLifetime
	if c.AltinnEnv == EnvSim && c.SimTimeouts == "legacy10d" {
		m.RequestLifetime = 10 * 24 * time.Hour
	}
	m.Interval, err = time.ParseDuration(get("ONBOARD_MAIL_INTERVAL", "1m"))
	if err != nil || m.Interval < time.Second {
		errs = append(errs, errors.New("ONBOARD_MAIL_INTERVAL must be a duration of at least 1s, such as 1m"))
	}
	m.Outbox = m.SMTPHost == "" && c.Dev
	return errs
}

// parseDays reads a comma-separated list of ascending whole days, such as
// "3,7,14" ("" or "off": no reminders by age).
func parseDays(s string) ([]time.Duration, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return nil, nil
	}
	var out []time.Duration
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 365 {
			return nil, fmt.Errorf("%q is not a number of days from 1 to 365", f)
		}
		d := time.Duration(n) * 24 * time.Hour
		if len(out) > 0 && d <= out[len(out)-1] {
			return nil, fmt.Errorf("%d does not come after %d: the days must ascend", n, int(out[len(out)-1]/(24*time.Hour)))
		}
		out = append(out, d)
	}
	return out, nil
}
