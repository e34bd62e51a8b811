package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

func TestNormalizeResetCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"ABCD-EFGH", "ABCDEFGH"},
		{" abcd efgh\n", "ABCDEFGH"},
		{"abcd-\tefgh-", "ABCDEFGH"},
		{"", ""},
		{"---", ""},
	} {
		if got := db.NormalizeResetCode(tt.in); got != tt.want {
			t.Errorf("NormalizeResetCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestChangePassword: a wrong current password is a failure, counted up to
// the limit; a right one keeps only the session it was made in.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := addStaff(t, d, "alice@example.com", string(domain.RoleViewer))
	keep, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	change := db.PasswordChange{StaffID: s.ID, KeepSession: keep, NewHash: "$argon2id$new", IP: "192.0.2.1",
		Since: time.Now().Add(-time.Hour), MaxFailures: 2}
	for i := range 2 {
		res, err := d.ChangePassword(ctx, change, func(string) bool { return false })
		if err != nil || res.Changed || res.Limited || res.Failures != i {
			t.Fatalf("wrong password %d: %+v %v", i, res, err)
		}
	}
	called := false
	res, err := d.ChangePassword(ctx, change, func(string) bool { called = true; return true })
	if err != nil || !res.Limited || called {
		t.Fatalf("over the limit: %+v %v, checked %v", res, err, called)
	}
	// Failures before the window do not count.
	change.Since = time.Now().Add(time.Minute)
	res, err = d.ChangePassword(ctx, change, func(h string) bool { return h == "$argon2id$test" })
	if err != nil || !res.Changed || res.SessionsEnded != 1 {
		t.Fatalf("change: %+v %v", res, err)
	}
	if _, err := d.StaffBySession(ctx, keep); err != nil {
		t.Fatalf("the session the change was made in: %v", err)
	}
	if _, err := d.StaffBySession(ctx, other); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the other session: %v, want ErrNotFound", err)
	}
	if got, _ := d.StaffByID(ctx, s.ID); got.PasswordHash != "$argon2id$new" {
		t.Fatalf("hash %q", got.PasswordHash)
	}
	// After a change the old failures no longer count.
	if n, err := d.PasswordFailures(ctx, s.ID, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("failures after the change: %d %v", n, err)
	}
}

// TestPasswordReset: a code works once, a newer one replaces it, expiry and
// a disabled account stop it, and two uses at once give one success.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	boss := addStaff(t, d, "boss@example.com", string(domain.RoleAdmin))
	s := addStaff(t, d, "bob@example.com", string(domain.RoleViewer))
	session, _, err := d.CreateStaffSession(ctx, s.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	reset := func() *db.PasswordReset {
		t.Helper()
		r, err := d.CreatePasswordReset(ctx, db.NewPasswordReset{StaffID: s.ID, TTL: time.Hour, LockHash: "$argon2id$locked",
			By: db.AuditEntry{StaffID: &boss.ID, Actor: boss.Email}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := reset()
	if first.SessionsEnded != 1 || time.Until(first.Expires) < 59*time.Minute {
		t.Fatalf("reset: %+v", first)
	}
	if _, err := d.StaffBySession(ctx, session); !errors.Is(err, db.ErrNotFound) {
		t.Fatal("the reset should end the session")
	}
	if got, _ := d.StaffByID(ctx, s.ID); got.PasswordHash != "$argon2id$locked" {
		t.Fatal("the reset should replace the password")
	}
	second := reset()
	if _, err := d.PasswordResetByCode(ctx, first.Code); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a replaced code: %v, want ErrNotFound", err)
	}
	rc, err := d.PasswordResetByCode(ctx, "  "+second.Code[:4]+"-"+second.Code[4:]+" ")
	if err != nil || rc.StaffID != s.ID || rc.Email != s.Email {
		t.Fatalf("the code as typed: %+v %v", rc, err)
	}

	// Two uses at once: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = d.UsePasswordReset(ctx, db.UseReset{Code: second.Code, NewHash: "$argon2id$mine", SessionTTL: time.Hour})
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || (!errors.Is(errs[0], db.ErrResetUsed) && !errors.Is(errs[1], db.ErrResetUsed)) {
		t.Fatalf("two uses at once: %v, %v; want one nil and one ErrResetUsed", errs[0], errs[1])
	}
	if _, err := d.PasswordResetByCode(ctx, second.Code); !errors.Is(err, db.ErrResetUsed) {
		t.Fatalf("a used code: %v", err)
	}

	third := reset()
	if _, err := d.Pool.Exec(ctx, `UPDATE staff_password_resets SET created_at = now() - interval '2 hours',
		expires_at = now() - interval '1 second' WHERE staff_id = $1 AND used_at IS NULL`, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UsePasswordReset(ctx, db.UseReset{Code: third.Code, NewHash: "x", SessionTTL: time.Hour}); !errors.Is(err, db.ErrResetExpired) {
		t.Fatalf("an expired code: %v", err)
	}
	fourth := reset()
	if err := d.DisableStaff(ctx, s.ID, db.AuditEntry{Actor: "cli"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UsePasswordReset(ctx, db.UseReset{Code: fourth.Code, NewHash: "x", SessionTTL: time.Hour}); !errors.Is(err, db.ErrStaffDisabled) {
		t.Fatalf("a disabled account's code: %v", err)
	}
	if _, err := d.CreatePasswordReset(ctx, db.NewPasswordReset{StaffID: s.ID, TTL: time.Hour, LockHash: "x"}); !errors.Is(err, db.ErrStaffDisabled) {
		t.Fatalf("resetting a disabled account: %v", err)
	}
	if _, err := d.CreatePasswordReset(ctx, db.NewPasswordReset{StaffID: 999999, TTL: time.Hour, LockHash: "x"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("an unknown account: %v", err)
	}
	if _, err := d.PasswordResetByCode(ctx, "nonsense"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("an unknown code: %v", err)
	}
}
