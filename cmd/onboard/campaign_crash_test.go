package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// TestCrashMidCampaign runs the real binary: `onboard sim` as a process of
// its own and `onboard serve` working on a bulk campaign, killed with
// SIGKILL while two of its creates were stored at Altinn but never
// answered (and more were under way). Started again, serve takes the
// campaign up by itself (its kick), settles the two by looking them up,
// and finishes: every organisation has exactly one request at Altinn.
func TestCrashMidCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it; runs in `make test`")
	}
	t.Parallel()
	deadline := time.Now().Add(3 * time.Minute)
	bin := buildOnboard(t)
	data := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	simURL, webURL := "http://"+simAddr, "http://"+webAddr
	common := []string{"ONBOARD_DATA_DIR=" + data, "ONBOARD_PUBLIC_URL=" + webURL}

	simProc := startProcess(t, bin, "sim", append(common, "ONBOARD_SIM_ADDR="+simAddr, "ONBOARD_SIM_PUBLIC_URL="+simURL))
	defer simProc.kill()
	simProc.waitReady(t, simURL+"/.well-known/oauth-authorization-server")
	s := &simAdmin{t: t, url: simURL}
	const create = "/authentication/api/v1/systemuser/request/vendor"
	// The first two creates are stored and never answered; the rest are slow.
	s.fault(sim.Fault{Method: http.MethodPost, Path: create, Hang: true, AfterStore: true, Times: 2})
	s.fault(sim.Fault{Method: http.MethodPost, Path: create, Latency: 150 * time.Millisecond})

	// The campaign is made and started as the dashboard does, before serve
	// runs: serve finds it running.
	dbURL := dbtest.NewURL(t)
	ctx := context.Background()
	store, err := db.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var orgs []string
	for k := 0; len(orgs) < n; k++ {
		if o := validOrgNo(700 + k); len(orgs) == 0 || orgs[len(orgs)-1] != o {
			orgs = append(orgs, o)
		}
	}
	items, err := campaigns.Parse([]byte(strings.Join(orgs, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.CreateCampaign(ctx, db.Campaign{Kind: db.CampaignOnboard, Product: "standard", Name: "crash",
		Concurrency: 3, Rate: 10, CreatedBy: "test"}, items)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetCampaignStatus(ctx, c.ID, []string{db.CampaignDraft}, db.CampaignRunning); err != nil {
		t.Fatal(err)
	}

	serveEnv := append(serveAgainstSim(common, data, dbURL, webAddr, simAddr),
		"ONBOARD_ALTINN_TIMEOUT=10s",
		"ONBOARD_CAMPAIGN_KICK_INTERVAL=1s",
	)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				p, _ := store.CampaignProgress(ctx, c)
				t.Fatalf("timed out waiting for %s (campaign rows %v)", what, p.Items)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	web := startProcess(t, bin, "serve", serveEnv)
	web.waitReady(t, webURL+"/readyz")
	waitFor("both hanging creates stored at Altinn", func() bool { return len(s.requests()) >= 2 })
	web.kill()
	stored := len(s.requests())
	p, err := store.CampaignProgress(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Items[db.ItemWorking] < 2 || stored >= n {
		t.Fatalf("killed with rows %v and %d requests at Altinn; want at least the two hanging rows working", p.Items, stored)
	}
	t.Logf("killed with rows %v, %d requests at Altinn", p.Items, stored)

	web = startProcess(t, bin, "serve", serveEnv)
	defer web.kill()
	web.waitReady(t, webURL+"/readyz")
	waitFor("the campaign done", func() bool {
		c, err := store.CampaignByID(ctx, c.ID)
		return err == nil && c.Status == db.CampaignDone
	})
	for _, org := range orgs {
		if k := s.requestsFor(org); k != 1 {
			t.Errorf("%s: %d requests at Altinn, want 1", org, k)
		}
	}
	if p, _ := store.CampaignProgress(ctx, c); p.Items[db.ItemDone] != n || p.Statuses[string(domain.StatusPending)] != n {
		t.Errorf("rows %v, statuses %v; want all %d done and pending", p.Items, p.Statuses, n)
	}
}

// validOrgNo makes a valid organisation number from k, or the next one up
// when k's check digit would be 10.
func validOrgNo(k int) string {
	weights := []int{3, 2, 7, 6, 5, 4, 3, 2}
	for ; ; k++ {
		s := fmt.Sprintf("32%06d", k)
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		if c := (11 - sum%11) % 11; c != 10 {
			return fmt.Sprintf("%s%d", s, c)
		}
	}
}
