// Package app wires the service together from a Config: the Maskinporten and
// Altinn clients (or the built-in simulator), the onboarding service, the
// background jobs, the metrics and the HTTP handlers. cmd/onboard runs it;
// tests build it the same way.
package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/brreg"
	"github.com/onboard-altinn/onboard/internal/campaigns"
	clientflow "github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/grants"
	"github.com/onboard-altinn/onboard/internal/handlers"
	"github.com/onboard-altinn/onboard/internal/handoff"
	"github.com/onboard-altinn/onboard/internal/idporten"
	"github.com/onboard-altinn/onboard/internal/jobs"
	"github.com/onboard-altinn/onboard/internal/mail"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/metrics"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sealed"
	"github.com/onboard-altinn/onboard/internal/setup"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// App is the wired service.
type App struct {
	Config       *config.Config
	DB           *db.DB
	Sim          *sim.Server // nil unless ONBOARD_ALTINN_ENV=sim
	Maskinporten *maskinporten.Client
	Altinn       *altinn.Client
	// Metadata reads Altinn's access-package metadata; Setup runs the
	// set-up checks (the Setup page, `onboard serve`'s start-up line).
	Metadata    *altinn.Metadata
	Setup       *setup.Service
	Onboardings *onboarding.Service
	// Jobs is the River client (reconciliation), built when there is a
	// database; `onboard serve` starts and stops it.
	Jobs *river.Client[pgx.Tx]
	// Metrics is the Prometheus registry served on /metrics: the Go
	// runtime, the process, the web server's requests and onboard_*.
	Metrics *prometheus.Registry
	Web     http.Handler
	// Webhooks is the worker that delivers events to the vendor's product
	// and Outbox what stores and enqueues them (both nil without a
	// database). Tests shorten the worker's backoff before starting Jobs.
	Webhooks *webhooks.Worker
	Outbox   *webhooks.Outbox
	// Campaigns is the dashboard's bulk campaigns and CampaignRunner what
	// sends their rows (nil without a database); tests shorten its back-off.
	Campaigns      *campaigns.Service
	CampaignRunner *campaigns.Runner
	// Register looks organisation names up in Enhetsregisteret (the
	// simulator's in sim mode; nil when ONBOARD_BRREG_URL is off).
	Register *brreg.Client
	// Mail is the email jobs (nil when mail is off); tests set its
	// workers' clock and back-off before starting Jobs.
	Mail *mail.Workers
	// Clients is the accountant's flow: ID-porten logins and an agent
	// onboarding's clients (nil without a database or ONBOARD_IDPORTEN_*).
	Clients *clientflow.Service
}

// Scopes the vendor token asks for: one token serves every vendor call.
var vendorScopes = []string{altinn.ScopeRequestRead, altinn.ScopeRequestWrite}

