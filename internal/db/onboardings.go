package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Onboarding statuses; see shared/DESIGN.md for the life they describe.
const (
	StatusStarted    = "started"
	StatusRequesting = "requesting"
	StatusPending    = "pending"
	StatusAccepted   = "accepted"
	StatusConnected  = "connected"
	StatusRejected   = "rejected"
	StatusExpired    = "expired"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusRevoked    = "revoked"
)

// Onboarding is one customer organisation being connected to one product.
type Onboarding struct {
	ID              string     `db:"id"`
	Ref             string     `db:"ref"`
	Product         string     `db:"product"`
	Kind            string     `db:"kind"`
	SystemID        string     `db:"system_id"`
	OrgNo           string     `db:"org_no"`
	ExternalRef     string     `db:"external_ref"`
	Status          string     `db:"status"`
	Escalated       bool       `db:"escalated"`
	AltinnRequestID *string    `db:"altinn_request_id"`
	ConfirmURL      *string    `db:"confirm_url"`
	SystemUserID    *string    `db:"system_user_id"`
	ErrorCode       *string    `db:"error_code"`
	ErrorMessage    *string    `db:"error_message"`
	CustomerRef     *string    `db:"customer_ref"`
	Lang            string     `db:"lang"`
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	CheckedAt       *time.Time `db:"checked_at"`
	ConnectedAt     *time.Time `db:"connected_at"`
	Version         int        `db:"version"`
	// StatusAt is when the status last changed: the age the reconciler's
	// schedule counts from.
	StatusAt time.Time `db:"status_at"`
	// NextCheckAt is when the reconciler should next re-read the onboarding
	// from Altinn; nil when it is final and nothing is left to notice.
	NextCheckAt *time.Time `db:"next_check_at"`
	// GrantedRights (resource ids) and GrantedPackages (URNs) are what the
	// customer's system user was granted: set when it becomes connected and
	// moved on by accepted change requests. Nil means unknown (a row from
	// before they were kept), which counts as the product's current
	// configuration; an empty slice means none.
	GrantedRights   []string `db:"granted_rights"`
	GrantedPackages []string `db:"granted_packages"`

	// Usable is whether Maskinporten issued a system-user token for the
	// system user when it was last asked (the token is thrown away): nil
	// when not checked (yet, or since the onboarding last became
	// connected). It means something only while the onboarding is
	// connected; the service clears it when it leaves. An attempt that got
	// no answer (UsableUnavailable) leaves it as it was.
	Usable *bool `db:"usable"`
	// UsableSince is when Usable took its current value.
	UsableSince *time.Time `db:"usable_since"`
	// UsableCheckedAt is the last attempt, whatever came of it, and
	// UsableOutcome what it gave (UsableOK, UsableFailed, UsableUnavailable).
	UsableCheckedAt *time.Time `db:"usable_checked_at"`
	UsableOutcome   *string    `db:"usable_outcome"`
	// UsableOKAt is when a token was last issued; kept after a failure.
	UsableOKAt *time.Time `db:"usable_ok_at"`
	// UsableCode and UsableMessage say why it is not usable: Maskinporten's
	// MP-nnn code (or its OAuth error code when the answer had none) and
	// its error_description. Nil while usable or unknown.
	UsableCode    *string `db:"usable_code"`
	UsableMessage *string `db:"usable_message"`
}

// Outcomes of a usability check (Onboarding.UsableOutcome, and the to_status
// of its EventUsability).
const (
	UsableOK          = "usable"      // Maskinporten issued the token
	UsableFailed      = "not_usable"  // Maskinporten refused it (a 4xx)
	UsableUnavailable = "unavailable" // no answer, or a 5xx: could not check
	// UsableSkipped is the to_status of an event that says no check was
	// made, because the product has no scopes to ask for; never stored on
	// the onboarding.
	UsableSkipped = "skipped"
)

const onboardingColumns = `id, ref, product, kind, system_id, org_no, external_ref, status, escalated,
	altinn_request_id, confirm_url, system_user_id, error_code, error_message, customer_ref, lang,
	created_at, updated_at, checked_at, connected_at, version, status_at, next_check_at,
	granted_rights, granted_packages,
	usable, usable_since, usable_checked_at, usable_outcome, usable_ok_at, usable_code, usable_message`

