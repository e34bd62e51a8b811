package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
)

// knownClientOnly are the client-only packages of Altinn's code constants
// (systemregister.md §7), used to decide visibility when the metadata
// cannot be read.
var knownClientOnly = []string{
	"urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet",
	"urn:altinn:accesspackage:regnskapsforer-uten-signeringsrettighet",
	"urn:altinn:accesspackage:regnskapsforer-lonn",
	"urn:altinn:accesspackage:ansvarlig-revisor",
	"urn:altinn:accesspackage:revisormedarbeider",
	"urn:altinn:accesspackage:forretningsforer-eiendom",
}

// Plans reads every system the products name from the register and plans
// apply for each (see Merge). A system that cannot be read gets a Plan with
// Err set; the error returned is only for a configuration that names no
// usable system.
func (s *Service) Plans(ctx context.Context, prune bool) ([]Plan, error) {
	wants, err := Definitions(s.Config)
	if err != nil {
		return nil, err
	}
	kinds := s.kinds(ctx)
	out := make([]Plan, 0, len(wants))
	for _, w := range wants {
		if s.Register == nil {
			out = append(out, Plan{SystemID: w.System.ID, Err: errors.New("no Altinn client (see the key check of onboard doctor)")})
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		have, err := s.Register.GetSystem(cctx, w.System.ID)
		cancel()
		switch {
		case errors.Is(err, altinn.ErrNotFound):
			have = nil
		case err != nil:
			out = append(out, Plan{SystemID: w.System.ID, Err: err})
			continue
		}
		out = append(out, Merge(w, have, prune, kinds))
	}
	return out, nil
}

// Registrations are the systems the configuration needs as apply would
// register them (Plans against an empty register), without reading the
// register: what `onboard system show` prints.
func (s *Service) Registrations(ctx context.Context) ([]Plan, error) {
	wants, err := Definitions(s.Config)
	if err != nil {
		return nil, err
	}
	kinds := s.kinds(ctx)
	out := make([]Plan, 0, len(wants))
	for _, w := range wants {
		out = append(out, Merge(w, nil, false, kinds))
	}
	return out, nil
}

// kinds tells Merge whether a package is client-only, from the metadata,
// or failing that from Altinn's known client-only packages (then known is
// false).
func (s *Service) kinds(ctx context.Context) func(urn string) (clientOnly, known bool) {
	st := &state{packages: map[string]*altinn.PackageInfo{}, pkgErr: map[string]error{}}
	return func(urn string) (bool, bool) {
		info, err := s.packageInfo(ctx, st, urn)
		if err != nil {
			for _, k := range knownClientOnly {
				if samePackage(k, urn) {
					return true, false
				}
			}
			return false, false
		}
		return info.ClientOnly(), true
	}
}

// ErrDeleted is Apply's answer for a system that is deleted in Altinn.
var ErrDeleted = errors.New("setup: the system is deleted in Altinn, and a deleted system id can never be used again: choose a new system id (ONBOARD_SYSTEM_ID or systemId in ONBOARD_PRODUCTS)")

// Apply carries out a plan: POST for a new system, the whole-replace PUT
// when something changes, nothing when nothing does. It reports whether it
// sent anything. Altinn's refusals come back as they are (see
// ExplainRefusal).
func (s *Service) Apply(ctx context.Context, p Plan) (sent bool, err error) {
	switch {
	case p.Err != nil:
		return false, p.Err
	case p.Deleted:
		return false, ErrDeleted
	case s.Register == nil:
		return false, errors.New("setup: no Altinn client")
	case p.Create:
		if _, err := s.Register.CreateSystem(ctx, p.Body); err != nil {
			return false, fmt.Errorf("setup: register %s: %w", p.SystemID, err)
		}
		return true, nil
	case len(p.Changes) == 0:
		return false, nil
	}
	if err := s.Register.UpdateSystem(ctx, p.Body); err != nil {
		return false, fmt.Errorf("setup: update %s: %w", p.SystemID, err)
	}
	return true, nil
}

// String is the change in words: "+ rights: x", "- clientId: y",
// "~ name.nn: \"a\" → \"b\"".
func (c Change) String() string {
	switch {
	case c.From == "" && isList(c.Field):
		return "+ " + c.Field + ": " + c.To
	case c.To == "" && isList(c.Field):
		return "- " + c.Field + ": " + c.From
	}
	return fmt.Sprintf("~ %s: %q → %q", c.Field, c.From, c.To)
}

func isList(field string) bool {
	switch field {
	case FieldRights, FieldPackages, FieldClientID, FieldRedirect:
		return true
	}
	return false
}

// Fields lists the distinct fields a plan changes, in order, with texts
// by language counted as one field ("name").
func (p Plan) Fields() []string {
	var out []string
	for _, c := range p.Changes {
		f, _, _ := strings.Cut(c.Field, ".")
		if len(out) == 0 || out[len(out)-1] != f {
			out = append(out, f)
		}
	}
	return out
}
