package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ID-porten, for the accountant who adds the firm's clients
// (../shared/altinn/clientdelegation.md §7). Optional outside the
// simulator: without ONBOARD_IDPORTEN_CLIENT_ID the agent pages send the
// accountant to Altinn's portal instead.
type IDPorten struct {
	Issuer       string // ONBOARD_IDPORTEN_ISSUER, no trailing slash
	ClientID     string // ONBOARD_IDPORTEN_CLIENT_ID; "" = off
	KID          string // ONBOARD_IDPORTEN_KID: the key's id, for private_key_jwt
	KeyPEM       []byte // ONBOARD_IDPORTEN_KEY(_FILE) (secret); in the simulator the dev Maskinporten key
	ClientSecret []byte // ONBOARD_IDPORTEN_CLIENT_SECRET(_FILE) (secret): client_secret_post, when there is no key
	RedirectURL  string // ONBOARD_IDPORTEN_REDIRECT_URL; PublicURL + IDPortenCallbackPath
	ACR          string // ONBOARD_IDPORTEN_ACR: idporten-loa-substantial (default) or idporten-loa-high
}

// On reports whether ID-porten logins are configured.
func (p IDPorten) On() bool { return p.ClientID != "" }

// IDPortenCallbackPath is where ID-porten sends the browser back; register
// PublicURL + this path at ID-porten.
const IDPortenCallbackPath = "/idporten/callback"

// SimIDPortenClientID is the ID-porten client the simulator registers for
// the service (sim.IDPortenDevClientID).
const SimIDPortenClientID = "onboard-dev-idporten"

var idportenIssuers = map[string]string{EnvTT02: "https://test.idporten.no", EnvProd: "https://idporten.no"}

var idportenLevels = []string{"idporten-loa-substantial", "idporten-loa-high"}

func (c *Config) loadIDPorten(get func(k, def string) string, secret func(string) ([]byte, error)) []error {
	var errs []error
	p := &c.IDPorten
	p.ClientID = get("ONBOARD_IDPORTEN_CLIENT_ID", "")
	p.KID = get("ONBOARD_IDPORTEN_KID", "")
	p.ACR = get("ONBOARD_IDPORTEN_ACR", "idporten-loa-substantial")
	issuer := idportenIssuers[c.AltinnEnv]
	if c.AltinnEnv == EnvSim {
		issuer = c.SimPublicURL + "/idporten"
		if p.ClientID == "" {
			p.ClientID, p.KID, p.KeyPEM = SimIDPortenClientID, c.MaskinportenKID, c.MaskinportenKeyPEM
		}
	}
	p.Issuer = strings.TrimRight(get("ONBOARD_IDPORTEN_ISSUER", issuer), "/")
	p.RedirectURL = get("ONBOARD_IDPORTEN_REDIRECT_URL", c.PublicURL+IDPortenCallbackPath)
	if !slices.Contains(idportenLevels, p.ACR) {
		errs = append(errs, fmt.Errorf("ONBOARD_IDPORTEN_ACR must be one of %s", strings.Join(idportenLevels, ", ")))
	}
	if !p.On() {
		return errs
	}
	var err error
	if len(p.KeyPEM) == 0 {
		if p.KeyPEM, err = secret("ONBOARD_IDPORTEN_KEY"); err != nil {
			errs = append(errs, err)
		}
	}
	if p.ClientSecret, err = secret("ONBOARD_IDPORTEN_CLIENT_SECRET"); err != nil {
		errs = append(errs, err)
	}
	switch {
	case len(p.KeyPEM) == 0 && len(p.ClientSecret) == 0 && c.AltinnEnv != EnvSim:
		errs = append(errs, errors.New("ONBOARD_IDPORTEN_CLIENT_ID needs ONBOARD_IDPORTEN_KEY_FILE with ONBOARD_IDPORTEN_KID, or ONBOARD_IDPORTEN_CLIENT_SECRET_FILE"))
	case len(p.KeyPEM) > 0 && p.KID == "":
		errs = append(errs, errors.New("ONBOARD_IDPORTEN_KEY needs ONBOARD_IDPORTEN_KID"))
	}
	// Plain http only in dev, or to the simulator (on loopback).
	plainOK := c.Dev || c.AltinnEnv == EnvSim
	if u, err := url.Parse(p.Issuer); p.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && !plainOK) {
		errs = append(errs, errors.New("ONBOARD_IDPORTEN_ISSUER must be an https URL such as https://test.idporten.no (ONBOARD_ALTINN_ENV=custom has no default)"))
	}
	if u, err := url.Parse(p.RedirectURL); err != nil || u.Host == "" || (u.Scheme != "https" && !plainOK) {
		errs = append(errs, errors.New("ONBOARD_IDPORTEN_REDIRECT_URL must be an absolute https URL"))
	}
	return errs
}
