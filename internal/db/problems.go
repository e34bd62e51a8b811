package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// The Problems page (issue 12): everything support should look at, in one
// place. Each section is a count and the newest rows, at most
// ProblemQuery.Limit of them; a section's own view reads one section a page
// at a time (ProblemQuery.Section, Offset).

// Why an onboarding is stuck (StuckOnboarding.Reason).
const (
	// StuckRequesting: written before Altinn was called and still not
	// settled, long after the reconciler should have looked it up.
	StuckRequesting = "requesting"
	// StuckAccepted: approved at Altinn, but byquery has not found the
	// system user since.
	StuckAccepted = "accepted"
	// StuckExpired: pending for longer than Altinn keeps a request, so
	// Altinn has timed it out, and the reconciler has not noticed.
	StuckExpired = "expired"
	// StuckOverdue: waiting (or connected) and its reconciler check is far
	// past due: the background jobs are not reaching it.
	StuckOverdue = "overdue"
)

// The Problems page's sections (ProblemQuery.Section), in the page's order.
const (
	SectionWebhooks  = "webhooks"
	SectionNotUsable = "notusable"
	SectionFailed    = "failed"
	SectionStuck     = "stuck"
	SectionMail      = "mail"
)

// ProblemSections are the sections in the page's order.
var ProblemSections = []string{SectionWebhooks, SectionNotUsable, SectionFailed, SectionStuck, SectionMail}

// ProblemQuery says what counts as a problem and how many rows of each
// section to read.
type ProblemQuery struct {
	// StuckAfter: a requesting or accepted onboarding older than this in its
	// status is stuck.
	StuckAfter time.Duration
	// OverdueAfter: a check due longer ago than this is overdue.
	OverdueAfter time.Duration
	// ExpiredAfter: a pending onboarding longer than this in pending should
	// have been found expired (Altinn's request lifetime and some slack);
	// zero: not looked for.
	ExpiredAfter time.Duration
	// Limit bounds each section's rows (not its count).
	Limit int
	// Section, when set (one of ProblemSections), reads that section only:
	// its count and Limit rows from Offset on, in the same order (a page of
	// the section's own view). The other sections are left empty.
	Section string
	Offset  int
	// Now is the moment the ages count to (zero: the database's now()).
	Now time.Time
}

// StuckOnboarding is an onboarding that is stuck, and why.
type StuckOnboarding struct {
	domain.Onboarding
	Reason string // StuckRequesting, StuckAccepted or StuckOverdue
}

// ProblemWebhook is a webhook delivery failing (pending after a failed
// attempt) or given up (failed), with its onboarding.
type ProblemWebhook struct {
	WebhookDelivery
	OrgNo   string  `db:"org_no"`
	OrgName *string `db:"org_name"`
	Product string  `db:"product"`
}

// ProblemMail is one email to a customer that the mail server refused for
// good (an EventMail event with to_status MailRefused), with its
// onboarding, while no later mail to that customer has gone out.
type ProblemMail struct {
	EventID      int64     `db:"id"`
	OnboardingID string    `db:"onboarding_id"`
	At           time.Time `db:"at"`
	Message      string    `db:"operation"` // which mail: link, reminder, escalated, connected
	Reason       string    `db:"message"`   // the server's answer
	OrgNo        string    `db:"org_no"`
	OrgName      *string   `db:"org_name"`
	Product      string    `db:"product"`
}

// Problems is the Problems page's sections, each with its count.
type Problems struct {
	Webhooks       []ProblemWebhook
	WebhookCount   int
	NotUsable      []domain.Onboarding
	NotUsableCount int
	Failed         []domain.Onboarding
	FailedCount    int
	Stuck          []StuckOnboarding
	StuckCount     int
	Mail           []ProblemMail
	MailCount      int
}

// Total is how many problems there are in all.
func (p *Problems) Total() int {
	return p.WebhookCount + p.NotUsableCount + p.FailedCount + p.StuckCount + p.MailCount
}

