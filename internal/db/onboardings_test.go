package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// A save is one statement with its events: they keep their order (the
// calls', then the status change's), and a save that loses the version
// race writes none of them.
func TestSaveOnboardingEventsInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-eeeeeeeeeeeeeeee", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	stale := *o
	lookup := domain.Event{Kind: domain.EventAltinnCall, Cause: domain.CauseCustomer, Operation: "GET request/vendor/byexternalref",
		HTTPStatus: 404, LatencyMS: 3, Message: "not found", Raw: []byte(`not json`)}
	create := domain.Event{Kind: domain.EventAltinnCall, Cause: domain.CauseCustomer, Operation: "POST request/vendor",
		HTTPStatus: 201, LatencyMS: 7, Raw: []byte(`{"id":"x"}`)}
	o.Status = domain.StatusPending
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseCustomer, "", lookup, create); err != nil {
		t.Fatal(err)
	}
	// The copy read before that save is stale: refused, nothing added.
	stale.Status = domain.StatusFailed
	if err := d.SaveOnboarding(ctx, &stale, domain.StatusRequesting, domain.CauseReconciler, "", create); !errors.Is(err, db.ErrStale) {
		t.Fatalf("stale save: err = %v, want ErrStale", err)
	}
	// Nor for an onboarding that does not exist.
	gone := *o
	gone.ID = "00000000-0000-0000-0000-000000000000"
	if err := d.SaveOnboarding(ctx, &gone, domain.StatusPending, domain.CauseCustomer, "", create); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("missing onboarding: err = %v, want ErrNotFound", err)
	}
	evs, err := d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Kind+":"+e.Operation+":"+e.ToStatus)
	}
	want := "created::requesting altinn_call:GET request/vendor/byexternalref: altinn_call:POST request/vendor: status::pending"
	if strings.Join(got, " ") != want {
		t.Fatalf("events = %q, want %q", strings.Join(got, " "), want)
	}
	if len(evs[1].Raw) != 0 || evs[1].HTTPStatus != 404 || evs[1].Message != "not found" || evs[1].LatencyMS != 3 {
		t.Fatalf("lookup event: %+v (raw that is not JSON is not kept)", evs[1])
	}
	if string(evs[2].Raw) == "" || evs[2].LatencyMS != 7 || evs[3].FromStatus != string(domain.StatusRequesting) {
		t.Fatalf("events lost their details: %+v %+v", evs[2], evs[3])
	}
	if evs[0].LatencyMS != 0 || evs[3].LatencyMS != 0 {
		t.Fatalf("only calls have a latency: %+v %+v", evs[0], evs[3])
	}
	// A save without events and without a status change writes the row alone.
	o.Escalated = true
	if err := d.SaveOnboarding(ctx, o, domain.StatusPending, domain.CauseCustomer, ""); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.Events(ctx, o.ID); len(again) != len(evs) {
		t.Fatalf("events after a bare save: %d, want %d", len(again), len(evs))
	}
}
