package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

const onboardingColumns = `id, ref, product, kind, system_id, org_no, external_ref, status, escalated,
	altinn_request_id, confirm_url, system_user_id, error_code, error_message, customer_ref, lang,
	created_at, updated_at, checked_at, connected_at, version, status_at, next_check_at,
	granted_rights, granted_packages,
	usable, usable_since, usable_checked_at, usable_outcome, usable_ok_at, usable_code, usable_message,
	org_name, origin`

// NewOnboarding is what the wizard (or staff, or the API) knows when an
// onboarding starts.
type NewOnboarding struct {
	Ref         string
	Product     string
	Kind        domain.Kind
	SystemID    string
	OrgNo       string
	ExternalRef string
	CustomerRef string
	Lang        string
	Cause       domain.Cause
	Actor       string
	// NextCheckAt is when the reconciler should first look, kept in the
	// same transaction as the row so no onboarding is ever forgotten.
	NextCheckAt *time.Time
	// GrantedRights and GrantedPackages are what an imported system user
	// holds (ImportOnboarding); CreateOnboarding ignores them.
	GrantedRights   []string
	GrantedPackages []string
	// OrgName is the name from Enhetsregisteret ("": stored as NULL).
	OrgName string
}

// CreateOnboarding stores a new onboarding in status requesting, with its
// first event, before Altinn is called, in one statement of its own (see
// CreateOnboardingTx). It returns ErrConflict when a live onboarding already
// holds the same Altinn key.
func (d *DB) CreateOnboarding(ctx context.Context, n NewOnboarding) (*domain.Onboarding, error) {
	// One statement (the row and its event): no transaction needed.
	return CreateOnboardingTx(ctx, d.Pool, n)
}

// CreateOnboardingTx is CreateOnboarding through q: the pool, or the
// caller's transaction when something goes out with the new onboarding (its
// webhook event) and must commit with it.
// It returns ErrConflict when a live onboarding already holds the same Altinn
// key; the transaction is then aborted.
func CreateOnboardingTx(ctx context.Context, q Querier, n NewOnboarding) (*domain.Onboarding, error) {
	var cref *string
	if n.CustomerRef != "" {
		cref = &n.CustomerRef
	}
	// The row and its first event in one statement: one round trip, and
	// atomic without a transaction of the caller's.
	args := eventArgs([]domain.Event{{Kind: domain.EventCreated, Cause: n.Cause, Actor: n.Actor,
		ToStatus: string(domain.StatusRequesting), Message: "onboarding started for " + n.Product}},
		[]any{n.Ref, n.Product, n.Kind, n.SystemID, n.OrgNo, n.ExternalRef, cref, n.Lang, n.NextCheckAt, originOf(n.Cause), n.OrgName})
	// It returns only what Postgres made (the id, the times, the version):
	// the rest of the row is what this statement wrote, set below as the
	// row holds it (the other columns start NULL or false), so the row is
	// not sent back and scanned column by column.
	o := &domain.Onboarding{Ref: n.Ref, Product: n.Product, Kind: n.Kind, SystemID: n.SystemID, OrgNo: n.OrgNo,
		ExternalRef: n.ExternalRef, Status: domain.StatusRequesting, CustomerRef: cref, Lang: n.Lang,
		Origin: originOf(n.Cause)}
	if n.OrgName != "" {
		name := n.OrgName
		o.OrgName = &name
	}
	err := q.QueryRow(ctx, cachedSQL("create onboarding", func() string {
		return `
		WITH o AS (
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, customer_ref, lang,
				next_check_at, origin, org_name)
			VALUES ($1, $2, $3, $4, $5, $6, 'requesting', $7, $8, $9, $10, NULLIF($11, ''))
			RETURNING id, created_at, updated_at, status_at, version, next_check_at
		), e AS (` + eventsInsertSQL("o", 1, 11) + `)
		SELECT id, created_at, updated_at, status_at, version, next_check_at FROM o`
	}), args...).Scan(&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.StatusAt, &o.Version, &o.NextCheckAt)
	if isUniqueViolation(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("db: create onboarding: %w", err)
	}
	return o, nil
}

// ImportOnboarding stores a system user that was made outside the wizard
// (directly in Altinn's portal) as a connected onboarding, with its first
// event, in a transaction of its own (see ImportOnboardingTx). It returns
// ErrConflict when a live onboarding holds the key already.
func (d *DB) ImportOnboarding(ctx context.Context, n NewOnboarding, systemUserID string) (*domain.Onboarding, error) {
	var o *domain.Onboarding
	err := d.InTx(ctx, func(q Querier) (err error) {
		o, err = ImportOnboardingTx(ctx, q, n, systemUserID)
		return err
	})
	return o, err
}

