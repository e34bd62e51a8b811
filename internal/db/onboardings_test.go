package db_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

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
	// The status change is kept in the row of the call that made it (the
	// same cause, actor and words): three rows, the same four events.
	var rows int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM onboarding_events WHERE onboarding_id = $1`, o.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || evs[2].FromStatus != "" || evs[2].ToStatus != "" || evs[3].Operation != "" || len(evs[3].Raw) != 0 ||
		evs[3].HTTPStatus != 0 || evs[3].Cause != domain.CauseCustomer || !evs[3].At.Equal(evs[2].At) {
		t.Fatalf("%d rows; call %+v, status %+v", rows, evs[2], evs[3])
	}
	// A change whose words differ from the call's is a row of its own.
	failed := domain.Event{Kind: domain.EventAltinnCall, Cause: domain.CauseReconciler, Operation: "GET request/vendor/{id}",
		HTTPStatus: 404, Message: "not found"}
	o.Status = domain.StatusFailed
	gone1, msg := "gone", "the request no longer exists at Altinn"
	o.ErrorCode, o.ErrorMessage = &gone1, &msg
	if err := d.SaveOnboarding(ctx, o, domain.StatusPending, domain.CauseReconciler, "", failed); err != nil {
		t.Fatal(err)
	}
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM onboarding_events WHERE onboarding_id = $1`, o.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	evs, err = d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; rows != 5 || len(evs) != 6 || last.Kind != domain.EventStatus || last.Message != msg ||
		evs[4].Message != "not found" || evs[4].ToStatus != "" {
		t.Fatalf("%d rows, events %+v", rows, evs)
	}
	// A save without events and without a status change writes the row alone.
	o.Escalated = true
	if err := d.SaveOnboarding(ctx, o, o.Status, domain.CauseCustomer, ""); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.Events(ctx, o.ID); len(again) != len(evs) {
		t.Fatalf("events after a bare save: %d, want %d", len(again), len(evs))
	}
}

// TestCreateOnboardingReturnsTheRow shows the onboarding CreateOnboarding
// returns (built from what it wrote and what Postgres made: the statement
// returns only the id, times and version) is the row as stored, with and
// without the optional values.
func TestCreateOnboardingReturnsTheRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	next := time.Now().Add(time.Hour)
	full := newOnboarding("ref-ffffffffffffffff", "314248295")
	full.CustomerRef, full.OrgName, full.NextCheckAt, full.Cause, full.Actor = "kunde-7", "Eksempel AS", &next, domain.CauseStaff, "ola"
	for _, n := range []db.NewOnboarding{newOnboarding("ref-gggggggggggggggg", "910000012"), full} {
		o, err := d.CreateOnboarding(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := d.OnboardingByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o, stored) {
			t.Fatalf("CreateOnboarding returned\n%+v\nthe row is\n%+v", *o, *stored)
		}
	}
}

// TestEventRawAsText shows a call's raw answer kept as text (raw_text,
// migrations/00026) comes back byte for byte, Altinn's order of keys and
// all; a body that is not JSON is not kept; and an answer stored as jsonb
// before (raw) is still read.
func TestEventRawAsText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-hhhhhhhhhhhhhhhh", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"status":"New","id":"x","rights":[{"resource":[]}]}`
	if err := d.AddEvent(ctx, domain.Event{OnboardingID: o.ID, Kind: domain.EventAltinnCall, Cause: domain.CauseCustomer,
		Operation: "GET request/vendor/{id}", HTTPStatus: 200, Raw: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddEvent(ctx, domain.Event{OnboardingID: o.ID, Kind: domain.EventAltinnCall, Cause: domain.CauseCustomer,
		Operation: "GET request/vendor/{id}", HTTPStatus: 502, Raw: []byte(`{"broken`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO onboarding_events (onboarding_id, kind, cause, operation, raw)
		VALUES ($1, 'altinn_call', 'reconciler', 'GET request/vendor/{id}', '{"id": "old"}')`, o.ID); err != nil {
		t.Fatal(err)
	}
	evs, err := d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || string(evs[1].Raw) != body || len(evs[2].Raw) != 0 || string(evs[3].Raw) != `{"id": "old"}` {
		t.Fatalf("raw bodies: %q %q %q", evs[1].Raw, evs[2].Raw, evs[3].Raw)
	}
}
