package db

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions of staff passwords (issue 12): a staff member's own change
// and its failures, an admin's reset and the reset code's use. No entry
// holds a password or a code.
const (
	AuditPasswordChanged      = "staff.password_changed"
	AuditPasswordChangeFailed = "staff.password_change_failed"
	AuditPasswordReset        = "staff.password_reset"
	AuditPasswordResetUsed    = "staff.password_reset_used"
)

// Why a reset code does not work, besides ErrNotFound (a code that never
// was, or one replaced by a newer code for the account).
var (
	ErrResetExpired = errors.New("db: the reset code has expired")
	ErrResetUsed    = errors.New("db: the reset code has been used")
	// ErrStaffDisabled is returned for a reset of, or with a code of, a
	// disabled account.
	ErrStaffDisabled = errors.New("db: the staff account is disabled")
)

// NormalizeResetCode is how a reset code is looked up: without the spaces
// and dashes it may be typed or shown with, in capitals.
func NormalizeResetCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t', '\n', '\r':
			return -1
		}
		return r
	}, strings.ToUpper(code))
}

// PasswordChange is one attempt of a signed-in staff member to change
// their own password, for ChangePassword.
type PasswordChange struct {
	StaffID int64
	// KeepSession is the raw token of the session the change is made in,
	// which stays; every other session of the account ends.
	KeepSession string
	// NewHash is the new password, already hashed.
	NewHash string
	IP      string
	// Since is the start of the window in which failures count; the
	// attempt is refused before the current password is checked once the
	// account has MaxFailures failures in it since its last change.
	Since       time.Time
	MaxFailures int
}

// PasswordChangeResult is how a change ended.
type PasswordChangeResult struct {
	Limited       bool // refused before the password was checked; nothing recorded
	Failures      int  // failures counted before this attempt
	Changed       bool // false: the current password was wrong (recorded as a failure)
	SessionsEnded int64
}

// PasswordFailures counts an account's failed password changes since the
// given time and after its last change: the change form's first look
// before it hashes anything, ChangePassword counts again under its lock.
func (d *DB) PasswordFailures(ctx context.Context, staffID int64, since time.Time) (int, error) {
	n, err := passwordFailures(ctx, d.Pool, staffID, since)
	if err != nil {
		return 0, fmt.Errorf("db: password failures: %w", err)
	}
	return n, nil
}

func passwordFailures(ctx context.Context, q Querier, staffID int64, since time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `
		SELECT count(*) FROM audit_log
		WHERE staff_id = $1 AND action = '`+AuditPasswordChangeFailed+`' AND at > $2
		  AND id > coalesce((SELECT max(id) FROM audit_log WHERE staff_id = $1
		                     AND action IN ('`+AuditPasswordChanged+`', '`+AuditPasswordResetUsed+`')), 0)`,
		staffID, since).Scan(&n)
	return n, err
}

// ChangePassword runs one change of a staff member's own password as a
// unit, like SignIn: under a per-account lock it counts the failures so
// far, and under the limit calls check with the account's current hash;
// a wrong current password is recorded as a failure, a right one stores
// NewHash, ends every other session of the account, takes away any reset
// code it has and records the change, all in one transaction. It returns
// ErrNotFound when the account is gone and ErrStaffDisabled when it is
// disabled.
func (d *DB) ChangePassword(ctx context.Context, a PasswordChange, check func(currentHash string) bool) (PasswordChangeResult, error) {
	var res PasswordChangeResult
	if a.NewHash == "" {
		return res, errors.New("db: change password: no new hash")
	}
	err := d.InTx(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onboard.password:' || $1::bigint::text))`, a.StaffID); err != nil {
			return err
		}
		s, err := staffByID(ctx, q, a.StaffID, true)
		if err != nil {
			return err
		}
		if s.DisabledAt != nil {
			return ErrStaffDisabled
		}
		if res.Failures, err = passwordFailures(ctx, q, a.StaffID, a.Since); err != nil {
			return err
		}
		if res.Failures >= a.MaxFailures {
			res.Limited = true
			return nil
		}
		by := AuditEntry{StaffID: &s.ID, Actor: s.Email, IP: a.IP}
		if !check(s.PasswordHash) {
			by.Action = AuditPasswordChangeFailed
			return AddAudit(ctx, q, by)
		}
		if _, err := q.Exec(ctx, `UPDATE staff SET password_hash = $2 WHERE id = $1`, s.ID, a.NewHash); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1 AND token_hash <> $2`, s.ID, tokenHash(a.KeepSession))
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM staff_password_resets WHERE staff_id = $1 AND used_at IS NULL`, s.ID); err != nil {
			return err
		}
		res.Changed, res.SessionsEnded = true, tag.RowsAffected()
		by.Action = AuditPasswordChanged
		by.Detail = map[string]any{"staff_id": s.ID, "email": s.Email, "sessions_ended": res.SessionsEnded}
		return AddAudit(ctx, q, by)
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrStaffDisabled):
		return PasswordChangeResult{}, err
	case err != nil:
		return PasswordChangeResult{}, fmt.Errorf("db: change password: %w", err)
	}
	return res, nil
}

