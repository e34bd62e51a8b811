// Package config reads the service's settings from the environment once, at
// start, into a typed and validated Config. Nothing else in the program reads
// the environment, so a test can build the whole app from a map.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Altinn environments. TT02 and production fill in the real URLs; custom takes
// every URL from the environment; sim runs the simulator inside the binary.
const (
	EnvSim    = "sim"
	EnvTT02   = "tt02"
	EnvProd   = "prod"
	EnvCustom = "custom"
)

// Product is one thing a customer can be onboarded to: the vendor's registered
// system and what its system user is asked to hold. Several may be offered
// side by side (say, one standard and one agent product).
type Product struct {
	ID             string            `json:"id"`
	Kind           domain.Kind       `json:"kind"`
	SystemID       string            `json:"systemId"`
	Rights         []string          `json:"rights"`         // resource ids, e.g. "ske-krav-og-betalinger"
	AccessPackages []string          `json:"accessPackages"` // URNs
	ExternalRef    string            `json:"externalRef"`    // empty: Altinn's default, the organisation number
	Name           map[string]string `json:"name"`           // shown to customers, by language (nb, en)
	// Scopes are the service owners' API scopes a system-user token for this
	// product is asked for, to prove a connected customer usable (the token
	// is thrown away). None: that check is skipped.
	Scopes []string `json:"scopes"`
	// SystemName and SystemDescription are the system's name and description
	// in Altinn's system register by language (nb, nn, en), as `onboard
	// system apply` registers them; the vendor's name when unset. Products on
	// one system must not disagree.
	SystemName        map[string]string `json:"systemName"`
	SystemDescription map[string]string `json:"systemDescription"`
}

// DisplayName returns the product's name in lang, falling back to bokmål and
// then the id.
func (p Product) DisplayName(lang string) string {
	if n := p.Name[lang]; n != "" {
		return n
	}
	if n := p.Name["nb"]; n != "" {
		return n
	}
	return p.ID
}

// Config is every setting of the service. Secret fields are redacted by String.
type Config struct {
	Addr      string // ONBOARD_ADDR
	PublicURL string // ONBOARD_PUBLIC_URL, no trailing slash
	DataDir   string // ONBOARD_DATA_DIR: dev keys and other local state
	Dev       bool   // ONBOARD_DEV: insecure cookies allowed, migrations at start
	LogLevel  string // ONBOARD_LOG_LEVEL

	DatabaseURL string // DATABASE_URL (secret: may hold a password)

	AltinnEnv     string   // ONBOARD_ALTINN_ENV
	AltinnBaseURL string   // ONBOARD_ALTINN_BASE_URL
	ConfirmHosts  []string // ONBOARD_ALTINN_CONFIRM_HOSTS (host or host:port)

	MaskinportenIssuer   string // ONBOARD_MASKINPORTEN_ISSUER
	MaskinportenClientID string // ONBOARD_MASKINPORTEN_CLIENT_ID
	MaskinportenKID      string // ONBOARD_MASKINPORTEN_KID
	MaskinportenKeyPEM   []byte // ONBOARD_MASKINPORTEN_KEY_FILE or ONBOARD_MASKINPORTEN_KEY (secret)

	SessionKey []byte // ONBOARD_SESSION_KEY(_FILE), 32+ bytes (secret); generated in dev

	IDPorten IDPorten // ONBOARD_IDPORTEN_*: the accountant's login (idporten.go)

	SimAddr      string // ONBOARD_SIM_ADDR: where the built-in simulator listens
	SimPublicURL string // ONBOARD_SIM_PUBLIC_URL
	SimSeedFile  string // ONBOARD_SIM_SEED_FILE
	SimTimeouts  string // ONBOARD_SIM_TIMEOUT_MODE: current (180-day timedOut flag) or legacy10d
	// SimStateFile is where the simulator keeps its state across restarts
	// (ONBOARD_SIM_STATE; default DataDir/sim-state.json, "off": memory only).
	SimStateFile string
	// SimBreak lists set-up mistakes the simulator is started with on
	// purpose (ONBOARD_SIM_BREAK), so `onboard doctor` can be seen failing;
	// see SimBreaks.
	SimBreak []string

	Products []Product // ONBOARD_PRODUCTS(_FILE) or the single-system settings

	SubmitRateLimit float64       // ONBOARD_SUBMIT_RATE_PER_MINUTE per client address
	AltinnTimeout   time.Duration // ONBOARD_ALTINN_TIMEOUT for each Altinn call
	RefreshInterval time.Duration // ONBOARD_STATUS_REFRESH_INTERVAL: a status page re-reads Altinn at most this often
	StaffSessionTTL time.Duration // ONBOARD_STAFF_SESSION_TTL: how long a staff sign-in lasts
	StaffResetTTL   time.Duration // ONBOARD_STAFF_RESET_TTL: how long an admin's password reset code works
	BehindProxy     bool          // ONBOARD_BEHIND_PROXY: take the client address from X-Forwarded-For
	Vendor          string        // ONBOARD_VENDOR_NAME, as customers know the vendor
	AltinnPortalURL string        // ONBOARD_ALTINN_PORTAL_URL, linked from the "delegate clients" step
	VendorURL       string        // ONBOARD_VENDOR_URL: the connected page's "Back to <vendor>" (journey.go)

	ReconcileSchedule   []time.Duration // ONBOARD_RECONCILE_SCHEDULE: ages at which a waiting onboarding is re-read
	RevokeSweepInterval time.Duration   // ONBOARD_REVOKE_SWEEP_INTERVAL: how often a connected one is re-read
	SweepInterval       time.Duration   // ONBOARD_SWEEP_INTERVAL: how often due onboardings are looked for
	ShutdownDrain       time.Duration   // ONBOARD_SHUTDOWN_DRAIN: at a shutdown, /readyz answers 503 this long while the service still serves, so the load balancer stops sending (part of the 30 s)
	JobWorkers          int             // ONBOARD_JOB_WORKERS: background jobs run at once per instance
	CampaignConcurrency int             // ONBOARD_CAMPAIGN_CONCURRENCY: a new campaign's Altinn operations at once
	CampaignRate        float64         // ONBOARD_CAMPAIGN_RATE: a new campaign's Altinn operations started per second
	CampaignKick        time.Duration   // ONBOARD_CAMPAIGN_KICK_INTERVAL: how soon a campaign left by a crashed instance is taken up
	MetricsToken        []byte          // ONBOARD_METRICS_TOKEN(_FILE): bearer token /metrics asks for (secret); empty: open in dev or with MetricsOpen, refused otherwise
	MetricsOpen         bool            // ONBOARD_METRICS_OPEN: /metrics without a token outside dev too (default false)

	WebhookURLs   []string      // ONBOARD_WEBHOOK_URLS: endpoints of the vendor's product that receive every status change
	WebhookSecret []byte        // ONBOARD_WEBHOOK_SECRET(_FILE): 32+ bytes signing each event (secret); required with URLs
	WebhookMaxAge time.Duration // ONBOARD_WEBHOOK_MAX_AGE: how long a delivery is retried before it is failed
	// ONBOARD_WEBHOOK_RETENTION: how long an event whose deliveries have ended is kept
	WebhookRetention time.Duration

	HandoffHS256Secret  []byte        // ONBOARD_HANDOFF_HS256_SECRET(_FILE): 32+ bytes shared with the vendor's product (secret)
	HandoffPublicKeyPEM []byte        // ONBOARD_HANDOFF_PUBLIC_KEY_FILE: PEM RSA or EC P-256 public key (RS256 or ES256)
	HandoffReturnHosts  []string      // ONBOARD_HANDOFF_RETURN_HOSTS: hosts (or host:port) a hand-off may send the customer back to
	HandoffMaxAge       time.Duration // ONBOARD_HANDOFF_MAX_AGE: the longest lifetime (exp - iat) of a hand-off token

	Brand Brand // ONBOARD_BRAND_* and ONBOARD_SUPPORT_*: the vendor's look (brand.go)

	Mail Mail // ONBOARD_SMTP_*, ONBOARD_MAIL_* and ONBOARD_REMINDER_*: email to customers (mail.go)

	// BrregURL is Enhetsregisteret's API base (ONBOARD_BRREG_URL; default
	// per environment, "" when "off": no name lookup); BrregTimeout bounds
	// one lookup (ONBOARD_BRREG_TIMEOUT, at most 2s).
	BrregURL     string
	BrregTimeout time.Duration

	publicDefaulted, simDefaulted bool
}

