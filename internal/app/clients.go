package app

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/setup"
)

// ClientSet is what talks to Altinn and Maskinporten for one configuration:
// the service builds it in Build, and `onboard doctor` and `onboard system`
// build only this (no database, no simulator of their own).
type ClientSet struct {
	Maskinporten *maskinporten.Client
	Altinn       *altinn.Client
	// Metadata reads Altinn's anonymous access-package metadata.
	Metadata *altinn.Metadata
}

// Transports carry the clients' HTTP requests: the service measures every
// call there (its metrics). A nil one is http.DefaultTransport.
type Transports struct {
	// Altinn carries the Altinn client's and the metadata client's requests.
	Altinn http.RoundTripper
	// Maskinporten carries the token requests.
	Maskinporten http.RoundTripper
}

// Clients builds the Maskinporten, Altinn and metadata clients of cfg,
// signing grants with key, over the transports t. It does no I/O.
func Clients(cfg *config.Config, key *rsa.PrivateKey, t Transports) (*ClientSet, error) {
	mp, err := maskinporten.New(maskinporten.Config{
		Issuer: cfg.MaskinportenIssuer, ClientID: cfg.MaskinportenClientID, KeyID: cfg.MaskinportenKID, Key: key,
		// A token fetch is part of an Altinn call: it waits no longer than one.
		HTTPClient: &http.Client{Timeout: min(10*time.Second, cfg.AltinnTimeout), Transport: t.Maskinporten},
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return &ClientSet{
		Maskinporten: mp,
		Altinn:       altinn.New(cfg.AltinnBaseURL, mp, &http.Client{Timeout: cfg.AltinnTimeout, Transport: t.Altinn}),
		Metadata:     altinn.NewMetadata(cfg.AltinnBaseURL, &http.Client{Timeout: cfg.AltinnTimeout, Transport: t.Altinn}),
	}, nil
}

// Setup is the set-up checks and the system register's plans of cfg over
// these clients.
func (c *ClientSet) Setup(cfg *config.Config, key *rsa.PrivateKey) *setup.Service {
	return &setup.Service{Config: cfg, Key: key, Tokens: c.Maskinporten, Register: c.Altinn, Packages: c.Metadata}
}

// ErrNoDevKey means there is no dev key in the data folder: in sim mode the
// commands that talk to a running service's simulator need the key that
// service made.
var ErrNoDevKey = errors.New("no dev Maskinporten key")

// ExistingKey returns the configured Maskinporten key or, in sim mode, the
// dev key a running `make run` made in the data folder. Unlike the service,
// it never makes one: a new key would be unknown to that simulator. A
// missing dev key is ErrNoDevKey.
func ExistingKey(cfg *config.Config) (*rsa.PrivateKey, error) {
	if len(cfg.MaskinportenKeyPEM) > 0 {
		k, err := maskinporten.ParsePrivateKeyPEM(cfg.MaskinportenKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("ONBOARD_MASKINPORTEN_KEY_FILE: %w", err)
		}
		return k, nil
	}
	if cfg.AltinnEnv != config.EnvSim {
		return nil, errors.New("ONBOARD_MASKINPORTEN_KEY_FILE is not set")
	}
	b, err := os.ReadFile(cfg.KeyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoDevKey, cfg.KeyPath())
	}
	if err != nil {
		return nil, fmt.Errorf("dev key: %w", err)
	}
	k, err := maskinporten.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("dev key %s: %w", cfg.KeyPath(), err)
	}
	return k, nil
}

// SetupFor builds what `onboard doctor` and `onboard system` need for cfg:
// the clients and the set-up service over them. A key that cannot be loaded
// (or clients that cannot be built with it) is not an error here: the
// service's KeyErr says why, its key check reports it, its other checks
// still run, and the clients are nil.
func SetupFor(cfg *config.Config) (*setup.Service, *ClientSet) {
	key, err := ExistingKey(cfg)
	if err != nil {
		return &setup.Service{Config: cfg, KeyErr: err}, nil
	}
	c, err := Clients(cfg, key, Transports{})
	if err != nil {
		return &setup.Service{Config: cfg, KeyErr: err}, nil
	}
	return c.Setup(cfg, key), c
}
