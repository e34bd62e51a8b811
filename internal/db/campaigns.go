package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Campaign kinds: onboard many organisations to a product, or ask many
// connected customers to approve a change request.
const (
	CampaignOnboard = "onboard"
	CampaignChange  = "change"
)

// Campaign statuses. A campaign is made as a draft that holds its
// validation report; it is started by staff, may be paused and resumed, and
// ends done (every row tried) or cancelled.
const (
	CampaignDraft     = "draft"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignDone      = "done"
)

// Campaign item states.
const (
	ItemInvalid   = "invalid"   // failed validation; never sent
	ItemQueued    = "queued"    // waiting to be sent (again, after not_before)
	ItemWorking   = "working"   // being sent by the campaign's runner
	ItemDone      = "done"      // its onboarding (or change request) reached Altinn
	ItemFailed    = "failed"    // Altinn said no, or retries ran out
	ItemCancelled = "cancelled" // the campaign was cancelled before it was sent
)

// Campaign is one bulk campaign.
type Campaign struct {
	ID          string     `db:"id"`
	Kind        string     `db:"kind"`
	Product     string     `db:"product"`
	Name        string     `db:"name"`
	Status      string     `db:"status"`
	Concurrency int        `db:"concurrency"`
	Rate        float64    `db:"rate"` // operations started per second
	CreatedBy   string     `db:"created_by"`
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	StartedAt   *time.Time `db:"started_at"`
	FinishedAt  *time.Time `db:"finished_at"`
}

const campaignColumns = `id, kind, product, name, status, concurrency, rate, created_by, created_at, updated_at,
	started_at, finished_at`

// CampaignItem is one row of a campaign.
type CampaignItem struct {
	ID              int64      `db:"id"`
	CampaignID      string     `db:"campaign_id"`
	Line            int        `db:"line"`
	OrgNo           string     `db:"org_no"`
	CustomerRef     *string    `db:"customer_ref"`
	Email           *string    `db:"email"`
	Problem         *string    `db:"problem"`
	ProblemLine     *int       `db:"problem_line"`
	State           string     `db:"state"`
	OnboardingID    *string    `db:"onboarding_id"`
	ChangeRequestID *string    `db:"change_request_id"`
	Attempts        int        `db:"attempts"`
	NotBefore       *time.Time `db:"not_before"`
	LastError       *string    `db:"last_error"`
	UpdatedAt       time.Time  `db:"updated_at"`
}

const itemColumns = `id, campaign_id, line, org_no, customer_ref, email, problem, problem_line, state,
	onboarding_id, change_request_id, attempts, not_before, last_error, updated_at`

// NewCampaignItem is one row as validated: Problem set means invalid.
type NewCampaignItem struct {
	Line         int
	OrgNo        string
	CustomerRef  string
	Email        string
	Problem      string
	ProblemLine  int    // the line a duplicate repeats
	OnboardingID string // a change campaign's customer
}

// CreateCampaign stores a draft campaign with all its rows, valid and
// invalid, in one transaction (CreateCampaignTx).
func (d *DB) CreateCampaign(ctx context.Context, c Campaign, items []NewCampaignItem) (*Campaign, error) {
	var out *Campaign
	err := d.Tx(ctx, func(tx pgx.Tx) (err error) {
		out, err = CreateCampaignTx(ctx, tx, c, items)
		return err
	})
	return out, err
}

