package db

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// PersonLogin is a person's ID-porten login for one agent onboarding
// (migrations/00020_clients.sql). Pending and Token are sealed by the
// caller (internal/sealed) with the row's ID: the database never holds them
// in the clear.
type PersonLogin struct {
	ID           string     `db:"id"`
	OnboardingID string     `db:"onboarding_id"`
	Pending      []byte     `db:"pending"`
	Token        []byte     `db:"token"`
	TokenExpires *time.Time `db:"token_expires"`
	Subject      string     `db:"subject"`
	CreatedAt    time.Time  `db:"created_at"`
	ExpiresAt    time.Time  `db:"expires_at"`
}

const loginColumns = `id, onboarding_id, pending, token, token_expires, coalesce(subject, '') AS subject, created_at, expires_at`

// CreatePersonLogin stores a login with the id the caller made (so it can
// seal pending with it first), for the browser cookie whose SHA-256 is
// cookieHash, ending at expires.
func (d *DB) CreatePersonLogin(ctx context.Context, id string, cookieHash []byte, onboardingID string, pending []byte, expires time.Time) error {
	_, err := d.Pool.Exec(ctx, `
		INSERT INTO person_logins (id, cookie_hash, onboarding_id, pending, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, id, cookieHash, onboardingID, pending, expires)
	if err != nil {
		return fmt.Errorf("db: create person login: %w", err)
	}
	return nil
}

// PersonLoginByCookie returns the live login of the cookie whose SHA-256 is
// cookieHash, or ErrNotFound (none, or ended).
func (d *DB) PersonLoginByCookie(ctx context.Context, cookieHash []byte) (*PersonLogin, error) {
	return d.personLogin(ctx, `cookie_hash = $1`, cookieHash)
}

// PersonLoginByID returns a live login, or ErrNotFound.
func (d *DB) PersonLoginByID(ctx context.Context, id string) (*PersonLogin, error) {
	if !IsUUID(id) {
		return nil, ErrNotFound
	}
	return d.personLogin(ctx, `id = $1`, id)
}

func (d *DB) personLogin(ctx context.Context, where string, arg any) (*PersonLogin, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+loginColumns+` FROM person_logins WHERE `+where+` AND expires_at > now()`, arg)
	if err != nil {
		return nil, fmt.Errorf("db: person login: %w", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[PersonLogin])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: person login: %w", err)
	}
	return l, nil
}

// CompletePersonLogin stores the logged-in person's sealed token, its
// expiry and who they are, and forgets what the login had to remember
// (pending: it works once). It returns ErrNotFound when the login has
// ended or was completed already.
func (d *DB) CompletePersonLogin(ctx context.Context, id string, token []byte, tokenExpires time.Time, subject string) error {
	tag, err := d.Pool.Exec(ctx, `
		UPDATE person_logins SET token = $2, token_expires = $3, subject = $4, pending = NULL,
			expires_at = greatest(expires_at, $3)
		WHERE id = $1 AND pending IS NOT NULL AND expires_at > now()`, id, token, tokenExpires, truncate(subject, 200))
	if err != nil {
		return fmt.Errorf("db: complete person login: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// RenewPersonToken replaces a live login's sealed token under a row lock,
// so of several workers that find it running out one refreshes it and the
// others get the new one: renew gets the token as stored now and returns
// the one to store (nil: nothing to store) and its expiry. The
// login then lasts at least as long as the token, but never past until.
// It returns ErrNotFound when the login has ended.
func (d *DB) RenewPersonToken(ctx context.Context, id string, until time.Time, renew func(token []byte) ([]byte, time.Time, error)) error {
	if !IsUUID(id) {
		return ErrNotFound
	}
	return d.InTx(ctx, func(q Querier) error {
		var token []byte
		err := q.QueryRow(ctx, `SELECT token FROM person_logins WHERE id = $1 AND expires_at > now() AND token IS NOT NULL FOR UPDATE`, id).Scan(&token)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("db: renew person token: %w", err)
		}
		next, exp, err := renew(token)
		if err != nil || next == nil {
			return err
		}
		if _, err := q.Exec(ctx, `
			UPDATE person_logins SET token = $2, token_expires = $3, expires_at = least(greatest(expires_at, $3), $4)
			WHERE id = $1`, id, next, exp, until); err != nil {
			return fmt.Errorf("db: renew person token: %w", err)
		}
		return nil
	})
}

// EndPersonLogin deletes a login (the person logged out, or it failed).
func (d *DB) EndPersonLogin(ctx context.Context, id string) error {
	if _, err := d.Pool.Exec(ctx, `DELETE FROM person_logins WHERE id = $1`, id); err != nil {
		return fmt.Errorf("db: end person login: %w", err)
	}
	return nil
}

// PrunePersonLogins deletes up to batch logins that ended before before
// (their sealed tokens with them), for the hourly prune job; clients that
// named one keep their rows (login_id becomes NULL).
func (d *DB) PrunePersonLogins(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := d.Pool.Exec(ctx, `
		DELETE FROM person_logins WHERE id IN (
			SELECT id FROM person_logins WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`, before, batch)
	if err != nil {
		return 0, fmt.Errorf("db: prune person logins: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Client is one client of an agent onboarding.
type Client struct {
	OnboardingID string              `db:"onboarding_id"`
	ClientID     string              `db:"client_id"`
	OrgNo        string              `db:"org_no"`
	OrgName      string              `db:"org_name"`
	State        domain.ClientState  `db:"state"`
	Reason       domain.ClientReason `db:"reason"`
	Attempts     int                 `db:"attempts"`
	LoginID      *string             `db:"login_id"`
	ChangedBy    string              `db:"changed_by"`
	ChangedAt    time.Time           `db:"changed_at"`
	NextAt       *time.Time          `db:"next_at"`
}

const clientColumns = `onboarding_id, client_id, org_no, org_name, state, reason, attempts, login_id, changed_by, changed_at, next_at`

// ClientRef names a client as Altinn lists it.
type ClientRef struct {
	ID      string // party UUID
	OrgNo   string
	OrgName string
}

// AskClientsTx marks clients to be added (remove false) or removed, through
// the login loginID, by the person by, and returns the ones that now wait
// for a try: an add skips clients already delegated or being added, a
// removal those already removed or being removed, so asking twice sends
// nothing twice. A client that failed is asked again.
// It runs in the caller's transaction, so the jobs that carry the clients
// out are enqueued with it (River's InsertManyTx).
func AskClientsTx(ctx context.Context, q Querier, onboardingID, loginID, by string, remove bool, clients []ClientRef) ([]Client, error) {
	state, skip := domain.ClientAdding, []string{string(domain.ClientDelegated), string(domain.ClientAdding)}
	if remove {
		state, skip = domain.ClientRemoving, []string{string(domain.ClientRemoved), string(domain.ClientRemoving)}
	}
	ids, orgs, names, err := clientColumnsOf(clients)
	if err != nil {
		return nil, fmt.Errorf("db: ask clients: %w", err)
	}
	rows, err := q.Query(ctx, `
		INSERT INTO onboarding_clients AS c (onboarding_id, client_id, org_no, org_name, state, login_id, changed_by, next_at)
		SELECT $1, u.id::uuid, u.org, u.name, $5, $2, $3, now()
		FROM unnest($6::text[], $7::text[], $8::text[]) AS u(id, org, name)
		ON CONFLICT (onboarding_id, client_id) DO UPDATE
			SET state = excluded.state, reason = '', attempts = 0, login_id = excluded.login_id,
				changed_by = excluded.changed_by, changed_at = now(), next_at = now(),
				org_no = excluded.org_no, org_name = excluded.org_name
			WHERE NOT (c.state = ANY($4::text[]))
		RETURNING `+clientColumns,
		onboardingID, loginID, by, skip, state, ids, orgs, names)
	if err != nil {
		return nil, fmt.Errorf("db: ask clients: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Client])
	if err != nil {
		return nil, fmt.Errorf("db: ask clients: %w", err)
	}
	return out, nil
}

// ClaimClient takes one client's try for lease: a client in state whose
// next try is due (next_at, with a second's tolerance for clocks) gets its
// next_at moved on by lease and is returned, so of two jobs for one client
// only one calls Altinn. A client whose try is not due yet returns nil and
// how long until it is; one in another state, or waiting for nothing (no
// next_at: settled, or waiting for a login), nil and 0.
func (d *DB) ClaimClient(ctx context.Context, onboardingID, clientID string, state domain.ClientState, lease time.Duration) (*Client, time.Duration, error) {
	if !IsUUID(onboardingID) || !IsUUID(clientID) {
		return nil, 0, nil
	}
	rows, err := d.Pool.Query(ctx, `
		UPDATE onboarding_clients SET next_at = now() + $4 * interval '1 millisecond'
		WHERE onboarding_id = $1 AND client_id = $2 AND state = $3
			AND next_at IS NOT NULL AND next_at <= now() + interval '1 second'
		RETURNING `+clientColumns, onboardingID, clientID, state, lease.Milliseconds())
	if err != nil {
		return nil, 0, fmt.Errorf("db: claim client: %w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Client])
	if err == nil {
		return c, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, fmt.Errorf("db: claim client: %w", err)
	}
	var ms float64
	err = d.Pool.QueryRow(ctx, `
		SELECT extract(epoch FROM next_at - now()) * 1000 FROM onboarding_clients
		WHERE onboarding_id = $1 AND client_id = $2 AND state = $3 AND next_at IS NOT NULL`,
		onboardingID, clientID, state).Scan(&ms)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("db: claim client: %w", err)
	}
	return nil, max(time.Duration(ms)*time.Millisecond, time.Second), nil
}

// WaitForLogin marks every client of the onboarding that waits for a try
// (adding or removing) as waiting for the person to log in again
// (ReasonLoginExpired, no next try), and returns how many: the login's
// token ran out, so nothing more is sent until a new login resumes them.
func (d *DB) WaitForLogin(ctx context.Context, onboardingID string) (int64, error) {
	tag, err := d.Pool.Exec(ctx, `
		UPDATE onboarding_clients SET reason = $2, next_at = NULL
		WHERE onboarding_id = $1 AND state IN ('adding', 'removing') AND reason <> $2`,
		onboardingID, domain.ReasonLoginExpired)
	if err != nil {
		return 0, fmt.Errorf("db: wait for login: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ResumeClientsTx gives the clients that wait for a new login (WaitForLogin)
// to the login loginID of the person by and returns them, to be tried again
// in the caller's transaction.
func ResumeClientsTx(ctx context.Context, q Querier, onboardingID, loginID, by string) ([]Client, error) {
	rows, err := q.Query(ctx, `
		UPDATE onboarding_clients SET reason = '', login_id = $2, changed_by = $3, next_at = now()
		WHERE onboarding_id = $1 AND state IN ('adding', 'removing') AND reason = $4
		RETURNING `+clientColumns, onboardingID, loginID, by, domain.ReasonLoginExpired)
	if err != nil {
		return nil, fmt.Errorf("db: resume clients: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Client])
	if err != nil {
		return nil, fmt.Errorf("db: resume clients: %w", err)
	}
	return out, nil
}

// AddEventTx records an event in the caller's transaction (the clients'
// steps, with the write they tell about).
func AddEventTx(ctx context.Context, q Querier, e domain.Event) error {
	if err := addEvent(ctx, q, e); err != nil {
		return fmt.Errorf("db: add event: %w", err)
	}
	return nil
}

// ClientsOf returns an onboarding's clients, by organisation number.
func (d *DB) ClientsOf(ctx context.Context, onboardingID string) ([]Client, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+clientColumns+` FROM onboarding_clients WHERE onboarding_id = $1 ORDER BY org_no, client_id`, onboardingID)
	if err != nil {
		return nil, fmt.Errorf("db: clients: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Client])
	if err != nil {
		return nil, fmt.Errorf("db: clients: %w", err)
	}
	return out, nil
}

// SetClientOutcome records the outcome of a try on a client that was in
// state from: its new state and reason, one more attempt, and when to try
// again (nil: not by itself). It returns ErrStale when the client is no
// longer in state from (a newer ask took it over), so a late answer never
// overwrites newer news.
func (d *DB) SetClientOutcome(ctx context.Context, onboardingID, clientID string, from domain.ClientState, o domain.ClientOutcome, next *time.Time) error {
	_, err := SetClientOutcomeTx(ctx, d.Pool, onboardingID, clientID, from, o, next)
	return err
}

// clientColumnsOf is clients as the three arrays the statements unnest
// (party uuid, org number, name), each id checked to be a uuid and each
// name cut to the column's 500 bytes at a character, so it stays UTF-8.
func clientColumnsOf(clients []ClientRef) (ids, orgs, names []string, err error) {
	ids, orgs, names = make([]string, 0, len(clients)), make([]string, 0, len(clients)), make([]string, 0, len(clients))
	for _, c := range clients {
		if !IsUUID(c.ID) {
			return nil, nil, nil, fmt.Errorf("%q is not a party uuid", truncate(c.ID, 60))
		}
		ids, orgs, names = append(ids, c.ID), append(orgs, c.OrgNo), append(names, truncate(c.OrgName, 500))
	}
	return ids, orgs, names, nil
}

// truncate is s cut to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