// Build wires the app. cfg must hold final URLs (see Config.Bind). In sim
// mode it also builds the simulator, registers the dev key's Maskinporten
// client and the return URL on every product's system, as a vendor does once
// by hand in Altinn's system register.
func Build(cfg *config.Config, store *db.DB, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, DB: store}
	key, err := signingKey(cfg, log)
	if err != nil {
		return nil, err
	}
	if cfg.AltinnEnv == config.EnvSim {
		if a.Sim, err = newSim(cfg, key, log); err != nil {
			return nil, err
		}
	}
	a.Metrics = metrics.NewRegistry()
	m := newServiceMetrics(a.Metrics)
	// Every Altinn and Maskinporten call is measured in one place: the
	// clients' transports.
	clients, err := Clients(cfg, key, m.transports())
	if err != nil {
		return nil, err
	}
	a.Maskinporten, a.Altinn, a.Metadata = clients.Maskinporten, clients.Altinn, clients.Metadata
	a.Setup = clients.Setup(cfg, key)
	a.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "onboard_maskinporten_token_fetches_total",
		Help: "Access tokens fetched from Maskinporten (each a POST to the token endpoint; cached tokens are not counted).",
	}, func() float64 { return float64(a.Maskinporten.Fetches()) }))
	a.Onboardings = &onboarding.Service{
		DB: store, Altinn: a.Altinn, Products: cfg.Products, ReturnURL: cfg.ReturnURL(),
		ConfirmHosts: cfg.ConfirmHosts, Log: log,
		// A renew is at most five Altinn calls in a row.
		OpTimeout: 5*cfg.AltinnTimeout + 10*time.Second,
		Schedule:  jobs.Schedule{Waiting: cfg.ReconcileSchedule, Connected: cfg.RevokeSweepInterval},
		// Usability: a system-user token proves a connected customer usable.
		Tokens: a.Maskinporten,
	}
	var redeliver handlers.Redeliverer
	var mailPages *handlers.MailPages
	if store != nil {
		if a.Mail, mailPages, err = newMail(cfg, store, log); err != nil {
			return nil, err
		}
		a.Webhooks = newWebhookWorker(cfg, store, a.Metrics, log)
		a.CampaignRunner = &campaigns.Runner{DB: store, Onboardings: a.Onboardings, Log: log,
			MaxAttempts: 5, Backoff: 10 * time.Second, MaxBackoff: 5 * time.Minute,
			Changes: campaigns.ServiceChanger{DB: store, Onboardings: a.Onboardings}}
		var clientWorker *clientflow.Worker
		if cfg.IDPorten.On() {
			if a.Clients, err = newClients(cfg, key, store, a.Altinn, log); err != nil {
				return nil, err
			}
			clientWorker = &clientflow.Worker{S: a.Clients}
		}
		// Clients added or removed in Altinn's portal are noticed by the
		// reconciler, with or without the ID-porten login (clients.Portal).
		portalRec := a.Clients
		if portalRec == nil {
			portalRec = &clientflow.Service{DB: store, Log: log}
		}
		var clientsPortal jobs.ClientsPortal
		if a.Maskinporten != nil && a.Altinn != nil {
			clientsPortal = &clientflow.Portal{S: portalRec, Tokens: a.Maskinporten, Altinn: a.Altinn}
		}
		a.Jobs, err = jobs.NewClient(jobs.Config{
			DB: store, Onboardings: a.Onboardings,
			Schedule:      jobs.Schedule{Waiting: cfg.ReconcileSchedule, Connected: cfg.RevokeSweepInterval},
			SweepInterval: cfg.SweepInterval, OpTimeout: a.Onboardings.OpTimeout, Workers: cfg.JobWorkers,
			StopTimeout: JobStopTimeout, AltinnNotBefore: a.Onboardings.NotBefore, Log: log,
			Webhooks: a.Webhooks, Campaigns: a.CampaignRunner, CampaignKick: cfg.CampaignKick,
			WebhookRetention: cfg.WebhookRetention, Mail: a.Mail, Clients: clientWorker,
			ClientsPortal: clientsPortal,
		})
		if err != nil {
			return nil, err
		}
		if a.Clients != nil {
			a.Clients.Jobs = a.Jobs
		}
		// The onboarding service writes every change's event, with its
		// deliveries, in the change's own transaction; without URLs the
		// outbox stores nothing.
		a.Outbox = &webhooks.Outbox{URLs: cfg.WebhookURLs, Jobs: a.Jobs, DB: store}
		a.Onboardings.Outbox = a.Outbox
		portalRec.Events = a.Outbox // client.delegated, client.removed
		if len(cfg.WebhookURLs) > 0 {
			redeliver = a.Outbox
		}
		a.Campaigns = &campaigns.Service{DB: store, Jobs: a.Jobs, Products: cfg.Products,
			Concurrency: cfg.CampaignConcurrency, Rate: cfg.CampaignRate,
			Lacking: func(ctx context.Context, p config.Product) ([]string, error) {
				return store.OnboardingsLacking(ctx, p.ID, p.Rights, p.AccessPackages)
			}}
		a.Metrics.MustRegister(newStoreCollector(store, log))
	}
	sessionKey, err := sessionKey(cfg)
	if err != nil {
		return nil, err
	}
	verifier, err := newHandoff(cfg, store)
	if err != nil {
		return nil, err
	}
	h := &handlers.Handler{
		Onboardings: a.Onboardings, Store: store, Products: cfg.Products, Vendor: cfg.Vendor, VendorURL: cfg.VendorURL,
		Sim: cfg.AltinnEnv == config.EnvSim, Dev: cfg.Dev, SessionKey: sessionKey, ConfirmHosts: cfg.ConfirmHosts,
		AltinnPortalURL: cfg.AltinnPortalURL, SubmitPerMinute: cfg.SubmitRateLimit, BehindProxy: cfg.BehindProxy, Log: log,
		MinRefreshInterval: cfg.RefreshInterval, StaffSessionTTL: cfg.StaffSessionTTL, StaffResetTTL: cfg.StaffResetTTL,
		Dashboard: store, Insights: store, Problems: store,
		Staff: store,
		Ready: readiness(store), Metrics: metrics.Handler(a.Metrics, log), MetricsToken: cfg.MetricsToken,
		MetricsOpen: cfg.Dev || cfg.MetricsOpen,
		Requests:    metrics.NewHTTP(a.Metrics), WebhookLog: store, Redeliver: redeliver, Handoff: verifier,
		APIKeys: store, PublicURL: cfg.PublicURL, Brand: cfg.Brand, ClientRows: store,
		CampaignConcurrency: cfg.CampaignConcurrency, CampaignRate: cfg.CampaignRate,
		Setup: a.Setup,
		// Customers see Altinn's names and descriptions of what they grant.
		Grants: grants.New(a.Metadata, log),
	}
	if a.Campaigns != nil {
		h.Campaigns, h.CampaignStore = a.Campaigns, store
	}
	if a.Clients != nil {
		h.Clients, h.IDPortenIssuer = a.Clients, cfg.IDPorten.Issuer
	}
	h.Mail = mailPages
	if cfg.BrregURL != "" {
		a.Register = brreg.New(cfg.BrregURL, &http.Client{Timeout: cfg.BrregTimeout})
		a.Register.Timeout = cfg.BrregTimeout
		h.Register = a.Register
	}
	a.Web = handlers.New(h)
	return a, nil
}

