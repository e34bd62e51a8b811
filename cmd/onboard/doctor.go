package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/setup"
)

// The commands print English: they are read by the people who set the
// service up, next to the README.
const cliLang = "en"

const doctorUsage = `usage: onboard doctor

Checks the set-up against Altinn and Maskinporten: the key, one token per
scope, the clock, the system in the system register (exists, yours, not
deleted, every product's rights and packages, the return URL, the client id),
the package kinds, the public URL and the environment's hosts. One line per
check; a failing line says what to change and where. Exits non-zero unless
every check passes. In sim mode it talks to the simulator of a running
` + "`make run`" + ` (ONBOARD_SIM_PUBLIC_URL, the dev key in ONBOARD_DATA_DIR).`

const systemUsage = `usage:
  onboard system show                      the system definition the configuration needs (JSON)
  onboard system diff [--prune]            field by field, what apply would change at Altinn
  onboard system apply [--prune] [--yes]   send it (asks you to type yes first, unless --yes)
  onboard system changelog [<system id>]   Altinn's changelog of the system

apply reads each system from Altinn's system register, merges what the
configuration needs into it and sends the whole system back (PUT replaces it
all), or registers it (POST) when it is not there. What Altinn has that the
configuration does not mention (other redirect URLs, client ids, rights,
packages) is kept; --prune drops it. In sim mode the commands talk to the
simulator of a running ` + "`make run`" + `.`

// doctorTimeout bounds a whole run of the checks.
const doctorTimeout = 2 * time.Minute

// doctorCommand is `onboard doctor`: every set-up check, one line each, then
// a summary; an error (non-zero exit) unless every check passed.
func doctorCommand(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		if isHelp(args[0]) {
			_, err := fmt.Fprintln(stdout, doctorUsage)
			return err
		}
		return fmt.Errorf("doctor takes no arguments\n\n%s", doctorUsage)
	}
	if err := simRunning(ctx, cfg); err != nil {
		return err
	}
	s, _ := app.SetupFor(cfg)
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	rep := s.Check(ctx)
	for _, r := range rep.Results {
		fmt.Fprintln(stdout, r.Line(cliLang))
	}
	fmt.Fprintln(stdout, rep.Summary(cliLang))
	if !rep.OK() {
		return fmt.Errorf("doctor: %d of %d checks did not pass (%s)", len(rep.Results)-rep.Count(setup.OK), len(rep.Results),
			strings.Join(rep.Failing(), ", "))
	}
	return nil
}

// simRunning makes sure, in sim mode, that the simulator of a running `make
// run` answers: the commands have none of their own.
func simRunning(ctx context.Context, cfg *config.Config) error {
	if cfg.AltinnEnv != config.EnvSim {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.SimPublicURL+"/.well-known/oauth-authorization-server", nil)
	if err == nil {
		var res *http.Response
		if res, err = http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("it answered %d", res.StatusCode)
		}
	}
	return fmt.Errorf("the simulator of `make run` does not answer at %s (ONBOARD_SIM_PUBLIC_URL): start `make run` in another terminal first, with the same ONBOARD_DATA_DIR (%v)",
		cfg.SimPublicURL, err)
}

