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

func newOnboarding(ref, org string) db.NewOnboarding {
	return db.NewOnboarding{Ref: ref, Product: "standard", Kind: "standard", SystemID: "991825827_smartcloud",
		OrgNo: org, ExternalRef: org, Lang: "nb", Cause: domain.CauseCustomer}
}

func TestOneLiveOnboardingPerKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-aaaaaaaaaaaaaaaa", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != domain.StatusRequesting {
		t.Fatalf("status = %q, want requesting", o.Status)
	}
	if _, err := d.CreateOnboarding(ctx, newOnboarding("ref-bbbbbbbbbbbbbbbb", "314248295")); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("second live onboarding for the key: err = %v, want ErrConflict", err)
	}
	// Once cancelled, the key is free again.
	o.Status = domain.StatusCancelled
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseStaff, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateOnboarding(ctx, newOnboarding("ref-cccccccccccccccc", "314248295")); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestSaveOnboardingRecordsStatusEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("ref-dddddddddddddddd", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	o.Status = domain.StatusPending
	call := domain.Event{Kind: domain.EventAltinnCall, Cause: domain.CauseCustomer, Operation: "POST request/vendor",
		HTTPStatus: 201, LatencyMS: 12, Raw: []byte(`{"id":"x","status":"New"}`)}
	if err := d.SaveOnboarding(ctx, o, domain.StatusRequesting, domain.CauseCustomer, "", call); err != nil {
		t.Fatal(err)
	}
	evs, err := d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind+":"+e.ToStatus)
	}
	want := "created:requesting altinn_call: status:pending"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("events = %q, want %q", got, want)
	}
	if string(evs[1].Raw) == "" || evs[1].HTTPStatus != 201 || evs[1].LatencyMS != 12 {
		t.Fatalf("altinn call event lost its details: %+v", evs[1])
	}
	if evs[2].FromStatus != string(domain.StatusRequesting) {
		t.Fatalf("status event from = %q", evs[2].FromStatus)
	}
	got, err := d.OnboardingByRef(ctx, o.Ref)
	if err != nil || got.Status != domain.StatusPending {
		t.Fatalf("by ref: %v %+v", err, got)
	}
	if _, err := d.OnboardingByRef(ctx, "nope-nope-nope-nope"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("missing ref: err = %v, want ErrNotFound", err)
	}
}
