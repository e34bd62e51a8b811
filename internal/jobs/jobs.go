// Package jobs is the service's background work, on River in the same
// Postgres as everything else. Altinn sends no callbacks and a customer may
// never come back to the return page, so the service re-reads onboardings
// itself: every save sets an onboarding's next_check_at from the Schedule,
// a periodic sweep counts the due onboardings and starts reconcile batch
// jobs for them, and each batch claims due onboardings a batch at a time and
// re-reads each through the onboarding service.
//
// Any number of instances can run on one database: River elects one leader
// to insert the periodic sweep, a batch slot is unique while it waits or
// runs, and a batch claims its onboardings with SKIP LOCKED, moving their
// next check on by a lease in the same statement, so each check is done once.
package jobs

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/mail"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// Config is what the background work needs.
type Config struct {
	DB          *db.DB
	Onboardings Onboardings
	Schedule    Schedule
	// SweepInterval is how often due onboardings are looked for (at least 1s).
	SweepInterval time.Duration
	// OpTimeout is the longest one service operation may take: requesting
	// onboardings are left to their customer that long, and a job may run
	// a little longer.
	OpTimeout time.Duration
	// Workers is how many jobs one instance runs at once in each queue. In
	// the reconcile queue they are batch jobs, each reconciling PerBatch
	// onboardings at once; the sweep starts up to twice as many over all
	// instances.
	Workers int
	// StopTimeout is how long a stop lets running jobs finish before their
	// contexts are cancelled.
	StopTimeout time.Duration
	Log         *slog.Logger
	// AltinnNotBefore, when set, is when Altinn may be called again after
	// it asked this process to wait (Retry-After); reconcile checks due
	// before then are moved, not made.
	AltinnNotBefore func() time.Time
	// FetchPollInterval, when set, replaces River's fallback poll for new
	// jobs (1s); tests shorten it. TestOnly skips River's start-up jitter.
	FetchPollInterval time.Duration
	TestOnly          bool
	// Webhooks, when set, delivers webhook events in a queue of their own
	// (webhooks.Queue, Workers at once), so a slow endpoint never holds up
	// reconciliation.
	Webhooks *webhooks.Worker
	// Campaigns, when set, runs bulk campaigns in a queue of their own
	// (campaigns.Queue, CampaignRuns at once; each run sends its
	// campaign's rows with the campaign's own concurrency).
	Campaigns *campaigns.Runner
	// CampaignKick is how often running campaigns without a run get one
	// (after a crash); default 30s.
	CampaignKick time.Duration
	// Mail, when set, emails customers: a periodic sweep queues what is
	// due, and send jobs run in a queue of their own (mail.Queue).
	Mail *mail.Workers
	// Clients, when set, adds and removes an agent onboarding's clients
	// in a queue of their own (clients.Queue, clients.Workers at once).
	Clients *clients.Worker
	// ClientsPortal, when set, has the reconciler notice clients added or
	// removed in Altinn's portal at its look at a connected agent
	// onboarding (clients.Portal).
	ClientsPortal ClientsPortal
	// WebhookRetention is how long a webhook event whose deliveries have
	// ended is kept (default 90 days); see PruneWorker.
	WebhookRetention time.Duration
}

// IdempotencyTTL is how long the API replays the answer to a create for its
// Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// ReconcileBatch is the most onboardings one claim of a reconcile batch takes.
const ReconcileBatch = 100

// ReconcileBudget is how long one run of a reconcile batch job claims new
// batches before it snoozes.
const ReconcileBudget = 30 * time.Second

// ReconcileRetry is when an onboarding whose reconcile in a batch failed is
// due again.
const ReconcileRetry = 5 * time.Minute

// CampaignRuns is how many campaigns one instance works on at once.
const CampaignRuns = 4