// systemCommand is `onboard system`: the system register as code.
func systemCommand(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("system needs a command\n\n%s", systemUsage)
	}
	sub, rest := args[0], args[1:]
	if isHelp(sub) {
		_, err := fmt.Fprintln(stdout, systemUsage)
		return err
	}
	var prune, yes bool
	var operands []string
	for _, a := range rest {
		switch a {
		case "--prune", "-prune":
			prune = true
		case "--yes", "-yes", "-y":
			yes = true
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("system %s: unknown flag %s\n\n%s", sub, a, systemUsage)
			}
			operands = append(operands, a)
		}
	}
	allowed := map[string]struct{ prune, yes, operands bool }{
		"show": {}, "diff": {prune: true}, "apply": {prune: true, yes: true}, "changelog": {operands: true},
	}
	ok, known := allowed[sub]
	switch {
	case !known:
		return fmt.Errorf("unknown system command %q\n\n%s", sub, systemUsage)
	case prune && !ok.prune, yes && !ok.yes:
		return fmt.Errorf("system %s takes no --prune or --yes\n\n%s", sub, systemUsage)
	case len(operands) > 0 && !ok.operands, len(operands) > 1:
		return fmt.Errorf("system %s: unexpected %q\n\n%s", sub, strings.Join(operands, " "), systemUsage)
	}
	for _, id := range operands {
		if _, err := setup.VendorOrgNo(id); err != nil {
			return fmt.Errorf("system %s: %w", sub, err)
		}
	}
	if sub == "show" {
		return systemShow(ctx, cfg, stdout, stderr)
	}
	if err := simRunning(ctx, cfg); err != nil {
		return err
	}
	s, clients := app.SetupFor(cfg)
	if s.KeyErr != nil {
		return fmt.Errorf("system %s: the Maskinporten key: %v (`onboard doctor` says how to fix it)", sub, s.KeyErr)
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	switch sub {
	case "diff":
		plans, err := s.Plans(ctx, prune)
		if err != nil {
			return err
		}
		if bad := printPlans(stdout, plans); bad > 0 {
			return fmt.Errorf("system diff: %d system(s) could not be compared", bad)
		}
		return nil
	case "apply":
		return systemApply(ctx, s, log, prune, yes, stdin, stdout)
	default:
		return systemChangelog(ctx, cfg, clients, operands, stdout)
	}
}