// newClients builds the accountant's flow: the ID-porten client (its key,
// or in the simulator the dev key the simulator knows), the Altinn client's
// person calls, and the box that seals logins with the session key.
func newClients(cfg *config.Config, key *rsa.PrivateKey, store *db.DB, alt *altinn.Client, log *slog.Logger) (*clientflow.Service, error) {
	p := cfg.IDPorten
	ic := idporten.Config{Issuer: p.Issuer, ClientID: p.ClientID, RedirectURL: p.RedirectURL, ACR: p.ACR,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}}
	k, err := idportenKey(cfg, key)
	if err != nil {
		return nil, err
	}
	if k != nil {
		ic.Key, ic.KeyID = k, p.KID
	} else {
		ic.ClientSecret = idporten.Secret(p.ClientSecret)
	}
	svc := &clientflow.Service{DB: store, Altinn: alt, Log: log}
	// One clock for the flow and its logins (tests move it).
	ic.Now = svc.Time
	idp, err := idporten.New(ic)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	sk, err := sessionKey(cfg)
	if err != nil {
		return nil, err
	}
	if svc.Box, err = sealed.New(sk, "person login"); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	svc.IDPorten = idp
	return svc, nil
}

// idportenKey is the key that signs the ID-porten client's assertions:
// ONBOARD_IDPORTEN_KEY, or in the simulator the dev Maskinporten key; nil
// when the client authenticates with a secret.
func idportenKey(cfg *config.Config, key *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	switch {
	case len(cfg.IDPorten.KeyPEM) > 0:
		k, err := maskinporten.ParsePrivateKeyPEM(cfg.IDPorten.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("app: ONBOARD_IDPORTEN_KEY_FILE: %w", err)
		}
		return k, nil
	case len(cfg.IDPorten.ClientSecret) == 0 && cfg.AltinnEnv == config.EnvSim:
		return key, nil
	}
	return nil, nil
}

// JobStopTimeout is how long a stopping instance lets running jobs finish
// before their contexts are cancelled.
const JobStopTimeout = 15 * time.Second

// readiness is the /readyz check: the database answers and its schema is
// current. Without a database nothing is ready.
func readiness(store *db.DB) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if store == nil {
			return errors.New("app: no database")
		}
		return store.Ready(ctx)
	}
}

// signingKey is the configured Maskinporten key, or in sim mode a dev key
// generated on first start and kept in the data folder.
func signingKey(cfg *config.Config, log *slog.Logger) (*rsa.PrivateKey, error) {
	if len(cfg.MaskinportenKeyPEM) > 0 {
		k, err := maskinporten.ParsePrivateKeyPEM(cfg.MaskinportenKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("app: ONBOARD_MASKINPORTEN_KEY_FILE: %w", err)
		}
		return k, nil
	}
	k, created, err := maskinporten.LoadOrCreateKey(cfg.KeyPath())
	if err != nil {
		return nil, fmt.Errorf("app: dev key: %w", err)
	}
	if created {
		log.Info("generated a dev Maskinporten key for the simulator", "path", cfg.KeyPath())
	}
	return k, nil
}