// Problems reads every section of the Problems page.
func (d *DB) Problems(ctx context.Context, pq ProblemQuery) (*Problems, error) {
	if pq.Limit <= 0 {
		pq.Limit = 100
	}
	if pq.Section != "" && !slices.Contains(ProblemSections, pq.Section) {
		return nil, fmt.Errorf("db: problems: no section %q", pq.Section)
	}
	pq.Offset = max(pq.Offset, 0)
	want := func(section string) bool { return pq.Section == "" || pq.Section == section }
	// Every section's count and rows go to Postgres as one batch: one
	// round trip instead of a dozen. (They ran in one READ COMMITTED
	// transaction before, a snapshot per statement; a batch's statements
	// share its implicit transaction the same way.)
	p := &Problems{}
	b := &pgx.Batch{}
	page := problemPage{limit: pq.Limit, offset: pq.Offset, params: pq.Section != ""}
	if want(SectionWebhooks) {
		problemWebhooks(b, page, p)
	}
	// Both counts are the summary's (migrations/00021): connected with
	// usable false, and failed, over all years.
	if want(SectionNotUsable) {
		problemOnboardings(b, "not usable", `o.status = 'connected' AND o.usable = false`, `o.usable_since DESC NULLS LAST, o.id`,
			`status = 'connected' AND usable = 0`, page, &p.NotUsable, &p.NotUsableCount)
	}
	if want(SectionFailed) {
		problemOnboardings(b, "failed", `o.status = 'failed'`, `o.status_at DESC, o.id`,
			`status = 'failed'`, page, &p.Failed, &p.FailedCount)
	}
	// The stuck count, the one statement that reads many rows (the
	// pending past Altinn's lifetime), goes on a second connection at the
	// same time: the page waits for the slower of the two, not for both.
	stuck := &pgx.Batch{}
	if want(SectionStuck) {
		problemStuck(b, stuck, pq, page, p)
	}
	if want(SectionMail) {
		problemMail(b, page, p)
	}
	// A panic there goes on in this goroutine, where the server's
	// recovery catches it, rather than ending the process.
	stuckErr := make(chan error, 1)
	var stuckPanic any
	if stuck.Len() > 0 {
		go func() {
			err := errors.New("stuck count: panic")
			defer func() {
				stuckPanic = recover()
				stuckErr <- err
			}()
			err = d.Pool.SendBatch(ctx, stuck).Close()
		}()
	} else {
		stuckErr <- nil
	}
	err := d.Pool.SendBatch(ctx, b).Close()
	serr := <-stuckErr
	if stuckPanic != nil {
		panic(stuckPanic)
	}
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("db: problems: %w", err)
	}
	return p, nil
}

// section wraps a section's error with its name.
func section(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// problemPage is the LIMIT and OFFSET of a section's rows. The triage view
// (every section, its first rows) writes them into the statements' text,
// which is then the same on every view, so each connection plans it once
// and keeps the plan. A section's own pages pass them as parameters
// (params): written in, every page would be a statement of its own that
// pgx prepares and Postgres keeps a plan of on every connection (200-665 KB
// each), as many pages as a visitor asks for.
type problemPage struct {
	limit, offset int
	params        bool
}

// first is the first offset+limit rows, from the start: what each stuck
// arm reads for the page.
func (pg problemPage) first() problemPage {
	return problemPage{limit: pg.offset + pg.limit, params: pg.params}
}

// clause is the statement's LIMIT and OFFSET, as parameters $n and $n+1
// when pg.params.
func (pg problemPage) clause(n int) string {
	if pg.params {
		return fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n, n+1)
	}
	return fmt.Sprintf(` LIMIT %d OFFSET %d`, pg.limit, pg.offset)
}

// args are the parameters of clause: none unless pg.params.
func (pg problemPage) args() []any {
	if pg.params {
		return []any{pg.limit, pg.offset}
	}
	return nil
}

const problemWebhookWhere = ` WHERE (d.status = 'failed' OR (d.status = 'pending' AND d.last_error IS NOT NULL))`

func problemWebhooks(b *pgx.Batch, page problemPage, p *Problems) {
	b.Queue(`SELECT count(*) FROM webhook_deliveries d` + problemWebhookWhere).QueryRow(func(row pgx.Row) error {
		return section("webhooks", row.Scan(&p.WebhookCount))
	})
	b.Queue(`
		SELECT d.id, d.event_id, e.onboarding_id, e.type, e.payload, e.created_at AS event_created_at, d.url,
			d.status, d.attempts, d.retry_since, d.next_attempt_at, d.last_attempt_at, d.last_status_code,
			d.last_error, d.delivered_at, o.org_no, o.org_name, o.product
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN onboardings o ON o.id = e.onboarding_id`+
		problemWebhookWhere+` ORDER BY d.last_attempt_at DESC NULLS LAST, d.id DESC`+page.clause(1), page.args()...).Query(func(rows pgx.Rows) error {
		var err error
		p.Webhooks, err = pgx.CollectRows(rows, pgx.RowToStructByName[ProblemWebhook])
		return section("webhooks", err)
	})
}

