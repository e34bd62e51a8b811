package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Audit actions written by the sign-in, the staff page and the staff command.
const (
	AuditSignIn       = "staff.sign_in"
	AuditSignInFailed = "staff.sign_in_failed"
	AuditSignOut      = "staff.sign_out"
	AuditStaffCreated = "staff.created"
	AuditStaffDisable = "staff.disabled"
	AuditStaffRole    = "staff.role_changed"
)

// NotAnEmailActor is the audit actor of a failed sign-in whose email field
// did not hold an email address: what was typed there may be a password
// pasted into the wrong field, and must not land in the audit log.
const NotAnEmailActor = "(not an email address)"

// ErrLastAdmin is returned when a change would leave no active admin, and
// so nobody who could manage staff from the dashboard.
var ErrLastAdmin = errors.New("db: the last active admin")

// Staff is one member of the vendor's support staff.
type Staff struct {
	ID           int64       `db:"id"`
	Email        string      `db:"email"`
	PasswordHash string      `db:"password_hash"`
	Role         domain.Role `db:"role"`
	CreatedAt    time.Time   `db:"created_at"`
	DisabledAt   *time.Time  `db:"disabled_at"`
}

const staffColumns = `id, email, password_hash, role, created_at, disabled_at`

// NormalizeEmail is how an email is stored and looked up: trimmed and
// lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ValidEmail reports whether email, already normalized, is a bare email
// address (no display name, no angle brackets) that fits the staff table.
func ValidEmail(email string) bool {
	if email == "" || len(email) > 254 || email != NormalizeEmail(email) {
		return false
	}
	addr, err := mail.ParseAddress(email)
	return err == nil && addr.Address == email
}

// NewStaff is a staff account to create. PasswordHash is already hashed;
// Actor (with ActorID and IP when it is a signed-in staff member) is who
// creates it, for the audit log.
type NewStaff struct {
	Email        string
	PasswordHash string
	Role         domain.Role
	Actor        string
	ActorID      *int64
	IP           string
}

// CreateStaff stores a new staff account and its audit entry in one
// transaction. It returns ErrConflict when the email is taken.
func (d *DB) CreateStaff(ctx context.Context, n NewStaff) (*Staff, error) {
	if !n.Role.Valid() {
		return nil, fmt.Errorf("db: create staff: unknown role %q", n.Role)
	}
	var s *Staff
	err := d.InTx(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `
			INSERT INTO staff (email, password_hash, role) VALUES ($1, $2, $3)
			RETURNING `+staffColumns, NormalizeEmail(n.Email), n.PasswordHash, n.Role)
		if err != nil {
			return err
		}
		if s, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Staff]); err != nil {
			return err
		}
		actor := n.Actor
		if actor == "" {
			actor = "system"
		}
		return AddAudit(ctx, q, AuditEntry{StaffID: n.ActorID, Actor: actor, Action: AuditStaffCreated, IP: n.IP,
			Detail: map[string]any{"staff_id": s.ID, "email": s.Email, "role": s.Role}})
	})
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("db: create staff %s: %w", NormalizeEmail(n.Email), ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("db: create staff: %w", err)
	}
	return s, nil
}

// StaffByEmail finds a staff account, disabled or not, by email in any case.
// It returns ErrNotFound when there is none.
func (d *DB) StaffByEmail(ctx context.Context, email string) (*Staff, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+staffColumns+` FROM staff WHERE email = $1`, NormalizeEmail(email))
	if err != nil {
		return nil, fmt.Errorf("db: staff by email: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Staff])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: staff by email: %w", err)
	}
	return s, nil
}

// StaffByID finds a staff account, disabled or not, by id. It returns
// ErrNotFound when there is none.
func (d *DB) StaffByID(ctx context.Context, id int64) (*Staff, error) {
	s, err := staffByID(ctx, d.Pool, id, false)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: staff by id: %w", err)
	}
	return s, err
}

// staffByID reads an account through q, locking its row for the rest of the
// transaction when forUpdate is set.
func staffByID(ctx context.Context, q Querier, id int64, forUpdate bool) (*Staff, error) {
	sql := `SELECT ` + staffColumns + ` FROM staff WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return nil, err
	}
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Staff])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// ListStaff returns every staff account, by email. PasswordHash is left
// empty: nothing that lists accounts needs it.
func (d *DB) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := d.Pool.Query(ctx, `SELECT id, email, role, created_at, disabled_at FROM staff ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("db: list staff: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[Staff])
	if err != nil {
		return nil, fmt.Errorf("db: list staff: %w", err)
	}
	return list, nil
}

// lockStaffChanges serializes the changes that could take away the last
// active admin (role changes, disabling) for the rest of the transaction, so
// two admins demoting each other at the same moment cannot both succeed.
// Staff changes are rare; one lock for all of them costs nothing.
func lockStaffChanges(ctx context.Context, q Querier) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onboard.staff_changes'))`)
	return err
}