func newSim(cfg *config.Config, key *rsa.PrivateKey, log *slog.Logger) (*sim.Server, error) {
	seed, err := SimSeed(cfg)
	if err != nil {
		return nil, err
	}
	if len(cfg.SimBreak) > 0 {
		log.Warn("simulator started misconfigured on purpose (ONBOARD_SIM_BREAK)", "component", "sim",
			"breaks", strings.Join(cfg.SimBreak, ","))
	}
	s, err := sim.New(sim.Config{PublicURL: cfg.SimPublicURL, Seed: seed, TimeoutMode: cfg.SimTimeouts,
		StatePath: cfg.SimStateFile,
		Logf:      func(f string, args ...any) { log.Debug(fmt.Sprintf(f, args...), "component", "sim") }})
	if err != nil {
		return nil, fmt.Errorf("app: simulator: %w", err)
	}
	LogSimState(log, s)
	if err := RegisterWithSim(s, cfg, &key.PublicKey); err != nil {
		return nil, err
	}
	if missing := SimMissingSystems(s, cfg); len(missing) > 0 {
		log.Warn("the simulator's system register lacks the products' systems: onboard system apply registers them",
			"component", "sim", "systems", strings.Join(missing, ","))
	}
	return s, nil
}

// LogSimState says in the log where the simulator keeps its state and what
// it found there at start.
func LogSimState(log *slog.Logger, s *sim.Server) {
	info := s.StateInfo()
	switch {
	case info.Path == "":
		log.Info("simulator state in memory only: a restart forgets it", "component", "sim")
	case info.Restored:
		log.Info("simulator state restored", "component", "sim", "file", info.Path,
			"requests", info.Requests, "system_users", info.SystemUsers, "change_requests", info.ChangeRequests)
		if info.SeedChanged {
			log.Warn("simulator seed changed since the state was saved: its systems replace the saved ones",
				"component", "sim", "file", info.Path)
		}
	default:
		log.Info("simulator state kept", "component", "sim", "file", info.Path)
	}
}

// RegisterWithSim does in the simulator what a vendor does in Altinn: it
// registers its Maskinporten client, under the vendor organisation the
// products' system ids start with, with the vendor scopes and every product's
// system-user scopes, and puts the client id and the return URL on every
// product's system the simulator's register has. A system it lacks is left
// for `onboard system apply` to register (SimMissingSystems lists them). It
// runs at every start, also on a restored state, and changes nothing that is
// already so. ONBOARD_SIM_BREAK leaves steps out or undoes them
// (config.SimBreaks; "system" and "right" are applied to the seed by
// SimSeed). Products whose system ids start with different organisation
// numbers are refused: the one client belongs to one organisation.
func RegisterWithSim(s *sim.Server, cfg *config.Config, pub *rsa.PublicKey) error {
	br, err := parseSimBreaks(cfg)
	if err != nil {
		return err
	}
	vendorOrg, err := simVendorOrg(cfg)
	if err != nil {
		return err
	}
	err = s.AddClient(sim.Client{
		ClientID: cfg.MaskinportenClientID, OrgNo: vendorOrg, KeyID: cfg.MaskinportenKID,
		PublicKeyPEM: string(maskinporten.PublicKeyPEM(pub)),
		Scopes:       simClientScopes(cfg, br),
	})
	if err != nil {
		return fmt.Errorf("app: simulator client: %w", err)
	}
	seen := map[string]bool{}
	for _, p := range cfg.Products {
		if seen[p.SystemID] || br.system {
			continue
		}
		seen[p.SystemID] = true
		if _, ok := s.System(p.SystemID); !ok {
			continue
		}
		if br.redirect {
			err = s.RemoveRedirectURL(p.SystemID, cfg.ReturnURL())
		} else {
			err = s.AddRedirectURL(p.SystemID, cfg.ReturnURL())
		}
		if err != nil {
			return fmt.Errorf("app: simulator redirect URL: %w", err)
		}
		if br.clientID {
			err = s.RemoveClientID(p.SystemID, cfg.MaskinportenClientID)
		} else {
			err = s.AddClientID(p.SystemID, cfg.MaskinportenClientID)
		}
		if err != nil {
			return fmt.Errorf("app: simulator client id: %w", err)
		}
	}
	s.SetMaskinportenClockOffset(br.clock)
	if cfg.IDPorten.On() {
		if err := registerIDPortenWithSim(s, cfg, pub); err != nil {
			return err
		}
	}
	return nil
}

