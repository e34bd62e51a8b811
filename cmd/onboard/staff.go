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
	"github.com/onboard-altinn/onboard/internal/handlers"
)

const staffUsage = `usage:
  onboard staff add <email> --role viewer|operator|admin   (the password is the first line of stdin)
  onboard staff list

Roles: viewers read, operators act on onboardings, admins also manage staff.
The password is never taken from the command line, where other users and the
shell history would see it: pipe it in, for example
  printf '%s\n' "$PASSWORD" | onboard staff add alice@example.com --role operator`

// errPasswordInArgs is returned without repeating the argument, which may be
// the password itself.
var errPasswordInArgs = errors.New("staff add: the password is read from stdin, never from the command line")

// staffCommand is `onboard staff`: local accounts for the support dashboard.
func staffCommand(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(staffUsage)
	}
	switch args[0] {
	case "add":
		return staffAdd(ctx, cfg, log, args[1:], stdin, stdout, stderr)
	case "list":
		if len(args) > 1 {
			return fmt.Errorf("staff list takes no arguments\n\n%s", staffUsage)
		}
		return staffList(ctx, cfg, log, stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, staffUsage+"\n")
		return err
	default:
		return fmt.Errorf("unknown staff command %q\n\n%s", args[0], staffUsage)
	}
}

// parseStaffAdd reads `<email> --role <role>` in any order. Anything else is
// refused, and never echoed: a stray argument may be a password.
func parseStaffAdd(args []string) (email, role string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--role" || a == "-role":
			if i+1 >= len(args) {
				return "", "", errors.New("staff add: --role needs a value: viewer, operator or admin")
			}
			i++
			role = args[i]
		case strings.HasPrefix(a, "--role=") || strings.HasPrefix(a, "-role="):
			_, role, _ = strings.Cut(a, "=")
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
	if db.RoleRank(role) < 0 {
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
	line, err := bufio.NewReader(io.LimitReader(stdin, handlers.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("staff add: read password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case pw == "":
		return "", errors.New("staff add: no password: give it as the first line of stdin")
	case utf8.RuneCountInString(pw) < handlers.MinPasswordLen:
		return "", fmt.Errorf("staff add: the password must be at least %d characters", handlers.MinPasswordLen)
	case len(pw) > handlers.MaxPasswordLen:
		return "", fmt.Errorf("staff add: the password must be at most %d bytes", handlers.MaxPasswordLen)
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
	hash, err := handlers.HashPassword(pw)
	if err != nil {
		return err
	}
	store, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := store.CreateStaff(ctx, db.NewStaff{Email: email, PasswordHash: hash, Role: role, Actor: "cli"})
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
