package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

func TestSignInFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	alice := addStaff(t, d, "alice@example.com", string(domain.RoleOperator))
	audit := func(email, action, ip string) {
		t.Helper()
		if err := d.AddAudit(ctx, db.AuditEntry{Actor: email, Action: action, IP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	audit("alice@example.com", db.AuditSignInFailed, "192.0.2.1")
	audit("alice@example.com", db.AuditSignInFailed, "192.0.2.1")
	audit("alice@example.com", db.AuditSignInFailed, "192.0.2.2")
	audit("bob@example.com", db.AuditSignInFailed, "192.0.2.1")
	// Older than every window: not counted.
	exec(t, d, `INSERT INTO audit_log (actor, action, ip, at) VALUES ('alice@example.com', 'staff.sign_in_failed', '192.0.2.1', now() - interval '2 hours')`)
	// Older than the email's and address's 15 minutes, inside the pair's hour.
	exec(t, d, `INSERT INTO audit_log (actor, action, ip, at) VALUES ('alice@example.com', 'staff.sign_in_failed', '192.0.2.1', now() - interval '30 minutes')`)

	type counts struct{ pair, email, addr int }
	check := func(name, email, ip string, want counts) {
		t.Helper()
		f, err := d.SignInFailures(ctx, email, ip)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := (counts{f.Pair.N, f.Email.N, f.Address.N}); got != want {
			t.Errorf("%s: pair, email, address = %v, want %v", name, got, want)
		}
		if f.Now.IsZero() || time.Since(f.Now).Abs() > time.Minute {
			t.Errorf("%s: the database's clock %v", name, f.Now)
		}
		if f.Email.N > 0 && (f.Email.Last.IsZero() || f.Email.Last.After(f.Now)) {
			t.Errorf("%s: latest failure %v", name, f.Email.Last)
		}
	}
	check("both", "Alice@Example.com", "192.0.2.1", counts{3, 3, 3})
	check("other address", "alice@example.com", "192.0.2.9", counts{0, 3, 0})
	check("unknown address", "bob@example.com", "", counts{0, 1, 0})
	check("nobody", "carol@example.com", "192.0.2.2", counts{0, 0, 1})
	check("not an email", "", "192.0.2.1", counts{0, 0, 3})

	// A success from one address starts its pair and the email afresh, and
	// the address's own count; another address's pair for the email stays.
	audit("alice@example.com", db.AuditSignInFailed, "192.0.2.2")
	audit("alice@example.com", db.AuditSignIn, "192.0.2.1")
	check("after a success here", "alice@example.com", "192.0.2.1", counts{0, 0, 0})
	check("after a success elsewhere", "alice@example.com", "192.0.2.2", counts{2, 0, 2})
	for ip, want := range map[string]bool{"192.0.2.1": true, "192.0.2.2": false} {
		if f, err := d.SignInFailures(ctx, "alice@example.com", ip); err != nil || f.KnownPair != want {
			t.Errorf("known pair from %s: %v (%v), want %v", ip, f.KnownPair, err, want)
		}
	}

	// An admin's unlock clears the email's counts from every address.
	audit("alice@example.com", db.AuditSignInFailed, "192.0.2.3")
	if got, err := d.RecentSignInFailures(ctx); err != nil || len(got) != 1 || got[alice.ID] != 1 {
		t.Fatalf("recent failures by account: %v (%v), want alice's 1 since her success (bob has no account)", got, err)
	}
	if _, err := d.UnlockSignIn(ctx, alice.ID, db.AuditEntry{Actor: "admin@example.com", IP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	check("unlocked", "alice@example.com", "192.0.2.2", counts{0, 0, 2})
	check("unlocked, other address", "alice@example.com", "192.0.2.3", counts{0, 0, 1})
	if got, err := d.RecentSignInFailures(ctx); err != nil || len(got) != 0 {
		t.Fatalf("recent failures after the unlock: %v (%v)", got, err)
	}
	log, err := d.AuditLog(ctx, db.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := log[0]; e.Action != db.AuditSignInUnlocked || e.Actor != "admin@example.com" || e.Detail["email"] != "alice@example.com" || e.IP != "192.0.2.7" {
		t.Fatalf("unlock entry: %+v", e)
	}
	if _, err := d.UnlockSignIn(ctx, 999999, db.AuditEntry{Actor: "admin@example.com"}); err != db.ErrNotFound {
		t.Fatalf("unlock of an unknown account: %v", err)
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	alice := addStaff(t, d, "alice@example.com", string(domain.RoleOperator))
	dora := addStaff(t, d, "dora@example.com", string(domain.RoleViewer))
	exec(t, d, `UPDATE staff SET disabled_at = now() WHERE id = $1`, dora.ID)
	attempt := func(email string) db.SignInAttempt {
		return db.SignInAttempt{Email: email, IP: "192.0.2.1", SessionTTL: time.Hour}
	}
	var seen []*db.Staff
	wrong := func(s *db.Staff) bool { seen = append(seen, s); return false }
	right := func(s *db.Staff) bool { seen = append(seen, s); return s != nil }

	// Wrong passwords are recorded as failures, with the account when known.
	res, err := d.SignIn(ctx, attempt("Alice@Example.com"), wrong)
	if err != nil || res.Limited || res.Staff != nil || res.Failures.Pair.N != 0 {
		t.Fatalf("wrong password: %v %+v", err, res)
	}
	if len(seen) != 1 || seen[0] == nil || seen[0].ID != alice.ID || seen[0].PasswordHash != "$argon2id$test" {
		t.Fatalf("check should get alice's account with its hash: %+v", seen)
	}
	// A disabled account is checked as no account at all.
	seen = nil
	if res, err := d.SignIn(ctx, attempt("dora@example.com"), right); err != nil || res.Staff != nil || len(seen) != 1 || seen[0] != nil {
		t.Fatalf("disabled account: %v %+v %+v", err, res, seen)
	}
	// What is not an email address is not looked up, and is audited under a placeholder.
	seen = nil
	if res, err := d.SignIn(ctx, attempt("correct horse battery staple"), right); err != nil || res.Staff != nil || len(seen) != 1 || seen[0] != nil {
		t.Fatalf("not an email: %v %+v %+v", err, res, seen)
	}
	log, err := d.AuditLog(ctx, db.AuditFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if log[0].Actor != db.NotAnEmailActor || log[0].Action != db.AuditSignInFailed || log[0].StaffID != nil ||
		log[1].Actor != "dora@example.com" || log[1].StaffID == nil || *log[1].StaffID != dora.ID ||
		log[2].Actor != "alice@example.com" || log[2].StaffID == nil || log[2].IP != "192.0.2.1" {
		t.Fatalf("failures, newest first: %+v", log)
	}

	// A right password signs in: a session and an audit entry, and the
	// email's count starts afresh.
	res, err = d.SignIn(ctx, attempt("alice@example.com"), right)
	if err != nil || res.Staff == nil || res.Staff.ID != alice.ID || res.Staff.PasswordHash != "" || res.Token == "" || res.Failures.Email.N != 1 {
		t.Fatalf("right password: %v %+v", err, res)
	}
	if s, err := d.StaffBySession(ctx, res.Token); err != nil || s.Staff.ID != alice.ID || !s.ExpiresAt.Equal(res.Expires) {
		t.Fatalf("the new session: %v %+v", err, s)
	}
	if log, _ := d.AuditLog(ctx, db.AuditFilter{Limit: 1}); log[0].Action != db.AuditSignIn || log[0].Actor != "alice@example.com" {
		t.Fatalf("sign-in entry: %+v", log)
	}

	// The pair's free failures (domain.SignInPair.Free), then the next
	// attempt is refused before check runs, with the rule's first wait.
	for i := range domain.SignInPair.Free {
		if res, err := d.SignIn(ctx, attempt("alice@example.com"), wrong); err != nil || res.Limited || res.Failures.Pair.N != i {
			t.Fatalf("failure %d: %v %+v", i+1, err, res)
		}
	}
	seen = nil
	res, err = d.SignIn(ctx, attempt("alice@example.com"), right)
	if err != nil || !res.Limited || res.Staff != nil || res.Failures.Pair.N != domain.SignInPair.Free || len(seen) != 0 ||
		res.Wait <= 0 || res.Wait > domain.SignInPair.First {
		t.Fatalf("held back: %v %+v, check ran %d times", err, res, len(seen))
	}
	// Once the wait has passed (the failures made older), the right password works.
	exec(t, d, `UPDATE audit_log SET at = at - make_interval(secs => $1)`, domain.SignInPair.First.Seconds())
	if res, err := d.SignIn(ctx, attempt("alice@example.com"), right); err != nil || res.Limited || res.Staff == nil {
		t.Fatalf("after the wait: %v %+v", err, res)
	}
	// A throttle of one's own holds for what is not an email too (the
	// success above started the address's count afresh).
	if _, err := d.SignIn(ctx, attempt(""), wrong); err != nil {
		t.Fatal(err)
	}
	a := attempt("")
	a.Throttle = func(f domain.SignInFailures) time.Duration { return time.Duration(f.Address.N) * time.Second }
	if res, err := d.SignIn(ctx, a, right); err != nil || !res.Limited || res.Failures.Address.N == 0 {
		t.Fatalf("held back by address, no email: %v %+v", err, res)
	}
}
