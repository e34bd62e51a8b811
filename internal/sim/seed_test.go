package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidOrgNo(t *testing.T) {
	for _, tt := range []struct {
		orgNo string
		want  bool
	}{
		{"314248295", true},
		{"991825827", true},
		{"123456785", true},
		{"123456789", false},
		{"310000060", false}, // check digit would be 10
		{"31424829", false},
		{"31424829a", false},
		{"", false},
	} {
		if got := validOrgNo(tt.orgNo); got != tt.want {
			t.Errorf("validOrgNo(%q) = %v", tt.orgNo, got)
		}
	}
}

func TestDefaultSeed(t *testing.T) {
	seed := DefaultSeed()
	if err := seed.validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range seed.Orgs {
		if !validOrgNo(o.OrgNo) {
			t.Errorf("%s %s has an invalid check digit", o.OrgNo, o.Name)
		}
	}
	if len(seed.Clients) != 0 || !seed.AnyValidOrg || len(seed.Systems) != 1 || seed.Systems[0].ID != systemID {
		t.Errorf("seed %+v", seed)
	}
}

func TestLoadSeed(t *testing.T) {
	dir := t.TempDir()
	want := DefaultSeed()
	want.Systems[0].AllowedRedirectURLs = []string{"https://vendor.example/return"}
	want.Clients = []Client{{ClientID: "c", OrgNo: vendorOrg, KeyID: "k", PublicKeyPEM: publicPEM(t, &testKey().PublicKey), Scopes: []string{ScopeRequestRead}}}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"clientIds"`) || !strings.Contains(string(b), `"allowedRedirectUrls"`) {
		t.Errorf("seed JSON names: %s", b)
	}
	good := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(good, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSeed(good)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seed (-want +got):\n%s", diff)
	}
	if _, err := New(Config{PublicURL: "http://localhost:1", Seed: got}); err != nil {
		t.Errorf("New with loaded seed: %v", err)
	}

	for name, body := range map[string]string{
		"unknown field": `{"systemz":[]}`,
		"bad system id": `{"systems":[{"id":"smartcloud","vendorOrgNo":"991825827","name":{"nb":"x"}}]}`,
		"no nb name":    `{"systems":[{"id":"991825827_x","vendorOrgNo":"991825827","name":{"en":"x"}}]}`,
		"http redirect": `{"systems":[{"id":"991825827_x","vendorOrgNo":"991825827","name":{"nb":"x"},"allowedRedirectUrls":["http://vendor.example/r"]}]}`,
		"short org":     `{"orgs":[{"orgNo":"123","name":"x"}]}`,
		"not JSON":      `{`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSeed(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LoadSeed(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestAddClient(t *testing.T) {
	e := newEnv(t)
	pemKey := publicPEM(t, &testKey().PublicKey)
	for name, c := range map[string]Client{
		"kid of another client": {ClientID: "new", OrgNo: vendorOrg, KeyID: testKID, PublicKeyPEM: pemKey},
		"org changes":           {ClientID: testClientID, OrgNo: otherVendor, KeyID: "k2", PublicKeyPEM: pemKey},
		"not PEM":               {ClientID: "new", OrgNo: vendorOrg, KeyID: "k3", PublicKeyPEM: "xyz"},
		"no client id":          {OrgNo: vendorOrg, KeyID: "k4", PublicKeyPEM: pemKey},
	} {
		if err := e.sim.AddClient(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A second key for a client works alongside the first.
	if err := e.sim.AddClient(Client{ClientID: testClientID, OrgNo: vendorOrg, KeyID: "rotated", PublicKeyPEM: pemKey, Scopes: allScopes}); err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{testKID, "rotated"} {
		if status, body := e.postToken(e.sign(e.claims(testClientID, ScopeRequestRead), kid)); status != 200 {
			t.Errorf("kid %s: %d %v", kid, status, body)
		}
	}
}

func TestParseGUID(t *testing.T) {
	const want = "3f2b6c1e-0d4a-4b8e-9c7a-5e1f2a3b4c5d"
	for _, in := range []string{want, strings.ToUpper(want), "3f2b6c1e0d4a4b8e9c7a5e1f2a3b4c5d", "{" + want + "}", "(" + want + ")"} {
		if got, ok := parseGUID(in); !ok || got != want {
			t.Errorf("parseGUID(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "nope", want[:35], want + "0", "3f2b6c1e-0d4a-4b8e-9c7a_5e1f2a3b4c5d", "zf2b6c1e-0d4a-4b8e-9c7a-5e1f2a3b4c5d"} {
		if _, ok := parseGUID(in); ok {
			t.Errorf("parseGUID(%q) accepted", in)
		}
	}
}
