package brreg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/brreg"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/sim/simtest"
)

// simRegister starts the simulator and returns it with a client of its
// fake Enhetsregisteret.
func simRegister(t *testing.T) (*sim.Server, *brreg.Client) {
	t.Helper()
	s, ts := simtest.Start(t, sim.Config{})
	c := brreg.New(ts.URL+"/enhetsregisteret/api", ts.Client())
	c.Timeout = 300 * time.Millisecond
	return s, c
}

// TestLookupAgainstTheSimulator walks the simulator's special numbers
// (internal/sim/doc.go) through the real client.
func TestLookupAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	_, c := simRegister(t)
	for _, tc := range []struct {
		name    string
		orgNo   string
		want    brreg.Entity
		wantErr error
	}{
		{"seeded", "314 248 295", brreg.Entity{OrgNo: "314248295", Name: "LUNEFULL HANDLEKRAFTIG TIGER AS", Form: "AS"}, nil},
		{"any valid", "311093363", brreg.Entity{OrgNo: "311093363", Name: "NORDRE ELV KONSULT AS", Form: "AS"}, nil},
		{"deleted", sim.BrregDeleted, brreg.Entity{OrgNo: sim.BrregDeleted, Name: "NEDLAGT TESTFIRMA AS", Form: "AS", Deleted: true, DeletedOn: "2023-06-30"}, brreg.ErrDeleted},
		{"removed", sim.BrregRemoved, brreg.Entity{OrgNo: sim.BrregRemoved, Deleted: true, DeletedOn: "2020-02-03"}, brreg.ErrDeleted},
		{"unknown", sim.BrregUnknown, brreg.Entity{}, brreg.ErrUnknown},
		{"sub-unit", sim.BrregSubUnit, brreg.Entity{OrgNo: sim.BrregSubUnit, Name: "LUNEFULL HANDLEKRAFTIG TIGER AS AVD BERGEN", Form: "BEDR", ParentOrgNo: sim.BrregSubUnitParent}, nil},
		{"bankrupt", sim.BrregBankrupt, brreg.Entity{OrgNo: sim.BrregBankrupt, Name: "KONKURSRAMMET TESTFIRMA AS", Form: "AS", Bankrupt: true}, nil},
		{"winding up", sim.BrregWindingUp, brreg.Entity{OrgNo: sim.BrregWindingUp, Name: "AVVIKLES TESTFIRMA AS", Form: "AS", WindingUp: true}, nil},
		{"down", sim.BrregUnavailable, brreg.Entity{}, brreg.ErrUnavailable},
		{"slow", sim.BrregSlow, brreg.Entity{}, brreg.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Lookup(context.Background(), tc.orgNo)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Lookup(%s) = %v, want %v", tc.orgNo, err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Lookup(%s) (-want +got):\n%s", tc.orgNo, d)
			}
		})
	}
}

// TestLookupTimesOutOnASimulatorFault: a fault that makes the register
// hang gives ErrUnavailable within the client's timeout, and a later
// lookup is not served from the cache.
func TestLookupTimesOutOnASimulatorFault(t *testing.T) {
	t.Parallel()
	s, c := simRegister(t)
	remove := s.Inject(sim.Fault{Path: "/enhetsregisteret/api/", Latency: time.Minute})
	start := time.Now()
	_, err := c.Lookup(context.Background(), "310000019")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Lookup took %v", took)
	}
	if !errors.Is(err, brreg.ErrUnavailable) {
		t.Fatalf("Lookup = %v, want ErrUnavailable", err)
	}
	remove()
	if e, err := c.Lookup(context.Background(), "310000019"); err != nil || e.Name != "FJELLHEIM REGNSKAP AS" {
		t.Fatalf("after the fault: %+v, %v", e, err)
	}
	s.Inject(sim.Fault{Path: "/enhetsregisteret/api/enheter/", Status: 500, Times: 1})
	if _, err := c.Lookup(context.Background(), "310000027"); !errors.Is(err, brreg.ErrUnavailable) {
		t.Fatalf("with a 500: %v, want ErrUnavailable", err)
	}
}
