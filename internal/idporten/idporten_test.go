package idporten_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/idporten"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/sim/simtest"
)

const (
	redirect = "https://onboard.example/idporten/callback"
	kari     = "15838540063" // klientadministrator at Fjellheim Regnskap (the sim's seed)
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func testKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

// newSim starts the simulator over HTTP with two ID-porten clients of
// ours: one with private_key_jwt, one with client_secret_post.
func newSim(t *testing.T) (issuer string) {
	t.Helper()
	s, _ := simtest.Start(t, sim.Config{})
	der, err := x509.MarshalPKIXPublicKey(&testKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	for _, c := range []sim.IDPortenClient{
		{ClientID: "onboard-test", RedirectURIs: []string{redirect}, KeyID: "k1", PublicKeyPEM: pub},
		{ClientID: "onboard-secret", RedirectURIs: []string{redirect}, AuthMethod: "client_secret_post", Secret: "s3cret-s3cret-s3cret"},
	} {
		if err := s.AddIDPortenClient(c); err != nil {
			t.Fatal(err)
		}
	}
	return s.IDPortenIssuer()
}

func newClient(t *testing.T, issuer string, edit ...func(*idporten.Config)) *idporten.Client {
	t.Helper()
	cfg := idporten.Config{Issuer: issuer, ClientID: "onboard-test", RedirectURL: redirect, Key: testKey(t), KeyID: "k1"}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := idporten.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pick is the person's choice at the simulated ID-porten: the query it
// sends back to our redirect URI.
func pick(t *testing.T, authURL, pid string) url.Values {
	t.Helper()
	back := simtest.PickPerson(t, authURL, pid)
	if !strings.HasPrefix(back.String(), redirect) {
		t.Fatalf("sent back to %s, not our redirect URI", back)
	}
	return back.Query()
}

func TestLoginWithPKCEAndPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	issuer := newSim(t)
	c := newClient(t, issuer)
	ctx := context.Background()
	authURL, pend, err := c.Begin(ctx, "nn")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(authURL)
	for k, want := range map[string]string{"response_type": "code", "client_id": "onboard-test", "redirect_uri": redirect,
		"code_challenge_method": "S256", "acr_values": idporten.LevelSubstantial, "ui_locales": "nn", "state": pend.State, "nonce": pend.Nonce} {
		if got := q.Query().Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	if q.Query().Get("code_challenge") == "" || strings.Contains(authURL, pend.Verifier.Reveal()) {
		t.Error("the challenge is missing or the verifier itself is in the URL")
	}
	login, err := c.Complete(ctx, pend, pick(t, authURL, kari))
	if err != nil {
		t.Fatal(err)
	}
	if login.PID.Reveal() != kari || login.ACR != idporten.LevelSubstantial || login.Subject == "" || login.Subject == kari ||
		login.AccessToken.Reveal() == "" || !login.Expiry.After(time.Now()) || !strings.Contains(login.Scope, "altinn:clientdelegations.write") {
		t.Fatalf("login: %+v", login)
	}
	// The secrets never print.
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("login", "login", login, "token", login.AccessToken, "pending", pend)
	printed := fmt.Sprintf("%v %+v %#v %s", login, login, login, logged.String())
	for _, secret := range []string{login.AccessToken.Reveal(), kari, pend.Verifier.Reveal()} {
		if strings.Contains(printed, secret) {
			t.Errorf("a secret was printed: %s", printed)
		}
	}
}

func TestLoginWithClientSecret(t *testing.T) {
	t.Parallel()
	issuer := newSim(t)
	c := newClient(t, issuer, func(cfg *idporten.Config) {
		cfg.ClientID, cfg.Key, cfg.KeyID, cfg.ClientSecret = "onboard-secret", nil, "", "s3cret-s3cret-s3cret"
	})
	authURL, pend, err := c.Begin(context.Background(), "nb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(context.Background(), pend, pick(t, authURL, kari)); err != nil {
		t.Fatal(err)
	}
}

// TestLoginsThatFail: each bad answer is refused with the error the page
// tells apart, and no login comes of it.
func TestLoginsThatFail(t *testing.T) {
	t.Parallel()
	issuer := newSim(t)
	ctx := context.Background()
	later := time.Now().Add(idporten.MaxPending + time.Minute)
	tests := []struct {
		name   string
		client func(*idporten.Config)
		pid    string
		edit   func(p *idporten.Pending, q url.Values)
		want   error
	}{
		{name: "another state", pid: kari, edit: func(_ *idporten.Pending, q url.Values) { q.Set("state", "forged") }, want: idporten.ErrState},
		{name: "no login begun", pid: kari, edit: func(p *idporten.Pending, _ url.Values) { *p = idporten.Pending{} }, want: idporten.ErrState},
		{name: "another issuer", pid: kari, edit: func(_ *idporten.Pending, q url.Values) { q.Set("iss", "https://evil.example") }, want: idporten.ErrState},
		{name: "cancelled", pid: "", want: idporten.ErrCancelled},
		{name: "another nonce", pid: kari, edit: func(p *idporten.Pending, _ url.Values) { p.Nonce = "other" }, want: idporten.ErrToken},
		{name: "another verifier", pid: kari, edit: func(p *idporten.Pending, _ url.Values) { p.Verifier = "x" + p.Verifier }, want: idporten.ErrToken},
		{name: "a made-up code", pid: kari, edit: func(_ *idporten.Pending, q url.Values) { q.Set("code", "made-up") }, want: idporten.ErrToken},
		{name: "no code", pid: kari, edit: func(_ *idporten.Pending, q url.Values) { q.Del("code") }, want: idporten.ErrToken},
		{name: "too slow", pid: kari, client: func(c *idporten.Config) { c.Now = func() time.Time { return later } }, want: idporten.ErrExpired},
		{name: "level too low", pid: kari, client: func(c *idporten.Config) { c.ACR = idporten.LevelHigh }, want: idporten.ErrLevel},
		{name: "another client's key", pid: kari, client: func(c *idporten.Config) {
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			c.Key = k
		}, want: idporten.ErrToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Begun at substantial by the usual client; completed by the
			// client under test.
			authURL, pend, err := newClient(t, issuer).Begin(ctx, "nb")
			if err != nil {
				t.Fatal(err)
			}
			q := pick(t, authURL, tt.pid)
			if tt.edit != nil {
				tt.edit(&pend, q)
			}
			var edits []func(*idporten.Config)
			if tt.client != nil {
				edits = append(edits, tt.client)
			}
			login, err := newClient(t, issuer, edits...).Complete(ctx, pend, q)
			t.Log(err)
			if !errors.Is(err, tt.want) || login != nil {
				t.Fatalf("Complete = %v, %v; want %v", login, err, tt.want)
			}
		})
	}
}

// TestACodeWorksOnce: the browser's answer replayed gets nothing.
func TestACodeWorksOnce(t *testing.T) {
	t.Parallel()
	issuer := newSim(t)
	c := newClient(t, issuer)
	authURL, pend, err := c.Begin(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	q := pick(t, authURL, kari)
	if _, err := c.Complete(context.Background(), pend, q); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(context.Background(), pend, q); !errors.Is(err, idporten.ErrToken) {
		t.Fatalf("a replayed code: %v, want ErrToken", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	good := idporten.Config{Issuer: "https://test.idporten.no", ClientID: "c", RedirectURL: redirect, ClientSecret: "s"}
	for name, edit := range map[string]func(*idporten.Config){
		"no issuer":       func(c *idporten.Config) { c.Issuer = "" },
		"trailing slash":  func(c *idporten.Config) { c.Issuer += "/" },
		"no client":       func(c *idporten.Config) { c.ClientID = "" },
		"no redirect":     func(c *idporten.Config) { c.RedirectURL = "" },
		"no credentials":  func(c *idporten.Config) { c.ClientSecret = "" },
		"key without kid": func(c *idporten.Config) { c.ClientSecret, c.Key = "", testKey(t) },
		"unknown acr":     func(c *idporten.Config) { c.ACR = "level4" },
	} {
		cfg := good
		edit(&cfg)
		if _, err := idporten.New(cfg); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
	if _, err := idporten.New(good); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

// TestRefresh: a login's refresh token gets a new access token and a new
// refresh token, with a key or a secret; ID-porten spends the old one, so
// using it again (or none) is ErrToken.
func TestRefresh(t *testing.T) {
	t.Parallel()
	issuer := newSim(t)
	for name, edit := range map[string]func(*idporten.Config){
		"private_key_jwt": func(*idporten.Config) {},
		"client_secret_post": func(cfg *idporten.Config) {
			cfg.ClientID, cfg.Key, cfg.KeyID, cfg.ClientSecret = "onboard-secret", nil, "", "s3cret-s3cret-s3cret"
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, issuer, edit)
			ctx := context.Background()
			authURL, pend, err := c.Begin(ctx, "nb")
			if err != nil {
				t.Fatal(err)
			}
			login, err := c.Complete(ctx, pend, pick(t, authURL, kari))
			if err != nil || login.RefreshToken == "" {
				t.Fatalf("login: %+v, %v", login, err)
			}
			if s := fmt.Sprintf("%v %+v", login, login); strings.Contains(s, login.RefreshToken.Reveal()) {
				t.Error("the refresh token was printed")
			}
			next, err := c.Refresh(ctx, login.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if next.AccessToken == "" || next.AccessToken == login.AccessToken || next.RefreshToken == "" ||
				next.RefreshToken == login.RefreshToken || !next.Expiry.After(time.Now()) || !strings.Contains(next.Scope, "altinn:clientdelegations.write") {
				t.Fatalf("refreshed: %+v", next)
			}
			if _, err := c.Refresh(ctx, login.RefreshToken); !errors.Is(err, idporten.ErrToken) {
				t.Errorf("a spent refresh token: %v, want ErrToken", err)
			}
			if _, err := c.Refresh(ctx, ""); !errors.Is(err, idporten.ErrToken) {
				t.Errorf("no refresh token: %v, want ErrToken", err)
			}
			if _, err := c.Refresh(ctx, next.RefreshToken); err != nil {
				t.Errorf("the new refresh token: %v", err)
			}
		})
	}
}