// ImportOnboardingTx is ImportOnboarding in the caller's transaction q. It
// returns ErrConflict when a live onboarding holds the key already; the
// transaction is then aborted.
func ImportOnboardingTx(ctx context.Context, q Querier, n NewOnboarding, systemUserID string) (*domain.Onboarding, error) {
	rows, err := q.Query(ctx, `
		INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, system_user_id,
			connected_at, checked_at, customer_ref, lang, next_check_at, origin, granted_rights, granted_packages, org_name)
		VALUES ($1, $2, $3, $4, $5, $6, 'connected', $7, now(), now(), NULLIF($8, ''), $9, $10, 'import', $11, $12, NULLIF($13, ''))
		RETURNING `+onboardingColumns,
		n.Ref, n.Product, n.Kind, n.SystemID, n.OrgNo, n.ExternalRef, systemUserID, n.CustomerRef, n.Lang, n.NextCheckAt,
		n.GrantedRights, n.GrantedPackages, n.OrgName)
	var o *domain.Onboarding
	if err == nil {
		o, err = pgx.CollectExactlyOneRow(rows, scanOnboardingAddr)
	}
	if err == nil {
		err = addEvent(ctx, q, domain.Event{OnboardingID: o.ID, Kind: domain.EventCreated, Cause: n.Cause, Actor: n.Actor,
			ToStatus: string(domain.StatusConnected), Message: "imported a system user created outside the wizard"})
	}
	if isUniqueViolation(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("db: import onboarding: %w", err)
	}
	return o, nil
}

// originOf is where an onboarding started, from the cause of its creation.
func originOf(cause domain.Cause) string {
	switch cause {
	case domain.CauseStaff:
		return "staff"
	case domain.CauseAPI:
		return "api"
	case domain.CauseCampaign:
		return "campaign"
	}
	return "wizard"
}

// LiveOnboarding returns the onboarding that holds the Altinn key now, if any.
func (d *DB) LiveOnboarding(ctx context.Context, systemID, orgNo, externalRef string) (*domain.Onboarding, error) {
	return d.oneOnboarding(ctx, "live onboarding", `system_id = $1 AND org_no = $2 AND external_ref = $3 AND status <> 'cancelled'`,
		systemID, orgNo, externalRef)
}

// OnboardingByRef finds an onboarding by its return reference.
func (d *DB) OnboardingByRef(ctx context.Context, ref string) (*domain.Onboarding, error) {
	return d.oneOnboarding(ctx, "onboarding by ref", `ref = $1`, ref)
}

// OnboardingByID finds an onboarding by its id.
func (d *DB) OnboardingByID(ctx context.Context, id string) (*domain.Onboarding, error) {
	return d.oneOnboarding(ctx, "onboarding by id", `id = $1`, id)
}

