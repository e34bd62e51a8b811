package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// simBreaks are the set-up mistakes of ONBOARD_SIM_BREAK (config.SimBreaks),
// parsed.
type simBreaks struct {
	scope    string        // the scope the client lacks; "" for none
	system   bool          // the products' systems are not in the register
	right    bool          // the system lacks the first product right
	redirect bool          // the return URL is not an allowed redirect URL
	clientID bool          // the client id is not on the systems' clientId lists
	clock    time.Duration // Maskinporten's clock skew
}

// defaultClockBreak is the skew of ONBOARD_SIM_BREAK=clock without an offset:
// three times the 10 seconds Maskinporten allows a grant's iat to be off.
const defaultClockBreak = 30 * time.Second

// parseSimBreaks reads cfg.SimBreak, whose names config.Load has checked.
func parseSimBreaks(cfg *config.Config) (simBreaks, error) {
	var b simBreaks
	for _, item := range cfg.SimBreak {
		name, value, hasValue := strings.Cut(item, "=")
		value = strings.TrimSpace(value)
		switch name {
		case "scope":
			b.scope = altinn.ScopeSystemRegisterWrite
			if value != "" {
				b.scope = value
			}
		case "system":
			b.system = true
		case "right":
			if firstRight(cfg) == nil {
				return b, fmt.Errorf("app: ONBOARD_SIM_BREAK=right: no product asks for a right, so there is none to take off the system")
			}
			b.right = true
		case "redirect":
			b.redirect = true
		case "clientid":
			b.clientID = true
		case "clock":
			b.clock = defaultClockBreak
			if hasValue {
				d, err := time.ParseDuration(value)
				if err != nil || d == 0 {
					return b, fmt.Errorf("app: ONBOARD_SIM_BREAK=%s: the clock offset must be a non-zero duration such as 30s or -2m", item)
				}
				b.clock = d
			}
		default:
			return b, fmt.Errorf("app: ONBOARD_SIM_BREAK: %q is not one of %s", item, strings.Join(config.SimBreaks, ", "))
		}
	}
	return b, nil
}

// firstRight is the product whose first right ONBOARD_SIM_BREAK=right takes off
// its system: the first product that asks for a right. Nil when none does.
func firstRight(cfg *config.Config) *config.Product {
	for i := range cfg.Products {
		if len(cfg.Products[i].Rights) > 0 {
			return &cfg.Products[i]
		}
	}
	return nil
}

// SimSeed is the simulator's seed: ONBOARD_SIM_SEED_FILE or the default one,
// with the breaks of ONBOARD_SIM_BREAK that change the register's content
// applied to it: "system" leaves the products' systems out, "right" takes the
// first product right off its system. Because they change the seed, a state
// file saved without them (or with them) is replaced by the seed's systems
// when they are set (or lifted), so lifting a break restores the system.
func SimSeed(cfg *config.Config) (sim.Seed, error) {
	seed := sim.DefaultSeed()
	if cfg.SimSeedFile != "" {
		var err error
		if seed, err = sim.LoadSeed(cfg.SimSeedFile); err != nil {
			return sim.Seed{}, fmt.Errorf("app: ONBOARD_SIM_SEED_FILE: %w", err)
		}
	}
	br, err := parseSimBreaks(cfg)
	if err != nil {
		return sim.Seed{}, err
	}
	if br.system {
		seed.Systems = slices.DeleteFunc(slices.Clone(seed.Systems), func(sys sim.System) bool {
			return slices.ContainsFunc(cfg.Products, func(p config.Product) bool { return p.SystemID == sys.ID })
		})
	}
	if br.right {
		p := firstRight(cfg)
		seed.Systems = slices.Clone(seed.Systems)
		for i, sys := range seed.Systems {
			if sys.ID != p.SystemID {
				continue
			}
			seed.Systems[i].Rights = slices.DeleteFunc(slices.Clone(sys.Rights), func(r sim.Right) bool {
				return slices.ContainsFunc(r.Resource, func(a sim.AttributePair) bool {
					return a.ID == "urn:altinn:resource" && a.Value == p.Rights[0]
				})
			})
		}
	}
	return seed, nil
}

// simClientScopes are the scopes the simulator's Maskinporten client gets: the
// vendor API's, the system register's and every product's system-user scopes,
// without the one ONBOARD_SIM_BREAK=scope names.
func simClientScopes(cfg *config.Config, br simBreaks) []string {
	scopes := append(append([]string{}, vendorScopes...), altinn.ScopeSystemRegisterWrite)
	// The reconciler's look at agent system users' clients (clients.Portal).
	scopes = append(scopes, altinn.ScopeAuthorizedParties)
	for _, p := range cfg.Products {
		for _, sc := range p.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	return slices.DeleteFunc(scopes, func(sc string) bool { return sc == br.scope })
}