// problemOnboardings counts the onboardings where holds, from the summary
// rows where summaryWhere holds (migrations/00021: the same onboardings),
// and reads a page of them in order.
func problemOnboardings(b *pgx.Batch, name, where, order, summaryWhere string, page problemPage,
	out *[]domain.Onboarding, count *int) {
	b.Queue(summaryCountSQL(summaryWhere)).QueryRow(func(row pgx.Row) error {
		return section(name, row.Scan(count))
	})
	b.Queue(`SELECT `+prefixed("o.", onboardingColumns)+` FROM onboardings o WHERE `+where+
		` ORDER BY `+order+page.clause(1), page.args()...).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = pgx.CollectRows(rows, scanOnboarding)
		return section(name, err)
	})
}

// summaryCountSQL counts every onboarding whose summary key (kind,
// escalated, usable, status) satisfies where: the year buckets and the
// deltas not yet folded into them, in one statement (one snapshot).
func summaryCountSQL(where string) string {
	return `SELECT coalesce(sum(n), 0)::bigint FROM (
		SELECT n FROM onboarding_counts WHERE lvl = 'y' AND ` + where + `
		UNION ALL SELECT n FROM onboarding_count_deltas WHERE ` + where + `) s`
}

// stuckReason is the SQL of why an onboarding is stuck ($1 now or NULL,
// $2 StuckAfter, $3 OverdueAfter, $4 ExpiredAfter or NULL, each replaced
// by its value in problemStuck), NULL when it is not.
const stuckReason = `CASE
	WHEN o.status = 'requesting' AND o.status_at < coalesce($1::timestamptz, now()) - $2::double precision * interval '1 second' THEN 'requesting'
	WHEN o.status = 'accepted' AND o.status_at < coalesce($1::timestamptz, now()) - $2::double precision * interval '1 second' THEN 'accepted'
	WHEN o.status = 'pending' AND o.status_at < coalesce($1::timestamptz, now()) - $4::double precision * interval '1 second' THEN 'expired'
	WHEN o.status IN ('requesting', 'pending', 'accepted', 'connected')
	     AND o.next_check_at < coalesce($1::timestamptz, now()) - $3::double precision * interval '1 second' THEN 'overdue'
	END`

// The stuck arms ($1 now or NULL, $2 StuckAfter, $3 OverdueAfter, $4
// ExpiredAfter or NULL), as stuckReason tells them apart. The first three
// are disjoint (one status each) and ranges of onboardings_waiting_since;
// stuckOverdue leaves out what they hold, so the arms' counts add up.
const (
	stuckRequesting = `o.status = 'requesting' AND o.status_at < coalesce($1::timestamptz, now()) - $2::double precision * interval '1 second'`
	stuckAccepted   = `o.status = 'accepted' AND o.status_at < coalesce($1::timestamptz, now()) - $2::double precision * interval '1 second'`
	stuckExpired    = `o.status = 'pending' AND o.status_at < coalesce($1::timestamptz, now()) - $4::double precision * interval '1 second'`
	stuckOverdue    = `o.next_check_at < coalesce($1::timestamptz, now()) - $3::double precision * interval '1 second'
		AND o.status IN ('requesting', 'pending', 'accepted', 'connected')
		AND (` + stuckRequesting + `) IS NOT TRUE AND (` + stuckAccepted + `) IS NOT TRUE AND (` + stuckExpired + `) IS NOT TRUE`
)