// registerIDPortenWithSim registers the service's ID-porten client with
// the simulated ID-porten, as a vendor does in Digdir's self-service: its
// redirect URL and its key (the dev key's public half, or that of
// ONBOARD_IDPORTEN_KEY), or its secret.
func registerIDPortenWithSim(s *sim.Server, cfg *config.Config, pub *rsa.PublicKey) error {
	p := cfg.IDPorten
	c := sim.DevIDPortenClient(cfg.PublicURL, p.KID, "")
	c.ClientID, c.RedirectURIs = p.ClientID, []string{p.RedirectURL}
	switch {
	case len(p.KeyPEM) > 0:
		k, err := maskinporten.ParsePrivateKeyPEM(p.KeyPEM)
		if err != nil {
			return fmt.Errorf("app: ONBOARD_IDPORTEN_KEY_FILE: %w", err)
		}
		c.PublicKeyPEM = string(maskinporten.PublicKeyPEM(&k.PublicKey))
	case len(p.ClientSecret) > 0:
		c.AuthMethod, c.KeyID, c.Secret = sim.AuthClientSecretPost, "", string(p.ClientSecret)
	default:
		c.PublicKeyPEM = string(maskinporten.PublicKeyPEM(pub))
	}
	if err := s.AddIDPortenClient(c); err != nil {
		return fmt.Errorf("app: simulator ID-porten client: %w", err)
	}
	return nil
}

// simVendorOrg is the organisation number the products' system ids start
// with ("<vendor orgno>_<name>", contract §2): the organisation of the
// simulator's Maskinporten client.
func simVendorOrg(cfg *config.Config) (string, error) {
	var orgs, ids []string
	for _, p := range cfg.Products {
		org, _, ok := strings.Cut(p.SystemID, "_")
		if !ok || len(org) != 9 || strings.Trim(org, "0123456789") != "" {
			return "", fmt.Errorf("app: simulator: system id %q is not <orgno>_<name>", p.SystemID)
		}
		if !slices.Contains(orgs, org) {
			orgs = append(orgs, org)
			ids = append(ids, p.SystemID)
		}
	}
	switch len(orgs) {
	case 0:
		return "", errors.New("app: simulator: no product names a system")
	case 1:
		return orgs[0], nil
	}
	return "", fmt.Errorf("app: simulator: the products' system ids start with different organisation numbers (%s), "+
		"but the service has one Maskinporten client, which belongs to one organisation: give every product a system id "+
		"of the same vendor (systemId in ONBOARD_PRODUCTS, or ONBOARD_SYSTEM_ID)", strings.Join(ids, ", "))
}

// SimMissingSystems are the products' systems the simulator's system register
// does not have, each once: `onboard doctor` reports them as not registered
// and `onboard system apply` can register them.
func SimMissingSystems(s *sim.Server, cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Products {
		if _, ok := s.System(p.SystemID); !ok && !slices.Contains(out, p.SystemID) {
			out = append(out, p.SystemID)
		}
	}
	return out
}

// sessionKey is the configured key, or in dev one generated once and kept in
// the data folder so restarts keep customers' cookies valid.
func sessionKey(cfg *config.Config) ([]byte, error) {
	if len(cfg.SessionKey) > 0 {
		return cfg.SessionKey, nil
	}
	path := filepath.Join(cfg.DataDir, "session.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("app: session key: %w", err)
	}
	return b, nil
}

// newHandoff builds the verifier of the vendor product's signed /start
// tokens, or nil (and a nil interface) when no hand-off key is configured.
func newHandoff(cfg *config.Config, store *db.DB) (handlers.HandoffVerifier, error) {
	if !cfg.HandoffEnabled() || store == nil {
		return nil, nil
	}
	ids := make([]string, 0, len(cfg.Products))
	for _, p := range cfg.Products {
		ids = append(ids, p.ID)
	}
	v, err := handoff.New(handoff.Config{
		HS256Secret: cfg.HandoffHS256Secret, PublicKeyPEM: cfg.HandoffPublicKeyPEM,
		ReturnHosts: cfg.HandoffReturnHosts, MaxAge: cfg.HandoffMaxAge, Audience: cfg.PublicURL,
		Products: ids, Dev: cfg.Dev, JTIs: store,
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return v, nil
}