// NewOnboarding is what the wizard (or staff, or the API) knows when an
// onboarding starts.
type NewOnboarding struct {
	Ref         string
	Product     string
	Kind        string
	SystemID    string
	OrgNo       string
	ExternalRef string
	CustomerRef string
	Lang        string
	Cause       string
	Actor       string
	// NextCheckAt is when the reconciler should first look, kept in the
	// same transaction as the row so no onboarding is ever forgotten.
	NextCheckAt *time.Time
	// GrantedRights and GrantedPackages are what an imported system user
	// holds (ImportOnboarding); CreateOnboarding ignores them.
	GrantedRights   []string
	GrantedPackages []string
}

// CreateOnboarding stores a new onboarding in status requesting, with its
// first event, before Altinn is called. It returns ErrConflict when a live
// onboarding already holds the same Altinn key.
func (d *DB) CreateOnboarding(ctx context.Context, n NewOnboarding) (*Onboarding, error) {
	var o *Onboarding
	err := d.InTx(ctx, func(q Querier) error {
		var cref *string
		if n.CustomerRef != "" {
			cref = &n.CustomerRef
		}
		rows, err := q.Query(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, customer_ref, lang,
				next_check_at, origin)
			VALUES ($1, $2, $3, $4, $5, $6, 'requesting', $7, $8, $9, $10)
			RETURNING `+onboardingColumns,
			n.Ref, n.Product, n.Kind, n.SystemID, n.OrgNo, n.ExternalRef, cref, n.Lang, n.NextCheckAt, originOf(n.Cause))
		if err != nil {
			return err
		}
		o, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Onboarding])
		if err != nil {
			return err
		}
		if err := addEvent(ctx, q, Event{OnboardingID: o.ID, Kind: EventCreated, Cause: n.Cause, Actor: n.Actor,
			ToStatus: StatusRequesting, Message: "onboarding started for " + n.Product}); err != nil {
			return err
		}
		return d.statusChanged(ctx, q, o, "")
	})
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
// event. It returns ErrConflict when a live onboarding holds the key already.
func (d *DB) ImportOnboarding(ctx context.Context, n NewOnboarding, systemUserID string) (*Onboarding, error) {
	var o *Onboarding
	err := d.InTx(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, system_user_id,
				connected_at, checked_at, customer_ref, lang, next_check_at, origin, granted_rights, granted_packages)
			VALUES ($1, $2, $3, $4, $5, $6, 'connected', $7, now(), now(), NULLIF($8, ''), $9, $10, 'import', $11, $12)
			RETURNING `+onboardingColumns,
			n.Ref, n.Product, n.Kind, n.SystemID, n.OrgNo, n.ExternalRef, systemUserID, n.CustomerRef, n.Lang, n.NextCheckAt,
			n.GrantedRights, n.GrantedPackages)
		if err != nil {
			return err
		}
		o, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Onboarding])
		if err != nil {
			return err
		}
		if err := addEvent(ctx, q, Event{OnboardingID: o.ID, Kind: EventCreated, Cause: n.Cause, Actor: n.Actor,
			ToStatus: StatusConnected, Message: "imported a system user created outside the wizard"}); err != nil {
			return err
		}
		return d.statusChanged(ctx, q, o, "")
	})
	if isUniqueViolation(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("db: import onboarding: %w", err)
	}
	return o, nil
}

// originOf is where an onboarding started, from the cause of its creation.
func originOf(cause string) string {
	switch cause {
	case CauseStaff:
		return "staff"
	case CauseAPI:
		return "api"
	case CauseCampaign:
		return "campaign"
	}
	return "wizard"
}

// LiveOnboarding returns the onboarding that holds the Altinn key now, if any.
func (d *DB) LiveOnboarding(ctx context.Context, systemID, orgNo, externalRef string) (*Onboarding, error) {
	return d.oneOnboarding(ctx, "live onboarding", `system_id = $1 AND org_no = $2 AND external_ref = $3 AND status <> 'cancelled'`,
		systemID, orgNo, externalRef)
}

// OnboardingByRef finds an onboarding by its return reference.
func (d *DB) OnboardingByRef(ctx context.Context, ref string) (*Onboarding, error) {
	return d.oneOnboarding(ctx, "onboarding by ref", `ref = $1`, ref)
}

// OnboardingByID finds an onboarding by its id.
func (d *DB) OnboardingByID(ctx context.Context, id string) (*Onboarding, error) {
	return d.oneOnboarding(ctx, "onboarding by id", `id = $1`, id)
}

