package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Queue is the River queue messages are sent in, apart from reconciliation.
const Queue = "mail"

// MaxAttempts is how often a message is tried before it is given up (and
// marked refused): with the default back-off about two days.
const MaxAttempts = 12

// Default back-off: a minute after the first failure, doubling up to six
// hours.
const (
	DefaultRetryBase = time.Minute
	DefaultRetryMax  = 6 * time.Hour
)

// OpStop is the Operation of the EventMail recorded when the customer
// opts out (no ToStatus).
const OpStop = "stop"

var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// SendArgs sends one stored message.
type SendArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind is the job's stable name in river_job.
func (SendArgs) Kind() string { return "mail_send" }

// InsertOpts puts send jobs in their queue, one per message while it waits
// or runs.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// Sender hands a message to a mail server (SMTP).
type Sender interface {
	Send(ctx context.Context, e Envelope) error
}

// Store is the part of the database the SendWorker uses.
type Store interface {
	MailMessageByID(ctx context.Context, id int64) (*db.MailMessage, error)
	RecordMailOutcome(ctx context.Context, id int64, status, errText string, at time.Time, ev domain.Event) (bool, error)
	MailPaused(ctx context.Context) (bool, string, *time.Time, error)
	MailOptedOut(ctx context.Context, onboardingID string) (bool, error)
	MailStillDue(ctx context.Context, onboardingID, message string) (bool, error)
}

// SendWorker sends one message per job: through Sender, or without one
// into the outbox (dev). While staff have paused mail it waits (the job
// snoozes), and goes when mail is resumed.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]

	Store  Store
	Sender Sender // nil: the built-in outbox
	From   string
	// RetryBase and RetryMax shape the back-off (DefaultRetryBase,
	// DefaultRetryMax when zero); PauseWait is how often a paused message
	// looks again (30s when zero). Tests shorten them.
	RetryBase, RetryMax, PauseWait time.Duration
	Now                            func() time.Time
	Log                            *slog.Logger
}

// Timeout is the job's timeout: one exchange with the server and its record.
func (w *SendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return SendTimeout + 20*time.Second }

// NextRetry is exponential back-off from the attempt that just failed.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	base, most := w.RetryBase, w.RetryMax
	if base <= 0 {
		base = DefaultRetryBase
	}
	if most <= 0 {
		most = DefaultRetryMax
	}
	d := base
	for i := 1; i < job.Attempt && d < most; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, most))
}

// Work sends the message once. A message no longer waiting (sent already,
// a duplicate job) is left alone.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	m, err := w.Store.MailMessageByID(ctx, job.Args.MessageID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mail: message %d: %w", job.Args.MessageID, err)
	}
	if m.Status != db.MailQueued && m.Status != domain.MailFailed {
		return nil
	}
	paused, _, _, err := w.Store.MailPaused(ctx)
	if err != nil {
		return fmt.Errorf("mail: message %d: %w", m.ID, err)
	}
	if paused {
		wait := w.PauseWait
		if wait <= 0 {
			wait = 30 * time.Second
		}
		return river.JobSnooze(wait)
	}
	out, err := w.Store.MailOptedOut(ctx, m.OnboardingID)
	if err != nil {
		return fmt.Errorf("mail: message %d: %w", m.ID, err)
	}
	due := false
	if !out {
		if due, err = w.Store.MailStillDue(ctx, m.OnboardingID, m.Message); err != nil {
			return fmt.Errorf("mail: message %d: %w", m.ID, err)
		}
	}
	if out || !due {
		// Opted out, or the moment has passed (a reminder to a customer
		// who connected while it waited): not sent.
		_, err := w.Store.RecordMailOutcome(ctx, m.ID, db.MailSkipped, "", w.now(), domain.Event{})
		return err
	}
	ev := domain.Event{Kind: domain.EventMail, Cause: domain.CauseSystem, Operation: m.Message}
	if w.Sender == nil {
		ev.ToStatus = domain.MailOutbox
		_, err := w.Store.RecordMailOutcome(ctx, m.ID, domain.MailOutbox, "", w.now(), ev)
		return err
	}
	sendErr := w.Sender.Send(ctx, Envelope{From: w.From, To: m.To, Lang: m.Lang,
		Rendered:  Rendered{Subject: m.Subject, Text: m.Text, HTML: m.HTML},
		MessageID: fmt.Sprintf("onboard-mail-%d", m.ID)})
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	status := domain.MailSent
	var text string
	switch {
	case sendErr == nil:
	case errors.Is(sendErr, ErrPermanent):
		status, text = domain.MailRefused, strings.TrimPrefix(errorText(sendErr), ErrPermanent.Error()+": ")
	case job.Attempt >= job.MaxAttempts:
		status, text = domain.MailRefused, errorText(fmt.Errorf("given up after %d tries: %w", job.Attempt, sendErr))
	default:
		status, text = domain.MailFailed, errorText(sendErr)
	}
	ev.ToStatus, ev.Message = status, text
	if _, err := w.Store.RecordMailOutcome(rctx, m.ID, status, text, w.now(), ev); err != nil {
		// Not recorded: tried again, which may send it twice (the
		// Message-ID stays the same).
		return fmt.Errorf("mail: message %d: %w", m.ID, err)
	}
	switch status {
	case domain.MailRefused:
		w.log().WarnContext(ctx, "mail refused", "message", m.ID, "onboarding", m.OnboardingID, "err", text)
		return river.JobCancel(fmt.Errorf("mail: message %d refused: %s", m.ID, text))
	case domain.MailFailed:
		return fmt.Errorf("mail: message %d: %s", m.ID, text)
	}
	return nil
}

// errorText is an error as stored and shown (domain.OneLine).
func errorText(err error) string { return domain.OneLine(err.Error()) }

func (w *SendWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *SendWorker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
