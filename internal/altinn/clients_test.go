package altinn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/idporten"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/sim/simtest"
)

const (
	firm     = "310000019"   // Fjellheim Regnskap AS in the simulator's seed
	kari     = "15838540063" // its klientadministrator
	ola      = "11886840073" // works there without a role
	vera     = "24917240082" // klientadministrator at another firm
	vendor   = "991825827"
	systemID = vendor + "_smartcloud"
	callback = "https://onboard.example/idporten/callback"
)

// clientsWorld is the simulator over HTTP with the vendor's Maskinporten
// client and an ID-porten client, an approved agent system user at the
// firm, and a logged-in person's way to an Altinn token.
type clientsWorld struct {
	t      *testing.T
	altinn *altinn.Client
	idp    *idporten.Client
	agent  string
}

func newClientsWorld(t *testing.T) *clientsWorld {
	t.Helper()
	s, ts := simtest.Start(t, sim.Config{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err := s.AddClient(sim.Client{ClientID: "vendor", OrgNo: vendor, KeyID: "mp", PublicKeyPEM: pub,
		Scopes: []string{altinn.ScopeRequestWrite, altinn.ScopeRequestRead}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRedirectURL(systemID, "https://onboard.example/return"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIDPortenClient(sim.IDPortenClient{ClientID: "onboard", RedirectURIs: []string{callback}, KeyID: "idp", PublicKeyPEM: pub}); err != nil {
		t.Fatal(err)
	}
	mp, err := maskinporten.New(maskinporten.Config{Issuer: s.Issuer(), ClientID: "vendor", KeyID: "mp", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	a := altinn.New(ts.URL, mp, ts.Client())
	req, _, err := a.CreateAgentRequest(context.Background(), altinn.CreateAgentRequest{SystemID: systemID, PartyOrgNo: firm,
		AccessPackages: []altinn.AccessPackage{{URN: "urn:altinn:accesspackage:regnskapsforer-lonn"}},
		RedirectURL:    "https://onboard.example/return"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Approve(req.ID); err != nil {
		t.Fatal(err)
	}
	idp, err := idporten.New(idporten.Config{Issuer: s.IDPortenIssuer(), ClientID: "onboard", RedirectURL: callback, Key: key, KeyID: "idp",
		HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return &clientsWorld{t: t, altinn: a, idp: idp, agent: req.ID}
}

// personToken logs pid in at ID-porten and exchanges the access token.
func (w *clientsWorld) personToken(pid string) altinn.PersonToken {
	w.t.Helper()
	ctx := context.Background()
	authURL, pend, err := w.idp.Begin(ctx, "nb")
	if err != nil {
		w.t.Fatal(err)
	}
	login, err := w.idp.Complete(ctx, pend, simtest.PickPerson(w.t, authURL, pid).Query())
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := w.altinn.ExchangeIDPorten(ctx, login.AccessToken.Reveal())
	if err != nil {
		w.t.Fatal(err)
	}
	if !tok.Valid(time.Now()) || tok.Expiry.After(login.Expiry.Add(time.Second)) {
		w.t.Fatalf("the Altinn token expires %v; the ID-porten token %v", tok.Expiry, login.Expiry)
	}
	return tok
}

func problemCode(err error) (int, string) {
	var p *altinn.Problem
	if errors.As(err, &p) {
		return p.Status, p.SpecificCode()
	}
	return 0, ""
}

// TestClientDelegationJourney: the client administrator lists the firm's
// agent system users and available clients, adds one, sees it delegated,
// adds it again (stored once), removes it, and removing it again is
// Altinn's AUTH-00038.
func TestClientDelegationJourney(t *testing.T) {
	t.Parallel()
	w := newClientsWorld(t)
	ctx := context.Background()
	tok := w.personToken(kari)
	if s := fmt.Sprintf("%v %+v %#v", tok, tok, tok); strings.Contains(s, "eyJ") {
		t.Errorf("the person's token prints: %s", s)
	}

	agents, err := w.altinn.Agents(ctx, tok, firm)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].ID != w.agent || agents[0].UserType != "agent" || agents[0].SystemID != systemID {
		t.Fatalf("agents: %+v", agents)
	}
	avail, err := w.altinn.AvailableClients(ctx, tok, w.agent)
	if err != nil {
		t.Fatal(err)
	}
	if len(avail.Data) < 200 || avail.SystemUser.ID != w.agent || avail.SystemUser.OwnerOrg != firm {
		t.Fatalf("available: %d clients, %+v", len(avail.Data), avail.SystemUser)
	}
	first := avail.Data[0]
	if first.ID == "" || len(first.OrgNo) != 9 || first.OrgName == "" {
		t.Fatalf("first client %+v", first)
	}
	if err := w.altinn.AddClient(ctx, tok, w.agent, first.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.altinn.AddClient(ctx, tok, w.agent, first.ID); err != nil {
		t.Fatalf("adding it again: %v", err)
	}
	got, err := w.altinn.DelegatedClients(ctx, tok, w.agent)
	if err != nil || len(got.Data) != 1 || got.Data[0] != first {
		t.Fatalf("delegated: %+v, %v", got, err)
	}
	if err := w.altinn.RemoveClient(ctx, tok, w.agent, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, code := problemCode(w.altinn.RemoveClient(ctx, tok, w.agent, first.ID)); code != "AUTH-00038" {
		t.Errorf("removing it again: code %q, want AUTH-00038", code)
	}
	if got, err := w.altinn.DelegatedClients(ctx, tok, w.agent); err != nil || len(got.Data) != 0 {
		t.Fatalf("delegated after the removal: %+v, %v", got, err)
	}
}

// TestClientDelegationRefusals: who may not, and what may not be added.
func TestClientDelegationRefusals(t *testing.T) {
	t.Parallel()
	w := newClientsWorld(t)
	ctx := context.Background()
	kariTok := w.personToken(kari)
	notFirms := "00000000-0000-4000-8000-000000000001"
	tests := []struct {
		name       string
		call       func() error
		status     int
		code       string
		unexpected bool
	}{
		{"a person without the role", func() error {
			_, err := w.altinn.AvailableClients(ctx, w.personToken(ola), w.agent)
			return err
		}, http.StatusForbidden, "", false},
		{"another firm's administrator", func() error {
			return w.altinn.AddClient(ctx, w.personToken(vera), w.agent, notFirms)
		}, http.StatusForbidden, "", false},
		{"not the firm's client", func() error { return w.altinn.AddClient(ctx, kariTok, w.agent, notFirms) }, http.StatusBadRequest, "AUTH-00079", false},
		{"no such system user", func() error {
			_, err := w.altinn.DelegatedClients(ctx, kariTok, "00000000-0000-4000-8000-00000000000f")
			return err
		}, http.StatusBadRequest, "AUTH.VLD-00014", false},
	}
	for _, tt := range tests {
		status, code := problemCode(tt.call())
		if status != tt.status || code != tt.code {
			t.Errorf("%s: %d %q, want %d %q", tt.name, status, code, tt.status, tt.code)
		}
	}
	// No person's token: nothing is sent, and the vendor's own never stands in.
	if err := w.altinn.AddClient(ctx, altinn.PersonToken{}, w.agent, notFirms); !errors.Is(err, altinn.ErrNoPersonToken) {
		t.Errorf("without a person's token: %v", err)
	}
	if _, err := w.altinn.ExchangeIDPorten(ctx, "not-a-token"); err == nil {
		t.Error("a made-up ID-porten token was exchanged")
	}
}