// Bind fills in the URLs that were derived from a listen address with port 0
// (as tests use) once the real addresses are known.
func (c *Config) Bind(app, sim string) {
	if c.publicDefaulted && app != "" {
		c.PublicURL = "http://localhost" + portOf(app)
	}
	if c.AltinnEnv == EnvSim && c.simDefaulted && sim != "" {
		old := c.SimPublicURL
		c.SimPublicURL = "http://localhost" + portOf(sim)
		if c.AltinnBaseURL == old {
			c.AltinnBaseURL = c.SimPublicURL
		}
		if c.MaskinportenIssuer == old+"/" {
			c.MaskinportenIssuer = c.SimPublicURL + "/"
		}
		if c.AltinnPortalURL == old+"/" {
			c.AltinnPortalURL = c.SimPublicURL + "/"
		}
		if c.BrregURL == old+SimBrregPath {
			c.BrregURL = c.SimPublicURL + SimBrregPath
		}
		oldHost, newHost := strings.TrimPrefix(old, "http://"), strings.TrimPrefix(c.SimPublicURL, "http://")
		for i, h := range c.ConfirmHosts {
			if h == oldHost {
				c.ConfirmHosts[i] = newHost
			}
		}
	}
}

// Per-environment URLs from the contract (shared/altinn/contract.md §1).
var envDefaults = map[string]struct{ altinn, issuer, confirmHost, portal string }{
	EnvTT02: {"https://platform.tt02.altinn.no", "https://test.maskinporten.no/", "am.ui.tt02.altinn.no", "https://tt02.altinn.no/"},
	EnvProd: {"https://platform.altinn.no", "https://maskinporten.no/", "am.ui.altinn.no", "https://www.altinn.no/"},
}

// The demo product follows the seed guide's example system.
const (
	demoSystemID      = "991825827_smartcloud"
	demoRight         = "ske-krav-og-betalinger"
	demoPackage       = "urn:altinn:accesspackage:skattegrunnlag"
	demoAgentPackages = "urn:altinn:accesspackage:regnskapsforer-lonn"
	// demoScope is the API scope the demo product's system-user token is
	// asked for in the simulator (Altinn's own list of authorized parties).
	demoScope = "altinn:accessmanagement/authorizedparties"
	// SimClientID is the Maskinporten client the simulator registers for the
	// service's own dev key.
	SimClientID = "onboard-dev"
	simKID      = "onboard-dev-key"
)