// isLastActiveAdmin reports whether s is an active admin and no other
// account is one. Call it after lockStaffChanges.
func isLastActiveAdmin(ctx context.Context, q Querier, s *Staff) (bool, error) {
	if s.Role != domain.RoleAdmin || s.DisabledAt != nil {
		return false, nil
	}
	var others int
	err := q.QueryRow(ctx, `SELECT count(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1`, s.ID).Scan(&others)
	return others == 0, err
}

// SetStaffRole changes an account's role, with an audit entry, in one
// transaction, and returns the account as it is now. by says who did it
// (Actor, StaffID, IP); its Action and Detail are filled in. Setting the role
// an account already has changes and records nothing. It returns
// ErrNotFound for an unknown id and ErrLastAdmin when the account is the
// last active admin and the new role is not admin.
func (d *DB) SetStaffRole(ctx context.Context, id int64, role domain.Role, by AuditEntry) (*Staff, error) {
	if !role.Valid() {
		return nil, fmt.Errorf("db: set staff role: unknown role %q", role)
	}
	var s *Staff
	err := d.InTx(ctx, func(q Querier) error {
		if err := lockStaffChanges(ctx, q); err != nil {
			return err
		}
		var err error
		if s, err = staffByID(ctx, q, id, true); err != nil {
			return err
		}
		if s.Role == role {
			return nil
		}
		if role != domain.RoleAdmin {
			if last, err := isLastActiveAdmin(ctx, q, s); err != nil {
				return err
			} else if last {
				return ErrLastAdmin
			}
		}
		if _, err := q.Exec(ctx, `UPDATE staff SET role = $2 WHERE id = $1`, id, role); err != nil {
			return err
		}
		from := s.Role
		s.Role = role
		by.Action = AuditStaffRole
		by.Detail = map[string]any{"staff_id": id, "email": s.Email, "from": from, "to": role}
		return AddAudit(ctx, q, by)
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrLastAdmin):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("db: set staff role: %w", err)
	}
	s.PasswordHash = ""
	return s, nil
}

// DisableStaff disables an account and ends its sessions, with an audit
// entry, in one transaction. by says who did it (Actor, StaffID, IP); its
// Action and Detail are filled in. Disabling a disabled account changes and
// records nothing. It returns ErrNotFound for an unknown id and ErrLastAdmin
// for the last active admin.
func (d *DB) DisableStaff(ctx context.Context, id int64, by AuditEntry) error {
	err := d.InTx(ctx, func(q Querier) error {
		if err := lockStaffChanges(ctx, q); err != nil {
			return err
		}
		s, err := staffByID(ctx, q, id, true)
		if err != nil {
			return err
		}
		if s.DisabledAt != nil {
			return nil
		}
		if last, err := isLastActiveAdmin(ctx, q, s); err != nil {
			return err
		} else if last {
			return ErrLastAdmin
		}
		if _, err := q.Exec(ctx, `UPDATE staff SET disabled_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1`, id)
		if err != nil {
			return err
		}
		by.Action = AuditStaffDisable
		by.Detail = map[string]any{"staff_id": id, "email": s.Email, "role": s.Role, "sessions_ended": tag.RowsAffected()}
		return AddAudit(ctx, q, by)
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrLastAdmin):
		return err
	case err != nil:
		return fmt.Errorf("db: disable staff: %w", err)
	}
	return nil
}

// StaffSession is a signed-in browser: the staff member and when the session
// ends.
type StaffSession struct {
	Staff     Staff
	ExpiresAt time.Time
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateStaffSession starts a session for a staff member that lasts ttl. It
// returns the raw token, which is not stored anywhere and cannot be read back:
// only its SHA-256 is kept.
func (d *DB) CreateStaffSession(ctx context.Context, staffID int64, ttl time.Duration) (token string, expires time.Time, err error) {
	token, expires, err = createStaffSession(ctx, d.Pool, staffID, ttl)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("db: create staff session: %w", err)
	}
	return token, expires, nil
}

