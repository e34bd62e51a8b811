package campaigns

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
)

// batchWindow is how many rows, in time at the campaign's rate, one claim
// takes: at 1,000 a second a claim takes the next 50 rows, at 20 a second
// or less one row at a time, right before its turn (so a pause is seen
// before the next row, as before batches).
const batchWindow = 50 * time.Millisecond

// maxBatch bounds one claim and one write of outcomes.
const maxBatch = 200

// send works on the campaign's due rows until none is left to take (or
// the campaign was paused or cancelled), ctx ends, the deadline passes or
// the connection holding the campaign's lock is lost (its error).
//
// One goroutine claims the rows, in batches (one statement for the rows
// that start within batchWindow at the campaign's rate), and hands each to
// a worker at its turn of the rate limit; the workers make the attempts;
// one goroutine records their outcomes, all that have come in at once in
// one statement. The campaign's
// concurrency bounds its calls under way at Altinn (an altinn.Gate in the
// workers' context), which is what the form asks for: "Altinn calls at
// once". There are twice as many workers, so that a row's writes before
// and after its call do not hold a turn at Altinn while Altinn is idle.
func (r *Runner) send(ctx context.Context, c *db.Campaign, deadline time.Time, held *lockCheck) error {
	lim := r.limiter(c.ID, c.Rate)
	gate := altinn.NewGate(c.Concurrency)
	workers := 2 * c.Concurrency
	batch := min(maxBatch, max(1, int(c.Rate*batchWindow.Seconds())))

	rows := make(chan db.CampaignItem)
	outs := make(chan db.ItemFinish, workers)
	var wg sync.WaitGroup
	wctx := altinn.WithGate(ctx, gate)
	for range workers {
		wg.Go(func() {
			for it := range rows {
				outs <- db.ItemFinish{ID: it.ID, ItemOutcome: r.attempt(wctx, c, &it)}
			}
		})
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.record(ctx, c, outs)
	}()

	err := r.dispatch(ctx, c, deadline, held, lim, batch, rows)
	close(rows)
	wg.Wait()
	close(outs)
	<-recorded
	return err
}

// dispatch claims rows and hands them out, each at its turn, until there is
// nothing to take or it must stop; rows it claimed and never handed out go
// back in the queue (or are cancelled with their campaign). The next batch
// is claimed as soon as no more than one batch is left to hand out, so the
// rate's turns do not wait for a claim on a busy database: at most two
// batches are claimed ahead of their turns.
//
// A claim finds nothing once the campaign is paused or cancelled; when it
// does with rows still to hand out, the campaign's status is read, and if
// it is no longer running dispatch stops there and gives the rest back.
// So after a pause or a cancel, besides the rows already under way, at most
// about one claim window goes out (the rows handed out until the next claim
// comes back empty: a batch, and those whose turns come while that claim is
// under way), not the two batches held.
func (r *Runner) dispatch(ctx context.Context, c *db.Campaign, deadline time.Time, held *lockCheck,
	lim *rate.Limiter, batch int, rows chan<- db.CampaignItem) (err error) {
	var (
		pending []db.CampaignItem
		next    chan claimed // the claim under way, if any
		dry     bool         // the last claim found nothing: claim again only when pending runs out
		cursor  int64        // the last row claimed: the next claim starts after it
		stopped string       // the campaign's status, once seen not running
	)
	// claim takes the next batch; holding rows (so that an empty claim does
	// not end the run), it reads the campaign's status when it finds none.
	claim := func(holding bool) chan claimed {
		n, after := batch, cursor
		ch := make(chan claimed, 1)
		go func() {
			var res claimed
			if res.err = held.check(ctx); res.err == nil {
				// Not cut short by a stop: rows a claim took are known, so
				// they can be given back.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				res.items, res.err = r.DB.ClaimCampaignItems(cctx, c.ID, after, n)
				if res.err == nil && len(res.items) == 0 && after > 0 {
					// Nothing after the cursor: retries due before it?
					res.items, res.err = r.DB.ClaimCampaignItems(cctx, c.ID, 0, n)
				}
				if res.err == nil && len(res.items) == 0 && holding {
					var now *db.Campaign
					if now, res.err = r.DB.CampaignByID(cctx, c.ID); res.err == nil && now.Status != db.CampaignRunning {
						res.stopped = now.Status
					}
				}
				cancel()
			}
			ch <- res
		}()
		return ch
	}
	take := func(res claimed) error {
		next = nil
		pending = append(pending, res.items...)
		dry = len(res.items) == 0
		if !dry {
			cursor = res.items[len(res.items)-1].ID
		}
		if res.stopped != "" {
			stopped = res.stopped
		}
		return res.err
	}
	defer func() {
		if next != nil {
			_ = take(<-next)
		}
		r.release(ctx, c, pending)
	}()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if r.holdForAltinn(ctx) != nil || waitTurn(ctx, lim) != nil {
			return nil
		}
		if next == nil && (len(pending) == 0 || !dry && len(pending) <= batch) {
			next = claim(len(pending) > 0)
		}
		if len(pending) == 0 {
			if err := take(<-next); err != nil {
				return err
			}
			if len(pending) == 0 {
				return nil // nothing due, or the campaign was paused or cancelled
			}
		} else if next != nil {
			select {
			case res := <-next:
				if err := take(res); err != nil {
					return err
				}
			default:
			}
		}
		if stopped != "" {
			// Paused or cancelled: the deferred release gives the rows
			// held back (queued for a resume, or cancelled).
			if r.stopSeen != nil {
				r.stopSeen(stopped)
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case rows <- pending[0]:
			if r.handedOut != nil {
				r.handedOut(pending[0])
			}
			pending = pending[1:]
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

type claimed struct {
	items   []db.CampaignItem
	stopped string // the campaign's status, when the claim found it not running
	err     error
}

// release gives rows claimed and never handed out back to the queue, or
// cancels them when the campaign was cancelled (ReleaseCampaignItems).
func (r *Runner) release(ctx context.Context, c *db.Campaign, items []db.CampaignItem) {
	if len(items) == 0 {
		return
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.DB.ReleaseCampaignItems(rctx, ids); err != nil {
		// The next run takes them back (RequeueWorking), one attempt counted.
		r.log().WarnContext(ctx, "campaign rows not given back", "campaign", c.ID, "rows", len(ids), "err", err)
	}
}

// record writes the workers' outcomes until outs is closed: whatever has
// come in at once, in one statement. Once Altinn has answered, the answer
// is recorded, even when stopping.
func (r *Runner) record(ctx context.Context, c *db.Campaign, outs <-chan db.ItemFinish) {
	buf := make([]db.ItemFinish, 0, maxBatch)
	for o := range outs {
		buf = append(buf[:0], o)
	more:
		for len(buf) < maxBatch {
			select {
			case o, ok := <-outs:
				if !ok {
					break more
				}
				buf = append(buf, o)
			default:
				break more
			}
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := r.DB.FinishCampaignItems(sctx, buf); err != nil {
			r.log().ErrorContext(ctx, "campaign rows not recorded; they are tried again", "campaign", c.ID,
				"rows", len(buf), "err", err)
		}
		cancel()
	}
}
