package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

var secret = []byte("whsec-0123456789abcdef0123456789abcdef")

func TestSignMatchesAnIndependentHMAC(t *testing.T) {
	t.Parallel()
	// printf '%s' '1700000000.{"id":"3f2c","type":"onboarding.status_changed"}' |
	//   openssl dgst -sha256 -hmac 'whsec-0123456789abcdef0123456789abcdef'
	const want = "t=1700000000,v1=89bd54b69aa5ec534445ea964b13b4bbf59772a3ad01df33ae4736fd17d8c0c6"
	got := webhooks.Sign(secret, time.Unix(1700000000, 0), []byte(`{"id":"3f2c","type":"onboarding.status_changed"}`))
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base, max time.Duration
		n         int
		want      time.Duration
	}{
		{"first failure", 0, 0, 1, 30 * time.Second},
		{"second", 0, 0, 2, time.Minute},
		{"seventh", 0, 0, 7, 32 * time.Minute},
		{"capped at an hour", 0, 0, 8, time.Hour},
		{"stays capped", 0, 0, 500, time.Hour},
		{"short for tests", 10 * time.Millisecond, 40 * time.Millisecond, 4, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		w := &webhooks.Worker{RetryBase: tt.base, RetryMax: tt.max}
		if got := w.Backoff(tt.n); got != tt.want {
			t.Errorf("%s: Backoff(%d) = %v, want %v", tt.name, tt.n, got, tt.want)
		}
	}
	// Retried for at least a day (the README promises 48h by default):
	// the waits add up past it within River's attempt cap.
	w := &webhooks.Worker{}
	var total time.Duration
	n := 0
	for total < 48*time.Hour {
		n++
		total += w.Backoff(n)
	}
	if n > 100 {
		t.Fatalf("%d attempts to cover 48 h", n)
	}
}

// fakeJobs records what the Outbox enqueues.
type fakeJobs struct {
	mu     sync.Mutex
	params []river.InsertManyParams
	err    error
}

func (f *fakeJobs) InsertManyTx(_ context.Context, _ pgx.Tx, ps []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.params = append(f.params, ps...)
	return nil, nil
}

func (f *fakeJobs) InsertTx(context.Context, pgx.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{}}, nil
}

func (f *fakeJobs) JobCancelTx(context.Context, pgx.Tx, int64) (*rivertype.JobRow, error) {
	return nil, errors.New("not used")
}

func (f *fakeJobs) JobGet(context.Context, int64) (*rivertype.JobRow, error) {
	return nil, errors.New("not used")
}

func (f *fakeJobs) JobRetry(context.Context, int64) (*rivertype.JobRow, error) {
	return nil, errors.New("not used")
}

func (f *fakeJobs) deliveryIDs() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, p := range f.params {
		ids = append(ids, p.Args.(webhooks.Args).DeliveryID)
	}
	return ids
}

// withOutbox writes changes as the onboarding service does: each change
// with, beside it in its transaction, what the outbox stores for it.
type withOutbox struct {
	d   *db.DB
	box *webhooks.Outbox
}

func (w withOutbox) create(ctx context.Context, n db.NewOnboarding) (*domain.Onboarding, error) {
	var o *domain.Onboarding
	err := w.d.Tx(ctx, func(tx pgx.Tx) (err error) {
		if o, err = db.CreateOnboardingTx(ctx, tx, n); err != nil {
			return err
		}
		return w.box.AddStatusEvent(ctx, tx, o, "")
	})
	return o, err
}

func (w withOutbox) save(ctx context.Context, o *domain.Onboarding, prev domain.Status, cause domain.Cause) error {
	updatedAt, version, statusAt := o.UpdatedAt, o.Version, o.StatusAt
	err := w.d.Tx(ctx, func(tx pgx.Tx) error {
		before, err := db.SaveOnboardingTx(ctx, tx, o, prev, cause, "")
		if err != nil {
			return err
		}
		if o.Status != prev {
			if err := w.box.AddStatusEvent(ctx, tx, o, prev); err != nil {
				return err
			}
		}
		if domain.UsabilityChanged(before, o.Usable) {
			return w.box.AddUsabilityEvent(ctx, tx, o, before)
		}
		return nil
	})
	if err != nil {
		o.UpdatedAt, o.Version, o.StatusAt = updatedAt, version, statusAt
	}
	return err
}

