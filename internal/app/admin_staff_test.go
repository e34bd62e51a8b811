package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// signedIn is a browser signed in as email (with staffPassword).
func (e *env) signedIn(email string) *browser {
	e.t.Helper()
	b := e.browser()
	if res := e.signIn(b, email, staffPassword, ""); res.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d\n%s", email, res.status, res.body)
	}
	return b
}

// staffChanges is the audit log's staff changes (not sign-ins), oldest
// first, as "actor action email".
func (e *env) staffChanges() []string {
	e.t.Helper()
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(log) - 1; i >= 0; i-- {
		if l := log[i]; strings.HasPrefix(l.Action, "staff.") && !strings.HasPrefix(l.Action, "staff.sign") && l.Actor != "test" {
			email, _ := l.Detail["email"].(string)
			out = append(out, l.Actor+" "+l.Action+" "+email)
		}
	}
	return out
}

func (e *env) staffNamed(email string) *db.Staff {
	e.t.Helper()
	list, err := e.db.ListStaff(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range list {
		if s.Email == email {
			return &s
		}
	}
	e.t.Fatalf("no account %s", email)
	return nil
}

func staffPath(s *db.Staff, action string) string {
	return "/admin/staff/" + strconv.FormatInt(s.ID, 10) + "/" + action
}

func TestAdminStaffNeedsAnAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addStaff("boss@example.com", string(domain.RoleAdmin))
	vic := e.addStaff("vic@example.com", string(domain.RoleViewer))
	e.addStaff("olga@example.com", string(domain.RoleOperator))

	anon := e.browser()
	csrf := csrfOf(t, anon.get(e.web.URL+"/admin/login"))
	if res := anon.get(e.web.URL + "/admin/staff"); res.status != http.StatusSeeOther || res.location != "/admin/login?next=%2Fadmin%2Fstaff" {
		t.Fatalf("no session, GET: %d %q", res.status, res.location)
	}
	for _, p := range []string{"/admin/staff", staffPath(vic, "role"), staffPath(vic, "disable")} {
		if res := anon.post(e.web.URL+p, url.Values{"_csrf": {csrf}, "email": {"x@example.com"}, "role": {"admin"}, "confirm": {"yes"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("no session, POST %s: %d", p, res.status)
		}
	}

	for _, who := range []string{"vic@example.com", "olga@example.com"} {
		t.Run(who, func(t *testing.T) {
			b := e.signedIn(who)
			home := b.get(e.web.URL + "/admin/")
			if home.status != http.StatusOK || strings.Contains(home.body, `data-testid="nav-staff"`) {
				t.Fatalf("the nav should not offer the staff page below admin: %d", home.status)
			}
			csrf := csrfOf(t, home)
			for _, p := range []string{"/admin/staff", staffPath(vic, "disable"), "/admin/staff/nonsense"} {
				if res := b.get(e.web.URL + p); res.status != http.StatusForbidden || !strings.Contains(res.body, `data-testid="error"`) {
					t.Fatalf("GET %s: %d, want 403", p, res.status)
				}
			}
			posts := map[string]url.Values{
				"/admin/staff":            {"email": {"mallory@example.com"}, "role": {"admin"}},
				staffPath(vic, "role"):    {"role": {"admin"}},
				staffPath(vic, "disable"): {"confirm": {"yes"}},
			}
			for p, form := range posts {
				form.Set("_csrf", csrf)
				if res := b.post(e.web.URL+p, form); res.status != http.StatusForbidden {
					t.Fatalf("POST %s: %d, want 403", p, res.status)
				}
			}
		})
	}
	list, err := e.db.ListStaff(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || e.staffNamed("vic@example.com").Role != domain.RoleViewer || e.staffNamed("vic@example.com").DisabledAt != nil {
		t.Fatalf("refused requests must change nothing: %+v", list)
	}
	if got := e.staffChanges(); len(got) != 0 {
		t.Fatalf("refused requests must audit no change: %v", got)
	}
}

var newPasswordRE = regexp.MustCompile(`id="new-password" value="([^"]+)"`)

func TestAdminStaffAdd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	boss := e.addStaff("boss@example.com", string(domain.RoleAdmin))
	e.addStaff("taken@example.com", string(domain.RoleViewer))
	b := e.signedIn("boss@example.com")

	page := b.get(e.web.URL + "/admin/staff")
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-testid="nav-staff"`) || !strings.Contains(page.body, `data-testid="add-form"`) {
		t.Fatalf("staff page: %d\n%s", page.status, page.body)
	}
	csrf := csrfOf(t, page)

	refusals := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"not an email", url.Values{"email": {"correct horse battery"}, "role": {"viewer"}}, http.StatusBadRequest, "Skriv en gyldig e-postadresse"},
		{"a display name", url.Values{"email": {"Eve <eve@example.com>"}, "role": {"viewer"}}, http.StatusBadRequest, "Skriv en gyldig e-postadresse"},
		{"no role", url.Values{"email": {"eve@example.com"}}, http.StatusBadRequest, "Velg en rolle."},
		{"unknown role", url.Values{"email": {"eve@example.com"}, "role": {"root"}}, http.StatusBadRequest, "Velg en rolle."},
		{"taken", url.Values{"email": {"Taken@Example.com"}, "role": {"admin"}}, http.StatusConflict, "Det finnes allerede en konto"},
	}
	for _, r := range refusals {
		r.form.Set("_csrf", csrf)
		res := b.post(e.web.URL+"/admin/staff", r.form)
		if res.status != r.status || !strings.Contains(res.body, `data-testid="add-error"`) || !strings.Contains(res.body, r.msg) {
			t.Fatalf("%s: %d, want %d and %q\n%s", r.name, res.status, r.status, r.msg, res.body)
		}
		if !strings.Contains(res.body, `data-testid="staff-row"`) {
			t.Fatalf("%s: the list should still be there", r.name)
		}
	}
	if res := b.post(e.web.URL+"/admin/staff", url.Values{"email": {"eve@example.com"}, "role": {"viewer"}}); res.status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d, want 403", res.status)
	}

	res := b.post(e.web.URL+"/admin/staff", url.Values{"email": {" Eve@Example.com "}, "role": {"operator"}, "_csrf": {csrf}})
	if res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="new-account-email">eve@example.com<`) {
		t.Fatalf("add: %d\n%s", res.status, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the page with the password must not be cached: Cache-Control %q", cc)
	}
	m := newPasswordRE.FindStringSubmatch(res.body)
	if m == nil || len(m[1]) < 20 {
		t.Fatalf("no generated password shown:\n%s", res.body)
	}
	password := m[1]
	if again := b.get(e.web.URL + "/admin/staff"); strings.Contains(again.body, password) {
		t.Fatal("the password must be shown once only")
	}
	eve := e.staffNamed("eve@example.com")
	if eve.Role != domain.RoleOperator {
		t.Fatalf("eve: %+v", eve)
	}
	// The password works, and only as the account's.
	if res := e.signIn(e.browser(), "eve@example.com", password, ""); res.status != http.StatusSeeOther {
		t.Fatalf("signing in with the shown password: %d", res.status)
	}

	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var created *db.AuditEntry
	for i := range log {
		if log[i].Action == db.AuditStaffCreated && log[i].Detail["email"] == "eve@example.com" {
			created = &log[i]
		}
	}
	if created == nil || created.Actor != "boss@example.com" || created.StaffID == nil || *created.StaffID != boss.ID ||
		created.IP != "127.0.0.1" || created.Detail["role"] != "operator" {
		t.Fatalf("the add should be audited with its author: %+v", created)
	}
	if strings.Contains(strings.Join(e.staffChanges(), " "), password) {
		t.Fatal("the audit log holds the password")
	}
}

func TestAdminStaffRoleAndDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	boss := e.addStaff("boss@example.com", string(domain.RoleAdmin))
	alice := e.addStaff("alice@example.com", string(domain.RoleViewer))
	carol := e.addStaff("carol@example.com", string(domain.RoleOperator))
	b := e.signedIn("boss@example.com")
	aliceBrowser := e.signedIn("alice@example.com")

	page := b.get(e.web.URL + "/admin/staff")
	csrf := csrfOf(t, page)
	// The admin's own row offers no role change and no disabling; others' do.
	ownRow := regexp.MustCompile(`(?s)<tr data-testid="staff-row" data-id="` + strconv.FormatInt(boss.ID, 10) + `".*?</tr>`).FindString(page.body)
	if ownRow == "" || strings.Contains(ownRow, "role-form") || strings.Contains(ownRow, "disable-link") {
		t.Fatalf("own row:\n%s", ownRow)
	}
	if !strings.Contains(page.body, `href="`+staffPath(alice, "disable")+`"`) || !strings.Contains(page.body, `action="`+staffPath(alice, "role")+`"`) {
		t.Fatalf("alice's row should offer both actions:\n%s", page.body)
	}

	// Role change.
	res := b.post(e.web.URL+staffPath(alice, "role"), url.Values{"role": {"operator"}, "_csrf": {csrf}})
	if res.status != http.StatusSeeOther || res.location != "/admin/staff?done=role&id="+strconv.FormatInt(alice.ID, 10) {
		t.Fatalf("role change: %d %q\n%s", res.status, res.location, res.body)
	}
	if done := b.get(e.web.URL + res.location); !strings.Contains(done.body, `data-testid="done"`) || !strings.Contains(done.body, "<strong>alice@example.com</strong>") ||
		!strings.Contains(done.body, `data-email="alice@example.com" data-role="operator"`) {
		t.Fatalf("after the role change:\n%s", done.body)
	}
	if home := aliceBrowser.get(e.web.URL + "/admin/"); !strings.Contains(home.body, `data-role="operator"`) {
		t.Fatal("the new role should hold on alice's next request")
	}
	// The same role again changes and records nothing.
	if res := b.post(e.web.URL+staffPath(alice, "role"), url.Values{"role": {"operator"}, "_csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("same role: %d", res.status)
	}
	if res := b.post(e.web.URL+staffPath(alice, "role"), url.Values{"role": {"root"}, "_csrf": {csrf}}); res.status != http.StatusBadRequest {
		t.Fatalf("unknown role: %d, want 400", res.status)
	}
	for _, p := range []string{"/admin/staff/99999/role", "/admin/staff/x/role"} {
		if res := b.post(e.web.URL+p, url.Values{"role": {"viewer"}, "_csrf": {csrf}}); res.status != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", p, res.status)
		}
	}

	// Nobody demotes or disables themselves.
	for p, form := range map[string]url.Values{
		staffPath(boss, "role"):    {"role": {"operator"}},
		staffPath(boss, "disable"): {"confirm": {"yes"}},
	} {
		form.Set("_csrf", csrf)
		if res := b.post(e.web.URL+p, form); res.status != http.StatusForbidden || !strings.Contains(res.body, "Du kan ikke endre din egen rolle") {
			t.Fatalf("POST %s on oneself: %d\n%s", p, res.status, res.body)
		}
	}
	if res := b.get(e.web.URL + staffPath(boss, "disable")); res.status != http.StatusForbidden {
		t.Fatalf("confirming one's own disabling: %d, want 403", res.status)
	}

	// Disabling asks first: the GET and a POST without confirm=yes only show
	// the question.
	confirm := b.get(e.web.URL + staffPath(alice, "disable"))
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-testid="confirm-email">alice@example.com<`) ||
		!strings.Contains(confirm.body, `name="confirm" value="yes"`) {
		t.Fatalf("confirmation page: %d\n%s", confirm.status, confirm.body)
	}
	if res := b.post(e.web.URL+staffPath(alice, "disable"), url.Values{"_csrf": {csrf}}); res.status != http.StatusOK ||
		!strings.Contains(res.body, `data-testid="confirm-form"`) || e.staffNamed("alice@example.com").DisabledAt != nil {
		t.Fatalf("a POST without confirmation must only ask: %d", res.status)
	}
	res = b.post(e.web.URL+staffPath(alice, "disable"), url.Values{"_csrf": {csrfOf(t, confirm)}, "confirm": {"yes"}})
	if res.status != http.StatusSeeOther || res.location != "/admin/staff?done=disabled&id="+strconv.FormatInt(alice.ID, 10) {
		t.Fatalf("disable: %d %q\n%s", res.status, res.location, res.body)
	}
	if e.staffNamed("alice@example.com").DisabledAt == nil {
		t.Fatal("alice should be disabled")
	}
	// Her session is over at once, and she cannot sign in again.
	if res := aliceBrowser.get(e.web.URL + "/admin/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/admin/login") {
		t.Fatalf("alice's session after she was disabled: %d %q", res.status, res.location)
	}
	if res := e.signIn(e.browser(), "alice@example.com", staffPassword, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("a disabled account signs in: %d", res.status)
	}
	list := b.get(e.web.URL + "/admin/staff")
	aliceRow := regexp.MustCompile(`(?s)<tr data-testid="staff-row" data-id="` + strconv.FormatInt(alice.ID, 10) + `".*?</tr>`).FindString(list.body)
	if !strings.Contains(aliceRow, `data-disabled="true"`) || strings.Contains(aliceRow, "disable-link") {
		t.Fatalf("alice's row after disabling:\n%s", aliceRow)
	}
	// Confirming a disabled account again just goes back to the list.
	if res := b.get(e.web.URL + staffPath(alice, "disable")); res.status != http.StatusSeeOther || res.location != "/admin/staff" {
		t.Fatalf("confirming a disabled account: %d %q", res.status, res.location)
	}

	// Promote carol to admin: then she and boss are both admins.
	if res := b.post(e.web.URL+staffPath(carol, "role"), url.Values{"role": {"admin"}, "_csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("promote carol: %d", res.status)
	}

	want := []string{
		"boss@example.com staff.role_changed alice@example.com",
		"boss@example.com staff.disabled alice@example.com",
		"boss@example.com staff.role_changed carol@example.com",
	}
	if got := e.staffChanges(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit of staff changes:\n%s\nwant (refusals and no-ops leave nothing):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	log, err := e.db.AuditLog(context.Background(), db.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var d db.AuditEntry
	for _, l := range log {
		if l.Action == db.AuditStaffDisable {
			d = l
		}
	}
	if d.StaffID == nil || *d.StaffID != boss.ID || d.IP != "127.0.0.1" || d.Detail["sessions_ended"] != float64(1) {
		t.Fatalf("disable entry: %+v", d)
	}
}

// TestAdminStaffAdminsDemotingEachOther: two admins demote each other at the
// same moment. Whichever way the requests interleave, one of them stays an
// admin.
func TestAdminStaffAdminsDemotingEachOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for round := range 3 {
		a := e.addStaff("a"+strconv.Itoa(round)+"@example.com", string(domain.RoleAdmin))
		b := e.addStaff("b"+strconv.Itoa(round)+"@example.com", string(domain.RoleAdmin))
		ba, bb := e.signedIn(a.Email), e.signedIn(b.Email)
		ca, cb := csrfOf(t, ba.get(e.web.URL+"/admin/staff")), csrfOf(t, bb.get(e.web.URL+"/admin/staff"))
		start := make(chan struct{})
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, step := range []struct {
			br     *browser
			csrf   string
			target *db.Staff
		}{{ba, ca, b}, {bb, cb, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				form := url.Values{"role": {"viewer"}, "_csrf": {step.csrf}}
				req, _ := http.NewRequest(http.MethodPost, e.web.URL+staffPath(step.target, "role"), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := step.br.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		admins := 0
		for _, s := range []*db.Staff{a, b} {
			if e.staffNamed(s.Email).Role == domain.RoleAdmin {
				admins++
			}
		}
		ok := 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				ok++
			case http.StatusConflict, http.StatusForbidden: // refused as the last admin, or no admin any more
			default:
				t.Fatalf("round %d: status %d", round, s)
			}
		}
		if admins != 1 || ok != 1 {
			t.Fatalf("round %d: statuses %v, %d admins left of the two; want one change and one admin", round, statuses, admins)
		}
		// Take this round's pair out, so the next pair are the only admins.
		if _, err := e.db.Pool.Exec(context.Background(), `UPDATE staff SET disabled_at = now() WHERE id IN ($1, $2)`, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
	}
}
