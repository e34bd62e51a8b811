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

// usabilityMove is one usability change a save reported.
type usabilityMove struct {
	prev, next string
}

func boolText(b *bool) string {
	if b == nil {
		return "unknown"
	}
	return fmt.Sprint(*b)
}

// TestSaveOnboardingTxReportsUsability: SaveOnboardingTx returns usable as
// it was before the save, so the caller sees a usability change exactly when
// usable becomes true or false and was not that before, with the row in its
// transaction already holding the new value; a step after it that fails
// rolls the save back.
func TestSaveOnboardingTxReportsUsability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	var moves []usabilityMove
	save := func(o *domain.Onboarding, prev domain.Status, actor string, fail bool) error {
		return d.Tx(ctx, func(tx pgx.Tx) error {
			before, err := db.SaveOnboardingTx(ctx, tx, o, prev, domain.CauseReconciler, actor)
			if err != nil || !domain.UsabilityChanged(before, o.Usable) {
				return err
			}
			// In the transaction: the row there already holds the new value.
			var inTx *bool
			if err := tx.QueryRow(ctx, `SELECT usable FROM onboardings WHERE id = $1`, o.ID).Scan(&inTx); err != nil {
				return err
			}
			if boolText(inTx) != boolText(o.Usable) {
				return fmt.Errorf("the transaction sees usable %s, want %s", boolText(inTx), boolText(o.Usable))
			}
			if fail {
				return errors.New("what goes out with the change failed")
			}
			moves = append(moves, usabilityMove{boolText(before), boolText(o.Usable)})
			return nil
		})
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
		want   []usabilityMove // all moves so far
	}{
		{"connected, not checked yet", nil, nil},
		{"becomes usable", &yes, []usabilityMove{{"unknown", "true"}}},
		{"still usable: no news", &yes, []usabilityMove{{"unknown", "true"}}},
		{"becomes not usable", &no, []usabilityMove{{"unknown", "true"}, {"true", "false"}}},
		{"still not usable", &no, []usabilityMove{{"unknown", "true"}, {"true", "false"}}},
		{"forgotten: no news", nil, []usabilityMove{{"unknown", "true"}, {"true", "false"}}},
		{"usable again", &yes, []usabilityMove{{"unknown", "true"}, {"true", "false"}, {"unknown", "true"}}},
	}
	prev := domain.StatusRequesting
	for _, st := range steps {
		o.Usable, o.UsableSince, o.UsableCheckedAt = st.usable, &now, &now
		if err := save(o, prev, "job 1", false); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		prev = o.Status
		if !slices.Equal(moves, st.want) {
			t.Fatalf("%s: usability moves %v, want %v", st.name, moves, st.want)
		}
	}

	// A failing step after the save undoes it: the row keeps its usable.
	version := o.Version
	o.Usable = &no
	if err := save(o, prev, "job 2", true); err == nil {
		t.Fatal("a failing step did not fail the transaction")
	}
	got, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Usable == nil || !*got.Usable || got.Version != version {
		t.Fatalf("after a failed step: stored usable %s version %d, want true at %d",
			boolText(got.Usable), got.Version, version)
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