func newOnboarding(ref, org string) db.NewOnboarding {
	return db.NewOnboarding{Ref: ref, Product: "standard", Kind: "standard", SystemID: "991825827_smartcloud",
		OrgNo: org, ExternalRef: org, CustomerRef: "cust-7", Lang: "nb", Cause: domain.CauseCustomer}
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxStoresTheEventWithTheChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	jobs := &fakeJobs{}
	urls := []string{"https://a.example/hooks", "https://b.example/hooks"}
	w := withOutbox{d, &webhooks.Outbox{URLs: urls, Jobs: jobs, DB: d}}

	o, err := w.create(ctx, newOnboarding("ref-wh-aaaaaaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	ids := jobs.deliveryIDs()
	if len(ids) != 2 {
		t.Fatalf("jobs for the new onboarding: %v, want one per URL", ids)
	}
	for i, id := range ids {
		dl, err := d.WebhookDelivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if dl.URL != urls[i] || dl.Status != db.WebhookPending || dl.OnboardingID != o.ID || dl.Attempts != 0 {
			t.Errorf("delivery %d: %+v", id, dl)
		}
		var ev map[string]any
		if err := json.Unmarshal(dl.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		data := ev["data"].(map[string]any)
		if ev["id"] != dl.EventID || ev["type"] != "onboarding.status_changed" || data["status"] != "requesting" ||
			data["previous_status"] != nil || data["customer_ref"] != "cust-7" || data["system_user_id"] != nil ||
			data["id"] != o.ID || data["org_no"] != "314248295" {
			t.Errorf("payload: %s", dl.Payload)
		}
		if created, err := time.Parse(time.RFC3339Nano, ev["created"].(string)); err != nil || !created.Equal(dl.EventCreatedAt) {
			t.Errorf("created %v (%v), want the event's time %v", ev["created"], err, dl.EventCreatedAt)
		}
	}

	// A save that moves the status: one more event; one that does not: none.
	prev := o.Status
	o.Status = domain.StatusPending
	if err := w.save(ctx, o, prev, domain.CauseCustomer); err != nil {
		t.Fatal(err)
	}
	if err := w.save(ctx, o, o.Status, domain.CauseCustomer); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, "webhook_events"); n != 2 {
		t.Fatalf("%d events after one change and one save without, want 2", n)
	}
	last, err := d.WebhookDelivery(ctx, jobs.deliveryIDs()[3])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(last.Payload), `"previous_status": "requesting"`) || !strings.Contains(string(last.Payload), `"status": "pending"`) {
		t.Fatalf("second event: %s", last.Payload)
	}

	// The enqueue fails: the status change is rolled back with it.
	jobs.err = errors.New("queue down")
	version := o.Version
	o.Status = domain.StatusRejected
	if err := w.save(ctx, o, domain.StatusPending, domain.CauseReconciler); err == nil {
		t.Fatal("a save whose event could not be enqueued succeeded")
	}
	if o.Version != version {
		t.Errorf("o.Version %d after a rolled-back save, want %d as it was read", o.Version, version)
	}
	stored, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != domain.StatusPending || count(t, d, "webhook_events") != 2 {
		t.Fatalf("after the failed enqueue: status %q, %d events; want pending and 2", stored.Status, count(t, d, "webhook_events"))
	}
}

func TestOutboxWithoutURLsStoresNothing(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	jobs := &fakeJobs{}
	w := withOutbox{d, &webhooks.Outbox{Jobs: jobs, DB: d}}
	if _, err := w.create(context.Background(), newOnboarding("ref-wh-bbbbbbbbbbbb", "314248295")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, "webhook_events"); n != 0 || len(jobs.deliveryIDs()) != 0 {
		t.Fatalf("%d events, %d jobs without URLs", n, len(jobs.deliveryIDs()))
	}
}

// receiver is the vendor's endpoint: it answers with the next status of
// answers (the last one repeats) and keeps every request.
type receiver struct {
	mu       sync.Mutex
	answers  []int
	requests []*http.Request
	bodies   [][]byte
	srv      *httptest.Server
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.requests)
		r.requests = append(r.requests, req)
		r.bodies = append(r.bodies, body)
		code := r.answers[min(n, len(r.answers)-1)]
		r.mu.Unlock()
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "answer\n  from the vendor")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// oneDelivery stores an onboarding with one delivery to url and returns its id.
func oneDelivery(t *testing.T, d *db.DB, url string) int64 {
	t.Helper()
	jobs := &fakeJobs{}
	w := withOutbox{d, &webhooks.Outbox{URLs: []string{url}, Jobs: jobs, DB: d}}
	if _, err := w.create(context.Background(), newOnboarding("ref-wh-cccccccccccc", "314248295")); err != nil {
		t.Fatal(err)
	}
	return jobs.deliveryIDs()[0]
}