// problemStuck queues the stuck section's rows on b and its count on
// count.
func problemStuck(b, count *pgx.Batch, pq ProblemQuery, page problemPage, p *Problems) {
	// The moment and the ages go into the statements' text, not as
	// parameters ($1-$4 in the constants above are replaced here): the
	// text is the same on every view, so each connection plans it once
	// and keeps the plan. As parameters every run was planned again (a
	// generic plan cannot know the ranges, and is slow), which cost more
	// than the run: 0.7-0.8 ms of the rows' 0.13-0.17 ms, and a third of
	// the count's time. Only numbers and a timestamp we format go in.
	now, expired := "NULL::timestamptz", "NULL::double precision" // the database's clock; not looked for
	if !pq.Now.IsZero() {
		now = "'" + pq.Now.UTC().Format(time.RFC3339Nano) + "'::timestamptz"
	}
	seconds := func(d time.Duration) string {
		return "(" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + ")::double precision"
	}
	if pq.ExpiredAfter > 0 {
		expired = seconds(pq.ExpiredAfter)
	}
	literal := strings.NewReplacer("$1::timestamptz", now, "$2::double precision", seconds(pq.StuckAfter),
		"$3::double precision", seconds(pq.OverdueAfter), "$4::double precision", expired).Replace
	arms := []string{stuckRequesting, stuckAccepted, stuckExpired, stuckOverdue}
	// The count is the arms' counts added up. Requesting and accepted are
	// every onboarding in that status (the summary, migrations/00021) less
	// those that entered it since the cutoff: statuses held for seconds or
	// minutes, so an index range of a few rows at any size, where counting
	// the stuck ones read every one of them (5,500 at a million in
	// bench/list, a millisecond). Expired is an index-only scan of the
	// pending past the lifetime, which the reconciler keeps few; overdue
	// the due-check index, holding the few the jobs miss.
	since := func(status string) string {
		return `((` + summaryCountSQL(`status = '`+status+`'`) + `) - (SELECT count(*) FROM onboardings o WHERE o.status = '` + status +
			`' AND o.status_at >= coalesce($1::timestamptz, now()) - $2::double precision * interval '1 second'))`
	}
	counts := []string{since("requesting"), since("accepted"),
		`(SELECT count(*) FROM onboardings o WHERE ` + stuckExpired + `)`,
		`(SELECT count(*) FROM onboardings o WHERE ` + stuckOverdue + `)`}
	count.Queue(literal(`SELECT ` + strings.Join(counts, " + "))).QueryRow(func(row pgx.Row) error {
		return section("stuck", row.Scan(&p.StuckCount))
	})
	// The rows: the first Offset+Limit of each arm in order (an index range
	// each), then Limit of those from Offset on. The page's numbers come
	// after the literals, so the parameters they may be ($1-$4) are not
	// the ones replaced above.
	each := page.first()
	parts := make([]string, len(arms))
	for i, a := range arms {
		parts[i] = literal(`(SELECT `+prefixed("o.", onboardingColumns)+`, `+stuckReason+` AS reason
		FROM onboardings o WHERE `+a) + ` ORDER BY o.status_at, o.id` + each.clause(1) + `)`
	}
	b.Queue(`SELECT `+onboardingColumns+`, reason FROM (`+strings.Join(parts, " UNION ALL ")+`) o
		ORDER BY status_at, id`+page.clause(3), append(each.args(), page.args()...)...).Query(func(rows pgx.Rows) error {
		var err error
		p.Stuck, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StuckOnboarding, error) {
			s, err := pgx.RowToStructByName[struct {
				domain.Onboarding
				Reason string `db:"reason"`
			}](row)
			return StuckOnboarding{Onboarding: s.Onboarding, Reason: s.Reason}, err
		})
		return section("stuck", err)
	})
}

// refusedMailWhere picks the refused messages after which no mail to that
// customer went out: one sent later (the address fixed) settles it.
const refusedMailWhere = ` WHERE e.kind = '` + domain.EventMail + `' AND e.to_status = '` + domain.MailRefused + `'
	AND NOT EXISTS (SELECT 1 FROM onboarding_events l WHERE l.onboarding_id = e.onboarding_id AND l.id > e.id
		AND l.kind = '` + domain.EventMail + `' AND l.to_status IN ('` + domain.MailSent + `', '` + domain.MailOutbox + `'))`

func problemMail(b *pgx.Batch, page problemPage, p *Problems) {
	b.Queue(`SELECT count(*) FROM onboarding_events e` + refusedMailWhere).QueryRow(func(row pgx.Row) error {
		return section("mail", row.Scan(&p.MailCount))
	})
	b.Queue(`
		SELECT e.id, e.onboarding_id, e.at, coalesce(e.operation, '') AS operation, coalesce(e.message, '') AS message,
			o.org_no, o.org_name, o.product
		FROM onboarding_events e JOIN onboardings o ON o.id = e.onboarding_id`+refusedMailWhere+`
		ORDER BY e.at DESC, e.id DESC`+page.clause(1), page.args()...).Query(func(rows pgx.Rows) error {
		var err error
		p.Mail, err = pgx.CollectRows(rows, pgx.RowToStructByName[ProblemMail])
		return section("mail", err)
	})
}
