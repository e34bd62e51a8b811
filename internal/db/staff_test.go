package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

func addStaff(t *testing.T, d *db.DB, email, role string) *db.Staff {
	t.Helper()
	s, err := d.CreateStaff(context.Background(), db.NewStaff{Email: email, PasswordHash: "$argon2id$test", Role: role, Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "  Alice@Example.COM ", db.RoleOperator)
	if s.Email != "alice@example.com" || s.Role != db.RoleOperator || s.ID == 0 || s.DisabledAt != nil {
		t.Fatalf("created %+v", s)
	}
	if _, err := d.CreateStaff(ctx, db.NewStaff{Email: "ALICE@example.com", PasswordHash: "x", Role: db.RoleViewer}); !errors.Is(err, db.ErrConflict) {
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
	addStaff(t, d, "aaron@example.com", db.RoleAdmin)
	list, err := d.ListStaff(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "aaron@example.com" {
		t.Fatalf("list: %v %+v", err, list)
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
	if !(db.RoleRank(db.RoleViewer) < db.RoleRank(db.RoleOperator) && db.RoleRank(db.RoleOperator) < db.RoleRank(db.RoleAdmin)) {
		t.Fatal("roles must rank viewer < operator < admin")
	}
	if db.RoleRank("root") != -1 || db.RoleRank("") != -1 {
		t.Fatal("unknown roles rank -1")
	}
}

func TestStaffSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", db.RoleViewer)
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
	if err != nil || got.Staff.ID != s.ID || got.Staff.Email != s.Email || got.Staff.Role != db.RoleViewer || !got.ExpiresAt.Equal(expires) {
		t.Fatalf("by session: %v %+v", err, got)
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
			s := addStaff(t, d, "alice@example.com", db.RoleAdmin)
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
	s := addStaff(t, d, "alice@example.com", db.RoleViewer)
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
	s := addStaff(t, d, "alice@example.com", db.RoleOperator)
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

func TestFailedSignIns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	fail := func(email, ip string) {
		t.Helper()
		if err := d.AddAudit(ctx, db.AuditEntry{Actor: email, Action: db.AuditSignInFailed, IP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	window := time.Now().Add(-15 * time.Minute)
	fail("alice@example.com", "192.0.2.1")
	fail("alice@example.com", "192.0.2.2")
	fail("bob@example.com", "192.0.2.1")
	exec(t, d, `INSERT INTO audit_log (actor, action, ip, at) VALUES ('alice@example.com', 'staff.sign_in_failed', '192.0.2.1', now() - interval '1 hour')`)

	tests := []struct {
		name          string
		email, ip     string
		byEmail, byIP int
	}{
		{"both", "Alice@Example.com", "192.0.2.1", 2, 2},
		{"other ip", "alice@example.com", "192.0.2.9", 2, 0},
		{"unknown ip", "bob@example.com", "", 1, 0},
		{"nobody", "carol@example.com", "192.0.2.2", 0, 1},
	}
	for _, tt := range tests {
		byEmail, byIP, err := d.FailedSignIns(ctx, tt.email, tt.ip, window)
		if err != nil || byEmail != tt.byEmail || byIP != tt.byIP {
			t.Errorf("%s: by email %d, by ip %d (%v); want %d, %d", tt.name, byEmail, byIP, err, tt.byEmail, tt.byIP)
		}
	}
	// A successful sign-in starts the email's count afresh; the IP's stays.
	if err := d.AddAudit(ctx, db.AuditEntry{Actor: "alice@example.com", Action: db.AuditSignIn, IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if byEmail, byIP, err := d.FailedSignIns(ctx, "alice@example.com", "192.0.2.1", window); err != nil || byEmail != 0 || byIP != 2 {
		t.Fatalf("after a sign-in: by email %d, by ip %d (%v); want 0, 2", byEmail, byIP, err)
	}
}