func job(id int64, attempt int) *river.Job[webhooks.Args] {
	return &river.Job[webhooks.Args]{JobRow: &rivertype.JobRow{ID: 77, Attempt: attempt, MaxAttempts: 20000},
		Args: webhooks.Args{DeliveryID: id}}
}

type observer struct{ attempts, failed int }

func (o *observer) WebhookAttempt(time.Duration, error) { o.attempts++ }
func (o *observer) WebhookFailed()                      { o.failed++ }

func attempts(t *testing.T, d *db.DB, onboardingID string) []db.WebhookAttempt {
	t.Helper()
	ds, err := d.WebhookDeliveries(context.Background(), onboardingID, 100)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	return ds[0].Recent
}

func TestWorkerRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	r := newReceiver(t, 500, 500, 200)
	id := oneDelivery(t, d, r.srv.URL+"/hooks")
	now := time.Now()
	obs := &observer{}
	w := &webhooks.Worker{Store: d, HTTP: webhooks.NewHTTPClient(), Secret: secret, MaxAge: 48 * time.Hour,
		Observer: obs, Now: func() time.Time { return now }}

	for attempt := 1; attempt <= 3; attempt++ {
		err := w.Work(ctx, job(id, attempt))
		dl, derr := d.WebhookDelivery(ctx, id)
		if derr != nil {
			t.Fatal(derr)
		}
		if attempt < 3 {
			if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
				t.Fatalf("attempt %d: err = %v, want the 500 so River retries", attempt, err)
			}
			wantNext := now.Add(w.Backoff(attempt))
			if dl.Status != db.WebhookPending || dl.NextAttemptAt == nil || !dl.NextAttemptAt.Equal(wantNext.Truncate(time.Microsecond)) {
				t.Fatalf("after attempt %d: %s next %v, want pending next %v", attempt, dl.Status, dl.NextAttemptAt, wantNext)
			}
			if got := w.NextRetry(job(id, attempt)); !got.Equal(wantNext) {
				t.Fatalf("NextRetry = %v, want %v", got, wantNext)
			}
			continue
		}
		if err != nil {
			t.Fatalf("attempt 3: %v", err)
		}
		if dl.Status != db.WebhookDelivered || dl.Attempts != 3 || dl.DeliveredAt == nil || dl.NextAttemptAt != nil ||
			dl.LastStatusCode == nil || *dl.LastStatusCode != 200 || dl.LastError != nil {
			t.Fatalf("after the 200: %+v", dl)
		}
	}
	as := attempts(t, d, dl(t, d, id).OnboardingID)
	if len(as) != 3 || as[0].StatusCode != 200 || as[1].StatusCode != 500 || as[2].StatusCode != 500 {
		t.Fatalf("attempts (newest first): %+v", as)
	}
	if as[2].Error != "HTTP 500: answer from the vendor" || as[0].Error != "" || as[0].JobID != 77 {
		t.Fatalf("attempt records: %+v", as)
	}
	if obs.attempts != 3 || obs.failed != 0 {
		t.Fatalf("observer: %+v", obs)
	}

	// Every POST carried the event's id, type and a signature of its body.
	for i, req := range r.requests {
		body := r.bodies[i]
		if req.Method != http.MethodPost || req.URL.Path != "/hooks" || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: %s %s %s", i, req.Method, req.URL.Path, req.Header.Get("Content-Type"))
		}
		if want := webhooks.Sign(secret, now, body); req.Header.Get("Onboard-Signature") != want {
			t.Errorf("request %d: signature %q, want %q", i, req.Header.Get("Onboard-Signature"), want)
		}
		if req.Header.Get("Onboard-Event-Id") != dl(t, d, id).EventID || req.Header.Get("Onboard-Event-Type") != "onboarding.status_changed" {
			t.Errorf("request %d: headers %v", i, req.Header)
		}
		if string(body) != string(r.bodies[0]) {
			t.Errorf("request %d: the body changed between attempts", i)
		}
	}

	// A job run again for a delivered delivery (a duplicate) sends nothing.
	if err := w.Work(ctx, job(id, 4)); err != nil || r.count() != 3 {
		t.Fatalf("a duplicate job: err %v, %d requests, want nil and still 3", err, r.count())
	}
}

