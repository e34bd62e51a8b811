package mail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// SweepArgs starts one look for messages that are due. The leader inserts
// one every interval (a River periodic job).
type SweepArgs struct{}

// Kind is the job's stable name in river_job.
func (SweepArgs) Kind() string { return "mail_sweep" }

// InsertOpts puts sweeps in the mail queue, which only instances that send
// mail work: one without mail (during a rollout that turns it on) never
// fetches a sweep it has no worker for ("Unhandled job kind").
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// ExpirySeq is the seq of the reminder before Altinn's request expires.
const ExpirySeq = 1000

// SweepWorker queues what each onboarding is owed: the link, the escalated
// message, the reminder whose age it has crossed, the receipt. Each message
// is rendered and stored with its send job in one transaction; one stored
// already (another instance's sweep) is skipped, so each goes once.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]

	DB       *db.DB
	Products []config.Product
	Vendor   string
	Support  string // the support contact in words
	// PublicURL and Key make each message's opt-out link.
	PublicURL string
	Key       []byte
	// ReminderAges are the ages in pending (from when the onboarding
	// became pending) at which a reminder goes; ExpiryReminder how long
	// before Lifetime (Altinn's request expiry) one more goes (0: none).
	ReminderAges   []time.Duration
	ExpiryReminder time.Duration
	Lifetime       time.Duration
	Batch          int
	Now            func() time.Time
	Log            *slog.Logger
}

// Work queues every due message, each message kind in turn.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("mail: sweep: %w", err)
	}
	batch := w.Batch
	if batch <= 0 {
		batch = 500
	}
	total := 0
	for _, message := range []string{domain.MailLink, domain.MailEscalated, domain.MailReminder, domain.MailConnected} {
		cs, err := db.MailCandidates(ctx, w.DB.Pool, message, batch)
		if err != nil {
			return err
		}
		for _, c := range cs {
			seq, expiry := 0, false
			if message == domain.MailReminder {
				if seq = w.dueReminder(c.StatusAt); seq <= c.LastReminder {
					continue
				}
				expiry = seq == ExpirySeq
			}
			n, err := w.queue(ctx, client, c, message, seq, expiry)
			if err != nil {
				return err
			}
			total += n
		}
	}
	if total > 0 && w.Log != nil {
		w.Log.InfoContext(ctx, "mail sweep", "queued", total)
	}
	return nil
}

// dueReminder is the seq of the latest reminder an onboarding pending since
// since is due (0: none yet, or its request has expired): i+1 for
// ReminderAges[i], ExpirySeq for the one before expiry. Only the latest goes,
// so a sweep after a long stop sends one reminder, not each it missed.
func (w *SweepWorker) dueReminder(since time.Time) int {
	age := w.now().Sub(since)
	if w.Lifetime > 0 && age >= w.Lifetime {
		return 0
	}
	seq := 0
	for i, a := range w.ReminderAges {
		if age >= a {
			seq = i + 1
		}
	}
	if w.ExpiryReminder > 0 && w.Lifetime > w.ExpiryReminder && age >= w.Lifetime-w.ExpiryReminder {
		seq = ExpirySeq
	}
	return seq
}

func (w *SweepWorker) queue(ctx context.Context, client *river.Client[pgx.Tx], c db.MailCandidate, message string, seq int, expiry bool) (int, error) {
	org := c.OrgName
	if org == "" {
		org = c.OrgNo
	}
	product := c.Product
	if p, ok := config.FindProduct(w.Products, c.Product); ok {
		product = p.DisplayName(c.Lang)
	}
	r, err := Render(Content{Message: message, Lang: c.Lang, Vendor: w.Vendor, Org: org, Product: product,
		Link: c.ConfirmURL, OptOutURL: StopURL(w.PublicURL, w.Key, c.OnboardingID), Support: w.Support,
		Escalated: c.Escalated, Expiry: expiry})
	if err != nil {
		return 0, err
	}
	n := 0
	err = w.DB.Tx(ctx, func(tx pgx.Tx) error {
		id, err := db.QueueMail(ctx, tx, db.MailMessage{OnboardingID: c.OnboardingID, Message: message, Seq: seq,
			To: c.Email, Lang: c.Lang, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, w.now())
		if err != nil || id == 0 {
			return err
		}
		if _, err := client.InsertTx(ctx, tx, SendArgs{MessageID: id}, nil); err != nil {
			return fmt.Errorf("mail: enqueue: %w", err)
		}
		n = 1
		return nil
	})
	return n, err
}

func (w *SweepWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
