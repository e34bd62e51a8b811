package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/password"
)

const staffUsage = `usage:
  onboard staff add <email> --role viewer|operator|admin   (the password is the first line of stdin)
  onboard staff list
  onboard staff role <email> viewer|operator|admin
  onboard staff disable <email>                            (also ends their sessions)

Roles: viewers read, operators act on onboardings, admins also manage staff.
The password is never taken from the command line, where other users and the
shell history would see it: pipe it in, for example
  printf '%s\n' "$PASSWORD" | onboard staff add alice@example.com --role operator
The last active admin can be neither demoted nor disabled: make another admin
first. Every change is in the audit log, with "cli" as its author.`

// errPasswordInArgs is returned without repeating the argument, which may be
// the password itself.
var errPasswordInArgs = errors.New("staff add: the password is read from stdin, never from the command line")

// staffCommand is `onboard staff`: local accounts for the support dashboard.
func staffCommand(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("staff needs a command\n\n%s", staffUsage)
	}
	switch args[0] {
	case "add":
		return staffAdd(ctx, cfg, log, args[1:], stdin, stdout, stderr)
	case "list":
		if len(args) > 1 {
			return fmt.Errorf("staff list takes no arguments\n\n%s", staffUsage)
		}
		return staffList(ctx, cfg, log, stdout)
	case "role":
		return staffRole(ctx, cfg, log, args[1:], stdout)
	case "disable":
		return staffDisable(ctx, cfg, log, args[1:], stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, staffUsage+"\n")
		return err
	default:
		return fmt.Errorf("unknown staff command %q\n\n%s", args[0], staffUsage)
	}
}

// parseStaffAdd reads `<email> --role <role>` in any order. Anything else is
// refused, and never echoed: a stray argument may be a password.
func parseStaffAdd(args []string) (email string, role domain.Role, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--role" || a == "-role":
			if i+1 >= len(args) {
				return "", "", errors.New("staff add: --role needs a value: viewer, operator or admin")
			}
			i++
			role = domain.Role(args[i])
		case strings.HasPrefix(a, "--role=") || strings.HasPrefix(a, "-role="):
			_, r, _ := strings.Cut(a, "=")
			role = domain.Role(r)
		case strings.HasPrefix(a, "-"):
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.Contains(strings.ToLower(name), "pass") {
				return "", "", errPasswordInArgs
			}
			return "", "", fmt.Errorf("staff add: unknown flag -%s\n\n%s", name, staffUsage)
		case email == "":
			email = a
		default:
			return "", "", errPasswordInArgs
		}
	}
	if email == "" {
		return "", "", fmt.Errorf("staff add: no email\n\n%s", staffUsage)
	}
	email = db.NormalizeEmail(email)
	if addr, perr := mail.ParseAddress(email); perr != nil || addr.Address != email || len(email) > 254 {
		return "", "", fmt.Errorf("staff add: %q is not an email address", email)
	}
	if !role.Valid() {
		return "", "", fmt.Errorf("staff add: --role must be viewer, operator or admin, not %q", role)
	}
	return email, role, nil
}

// readPassword takes the first line of stdin, without its line ending.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(stderr, "Password (at least 12 characters; it shows as you type, so prefer piping it in):")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, password.MaxLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("staff add: read password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case pw == "":
		return "", errors.New("staff add: no password: give it as the first line of stdin")
	case utf8.RuneCountInString(pw) < password.MinLen:
		return "", fmt.Errorf("staff add: the password must be at least %d characters", password.MinLen)
	case len(pw) > password.MaxLen:
		return "", fmt.Errorf("staff add: the password must be at most %d bytes", password.MaxLen)
	}
	return pw, nil
}

func staffAdd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	email, role, err := parseStaffAdd(args)
	if err != nil {
		return err
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	store, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := store.CreateStaff(ctx, db.NewStaff{Email: email, PasswordHash: hash, Role: role, Actor: cliActor})
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("staff add: %s already has an account", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s as %s\n", s.Email, s.Role)
	return nil
}

func staffList(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	store, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.ListStaff(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tROLE\tCREATED\tSTATUS")
	for _, s := range list {
		status := "active"
		if s.DisabledAt != nil {
			status = "disabled " + s.DisabledAt.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Email, s.Role, s.CreatedAt.UTC().Format("2006-01-02"), status)
	}
	return w.Flush()
}

// cliActor is the audit log's author of every change made from the
// command line.
const cliActor = "cli"

// parseStaffEmail reads the email argument of role and disable. An argument
// that is not an email address is not echoed: it may be a password typed in
// the wrong place.
func parseStaffEmail(cmd, arg string) (string, error) {
	email := db.NormalizeEmail(arg)
	if !db.ValidEmail(email) {
		return "", fmt.Errorf("staff %s: the first argument must be an email address\n\n%s", cmd, staffUsage)
	}
	return email, nil
}

// staffRole is `onboard staff role <email> <role>`.
func staffRole(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("staff role takes an email and a role\n\n%s", staffUsage)
	}
	email, err := parseStaffEmail("role", args[0])
	if err != nil {
		return err
	}
	role := domain.Role(args[1])
	if !role.Valid() {
		return errors.New("staff role: the role must be viewer, operator or admin")
	}
	store, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := store.StaffByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("staff role: %s has no account", email)
	}
	if err != nil {
		return err
	}
	if s.Role == role {
		fmt.Fprintf(stdout, "%s is %s already\n", s.Email, role)
		return nil
	}
	if _, err := store.SetStaffRole(ctx, s.ID, role, db.AuditEntry{Actor: cliActor}); errors.Is(err, db.ErrLastAdmin) {
		return fmt.Errorf("staff role: %s is the last active admin: make another admin first", s.Email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s → %s\n", s.Email, s.Role, role)
	return nil
}

// staffDisable is `onboard staff disable <email>`: the account can no
// longer sign in, and its sessions end at once.
func staffDisable(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("staff disable takes one email\n\n%s", staffUsage)
	}
	email, err := parseStaffEmail("disable", args[0])
	if err != nil {
		return err
	}
	store, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := store.StaffByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("staff disable: %s has no account", email)
	}
	if err != nil {
		return err
	}
	if s.DisabledAt != nil {
		fmt.Fprintf(stdout, "%s is disabled already\n", s.Email)
		return nil
	}
	if err := store.DisableStaff(ctx, s.ID, db.AuditEntry{Actor: cliActor}); errors.Is(err, db.ErrLastAdmin) {
		return fmt.Errorf("staff disable: %s is the last active admin: make another admin first", s.Email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "disabled %s; their sessions are ended\n", s.Email)
	return nil
}

// openCurrentDB opens the database for a command that needs the schema as
// this binary knows it: migrated first in dev, refused when behind otherwise.
func openCurrentDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	store, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Dev {
		n, err := store.Migrate(ctx)
		if err != nil {
			store.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("migrations applied", "count", n)
		}
		return store, nil
	}
	if err := checkSchema(ctx, store); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}
