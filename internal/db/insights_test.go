package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// row is an onboarding as the funnel sees it, inserted straight into the
// table with the times a test needs.
type row struct {
	created   string // RFC 3339
	connected string // RFC 3339, "" when never connected
	status    string
	request   bool // has an Altinn request
	returned  bool // has a return event
}

func insertRows(t *testing.T, d *db.DB, rows []row) {
	t.Helper()
	ctx := context.Background()
	for i, r := range rows {
		org := fmt.Sprintf("%09d", 100000000+i)
		var connected *string
		if r.connected != "" {
			connected = &r.connected
		}
		var id string
		err := d.Pool.QueryRow(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status,
				altinn_request_id, created_at, connected_at, origin)
			VALUES ($1, 'standard', 'standard', '991825827_smartcloud', $2, $2, $3,
				CASE WHEN $4 THEN gen_random_uuid() END, $5::timestamptz, $6::timestamptz,
				CASE WHEN NOT $4 AND $6::timestamptz IS NOT NULL THEN 'import' ELSE 'wizard' END)
			RETURNING id`,
			fmt.Sprintf("ref-funnel-%08d", i), org, r.status, r.request, r.created, connected).Scan(&id)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if r.returned {
			for range 2 { // a second return must not count twice
				if err := d.AddEvent(ctx, domain.Event{OnboardingID: id, Kind: domain.EventReturn, Cause: domain.CauseCustomer}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFunnel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	insertRows(t, d, []row{
		// Before the period (23:59 Oslo time on 31 May), and after it.
		{created: "2026-05-31T21:59:00Z", connected: "2026-06-01T10:00:00Z", status: "connected", request: true},
		{created: "2026-06-03T22:00:00Z", status: "pending", request: true},
		// 1 June (Oslo): five connected after 1, 2, 3, 4 and 10 hours; one
		// revoked since, still counted as connected.
		{created: "2026-05-31T22:00:00Z", connected: "2026-05-31T23:00:00Z", status: "connected", request: true, returned: true},
		{created: "2026-06-01T08:00:00Z", connected: "2026-06-01T10:00:00Z", status: "connected", request: true, returned: true},
		{created: "2026-06-01T08:00:00Z", connected: "2026-06-01T11:00:00Z", status: "revoked", request: true},
		{created: "2026-06-01T09:00:00Z", connected: "2026-06-01T13:00:00Z", status: "connected", request: true, returned: true},
		{created: "2026-06-01T10:00:00Z", connected: "2026-06-01T20:00:00Z", status: "connected", request: true},
		// 2 June: nothing. 3 June (ends 21:59:59Z): one of each other fate.
		{created: "2026-06-03T06:00:00Z", status: "pending", request: true},
		{created: "2026-06-03T07:00:00Z", status: "rejected", request: true, returned: true},
		{created: "2026-06-03T08:00:00Z", status: "expired", request: true},
		{created: "2026-06-03T09:00:00Z", status: "accepted", request: true, returned: true},
		{created: "2026-06-03T10:00:00Z", status: "failed"},
		{created: "2026-06-03T21:59:59Z", status: "requesting"},
		// An imported system user: connected at once, without a request.
		{created: "2026-06-03T12:00:00Z", connected: "2026-06-03T12:00:00Z", status: "connected"},
	})

	got, err := d.Funnel(ctx, date("2026-06-01"), date("2026-06-03"), "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	h := func(n float64) *time.Duration { v := time.Duration(n * float64(time.Hour)); return &v }
	want := &db.Funnel{
		Started: 11, Sent: 9, Returned: 5, Accepted: 6, Connected: 5, Rejected: 1, Expired: 1, Imported: 1,
		// percentile_disc over 1, 2, 3, 4, 10 hours: the median is the 3rd
		// (ceil(0.5 × 5)), 3 h; the 90th percentile the 5th (ceil(0.9 × 5)),
		// 10 h.
		MedianToConnect: h(3), P90ToConnect: h(10),
		Days: []db.FunnelDay{
			{Day: date("2026-06-01"), Started: 5, Connected: 5},
			{Day: date("2026-06-02")},
			{Day: date("2026-06-03"), Started: 6, Connected: 0},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("funnel (-want +got):\n%s", diff)
	}

	// A period with nothing in it has every day and no times.
	empty, err := d.Funnel(ctx, date("2025-01-01"), date("2025-01-07"), "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	if empty.Started != 0 || len(empty.Days) != 7 || empty.MedianToConnect != nil || empty.P90ToConnect != nil {
		t.Fatalf("empty period: %+v", empty)
	}
}

func TestFunnelRefusesBadPeriods(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	tests := []struct {
		name     string
		from, to string
	}{
		{"ends before it starts", "2026-06-02", "2026-06-01"},
		{"longer than two years", "2024-01-01", "2026-01-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.Funnel(context.Background(), date(tt.from), date(tt.to), "Europe/Oslo"); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if _, err := d.Funnel(context.Background(), date("2024-01-01"), date("2026-01-01"), "Europe/Oslo"); err != nil {
		t.Fatalf("two years: %v", err)
	}
}

func TestKnownSystemUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	const su = "6f1c1c44-3b0a-4d55-9d5e-0a3c6b7e2f10"
	// A cancelled onboarding and a live one hold the same system user: the
	// live one wins.
	old, err := d.ImportOnboarding(ctx, newOnboarding("ref-known-old-00000", "314248295"), su)
	if err != nil {
		t.Fatal(err)
	}
	prev := old.Status
	old.Status = domain.StatusCancelled
	if err := d.SaveOnboarding(ctx, old, prev, domain.CauseStaff, "test"); err != nil {
		t.Fatal(err)
	}
	live, err := d.ImportOnboarding(ctx, newOnboarding("ref-known-live-0000", "314248295"), su)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.KnownSystemUsers(ctx, []string{strings.ToUpper(su), "9b2f7f5e-0000-4000-8000-000000000000", "not-a-uuid"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{su: live.ID}, got); diff != "" {
		t.Fatalf("known (-want +got):\n%s", diff)
	}
	if got, err := d.KnownSystemUsers(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v %v", got, err)
	}
}
