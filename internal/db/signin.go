package db

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// AuditSignInUnlocked is the audit action of an admin clearing a staff
// member's sign-in throttle (UnlockSignIn); its detail names the account.
const AuditSignInUnlocked = "staff.sign_in_unlocked"

// SignInFailures counts the failed sign-ins that bear on an attempt for
// email from ip, by the throttle's three rules (domain.SignInFailures),
// each within its rule's window: for the pair and the email since the
// email's last unlock and the pair's or the email's last success, for the
// address since its last success; and whether the pair has ever succeeded
// (KnownPair). The counts come from the audit log, so
// they hold across instances and restarts. Outside SignIn's lock it is only
// a first look: see SignIn. email "" (not an email address) counts by
// address only, as does an ip that does not parse by email only.
func (d *DB) SignInFailures(ctx context.Context, email, ip string) (domain.SignInFailures, error) {
	f, err := signInFailures(ctx, d.Pool, email, ip)
	if err != nil {
		return f, fmt.Errorf("db: sign-in failures: %w", err)
	}
	return f, nil
}

// signInFailures is SignInFailures through q. "Since the last success"
// compares ids, not times: under SignIn's per-email lock ids are handed out
// in the order the attempts ran, while now() is when each transaction began.
// Now is clock_timestamp(), the moment of the count, on the clock that
// stamped the failures.
func signInFailures(ctx context.Context, q Querier, email, ip string) (domain.SignInFailures, error) {
	var f domain.SignInFailures
	var addr *string
	if a, err := netip.ParseAddr(ip); err == nil {
		s := a.Unmap().String()
		addr = &s
	}
	email = NormalizeEmail(email)
	if len(email) > 254 {
		email = email[:254]
	}
	var pairLast, emailLast, addrLast *time.Time
	err := q.QueryRow(ctx, `
		WITH resets AS (
			SELECT
				coalesce((SELECT max(id) FROM audit_log WHERE action = '`+AuditSignInUnlocked+`' AND detail->>'email' = $1), 0) AS unlock,
				coalesce((SELECT max(id) FROM audit_log WHERE actor = $1 AND action = '`+AuditSignIn+`'), 0) AS email_ok,
				coalesce((SELECT max(id) FROM audit_log WHERE actor = $1 AND action = '`+AuditSignIn+`' AND ip = $2::inet), 0) AS pair_ok,
				coalesce((SELECT max(id) FROM audit_log WHERE ip = $2::inet AND action = '`+AuditSignIn+`'), 0) AS addr_ok
		), by_email AS (
			SELECT a.id, a.at, a.ip FROM audit_log a
			WHERE $1 <> '' AND a.actor = $1 AND a.action = '`+AuditSignInFailed+`'
			  AND a.at > clock_timestamp() - make_interval(secs => greatest($3::float8, $4::float8))
		)
		SELECT
			(SELECT count(*) FROM by_email, resets WHERE ip = $2::inet AND id > greatest(unlock, pair_ok)
			   AND at > clock_timestamp() - make_interval(secs => $3::float8)),
			(SELECT max(at) FROM by_email, resets WHERE ip = $2::inet AND id > greatest(unlock, pair_ok)
			   AND at > clock_timestamp() - make_interval(secs => $3::float8)),
			(SELECT count(*) FROM by_email, resets WHERE id > greatest(unlock, email_ok)
			   AND at > clock_timestamp() - make_interval(secs => $4::float8)),
			(SELECT max(at) FROM by_email, resets WHERE id > greatest(unlock, email_ok)
			   AND at > clock_timestamp() - make_interval(secs => $4::float8)),
			(SELECT count(*) FROM audit_log a, resets WHERE $2::inet IS NOT NULL AND a.ip = $2::inet
			   AND a.action = '`+AuditSignInFailed+`' AND a.id > addr_ok AND a.at > clock_timestamp() - make_interval(secs => $5::float8)),
			(SELECT max(a.at) FROM audit_log a, resets WHERE $2::inet IS NOT NULL AND a.ip = $2::inet
			   AND a.action = '`+AuditSignInFailed+`' AND a.id > addr_ok AND a.at > clock_timestamp() - make_interval(secs => $5::float8)),
			(SELECT pair_ok > 0 FROM resets),
			clock_timestamp()`,
		email, addr, domain.SignInPair.Window.Seconds(), domain.SignInEmail.Window.Seconds(), domain.SignInAddress.Window.Seconds(),
	).Scan(&f.Pair.N, &pairLast, &f.Email.N, &emailLast, &f.Address.N, &addrLast, &f.KnownPair, &f.Now)
	for _, l := range []struct {
		dst *time.Time
		src *time.Time
	}{{&f.Pair.Last, pairLast}, {&f.Email.Last, emailLast}, {&f.Address.Last, addrLast}} {
		if l.src != nil {
			*l.dst = *l.src
		}
	}
	return f, err
}

// SignInAttempt is one sign-in to run through SignIn.
type SignInAttempt struct {
	// Email is the normalized email typed, or "" when what was typed is not
	// an email address: then no account is looked up, only the address's
	// failures count, and a failure is recorded as NotAnEmailActor.
	Email string
	IP    string
	// Throttle says how long the attempt must wait given its failures so
	// far; above 0 it is refused before the password is checked. nil is
	// the throttle's rules (domain.SignInWait).
	Throttle func(domain.SignInFailures) time.Duration
	// SessionTTL is how long the session of a successful sign-in lasts.
	SessionTTL time.Duration
}