// NewPasswordReset is an admin's reset of another account's password.
type NewPasswordReset struct {
	StaffID int64
	// TTL is how long the code works.
	TTL time.Duration
	// LockHash replaces the account's password hash, so the old password
	// stops working at once: a hash of a password nobody knows.
	LockHash string
	// By is who resets (Actor, StaffID, IP); its Action and Detail are
	// filled in.
	By AuditEntry
}

// PasswordReset is a reset code made by CreatePasswordReset: the code
// itself, which is not stored anywhere (only its SHA-256 is), and when it
// stops working.
type PasswordReset struct {
	Code          string
	Expires       time.Time
	SessionsEnded int64
}

// CreatePasswordReset makes a one-time code for an account to set a new
// password with, in one transaction with the rest of the reset: the
// account's password is replaced by LockHash, all its sessions end, any
// earlier code of it is taken away, and the reset is audited (without the
// code). It returns ErrNotFound for an unknown account and ErrStaffDisabled
// for a disabled one.
func (d *DB) CreatePasswordReset(ctx context.Context, n NewPasswordReset) (*PasswordReset, error) {
	if n.TTL <= 0 || n.LockHash == "" {
		return nil, errors.New("db: create password reset: needs a TTL and a lock hash")
	}
	r := &PasswordReset{Code: rand.Text()}
	err := d.InTx(ctx, func(q Querier) error {
		s, err := staffByID(ctx, q, n.StaffID, true)
		if err != nil {
			return err
		}
		if s.DisabledAt != nil {
			return ErrStaffDisabled
		}
		if _, err := q.Exec(ctx, `UPDATE staff SET password_hash = $2 WHERE id = $1`, s.ID, n.LockHash); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1`, s.ID)
		if err != nil {
			return err
		}
		r.SessionsEnded = tag.RowsAffected()
		// Earlier codes of the account go, and long-dead codes of anyone.
		if _, err := q.Exec(ctx, `DELETE FROM staff_password_resets
			WHERE (staff_id = $1 AND used_at IS NULL) OR expires_at < now() - interval '30 days'`, s.ID); err != nil {
			return err
		}
		err = q.QueryRow(ctx, `
			INSERT INTO staff_password_resets (code_hash, staff_id, created_by, expires_at)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4))
			RETURNING expires_at`, tokenHash(NormalizeResetCode(r.Code)), s.ID, n.By.StaffID, n.TTL.Seconds()).Scan(&r.Expires)
		if err != nil {
			return err
		}
		n.By.Action = AuditPasswordReset
		n.By.Detail = map[string]any{"staff_id": s.ID, "email": s.Email, "sessions_ended": r.SessionsEnded,
			"expires_at": r.Expires.UTC().Format(time.RFC3339)}
		return AddAudit(ctx, q, n.By)
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrStaffDisabled):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("db: create password reset: %w", err)
	}
	return r, nil
}

// ResetCode is what a reset code is good for: the account it resets.
type ResetCode struct {
	StaffID int64
	Email   string
	Expires time.Time
}

// resetCode reads a code's row through q (locked for the transaction when
// forUpdate is set) and says whether it works.
func resetCode(ctx context.Context, q Querier, code string, forUpdate bool) (*ResetCode, error) {
	code = NormalizeResetCode(code)
	if code == "" || len(code) > 64 {
		return nil, ErrNotFound
	}
	sql := `SELECT r.staff_id, s.email, r.expires_at, r.used_at, r.expires_at <= now() AS expired, s.disabled_at IS NOT NULL AS disabled
		FROM staff_password_resets r JOIN staff s ON s.id = r.staff_id WHERE r.code_hash = $1`
	if forUpdate {
		sql += ` FOR UPDATE OF r, s`
	}
	var (
		rc                ResetCode
		used              *time.Time
		expired, disabled bool
	)
	err := q.QueryRow(ctx, sql, tokenHash(code)).Scan(&rc.StaffID, &rc.Email, &rc.Expires, &used, &expired, &disabled)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, err
	case used != nil:
		return nil, ErrResetUsed
	case disabled:
		return nil, ErrStaffDisabled
	case expired:
		return nil, ErrResetExpired
	}
	return &rc, nil
}

// PasswordResetByCode looks a reset code up. It returns ErrNotFound for a
// code that never was or was replaced, ErrResetUsed, ErrResetExpired, or
// ErrStaffDisabled when the account has been disabled since.
func (d *DB) PasswordResetByCode(ctx context.Context, code string) (*ResetCode, error) {
	rc, err := resetCode(ctx, d.Pool, code, false)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrResetUsed) &&
		!errors.Is(err, ErrResetExpired) && !errors.Is(err, ErrStaffDisabled) {
		return nil, fmt.Errorf("db: password reset by code: %w", err)
	}
	return rc, err
}

// UseReset is a staff member setting a new password with a reset code.
type UseReset struct {
	Code    string
	NewHash string // the new password, already hashed
	IP      string
	// SessionTTL is how long the session that signs them in lasts.
	SessionTTL time.Duration
}

// UseResetResult is the account whose password was set, signed in.
type UseResetResult struct {
	Staff   *Staff
	Token   string
	Expires time.Time
}

// UsePasswordReset sets an account's password with its reset code, once:
// in one transaction the code is checked and marked used, the password
// stored, any session of the account ended, a new one started (returned)
// and the use audited. It returns PasswordResetByCode's errors when the
// code does not work.
func (d *DB) UsePasswordReset(ctx context.Context, u UseReset) (*UseResetResult, error) {
	if u.NewHash == "" {
		return nil, errors.New("db: use password reset: no new hash")
	}
	var res UseResetResult
	err := d.InTx(ctx, func(q Querier) error {
		rc, err := resetCode(ctx, q, u.Code, true)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE staff_password_resets SET used_at = now() WHERE code_hash = $1`,
			tokenHash(NormalizeResetCode(u.Code))); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE staff SET password_hash = $2 WHERE id = $1`, rc.StaffID, u.NewHash); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1`, rc.StaffID)
		if err != nil {
			return err
		}
		if res.Token, res.Expires, err = createStaffSession(ctx, q, rc.StaffID, u.SessionTTL); err != nil {
			return err
		}
		if res.Staff, err = staffByID(ctx, q, rc.StaffID, false); err != nil {
			return err
		}
		res.Staff.PasswordHash = ""
		return AddAudit(ctx, q, AuditEntry{StaffID: &rc.StaffID, Actor: rc.Email, Action: AuditPasswordResetUsed, IP: u.IP,
			Detail: map[string]any{"staff_id": rc.StaffID, "email": rc.Email, "sessions_ended": tag.RowsAffected()}})
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrResetUsed), errors.Is(err, ErrResetExpired), errors.Is(err, ErrStaffDisabled):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("db: use password reset: %w", err)
	}
	return &res, nil
}
