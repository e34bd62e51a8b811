package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// RequestTimeout bounds one POST to an endpoint.
const RequestTimeout = 10 * time.Second

// Default backoff: 30 s after the first failure, doubling up to an hour.
const (
	DefaultRetryBase = 30 * time.Second
	DefaultRetryMax  = time.Hour
)

// NewHTTPClient is the client deliveries are POSTed with: RequestTimeout
// per request, and redirects are not followed (a 3xx is a failed attempt:
// the event goes to the configured URL or nowhere).
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Store is the part of the database the Worker reads and writes.
type Store interface {
	WebhookDelivery(ctx context.Context, id int64) (*db.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, a db.WebhookAttempt, status string, next *time.Time, retrySince time.Time) (string, error)
}

// Observer is told about every attempt and every delivery given up (metrics).
type Observer interface {
	WebhookAttempt(took time.Duration, err error)
	WebhookFailed()
}

// Worker makes one attempt at one delivery per job run: it POSTs the event
// with its signature, records the attempt, and marks the delivery delivered
// on a 2xx. On any other outcome it returns an error, so River runs the job
// again after NextRetry, until MaxAge has passed since the delivery's
// RetrySince (the event, or the last redelivery); the first failure after
// that marks the delivery failed and ends the job.
type Worker struct {
	river.WorkerDefaults[Args]

	Store  Store
	HTTP   *http.Client // NewHTTPClient
	Secret []byte       // signs every POST; without one nothing is sent
	MaxAge time.Duration
	// RetryBase and RetryMax shape the backoff: RetryBase·2^(n-1) after the
	// nth failure, at most RetryMax (DefaultRetryBase, DefaultRetryMax when
	// zero). Tests shorten them.
	RetryBase, RetryMax time.Duration
	Observer            Observer // optional
	// URLs are the endpoints configured now; a delivery to any other (one
	// removed since, say because it was compromised) is not sent but ends
	// failed. Nil sends to every stored URL.
	URLs []string
	Log  *slog.Logger
	Now  func() time.Time
}

// Timeout is the job's timeout: one request and its record.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return RequestTimeout + 20*time.Second }

// NextRetry is when a failed attempt is tried again: exponential backoff
// from the attempt that just failed.
func (w *Worker) NextRetry(job *river.Job[Args]) time.Time {
	return w.now().Add(w.Backoff(job.Attempt))
}

// Backoff is the wait after the nth failed attempt (n from 1).
func (w *Worker) Backoff(n int) time.Duration {
	base, most := w.RetryBase, w.RetryMax
	if base <= 0 {
		base = DefaultRetryBase
	}
	if most <= 0 {
		most = DefaultRetryMax
	}
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// errNoSecret is the attempt's error when no secret is configured (the URLs
// were removed, and the secret with them, while deliveries were pending).
var errNoSecret = errors.New("not sent: ONBOARD_WEBHOOK_SECRET is not set")

// errEndpointGone is the attempt's error when the delivery's URL is no
// longer configured: it is never sent there again.
var errEndpointGone = errors.New("not sent: the endpoint is no longer in ONBOARD_WEBHOOK_URLS")

// Work makes the attempt. A delivery that is gone or no longer pending (a
// duplicate job, or delivered meanwhile) is left alone.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	d, err := w.Store.WebhookDelivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, db.ErrNotFound) {
		return nil // its onboarding was deleted
	}
	if err != nil {
		return fmt.Errorf("webhooks: delivery %d: %w", job.Args.DeliveryID, err)
	}
	if d.Status != db.WebhookPending {
		return nil
	}

	at := w.now()
	start := time.Now()
	code, sendErr := w.send(ctx, d, at)
	took := time.Since(start)
	a := db.WebhookAttempt{DeliveryID: d.ID, At: at, URL: d.URL, StatusCode: code,
		LatencyMS: int(took.Milliseconds()), JobID: job.ID}
	status, next := db.WebhookDelivered, (*time.Time)(nil)
	if sendErr != nil {
		a.Error = errorText(sendErr)
		if w.now().Sub(d.RetrySince) >= w.MaxAge || job.Attempt >= job.MaxAttempts || errors.Is(sendErr, errEndpointGone) {
			status = db.WebhookFailed
		} else {
			status = db.WebhookPending
			t := w.NextRetry(job)
			next = &t
		}
	}
	// Recorded even when the job's context has ended (a shutdown): the POST
	// happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stored, err := w.Store.RecordWebhookAttempt(rctx, a, status, next, d.RetrySince)
	if err != nil {
		// Not recorded, so tried again: the receiver may see the event
		// twice, which its Onboard-Event-Id check absorbs.
		return fmt.Errorf("webhooks: delivery %d: %w", d.ID, err)
	}
	if stored != status {
		// Staff redelivered it while this attempt ran, and the attempt
		// failed: the delivery stays pending with its fresh maximum age, and
		// this job tries again soon (a snooze spends no attempt).
		if w.Observer != nil {
			w.Observer.WebhookAttempt(took, sendErr)
		}
		return river.JobSnooze(w.Backoff(1))
	}
	if w.Observer != nil {
		w.Observer.WebhookAttempt(took, sendErr)
	}
	switch status {
	case db.WebhookFailed:
		if w.Observer != nil {
			w.Observer.WebhookFailed()
		}
		w.log().WarnContext(ctx, "webhook delivery failed for good", "delivery", d.ID, "event", d.EventID,
			"attempts", d.Attempts+1, "since", d.RetrySince, "err", a.Error)
		return river.JobCancel(fmt.Errorf("webhooks: delivery %d given up after %d attempts: %s", d.ID, d.Attempts+1, a.Error))
	case db.WebhookPending:
		return fmt.Errorf("webhooks: delivery %d: %s", d.ID, a.Error)
	}
	return nil
}

// send POSTs the event once and returns the HTTP status (0 for no answer);
// the error is nil only for a 2xx.
func (w *Worker) send(ctx context.Context, d *db.WebhookDelivery, at time.Time) (int, error) {
	if len(w.Secret) == 0 {
		return 0, errNoSecret
	}
	if w.URLs != nil && !slices.Contains(w.URLs, d.URL) {
		return 0, errEndpointGone
	}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("not sent: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "onboard-webhooks/1")
	req.Header.Set(HeaderEventID, d.EventID)
	req.Header.Set(HeaderEventType, d.EventType)
	req.Header.Set(HeaderSignature, Sign(w.Secret, at, body))
	client := w.HTTP
	if client == nil {
		client = NewHTTPClient()
	}
	res, err := client.Do(req)
	if err != nil {
		// The URL is kept on the attempt; its error alone says what happened
		// (and carries no credential from the URL).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, err
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, nil
	}
	msg := "HTTP " + strconv.Itoa(res.StatusCode)
	if s := domain.OneLine(string(snippet)); s != "" {
		msg += ": " + s
	}
	return res.StatusCode, errors.New(msg)
}

// errorText is an attempt's error as stored and shown to staff.
func errorText(err error) string { return domain.OneLine(err.Error()) }

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
