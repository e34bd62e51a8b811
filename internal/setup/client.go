package setup

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// productScopes are the products' system-user scopes that are not among
// the service's own Scopes, each once in the order the products name them,
// and for each the ids of the products that ask for it.
func productScopes(cfg *config.Config) ([]string, map[string][]string) {
	var out []string
	by := map[string][]string{}
	for _, p := range cfg.Products {
		for _, sc := range p.Scopes {
			if slices.Contains(Scopes, sc) {
				continue
			}
			if _, ok := by[sc]; !ok {
				out = append(out, sc)
			}
			if !slices.Contains(by[sc], p.ID) {
				by[sc] = append(by[sc], p.ID)
			}
		}
	}
	return out, by
}

// noDirectAccess reports whether Maskinporten refused a plain grant for a
// scope that is on the client because the vendor organisation has no
// access of its own to it (MP-250/MP-251, or a bare "forbidden"): for a
// service owner's scope that is expected, since the access comes with the
// customer's system user (maskinporten.md §3.2, UNCONFIRMED, so taken
// liberally).
func noDirectAccess(me *maskinporten.Error) bool {
	code := me.MPCode()
	return code == "MP-250" || code == "MP-251" || (code == "" && strings.EqualFold(me.Code, "forbidden")) ||
		strings.EqualFold(me.Code, "access_denied")
}

// ConsumerOrg is the organisation number in a Maskinporten access token's
// consumer claim ("0192:991825827" gives 991825827), or "" when the token
// has none. It reads the claims without verifying the signature (the token
// came straight from Maskinporten) and keeps nothing of the token.
func ConsumerOrg(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Consumer struct {
			ID string `json:"ID"`
		} `json:"consumer"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	_, org, found := strings.Cut(claims.Consumer.ID, ":")
	if !found {
		org = claims.Consumer.ID
	}
	if len(org) != 9 || strings.Trim(org, "0123456789") != "" {
		return ""
	}
	return org
}

// checkOneSystem checks that the products use one system: one Maskinporten
// client can be on only one system (AUTH.VLD-00004, systemregister.md §2),
// and the service has one client, so system-user tokens for every other
// system fail with MP-303.
func checkOneSystem(ids []string) Result {
	name := T("setup.check.onesystem")
	if len(ids) <= 1 {
		return Result{ID: "onesystem", Name: name, Status: OK, Detail: T("setup.detail.onesystem.ok", strings.Join(ids, ""))}
	}
	return Result{ID: "onesystem", Name: name, Status: Fail, Detail: T("setup.detail.onesystem.many", strings.Join(ids, ", ")),
		Fix: T("setup.fix.onesystem")}
}