// SimBreaks are the set-up mistakes ONBOARD_SIM_BREAK can start the
// simulator with, one per check of `onboard doctor`:
//
//	scope=<scope>   the Maskinporten client lacks that scope (default: systemregister.write)
//	system          the products' system is not in the system register
//	right           the system lacks the first product's first right
//	redirect        the service's return URL is not an allowed redirect URL
//	clientid        the Maskinporten client is not on the system's clientId list
//	clock=<offset>  Maskinporten's clock is off by the offset (default 30s)
var SimBreaks = []string{"scope", "system", "right", "redirect", "clientid", "clock"}

// Load reads the configuration through getenv. It reads files named by *_FILE
// settings but writes nothing; dev secrets are generated by the caller.
func Load(getenv func(string) string) (*Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	var (
		errs []error
		err  error
	)
	c := &Config{
		// Loopback by default, like the simulator: listening on every
		// interface is a choice (ONBOARD_ADDR=:8080; the image and the
		// Kubernetes manifests make it).
		Addr:        get("ONBOARD_ADDR", "127.0.0.1:8080"),
		DataDir:     get("ONBOARD_DATA_DIR", ".data"),
		LogLevel:    get("ONBOARD_LOG_LEVEL", "info"),
		DatabaseURL: get("DATABASE_URL", ""),
		AltinnEnv:   strings.ToLower(get("ONBOARD_ALTINN_ENV", EnvSim)),
		SimAddr:     get("ONBOARD_SIM_ADDR", "127.0.0.1:8081"),
		SimSeedFile: get("ONBOARD_SIM_SEED_FILE", ""),
		SimTimeouts: get("ONBOARD_SIM_TIMEOUT_MODE", "current"),
	}
	switch st := get("ONBOARD_SIM_STATE", filepath.Join(c.DataDir, "sim-state.json")); strings.ToLower(st) {
	case "off", "none", "memory":
	default:
		c.SimStateFile = st
	}
	for _, b := range splitList(get("ONBOARD_SIM_BREAK", "")) {
		name, _, _ := strings.Cut(b, "=")
		if !slices.Contains(SimBreaks, name) {
			errs = append(errs, fmt.Errorf("ONBOARD_SIM_BREAK: %q is not one of %s", b, strings.Join(SimBreaks, ", ")))
			continue
		}
		c.SimBreak = append(c.SimBreak, b)
	}
	for name, addr := range map[string]string{"ONBOARD_ADDR": c.Addr, "ONBOARD_SIM_ADDR": c.SimAddr} {
		if name == "ONBOARD_SIM_ADDR" && c.AltinnEnv != EnvSim {
			continue // not listened on
		}
		if !goodListenAddr(addr) {
			errs = append(errs, fmt.Errorf("%s %q: want host:port or :port, such as 127.0.0.1:8080 (port 0 to 65535)", name, truncateSetting(addr)))
		}
	}
	c.publicDefaulted = get("ONBOARD_PUBLIC_URL", "") == ""
	c.PublicURL = strings.TrimRight(get("ONBOARD_PUBLIC_URL", "http://localhost"+portOf(c.Addr)), "/")
	c.Vendor = get("ONBOARD_VENDOR_NAME", "SmartCloud")
	if c.BehindProxy, err = strconv.ParseBool(get("ONBOARD_BEHIND_PROXY", "false")); err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_BEHIND_PROXY: %w", err))
	}
	if c.MetricsOpen, err = strconv.ParseBool(get("ONBOARD_METRICS_OPEN", "false")); err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_METRICS_OPEN: %w", err))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("ONBOARD_PUBLIC_URL %q must be an absolute http(s) URL without a query", c.PublicURL))
	}
	dev, err := strconv.ParseBool(get("ONBOARD_DEV", strconv.FormatBool(c.AltinnEnv == EnvSim)))
	if err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_DEV: %w", err))
	}
	c.Dev = dev
	if !c.Dev && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, errors.New("ONBOARD_PUBLIC_URL must be https outside dev (Altinn only accepts https redirect URLs)"))
	}

	secret := func(name string) ([]byte, error) {
		if f := get(name+"_FILE", ""); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s_FILE: %w", name, err)
			}
			return []byte(strings.TrimSpace(string(b))), nil
		}
		if v := getenv(name); v != "" {
			return []byte(v), nil
		}
		return nil, nil
	}
	if b, err := secret("DATABASE_URL"); err != nil {
		errs = append(errs, err)
	} else if len(b) > 0 {
		c.DatabaseURL = string(b)
	}
	if c.SessionKey, err = secret("ONBOARD_SESSION_KEY"); err != nil {
		errs = append(errs, err)
	} else if len(c.SessionKey) > 0 && len(c.SessionKey) < 32 {
		errs = append(errs, errors.New("ONBOARD_SESSION_KEY must be at least 32 bytes"))
	} else if len(c.SessionKey) == 0 && !c.Dev {
		errs = append(errs, errors.New("ONBOARD_SESSION_KEY (or _FILE) is required outside dev"))
	}
	keyFile := "ONBOARD_MASKINPORTEN_KEY"
	if c.MaskinportenKeyPEM, err = secret(keyFile); err != nil {
		errs = append(errs, err)
	}

	c.MaskinportenClientID = get("ONBOARD_MASKINPORTEN_CLIENT_ID", "")
	c.MaskinportenKID = get("ONBOARD_MASKINPORTEN_KID", "")
	c.AltinnBaseURL = strings.TrimRight(get("ONBOARD_ALTINN_BASE_URL", ""), "/")
	c.MaskinportenIssuer = get("ONBOARD_MASKINPORTEN_ISSUER", "")
	var confirmDefault string
	switch c.AltinnEnv {
	case EnvSim:
		c.simDefaulted = get("ONBOARD_SIM_PUBLIC_URL", "") == ""
		c.SimPublicURL = strings.TrimRight(get("ONBOARD_SIM_PUBLIC_URL", "http://localhost"+portOf(c.SimAddr)), "/")
		c.AltinnPortalURL = get("ONBOARD_ALTINN_PORTAL_URL", c.SimPublicURL+"/")
		if c.AltinnBaseURL == "" {
			c.AltinnBaseURL = c.SimPublicURL
		}
		if c.MaskinportenIssuer == "" {
			c.MaskinportenIssuer = c.SimPublicURL + "/"
		}
		if c.MaskinportenClientID == "" {
			c.MaskinportenClientID = SimClientID
		}
		if c.MaskinportenKID == "" {
			c.MaskinportenKID = simKID
		}
		if u, err := url.Parse(c.SimPublicURL); err == nil {
			confirmDefault = u.Host
		}
	case EnvTT02, EnvProd:
		d := envDefaults[c.AltinnEnv]
		if c.AltinnBaseURL == "" {
			c.AltinnBaseURL = d.altinn
		}
		if c.MaskinportenIssuer == "" {
			c.MaskinportenIssuer = d.issuer
		}
		confirmDefault = d.confirmHost
		c.AltinnPortalURL = get("ONBOARD_ALTINN_PORTAL_URL", d.portal)
	case EnvCustom:
		c.AltinnPortalURL = get("ONBOARD_ALTINN_PORTAL_URL", "https://www.altinn.no/")
		if c.AltinnBaseURL == "" || c.MaskinportenIssuer == "" {
			errs = append(errs, errors.New("ONBOARD_ALTINN_ENV=custom needs ONBOARD_ALTINN_BASE_URL and ONBOARD_MASKINPORTEN_ISSUER"))
		}
	default:
		errs = append(errs, fmt.Errorf("ONBOARD_ALTINN_ENV %q: want sim, tt02, prod or custom", c.AltinnEnv))
	}
	if c.AltinnEnv != EnvSim {
		if c.MaskinportenClientID == "" || c.MaskinportenKID == "" || len(c.MaskinportenKeyPEM) == 0 {
			errs = append(errs, fmt.Errorf("ONBOARD_ALTINN_ENV=%s needs ONBOARD_MASKINPORTEN_CLIENT_ID, ONBOARD_MASKINPORTEN_KID and ONBOARD_MASKINPORTEN_KEY_FILE", c.AltinnEnv))
		}
	}
	errs = append(errs, c.loadIDPorten(get, secret)...)
	for _, h := range splitList(get("ONBOARD_ALTINN_CONFIRM_HOSTS", confirmDefault)) {
		c.ConfirmHosts = append(c.ConfirmHosts, strings.ToLower(h))
	}
	if len(c.ConfirmHosts) == 0 {
		errs = append(errs, errors.New("ONBOARD_ALTINN_CONFIRM_HOSTS is empty: no confirmUrl could be followed"))
	}

	if c.Products, err = loadProducts(get, secretFileOrValue(get, "ONBOARD_PRODUCTS")); err != nil {
		errs = append(errs, err)
	}

	rate, err := strconv.ParseFloat(get("ONBOARD_SUBMIT_RATE_PER_MINUTE", "20"), 64)
	if err != nil || rate <= 0 {
		errs = append(errs, errors.New("ONBOARD_SUBMIT_RATE_PER_MINUTE must be a positive number"))
	}
	c.SubmitRateLimit = rate
	if c.AltinnTimeout, err = time.ParseDuration(get("ONBOARD_ALTINN_TIMEOUT", "15s")); err != nil || c.AltinnTimeout <= 0 {
		errs = append(errs, errors.New("ONBOARD_ALTINN_TIMEOUT must be a positive duration such as 15s"))
	}
	if c.RefreshInterval, err = time.ParseDuration(get("ONBOARD_STATUS_REFRESH_INTERVAL", "2s")); err != nil || c.RefreshInterval < 0 {
		errs = append(errs, errors.New("ONBOARD_STATUS_REFRESH_INTERVAL must be a duration such as 2s"))
	}
	if c.StaffSessionTTL, err = time.ParseDuration(get("ONBOARD_STAFF_SESSION_TTL", "8h")); err != nil || c.StaffSessionTTL <= 0 {
		errs = append(errs, errors.New("ONBOARD_STAFF_SESSION_TTL must be a positive duration such as 8h"))
	}
	if c.StaffResetTTL, err = time.ParseDuration(get("ONBOARD_STAFF_RESET_TTL", "24h")); err != nil || c.StaffResetTTL < time.Minute || c.StaffResetTTL > 30*24*time.Hour {
		errs = append(errs, errors.New("ONBOARD_STAFF_RESET_TTL must be a duration from 1m to 720h, such as 24h"))
	}
	if c.ReconcileSchedule, err = parseAges(get("ONBOARD_RECONCILE_SCHEDULE", "1m,5m,15m,1h,6h,24h")); err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_RECONCILE_SCHEDULE: %w", err))
	}
	if c.RevokeSweepInterval, err = time.ParseDuration(get("ONBOARD_REVOKE_SWEEP_INTERVAL", "24h")); err != nil || c.RevokeSweepInterval <= 0 {
		errs = append(errs, errors.New("ONBOARD_REVOKE_SWEEP_INTERVAL must be a positive duration such as 24h"))
	}
	if c.SweepInterval, err = time.ParseDuration(get("ONBOARD_SWEEP_INTERVAL", "30s")); err != nil || c.SweepInterval < time.Second {
		errs = append(errs, errors.New("ONBOARD_SWEEP_INTERVAL must be a duration of at least 1s, such as 30s"))
	}
	drain := "5s"
	if c.Dev {
		drain = "0s" // nobody balances a laptop's load
	}
	if c.ShutdownDrain, err = time.ParseDuration(get("ONBOARD_SHUTDOWN_DRAIN", drain)); err != nil || c.ShutdownDrain < 0 || c.ShutdownDrain > MaxShutdownDrain {
		errs = append(errs, fmt.Errorf("ONBOARD_SHUTDOWN_DRAIN must be a duration from 0s to %v, such as 5s", MaxShutdownDrain))
	}
	if c.JobWorkers, err = strconv.Atoi(get("ONBOARD_JOB_WORKERS", "10")); err != nil || c.JobWorkers < 1 || c.JobWorkers > 1000 {
		errs = append(errs, errors.New("ONBOARD_JOB_WORKERS must be a whole number from 1 to 1000"))
	}
	if c.CampaignConcurrency, err = strconv.Atoi(get("ONBOARD_CAMPAIGN_CONCURRENCY", "4")); err != nil || c.CampaignConcurrency < 1 || c.CampaignConcurrency > 200 {
		errs = append(errs, errors.New("ONBOARD_CAMPAIGN_CONCURRENCY must be a whole number from 1 to 200"))
	}
	if c.CampaignRate, err = strconv.ParseFloat(get("ONBOARD_CAMPAIGN_RATE", "5"), 64); err != nil || !(c.CampaignRate > 0 && c.CampaignRate <= 10000) {
		errs = append(errs, errors.New("ONBOARD_CAMPAIGN_RATE must be a number of operations per second above 0 and at most 10000, such as 5"))
	}
	if c.CampaignKick, err = time.ParseDuration(get("ONBOARD_CAMPAIGN_KICK_INTERVAL", "30s")); err != nil || c.CampaignKick < time.Second {
		errs = append(errs, errors.New("ONBOARD_CAMPAIGN_KICK_INTERVAL must be a duration of at least 1s, such as 30s"))
	}
	if c.WebhookRetention, err = time.ParseDuration(get("ONBOARD_WEBHOOK_RETENTION", "2160h")); err != nil || c.WebhookRetention < time.Hour {
		errs = append(errs, errors.New("ONBOARD_WEBHOOK_RETENTION must be a duration of at least 1h, such as 2160h (90 days)"))
	}
	if c.MetricsToken, err = secret("ONBOARD_METRICS_TOKEN"); err != nil {
		errs = append(errs, err)
	}
	if c.WebhookURLs, err = parseWebhookURLs(get("ONBOARD_WEBHOOK_URLS", ""), c.Dev); err != nil {
		errs = append(errs, fmt.Errorf("ONBOARD_WEBHOOK_URLS: %w", err))
	}
	if c.WebhookSecret, err = secret("ONBOARD_WEBHOOK_SECRET"); err != nil {
		errs = append(errs, err)
	} else if len(c.WebhookSecret) > 0 && len(c.WebhookSecret) < 32 {
		errs = append(errs, errors.New("ONBOARD_WEBHOOK_SECRET must be at least 32 bytes"))
	} else if len(c.WebhookSecret) == 0 && len(c.WebhookURLs) > 0 {
		errs = append(errs, errors.New("ONBOARD_WEBHOOK_SECRET (or _FILE) is required with ONBOARD_WEBHOOK_URLS: every event is signed"))
	}
	if c.WebhookMaxAge, err = time.ParseDuration(get("ONBOARD_WEBHOOK_MAX_AGE", "48h")); err != nil || c.WebhookMaxAge < MinWebhookMaxAge {
		errs = append(errs, errors.New("ONBOARD_WEBHOOK_MAX_AGE must be a duration of at least 24h, such as 48h"))
	}
	errs = append(errs, c.loadHandoff(get, secret)...)
	errs = append(errs, c.loadBrreg(get)...)
	var brandErrs []error
	c.Brand, brandErrs = loadBrand(get)
	errs = append(errs, brandErrs...)
	errs = append(errs, c.loadJourney(get)...)
	errs = append(errs, c.loadMail(get, secret)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// SimBrregPath is where the simulator serves its fake Enhetsregisteret.
const SimBrregPath = "/enhetsregisteret/api"

// Enhetsregisteret per environment (shared/brreg.md §5): TT02's synthetic
// (Tenor) organisations are only in Brønnøysund's ppe copy.
var brregDefaults = map[string]string{
	EnvTT02: "https://data.ppe.brreg.no/enhetsregisteret/api",
	EnvProd: "https://data.brreg.no/enhetsregisteret/api",
}

// loadBrreg reads the Enhetsregisteret lookup's settings. The simulator
// serves its own fake register; a custom environment has none unless one
// is named, as its organisations need not be in either real one.
func (c *Config) loadBrreg(get func(k, def string) string) []error {
	var errs []error
	def := brregDefaults[c.AltinnEnv]
	if c.AltinnEnv == EnvSim {
		def = c.SimPublicURL + SimBrregPath
	}
	if def == "" {
		def = "off"
	}
	switch v := strings.TrimRight(get("ONBOARD_BRREG_URL", def), "/"); strings.ToLower(v) {
	case "off", "none":
	default:
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("ONBOARD_BRREG_URL %q must be an absolute http(s) URL without a query, or off", v))
		}
		c.BrregURL = v
	}
	d, err := time.ParseDuration(get("ONBOARD_BRREG_TIMEOUT", "2s"))
	if err != nil || d <= 0 || d > 2*time.Second {
		errs = append(errs, errors.New("ONBOARD_BRREG_TIMEOUT must be a positive duration of at most 2s, such as 2s (the customer waits for it)"))
	}
	c.BrregTimeout = d
	return errs
}

