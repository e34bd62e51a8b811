package db

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// ErrBadCursor is returned when a list cursor was not made by ListOnboardings,
// so the handler can answer 400 instead of 500.
var ErrBadCursor = errors.New("db: bad cursor")

// Page sizes for ListOnboardings.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListFilter selects onboardings for the dashboard list, CSV export and counts.
type ListFilter struct {
	Status      domain.Status // one status or "" for all
	Kind        domain.Kind   // "standard", "agent" or ""
	Escalated   bool          // only escalated ones
	CreatedFrom time.Time     // inclusive; zero = open
	CreatedTo   time.Time     // exclusive; zero = open
	// Query searches exact matches, each backed by an index: an organisation
	// number (spaces allowed), an Altinn request id, onboarding id or system
	// user id (a uuid), an external ref, a customer ref, or our return ref;
	// and the start of an organisation's name, ignoring case (from
	// MinNamePrefix characters).
	Query string
	After string // opaque keyset cursor from ListPage.Next; "" = first page
	Limit int    // default 50, max 500
	// Usability keeps connected onboardings by whether they are usable
	// (UsabilityUsable, UsabilityNotUsable, UsabilityNotChecked); "" for
	// all. Usability is a property of connected ones, so any other value
	// than "" leaves only connected onboardings.
	Usability string
}

// Usability filters (ListFilter.Usability).
const (
	UsabilityUsable     = "usable"      // Maskinporten issued the last token asked for
	UsabilityNotUsable  = "not_usable"  // Maskinporten refused the last one
	UsabilityNotChecked = "not_checked" // no answer yet since it became connected (or no scopes to ask for)
)

// UsabilityFilters are the values ListFilter.Usability takes besides "".
var UsabilityFilters = []string{UsabilityUsable, UsabilityNotUsable, UsabilityNotChecked}

// ListPage is one page of onboardings, newest first.
type ListPage struct {
	Items []domain.Onboarding
	// Next is the cursor for the following page, "" on the last page.
	Next string
}

