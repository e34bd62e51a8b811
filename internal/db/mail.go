package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// Mail message statuses (mail_messages.status) beside domain.MailSent,
// MailOutbox and MailRefused (final) and domain.MailFailed (a try failed and
// it is tried again): MailQueued waits for its first try, MailSkipped is
// final.
const (
	MailQueued  = "queued"
	MailSkipped = "skipped" // not sent: the customer opted out, or its moment passed while it waited
)

// MailMessage is one email to an onboarding's customer.
type MailMessage struct {
	ID           int64     `db:"id"`
	OnboardingID string    `db:"onboarding_id"`
	Message      string    `db:"message"` // domain.MailLink, MailReminder, MailEscalated, MailConnected
	Seq          int       `db:"seq"`
	To           string    `db:"recipient"`
	Lang         string    `db:"lang"`
	Subject      string    `db:"subject"`
	Text         string    `db:"body_text"`
	HTML         string    `db:"body_html"`
	Status       string    `db:"status"`
	Attempts     int       `db:"attempts"`
	Error        string    `db:"error"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const mailColumns = `id, onboarding_id, message, seq, recipient, lang, subject, body_text, body_html, status,
	attempts, coalesce(error, '') AS error, created_at, updated_at`

// mailEmail is the SQL of an onboarding o's address: the one stored for it
// (the API, staff), else its latest campaign row's.
const mailEmail = `coalesce(mc.email, (SELECT i.email FROM campaign_items i
	WHERE i.onboarding_id = o.id AND i.email IS NOT NULL ORDER BY i.id DESC LIMIT 1))`

// MailCandidate is an onboarding that may be owed a message, with what the
// message needs.
type MailCandidate struct {
	OnboardingID string    `db:"id"`
	Ref          string    `db:"ref"`
	Product      string    `db:"product"`
	OrgNo        string    `db:"org_no"`
	OrgName      string    `db:"org_name"`
	Lang         string    `db:"lang"`
	ConfirmURL   string    `db:"confirm_url"`
	Escalated    bool      `db:"escalated"`
	StatusAt     time.Time `db:"status_at"`
	Email        string    `db:"email"`
	// LastReminder is the highest reminder seq queued so far (0: none).
	LastReminder int `db:"last_reminder"`
}

// MailCandidates lists up to limit onboardings owed message (a domain.Mail*
// message) that they have not been queued yet: with an address and not
// opted out; the link (or, when escalated already, the escalated message
// instead), escalated and reminders while pending with a link, the receipt
// once connected after a link went (sent, or kept in the outbox: a refused
// address gets nothing more). For reminders, every pending onboarding whose
// link went is listed, with its last
// reminder: the caller decides by age which one is due.
func MailCandidates(ctx context.Context, q Querier, message string, limit int) ([]MailCandidate, error) {
	var where string
	switch message {
	case domain.MailLink:
		// An onboarding escalated already gets the escalated message
		// (with the link) instead.
		where = `o.status = 'pending' AND NOT o.escalated AND o.confirm_url IS NOT NULL AND NOT EXISTS
			(SELECT 1 FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message = 'link')`
	case domain.MailEscalated:
		where = `o.status = 'pending' AND o.escalated AND o.confirm_url IS NOT NULL AND NOT EXISTS
			(SELECT 1 FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message = 'escalated')`
	case domain.MailReminder:
		where = `o.status = 'pending' AND o.confirm_url IS NOT NULL AND EXISTS
			(SELECT 1 FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message IN ('link', 'escalated') AND m.status IN ('sent', 'outbox'))`
	case domain.MailConnected:
		where = `o.status = 'connected' AND EXISTS
			(SELECT 1 FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message IN ('link', 'escalated') AND m.status IN ('sent', 'outbox'))
			AND NOT EXISTS (SELECT 1 FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message = 'connected')`
	default:
		return nil, fmt.Errorf("db: mail candidates: unknown message %q", message)
	}
	rows, err := q.Query(ctx, `SELECT * FROM (
		SELECT o.id, o.ref, o.product, o.org_no, coalesce(o.org_name, '') AS org_name, o.lang,
			coalesce(o.confirm_url, '') AS confirm_url, o.escalated, o.status_at,
			coalesce(`+mailEmail+`, '') AS email,
			coalesce((SELECT max(m.seq) FROM mail_messages m WHERE m.onboarding_id = o.id AND m.message = 'reminder'), 0) AS last_reminder
		FROM onboardings o LEFT JOIN mail_contacts mc ON mc.onboarding_id = o.id
		WHERE `+where+` AND mc.opted_out_at IS NULL) c
		WHERE c.email <> '' ORDER BY c.status_at, c.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("db: mail candidates: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[MailCandidate])
	if err != nil {
		return nil, fmt.Errorf("db: mail candidates: %w", err)
	}
	return out, nil
}

// QueueMail stores m as queued, unless the onboarding has that message (and
// seq) already; it returns the new id, or 0 when it existed.
func QueueMail(ctx context.Context, q Querier, m MailMessage, at time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO mail_messages (onboarding_id, message, seq, recipient, lang, subject,
			body_text, body_html, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (onboarding_id, message, seq) DO NOTHING RETURNING id`,
		m.OnboardingID, m.Message, m.Seq, m.To, m.Lang, m.Subject, m.Text, m.HTML, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: queue mail: %w", err)
	}
	return id, nil
}

// MailMessageByID returns one message, or ErrNotFound.
func (d *DB) MailMessageByID(ctx context.Context, id int64) (*MailMessage, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+mailColumns+` FROM mail_messages WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("db: mail message: %w", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[MailMessage])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: mail message: %w", err)
	}
	return m, nil
}

// MailMessages lists the latest messages, newest first (the outbox page).
func (d *DB) MailMessages(ctx context.Context, limit int) ([]MailMessage, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+mailColumns+` FROM mail_messages
		ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("db: mail messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[MailMessage])
	if err != nil {
		return nil, fmt.Errorf("db: mail messages: %w", err)
	}
	return out, nil
}

// RecordMailOutcome stores a try's outcome of message id (status: a final
// one, or domain.MailFailed to try again; errText "" when sent) and its
// timeline event, in one transaction. A message no longer waiting is left
// alone: it returns false.
func (d *DB) RecordMailOutcome(ctx context.Context, id int64, status, errText string, at time.Time, ev domain.Event) (bool, error) {
	var done bool
	err := d.InTx(ctx, func(q Querier) error {
		var onboardingID string
		err := q.QueryRow(ctx, `UPDATE mail_messages SET status = $2, error = NULLIF($3, ''),
				attempts = attempts + CASE WHEN $2 = 'skipped' THEN 0 ELSE 1 END, updated_at = $4
			WHERE id = $1 AND status IN ('queued', 'failed') RETURNING onboarding_id`, id, status, errText, at).Scan(&onboardingID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		if ev.Kind == "" {
			return nil
		}
		ev.OnboardingID = onboardingID
		return addEvent(ctx, q, ev)
	})
	if err != nil {
		return false, fmt.Errorf("db: mail outcome: %w", err)
	}
	return done, nil
}

// RefusedMailEntry is one message the receiving server refused for good (or
// that was given up), for the Problems page.
type RefusedMailEntry struct {
	OnboardingID string    `db:"onboarding_id"`
	Ref          string    `db:"ref"`
	OrgNo        string    `db:"org_no"`
	OrgName      string    `db:"org_name"`
	To           string    `db:"recipient"`
	Message      string    `db:"message"` // domain.MailLink, MailReminder, MailEscalated, MailConnected
	Error        string    `db:"error"`
	At           time.Time `db:"at"`
}

// RefusedMail lists the latest refused messages, newest first, with their
// onboarding (id, ref, organisation), recipient and the server's error.
func (d *DB) RefusedMail(ctx context.Context, limit int) ([]RefusedMailEntry, error) {
	rows, err := d.Pool.Query(ctx, `SELECT m.onboarding_id, o.ref, o.org_no, coalesce(o.org_name, '') AS org_name,
			m.recipient, m.message, coalesce(m.error, '') AS error, m.updated_at AS at
		FROM mail_messages m JOIN onboardings o ON o.id = m.onboarding_id
		WHERE m.status = 'refused' ORDER BY m.updated_at DESC, m.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("db: refused mail: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[RefusedMailEntry])
	if err != nil {
		return nil, fmt.Errorf("db: refused mail: %w", err)
	}
	return out, nil
}

// MailPaused reports whether staff have paused all mail, and who did it
// when.
func (d *DB) MailPaused(ctx context.Context) (paused bool, by string, at *time.Time, err error) {
	err = d.Pool.QueryRow(ctx, `SELECT paused, coalesce(changed_by, ''), changed_at FROM mail_settings WHERE id`).
		Scan(&paused, &by, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", nil, nil
	}
	if err != nil {
		return false, "", nil, fmt.Errorf("db: mail paused: %w", err)
	}
	return paused, by, at, nil
}

// SetMailPaused pauses (or resumes) all mail, recording who did it and an
// audit entry.
func (d *DB) SetMailPaused(ctx context.Context, paused bool, by AuditEntry) error {
	err := d.InTx(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `INSERT INTO mail_settings (id, paused, changed_by, changed_at) VALUES (true, $1, $2, now())
			ON CONFLICT (id) DO UPDATE SET paused = $1, changed_by = $2, changed_at = now()`, paused, by.Actor); err != nil {
			return err
		}
		return AddAudit(ctx, q, by)
	})
	if err != nil {
		return fmt.Errorf("db: set mail paused: %w", err)
	}
	return nil
}