// CreateCampaignTx is CreateCampaign in the caller's transaction tx, so what
// goes with the campaign (the audit entry of the staff member who made it)
// commits with it.
func CreateCampaignTx(ctx context.Context, tx pgx.Tx, c Campaign, items []NewCampaignItem) (*Campaign, error) {
	rows, err := tx.Query(ctx, `
		INSERT INTO campaigns (kind, product, name, status, concurrency, rate, created_by)
		VALUES ($1, $2, $3, 'draft', $4, $5, $6) RETURNING `+campaignColumns,
		c.Kind, c.Product, c.Name, c.Concurrency, c.Rate, c.CreatedBy)
	var out *Campaign
	if err == nil {
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Campaign])
	}
	if err == nil {
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"campaign_items"},
			[]string{"campaign_id", "line", "org_no", "customer_ref", "email", "problem", "problem_line", "state", "onboarding_id"},
			pgx.CopyFromSlice(len(items), func(i int) ([]any, error) {
				it := items[i]
				state := ItemQueued
				if it.Problem != "" {
					state = ItemInvalid
				}
				return []any{out.ID, it.Line, it.OrgNo, nullIfEmpty(it.CustomerRef), nullIfEmpty(it.Email),
					nullIfEmpty(it.Problem), nullIfZero(it.ProblemLine), state, nullIfEmpty(it.OnboardingID)}, nil
			}))
	}
	if err != nil {
		return nil, fmt.Errorf("db: create campaign: %w", err)
	}
	return out, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullIfZero(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// CampaignByID returns one campaign, or ErrNotFound.
func (d *DB) CampaignByID(ctx context.Context, id string) (*Campaign, error) {
	return CampaignByIDTx(ctx, d.Pool, id)
}

// CampaignCounts returns, for each campaign id, its valid rows and those
// finished (done, failed or cancelled): the list's progress, in one query.
func (d *DB) CampaignCounts(ctx context.Context, ids []string) (map[string][2]int, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT campaign_id::text, count(*) FILTER (WHERE state <> 'invalid'),
		       count(*) FILTER (WHERE state IN ('done', 'failed', 'cancelled'))
		FROM campaign_items WHERE campaign_id = ANY($1::uuid[]) GROUP BY campaign_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("db: campaign counts: %w", err)
	}
	defer rows.Close()
	m := make(map[string][2]int, len(ids))
	for rows.Next() {
		var id string
		var valid, finished int
		if err := rows.Scan(&id, &valid, &finished); err != nil {
			return nil, fmt.Errorf("db: campaign counts: %w", err)
		}
		m[id] = [2]int{valid, finished}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: campaign counts: %w", err)
	}
	return m, nil
}

// ListCampaigns returns the newest campaigns first.
func (d *DB) ListCampaigns(ctx context.Context, limit int) ([]Campaign, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("db: campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Campaign])
	if err != nil {
		return nil, fmt.Errorf("db: campaigns: %w", err)
	}
	return cs, nil
}

// SetCampaignStatus is SetCampaignStatusTx in a transaction of its own.
func (d *DB) SetCampaignStatus(ctx context.Context, id string, from []string, to string) (*Campaign, error) {
	var c *Campaign
	err := d.InTx(ctx, func(q Querier) (err error) {
		c, err = SetCampaignStatusTx(ctx, q, id, from, to)
		return err
	})
	return c, err
}

// SetCampaignStatusTx moves a campaign to status to, but only from one of
// the statuses in from, through q (the caller's transaction); otherwise it
// returns ErrConflict (someone else moved it first) or ErrNotFound.
// Cancelling also cancels every row not yet sent; starting (from draft)
// stamps started_at.
func SetCampaignStatusTx(ctx context.Context, q Querier, id string, from []string, to string) (*Campaign, error) {
	if !IsUUID(id) {
		return nil, ErrNotFound
	}
	rows, err := q.Query(ctx, `
		UPDATE campaigns SET status = $3, updated_at = now(),
			started_at = CASE WHEN $3 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
			finished_at = CASE WHEN $3 IN ('cancelled', 'done') THEN now() ELSE NULL END
		WHERE id = $1 AND status = ANY($2) RETURNING `+campaignColumns, id, from, to)
	var c *Campaign
	if err == nil {
		c, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Campaign])
	}
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, id).Scan(&exists); err != nil {
			return nil, fmt.Errorf("db: campaign status: %w", err)
		}
		if !exists {
			return nil, ErrNotFound
		}
		return nil, ErrConflict
	}
	if err == nil && to == CampaignCancelled {
		_, err = q.Exec(ctx, `UPDATE campaign_items SET state = 'cancelled', updated_at = now()
			WHERE campaign_id = $1 AND state = 'queued'`, id)
	}
	if err != nil {
		return nil, fmt.Errorf("db: campaign status: %w", err)
	}
	return c, nil
}

