package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

func TestPersonLoginWorksOnceAndEnds(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-login-aaaaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	id, hash := uuid.NewString(), sha256.Sum256([]byte("cookie"))
	if err := d.CreatePersonLogin(ctx, id, hash[:], o.ID, []byte("sealed pending"), time.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	l, err := d.PersonLoginByCookie(ctx, hash[:])
	if err != nil || l.ID != id || !bytes.Equal(l.Pending, []byte("sealed pending")) || l.Token != nil {
		t.Fatalf("login by cookie: %+v, %v", l, err)
	}
	exp := time.Now().Add(20 * time.Minute).Truncate(time.Microsecond)
	if err := d.CompletePersonLogin(ctx, id, []byte("sealed token"), exp, "sub-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.CompletePersonLogin(ctx, id, []byte("again"), exp, "sub-2"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a second completion: %v, want ErrNotFound (a login's answer works once)", err)
	}
	l, err = d.PersonLoginByID(ctx, id)
	if err != nil || l.Pending != nil || string(l.Token) != "sealed token" || l.Subject != "sub-1" || !l.TokenExpires.Equal(exp) || l.ExpiresAt.Before(exp) {
		t.Fatalf("completed login: %+v, %v", l, err)
	}
	// A renewal under the row's lock: nothing to store keeps the token; a
	// new one is stored and the login lasts as long, but never past until.
	if err := d.RenewPersonToken(ctx, id, exp.Add(time.Hour), func(tok []byte) ([]byte, time.Time, error) {
		if string(tok) != "sealed token" {
			t.Errorf("renew got %q", tok)
		}
		return nil, time.Time{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	later := exp.Add(30 * time.Minute)
	if err := d.RenewPersonToken(ctx, id, exp.Add(10*time.Minute), func([]byte) ([]byte, time.Time, error) {
		return []byte("renewed"), later, nil
	}); err != nil {
		t.Fatal(err)
	}
	l, err = d.PersonLoginByID(ctx, id)
	if err != nil || string(l.Token) != "renewed" || !l.TokenExpires.Equal(later) || !l.ExpiresAt.Equal(exp.Add(10*time.Minute)) {
		t.Fatalf("renewed login: %+v, %v", l, err)
	}
	if n, err := d.PrunePersonLogins(ctx, exp.Add(11*time.Minute), 100); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if _, err := d.PersonLoginByCookie(ctx, hash[:]); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a pruned login: %v", err)
	}
	if _, err := d.PersonLoginByID(ctx, "not-a-uuid"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a bad id: %v", err)
	}
}

func TestAskClientsTwiceSendsNothingTwice(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-clients-aaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	login := uuid.NewString()
	hash := sha256.Sum256([]byte(login))
	if err := d.CreatePersonLogin(ctx, login, hash[:], o.ID, []byte("p"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a, b := db.ClientRef{ID: uuid.NewString(), OrgNo: "310000019", OrgName: "A AS"}, db.ClientRef{ID: uuid.NewString(), OrgNo: "310000027", OrgName: "B AS"}
	asked, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "sub-1", false, []db.ClientRef{a, b})
	if err != nil || len(asked) != 2 {
		t.Fatalf("first ask: %d, %v", len(asked), err)
	}
	if again, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "sub-1", false, []db.ClientRef{a, b}); err != nil || len(again) != 0 {
		t.Fatalf("asking again while they are being added: %d, %v; want none", len(again), err)
	}
	if err := d.SetClientOutcome(ctx, o.ID, a.ID, domain.ClientAdding, domain.ClientOutcome{State: domain.ClientDelegated}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.SetClientOutcome(ctx, o.ID, a.ID, domain.ClientAdding, domain.ClientOutcome{State: domain.ClientFailed}, nil); !errors.Is(err, db.ErrStale) {
		t.Errorf("a late answer for a client no longer being added: %v, want ErrStale", err)
	}
	if err := d.SetClientOutcome(ctx, o.ID, b.ID, domain.ClientAdding, domain.ClientOutcome{State: domain.ClientFailed, Reason: domain.ReasonNotClient}, nil); err != nil {
		t.Fatal(err)
	}
	// Add again: the delegated one is left alone, the failed one asked again.
	again, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "sub-2", false, []db.ClientRef{a, b})
	if err != nil || len(again) != 1 || again[0].ClientID != b.ID || again[0].Reason != "" || again[0].Attempts != 0 {
		t.Fatalf("asking again after outcomes: %+v, %v; want only the failed one, afresh", again, err)
	}
	// Remove both: the one delegated is asked, and the one being added.
	rm, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "sub-2", true, []db.ClientRef{a, b})
	if err != nil || len(rm) != 2 {
		t.Fatalf("removal: %d, %v", len(rm), err)
	}
	counts, err := clientCounts(ctx, d, o.ID)
	if err != nil || counts[domain.ClientRemoving] != 2 || len(counts) != 1 {
		t.Fatalf("counts: %v, %v", counts, err)
	}
	if _, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "x", false, []db.ClientRef{{ID: "310000019"}}); err == nil {
		t.Error("an org number taken as a party uuid")
	}
	cs, err := d.ClientsOf(ctx, o.ID)
	if err != nil || len(cs) != 2 || cs[0].OrgNo != "310000019" || cs[0].ChangedBy != "sub-2" || cs[0].LoginID == nil || *cs[0].LoginID != login {
		t.Fatalf("clients: %+v, %v", cs, err)
	}
}