func (d *DB) oneOnboarding(ctx context.Context, what, where string, args ...any) (*Onboarding, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+onboardingColumns+` FROM onboardings WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Onboarding])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return o, nil
}

// UsabilityChanged reports whether a save that moves usable from prev to
// next is news: it became true or false and was not that before. Becoming
// unknown again (the onboarding left connected) is not: its status change
// tells.
func UsabilityChanged(prev, next *bool) bool {
	return next != nil && (prev == nil || *prev != *next)
}

// ErrStale is returned by SaveOnboarding when the row changed since it was
// read: another request or instance saved newer news first.
var ErrStale = errors.New("db: onboarding changed since it was read")

// SaveOnboarding writes o's mutable fields and the given events in one
// transaction, if the row is still at o.Version (ErrStale otherwise). When the
// status differs from prevStatus a status event is added too, so the history
// and the current status never disagree (and the OnStatusChange hook runs in
// the same transaction). When Usable becomes true or false and was not that
// before, the OnUsabilityChange hook runs in the transaction too. StatusAt
// moves to now when the status changes; the caller keeps NextCheckAt in step
// with the status (the onboarding service does).
func (d *DB) SaveOnboarding(ctx context.Context, o *Onboarding, prevStatus string, cause, actor string, events ...Event) error {
	// What the UPDATE returns is kept only if the transaction commits: a
	// rolled-back save (a failed event or hook) leaves o as it was read.
	updatedAt, version, statusAt := o.UpdatedAt, o.Version, o.StatusAt
	err := d.InTx(ctx, func(q Querier) error {
		// before is the row as it was: the version check makes it the row
		// o was read as, so its usable is the value before this save.
		var prevUsable *bool
		row := q.QueryRow(ctx, `
			UPDATE onboardings SET status = $2, escalated = $3, altinn_request_id = $4, confirm_url = $5,
				system_user_id = $6, error_code = $7, error_message = $8, checked_at = $9, connected_at = $10,
				status_at = CASE WHEN onboardings.status = $2 THEN onboardings.status_at ELSE now() END, next_check_at = $12,
				granted_rights = $13, granted_packages = $14,
				usable = $15, usable_since = $16, usable_checked_at = $17, usable_outcome = $18, usable_ok_at = $19,
				usable_code = $20, usable_message = $21,
				updated_at = now(), version = onboardings.version + 1
			FROM (SELECT usable FROM onboardings WHERE id = $1) AS before
			WHERE onboardings.id = $1 AND onboardings.version = $11
			RETURNING onboardings.updated_at, onboardings.version, onboardings.status_at, before.usable`,
			o.ID, o.Status, o.Escalated, o.AltinnRequestID, o.ConfirmURL, o.SystemUserID,
			o.ErrorCode, o.ErrorMessage, o.CheckedAt, o.ConnectedAt, o.Version, o.NextCheckAt,
			o.GrantedRights, o.GrantedPackages,
			o.Usable, o.UsableSince, o.UsableCheckedAt, o.UsableOutcome, o.UsableOKAt, o.UsableCode, o.UsableMessage)
		if err := row.Scan(&o.UpdatedAt, &o.Version, &o.StatusAt, &prevUsable); err != nil {
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
		for _, e := range events {
			e.OnboardingID = o.ID
			if err := addEvent(ctx, q, e); err != nil {
				return err
			}
		}
		if o.Status != prevStatus {
			msg := ""
			if o.ErrorMessage != nil {
				msg = *o.ErrorMessage
			}
			if err := addEvent(ctx, q, Event{OnboardingID: o.ID, Kind: EventStatus, Cause: cause, Actor: actor,
				FromStatus: prevStatus, ToStatus: o.Status, Message: msg}); err != nil {
				return err
			}
			if err := d.statusChanged(ctx, q, o, prevStatus); err != nil {
				return err
			}
		}
		if UsabilityChanged(prevUsable, o.Usable) {
			return d.usabilityChanged(ctx, q, o, prevUsable)
		}
		return nil
	})
	if err != nil {
		o.UpdatedAt, o.Version, o.StatusAt = updatedAt, version, statusAt
	}
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrStale) {
		return fmt.Errorf("db: save onboarding: %w", err)
	}
	return err
}