// SetMailContact stores the address mail to an onboarding goes to (the API,
// staff), in q: the transaction that made the onboarding, or on its own.
func SetMailContact(ctx context.Context, q Querier, onboardingID, email string) error {
	_, err := q.Exec(ctx, `INSERT INTO mail_contacts (onboarding_id, email) VALUES ($1, $2)
		ON CONFLICT (onboarding_id) DO UPDATE SET email = $2, updated_at = now()`, onboardingID, email)
	if err != nil {
		return fmt.Errorf("db: mail contact: %w", err)
	}
	return nil
}

// SetMailContact is SetMailContact on the pool.
func (d *DB) SetMailContact(ctx context.Context, onboardingID, email string) error {
	return SetMailContact(ctx, d.Pool, onboardingID, email)
}

// OptOutMail stops further mail to an onboarding's customer and records ev
// on its timeline, the first time; it returns whether this was the first.
func (d *DB) OptOutMail(ctx context.Context, onboardingID string, at time.Time, ev domain.Event) (bool, error) {
	var first bool
	err := d.InTx(ctx, func(q Querier) error {
		tag, err := q.Exec(ctx, `INSERT INTO mail_contacts (onboarding_id, opted_out_at, updated_at) VALUES ($1, $2, $2)
			ON CONFLICT (onboarding_id) DO UPDATE SET opted_out_at = $2, updated_at = $2
			WHERE mail_contacts.opted_out_at IS NULL`, onboardingID, at)
		if err != nil {
			return err
		}
		if first = tag.RowsAffected() == 1; !first {
			return nil
		}
		ev.OnboardingID = onboardingID
		return addEvent(ctx, q, ev)
	})
	if err != nil {
		return false, fmt.Errorf("db: mail opt-out: %w", err)
	}
	return first, nil
}

// MailOptedOut reports whether an onboarding's customer opted out.
func (d *DB) MailOptedOut(ctx context.Context, onboardingID string) (bool, error) {
	var out bool
	err := d.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_contacts
		WHERE onboarding_id = $1 AND opted_out_at IS NOT NULL)`, onboardingID).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("db: mail opted out: %w", err)
	}
	return out, nil
}

// MailStillDue reports whether message (a domain.Mail* message) is still
// worth sending to an onboarding: the link, the escalated message and the
// reminders only while it is pending, the receipt while it is connected. A
// message that waited (a pause, retries) past its moment is skipped.
func (d *DB) MailStillDue(ctx context.Context, onboardingID, message string) (bool, error) {
	var status string
	err := d.Pool.QueryRow(ctx, `SELECT status FROM onboardings WHERE id = $1`, onboardingID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("db: mail still due: %w", err)
	}
	if message == domain.MailConnected {
		return status == string(domain.StatusConnected), nil
	}
	return status == string(domain.StatusPending), nil
}