// loadHandoff reads the signed hand-off settings (/start?token=…). The
// hand-off is off unless a key is configured; the key itself is parsed by
// internal/handoff when the app is built.
func (c *Config) loadHandoff(get func(k, def string) string, secret func(string) ([]byte, error)) []error {
	var errs []error
	var err error
	if c.HandoffHS256Secret, err = secret("ONBOARD_HANDOFF_HS256_SECRET"); err != nil {
		errs = append(errs, err)
	} else if len(c.HandoffHS256Secret) > 0 && len(c.HandoffHS256Secret) < 32 {
		errs = append(errs, errors.New("ONBOARD_HANDOFF_HS256_SECRET must be at least 32 bytes"))
	}
	if f := get("ONBOARD_HANDOFF_PUBLIC_KEY_FILE", ""); f != "" {
		if c.HandoffPublicKeyPEM, err = os.ReadFile(f); err != nil {
			errs = append(errs, fmt.Errorf("ONBOARD_HANDOFF_PUBLIC_KEY_FILE: %w", err))
		}
	}
	for _, h := range splitList(get("ONBOARD_HANDOFF_RETURN_HOSTS", "")) {
		c.HandoffReturnHosts = append(c.HandoffReturnHosts, strings.ToLower(h))
	}
	if c.HandoffEnabled() && len(c.HandoffReturnHosts) == 0 {
		errs = append(errs, errors.New("ONBOARD_HANDOFF_RETURN_HOSTS is required with a hand-off key: a token's return_url must be on it"))
	}
	if c.HandoffMaxAge, err = time.ParseDuration(get("ONBOARD_HANDOFF_MAX_AGE", "5m")); err != nil || c.HandoffMaxAge <= 0 || c.HandoffMaxAge > time.Hour {
		errs = append(errs, errors.New("ONBOARD_HANDOFF_MAX_AGE must be a positive duration of at most 1h, such as 5m"))
	}
	return errs
}