// systemShow prints the systems the configuration needs, as apply would
// register them, in the register's JSON. It needs nothing running: without
// Altinn's package metadata, visibility follows Altinn's known client-only
// packages, and it says so.
func systemShow(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	s, _ := app.SetupFor(cfg)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	plans, err := s.Registrations(ctx)
	if err != nil {
		return err
	}
	bodies := make([]altinn.RegisteredSystem, 0, len(plans))
	for _, p := range plans {
		bodies = append(bodies, p.Body)
		if len(p.Unknown) > 0 {
			fmt.Fprintln(stderr, setup.T("setup.diff.unknown", strings.Join(p.Unknown, ", ")).In(cliLang))
		}
	}
	b, err := json.MarshalIndent(bodies, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// printPlans prints each plan's changes and what is kept; it returns how
// many systems could not be planned (unreadable or deleted).
func printPlans(w io.Writer, plans []setup.Plan) (bad int) {
	for _, p := range plans {
		switch {
		case p.Err != nil:
			fmt.Fprintf(w, "system %s: could not be read (`onboard doctor` says why): %v\n", p.SystemID, p.Err)
			bad++
			continue
		case p.Deleted:
			fmt.Fprintf(w, "system %s: deleted in Altinn, so nothing can be applied; a deleted system id can never be used again: choose a new one (ONBOARD_SYSTEM_ID or systemId in ONBOARD_PRODUCTS)\n", p.SystemID)
			bad++
			continue
		case p.Create:
			fmt.Fprintf(w, "system %s: not in the system register; apply registers it (POST) with:\n", p.SystemID)
		case len(p.Changes) == 0:
			fmt.Fprintf(w, "system %s: nothing to change\n", p.SystemID)
		default:
			fmt.Fprintf(w, "system %s: %d change(s); apply replaces the whole system (PUT) with Altinn's fields and these:\n", p.SystemID, len(p.Changes))
		}
		for _, c := range p.Changes {
			fmt.Fprintln(w, "  "+c.String())
		}
		if len(p.Kept) > 0 {
			fmt.Fprintln(w, "  kept (at Altinn, not in the configuration; --prune drops it):")
			for _, k := range p.Kept {
				fmt.Fprintf(w, "    %s: %s\n", k.Field, k.Value)
			}
		}
		if len(p.Unknown) > 0 {
			fmt.Fprintln(w, "  "+setup.T("setup.diff.unknown", strings.Join(p.Unknown, ", ")).In(cliLang))
		}
	}
	return bad
}

// systemApply prints the plans, asks for a typed yes (unless yes), and
// sends them. Without confirmation it changes nothing and says so.
func systemApply(ctx context.Context, s *setup.Service, log *slog.Logger, prune, yes bool, stdin io.Reader, stdout io.Writer) error {
	plans, err := s.Plans(ctx, prune)
	if err != nil {
		return err
	}
	if bad := printPlans(stdout, plans); bad > 0 {
		return fmt.Errorf("system apply: %d system(s) could not be read or are deleted: nothing was sent", bad)
	}
	todo := 0
	for _, p := range plans {
		if p.Create || len(p.Changes) > 0 {
			todo++
		}
	}
	if todo == 0 {
		fmt.Fprintln(stdout, "Nothing to send: Altinn has everything the configuration needs.")
		return nil
	}
	if !yes {
		fmt.Fprintf(stdout, "Send this to Altinn's system register at %s? Type yes to confirm: ", s.Config.AltinnBaseURL)
		line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
		fmt.Fprintln(stdout)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("system apply: read the confirmation: %w", err)
		}
		if strings.TrimSpace(line) != "yes" {
			return errors.New("system apply: not confirmed, so nothing was sent (type yes, or pass --yes)")
		}
	}
	var failed []string
	for _, p := range plans {
		sent, err := s.Apply(ctx, p)
		switch {
		case err != nil:
			failed = append(failed, p.SystemID)
			fmt.Fprintf(stdout, "Altinn refused the change of system %s:\n", p.SystemID)
			for _, t := range s.ExplainRefusal(ctx, p.SystemID, err) {
				fmt.Fprintln(stdout, "  "+t.In(cliLang))
			}
		case sent && p.Create:
			fmt.Fprintf(stdout, "Registered system %s.\n", p.SystemID)
			log.Info("system registered", "system_id", p.SystemID)
		case sent:
			fmt.Fprintf(stdout, "Updated system %s (%d change(s)).\n", p.SystemID, len(p.Changes))
			log.Info("system updated", "system_id", p.SystemID, "fields", p.Fields())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("system apply: Altinn refused %s", strings.Join(failed, ", "))
	}
	fmt.Fprintln(stdout, "Done. Run `onboard doctor` to check the whole set-up.")
	return nil
}

// systemChangelog prints Altinn's changelog of the given system, or of every
// system the products name.
func systemChangelog(ctx context.Context, cfg *config.Config, clients *app.ClientSet, ids []string, stdout io.Writer) error {
	if len(ids) == 0 {
		for _, p := range cfg.Products {
			if !slices.Contains(ids, p.SystemID) {
				ids = append(ids, p.SystemID)
			}
		}
	}
	var failed []string
	for _, id := range ids {
		log, err := clients.Altinn.SystemChangelog(ctx, id)
		if err != nil {
			failed = append(failed, id)
			fmt.Fprintf(stdout, "system %s: %s\n", id, changelogError(err))
			continue
		}
		fmt.Fprintf(stdout, "system %s: %d change(s), newest first\n", id, len(log))
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  WHEN\tCHANGE\tBY ORG\tBY CLIENT\tFIELDS")
		for _, e := range log {
			when := "?"
			if !e.Created.IsZero() {
				when = e.Created.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", when, e.ChangeType, e.ChangedByOrgNo, e.ClientID, changedFields(e.ChangedData))
		}
		tw.Flush()
	}
	if len(failed) > 0 {
		return fmt.Errorf("system changelog: could not read %s", strings.Join(failed, ", "))
	}
	return nil
}

func changelogError(err error) string {
	switch {
	case errors.Is(err, altinn.ErrNotOwner):
		return "another organisation owns it (or the token lacks altinn:authentication/systemregister.write)"
	case errors.Is(err, altinn.ErrNotFound):
		return "not in the system register"
	}
	return err.Error()
}

// changedFields names the fields of a change's body, sorted: the changelog
// keeps the whole body, too long for a line.
func changedFields(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

func isHelp(s string) bool { return s == "help" || s == "-h" || s == "--help" }
