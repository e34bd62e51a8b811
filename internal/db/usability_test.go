package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// hookCall is one run of the OnUsabilityChange hook.
type hookCall struct {
	prev, next string
}

func boolText(b *bool) string {
	if b == nil {
		return "unknown"
	}
	return fmt.Sprint(*b)
}

// TestSaveOnboardingUsabilityHook: the hook runs in the save's transaction
// exactly when usable becomes true or false and was not that before, and a
// failing hook rolls the save back.
func TestSaveOnboardingUsabilityHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	var calls []hookCall
	fail := false
	d.OnUsabilityChange = func(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, prev *bool) error {
		// In the transaction: the row there already holds the new value.
		var inTx *bool
		if err := tx.QueryRow(ctx, `SELECT usable FROM onboardings WHERE id = $1`, o.ID).Scan(&inTx); err != nil {
			return err
		}
		if boolText(inTx) != boolText(o.Usable) {
			return fmt.Errorf("the hook sees usable %s, want %s", boolText(inTx), boolText(o.Usable))
		}
		if fail {
			return errors.New("hook failed")
		}
		calls = append(calls, hookCall{boolText(prev), boolText(o.Usable)})
		return nil
	}
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-usable-00000001", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	o.Status = domain.StatusConnected
	yes, no := true, false
	now := time.Now()
	steps := []struct {
		name   string
		usable *bool
		want   []hookCall // all calls so far
	}{
		{"connected, not checked yet", nil, nil},
		{"becomes usable", &yes, []hookCall{{"unknown", "true"}}},
		{"still usable: no news", &yes, []hookCall{{"unknown", "true"}}},
		{"becomes not usable", &no, []hookCall{{"unknown", "true"}, {"true", "false"}}},
		{"still not usable", &no, []hookCall{{"unknown", "true"}, {"true", "false"}}},
		{"forgotten: no news", nil, []hookCall{{"unknown", "true"}, {"true", "false"}}},
		{"usable again", &yes, []hookCall{{"unknown", "true"}, {"true", "false"}, {"unknown", "true"}}},
	}
	prev := domain.StatusRequesting
	for _, st := range steps {
		o.Usable, o.UsableSince, o.UsableCheckedAt = st.usable, &now, &now
		if err := d.SaveOnboarding(ctx, o, prev, domain.CauseReconciler, "job 1"); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		prev = o.Status
		if !slices.Equal(calls, st.want) {
			t.Fatalf("%s: hook calls %v, want %v", st.name, calls, st.want)
		}
	}

	// A failing hook undoes the save: the row keeps its usable, and o its version.
	fail = true
	version := o.Version
	o.Usable = &no
	if err := d.SaveOnboarding(ctx, o, prev, domain.CauseReconciler, "job 2"); err == nil {
		t.Fatal("a failing hook did not fail the save")
	}
	got, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Usable == nil || !*got.Usable || got.Version != version || o.Version != version {
		t.Fatalf("after a failed hook: stored usable %s version %d (o %d), want true at %d",
			boolText(got.Usable), got.Version, o.Version, version)
	}
}

// TestUsabilityRoundTrip: every usability field is stored and read back.
func TestUsabilityRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-usable-00000002", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	no, outcome, code, msg := false, domain.UsableFailed, "MP-303", "MP-303 No approved system user"
	o.Status = domain.StatusConnected
	o.Usable, o.UsableSince, o.UsableCheckedAt, o.UsableOKAt = &no, &at, &at, &at
	o.UsableOutcome, o.UsableCode, o.UsableMessage = &outcome, &code, &msg
	check := domain.Event{Kind: domain.EventUsability, Cause: domain.CauseStaff, Actor: "olga@example.com",
		Operation: "POST maskinporten token (system user)", HTTPStatus: 400, AltinnCode: code,
		LatencyMS: 17, ToStatus: domain.UsableFailed, Message: "not usable: " + msg}
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseStaff, "olga@example.com", check); err != nil {
		t.Fatal(err)
	}
	got, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if boolText(got.Usable) != "false" || !got.UsableSince.Equal(at) || !got.UsableCheckedAt.Equal(at) ||
		!got.UsableOKAt.Equal(at) || *got.UsableOutcome != outcome || *got.UsableCode != code || *got.UsableMessage != msg {
		t.Fatalf("read back %+v", got)
	}
	evs, err := d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ev domain.Event
	for _, e := range evs {
		if e.Kind == domain.EventUsability {
			ev = e
		}
	}
	if ev.LatencyMS != 17 || ev.AltinnCode != code || ev.ToStatus != domain.UsableFailed || ev.HTTPStatus != 400 || ev.Actor != "olga@example.com" {
		t.Fatalf("the check's event: %+v", ev)
	}
	// An outcome the schema does not know is refused.
	bad := "maybe"
	o.UsableOutcome = &bad
	if err := d.SaveOnboarding(ctx, o, domain.StatusConnected, domain.CauseStaff, ""); err == nil {
		t.Fatal("usable_outcome 'maybe' was stored")
	}
}

// TestListFiltersOnUsability: the usability filter keeps connected
// onboardings by usable, not usable or not checked, in the list and in the
// counts, and leaves out every other status.
func TestListFiltersOnUsability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	yes, no := true, false
	rows := []struct {
		org    string
		status string
		usable *bool
	}{
		{"310000019", string(domain.StatusConnected), &yes},
		{"310000027", string(domain.StatusConnected), &no},
		{"310000035", string(domain.StatusConnected), nil},
		{"310000043", string(domain.StatusConnected), &yes},
		{"310000051", string(domain.StatusPending), nil},
		{"310000078", string(domain.StatusRevoked), nil},
	}
	ids := map[string]string{}
	for i, r := range rows {
		o, err := d.CreateOnboarding(ctx, newOnboarding(fmt.Sprintf("ref-usable-list-%04d", i), r.org))
		if err != nil {
			t.Fatal(err)
		}
		o.Status, o.Usable = domain.Status(r.status), r.usable
		if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseSystem, ""); err != nil {
			t.Fatal(err)
		}
		ids[o.ID] = r.org
	}
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{db.UsabilityUsable, []string{"310000043", "310000019"}},
		{db.UsabilityNotUsable, []string{"310000027"}},
		{db.UsabilityNotChecked, []string{"310000035"}},
		{"", []string{"310000078", "310000051", "310000043", "310000035", "310000027", "310000019"}},
	} {
		page, err := d.ListOnboardings(ctx, db.ListFilter{Usability: tt.filter})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range page.Items {
			got = append(got, ids[o.ID])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("usability %q lists %v, want %v", tt.filter, got, tt.want)
		}
		counts, err := d.CountByStatus(ctx, db.ListFilter{Usability: tt.filter})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range counts {
			n += c
		}
		if n != len(tt.want) || (tt.filter != "" && counts[domain.StatusConnected] != len(tt.want)) {
			t.Errorf("usability %q counts %v, want %d connected", tt.filter, counts, len(tt.want))
		}
	}
}