// NewClient builds the River client with the reconcile and sweep workers
// (and the webhook worker, when given) and the periodic sweep. It does not
// start it: `onboard serve` does, and stops it after the HTTP servers have
// drained.
func NewClient(cfg Config) (*river.Client[pgx.Tx], error) {
	if cfg.SweepInterval < time.Second {
		return nil, fmt.Errorf("jobs: sweep interval %v is under River's 1s minimum", cfg.SweepInterval)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	jobTimeout := cfg.OpTimeout + 30*time.Second
	// How long a claim holds an onboarding: longer than a batch run
	// (ReconcileBudget plus one reconcile), so a live batch never loses one.
	lease := max(10*time.Minute, 4*jobTimeout)
	workers := river.NewWorkers()
	one := &ReconcileWorker{
		Store: cfg.DB, Onboardings: cfg.Onboardings, Schedule: cfg.Schedule,
		SettleAfter: cfg.OpTimeout, JobTimeout: jobTimeout, NotBefore: cfg.AltinnNotBefore, Log: log,
		Clients: cfg.ClientsPortal,
	}
	// Single reconcile jobs still run (one queued before an upgrade, or by
	// hand); the sweep starts batches.
	if err := river.AddWorkerSafely(workers, one); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	slotWorkers := max(cfg.Workers, 1)
	budget := ReconcileBudget
	if err := river.AddWorkerSafely(workers, &ReconcileBatchWorker{
		One: one, Store: cfg.DB, Lease: lease, MaxBatch: ReconcileBatch, Concurrency: PerBatch,
		Budget: budget, JobTimeout: budget + jobTimeout, RetryAfter: ReconcileRetry, Log: log,
	}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &SweepWorker{
		DB: cfg.DB, Slots: 2 * slotWorkers, Batch: ReconcileBatch, Log: log,
	}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	queues := map[string]river.QueueConfig{
		river.QueueDefault: {MaxWorkers: max(cfg.Workers, 1)},
		// Twice as many slots as one instance runs: with one instance the
		// other half waits its turn (a slot snoozes after its budget); with
		// several, no one instance takes every slot.
		ReconcileQueue: {MaxWorkers: slotWorkers},
	}
	if cfg.Webhooks != nil {
		if err := river.AddWorkerSafely(workers, cfg.Webhooks); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[webhooks.Queue] = river.QueueConfig{MaxWorkers: max(cfg.Workers, 1)}
	}
	if err := river.AddWorkerSafely(workers, &PruneWorker{
		DB: cfg.DB, WebhookRetention: cmp.Or(cfg.WebhookRetention, 90*24*time.Hour), IdempotencyTTL: IdempotencyTTL,
		Batch: 1000, MaxBatches: 100, Log: log, JobTimeout: jobTimeout,
	}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return PruneArgs{}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
	}, &river.PeriodicJobOpts{ID: "prune", RunOnStart: true})}
	if cfg.Campaigns != nil {
		kick := cmp.Or(cfg.CampaignKick, 30*time.Second)
		// One run works for its budget, then hands over: it must end well
		// before River would rescue it as stuck.
		cfg.Campaigns.Budget = cmp.Or(cfg.Campaigns.Budget, 30*time.Second)
		if err := river.AddWorkerSafely(workers, &campaigns.RunWorker{
			Runner: cfg.Campaigns, JobTimeout: cfg.Campaigns.Budget + jobTimeout,
		}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &campaigns.KickWorker{DB: cfg.DB, Every: kick}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[campaigns.Queue] = river.QueueConfig{MaxWorkers: CampaignRuns}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(kick), func() (river.JobArgs, *river.InsertOpts) {
			return campaigns.KickArgs{}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: kick}}
		}, &river.PeriodicJobOpts{ID: "campaign_kick", RunOnStart: true}))
	}
	if cfg.Mail != nil {
		if err := river.AddWorkerSafely(workers, cfg.Mail.Send); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		if err := river.AddWorkerSafely(workers, cfg.Mail.Sweep); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[mail.Queue] = river.QueueConfig{MaxWorkers: max(cfg.Workers, 1)}
		every := cmp.Or(cfg.Mail.Interval, time.Minute)
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			// Unique per interval, as the reconcile sweep; the messages'
			// own uniqueness is what keeps each one single.
			// In the mail queue (SweepArgs.InsertOpts).
			return mail.SweepArgs{}, &river.InsertOpts{Queue: mail.Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: "mail_sweep", RunOnStart: true}))
	}
	if cfg.Clients != nil {
		if err := river.AddWorkerSafely(workers, cfg.Clients); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[clients.Queue] = river.QueueConfig{MaxWorkers: clients.Workers, FetchCooldown: clients.FetchCooldown}
	}
	sweepEvery := cfg.SweepInterval
	sweep := river.NewPeriodicJob(river.PeriodicInterval(sweepEvery), func() (river.JobArgs, *river.InsertOpts) {
		// Unique per interval: should two instances both believe they lead
		// for a moment, one sweep per interval is still all that is inserted.
		// Ticks of one leader are at least an interval apart, so never
		// collide. One attempt: the next tick is the retry.
		return SweepArgs{}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: sweepEvery}}
	}, &river.PeriodicJobOpts{ID: "reconcile_sweep", RunOnStart: true})

	client, err := river.NewClient(riverpgxv5.New(cfg.DB.Pool), &river.Config{
		Queues:          queues,
		Workers:         workers,
		PeriodicJobs:    append(periodic, sweep),
		Logger:          log.With("component", "river"),
		SoftStopTimeout: cfg.StopTimeout,
		// A job left running by a crashed instance is retried this soon,
		// rather than after River's default hour: until then it holds the
		// onboarding's unique slot.
		RescueStuckJobsAfter: 2*jobTimeout + time.Minute,
		FetchPollInterval:    cfg.FetchPollInterval,
		TestOnly:             cfg.TestOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return client, nil
}
