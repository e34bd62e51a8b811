// Package webhooks tells the vendor's own product about every change of an
// onboarding's status, of its usability and of a change request's status: a
// signed JSON event POSTed to each configured URL.
//
// The onboarding service calls the Outbox inside the transaction of each
// change (AddStatusEvent, AddUsabilityEvent, AddChangeEvent, next to the
// db.Save*Tx that writes the change): it stores the event, one delivery per
// URL and a River job per delivery, so an event exists exactly when its
// change does and is never lost to a crash. The Worker makes one attempt per job
// run, records it, and on failure returns an error so River retries with
// exponential backoff until the maximum age has passed; then the delivery
// is failed. A delivery's job is unique while it waits or runs, so any
// number of instances send each delivery once (a crash between the POST and
// its record may send it again: receivers drop copies by Onboard-Event-Id).
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// TypeStatusChanged is the type of the event sent on every status change.
const TypeStatusChanged = "onboarding.status_changed"

// Event is the JSON body of every POST.
type Event struct {
	ID      string     `json:"id"`      // also in the Onboard-Event-Id header
	Type    string     `json:"type"`    // TypeStatusChanged
	Created time.Time  `json:"created"` // when the status changed, RFC 3339
	Data    Onboarding `json:"data"`
}

// Onboarding is the onboarding as it is after the change. Fields without a
// value are null.
type Onboarding struct {
	ID              string         `json:"id"`
	Ref             string         `json:"ref"`
	Product         string         `json:"product"`
	Kind            domain.Kind    `json:"kind"`
	OrgNo           string         `json:"org_no"`
	ExternalRef     string         `json:"external_ref"`
	CustomerRef     *string        `json:"customer_ref"`
	Status          domain.Status  `json:"status"`
	PreviousStatus  *domain.Status `json:"previous_status"` // null for a new onboarding
	Escalated       bool           `json:"escalated"`
	SystemUserID    *string        `json:"system_user_id"`
	AltinnRequestID *string        `json:"altinn_request_id"`
}

// NewEvent is the status_changed event for o, which moved from prev ("" for
// a new onboarding) to its current status.
func NewEvent(o *domain.Onboarding, prev domain.Status, created time.Time) (Event, error) {
	id, err := newUUID()
	if err != nil {
		return Event{}, err
	}
	d := Onboarding{
		ID: o.ID, Ref: o.Ref, Product: o.Product, Kind: o.Kind, OrgNo: o.OrgNo, ExternalRef: o.ExternalRef,
		CustomerRef: o.CustomerRef, Status: o.Status, Escalated: o.Escalated,
		SystemUserID: o.SystemUserID, AltinnRequestID: o.AltinnRequestID,
	}
	if prev != "" {
		d.PreviousStatus = &prev
	}
	return Event{ID: id, Type: TypeStatusChanged, Created: created.UTC(), Data: d}, nil
}

// TypeChangeStatusChanged is the type of the event sent when a change
// request's status moves.
const TypeChangeStatusChanged = "change_request.status_changed"

// ChangeEvent is the JSON body of a change request's event.
type ChangeEvent struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"` // TypeChangeStatusChanged
	Created time.Time     `json:"created"`
	Data    ChangeRequest `json:"data"`
}

// ChangeRequest is a change request as it is after the change, with the
// onboarding it belongs to.
type ChangeRequest struct {
	ID                     string              `json:"id"` // the correlation id at Altinn
	OnboardingID           string              `json:"onboarding_id"`
	Product                string              `json:"product"`
	OrgNo                  string              `json:"org_no"`
	CustomerRef            *string             `json:"customer_ref"`
	Status                 domain.ChangeStatus `json:"status"`
	PreviousStatus         domain.ChangeStatus `json:"previous_status"`
	RequiredRights         []string            `json:"required_rights"`
	UnwantedRights         []string            `json:"unwanted_rights"`
	RequiredAccessPackages []string            `json:"required_access_packages"`
	UnwantedAccessPackages []string            `json:"unwanted_access_packages"`
	ConfirmURL             *string             `json:"confirm_url"`
}

