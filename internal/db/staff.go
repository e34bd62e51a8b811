package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Staff roles, lowest first: viewers read, operators act, admins manage staff.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Roles lists every role in rank order, lowest first.
var Roles = []string{RoleViewer, RoleOperator, RoleAdmin}

// RoleRank is a role's place in Roles, or -1 for an unknown role, so
// "at least operator" is RoleRank(r) >= RoleRank(RoleOperator).
func RoleRank(role string) int { return slices.Index(Roles, role) }

// Audit actions written by the sign-in and the staff command.
const (
	AuditSignIn       = "staff.sign_in"
	AuditSignInFailed = "staff.sign_in_failed"
	AuditSignOut      = "staff.sign_out"
	AuditStaffCreated = "staff.created"
	AuditStaffDisable = "staff.disabled"
)

// Staff is one member of the vendor's support staff.
type Staff struct {
	ID           int64      `db:"id"`
	Email        string     `db:"email"`
	PasswordHash string     `db:"password_hash"`
	Role         string     `db:"role"`
	CreatedAt    time.Time  `db:"created_at"`
	DisabledAt   *time.Time `db:"disabled_at"`
}

const staffColumns = `id, email, password_hash, role, created_at, disabled_at`

// NormalizeEmail is how an email is stored and looked up: trimmed and
// lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NewStaff is a staff account to create. PasswordHash is already hashed;
// Actor is who creates it, for the audit log.
type NewStaff struct {
	Email        string
	PasswordHash string
	Role         string
	Actor        string
}

// CreateStaff stores a new staff account and its audit entry in one
// transaction. It returns ErrConflict when the email is taken.
func (d *DB) CreateStaff(ctx context.Context, n NewStaff) (*Staff, error) {
	if RoleRank(n.Role) < 0 {
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
		return AddAudit(ctx, q, AuditEntry{Actor: actor, Action: AuditStaffCreated,
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

// ListStaff returns every staff account, by email.
func (d *DB) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+staffColumns+` FROM staff ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("db: list staff: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Staff])
	if err != nil {
		return nil, fmt.Errorf("db: list staff: %w", err)
	}
	return list, nil
}

// DisableStaff disables an account and ends its sessions, with an audit
// entry, in one transaction. by says who did it (Actor, StaffID, IP); its
// Action and Detail are filled in. It returns ErrNotFound for an unknown id.
func (d *DB) DisableStaff(ctx context.Context, id int64, by AuditEntry) error {
	err := d.InTx(ctx, func(q Querier) error {
		tag, err := q.Exec(ctx, `UPDATE staff SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if _, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1`, id); err != nil {
			return err
		}
		by.Action = AuditStaffDisable
		by.Detail = map[string]any{"staff_id": id}
		return AddAudit(ctx, q, by)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
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
	if ttl <= 0 {
		return "", time.Time{}, errors.New("db: create staff session: ttl must be positive")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("db: create staff session: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	err = d.Pool.QueryRow(ctx, `
		INSERT INTO staff_sessions (token_hash, staff_id, expires_at)
		VALUES ($1, $2, now() + make_interval(secs => $3))
		RETURNING expires_at`, tokenHash(token), staffID, ttl.Seconds()).Scan(&expires)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("db: create staff session: %w", err)
	}
	return token, expires, nil
}

// StaffBySession looks a session up by its raw token and marks it seen. It
// returns ErrNotFound when the token is unknown, the session has expired or
// the account is disabled.
func (d *DB) StaffBySession(ctx context.Context, token string) (*StaffSession, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	var s StaffSession
	err := d.Pool.QueryRow(ctx, `
		UPDATE staff_sessions ss SET last_seen_at = now()
		FROM staff st
		WHERE ss.token_hash = $1 AND ss.expires_at > now() AND st.id = ss.staff_id AND st.disabled_at IS NULL
		RETURNING st.id, st.email, st.password_hash, st.role, st.created_at, st.disabled_at, ss.expires_at`,
		tokenHash(token)).Scan(&s.Staff.ID, &s.Staff.Email, &s.Staff.PasswordHash, &s.Staff.Role,
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

// FailedSignIns counts failed sign-ins since the given time: those for email
// after its last successful sign-in, and those from ip. The sign-in rate limit
// reads it, so the limit holds across instances and restarts.
func (d *DB) FailedSignIns(ctx context.Context, email, ip string, since time.Time) (byEmail, byIP int, err error) {
	var addr *string
	if a, perr := netip.ParseAddr(ip); perr == nil {
		s := a.Unmap().String()
		addr = &s
	}
	email = NormalizeEmail(email)
	if len(email) > 254 {
		email = email[:254]
	}
	err = d.Pool.QueryRow(ctx, `
		SELECT
			(SELECT count(*) FROM audit_log
			 WHERE actor = $1 AND action = 'staff.sign_in_failed'
			   AND at > greatest($3, (SELECT max(at) FROM audit_log WHERE actor = $1 AND action = 'staff.sign_in'))),
			(SELECT count(*) FROM audit_log
			 WHERE $2::inet IS NOT NULL AND ip = $2::inet AND action = 'staff.sign_in_failed' AND at > $3)`,
		email, addr, since).Scan(&byEmail, &byIP)
	if err != nil {
		return 0, 0, fmt.Errorf("db: failed sign-ins: %w", err)
	}
	return byEmail, byIP, nil
}