// HandoffEnabled reports whether /start accepts hand-off tokens.
func (c *Config) HandoffEnabled() bool {
	return len(c.HandoffHS256Secret) > 0 || len(c.HandoffPublicKeyPEM) > 0
}

// parseAges reads a comma-separated list of ascending positive durations,
// such as "1m,5m,15m,1h,6h,24h".
func parseAges(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range splitList(s) {
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration such as 5m", f)
		}
		if d <= 0 {
			return nil, fmt.Errorf("%s is not positive", f)
		}
		if len(out) > 0 && d <= out[len(out)-1] {
			return nil, fmt.Errorf("%s does not come after %s: the ages must ascend", f, out[len(out)-1])
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("no durations")
	}
	return out, nil
}

// MinWebhookMaxAge is the shortest ONBOARD_WEBHOOK_MAX_AGE: a vendor's
// endpoint may be down for a night and still get every event.
const MinWebhookMaxAge = 24 * time.Hour

// MaxShutdownDrain bounds ONBOARD_SHUTDOWN_DRAIN: the drain comes out of the
// 30 s shutdown, and the requests in flight and the jobs need the rest.
const MaxShutdownDrain = 10 * time.Second

// parseWebhookURLs reads the comma-separated endpoint URLs. Each is an
// absolute https URL; plain http is allowed only in dev and only to a
// loopback host (a receiver on the developer's own machine, or a test's).
func parseWebhookURLs(s string, dev bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range splitList(s) {
		u, err := url.Parse(f)
		if err != nil || u.Host == "" || u.Fragment != "" || u.Opaque != "" {
			return nil, fmt.Errorf("%q is not an absolute URL", RedactURL(f))
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && dev && isLoopbackHost(u.Hostname()):
		case u.Scheme == "http" && dev:
			return nil, fmt.Errorf("%s must be https (plain http only to a loopback host in dev)", RedactURL(f))
		default:
			return nil, fmt.Errorf("%s must be https", RedactURL(f))
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("%s is listed twice", RedactURL(f))
		}
		seen[u.String()] = true
		out = append(out, u.String())
	}
	return out, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactURL is u without what may be a credential: its user info and its
// query, for logs and pages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}

// ReturnPath is the one fixed path Altinn sends the customer back to. The
// vendor registers PublicURL+ReturnPath on its system in Altinn.
const ReturnPath = "/return"

// ReturnURL is the redirect URL to register in Altinn's system register.
func (c *Config) ReturnURL() string { return c.PublicURL + ReturnPath }

// KeyPath is where the dev Maskinporten key lives when none is configured.
func (c *Config) KeyPath() string { return filepath.Join(c.DataDir, "maskinporten-dev.pem") }

// FindProduct returns the product with id among ps, if there is one.
func FindProduct(ps []Product, id string) (Product, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// Redacted lists the settings for the start-up log line with every secret
// replaced by whether it is set.
func (c *Config) Redacted() map[string]any {
	set := func(b bool) string {
		if b {
			return "(set)"
		}
		return "(unset)"
	}
	// Only where the database is and who connects: a password may sit in
	// the URL's user part, its query or a key=value string.
	db := "(unset)"
	if c.DatabaseURL != "" {
		db = "(unparseable)"
		if pc, err := pgconn.ParseConfig(c.DatabaseURL); err == nil {
			db = fmt.Sprintf("host=%s port=%d dbname=%s user=%s", pc.Host, pc.Port, pc.Database, pc.User)
		}
	}
	webhookURLs := make([]string, 0, len(c.WebhookURLs))
	for _, u := range c.WebhookURLs {
		webhookURLs = append(webhookURLs, RedactURL(u))
	}
	ids := make([]string, 0, len(c.Products))
	for _, p := range c.Products {
		ids = append(ids, p.ID+":"+string(p.Kind)+":"+p.SystemID)
	}
	return map[string]any{
		"addr": c.Addr, "public_url": c.PublicURL, "dev": c.Dev, "data_dir": c.DataDir,
		"database_url": db, "altinn_env": c.AltinnEnv, "altinn_base_url": c.AltinnBaseURL,
		"confirm_hosts": c.ConfirmHosts, "maskinporten_issuer": c.MaskinportenIssuer,
		"maskinporten_client_id": c.MaskinportenClientID, "maskinporten_kid": c.MaskinportenKID,
		"maskinporten_key": set(len(c.MaskinportenKeyPEM) > 0), "session_key": set(len(c.SessionKey) > 0),
		"idporten_issuer": c.IDPorten.Issuer, "idporten_client_id": c.IDPorten.ClientID, "idporten_acr": c.IDPorten.ACR,
		"idporten_redirect_url": c.IDPorten.RedirectURL, "idporten_key": set(len(c.IDPorten.KeyPEM) > 0),
		"idporten_shared_key": set(len(c.IDPorten.ClientSecret) > 0),
		"sim_addr":            c.SimAddr, "products": ids, "return_url": c.ReturnURL(),
		"reconcile_schedule": durations(c.ReconcileSchedule), "revoke_sweep_interval": c.RevokeSweepInterval.String(),
		"sweep_interval": c.SweepInterval.String(), "job_workers": c.JobWorkers, "shutdown_drain": c.ShutdownDrain.String(),
		"campaign_concurrency": c.CampaignConcurrency, "campaign_rate": c.CampaignRate,
		"campaign_kick_interval": c.CampaignKick.String(),
		"metrics_token":          set(len(c.MetricsToken) > 0),
		"webhook_urls":           webhookURLs, "webhook_hmac_key": set(len(c.WebhookSecret) > 0),
		"webhook_max_age": c.WebhookMaxAge.String(), "webhook_retention": c.WebhookRetention.String(),
		"handoff_hs256_key": set(len(c.HandoffHS256Secret) > 0), "handoff_public_key": set(len(c.HandoffPublicKeyPEM) > 0),
		"handoff_return_hosts": c.HandoffReturnHosts, "handoff_max_age": c.HandoffMaxAge.String(),
		"brand_name": c.Brand.Name, "brand_logo": set(len(c.Brand.Logo) > 0),
		"brand_primary_color": c.Brand.Primary, "brand_accent_color": c.Brand.Accent,
		"support_email": c.Brand.SupportEmail, "support_phone": c.Brand.SupportPhone, "support_url": c.Brand.SupportURL,
		"brreg_url": c.BrregURL, "brreg_timeout": c.BrregTimeout.String(),
		"vendor_url": c.VendorURL,
		"smtp_host":  c.Mail.SMTPHost, "smtp_port": c.Mail.SMTPPort, "smtp_tls": c.Mail.SMTPTLS,
		"smtp_username": c.Mail.SMTPUsername, "smtp_password": set(c.Mail.SMTPPassword != ""),
		"mail_from": c.Mail.From, "mail_outbox": c.Mail.Outbox, "reminder_ages": durations(c.Mail.ReminderAges),
		"reminder_before_expiry": c.Mail.ExpiryReminder.String(), "mail_interval": c.Mail.Interval.String(),
	}
}

func durations(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

func secretFileOrValue(get func(k, def string) string, name string) func() (string, error) {
	return func() (string, error) {
		if f := get(name+"_FILE", ""); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: %w", name, err)
			}
			return string(b), nil
		}
		return get(name, ""), nil
	}
}

func loadProducts(get func(k, def string) string, raw func() (string, error)) ([]Product, error) {
	js, err := raw()
	if err != nil {
		return nil, err
	}
	var ps []Product
	if js != "" {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ps); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return nil, fmt.Errorf("ONBOARD_PRODUCTS: %s must be %s, not a JSON %s", te.Field, jsonKind(te.Type.String()), te.Value)
			}
			return nil, fmt.Errorf("ONBOARD_PRODUCTS: %w", err)
		}
	} else {
		systemID := get("ONBOARD_SYSTEM_ID", demoSystemID)
		ps = append(ps, Product{
			ID: "standard", Kind: domain.KindStandard, SystemID: systemID,
			Rights:         splitList(get("ONBOARD_RIGHTS", demoRight)),
			AccessPackages: splitList(get("ONBOARD_ACCESS_PACKAGES", demoPackage)),
			Name:           map[string]string{"nb": "Eget system", "en": "Own system"},
			Scopes:         splitList(get("ONBOARD_SYSTEM_USER_SCOPES", simDefault(get, demoScope))),
		})
		if agent := splitList(get("ONBOARD_AGENT_ACCESS_PACKAGES", demoAgentPackages)); len(agent) > 0 && agent[0] != "none" {
			ps = append(ps, Product{
				ID: "agent", Kind: domain.KindAgent, SystemID: systemID, AccessPackages: agent,
				ExternalRef: "agent", // a standard and an agent system user for one org need different keys
				Name:        map[string]string{"nb": "Klientsystem for regnskapsførere", "en": "Client system for accountants"},
				Scopes:      splitList(get("ONBOARD_SYSTEM_USER_SCOPES", simDefault(get, demoScope))),
			})
		}
	}
	seen := map[string]bool{}
	for i, p := range ps {
		switch {
		case p.ID == "" || strings.ContainsAny(p.ID, "/?#& "):
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%d]: id %q must be a non-empty path segment", i, p.ID)
		case seen[p.ID]:
			return nil, fmt.Errorf("ONBOARD_PRODUCTS: duplicate id %q", p.ID)
		case p.Kind != domain.KindStandard && p.Kind != domain.KindAgent:
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s]: kind %q: want standard or agent", p.ID, p.Kind)
		case p.SystemID == "":
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s]: systemId is required", p.ID)
		case !systemIDPattern.MatchString(p.SystemID):
			return nil, fmt.Errorf("system id %q (ONBOARD_PRODUCTS[%s] or ONBOARD_SYSTEM_ID) must be <vendor orgno>_<name>: the vendor's nine-digit organisation number, an underscore and a name without spaces, such as 991825827_smartcloud", p.SystemID, p.ID)
		case p.Kind == domain.KindAgent && len(p.Rights) > 0:
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s]: an agent request takes access packages only, not rights", p.ID)
		case p.Kind == domain.KindAgent && len(p.AccessPackages) == 0:
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s]: an agent request needs at least one access package", p.ID)
		case len(p.Rights) == 0 && len(p.AccessPackages) == 0:
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s]: asks for no rights and no access packages", p.ID)
		}
		for j, pkg := range p.AccessPackages {
			full, err := packageURN(pkg)
			if err != nil {
				return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s].accessPackages: %w", p.ID, err)
			}
			ps[i].AccessPackages[j] = full
		}
		if err := checkScopes(p.Scopes); err != nil {
			return nil, fmt.Errorf("ONBOARD_PRODUCTS[%s].scopes: %w", p.ID, err)
		}
		seen[p.ID] = true
	}
	if err := sameSystemTexts(ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// packageURN returns an access package as the URN Altinn's requests and
// system register want. A bare code such as "skattegrunnlag" (which Altinn's
// metadata lookup accepts, but a request or the register refuses with
// AUTH.VLD-00008) becomes urn:altinn:accesspackage:skattegrunnlag.
func packageURN(pkg string) (string, error) {
	const prefix = "urn:altinn:accesspackage:"
	if !strings.HasPrefix(strings.ToLower(pkg), "urn:") {
		if !packageCodePattern.MatchString(pkg) {
			return "", fmt.Errorf("%q is not an access package such as %sskattegrunnlag", pkg, prefix)
		}
		return prefix + pkg, nil
	}
	if parts := strings.Split(pkg, ":"); len(parts) < 4 || slices.Contains(parts, "") {
		return "", fmt.Errorf("%q is not an access package URN such as %sskattegrunnlag", pkg, prefix)
	}
	return pkg, nil
}

var packageCodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// systemIDPattern is Altinn's system id: the vendor's organisation number,
// an underscore and a name without white space (systemregister.md §2).
var systemIDPattern = regexp.MustCompile(`^[0-9]{9}_[^\s]+$`)

// scopePattern is one OAuth scope: printable ASCII without space, quote or
// backslash (RFC 6749 §3.3).
var scopePattern = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]+$`)

func checkScopes(scopes []string) error {
	seen := map[string]bool{}
	for _, sc := range scopes {
		switch {
		case !scopePattern.MatchString(sc):
			return fmt.Errorf("%q is not a scope such as \"skatteetaten:mvameldinginnsending\" (one scope a string, no spaces)", sc)
		case seen[sc]:
			return fmt.Errorf("%q is listed twice", sc)
		}
		seen[sc] = true
	}
	return nil
}

// sameSystemTexts refuses products on one system that give it different
// names or descriptions: the system register holds one of each.
func sameSystemTexts(ps []Product) error {
	type texts struct{ name, desc map[string]string }
	by := map[string]texts{}
	for _, p := range ps {
		t, ok := by[p.SystemID]
		if !ok {
			by[p.SystemID] = texts{p.SystemName, p.SystemDescription}
			continue
		}
		for _, pair := range []struct {
			field     string
			have, got map[string]string
		}{{"systemName", t.name, p.SystemName}, {"systemDescription", t.desc, p.SystemDescription}} {
			if len(pair.have) > 0 && len(pair.got) > 0 && !maps.Equal(pair.have, pair.got) {
				return fmt.Errorf("ONBOARD_PRODUCTS[%s].%s differs from another product's on system %s: a system has one", p.ID, pair.field, p.SystemID)
			}
		}
		if len(t.name) == 0 {
			t.name = p.SystemName
		}
		if len(t.desc) == 0 {
			t.desc = p.SystemDescription
		}
		by[p.SystemID] = t
	}
	return nil
}

// jsonKind names a Go type the way a person writing JSON thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list of " + strings.TrimPrefix(jsonKind(strings.TrimPrefix(goType, "[]")), "a ") + "s"
	case strings.HasPrefix(goType, "map["):
		return "an object of texts by language, such as {\"nb\": \"…\", \"en\": \"…\"}"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	default:
		return "a " + goType
	}
}

// simDefault is def when the simulator is the Altinn (the default), so that
// `make run` shows every step; elsewhere nothing is assumed.
func simDefault(get func(k, def string) string, def string) string {
	if strings.ToLower(get("ONBOARD_ALTINN_ENV", EnvSim)) == EnvSim {
		return def
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })...)
	return out
}

// goodListenAddr reports whether addr is what net.Listen takes for TCP:
// host:port or :port, the port a number from 0 to 65535.
func goodListenAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// truncateSetting keeps an error about a setting's value short and on one
// line.
func truncateSetting(s string) string {
	s = strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s), "")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}
