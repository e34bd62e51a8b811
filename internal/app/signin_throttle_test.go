package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// The sign-in throttle (issue 13, pentest: five wrong passwords locked an
// email for 15 minutes from every address). It slows guessing down and
// never locks the real person out. "Waiting" is done by making the audit
// log's failures older (ageFailures), the clock the throttle reads, so no
// test sleeps.

// signInFrom signs in as a browser at addr (the service reads the client's
// address from X-Forwarded-For, as behind a proxy); "" sends no header.
func (e *env) signInFrom(b *browser, addr, email, password string) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/admin/login", nil)
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	form := b.do(req)
	if form.status != http.StatusOK {
		e.t.Fatalf("sign-in page: %d", form.status)
	}
	req, _ = http.NewRequest(http.MethodPost, e.web.URL+"/admin/login", strings.NewReader(url.Values{
		"email": {email}, "password": {password}, "_csrf": {csrfOf(e.t, form)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	return b.do(req)
}

// ageFailures makes every sign-in failure d older: as if d had passed.
func (e *env) ageFailures(d time.Duration) {
	e.t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(),
		`UPDATE audit_log SET at = at - make_interval(secs => $1) WHERE action = 'staff.sign_in_failed'`, d.Seconds()); err != nil {
		e.t.Fatal(err)
	}
}

// retryAfter is a held-back answer's Retry-After, checked against its page:
// a 429 saying in words when to try again.
func retryAfter(t *testing.T, p page) time.Duration {
	t.Helper()
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429\n%s", p.status, p.body)
	}
	secs, err := strconv.Atoi(p.header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		t.Fatalf("Retry-After %q", p.header.Get("Retry-After"))
	}
	if !regexp.MustCompile(`For mange mislykkede forsøk\. Prøv igjen om (1 sekund|\d+ sekunder|\d+ minutter)\.`).MatchString(p.body) ||
		!strings.Contains(p.body, "Kontoen er ikke låst") {
		t.Fatalf("the page should say when to try again:\n%s", p.body)
	}
	if strings.Contains(p.header.Get("Set-Cookie"), "onboard_staff=") {
		t.Fatal("a held-back attempt must not sign in")
	}
	return time.Duration(secs) * time.Second
}

func (e *env) failuresFor(email string) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE actor = $1 AND action = 'staff.sign_in_failed'`, email).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestSignInAttackerElsewhereDoesNotStopTheRealPerson: ten wrong passwords
// from one address slow that address down; the real person at another
// signs in at once.
func TestSignInAttackerElsewhereDoesNotStopTheRealPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_BEHIND_PROXY": "true"})
	e.addStaff("alice@example.com", string(domain.RoleOperator))
	const attacker, alice = "203.0.113.66", "198.51.100.7"
	statuses := map[int]int{}
	for i := range 10 {
		res := e.signInFrom(e.browser(), attacker, "alice@example.com", "guess "+strconv.Itoa(i))
		statuses[res.status]++
		if res.status == http.StatusTooManyRequests {
			retryAfter(t, res)
		}
	}
	if statuses[http.StatusUnauthorized] != domain.SignInPair.Free || statuses[http.StatusTooManyRequests] != 10-domain.SignInPair.Free {
		t.Fatalf("the attacker's answers %v: want %d wrong and the rest held back", statuses, domain.SignInPair.Free)
	}
	if res := e.signInFrom(e.browser(), alice, "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("alice at her own address: %d, want in at once\n%s", res.status, res.body)
	}
	// The attacker is still held back: alice's success elsewhere is not theirs.
	retryAfter(t, e.signInFrom(e.browser(), attacker, "alice@example.com", "guess again"))
}

// TestSignInBackoffGrows: one address and one email: a few free failures,
// then a wait that doubles with each failure; the right password works
// once the wait is over.
func TestSignInBackoffGrows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_BEHIND_PROXY": "true"})
	e.addStaff("alice@example.com", string(domain.RoleViewer))
	const addr = "203.0.113.5"
	for i := range domain.SignInPair.Free {
		if res := e.signInFrom(e.browser(), addr, "alice@example.com", "wrong "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
			t.Fatalf("free failure %d: %d", i+1, res.status)
		}
	}
	var waits []time.Duration
	for i := range 3 {
		w := retryAfter(t, e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword))
		waits = append(waits, w)
		e.ageFailures(w)
		if i < 2 {
			if res := e.signInFrom(e.browser(), addr, "alice@example.com", "wrong again"); res.status != http.StatusUnauthorized {
				t.Fatalf("after waiting %v: %d, want the password checked (401)", w, res.status)
			}
		}
	}
	first := domain.SignInPair.First
	if want := []time.Duration{first, 2 * first, 4 * first}; !slicesEqual(waits, want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	// In words too: 20 seconds.
	w := e.signInFrom(e.browser(), addr, "alice@example.com", "wrong")
	if w.status != http.StatusUnauthorized {
		t.Fatalf("after the third wait: %d", w.status)
	}
	if p := e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword); !strings.Contains(p.body, "Prøv igjen om 40 sekunder.") ||
		p.header.Get("Retry-After") != "40" {
		t.Fatalf("the fourth wait: Retry-After %q\n%s", p.header.Get("Retry-After"), p.body)
	}
	e.ageFailures(40 * time.Second)
	if res := e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("the right password after the wait: %d\n%s", res.status, res.body)
	}
	// Held-back attempts are not failures: only the checked ones are audited.
	if n := e.failuresFor("alice@example.com"); n != domain.SignInPair.Free+3 {
		t.Fatalf("%d failures audited, want %d", n, domain.SignInPair.Free+3)
	}
}

func slicesEqual(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSignInManyAddressesDelayOneEmailBriefly: failures for one email from
// many addresses hold that email back by at most the email rule's cap (30
// s), from a fresh address too; after it the right password works.
func TestSignInManyAddressesDelayOneEmailBriefly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_BEHIND_PROXY": "true"})
	e.addStaff("alice@example.com", string(domain.RoleOperator))
	e.addStaff("bob@example.com", string(domain.RoleOperator))
	// A botnet: each address tries once or twice.
	for i := range domain.SignInEmail.Free {
		if res := e.signInFrom(e.browser(), "203.0.113."+strconv.Itoa(i+1), "alice@example.com", "guess"); res.status != http.StatusUnauthorized {
			t.Fatalf("botnet failure %d: %d", i+1, res.status)
		}
	}
	// And many more, written straight to the audit log.
	if _, err := e.db.Pool.Exec(context.Background(), `
		INSERT INTO audit_log (actor, action, ip)
		SELECT 'alice@example.com', 'staff.sign_in_failed', ('198.18.0.0'::inet + g) FROM generate_series(1, 500) g`); err != nil {
		t.Fatal(err)
	}
	w := retryAfter(t, e.signInFrom(e.browser(), "198.51.100.7", "alice@example.com", staffPassword))
	if w > domain.SignInEmail.Max {
		t.Fatalf("alice waits %v, more than the cap %v", w, domain.SignInEmail.Max)
	}
	// Only alice's email is slowed: bob at the same address gets in.
	if res := e.signInFrom(e.browser(), "198.51.100.7", "bob@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("bob: %d", res.status)
	}
	e.ageFailures(w)
	if res := e.signInFrom(e.browser(), "198.51.100.7", "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("alice after waiting %v: %d\n%s", w, res.status, res.body)
	}
	// The botnet again: now alice's address is one she has signed in from,
	// where the guessing elsewhere does not slow her at all; a new address
	// of hers still waits its half minute at most.
	if _, err := e.db.Pool.Exec(context.Background(), `
		INSERT INTO audit_log (actor, action, ip)
		SELECT 'alice@example.com', 'staff.sign_in_failed', ('198.18.0.0'::inet + g) FROM generate_series(1, 500) g`); err != nil {
		t.Fatal(err)
	}
	if w := retryAfter(t, e.signInFrom(e.browser(), "198.51.100.8", "alice@example.com", staffPassword)); w > domain.SignInEmail.Max {
		t.Fatalf("alice at a new address waits %v", w)
	}
	if res := e.signInFrom(e.browser(), "198.51.100.7", "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("alice at an address she signed in from before: %d, want in at once\n%s", res.status, res.body)
	}
	// An unknown email is throttled just like a known one (no enumeration).
	for i := range domain.SignInPair.Free {
		e.signInFrom(e.browser(), "203.0.113.200", "nobody@example.com", "guess "+strconv.Itoa(i))
	}
	if got := e.signInFrom(e.browser(), "203.0.113.200", "nobody@example.com", "guess"); got.header.Get("Retry-After") != strconv.Itoa(int(domain.SignInPair.First.Seconds())) {
		t.Fatalf("unknown email: %d Retry-After %q, want as for a known one", got.status, got.header.Get("Retry-After"))
	}
}

// TestSignInBehindOneSharedAddress: without ONBOARD_BEHIND_PROXY behind a
// proxy everyone shares one address. Someone there guessing many emails,
// and the real person's, delays the real person, boundedly, and never
// locks them out; others there wait at most the address rule's cap.
func TestSignInBehindOneSharedAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil) // every client is 127.0.0.1
	e.addStaff("alice@example.com", string(domain.RoleOperator))
	e.addStaff("bob@example.com", string(domain.RoleOperator))
	if _, err := e.db.Pool.Exec(context.Background(), `
		INSERT INTO audit_log (actor, action, ip)
		SELECT 'guess' || g || '@example.com', 'staff.sign_in_failed', '127.0.0.1' FROM generate_series(1, 200) g`); err != nil {
		t.Fatal(err)
	}
	for i := range 8 { // the attacker's guesses at alice, as far as they get
		e.ageFailures(10 * time.Second)
		e.signInFrom(e.browser(), "", "alice@example.com", "guess "+strconv.Itoa(i))
	}
	// The spraying goes on: a fresh failure for yet another email.
	if res := e.signInFrom(e.browser(), "", "carol@example.com", "guess"); res.status != http.StatusUnauthorized {
		t.Fatalf("a spray's guess after a wait: %d", res.status)
	}
	w := retryAfter(t, e.signInFrom(e.browser(), "", "bob@example.com", staffPassword))
	if w > domain.SignInAddress.Max {
		t.Fatalf("bob, never guessed at, waits %v, more than the address cap %v", w, domain.SignInAddress.Max)
	}
	e.ageFailures(w)
	if res := e.signInFrom(e.browser(), "", "bob@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("bob after the wait: %d", res.status)
	}
	// Alice waits longer (her pair's back-off), but a wait it is: after it
	// the right password works.
	e.signInFrom(e.browser(), "", "alice@example.com", "one more guess")
	w = retryAfter(t, e.signInFrom(e.browser(), "", "alice@example.com", staffPassword))
	if w > domain.SignInPair.Max {
		t.Fatalf("alice waits %v, more than the pair cap %v", w, domain.SignInPair.Max)
	}
	e.ageFailures(w)
	if res := e.signInFrom(e.browser(), "", "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("alice after the wait: %d\n%s", res.status, res.body)
	}
}

// TestAdminUnlocksSignIn: an admin clears a staff member's sign-in delay
// from the staff page (audited); viewers and operators cannot.
func TestAdminUnlocksSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_BEHIND_PROXY": "true"})
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("vera@example.com", string(domain.RoleViewer))
	e.addStaff("otto@example.com", string(domain.RoleOperator))
	alice := e.addStaff("alice@example.com", string(domain.RoleViewer))
	const addr = "203.0.113.9"
	for i := range domain.SignInPair.Free + 1 {
		e.signInFrom(e.browser(), addr, "alice@example.com", "guess "+strconv.Itoa(i))
	}
	retryAfter(t, e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword))

	// Neither a viewer nor an operator may unlock, with a valid token.
	for _, who := range []string{"vera@example.com", "otto@example.com"} {
		b := e.signedIn(who)
		token := csrfOf(t, b.get(e.web.URL+"/admin/"))
		if res := b.post(e.web.URL+staffPath(alice, "unlock"), url.Values{"_csrf": {token}}); res.status != http.StatusForbidden {
			t.Fatalf("%s unlocking: %d, want 403", who, res.status)
		}
	}
	retryAfter(t, e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword))

	admin := e.signedIn("boss@example.com")
	list := admin.get(e.web.URL + "/admin/staff")
	if !strings.Contains(list.body, `action="`+staffPath(alice, "unlock")+`"`) || !strings.Contains(list.body, "Opphev ventetid for innlogging for alice@example.com") {
		t.Fatalf("no unlock form for alice on the staff page:\n%s", list.body)
	}
	if !strings.Contains(list.body, "Feil passord siste time: "+strconv.Itoa(domain.SignInPair.Free)) {
		t.Fatalf("alice's failures are not shown:\n%s", list.body)
	}
	if strings.Contains(list.body, `action="`+staffPath(e.staffNamed("boss@example.com"), "unlock")+`"`) {
		t.Fatal("an admin is offered to unlock their own account")
	}
	if strings.Contains(list.body, `action="`+staffPath(e.staffNamed("vera@example.com"), "unlock")+`"`) {
		t.Fatal("an account without failures is offered an unlock")
	}
	if res := admin.post(e.web.URL+staffPath(alice, "unlock"), url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("unlock without a CSRF token: %d, want 403", res.status)
	}
	res := admin.post(e.web.URL+staffPath(alice, "unlock"), url.Values{"_csrf": {csrfOf(t, list)}})
	if res.status != http.StatusSeeOther || !strings.Contains(res.location, "done=unlocked") {
		t.Fatalf("unlock: %d %q\n%s", res.status, res.location, res.body)
	}
	if done := admin.get(e.web.URL + res.location); !strings.Contains(done.body, "Ventetiden for innlogging er opphevet for") {
		t.Fatalf("no done message:\n%s", done.body)
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if l := log[0]; l.Action != db.AuditSignInUnlocked || l.Actor != "boss@example.com" || l.Detail["email"] != "alice@example.com" || l.StaffID == nil {
		t.Fatalf("audit: %+v", l)
	}
	if after := admin.get(e.web.URL + "/admin/staff"); strings.Contains(after.body, `action="`+staffPath(alice, "unlock")+`"`) {
		t.Fatal("the unlock is still offered after it")
	}
	if res := e.signInFrom(e.browser(), addr, "alice@example.com", staffPassword); res.status != http.StatusSeeOther {
		t.Fatalf("alice after the unlock: %d\n%s", res.status, res.body)
	}
}