func createStaffSession(ctx context.Context, q Querier, staffID int64, ttl time.Duration) (token string, expires time.Time, err error) {
	if ttl <= 0 {
		return "", time.Time{}, errors.New("ttl must be positive")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	err = q.QueryRow(ctx, `
		INSERT INTO staff_sessions (token_hash, staff_id, expires_at)
		VALUES ($1, $2, now() + make_interval(secs => $3))
		RETURNING expires_at`, tokenHash(token), staffID, ttl.Seconds()).Scan(&expires)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// StaffBySession looks a session up by its raw token and marks it seen. It
// returns ErrNotFound when the token is unknown, the session has expired or
// the account is disabled. Staff.PasswordHash is left empty: the session
// goes with every request, and none of them needs the hash.
func (d *DB) StaffBySession(ctx context.Context, token string) (*StaffSession, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	// last_seen_at slides at most once a minute: a lookup that writes
	// nothing commits without a WAL flush, and every dashboard page makes
	// one (issue 15: with synchronous commit, a flush per page view).
	var s StaffSession
	err := d.Pool.QueryRow(ctx, `
		WITH live AS (
			SELECT ss.token_hash, ss.last_seen_at, st.id, st.email, st.role, st.created_at, st.disabled_at, ss.expires_at
			FROM staff_sessions ss JOIN staff st ON st.id = ss.staff_id
			WHERE ss.token_hash = $1 AND ss.expires_at > now() AND st.disabled_at IS NULL
		), seen AS (
			UPDATE staff_sessions ss SET last_seen_at = now() FROM live
			WHERE ss.token_hash = live.token_hash AND live.last_seen_at < now() - interval '1 minute'
		)
		SELECT id, email, role, created_at, disabled_at, expires_at FROM live`,
		tokenHash(token)).Scan(&s.Staff.ID, &s.Staff.Email, &s.Staff.Role,
		&s.Staff.CreatedAt, &s.Staff.DisabledAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: staff by session: %w", err)
	}
	return &s, nil
}

// DeleteStaffSession ends a session (sign-out). Ending an unknown session is
// not an error.
func (d *DB) DeleteStaffSession(ctx context.Context, token string) error {
	if _, err := d.Pool.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("db: delete staff session: %w", err)
	}
	return nil
}

// DeleteExpiredStaffSessions removes sessions past their expiry and returns
// how many there were.
func (d *DB) DeleteExpiredStaffSessions(ctx context.Context) (int64, error) {
	tag, err := d.Pool.Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("db: delete expired staff sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// AuditEntry is one line of the audit log: who did what, to which
// onboarding, from where.
type AuditEntry struct {
	ID           int64          `db:"id"`
	At           time.Time      `db:"at"`
	StaffID      *int64         `db:"staff_id"`
	Actor        string         `db:"actor"` // the staff member's email, the email typed at a failed sign-in, or "cli"
	Action       string         `db:"action"`
	OnboardingID *string        `db:"onboarding_id"`
	Detail       map[string]any `db:"detail"`
	IP           string         `db:"ip"` // empty when unknown
}

// AddAudit adds an entry to the audit log through q, so a staff action and
// its audit entry commit together (see InTx). At and ID are set by the
// database; an IP that does not parse is stored as unknown.
func AddAudit(ctx context.Context, q Querier, e AuditEntry) error {
	var ip *string
	if a, err := netip.ParseAddr(e.IP); err == nil {
		s := a.Unmap().String()
		ip = &s
	}
	var detail any
	if e.Detail != nil {
		detail = e.Detail
	}
	if len(e.Actor) > 254 {
		e.Actor = e.Actor[:254]
	}
	_, err := q.Exec(ctx, `
		INSERT INTO audit_log (staff_id, actor, action, onboarding_id, detail, ip)
		VALUES ($1, $2, $3, $4, $5, $6::inet)`,
		e.StaffID, e.Actor, e.Action, e.OnboardingID, detail, ip)
	if err != nil {
		return fmt.Errorf("db: add audit %s: %w", e.Action, err)
	}
	return nil
}

// AddAudit adds an entry to the audit log on its own.
func (d *DB) AddAudit(ctx context.Context, e AuditEntry) error { return AddAudit(ctx, d.Pool, e) }

// AuditFilter narrows AuditLog. The zero value is the newest 100 entries.
type AuditFilter struct {
	OnboardingID string // only entries about this onboarding
	Limit        int    // at most this many (default 100, capped at 1000)
}

// AuditLog returns audit entries, newest first.
func (d *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var onb *string
	if f.OnboardingID != "" {
		onb = &f.OnboardingID
	}
	rows, err := d.Pool.Query(ctx, `
		SELECT id, at, staff_id, actor, action, onboarding_id::text AS onboarding_id, detail,
			coalesce(host(ip), '') AS ip
		FROM audit_log
		WHERE ($1::uuid IS NULL OR onboarding_id = $1::uuid)
		ORDER BY id DESC LIMIT $2`, onb, limit)
	if err != nil {
		return nil, fmt.Errorf("db: audit log: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEntry])
	if err != nil {
		return nil, fmt.Errorf("db: audit log: %w", err)
	}
	return list, nil
}
