package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

const changeColumns = `id, onboarding_id, ref, system_user_id, required_rights, unwanted_rights,
	required_packages, unwanted_packages, status, confirm_url, error_code, error_message, cause,
	coalesce(actor, '') AS actor, created_at, updated_at, checked_at, version`

// NewChangeRequest is what is known before Altinn is asked: the correlation
// id and return reference made by the caller, and the change.
type NewChangeRequest struct {
	ID               string
	OnboardingID     string
	Ref              string
	SystemUserID     string
	RequiredRights   []string
	UnwantedRights   []string
	RequiredPackages []string
	UnwantedPackages []string
	Cause            domain.Cause
	Actor            string
}

// CreateChangeRequest stores a change request in status requesting, with a
// change event on its onboarding's timeline, before Altinn is called. It
// returns ErrConflict when the onboarding already has a live one.
func (d *DB) CreateChangeRequest(ctx context.Context, n NewChangeRequest) (*domain.ChangeRequest, error) {
	var c *domain.ChangeRequest
	err := d.InTx(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `
			INSERT INTO change_requests (id, onboarding_id, ref, system_user_id, required_rights, unwanted_rights,
				required_packages, unwanted_packages, status, cause, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'requesting', $9, NULLIF($10, ''))
			RETURNING `+changeColumns,
			n.ID, n.OnboardingID, n.Ref, n.SystemUserID, list(n.RequiredRights), list(n.UnwantedRights),
			list(n.RequiredPackages), list(n.UnwantedPackages), n.Cause, n.Actor)
		if err != nil {
			return err
		}
		c, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[domain.ChangeRequest])
		if err != nil {
			return err
		}
		return addEvent(ctx, q, domain.Event{OnboardingID: n.OnboardingID, Kind: domain.EventChange, Cause: n.Cause, Actor: n.Actor,
			ToStatus: string(domain.ChangeRequesting), Message: "change request " + c.ID + " started: " + c.Summary()})
	})
	if isUniqueViolation(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("db: create change request: %w", err)
	}
	return c, nil
}

// LiveChangeRequest returns the onboarding's requesting or pending change
// request, or ErrNotFound.
func (d *DB) LiveChangeRequest(ctx context.Context, onboardingID string) (*domain.ChangeRequest, error) {
	return d.oneChange(ctx, "live change request", `onboarding_id = $1 AND status IN ('requesting', 'pending')`, onboardingID)
}

// ChangeRequestByRef finds a change request by its return reference.
func (d *DB) ChangeRequestByRef(ctx context.Context, ref string) (*domain.ChangeRequest, error) {
	return d.oneChange(ctx, "change request by ref", `ref = $1`, ref)
}

// ChangeRequestByID finds a change request by its id (the correlation id).
func (d *DB) ChangeRequestByID(ctx context.Context, id string) (*domain.ChangeRequest, error) {
	return d.oneChange(ctx, "change request by id", `id = $1`, id)
}