// AddChangeEvent stores the event of change request c's move from prev and
// enqueues its deliveries, in tx: the transaction of the change.
func (b *Outbox) AddChangeEvent(ctx context.Context, tx pgx.Tx, c *domain.ChangeRequest, prev domain.ChangeStatus) error {
	if len(b.URLs) == 0 {
		return nil
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	d := ChangeRequest{ID: c.ID, OnboardingID: c.OnboardingID, Status: c.Status, PreviousStatus: prev,
		RequiredRights: nonNil(c.RequiredRights), UnwantedRights: nonNil(c.UnwantedRights),
		RequiredAccessPackages: nonNil(c.RequiredPackages), UnwantedAccessPackages: nonNil(c.UnwantedPackages),
		ConfirmURL: c.ConfirmURL}
	if err := tx.QueryRow(ctx, `SELECT product, org_no, customer_ref FROM onboardings WHERE id = $1`, c.OnboardingID).
		Scan(&d.Product, &d.OrgNo, &d.CustomerRef); err != nil {
		return fmt.Errorf("webhooks: change request's onboarding: %w", err)
	}
	created := c.UpdatedAt
	if created.IsZero() {
		created = time.Now()
	}
	ev := ChangeEvent{ID: id, Type: TypeChangeStatusChanged, Created: created.UTC().Truncate(time.Microsecond), Data: d}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhooks: event: %w", err)
	}
	return b.store(ctx, tx, db.WebhookEvent{ID: ev.ID, OnboardingID: c.OnboardingID, Type: ev.Type,
		Payload: payload, CreatedAt: ev.Created})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TypeUsabilityChanged is the type of the event sent when a connected
// onboarding becomes usable or not usable: Maskinporten issued, or refused,
// a system-user token for it.
const TypeUsabilityChanged = "onboarding.usability_changed"

// UsabilityEvent is the JSON body of a usability event.
type UsabilityEvent struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`    // TypeUsabilityChanged
	Created time.Time `json:"created"` // when the usability changed
	Data    Usability `json:"data"`
}

// Usability is the onboarding as it is after the change, with its
// usability. Fields without a value are null.
type Usability struct {
	ID           string        `json:"id"`
	Ref          string        `json:"ref"`
	Product      string        `json:"product"`
	Kind         domain.Kind   `json:"kind"`
	OrgNo        string        `json:"org_no"`
	ExternalRef  string        `json:"external_ref"`
	CustomerRef  *string       `json:"customer_ref"`
	Status       domain.Status `json:"status"`
	SystemUserID *string       `json:"system_user_id"`
	Usable       bool          `json:"usable"`
	// PreviousUsable is null when it had not been checked before.
	PreviousUsable *bool `json:"previous_usable"`
	// Code is Maskinporten's MP-nnn code when not usable, Reason what it
	// means in plain words (English) and Detail Maskinporten's own text.
	Code          *string    `json:"code"`
	Reason        *string    `json:"reason"`
	Detail        *string    `json:"detail"`
	LastSuccessAt *time.Time `json:"last_success_at"`
}

// AddUsabilityEvent stores the event of o's usability moving from prev
// (nil: not checked) to o.Usable and enqueues its deliveries, in tx: the
// transaction of the change.
func (b *Outbox) AddUsabilityEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, prev *bool) error {
	if len(b.URLs) == 0 || o.Usable == nil {
		return nil
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	d := Usability{ID: o.ID, Ref: o.Ref, Product: o.Product, Kind: o.Kind, OrgNo: o.OrgNo, ExternalRef: o.ExternalRef,
		CustomerRef: o.CustomerRef, Status: o.Status, SystemUserID: o.SystemUserID, Usable: *o.Usable,
		PreviousUsable: prev}
	if o.UsableOKAt != nil {
		t := o.UsableOKAt.UTC().Truncate(time.Microsecond)
		d.LastSuccessAt = &t
	}
	if !*o.Usable {
		code := ""
		if o.UsableCode != nil {
			code = *o.UsableCode
		}
		reason := i18n.T("en", onboarding.UsabilityReason(code))
		d.Code, d.Reason, d.Detail = o.UsableCode, &reason, o.UsableMessage
	}
	created := time.Now()
	if o.UsableSince != nil {
		created = *o.UsableSince
	}
	ev := UsabilityEvent{ID: id, Type: TypeUsabilityChanged, Created: created.UTC().Truncate(time.Microsecond), Data: d}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhooks: event: %w", err)
	}
	return b.store(ctx, tx, db.WebhookEvent{ID: ev.ID, OnboardingID: o.ID, Type: ev.Type,
		Payload: payload, CreatedAt: ev.Created})
}

// Queue is the River queue webhook deliveries run in, apart from
// reconciliation, so a slow endpoint never holds up the checks at Altinn.
const Queue = "webhooks"

// maxAttempts is River's cap on a delivery job's attempts. The Worker gives
// up by age long before: attempts are at most an hour apart once backed off.
const maxAttempts = 20000

// liveStates are the states of a delivery job that has not finished: a
// delivery has at most one job among them, whichever instance inserts it.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// Args asks for one attempt at one delivery.
type Args struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind is the job's stable name in river_job.
func (Args) Kind() string { return "webhook_delivery" }

// InsertOpts puts delivery jobs in their queue and makes each unique per
// delivery while it waits or runs.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// Jobs is the part of the River client the Outbox uses.
type Jobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// Transactor runs work in one database transaction.
type Transactor interface {
	Tx(ctx context.Context, fn func(tx pgx.Tx) error) error
}

// Outbox turns changes into stored events and delivery jobs, and sends a
// delivery again when staff ask. Without URLs it stores nothing.
type Outbox struct {
	// URLs are the endpoints every event goes to; none: nothing is stored.
	URLs []string
	Jobs Jobs
	DB   Transactor
}

// Stores reports whether the outbox stores events: only with endpoints.
// The onboarding service writes a change with nothing going out with it
// without a transaction of its own.
func (b *Outbox) Stores() bool { return len(b.URLs) > 0 }

// AddStatusEvent stores the event of o's change from prev ("" for a new
// onboarding) and enqueues one delivery job per URL, all in tx: the
// transaction of the change.
func (b *Outbox) AddStatusEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, prev domain.Status) error {
	if len(b.URLs) == 0 {
		return nil
	}
	created := o.StatusAt
	if created.IsZero() {
		created = time.Now()
	}
	ev, err := NewEvent(o, prev, created.Truncate(time.Microsecond)) // Postgres keeps microseconds
	if err != nil {
		return err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhooks: event: %w", err)
	}
	return b.store(ctx, tx, db.WebhookEvent{ID: ev.ID, OnboardingID: o.ID, Type: ev.Type,
		Payload: payload, CreatedAt: ev.Created})
}

// store writes ev with one delivery per URL and enqueues their jobs, in tx.
func (b *Outbox) store(ctx context.Context, tx pgx.Tx, ev db.WebhookEvent) error {
	ids, err := db.AddWebhookEvent(ctx, tx, ev, b.URLs)
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: Args{DeliveryID: id}}
	}
	if _, err := b.Jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("webhooks: enqueue: %w", err)
	}
	return nil
}

// ErrEndpointGone is returned by Redeliver for a delivery to a URL that is
// no longer configured: the vendor took it away, so nothing is sent there.
var ErrEndpointGone = errors.New("webhooks: the delivery's URL is no longer configured")

// Redeliver makes an onboarding's delivery pending again, with a fresh
// maximum age and backoff, enqueues its job now and records the staff
// action (by: who, from where, what) in the audit log and on the
// onboarding's timeline, all in one transaction. It returns the delivery as
// it was before. It returns db.ErrNotFound when the onboarding has no such
// delivery and ErrEndpointGone when its URL is no longer configured; then
// nothing is written.
func (b *Outbox) Redeliver(ctx context.Context, onboardingID string, deliveryID int64, by db.AuditEntry) (*db.WebhookDelivery, error) {
	var before *db.WebhookDelivery
	var running int64
	err := b.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if before, err = db.ResetWebhookDelivery(ctx, tx, onboardingID, deliveryID); err != nil {
			return err
		}
		if !slices.Contains(b.URLs, before.URL) {
			return ErrEndpointGone
		}
		if running, err = b.enqueueNow(ctx, tx, deliveryID); err != nil {
			return err
		}
		url := config.RedactURL(before.URL)
		by.OnboardingID = &onboardingID
		by.Detail = map[string]any{"delivery_id": before.ID, "event_id": before.EventID, "url": url,
			"from": before.Status, "attempts": before.Attempts}
		return db.AddStaffAction(ctx, tx, by, domain.Event{Message: by.Action + " by staff: event " + before.EventID + " to " + url})
	})
	if err != nil {
		return nil, err
	}
	if running != 0 {
		// The job is River's "running" still: either its attempt is under
		// way (it sees the reset when it records the attempt, and snoozes
		// briefly) or its attempt is recorded and River has not yet stored
		// the retry an hour on. Either way it is brought forward once River
		// lets go of it, without keeping the staff member's page waiting.
		go b.retryWhenDone(context.WithoutCancel(ctx), running)
	}
	return before, nil
}

// enqueueNow inserts the delivery's job. A job still waiting (a retry
// scheduled for later) is cancelled and replaced, so the delivery is tried
// now and its backoff starts again. A job running now cannot be replaced:
// its id is returned, for retryWhenDone.
func (b *Outbox) enqueueNow(ctx context.Context, tx pgx.Tx, deliveryID int64) (running int64, err error) {
	res, err := b.Jobs.InsertTx(ctx, tx, Args{DeliveryID: deliveryID}, nil)
	if err != nil {
		return 0, fmt.Errorf("webhooks: enqueue: %w", err)
	}
	if !res.UniqueSkippedAsDuplicate {
		return 0, nil
	}
	if res.Job.State == rivertype.JobStateRunning {
		return res.Job.ID, nil
	}
	if _, err := b.Jobs.JobCancelTx(ctx, tx, res.Job.ID); err != nil {
		return 0, fmt.Errorf("webhooks: replace job %d: %w", res.Job.ID, err)
	}
	res, err = b.Jobs.InsertTx(ctx, tx, Args{DeliveryID: deliveryID}, nil)
	if err != nil {
		return 0, fmt.Errorf("webhooks: enqueue: %w", err)
	}
	if res.UniqueSkippedAsDuplicate {
		return 0, fmt.Errorf("webhooks: job %d for delivery %d could not be replaced", res.Job.ID, deliveryID)
	}
	return 0, nil
}

// retryWhenDone waits until River has finished the running job id (its
// worker has returned and the outcome is stored), then makes it available
// now, whatever it ended as. It gives up after the longest an attempt can
// take, and more.
func (b *Outbox) retryWhenDone(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout+time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		job, err := b.Jobs.JobGet(ctx, id)
		if err != nil {
			return
		}
		if job.State != rivertype.JobStateRunning {
			// Waiting for a retry or a snooze, or finished (given up,
			// cancelled, or completed by an attempt made before the reset):
			// made available now. The worker sends only while the delivery
			// is pending, so a job whose attempt was the redelivery does
			// nothing more.
			_, _ = b.Jobs.JobRetry(ctx, id)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// newUUID returns a random (version 4) UUID in lower-case hyphenated form.
func newUUID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("webhooks: event id: %w", err)
	}
	return id.String(), nil
}
