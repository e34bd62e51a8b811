package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

func addStaff(t *testing.T, d *db.DB, email, role string) *db.Staff {
	t.Helper()
	s, err := d.CreateStaff(context.Background(), db.NewStaff{Email: email, PasswordHash: "$argon2id$test", Role: domain.Role(role), Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "  Alice@Example.COM ", string(domain.RoleOperator))
	if s.Email != "alice@example.com" || s.Role != domain.RoleOperator || s.ID == 0 || s.DisabledAt != nil {
		t.Fatalf("created %+v", s)
	}
	if _, err := d.CreateStaff(ctx, db.NewStaff{Email: "ALICE@example.com", PasswordHash: "x", Role: domain.RoleViewer}); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("same email in another case: err = %v, want ErrConflict", err)
	}
	if _, err := d.CreateStaff(ctx, db.NewStaff{Email: "bob@example.com", PasswordHash: "x", Role: "root"}); err == nil {
		t.Fatal("an unknown role must be refused")
	}
	got, err := d.StaffByEmail(ctx, "alice@EXAMPLE.com")
	if err != nil || got.ID != s.ID || got.PasswordHash != "$argon2id$test" {
		t.Fatalf("by email: %v %+v", err, got)
	}
	if _, err := d.StaffByEmail(ctx, "nobody@example.com"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown email: err = %v, want ErrNotFound", err)
	}
	addStaff(t, d, "aaron@example.com", string(domain.RoleAdmin))
	list, err := d.ListStaff(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "aaron@example.com" || list[1].ID != s.ID || list[0].PasswordHash != "" {
		t.Fatalf("list (without hashes): %v %+v", err, list)
	}
	log, err := d.AuditLog(ctx, db.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[1].Action != db.AuditStaffCreated || log[1].Actor != "cli" || log[1].Detail["email"] != "alice@example.com" {
		t.Fatalf("creating staff should leave audit entries, newest first: %+v", log)
	}
}

func TestStaffRoleRank(t *testing.T) {
	t.Parallel()
	if !(domain.RoleRank(domain.RoleViewer) < domain.RoleRank(domain.RoleOperator) && domain.RoleRank(domain.RoleOperator) < domain.RoleRank(domain.RoleAdmin)) {
		t.Fatal("roles must rank viewer < operator < admin")
	}
	if domain.RoleRank("root") != -1 || domain.RoleRank("") != -1 {
		t.Fatal("unknown roles rank -1")
	}
}

func TestStaffSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", string(domain.RoleViewer))
	token, expires, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 || time.Until(expires) < 59*time.Minute || time.Until(expires) > 61*time.Minute {
		t.Fatalf("token %q expires %v", token, expires)
	}
	// Only the hash is stored.
	var stored []byte
	if err := d.Pool.QueryRow(ctx, `SELECT token_hash FROM staff_sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(token)); string(stored) != string(want[:]) {
		t.Fatal("staff_sessions should hold the SHA-256 of the token and nothing else")
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE staff_sessions SET last_seen_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	got, err := d.StaffBySession(ctx, token)
	if err != nil || got.Staff.ID != s.ID || got.Staff.Email != s.Email || got.Staff.Role != domain.RoleViewer || !got.ExpiresAt.Equal(expires) {
		t.Fatalf("by session: %v %+v", err, got)
	}
	if got.Staff.PasswordHash != "" {
		t.Fatal("a session lookup, made on every request, must not load the password hash")
	}
	var seen time.Time
	if err := d.Pool.QueryRow(ctx, `SELECT last_seen_at FROM staff_sessions`).Scan(&seen); err != nil {
		t.Fatal(err)
	}
	if time.Since(seen) > time.Minute {
		t.Fatalf("a lookup should slide last_seen_at, it is %v", seen)
	}
}

func TestStaffSessionRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, d *db.DB, s *db.Staff, token string) string // returns the token to look up
	}{
		{"unknown token", func(*testing.T, *db.DB, *db.Staff, string) string { return "not-a-token" }},
		{"empty token", func(*testing.T, *db.DB, *db.Staff, string) string { return "" }},
		{"expired", func(t *testing.T, d *db.DB, _ *db.Staff, token string) string {
			exec(t, d, `UPDATE staff_sessions SET expires_at = now() - interval '1 second'`)
			return token
		}},
		{"account disabled", func(t *testing.T, d *db.DB, s *db.Staff, token string) string {
			exec(t, d, `UPDATE staff SET disabled_at = now() WHERE id = $1`, s.ID)
			return token
		}},
		{"disabled through DisableStaff", func(t *testing.T, d *db.DB, s *db.Staff, token string) string {
			addStaff(t, d, "boss@example.com", string(domain.RoleAdmin)) // alice is not the last admin
			if err := d.DisableStaff(context.Background(), s.ID, db.AuditEntry{Actor: "boss@example.com"}); err != nil {
				t.Fatal(err)
			}
			return token
		}},
		{"signed out", func(t *testing.T, d *db.DB, _ *db.Staff, token string) string {
			if err := d.DeleteStaffSession(context.Background(), token); err != nil {
				t.Fatal(err)
			}
			return token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.New(t)
			s := addStaff(t, d, "alice@example.com", string(domain.RoleAdmin))
			token, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.StaffBySession(ctx, tt.spoil(t, d, s, token)); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	}
}

func exec(t *testing.T, d *db.DB, sql string, args ...any) {
	t.Helper()
	if _, err := d.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteExpiredStaffSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", string(domain.RoleViewer))
	live, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, d, `UPDATE staff_sessions SET expires_at = now() - interval '1 minute' WHERE token_hash <> $1`, sha(live))
	n, err := d.DeleteExpiredStaffSessions(ctx)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
	if _, err := d.StaffBySession(ctx, live); err != nil {
		t.Fatalf("the live session should survive: %v", err)
	}
	if _, _, err := d.CreateStaffSession(ctx, s.ID, 0); err == nil {
		t.Fatal("a session without a lifetime must be refused")
	}
}

func sha(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", string(domain.RoleOperator))
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-audit-aaaaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	// An entry written in a transaction that rolls back is gone with it.
	boom := errors.New("boom")
	err = d.InTx(ctx, func(q db.Querier) error {
		if err := db.AddAudit(ctx, q, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: "onboarding.cancel", OnboardingID: &o.ID}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(q db.Querier) error {
		return db.AddAudit(ctx, q, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: "onboarding.refresh",
			OnboardingID: &o.ID, Detail: map[string]any{"status": "pending"}, IP: "::ffff:192.0.2.7"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddAudit(ctx, db.AuditEntry{Actor: s.Email, Action: db.AuditSignOut, IP: "not an ip"}); err != nil {
		t.Fatal(err)
	}

	about, err := d.AuditLog(ctx, db.AuditFilter{OnboardingID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(about) != 1 {
		t.Fatalf("entries about the onboarding: %+v", about)
	}
	e := about[0]
	if e.Action != "onboarding.refresh" || e.StaffID == nil || *e.StaffID != s.ID || e.Actor != s.Email ||
		e.OnboardingID == nil || *e.OnboardingID != o.ID || e.Detail["status"] != "pending" || e.IP != "192.0.2.7" ||
		time.Since(e.At) > time.Minute {
		t.Fatalf("entry = %+v", e)
	}
	all, err := d.AuditLog(ctx, db.AuditFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Action != db.AuditSignOut || all[0].IP != "" || all[1].Action != "onboarding.refresh" {
		t.Fatalf("newest two: %+v", all)
	}
	if err := d.AddAudit(ctx, db.AuditEntry{Actor: "", Action: db.AuditSignOut}); err == nil {
		t.Fatal("an entry without an actor must be refused")
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"alice@example.com": true, "a.b+c@sub.example.no": true,
		"": false, "Alice@example.com": false, " alice@example.com": false, "alice": false,
		"Alice <alice@example.com>": false, "<alice@example.com>": false, "correct horse battery staple": false,
		"a@b@c": false, "alice@" + string(make([]byte, 260)): false,
	} {
		if got := db.ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestStaffByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", string(domain.RoleViewer))
	if got, err := d.StaffByID(ctx, s.ID); err != nil || got.Email != s.Email {
		t.Fatalf("by id: %v %+v", err, got)
	}
	if _, err := d.StaffByID(ctx, s.ID+1000); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrNotFound", err)
	}
}

func TestSetStaffRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	boss := addStaff(t, d, "boss@example.com", string(domain.RoleAdmin))
	alice := addStaff(t, d, "alice@example.com", string(domain.RoleViewer))
	by := db.AuditEntry{StaffID: &boss.ID, Actor: boss.Email, IP: "192.0.2.5"}

	got, err := d.SetStaffRole(ctx, alice.ID, domain.RoleOperator, by)
	if err != nil || got.Role != domain.RoleOperator || got.PasswordHash != "" {
		t.Fatalf("promote: %v %+v", err, got)
	}
	if again, err := d.SetStaffRole(ctx, alice.ID, domain.RoleOperator, by); err != nil || again.Role != domain.RoleOperator {
		t.Fatalf("the same role again: %v %+v", err, again)
	}
	if _, err := d.SetStaffRole(ctx, alice.ID, "root", by); err == nil {
		t.Fatal("an unknown role must be refused")
	}
	if _, err := d.SetStaffRole(ctx, alice.ID+1000, domain.RoleViewer, by); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := d.SetStaffRole(ctx, boss.ID, domain.RoleOperator, by); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: err = %v, want ErrLastAdmin", err)
	}
	// A disabled admin does not count: boss is still the last active one.
	dora := addStaff(t, d, "dora@example.com", string(domain.RoleAdmin))
	exec(t, d, `UPDATE staff SET disabled_at = now() WHERE id = $1`, dora.ID)
	if _, err := d.SetStaffRole(ctx, boss.ID, domain.RoleViewer, by); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("demoting the last active admin: err = %v, want ErrLastAdmin", err)
	}
	// Promoting a disabled account, and then demoting it, are no threat.
	if _, err := d.SetStaffRole(ctx, dora.ID, domain.RoleViewer, by); err != nil {
		t.Fatal(err)
	}

	log, err := d.AuditLog(ctx, db.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var changes []db.AuditEntry
	for _, e := range log {
		if e.Action == db.AuditStaffRole {
			changes = append(changes, e)
		}
	}
	if len(changes) != 2 {
		t.Fatalf("a change is audited once; no-ops and refusals not at all: %+v", changes)
	}
	e := changes[1] // newest first: the promotion
	if e.Actor != boss.Email || e.StaffID == nil || *e.StaffID != boss.ID || e.IP != "192.0.2.5" ||
		e.Detail["email"] != "alice@example.com" || e.Detail["from"] != "viewer" || e.Detail["to"] != "operator" {
		t.Fatalf("role change entry: %+v", e)
	}
}

func TestDisableStaffLastAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	boss := addStaff(t, d, "boss@example.com", string(domain.RoleAdmin))
	alice := addStaff(t, d, "alice@example.com", string(domain.RoleOperator))
	by := db.AuditEntry{Actor: "cli"}
	if err := d.DisableStaff(ctx, boss.ID, by); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: err = %v, want ErrLastAdmin", err)
	}
	if err := d.DisableStaff(ctx, alice.ID+1000, by); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrNotFound", err)
	}
	for range 2 { // the second time changes and records nothing
		if err := d.DisableStaff(ctx, alice.ID, by); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.StaffByID(ctx, alice.ID)
	if err != nil || got.DisabledAt == nil {
		t.Fatalf("alice: %v %+v", err, got)
	}
	log, err := d.AuditLog(ctx, db.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Action != db.AuditStaffDisable || log[0].Detail["email"] != "alice@example.com" {
		t.Fatalf("newest entry: %+v", log)
	}
	var disables int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'staff.disabled'`).Scan(&disables); err != nil || disables != 1 {
		t.Fatalf("disable entries: %d (%v), want 1", disables, err)
	}
}

// TestAdminsDemotingEachOther runs two admins' demotions of each other at
// once, many times over: one wins, the other is refused, and an admin is
// always left.
func TestAdminsDemotingEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	for i := range 10 {
		a := addStaff(t, d, fmt.Sprintf("a%d@example.com", i), string(domain.RoleAdmin))
		b := addStaff(t, d, fmt.Sprintf("b%d@example.com", i), string(domain.RoleAdmin))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, pair := range [][2]*db.Staff{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if j == 0 {
					_, errs[j] = d.SetStaffRole(ctx, pair[1].ID, domain.RoleViewer, db.AuditEntry{Actor: pair[0].Email})
				} else {
					errs[j] = d.DisableStaff(ctx, pair[1].ID, db.AuditEntry{Actor: pair[0].Email})
				}
			}()
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if errors.Is(err, db.ErrLastAdmin) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		var admins int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL`).Scan(&admins); err != nil {
			t.Fatal(err)
		}
		if refused != 1 || admins != 1 {
			t.Fatalf("round %d: %d refused, %d active admins left; want 1 and 1", i, refused, admins)
		}
		// Leave no active admin from this round, so the next round's pair are the only ones.
		exec(t, d, `UPDATE staff SET disabled_at = now() WHERE role = 'admin'`)
	}
}

// TestSignInInParallel fires many wrong passwords for one email at once:
// only as many are checked as the throttle lets through (here 5), however
// they interleave.
func TestSignInInParallel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	addStaff(t, d, "alice@example.com", string(domain.RoleOperator))
	var (
		mu      sync.Mutex
		checked int
		limited int
		wg      sync.WaitGroup
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := d.SignIn(ctx, db.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1", SessionTTL: time.Hour,
				Throttle: func(f domain.SignInFailures) time.Duration { return time.Duration(max(0, f.Email.N-4)) * time.Second }},
				func(*db.Staff) bool {
					time.Sleep(5 * time.Millisecond) // a hash takes a while
					mu.Lock()
					checked++
					mu.Unlock()
					return false
				})
			if err != nil {
				t.Error(err)
				return
			}
			if res.Limited {
				mu.Lock()
				limited++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if checked != 5 || limited != 15 {
		t.Fatalf("%d passwords checked and %d refused, want 5 and 15", checked, limited)
	}
}
