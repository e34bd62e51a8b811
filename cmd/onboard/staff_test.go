package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

const goodPassword = "correct horse battery staple"

// runStaff runs `onboard staff …` with stdin and returns what it printed.
func runStaff(t *testing.T, dbURL, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbURL, "ONBOARD_DATA_DIR": t.TempDir()}
	var out, errOut strings.Builder
	err = run(context.Background(), append([]string{"staff"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestStaffAddAndList(t *testing.T) {
	t.Parallel()
	u := dbtest.NewURL(t)
	out, errOut, err := runStaff(t, u, goodPassword+"\n", "add", "Alice@Example.com", "--role", "operator")
	if err != nil {
		t.Fatal(err)
	}
	if out != "added alice@example.com as operator\n" {
		t.Fatalf("stdout = %q", out)
	}
	if strings.Contains(out+errOut, goodPassword) {
		t.Fatal("the password was printed")
	}
	// The flag may come first, and stdin may end without a newline (and
	// with a Windows line ending otherwise).
	if _, _, err := runStaff(t, u, "another long passphrase", "add", "--role=admin", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runStaff(t, u, "a third long passphrase\r\nignored second line\n", "add", "carol@example.com", "-role", "viewer"); err != nil {
		t.Fatal(err)
	}

	store, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for email, pw := range map[string]string{"alice@example.com": goodPassword, "bob@example.com": "another long passphrase",
		"carol@example.com": "a third long passphrase"} {
		s, err := store.StaffByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s.PasswordHash, "$argon2id$") || !password.Verify(s.PasswordHash, pw) {
			t.Errorf("%s: the stored hash does not match the password from stdin", email)
		}
	}
	log, err := store.AuditLog(context.Background(), db.AuditFilter{})
	if err != nil || len(log) != 3 || log[2].Action != db.AuditStaffCreated || log[2].Actor != "cli" {
		t.Fatalf("audit: %v %+v", err, log)
	}

	out, _, err = runStaff(t, u, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "EMAIL") ||
		!strings.Contains(lines[1], "alice@example.com") || !strings.Contains(lines[1], "operator") || !strings.Contains(lines[1], "active") ||
		!strings.Contains(lines[2], "bob@example.com") || !strings.Contains(lines[2], "admin") {
		t.Fatalf("list:\n%s", out)
	}
	if strings.Contains(out, "argon2") {
		t.Fatal("list shows password hashes")
	}
}

func TestStaffAddRefuses(t *testing.T) {
	t.Parallel()
	u := dbtest.NewURL(t)
	if _, _, err := runStaff(t, u, goodPassword+"\n", "add", "taken@example.com", "--role", "viewer"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"password flag", []string{"add", "alice@example.com", "--role", "viewer", "--password", "hunter2hunter2hunter2"}, "", "never from the command line"},
		{"password flag with =", []string{"add", "alice@example.com", "--role", "viewer", "--password=hunter2hunter2hunter2"}, goodPassword, "never from the command line"},
		{"password as an argument", []string{"add", "alice@example.com", "hunter2hunter2hunter2", "--role", "viewer"}, goodPassword, "never from the command line"},
		{"empty stdin", []string{"add", "alice@example.com", "--role", "viewer"}, "", "no password"},
		{"empty first line", []string{"add", "alice@example.com", "--role", "viewer"}, "\n" + goodPassword + "\n", "no password"},
		{"short password", []string{"add", "alice@example.com", "--role", "viewer"}, "elevenchars\n", "at least 12 characters"},
		{"too long", []string{"add", "alice@example.com", "--role", "viewer"}, strings.Repeat("x", 2000) + "\n", "at most 1024 bytes"},
		{"bad role", []string{"add", "alice@example.com", "--role", "root"}, goodPassword, "viewer, operator or admin"},
		{"no role", []string{"add", "alice@example.com"}, goodPassword, "viewer, operator or admin"},
		{"role without value", []string{"add", "alice@example.com", "--role"}, goodPassword, "--role needs a value"},
		{"no email", []string{"add", "--role", "viewer"}, goodPassword, "no email"},
		{"not an email", []string{"add", "Alice <alice@example.com>", "--role", "viewer"}, goodPassword, "not an email address"},
		{"unknown flag", []string{"add", "alice@example.com", "--role", "viewer", "--force"}, goodPassword, "unknown flag"},
		{"duplicate email", []string{"add", "TAKEN@example.com", "--role", "admin"}, goodPassword, "taken@example.com already has an account"},
		{"unknown subcommand", []string{"remove", "taken@example.com"}, "", "unknown staff command"},
		{"no subcommand", nil, "", "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runStaff(t, u, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error()+out+errOut, "hunter2") {
				t.Fatalf("the refusal repeats the password: %v", err)
			}
		})
	}
	store, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	list, err := store.ListStaff(context.Background())
	if err != nil || len(list) != 1 || list[0].Role != domain.RoleViewer {
		t.Fatalf("refusals must create nothing and change nothing: %v %+v", err, list)
	}
}

func TestStaffRoleAndDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewURL(t)
	for _, a := range [][2]string{{"alice@example.com", "admin"}, {"bob@example.com", "viewer"}} {
		if _, _, err := runStaff(t, u, goodPassword+"\n", "add", a[0], "--role", a[1]); err != nil {
			t.Fatal(err)
		}
	}
	store, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	bob, err := store.StaffByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.CreateStaffSession(ctx, bob.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		args []string
		out  string // stdout, when it succeeds
		err  string // part of the error, when it fails
	}{
		{"promote", []string{"role", "Bob@Example.com", "operator"}, "bob@example.com: viewer → operator\n", ""},
		{"same role again", []string{"role", "bob@example.com", "operator"}, "bob@example.com is operator already\n", ""},
		{"demote the last admin", []string{"role", "alice@example.com", "operator"}, "", "alice@example.com is the last active admin"},
		{"disable the last admin", []string{"disable", "alice@example.com"}, "", "alice@example.com is the last active admin"},
		{"make a second admin", []string{"role", "bob@example.com", "admin"}, "bob@example.com: operator → admin\n", ""},
		{"now alice may go", []string{"disable", "alice@example.com"}, "disabled alice@example.com; their sessions are ended\n", ""},
		{"disable again", []string{"disable", "alice@example.com"}, "alice@example.com is disabled already\n", ""},
		{"bob is the last active admin now", []string{"disable", "bob@example.com"}, "", "bob@example.com is the last active admin"},
		{"unknown account", []string{"disable", "carol@example.com"}, "", "carol@example.com has no account"},
		{"unknown account's role", []string{"role", "carol@example.com", "viewer"}, "", "carol@example.com has no account"},
		{"bad role", []string{"role", "bob@example.com", "root"}, "", "viewer, operator or admin"},
		{"role without a role", []string{"role", "bob@example.com"}, "", "takes an email and a role"},
		{"disable without an email", []string{"disable"}, "", "takes one email"},
		{"disable two", []string{"disable", "bob@example.com", "hunter2hunter2"}, "", "takes one email"},
		{"not an email", []string{"disable", "hunter2hunter2"}, "", "must be an email address"},
	}
	for _, st := range steps {
		out, errOut, err := runStaff(t, u, "", st.args...)
		if st.err == "" && (err != nil || out != st.out) {
			t.Fatalf("%s: stdout %q, err %v; want %q", st.name, out, err, st.out)
		}
		if st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err)) {
			t.Fatalf("%s: err = %v, want one saying %q", st.name, err, st.err)
		}
		if err != nil && strings.Contains(err.Error()+out+errOut, "hunter2") {
			t.Fatalf("%s: the refusal repeats an argument that may be a password: %v", st.name, err)
		}
	}

	list, err := store.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Email != "alice@example.com" || list[0].DisabledAt == nil || list[0].Role != domain.RoleAdmin ||
		list[1].Role != domain.RoleAdmin || list[1].DisabledAt != nil {
		t.Fatalf("accounts: %+v", list)
	}
	if _, err := store.StaffBySession(ctx, token); err != nil {
		t.Fatalf("bob's session should live on (only alice was disabled): %v", err)
	}
	log, err := store.AuditLog(ctx, db.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		if e.Actor != "cli" {
			t.Errorf("entry %s by %q, want cli", e.Action, e.Actor)
		}
		got = append(got, e.Action+" "+e.Detail["email"].(string))
	}
	want := "staff.created alice@example.com|staff.created bob@example.com|" +
		"staff.role_changed bob@example.com|staff.role_changed bob@example.com|staff.disabled alice@example.com"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit, oldest first:\n%s\nwant (refusals and no-ops leave nothing):\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
}

func TestStaffDisableEndsSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewURL(t)
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if _, _, err := runStaff(t, u, goodPassword+"\n", "add", email, "--role", "admin"); err != nil {
			t.Fatal(err)
		}
	}
	store, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	bob, err := store.StaffByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.CreateStaffSession(ctx, bob.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := runStaff(t, u, "", "disable", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StaffBySession(ctx, token); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a disabled account's session: err = %v, want ErrNotFound", err)
	}
}