func (d *DB) oneOnboarding(ctx context.Context, what, where string, args ...any) (*domain.Onboarding, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+onboardingColumns+` FROM onboardings WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOnboardingAddr)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return o, nil
}

// ErrStale is returned by SaveOnboarding when the row changed since it was
// read: another request or instance saved newer news first.
var ErrStale = errors.New("db: onboarding changed since it was read")

// SaveOnboarding writes o's mutable fields and the given events in one
// statement of its own: SaveOnboardingTx, for a save that nothing else
// goes out with.
func (d *DB) SaveOnboarding(ctx context.Context, o *domain.Onboarding, prevStatus domain.Status, cause domain.Cause, actor string, events ...domain.Event) error {
	// What the UPDATE returns is kept only if the transaction commits: a
	// rolled-back save leaves o as it was read.
	updatedAt, version, statusAt := o.UpdatedAt, o.Version, o.StatusAt
	// One statement (the row and its events): no transaction needed. It
	// does not read usable as it was (nobody here asks).
	err := saveErr(saveOnboarding(ctx, d.Pool, o, prevStatus, cause, actor, nil, events))
	if err != nil {
		o.UpdatedAt, o.Version, o.StatusAt = updatedAt, version, statusAt
	}
	return err
}

// SaveOnboardingTx writes o's mutable fields and the given events through
// q (the pool, or the caller's transaction when something goes out with the
// change), in one statement, if the row is still at o.Version (ErrStale
// otherwise; ErrNotFound for no row, ErrConflict for a key another live
// onboarding holds). When the status differs from prevStatus a status event
// is added too, so the history and the current status never disagree.
// StatusAt moves to now when the status changes; the caller keeps
// NextCheckAt in step with the status (the onboarding service does). It
// sets o's UpdatedAt, Version and StatusAt from the row, and returns usable
// as it was before the save (nil: not checked), so the caller can tell a
// usability change (domain.UsabilityChanged) and write what goes out with
// it in the same transaction. A caller whose transaction does not commit
// restores those fields itself.
func SaveOnboardingTx(ctx context.Context, q Querier, o *domain.Onboarding, prevStatus domain.Status, cause domain.Cause, actor string, events ...domain.Event) (prevUsable *bool, err error) {
	err = saveErr(saveOnboarding(ctx, q, o, prevStatus, cause, actor, &prevUsable, events))
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrStale) {
		return nil, err
	}
	return prevUsable, err
}

// saveErr is saveOnboarding's error as SaveOnboarding and SaveOnboardingTx
// return it.
func saveErr(err error) error {
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrStale) {
		return fmt.Errorf("db: save onboarding: %w", err)
	}
	return err
}

func saveOnboarding(ctx context.Context, q Querier, o *domain.Onboarding, prevStatus domain.Status, cause domain.Cause, actor string, prevUsable **bool, events []domain.Event) error {
	// before is the row as it was: the version check makes it the row o
	// was read as, so its usable is the value before this save. The row
	// and its events (the calls', then the status change's) are one
	// statement: one round trip, atomic without the caller's transaction;
	// a row at another version updates nothing and so adds no events.
	args := []any{o.ID, o.Status, o.Escalated, o.AltinnRequestID, o.ConfirmURL, o.SystemUserID,
		o.ErrorCode, o.ErrorMessage, o.CheckedAt, o.ConnectedAt, o.Version, o.NextCheckAt,
		o.GrantedRights, o.GrantedPackages,
		o.Usable, o.UsableSince, o.UsableCheckedAt, o.UsableOutcome, o.UsableOKAt, o.UsableCode, o.UsableMessage}
	all := events
	if o.Status != prevStatus {
		msg := ""
		if o.ErrorMessage != nil {
			msg = *o.ErrorMessage
		}
		st := domain.Event{Kind: domain.EventStatus, Cause: cause, Actor: actor,
			FromStatus: string(prevStatus), ToStatus: string(o.Status), Message: msg}
		if n := len(all); n > 0 && carriesStatus(all[n-1], st) {
			// The call that moved the status keeps the change in its row
			// (see carriesStatus): one events row fewer, the same events.
			call := all[n-1]
			call.FromStatus, call.ToStatus = st.FromStatus, st.ToStatus
			all = append(all[:n-1:n-1], call)
		} else {
			all = append(all[:len(all):len(all)], st)
		}
	}
	args = eventArgs(all, args)
	// Usable as it was is read (a self-join) only for a caller that asks
	// for it (prevUsable not nil).
	key := saveSQLKey{events: len(all), before: prevUsable != nil}
	row := q.QueryRow(ctx, cachedSQL(key, func() string { return saveSQL(key) }), args...)
	dest := []any{&o.UpdatedAt, &o.Version, &o.StatusAt}
	if prevUsable != nil {
		dest = append(dest, prevUsable)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM onboardings WHERE id = $1)`, o.ID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return ErrStale
			}
			return ErrNotFound
		}
		return err
	}
	return nil
}

// saveSQLKey names a saveSQL statement among the cached statements: its
// number of events rows, and whether it reads usable as it was.
type saveSQLKey struct {
	events int
	before bool
}

// saveSQL is saveOnboarding's statement with k.events events rows after
// its 21 parameters; with k.before it also returns usable as it was before
// the save.
func saveSQL(k saveSQLKey) string {
	withEvents := ""
	if k.events > 0 {
		withEvents = `, e AS (` + eventsInsertSQL("u", k.events, 21) + `)`
	}
	from, returning, sel := "", "", "SELECT updated_at, version, status_at FROM u"
	if k.before {
		from = `
			FROM (SELECT usable FROM onboardings WHERE id = $1) AS before`
		returning, sel = ", before.usable", "SELECT updated_at, version, status_at, usable FROM u"
	}
	return `
		WITH u AS (
			UPDATE onboardings SET status = $2, escalated = $3, altinn_request_id = $4, confirm_url = $5,
				system_user_id = $6, error_code = $7, error_message = $8, checked_at = $9, connected_at = $10,
				status_at = CASE WHEN onboardings.status = $2 THEN onboardings.status_at ELSE now() END, next_check_at = $12,
				granted_rights = $13, granted_packages = $14,
				usable = $15, usable_since = $16, usable_checked_at = $17, usable_outcome = $18, usable_ok_at = $19,
				usable_code = $20, usable_message = $21,
				updated_at = now(), version = onboardings.version + 1` + from + `
			WHERE onboardings.id = $1 AND onboardings.version = $11
			RETURNING onboardings.id, onboardings.updated_at, onboardings.version, onboardings.status_at` + returning + `
		)` + withEvents + `
		` + sel
}

// scanOnboardingAddr is scanOnboarding (list.go: by position, no matching
// of names by reflection for every row) for a single row read.
func scanOnboardingAddr(row pgx.CollectableRow) (*domain.Onboarding, error) {
	o, err := scanOnboarding(row)
	if err != nil {
		return nil, err
	}
	return &o, nil
}