func (d *DB) oneChange(ctx context.Context, what, where string, args ...any) (*domain.ChangeRequest, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+changeColumns+` FROM change_requests WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[domain.ChangeRequest])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return c, nil
}

// ChangeRequests returns an onboarding's change requests, newest first.
func (d *DB) ChangeRequests(ctx context.Context, onboardingID string) ([]domain.ChangeRequest, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+changeColumns+` FROM change_requests
		WHERE onboarding_id = $1 ORDER BY created_at DESC, id`, onboardingID)
	if err != nil {
		return nil, fmt.Errorf("db: change requests: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[domain.ChangeRequest])
	if err != nil {
		return nil, fmt.Errorf("db: change requests: %w", err)
	}
	return cs, nil
}

// GrantMove asks SaveChangeRequest to apply a change that took effect to
// its onboarding's grants.
type GrantMove struct {
	// Onboarding gets the new grants, version and updated time.
	Onboarding *domain.Onboarding
	// BaseRights and BasePackages are what the onboarding counts as holding
	// when its grants were never recorded: its product's configuration.
	BaseRights, BasePackages []string
}

// SaveChangeRequest is SaveChangeRequestTx in a transaction of its own, for
// a save that nothing else goes out with. With a GrantMove whose Onboarding
// is set, that onboarding gets the new grants, version and updated time once
// they are committed.
func (d *DB) SaveChangeRequest(ctx context.Context, c *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *GrantMove, events ...domain.Event) error {
	updatedAt, version := c.UpdatedAt, c.Version
	var moved *MovedGrants
	err := d.InTx(ctx, func(q Querier) (err error) {
		moved, err = SaveChangeRequestTx(ctx, q, c, prev, cause, actor, move, events...)
		return err
	})
	if err != nil {
		c.UpdatedAt, c.Version = updatedAt, version
		return err
	}
	if move != nil {
		moved.ApplyTo(move.Onboarding)
	}
	return nil
}

// MovedGrants is what SaveChangeRequestTx made an onboarding's grants, with
// the row's new version and updated time.
type MovedGrants struct {
	Rights, Packages []string
	UpdatedAt        time.Time
	Version          int
}

// ApplyTo gives o the moved grants, version and updated time; nothing for a
// nil g or o.
func (g *MovedGrants) ApplyTo(o *domain.Onboarding) {
	if g == nil || o == nil {
		return
	}
	o.GrantedRights, o.GrantedPackages, o.UpdatedAt, o.Version = g.Rights, g.Packages, g.UpdatedAt, g.Version
}

// SaveChangeRequestTx writes c's status, confirm URL, error and checked time
// through q, the caller's transaction, if the row is still at c.Version
// (ErrStale otherwise, ErrNotFound for no row), with events on its
// onboarding's timeline and a change event when the status moved from prev.
// With a GrantMove (the change took effect: accepted, or nothing needed
// changing), the onboarding's granted rights and packages become what it
// held plus c's required lists, less its unwanted ones, and are returned
// (nil without a move). That write bumps the onboarding's version without
// checking it, so a writer holding the older row re-reads rather than
// overwrite the grants. It sets c's UpdatedAt and Version; a caller whose
// transaction does not commit restores them itself (and applies the moved
// grants only once it has committed).
func SaveChangeRequestTx(ctx context.Context, q Querier, c *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *GrantMove, events ...domain.Event) (*MovedGrants, error) {
	moved, err := saveChangeRequest(ctx, q, c, prev, cause, actor, move, events)
	if err != nil && !errors.Is(err, ErrStale) && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: save change request: %w", err)
	}
	return moved, err
}

func saveChangeRequest(ctx context.Context, q Querier, c *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *GrantMove, events []domain.Event) (*MovedGrants, error) {
	err := q.QueryRow(ctx, `
		UPDATE change_requests SET status = $2, confirm_url = $3, error_code = $4, error_message = $5,
			checked_at = $6, updated_at = now(), version = version + 1
		WHERE id = $1 AND version = $7
		RETURNING updated_at, version`,
		c.ID, c.Status, c.ConfirmURL, c.ErrorCode, c.ErrorMessage, c.CheckedAt, c.Version).Scan(&c.UpdatedAt, &c.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM change_requests WHERE id = $1)`, c.ID).Scan(&exists); err != nil {
			return nil, err
		}
		if exists {
			return nil, ErrStale
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		e.OnboardingID = c.OnboardingID
		if err := addEvent(ctx, q, e); err != nil {
			return nil, err
		}
	}
	if c.Status != prev {
		msg := "change request " + c.ID
		if c.ErrorMessage != nil {
			msg += ": " + *c.ErrorMessage
		}
		if err := addEvent(ctx, q, domain.Event{OnboardingID: c.OnboardingID, Kind: domain.EventChange, Cause: cause, Actor: actor,
			FromStatus: string(prev), ToStatus: string(c.Status), Message: msg}); err != nil {
			return nil, err
		}
	}
	if move == nil {
		return nil, nil
	}
	var rights, packages []string
	if err := q.QueryRow(ctx, `SELECT granted_rights, granted_packages FROM onboardings WHERE id = $1 FOR UPDATE`,
		c.OnboardingID).Scan(&rights, &packages); err != nil {
		return nil, err
	}
	if rights == nil {
		rights = move.BaseRights
	}
	if packages == nil {
		packages = move.BasePackages
	}
	g := &MovedGrants{Rights: moveGrants(rights, c.RequiredRights, c.UnwantedRights),
		Packages: moveGrants(packages, c.RequiredPackages, c.UnwantedPackages)}
	if err := q.QueryRow(ctx, `
		UPDATE onboardings SET granted_rights = $2, granted_packages = $3, updated_at = now(), version = version + 1
		WHERE id = $1 RETURNING updated_at, version`,
		c.OnboardingID, g.Rights, g.Packages).Scan(&g.UpdatedAt, &g.Version); err != nil {
		return nil, err
	}
	return g, nil
}

