// Package setup knows what the service needs from the world outside it and
// checks that it is there: the system definition the configured products
// need in Altinn's system register (and the field-by-field difference from
// what Altinn has, and the merge `onboard system apply` sends), and the
// checks of `onboard doctor`, the dashboard's Setup page and the start-up
// log line, each with the fix in plain words.
package setup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// resourceAttr is the attribute id of a right's resource in the register.
const resourceAttr = "urn:altinn:resource"

// Wanted is what the configuration needs of one system in the register, and
// which parts of the system it owns.
type Wanted struct {
	// System is the definition apply registers when the system does not
	// exist yet: the products' rights and packages, the service's client id
	// and return URL, names and descriptions. Its IsVisible is true (Altinn's
	// default); the plan makes it false when a package is client-only.
	System altinn.RegisteredSystem
	// NameSet and DescriptionSet say whether the configuration gives the
	// texts (systemName, systemDescription); otherwise Altinn's are kept and
	// only missing languages are filled in.
	NameSet, DescriptionSet bool
	// Products are the configured products on the system.
	Products []config.Product
}

// Languages are the languages the register's names and descriptions are
// given in.
var Languages = []string{"nb", "nn", "en"}

// Definitions returns what each system the products name needs, in the order
// the products first name them. A system id that is not "<orgno>_<name>" is
// an error (config.Load refuses those already).
func Definitions(cfg *config.Config) ([]Wanted, error) {
	var out []Wanted
	index := map[string]int{}
	for _, p := range cfg.Products {
		i, ok := index[p.SystemID]
		if !ok {
			org, err := VendorOrgNo(p.SystemID)
			if err != nil {
				return nil, err
			}
			index[p.SystemID] = len(out)
			i = len(out)
			out = append(out, Wanted{System: altinn.RegisteredSystem{
				ID:                  p.SystemID,
				Vendor:              altinn.Vendor{Authority: altinn.VendorAuthority, ID: "0192:" + org},
				ClientIDs:           []string{cfg.MaskinportenClientID},
				AllowedRedirectURLs: []string{cfg.ReturnURL()},
				IsVisible:           true,
			}})
		}
		w := &out[i]
		w.Products = append(w.Products, p)
		if len(p.SystemName) > 0 && !w.NameSet {
			w.System.Name, w.NameSet = texts(p.SystemName), true
		}
		if len(p.SystemDescription) > 0 && !w.DescriptionSet {
			w.System.Description, w.DescriptionSet = texts(p.SystemDescription), true
		}
		if p.Kind == domain.KindStandard {
			for _, r := range p.Rights {
				right := Right(r)
				if !slices.ContainsFunc(w.System.Rights, func(h altinn.Right) bool { return SameRight(h, right) }) {
					w.System.Rights = append(w.System.Rights, right)
				}
			}
		}
		for _, urn := range p.AccessPackages {
			if !slices.ContainsFunc(w.System.AccessPackages, func(h altinn.AccessPackage) bool { return samePackage(h.URN, urn) }) {
				w.System.AccessPackages = append(w.System.AccessPackages, altinn.AccessPackage{URN: urn})
			}
		}
	}
	for i := range out {
		s := &out[i].System
		s.Name = withDefaults(s.Name, defaultNames(cfg.Vendor))
		s.Description = withDefaults(s.Description, defaultDescriptions(cfg.Vendor))
	}
	return out, nil
}

// VendorOrgNo is the organisation number a system id starts with.
func VendorOrgNo(systemID string) (string, error) {
	org, name, ok := strings.Cut(systemID, "_")
	if !ok || len(org) != 9 || strings.Trim(org, "0123456789") != "" || name == "" || strings.ContainsAny(systemID, " \t\r\n") {
		return "", fmt.Errorf("system id %q must be <vendor orgno>_<name>: nine digits, an underscore and a name without spaces, such as 991825827_smartcloud", systemID)
	}
	return org, nil
}

// Right is the register's form of a right on resource id.
func Right(resource string) altinn.Right {
	return altinn.Right{Resource: []altinn.AttributePair{{ID: resourceAttr, Value: resource}}}
}

// SameRight reports whether two rights are the same by Altinn's rule: the
// same resource attribute pairs in any order; the action is ignored.
func SameRight(a, b altinn.Right) bool {
	if len(a.Resource) != len(b.Resource) {
		return false
	}
	for _, p := range a.Resource {
		if !slices.ContainsFunc(b.Resource, func(q altinn.AttributePair) bool {
			return strings.EqualFold(strings.TrimSpace(p.ID), strings.TrimSpace(q.ID)) && strings.TrimSpace(p.Value) == strings.TrimSpace(q.Value)
		}) {
			return false
		}
	}
	return true
}

// RightName is a right as a person reads it: its resource id, or its
// attribute pairs when it is not a plain resource.
func RightName(r altinn.Right) string {
	if len(r.Resource) == 1 && strings.EqualFold(r.Resource[0].ID, resourceAttr) {
		return r.Resource[0].Value
	}
	parts := make([]string, 0, len(r.Resource))
	for _, p := range r.Resource {
		parts = append(parts, p.ID+"="+p.Value)
	}
	return strings.Join(parts, "+")
}

func samePackage(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// texts copies a configured text map with lower-case language keys.
func texts(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v = strings.TrimSpace(v); v != "" {
			out[strings.ToLower(strings.TrimSpace(k))] = v
		}
	}
	return out
}

// withDefaults fills the languages m lacks from def: a configured nb name is
// a better nn and en name than the vendor's, so it goes first.
func withDefaults(m, def map[string]string) map[string]string {
	out := make(map[string]string, len(Languages))
	for k, v := range m {
		out[k] = v
	}
	for _, lang := range Languages {
		if out[lang] != "" {
			continue
		}
		switch {
		case m["nb"] != "" && lang == "nn":
			out[lang] = m["nb"]
		case m["en"] != "":
			out[lang] = m["en"]
		case m["nb"] != "":
			out[lang] = m["nb"]
		default:
			out[lang] = def[lang]
		}
	}
	return out
}

func defaultNames(vendor string) map[string]string {
	return map[string]string{"nb": vendor, "nn": vendor, "en": vendor}
}

// defaultDescriptions describe the system when the configuration does not.
// Altinn's portal shows none of them today, but the register requires them.
func defaultDescriptions(vendor string) map[string]string {
	return map[string]string{
		"nb": vendor + " henter og sender opplysninger for kundene sine med en systembruker i Altinn.",
		"nn": vendor + " hentar og sender opplysningar for kundane sine med ein systembrukar i Altinn.",
		"en": vendor + " fetches and sends information for its customers with an Altinn system user.",
	}
}
