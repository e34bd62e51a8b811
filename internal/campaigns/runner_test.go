package campaigns

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// instances opens n stores on one fresh database: n instances of the
// service, each with its own pool.
func instances(t *testing.T, n int) []*db.DB {
	t.Helper()
	u := dbtest.NewURL(t)
	out := make([]*db.DB, n)
	for i := range out {
		d, err := db.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		out[i] = d
	}
	return out
}

// runningCampaign stores a running onboarding campaign of n organisations.
func runningCampaign(t *testing.T, d *db.DB, n, concurrency int, rate float64) *db.Campaign {
	t.Helper()
	items := make([]db.NewCampaignItem, n)
	for i := range items {
		items[i] = db.NewCampaignItem{Line: i + 1, OrgNo: fmt.Sprintf("9%08d", i)}
	}
	ctx := context.Background()
	c, err := d.CreateCampaign(ctx, db.Campaign{Kind: db.CampaignOnboard, Product: "standard", Name: "test",
		Concurrency: concurrency, Rate: rate, CreatedBy: "test"}, items)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = d.SetCampaignStatus(ctx, c.ID, []string{db.CampaignDraft}, db.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClaimsAtOnceAreDisjoint: batches claimed by two instances at the same
// time never share a row, and together they take every row once.
func TestClaimsAtOnceAreDisjoint(t *testing.T) {
	t.Parallel()
	dbs := instances(t, 2)
	c := runningCampaign(t, dbs[0], 600, 10, 100)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for i := range 6 { // three claimers on each instance
		d := dbs[i%2]
		wg.Go(func() {
			for {
				items, err := d.ClaimCampaignItems(context.Background(), c.ID, 0, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					seen[it.ID]++
					if it.State != db.ItemWorking || it.Attempts != 1 {
						t.Errorf("claimed row %d is %s with %d attempts, want working with 1", it.ID, it.State, it.Attempts)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 600 {
		t.Errorf("%d rows claimed, want 600", len(seen))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("row %d claimed %d times", id, k)
		}
	}
}

// fakeStarter starts onboardings with one Altinn call each (a GET through
// a real altinn.Client to a test server, which counts the calls at once)
// and counts the starts per organisation.
type fakeStarter struct {
	client *altinn.Client
	mu     sync.Mutex
	starts map[string]int
	// fail makes an organisation's first start fail (a retry follows).
	fail map[string]bool
}

func (f *fakeStarter) Start(ctx context.Context, in onboarding.StartInput) (*domain.Onboarding, bool, error) {
	f.mu.Lock()
	f.starts[in.OrgNo]++
	first := f.starts[in.OrgNo] == 1
	f.mu.Unlock()
	// Like the service, the call is not cut short when the run stops.
	if _, err := f.client.GetRequest(context.WithoutCancel(ctx), "5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f"); err != nil {
		return nil, false, err
	}
	if first && f.fail[in.OrgNo] {
		return nil, false, fmt.Errorf("Altinn did not answer")
	}
	return &domain.Onboarding{Status: domain.StatusPending}, true, nil
}

func (f *fakeStarter) NotBefore() time.Time { return time.Time{} }

type tokens struct{}

func (tokens) Token(context.Context, ...string) (string, error) { return "t", nil }
func (tokens) Invalidate(...string)                             {}

// fakeAltinn answers every GET request after a little while and records
// the most calls it had at once.
func fakeAltinn(t *testing.T) (*altinn.Client, *atomic.Int64) {
	var now, most atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		// Counted out before the answer goes: once the client has it, it may
		// send the next call at once.
		now.Add(-1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f","systemId":"s","partyOrgNo":"310000001","status":"New","confirmUrl":"https://x"}`))
	}))
	t.Cleanup(srv.Close)
	return altinn.New(srv.URL, tokens{}, srv.Client()), &most
}

// TestRunnersOnTwoInstancesSendEachOrgOnce: runs of one campaign on two
// instances at once (and again, as the kick would) send each organisation
// once, never more than the campaign's concurrency at once at Altinn; a row
// whose attempt failed is tried again after its back-off, and the campaign
// ends done.
func TestRunnersOnTwoInstancesSendEachOrgOnce(t *testing.T) {
	t.Parallel()
	dbs := instances(t, 2)
	const n, concurrency = 300, 4
	c := runningCampaign(t, dbs[0], n, concurrency, 10000)
	client, most := fakeAltinn(t)
	st := &fakeStarter{client: client, starts: map[string]int{}, fail: map[string]bool{"900000007": true}}
	runners := make([]*Runner, 2)
	for i, d := range dbs {
		runners[i] = &Runner{DB: d, Onboardings: st, Budget: 200 * time.Millisecond, MaxAttempts: 3,
			Backoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	}
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() {
				if _, err := r.Run(ctx, c.ID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := dbs[0].CampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == db.CampaignDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the campaign is not done after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(st.starts) != n {
		t.Errorf("%d organisations started, want %d", len(st.starts), n)
	}
	for org, k := range st.starts {
		want := 1
		if st.fail[org] {
			want = 2
		}
		if k != want {
			t.Errorf("organisation %s started %d times, want %d", org, k, want)
		}
	}
	if m := most.Load(); m > concurrency {
		t.Errorf("%d calls at once at Altinn, want at most %d", m, concurrency)
	}
	p, err := dbs[0].CampaignProgress(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Items[db.ItemDone] != n {
		t.Errorf("rows by state %v, want %d done", p.Items, n)
	}
}

// TestStoppedRunGivesRowsBack: a run stopped mid-way leaves no row working
// that was claimed but never tried: those go back to the queue with their
// attempt uncounted, and a later run finishes the campaign with each
// organisation sent once.
func TestStoppedRunGivesRowsBack(t *testing.T) {
	t.Parallel()
	dbs := instances(t, 1)
	const n = 400
	c := runningCampaign(t, dbs[0], n, 2, 10000)
	client, _ := fakeAltinn(t)
	st := &fakeStarter{client: client, starts: map[string]int{}}
	r := &Runner{DB: dbs[0], Onboardings: st, Budget: time.Minute, MaxAttempts: 3, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.Run(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := dbs[0].Pool.Query(context.Background(), `SELECT state, attempts, count(*) FROM campaign_items WHERE campaign_id = $1 GROUP BY 1, 2`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var state string
		var attempts, k int
		if err := rows.Scan(&state, &attempts, &k); err != nil {
			t.Fatal(err)
		}
		switch {
		case state == db.ItemWorking:
			t.Errorf("%d rows left working", k)
		case state == db.ItemQueued && attempts != 0:
			t.Errorf("%d queued rows with %d attempts, want 0", k, attempts)
		}
	}
	if _, err := r.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, err := dbs[0].CampaignByID(context.Background(), c.ID)
	if err != nil || got.Status != db.CampaignDone {
		t.Fatalf("campaign %v after a full run (%v), want done", got.Status, err)
	}
	for org, k := range st.starts {
		if k != 1 {
			t.Errorf("organisation %s started %d times", org, k)
		}
	}
	if len(st.starts) != n {
		t.Errorf("%d organisations started, want %d", len(st.starts), n)
	}
}

// stoppingStarter is a fakeStarter that pauses or cancels the campaign (as
// staff do, in the database) at its at-th start, before that start's call.
type stoppingStarter struct {
	*fakeStarter
	at    int
	stop  func()
	calls atomic.Int64
	after atomic.Int64 // starts begun after the stop
}

func (s *stoppingStarter) Start(ctx context.Context, in onboarding.StartInput) (*domain.Onboarding, bool, error) {
	switch n := s.calls.Add(1); {
	case n == int64(s.at):
		s.stop()
	case n > int64(s.at):
		s.after.Add(1)
	}
	return s.fakeStarter.Start(ctx, in)
}

// stopMidRun runs a campaign of 400 rows at 1,000 a second (claims of 50,
// up to 100 claimed ahead) and one call at once, which staff move to status
// to at the 10th start. It returns the runner, the starter and the rows by
// state (and attempts) once the run has returned.
func stopMidRun(t *testing.T, to string) (*Runner, *stoppingStarter, *db.Campaign, map[string]int) {
	t.Helper()
	d := instances(t, 1)[0]
	const n = 400
	c := runningCampaign(t, d, n, 1, 1000)
	client, _ := fakeAltinn(t)
	st := &stoppingStarter{fakeStarter: &fakeStarter{client: client, starts: map[string]int{}}, at: 10}
	st.stop = func() {
		if _, err := d.SetCampaignStatus(context.Background(), c.ID, []string{db.CampaignRunning}, to); err != nil {
			t.Error(err)
		}
	}
	r := &Runner{DB: d, Onboardings: st, Budget: time.Minute, MaxAttempts: 3, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}
	// Both hooks are called by the dispatcher, which runs in Run's goroutine.
	var seen string
	var handed, handedAfterSeen int
	r.handedOut = func(db.CampaignItem) {
		handed++
		if seen != "" {
			handedAfterSeen++
		}
	}
	r.stopSeen = func(status string) { seen = status }
	if _, err := r.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows handed out, %d starts after the stop", handed, st.after.Load())
	if seen != to {
		t.Errorf("the dispatcher saw the campaign %q, want %q: it handed out the rows it held regardless", seen, to)
	}
	if handedAfterSeen != 0 {
		t.Errorf("%d rows handed out after the dispatcher saw the campaign %s", handedAfterSeen, to)
	}
	rows, err := d.Pool.Query(context.Background(), `SELECT state, attempts, count(*) FROM campaign_items WHERE campaign_id = $1 GROUP BY 1, 2`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for rows.Next() {
		var state string
		var attempts, k int
		if err := rows.Scan(&state, &attempts, &k); err != nil {
			t.Fatal(err)
		}
		states[state] += k
		if state == db.ItemQueued && attempts != 0 {
			t.Errorf("%d queued rows with %d attempts, want 0", k, attempts)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if states[db.ItemWorking] != 0 {
		t.Errorf("%d rows left working", states[db.ItemWorking])
	}
	if started := len(st.starts); states[db.ItemDone] != started {
		t.Errorf("%d rows done, %d organisations started", states[db.ItemDone], started)
	}
	return r, st, c, states
}

// TestCancelStopsClaimedRows: once the dispatcher sees its campaign
// cancelled it hands out none of the rows it had claimed ahead, and those
// are cancelled with the rest, not queued again in a cancelled campaign.
func TestCancelStopsClaimedRows(t *testing.T) {
	t.Parallel()
	_, _, _, states := stopMidRun(t, db.CampaignCancelled)
	if states[db.ItemQueued] != 0 {
		t.Errorf("%d rows queued in a cancelled campaign", states[db.ItemQueued])
	}
	if states[db.ItemDone]+states[db.ItemCancelled] != 400 {
		t.Errorf("rows by state %v, want only done and cancelled", states)
	}
}

// TestPauseGivesClaimedRowsBack: once the dispatcher sees its campaign
// paused it hands out none of the rows it had claimed ahead; they are
// queued again, uncounted, and a resumed campaign sends each organisation
// exactly once.
func TestPauseGivesClaimedRowsBack(t *testing.T) {
	t.Parallel()
	r, st, c, states := stopMidRun(t, db.CampaignPaused)
	if states[db.ItemDone]+states[db.ItemQueued] != 400 {
		t.Errorf("rows by state %v, want only done and queued", states)
	}
	ctx := context.Background()
	if _, err := r.DB.SetCampaignStatus(ctx, c.ID, []string{db.CampaignPaused}, db.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	r.handedOut, r.stopSeen = nil, nil
	if _, err := r.Run(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got, err := r.DB.CampaignByID(ctx, c.ID)
	if err != nil || got.Status != db.CampaignDone {
		t.Fatalf("campaign %v after the resumed run (%v), want done", got.Status, err)
	}
	if len(st.starts) != 400 {
		t.Errorf("%d organisations started, want 400", len(st.starts))
	}
	for org, k := range st.starts {
		if k != 1 {
			t.Errorf("organisation %s started %d times", org, k)
		}
	}
}

// TestReleaseFollowsTheCampaign: rows a run claimed and gives back unsent
// are cancelled when their campaign was cancelled meanwhile (not queued
// again in a campaign nothing will run), and queued again, uncounted, when
// it was paused, for the resumed campaign to send.
func TestReleaseFollowsTheCampaign(t *testing.T) {
	t.Parallel()
	d := instances(t, 1)[0]
	ctx := context.Background()
	for _, to := range []string{db.CampaignCancelled, db.CampaignPaused} {
		c := runningCampaign(t, d, 10, 1, 100)
		items, err := d.ClaimCampaignItems(ctx, c.ID, 0, 4)
		if err != nil || len(items) != 4 {
			t.Fatalf("claim: %d rows, %v", len(items), err)
		}
		if _, err := d.SetCampaignStatus(ctx, c.ID, []string{db.CampaignRunning}, to); err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.ID
		}
		if err := d.ReleaseCampaignItems(ctx, ids); err != nil {
			t.Fatal(err)
		}
		want := db.ItemQueued
		if to == db.CampaignCancelled {
			want = db.ItemCancelled
		}
		var k int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE id = ANY($1) AND state = $2 AND attempts = 0`,
			ids, want).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k != len(ids) {
			t.Errorf("campaign %s: %d of %d released rows %s with no attempt counted", to, k, len(ids), want)
		}
	}
}