func dl(t *testing.T, d *db.DB, id int64) *db.WebhookDelivery {
	t.Helper()
	x, err := d.WebhookDelivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestWorkerGivesUpAfterMaxAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	r := newReceiver(t, 503)
	id := oneDelivery(t, d, r.srv.URL+"/hooks")
	since := dl(t, d, id).RetrySince
	obs := &observer{}
	w := &webhooks.Worker{Store: d, HTTP: webhooks.NewHTTPClient(), Secret: secret, MaxAge: 48 * time.Hour, Observer: obs}

	// Just inside the maximum age: retried.
	w.Now = func() time.Time { return since.Add(48*time.Hour - time.Minute) }
	if err := w.Work(ctx, job(id, 50)); err == nil || dl(t, d, id).Status != db.WebhookPending {
		t.Fatalf("inside the maximum age: err %v, status %s; want pending and an error", err, dl(t, d, id).Status)
	}
	// Past it: failed, and the job ends (cancelled, not retried).
	w.Now = func() time.Time { return since.Add(48*time.Hour + time.Second) }
	err := w.Work(ctx, job(id, 51))
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("past the maximum age: err = %v, want a JobCancel", err)
	}
	got := dl(t, d, id)
	if got.Status != db.WebhookFailed || got.Attempts != 2 || got.NextAttemptAt != nil || *got.LastStatusCode != 503 {
		t.Fatalf("past the maximum age: %+v", got)
	}
	if obs.failed != 1 {
		t.Fatalf("failures counted: %d, want 1", obs.failed)
	}
	// A failed delivery is not tried again by a stray job.
	if err := w.Work(ctx, job(id, 52)); err != nil || r.count() != 2 {
		t.Fatalf("a job for a failed delivery: %v, %d requests", err, r.count())
	}
}

func TestWorkerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    int  // 0: nobody listens
		noSecret  bool //
		wantCode  int
		wantError string
		wantSent  bool
	}{
		{name: "redirect not followed", answer: http.StatusFound, wantCode: 302, wantError: "HTTP 302", wantSent: true},
		{name: "client error", answer: http.StatusUnauthorized, wantCode: 401, wantError: "HTTP 401: answer from the vendor", wantSent: true},
		{name: "nobody listens", answer: 0, wantCode: 0, wantError: "connect"},
		{name: "no secret", answer: 200, noSecret: true, wantCode: 0, wantError: "not sent: ONBOARD_WEBHOOK_SECRET is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.New(t)
			r := newReceiver(t, max(tt.answer, 200))
			url := r.srv.URL + "/hooks?token=hunter2"
			if tt.answer == 0 {
				r.srv.Close()
			}
			id := oneDelivery(t, d, url)
			w := &webhooks.Worker{Store: d, HTTP: webhooks.NewHTTPClient(), Secret: secret, MaxAge: 48 * time.Hour}
			if tt.noSecret {
				w.Secret = nil
			}
			if err := w.Work(ctx, job(id, 1)); err == nil {
				t.Fatal("no error: River would not retry")
			}
			as := attempts(t, d, dl(t, d, id).OnboardingID)
			if len(as) != 1 || as[0].StatusCode != tt.wantCode || !strings.Contains(as[0].Error, tt.wantError) {
				t.Fatalf("attempt: %+v, want code %d and an error with %q", as, tt.wantCode, tt.wantError)
			}
			if strings.Contains(as[0].Error, "hunter2") {
				t.Fatalf("the error shows the URL's token: %q", as[0].Error)
			}
			if sent := tt.answer != 0 && r.count() > 0; sent != tt.wantSent {
				t.Fatalf("sent = %v, want %v", sent, tt.wantSent)
			}
			if r.count() > 1 {
				t.Fatalf("%d requests: a redirect was followed", r.count())
			}
		})
	}
}

func TestWorkerSendsNothingToARemovedEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	r := newReceiver(t, 200)
	id := oneDelivery(t, d, r.srv.URL+"/hooks")
	// The endpoint was taken out of ONBOARD_WEBHOOK_URLS after the event.
	w := &webhooks.Worker{Store: d, HTTP: webhooks.NewHTTPClient(), Secret: secret, MaxAge: 48 * time.Hour,
		URLs: []string{"https://other.example/hooks"}}
	err := w.Work(ctx, job(id, 1))
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("err = %v, want a JobCancel", err)
	}
	if got := dl(t, d, id); got.Status != db.WebhookFailed || r.count() != 0 {
		t.Fatalf("delivery %s with %d requests sent, want failed and none sent", got.Status, r.count())
	}
}

// redeliverDuring is the store, with staff pressing Redeliver just after
// the attempt read its delivery.
type redeliverDuring struct{ *db.DB }

func (s redeliverDuring) WebhookDelivery(ctx context.Context, id int64) (*db.WebhookDelivery, error) {
	d, err := s.DB.WebhookDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	return d, s.DB.InTx(ctx, func(q db.Querier) error {
		_, err := db.ResetWebhookDelivery(ctx, q, d.OnboardingID, id)
		return err
	})
}

// TestWorkerRedeliveredWhileRunning: an attempt that fails past the old
// maximum age while staff redeliver does not undo the redeliver: the
// delivery stays pending and the job snoozes for a first-retry wait instead
// of giving up.
func TestWorkerRedeliveredWhileRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	r := newReceiver(t, 503)
	id := oneDelivery(t, d, r.srv.URL+"/hooks")
	since := dl(t, d, id).RetrySince
	w := &webhooks.Worker{Store: redeliverDuring{d}, HTTP: webhooks.NewHTTPClient(), Secret: secret, MaxAge: 48 * time.Hour,
		RetryBase: 5 * time.Second, Now: func() time.Time { return since.Add(49 * time.Hour) }}
	err := w.Work(ctx, job(id, 60))
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) || snooze.Duration != 5*time.Second {
		t.Fatalf("err = %v, want a snooze of the first retry's wait (5s)", err)
	}
	if got := dl(t, d, id); got.Status != db.WebhookPending || got.Attempts != 1 {
		t.Fatalf("after the attempt: %s with %d attempts, want pending with the attempt recorded", got.Status, got.Attempts)
	}
}