// RetryFailedItems is RetryFailedItemsTx in a transaction of its own.
func (d *DB) RetryFailedItems(ctx context.Context, id string) (int, error) {
	var n int
	err := d.InTx(ctx, func(q Querier) (err error) {
		n, err = RetryFailedItemsTx(ctx, q, id)
		return err
	})
	return n, err
}

// RetryFailedItemsTx queues a campaign's failed rows again (with fresh
// attempts) and sets a done campaign running again, through q (the caller's
// transaction); it returns how many rows, and ErrConflict for a campaign
// whose status does not allow it.
func RetryFailedItemsTx(ctx context.Context, q Querier, id string) (int, error) {
	// A paused campaign stays paused: its operator paused it for a reason.
	tag, err := q.Exec(ctx, `UPDATE campaigns SET updated_at = now(), finished_at = NULL,
			status = CASE WHEN status = 'paused' THEN 'paused' ELSE 'running' END
		WHERE id = $1 AND status IN ('running', 'paused', 'done')`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return 0, ErrConflict
	}
	if err == nil {
		tag, err = q.Exec(ctx, `UPDATE campaign_items SET state = 'queued', attempts = 0, not_before = NULL, updated_at = now()
			WHERE campaign_id = $1 AND state = 'failed'`, id)
	}
	if err != nil {
		return 0, fmt.Errorf("db: retry campaign rows: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CampaignByIDTx is CampaignByID through q (the caller's transaction).
func CampaignByIDTx(ctx context.Context, q Querier, id string) (*Campaign, error) {
	if !IsUUID(id) {
		return nil, ErrNotFound
	}
	rows, err := q.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("db: campaign: %w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Campaign])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: campaign: %w", err)
	}
	return c, nil
}

// RequeueWorking puts rows left working by an earlier run (one that
// crashed, or was stopped mid-way) back in the queue, or cancels them when
// the campaign was cancelled meanwhile. Only the holder of the campaign's
// lock calls it, before it starts.
func (d *DB) RequeueWorking(ctx context.Context, campaignID string) (int, error) {
	tag, err := d.Pool.Exec(ctx, `UPDATE campaign_items SET updated_at = now(),
			state = CASE WHEN (SELECT status FROM campaigns WHERE id = $1) = 'cancelled' THEN 'cancelled' ELSE 'queued' END
		WHERE campaign_id = $1 AND state = 'working'`, campaignID)
	if err != nil {
		return 0, fmt.Errorf("db: requeue campaign rows: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimCampaignItems takes up to limit queued rows that are due, in line
// order, after the row with id after (0: from the first), marking them
// working (one more attempt each), while the campaign is running, in one
// statement. It returns none when there is none (or the campaign was paused
// or cancelled). Rows another claim holds are skipped, so two claims at
// once never get the same row. A runner passes the last row it took as
// after, so a claim does not walk past every row done so far (their old
// index entries are dead but not yet gone), and from 0 once that finds
// nothing, for the retries behind it.
func (d *DB) ClaimCampaignItems(ctx context.Context, campaignID string, after int64, limit int) ([]CampaignItem, error) {
	rows, err := d.Pool.Query(ctx, `
		UPDATE campaign_items SET state = 'working', attempts = attempts + 1, updated_at = now()
		WHERE id IN (
			SELECT i.id FROM campaign_items i
			WHERE i.campaign_id = $1 AND i.id > $2 AND i.state = 'queued' AND (i.not_before IS NULL OR i.not_before <= now())
			  AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'running')
			ORDER BY i.id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+itemColumns, campaignID, after, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("db: claim campaign rows: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[CampaignItem])
	if err != nil {
		return nil, fmt.Errorf("db: claim campaign rows: %w", err)
	}
	slices.SortFunc(items, func(a, b CampaignItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
}

// ReleaseCampaignItems gives working rows a claim took but never tried
// back to the queue, without counting the attempt, or cancels them when
// their campaign was cancelled meanwhile (as RequeueWorking does): the
// cancel only cancelled the rows queued then. A paused campaign's rows are
// queued, for its resumed run.
func (d *DB) ReleaseCampaignItems(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := d.Pool.Exec(ctx, `UPDATE campaign_items i SET attempts = greatest(attempts - 1, 0), updated_at = now(),
			-- FOR SHARE waits for a cancel under way, and then sees it.
			state = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = i.campaign_id FOR SHARE) = 'cancelled'
				THEN 'cancelled' ELSE 'queued' END
		WHERE i.id = ANY($1) AND i.state = 'working'`, ids)
	if err != nil {
		return fmt.Errorf("db: release campaign rows: %w", err)
	}
	return nil
}

// ItemOutcome is how one attempt at a row ended.
type ItemOutcome struct {
	State           string // done, failed or queued (a retry at NotBefore)
	OnboardingID    string
	ChangeRequestID string
	Error           string
	NotBefore       *time.Time
}

// ItemFinish is one row's outcome, for FinishCampaignItems.
type ItemFinish struct {
	ID int64
	ItemOutcome
}

// FinishCampaignItems records attempts' outcomes on working rows, in one
// statement. A row to be retried in a campaign cancelled meanwhile is
// cancelled instead.
func (d *DB) FinishCampaignItems(ctx context.Context, outs []ItemFinish) error {
	if len(outs) == 0 {
		return nil
	}
	var (
		ids                    = make([]int64, len(outs))
		states, obs, crs, errs = make([]string, len(outs)), make([]*string, len(outs)), make([]*string, len(outs)), make([]*string, len(outs))
		notBefore              = make([]*time.Time, len(outs))
	)
	for i, o := range outs {
		ids[i], states[i], notBefore[i] = o.ID, o.State, o.NotBefore
		obs[i], crs[i], errs[i] = nullIfEmpty(o.OnboardingID), nullIfEmpty(o.ChangeRequestID), nullIfEmpty(o.Error)
	}
	_, err := d.Pool.Exec(ctx, `
		UPDATE campaign_items i SET onboarding_id = coalesce(v.onboarding_id, i.onboarding_id),
			change_request_id = coalesce(v.change_request_id, i.change_request_id), last_error = v.last_error,
			not_before = v.not_before, updated_at = now(),
			state = CASE WHEN v.state = 'queued'
					-- FOR SHARE waits for a cancel under way, and then sees it.
					AND (SELECT status FROM campaigns c WHERE c.id = i.campaign_id FOR SHARE) = 'cancelled'
				THEN 'cancelled' ELSE v.state END
		FROM unnest($1::bigint[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[])
			AS v(id, state, onboarding_id, change_request_id, last_error, not_before)
		WHERE i.id = v.id AND i.state = 'working'`,
		ids, states, obs, crs, errs, notBefore)
	if err != nil {
		return fmt.Errorf("db: finish campaign rows: %w", err)
	}
	return nil
}

// CampaignWork says what is left of a running campaign: rows that could be
// taken now, and when the earliest waiting retry is due (nil: none waits).
func (d *DB) CampaignWork(ctx context.Context, campaignID string) (due int, next *time.Time, err error) {
	err = d.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE not_before IS NULL OR not_before <= now() OR state = 'working'),
		       min(not_before) FILTER (WHERE not_before > now() AND state = 'queued')
		FROM campaign_items WHERE campaign_id = $1 AND state IN ('queued', 'working')`, campaignID).Scan(&due, &next)
	if err != nil {
		return 0, nil, fmt.Errorf("db: campaign work: %w", err)
	}
	return due, next, nil
}

// FinishCampaignIfDone marks a running campaign done when no row is left
// to send, and reports whether it did.
func (d *DB) FinishCampaignIfDone(ctx context.Context, campaignID string) (bool, error) {
	tag, err := d.Pool.Exec(ctx, `
		UPDATE campaigns SET status = 'done', finished_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'running'
		  AND NOT EXISTS (SELECT 1 FROM campaign_items WHERE campaign_id = $1 AND state IN ('queued', 'working'))`, campaignID)
	if err != nil {
		return false, fmt.Errorf("db: finish campaign: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RunnableCampaigns lists what the periodic kick makes sure someone works
// on: running campaigns with rows due now, and any campaign with rows left
// working (by a run that may have died). Rows waiting for a retry's time
// are left to the run that snoozed until then.
func (d *DB) RunnableCampaigns(ctx context.Context) ([]string, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT c.id FROM campaigns c
		WHERE EXISTS (SELECT 1 FROM campaign_items i WHERE i.campaign_id = c.id AND i.state = 'working')
		   OR (c.status = 'running' AND EXISTS (SELECT 1 FROM campaign_items i WHERE i.campaign_id = c.id
		       AND i.state = 'queued' AND (i.not_before IS NULL OR i.not_before <= now())))`)
	if err != nil {
		return nil, fmt.Errorf("db: runnable campaigns: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: runnable campaigns: %w", err)
	}
	return ids, nil
}

// CampaignProgress counts a campaign's rows by state and, for the rows that
// reached an onboarding, by the onboarding's status now (or, in a change
// campaign, the change request's status).
type CampaignProgress struct {
	Items    map[string]int `json:"items"`    // by item state
	Statuses map[string]int `json:"statuses"` // by onboarding (or change request) status
	Valid    int            `json:"valid"`    // rows that are not invalid
	Finished int            `json:"finished"` // valid rows done, failed or cancelled
}

// CampaignProgress reads a campaign's counts.
func (d *DB) CampaignProgress(ctx context.Context, c *Campaign) (CampaignProgress, error) {
	p := CampaignProgress{Items: map[string]int{}, Statuses: map[string]int{}}
	rows, err := d.Pool.Query(ctx, `SELECT state, count(*) FROM campaign_items WHERE campaign_id = $1 GROUP BY state`, c.ID)
	if err != nil {
		return p, fmt.Errorf("db: campaign progress: %w", err)
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return p, fmt.Errorf("db: campaign progress: %w", err)
		}
		p.Items[state] = n
		if state != ItemInvalid {
			p.Valid += n
		}
		if state == ItemDone || state == ItemFailed || state == ItemCancelled {
			p.Finished += n
		}
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("db: campaign progress: %w", err)
	}
	q := `SELECT o.status, count(*) FROM campaign_items i JOIN onboardings o ON o.id = i.onboarding_id
		WHERE i.campaign_id = $1 AND i.state <> 'invalid' GROUP BY o.status`
	if c.Kind == CampaignChange {
		q = `SELECT r.status, count(*) FROM campaign_items i JOIN change_requests r ON r.id = i.change_request_id
			WHERE i.campaign_id = $1 GROUP BY r.status`
	}
	rows, err = d.Pool.Query(ctx, q, c.ID)
	if err != nil {
		return p, fmt.Errorf("db: campaign progress: %w", err)
	}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return p, fmt.Errorf("db: campaign progress: %w", err)
		}
		p.Statuses[status] = n
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("db: campaign progress: %w", err)
	}
	return p, nil
}

// CampaignItems lists a campaign's rows in one state (invalid for the
// validation report, failed for what needs a look), in line order, at most
// limit of them.
func (d *DB) CampaignItems(ctx context.Context, campaignID, state string, limit int) ([]CampaignItem, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+itemColumns+` FROM campaign_items
		WHERE campaign_id = $1 AND state = $2 ORDER BY line, id LIMIT $3`, campaignID, state, limit)
	if err != nil {
		return nil, fmt.Errorf("db: campaign rows: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[CampaignItem])
	if err != nil {
		return nil, fmt.Errorf("db: campaign rows: %w", err)
	}
	return items, nil
}

// CampaignLink is one row of a campaign's export: who, and the link the
// customer opens to approve at Altinn (empty until there is one).
type CampaignLink struct {
	Line        int
	OrgNo       string
	CustomerRef string
	Email       string
	State       string // the row's state
	Status      string // the onboarding's (or change request's) status; empty before it exists
	ConfirmURL  string
}

// EachCampaignLink calls fn for every valid row of a campaign, in line
// order, with its onboarding's (or change request's) confirm link.
func (d *DB) EachCampaignLink(ctx context.Context, c *Campaign, fn func(CampaignLink) error) error {
	q := `SELECT i.line, i.org_no, coalesce(i.customer_ref, ''), coalesce(i.email, ''), i.state,
			coalesce(o.status, ''), coalesce(CASE WHEN o.status = 'pending' THEN o.confirm_url END, '')
		FROM campaign_items i LEFT JOIN onboardings o ON o.id = i.onboarding_id
		WHERE i.campaign_id = $1 AND i.state <> 'invalid' ORDER BY i.line, i.id`
	if c.Kind == CampaignChange {
		q = `SELECT i.line, i.org_no, coalesce(i.customer_ref, ''), coalesce(i.email, ''), i.state,
				coalesce(r.status, ''), coalesce(CASE WHEN r.status = 'pending' THEN r.confirm_url END, '')
			FROM campaign_items i LEFT JOIN change_requests r ON r.id = i.change_request_id
			WHERE i.campaign_id = $1 AND i.state <> 'invalid' ORDER BY i.line, i.id`
	}
	rows, err := d.Pool.Query(ctx, q, c.ID)
	if err != nil {
		return fmt.Errorf("db: campaign links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l CampaignLink
		if err := rows.Scan(&l.Line, &l.OrgNo, &l.CustomerRef, &l.Email, &l.State, &l.Status, &l.ConfirmURL); err != nil {
			return fmt.Errorf("db: campaign links: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: campaign links: %w", err)
	}
	return nil
}

// ConnectedOrgs returns which of orgs already have a connected onboarding
// for the product: a campaign lists them instead of asking again.
func (d *DB) ConnectedOrgs(ctx context.Context, product string, orgs []string) (map[string]bool, error) {
	rows, err := d.Pool.Query(ctx, `SELECT DISTINCT org_no FROM onboardings
		WHERE product = $1 AND status = 'connected' AND org_no = ANY($2)`, product, orgs)
	if err != nil {
		return nil, fmt.Errorf("db: connected orgs: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: connected orgs: %w", err)
	}
	m := make(map[string]bool, len(found))
	for _, o := range found {
		m[o] = true
	}
	return m, nil
}

// OnboardingOrgs returns the organisation number and customer reference of
// each onboarding id, for a change campaign's rows.
func (d *DB) OnboardingOrgs(ctx context.Context, ids []string) ([]NewCampaignItem, error) {
	rows, err := d.Pool.Query(ctx, `SELECT id::text, org_no, coalesce(customer_ref, '') FROM onboardings
		WHERE id = ANY($1::uuid[]) ORDER BY created_at, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("db: onboarding orgs: %w", err)
	}
	defer rows.Close()
	var out []NewCampaignItem
	for rows.Next() {
		var it NewCampaignItem
		if err := rows.Scan(&it.OnboardingID, &it.OrgNo, &it.CustomerRef); err != nil {
			return nil, fmt.Errorf("db: onboarding orgs: %w", err)
		}
		it.Line = len(out) + 1
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: onboarding orgs: %w", err)
	}
	return out, nil
}