// moveGrants is held plus add, less remove, sorted and without repeats;
// never nil, so it is stored as "none" rather than "unknown".
func moveGrants(held, add, remove []string) []string {
	out := []string{}
	for _, g := range slices.Concat(held, add) {
		if !slices.Contains(remove, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// list is l as a never-nil slice, stored as '{}' rather than NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// lackingWhere selects the connected onboardings of product $1 whose recorded
// grants differ, as sets, from the configured rights $2 and packages $3 (a
// NULL grant counts as the configuration), and that have no live change
// request.
const lackingWhere = ` FROM onboardings o
	WHERE o.product = $1 AND o.status = 'connected'
	  AND ((o.granted_rights IS NOT NULL AND NOT (o.granted_rights @> $2::text[] AND o.granted_rights <@ $2::text[]))
	    OR (o.granted_packages IS NOT NULL AND NOT (o.granted_packages @> $3::text[] AND o.granted_packages <@ $3::text[])))
	  AND NOT EXISTS (SELECT 1 FROM change_requests c
	                  WHERE c.onboarding_id = o.id AND c.status IN ('requesting', 'pending'))`

// OnboardingsLacking lists the ids of connected onboardings of the product
// whose granted rights/packages differ from the given (configured) ones and
// that have no live change request, oldest first.
func (d *DB) OnboardingsLacking(ctx context.Context, product string, rights, packages []string) ([]string, error) {
	rows, err := d.Pool.Query(ctx, `SELECT o.id`+lackingWhere+` ORDER BY o.created_at, o.id`,
		product, list(rights), list(packages))
	if err != nil {
		return nil, fmt.Errorf("db: onboardings lacking: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: onboardings lacking: %w", err)
	}
	return ids, nil
}

// LackingOnboardings is OnboardingsLacking for a page: the first limit
// onboardings, oldest first, and how many there are in all.
func (d *DB) LackingOnboardings(ctx context.Context, product string, rights, packages []string, limit int) ([]domain.Onboarding, int, error) {
	var total int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*)`+lackingWhere, product, list(rights), list(packages)).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("db: lacking onboardings: %w", err)
	}
	rows, err := d.Pool.Query(ctx, `SELECT `+prefixed("o.", onboardingColumns)+lackingWhere+` ORDER BY o.created_at, o.id LIMIT $4`,
		product, list(rights), list(packages), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("db: lacking onboardings: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[domain.Onboarding])
	if err != nil {
		return nil, 0, fmt.Errorf("db: lacking onboardings: %w", err)
	}
	return found, total, nil
}

// LiveChangeCount is how many onboardings of the product have a change
// request waiting (requesting or pending).
func (d *DB) LiveChangeCount(ctx context.Context, product string) (int, error) {
	var n int
	err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM change_requests c JOIN onboardings o ON o.id = c.onboarding_id
		WHERE o.product = $1 AND c.status IN ('requesting', 'pending')`, product).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: live change count: %w", err)
	}
	return n, nil
}

// prefixed qualifies each column of a column list with p ("o.").
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// CheckOnboardingBy brings a connected onboarding's next look by the
// reconciler forward to at (never later than it was), for a change request
// waiting on it. It leaves the version alone: this is the schedule, not news.
func (d *DB) CheckOnboardingBy(ctx context.Context, onboardingID string, at time.Time) error {
	_, err := d.Pool.Exec(ctx, `UPDATE onboardings SET next_check_at = $2
		WHERE id = $1 AND status = 'connected' AND (next_check_at IS NULL OR next_check_at > $2)`, onboardingID, at)
	if err != nil {
		return fmt.Errorf("db: schedule onboarding: %w", err)
	}
	return nil
}