// ListOnboardings returns one page of the onboardings that match f, newest
// first (created_at, then id, both descending). It pages by keyset rather
// than OFFSET, so a deep page costs what the first one does. A cursor it did
// not make gives an error wrapping ErrBadCursor.
func (d *DB) ListOnboardings(ctx context.Context, f ListFilter) (ListPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var w where
	w.filter(f, true)
	if f.After != "" {
		at, id, err := decodeCursor(f.After)
		if err != nil {
			return ListPage{}, err
		}
		w.add("(created_at, id) < (" + w.arg(at) + ", " + w.arg(id) + "::uuid)")
	}
	// One row more than asked for tells whether there is a next page. A
	// period's statement is planned for its values each time (listArgs).
	rows, err := d.Pool.Query(ctx, `SELECT `+onboardingColumns+` FROM onboardings`+w.sql()+`
		ORDER BY created_at DESC, id DESC LIMIT `+w.arg(limit+1), listArgs(f, w.args)...)
	if err != nil {
		return ListPage{}, fmt.Errorf("db: list onboardings: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanOnboarding)
	if err != nil {
		return ListPage{}, fmt.Errorf("db: list onboardings: %w", err)
	}
	page := ListPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// listArgs is a list query's arguments, first the mode pgx runs it in. A
// query with a created period is planned for its values each time, as an
// unnamed statement, rather than run as pgx's cached prepared statement:
// after five runs Postgres may settle on a generic plan, which cannot know
// whether the period is a week or two years, and for the last 12 months
// with kind and escalated filters (bench/list) the generic plan sorted the
// whole period, 40-160 ms a page instead of under 1 ms. Planning costs
// about 0.4 ms, so queries without a period keep the cached statement,
// whose plans held for every other filter.
func listArgs(f ListFilter, args []any) []any {
	if f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// CountByStatus counts the onboardings that match f per status, ignoring
// f.Status, f.After and f.Limit, for the row of counts above the list. Every
// known status is in the map, with 0 when none match.
//
// Without a search it reads the summary that migrations/00021 keeps
// (onboarding_counts and its deltas): whole local days of the created period
// as a few year, month and day buckets, and the partial days at either end
// of a period that does not start or end at midnight in CountZone from the
// table. The counts are exact either way. A search counts its few matches
// in the table.
func (d *DB) CountByStatus(ctx context.Context, f ListFilter) (map[domain.Status]int, error) {
	sql, args := countSQL(f)
	rows, err := d.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("db: count by status: %w", err)
	}
	counts := make(map[domain.Status]int, len(statuses))
	for _, s := range statuses {
		counts[s] = 0
	}
	var status domain.Status
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[status] += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: count by status: %w", err)
	}
	return counts, nil
}

// CountZone is the time zone of the summary's days (migrations/00021): the
// dashboard's. A created period bounded by its midnights is read from the
// summary alone.
const CountZone = "Europe/Oslo"

var countZone, countZoneErr = time.LoadLocation(CountZone)

// countSQL is the statement CountByStatus runs and its arguments: rows of
// (status, n), to be summed per status.
func countSQL(f ListFilter) (string, []any) {
	tableCount := func(f ListFilter) (string, []any) {
		var w where
		w.filter(f, false)
		return `SELECT status, count(*) FROM onboardings` + w.sql() + ` GROUP BY status`, w.args
	}
	if strings.TrimSpace(f.Query) != "" || countZoneErr != nil {
		return tableCount(f)
	}
	// The local days [a, b) come from the summary; the rest of the period,
	// at most a partial day at each end, from the table.
	a, b := civil(1, 1, 1), civil(9999, 1, 1)
	var edges [][2]time.Time
	if !f.CreatedFrom.IsZero() {
		a = localDate(f.CreatedFrom)
		if !localMidnight(a).Equal(f.CreatedFrom) {
			a = a.AddDate(0, 0, 1)
			edges = append(edges, [2]time.Time{f.CreatedFrom, localMidnight(a)})
		}
	}
	if !f.CreatedTo.IsZero() {
		b = localDate(f.CreatedTo)
		if !localMidnight(b).Equal(f.CreatedTo) {
			edges = append(edges, [2]time.Time{localMidnight(b), f.CreatedTo})
		}
	}
	if !a.Before(b) {
		return tableCount(f) // no whole day: a day's rows at most
	}
	var w where
	keys := summaryKeys(&w, f)
	var parts []string
	for _, r := range bucketRanges(a, b) {
		if !r.lo.Before(r.hi) {
			continue
		}
		parts = append(parts, `SELECT status, n FROM onboarding_counts WHERE lvl = '`+r.lvl+`' AND bucket >= `+
			w.arg(r.lo.Format(time.DateOnly))+`::date AND bucket < `+w.arg(r.hi.Format(time.DateOnly))+`::date`+keys)
	}
	parts = append(parts, `SELECT status, n FROM onboarding_count_deltas WHERE day >= `+
		w.arg(a.Format(time.DateOnly))+`::date AND day < `+w.arg(b.Format(time.DateOnly))+`::date`+keys)
	if len(edges) > 0 {
		e := f
		e.CreatedFrom, e.CreatedTo = time.Time{}, time.Time{}
		var ew where
		ew.args = w.args // the edges' placeholders follow the summary's
		ew.filter(e, false)
		var ranges []string
		for _, r := range edges {
			ranges = append(ranges, "(created_at >= "+ew.arg(r[0])+" AND created_at < "+ew.arg(r[1])+")")
		}
		ew.add("(" + strings.Join(ranges, " OR ") + ")")
		parts = append(parts, `SELECT status, count(*) FROM onboardings`+ew.sql()+` GROUP BY status`)
		w.args = ew.args
	}
	return `SELECT status, sum(n)::bigint FROM (` + strings.Join(parts, "\n\tUNION ALL ") + `) s GROUP BY status`, w.args
}

// summaryKeys is the conditions on the summary's keys for f's kind,
// escalated and usability filters, each starting with " AND ".
func summaryKeys(w *where, f ListFilter) string {
	var b strings.Builder
	if f.Kind != "" {
		b.WriteString(" AND kind = " + w.arg(f.Kind))
	}
	if f.Escalated {
		b.WriteString(" AND escalated")
	}
	switch f.Usability { // onboarding_counts_usable: 1 true, 0 false, 2 NULL
	case UsabilityUsable:
		b.WriteString(" AND status = 'connected' AND usable = 1")
	case UsabilityNotUsable:
		b.WriteString(" AND status = 'connected' AND usable = 0")
	case UsabilityNotChecked:
		b.WriteString(" AND status = 'connected' AND usable = 2")
	}
	return b.String()
}

// bucketRange is one range [lo, hi) of a level's bucket starts.
type bucketRange struct {
	lvl    string
	lo, hi time.Time
}

// bucketRanges covers the local days [a, b) with the fewest buckets: whole
// years, then whole months at either side of them, then days.
func bucketRanges(a, b time.Time) []bucketRange {
	yearUp := func(t time.Time) time.Time {
		if t.Month() == 1 && t.Day() == 1 {
			return t
		}
		return civil(t.Year()+1, 1, 1)
	}
	monthUp := func(t time.Time) time.Time {
		if t.Day() == 1 {
			return t
		}
		return civil(t.Year(), t.Month()+1, 1)
	}
	monthDown := func(t time.Time) time.Time { return civil(t.Year(), t.Month(), 1) }
	// months+days of [lo, hi) when it holds no whole year.
	var out []bucketRange
	monthsDays := func(lo, hi time.Time) {
		ma, mb := monthUp(lo), monthDown(hi)
		if !ma.Before(mb) {
			out = append(out, bucketRange{"d", lo, hi})
			return
		}
		out = append(out, bucketRange{"d", lo, ma}, bucketRange{"m", ma, mb}, bucketRange{"d", mb, hi})
	}
	ya, yb := yearUp(a), civil(b.Year(), 1, 1)
	if !ya.Before(yb) {
		monthsDays(a, b)
		return out
	}
	out = append(out, bucketRange{"y", ya, yb})
	monthsDays(a, ya)
	monthsDays(yb, b)
	return out
}

func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// localDate is t's calendar date in CountZone, as midnight UTC.
func localDate(t time.Time) time.Time {
	y, m, d := t.In(countZone).Date()
	return civil(y, m, d)
}

// localMidnight is the start of the civil date day in CountZone.
func localMidnight(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, countZone)
}

// EachOnboarding calls fn for every onboarding that matches f, in list
// order, ignoring f.After and f.Limit. Rows are read from the connection one
// at a time, so an export of a million rows never holds them all in memory.
// It stops at fn's first error and returns that error unchanged.
func (d *DB) EachOnboarding(ctx context.Context, f ListFilter, fn func(*domain.Onboarding) error) error {
	var w where
	w.filter(f, true)
	rows, err := d.Pool.Query(ctx, `SELECT `+onboardingColumns+` FROM onboardings`+w.sql()+`
		ORDER BY created_at DESC, id DESC`, listArgs(f, w.args)...)
	if err != nil {
		return fmt.Errorf("db: each onboarding: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOnboarding(rows)
		if err != nil {
			return fmt.Errorf("db: each onboarding: %w", err)
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: each onboarding: %w", err)
	}
	return nil
}

// scanOnboarding reads a row of onboardingColumns, in their order, into an
// Onboarding: what pgx.RowToStructByName does, without matching names by
// reflection for every row (a quarter of decoding a list page's rows, and
// of an export's; bench/list). TestScanOnboardingMatchesByName holds it to
// RowToStructByName, so a column added to onboardingColumns and not here
// fails a test instead of a page.
func scanOnboarding(row pgx.CollectableRow) (domain.Onboarding, error) {
	var o domain.Onboarding
	err := row.Scan(&o.ID, &o.Ref, &o.Product, &o.Kind, &o.SystemID, &o.OrgNo, &o.ExternalRef, &o.Status, &o.Escalated,
		&o.AltinnRequestID, &o.ConfirmURL, &o.SystemUserID, &o.ErrorCode, &o.ErrorMessage, &o.CustomerRef, &o.Lang,
		&o.CreatedAt, &o.UpdatedAt, &o.CheckedAt, &o.ConnectedAt, &o.Version, &o.StatusAt, &o.NextCheckAt,
		&o.GrantedRights, &o.GrantedPackages,
		&o.Usable, &o.UsableSince, &o.UsableCheckedAt, &o.UsableOutcome, &o.UsableOKAt, &o.UsableCode, &o.UsableMessage,
		&o.OrgName, &o.Origin)
	return o, err
}

// statuses lists every onboarding status, so CountByStatus can report the
// ones with no rows too.
var statuses = domain.Statuses

// where collects the conditions of a list query. Conditions are fixed SQL
// text; every value from the filter goes in as a $n placeholder via arg.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func (w *where) filter(f ListFilter, withStatus bool) {
	if withStatus && f.Status != "" {
		w.add("status = " + w.arg(f.Status))
	}
	if f.Kind != "" {
		w.add("kind = " + w.arg(f.Kind))
	}
	if f.Escalated {
		w.add("escalated")
	}
	switch f.Usability {
	case UsabilityUsable:
		w.add("status = 'connected' AND usable")
	case UsabilityNotUsable:
		w.add("status = 'connected' AND usable IS NOT TRUE AND usable IS NOT NULL")
	case UsabilityNotChecked:
		w.add("status = 'connected' AND usable IS NOT TRUE AND usable IS NULL")
	}
	if !f.CreatedFrom.IsZero() {
		w.add("created_at >= " + w.arg(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		w.add("created_at < " + w.arg(f.CreatedTo))
	}
	w.search(f.Query)
}

var (
	orgNoPattern = regexp.MustCompile(`^[0-9]{9}$`)
	refPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
)

// search adds one condition that is true when any column a support person
// might paste equals q. Each alternative is an equality on an indexed column,
// so Postgres answers it with a BitmapOr of index scans; a column is only
// compared when q has its shape, so a uuid column never sees a non-uuid.
func (w *where) search(q string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	text := w.arg(q)
	alts := []string{"external_ref = " + text, "customer_ref = " + text}
	if org := strings.Join(strings.Fields(q), ""); orgNoPattern.MatchString(org) {
		alts = append(alts, "org_no = "+w.arg(org))
	}
	if IsUUID(q) {
		u := w.arg(strings.ToLower(q))
		alts = append(alts, "id = "+u+"::uuid", "altinn_request_id = "+u+"::uuid", "system_user_id = "+u+"::uuid")
	}
	if refPattern.MatchString(q) {
		alts = append(alts, "ref = "+text)
	}
	// The name's start, case-insensitively, from MinNamePrefix characters
	// (fewer would count a large share of the table): a range scan of
	// onboardings_org_name_prefix (migrations/00015), as the prefix is a
	// constant once Postgres plans with the value. lower() is Postgres's on
	// both sides, so the index and the search agree on every letter.
	if name := strings.Join(strings.Fields(q), " "); utf8.RuneCountInString(name) >= MinNamePrefix {
		alts = append(alts, "lower(org_name) LIKE lower("+w.arg(likeEscape(name))+") || '%'")
	}
	w.add("(" + strings.Join(alts, " OR ") + ")")
}

// MinNamePrefix is the fewest characters a search matches names by.
const MinNamePrefix = 3

// likeEscape makes s match itself in a LIKE pattern (escape character \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// A cursor is the created_at (in microseconds, Postgres's precision) and id
// of the last row of a page, base64url-encoded so callers treat it as opaque.
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "," + id))
}

func decodeCursor(s string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	micros, id, ok := strings.Cut(string(b), ",")
	if !ok || !IsUUID(id) {
		return time.Time{}, "", fmt.Errorf("%w: malformed", ErrBadCursor)
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: malformed time", ErrBadCursor)
	}
	return time.UnixMicro(us).UTC(), strings.ToLower(id), nil
}