// SignInResult is how a sign-in attempt ended.
type SignInResult struct {
	// Limited: refused before the password was checked, for Wait more;
	// nothing recorded.
	Limited  bool
	Wait     time.Duration
	Failures domain.SignInFailures // counted before this attempt
	// Staff, Token and Expires are the account signed in to and its new
	// session; Staff is nil when the attempt failed (recorded as a failure).
	Staff   *Staff
	Token   string
	Expires time.Time
}

// SignIn runs one sign-in attempt as a unit: it takes a per-email lock,
// counts the failures so far, and when the throttle lets the attempt through
// calls check and records its outcome (a failure in the audit log; or a new
// session and a sign-in entry), all in one transaction. So parallel attempts
// for one email are counted one after another, and no more wrong passwords
// are checked than the throttle allows, however many arrive at once.
//
// check is called with the active account for the email, or nil when there
// is none (unknown, disabled, or Email is ""), and says whether the
// password matches it; with nil it should do the same work and say no. It
// runs while the transaction holds a connection and the lock, so the caller
// should bound how many sign-ins run at once.
//
// The address's count is read under the same lock, but attempts for
// different emails from one address do not wait for each other: its rule
// can be passed by as many attempts as run in parallel.
func (d *DB) SignIn(ctx context.Context, a SignInAttempt, check func(s *Staff) bool) (SignInResult, error) {
	var res SignInResult
	email := NormalizeEmail(a.Email)
	if !ValidEmail(email) {
		email = ""
	}
	throttle := a.Throttle
	if throttle == nil {
		throttle = func(f domain.SignInFailures) time.Duration { w, _ := domain.SignInWait(f); return w }
	}
	err := d.InTx(ctx, func(q Querier) error {
		if email != "" {
			if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onboard.sign_in:' || $1))`, email); err != nil {
				return err
			}
		}
		var err error
		if res.Failures, err = signInFailures(ctx, q, email, a.IP); err != nil {
			return err
		}
		if res.Wait = throttle(res.Failures); res.Wait > 0 {
			res.Limited = true
			return nil
		}
		var s *Staff
		if email != "" {
			rows, err := q.Query(ctx, `SELECT `+staffColumns+` FROM staff WHERE email = $1`, email)
			if err != nil {
				return err
			}
			if s, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Staff]); errors.Is(err, pgx.ErrNoRows) {
				s = nil
			} else if err != nil {
				return err
			}
		}
		active := s
		if s != nil && s.DisabledAt != nil {
			active = nil
		}
		if ok := check(active); !ok || active == nil {
			failure := AuditEntry{Actor: email, Action: AuditSignInFailed, IP: a.IP}
			if email == "" {
				failure.Actor = NotAnEmailActor
			}
			if s != nil {
				failure.StaffID = &s.ID
			}
			return AddAudit(ctx, q, failure)
		}
		if res.Token, res.Expires, err = createStaffSession(ctx, q, active.ID, a.SessionTTL); err != nil {
			return err
		}
		if err := AddAudit(ctx, q, AuditEntry{StaffID: &active.ID, Actor: active.Email, Action: AuditSignIn, IP: a.IP}); err != nil {
			return err
		}
		active.PasswordHash = ""
		res.Staff = active
		return nil
	})
	if err != nil {
		return SignInResult{}, fmt.Errorf("db: sign in: %w", err)
	}
	return res, nil
}

// RecentSignInFailures counts, for every staff account with any, the failed
// sign-ins for its email in the last hour (the longest of the throttle's
// windows) since its last success or unlock: the staff page shows them, and
// offers to clear them (UnlockSignIn). By account id.
func (d *DB) RecentSignInFailures(ctx context.Context) (map[int64]int, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT s.id, count(*) FROM staff s
		JOIN audit_log a ON a.actor = s.email AND a.action = '`+AuditSignInFailed+`'
		  AND a.at > now() - make_interval(secs => $1::float8)
		WHERE a.id > greatest(
			coalesce((SELECT max(id) FROM audit_log WHERE actor = s.email AND action = '`+AuditSignIn+`'), 0),
			coalesce((SELECT max(id) FROM audit_log WHERE action = '`+AuditSignInUnlocked+`' AND detail->>'email' = s.email), 0))
		GROUP BY s.id`, max(domain.SignInPair.Window, domain.SignInEmail.Window).Seconds())
	if err != nil {
		return nil, fmt.Errorf("db: recent sign-in failures: %w", err)
	}
	out := map[int64]int{}
	var id int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil }); err != nil {
		return nil, fmt.Errorf("db: recent sign-in failures: %w", err)
	}
	return out, nil
}

// UnlockSignIn clears an account's sign-in throttle: the failures for its
// email, from every address, no longer count (an address's own count, which
// is about every email tried from it, stays). It records who did it (by's
// Actor, StaffID, IP; Action and Detail are filled in) and returns
// ErrNotFound for an unknown id.
func (d *DB) UnlockSignIn(ctx context.Context, id int64, by AuditEntry) (*Staff, error) {
	var s *Staff
	err := d.InTx(ctx, func(q Querier) error {
		var err error
		if s, err = staffByID(ctx, q, id, false); err != nil {
			return err
		}
		// Under the email's sign-in lock, so an attempt running now is
		// counted wholly before or wholly after the unlock.
		if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onboard.sign_in:' || $1))`, s.Email); err != nil {
			return err
		}
		by.Action = AuditSignInUnlocked
		by.Detail = map[string]any{"staff_id": s.ID, "email": s.Email}
		return AddAudit(ctx, q, by)
	})
	if errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("db: unlock sign-in: %w", err)
	}
	s.PasswordHash = ""
	return s, nil
}