// TestClaimWaitResume: of two jobs for one client only the first claims its
// try; a client waiting for its back-off says how long; a login that ends
// makes the waiting clients unclaimable until a new login resumes them;
// Altinn's word notes portal changes without touching a client in flight.
func TestClaimWaitResume(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-claims-aaaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	login, hash := uuid.NewString(), sha256.Sum256([]byte("claims"))
	if err := d.CreatePersonLogin(ctx, login, hash[:], o.ID, []byte("p"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a, b := db.ClientRef{ID: uuid.NewString(), OrgNo: "310000019", OrgName: "A AS"}, db.ClientRef{ID: uuid.NewString(), OrgNo: "310000027", OrgName: "B AS"}
	if _, err := db.AskClientsTx(ctx, d.Pool, o.ID, login, "sub", false, []db.ClientRef{a, b}); err != nil {
		t.Fatal(err)
	}
	c, wait, err := d.ClaimClient(ctx, o.ID, a.ID, domain.ClientAdding, time.Minute)
	if err != nil || c == nil || c.ClientID != a.ID || wait != 0 {
		t.Fatalf("first claim: %+v, wait %v, %v", c, wait, err)
	}
	if c, wait, err = d.ClaimClient(ctx, o.ID, a.ID, domain.ClientAdding, time.Minute); err != nil || c != nil || wait < 50*time.Second {
		t.Fatalf("second claim: %+v, wait %v, %v; want none, about a minute", c, wait, err)
	}
	if c, _, err = d.ClaimClient(ctx, o.ID, a.ID, domain.ClientRemoving, time.Minute); err != nil || c != nil {
		t.Fatalf("a claim in another state: %+v, %v", c, err)
	}
	if n, err := d.WaitForLogin(ctx, o.ID); err != nil || n != 2 {
		t.Fatalf("wait for login: %d, %v", n, err)
	}
	if c, wait, err = d.ClaimClient(ctx, o.ID, b.ID, domain.ClientAdding, time.Minute); err != nil || c != nil || wait != 0 {
		t.Fatalf("a claim while waiting for a login: %+v, %v, %v", c, wait, err)
	}
	var resumed []db.Client
	if err := d.InTx(ctx, func(q db.Querier) error {
		resumed, err = db.ResumeClientsTx(ctx, q, o.ID, login, "sub-2")
		return err
	}); err != nil || len(resumed) != 2 {
		t.Fatalf("resume: %d, %v", len(resumed), err)
	}
	if c, _, err = d.ClaimClient(ctx, o.ID, b.ID, domain.ClientAdding, time.Minute); err != nil || c == nil || c.ChangedBy != "sub-2" {
		t.Fatalf("a claim after the resume: %+v, %v", c, err)
	}
	// Altinn lists both as delegated: a, settled meanwhile, is left as is;
	// b, still being added, is not touched; a third is noted.
	if err := d.SetClientOutcome(ctx, o.ID, a.ID, domain.ClientAdding, domain.ClientOutcome{State: domain.ClientDelegated}, nil); err != nil {
		t.Fatal(err)
	}
	third := db.ClientRef{ID: uuid.NewString(), OrgNo: "310000035", OrgName: "C AS"}
	if n, err := noteClients(ctx, d, o.ID, "altinn", domain.ClientDelegated, []db.ClientRef{a, b, third}); err != nil || n != 1 {
		t.Fatalf("note delegated: %d, %v; want the third only", n, err)
	}
	if n, err := noteClients(ctx, d, o.ID, "altinn", domain.ClientRemoved, []db.ClientRef{third, {ID: uuid.NewString(), OrgNo: "310000043"}}); err != nil || n != 1 {
		t.Fatalf("note removed: %d, %v; want the third only", n, err)
	}
	counts, err := clientCounts(ctx, d, o.ID)
	if err != nil || counts[domain.ClientDelegated] != 1 || counts[domain.ClientAdding] != 1 || counts[domain.ClientRemoved] != 1 {
		t.Fatalf("counts: %v, %v", counts, err)
	}
}

// noteClients is db.NoteClientsTx outside a transaction, counting the rows
// it changed.
func noteClients(ctx context.Context, d *db.DB, onboardingID, by string, state domain.ClientState, clients []db.ClientRef) (int, error) {
	changed, err := db.NoteClientsTx(ctx, d.Pool, onboardingID, by, state, clients)
	return len(changed), err
}

// clientCounts counts an onboarding's clients by state.
func clientCounts(ctx context.Context, d *db.DB, onboardingID string) (map[domain.ClientState]int, error) {
	cs, err := d.ClientsOf(ctx, onboardingID)
	out := map[domain.ClientState]int{}
	for _, c := range cs {
		out[c.State]++
	}
	return out, err
}

// TestLongClientNamesStayText: a name past the column's 500 bytes is cut at
// a character, so a Norwegian letter across the cut is not split (Postgres
// would refuse the half).
func TestLongClientNamesStayText(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-longname-aaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("a", 499) + "ø AS"
	if _, err := noteClients(ctx, d, o.ID, "altinn", domain.ClientDelegated, []db.ClientRef{{ID: uuid.NewString(), OrgNo: "310000019", OrgName: name}}); err != nil {
		t.Fatalf("a name whose 500th byte is inside ø: %v", err)
	}
	cs, err := d.ClientsOf(ctx, o.ID)
	if err != nil || len(cs) != 1 || cs[0].OrgName != strings.Repeat("a", 499) {
		t.Fatalf("stored %+v, %v; want the 499 a's", cs, err)
	}
}
