package app_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/brreg"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/sim"
)

// TestOrgNameOnTheDashboard: a name Start stores (as the wizard passes it
// after the customer confirmed it) is on the list, the detail page, the
// CSV export and the API's onboarding, and the list's search finds it by
// its start in any case; one without a name says so.
func TestOrgNameOnTheDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	orgs := dashOrgNos(2)
	named, _, err := e.app.Onboardings.Start(ctx, onboarding.StartInput{Product: "standard", OrgNo: orgs[0],
		OrgName: " LUNEFULL HANDLEKRAFTIG TIGER AS ", Lang: "nb", Cause: domain.CauseCustomer, Actor: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if named.OrgName == nil || *named.OrgName != "LUNEFULL HANDLEKRAFTIG TIGER AS" {
		t.Fatalf("stored name %v", named.OrgName)
	}
	unnamed, _, err := e.app.Onboardings.Start(ctx, onboarding.StartInput{Product: "standard", OrgNo: orgs[1],
		Lang: "nb", Cause: domain.CauseCustomer, Actor: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if unnamed.OrgName != nil {
		t.Fatalf("no name given, stored %q", *unnamed.OrgName)
	}
	// Start again for a number that has an onboarding: the name stays.
	again, _, err := e.app.Onboardings.Start(ctx, onboarding.StartInput{Product: "standard", OrgNo: orgs[1],
		OrgName: "ANNET NAVN AS", Lang: "nb", Cause: domain.CauseCustomer, Actor: "customer"})
	if err != nil || again.ID != unnamed.ID || e.dashReload(unnamed).OrgName != nil {
		t.Fatalf("a second Start filled in a name: %v %v", again, err)
	}

	b, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	for _, tc := range []struct {
		q    string
		want []string // ids
	}{
		{"", []string{named.ID, unnamed.ID}},
		{"lunefull", []string{named.ID}},
		{"Lunefull  HANDLE", []string{named.ID}},
		{"tiger", nil},
		{orgs[1], []string{unnamed.ID}},
	} {
		res := b.get(e.web.URL + "/admin/onboardings?q=" + url.QueryEscape(tc.q))
		if res.status != http.StatusOK {
			t.Fatalf("list q=%q: %d\n%s", tc.q, res.status, res.body)
		}
		var got []string
		for _, id := range []string{named.ID, unnamed.ID} {
			if strings.Contains(res.body, `data-id="`+id+`"`) {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("list q=%q shows %v, want %v", tc.q, got, tc.want)
		}
		if slices.Contains(tc.want, named.ID) && !strings.Contains(res.body, `data-testid="org-name">LUNEFULL HANDLEKRAFTIG TIGER AS</td>`) {
			t.Errorf("list q=%q lacks the name column's value:\n%s", tc.q, res.body)
		}
	}

	detail := b.get(e.web.URL + "/admin/onboardings/" + named.ID)
	if !strings.Contains(detail.body, `data-testid="org-name">LUNEFULL HANDLEKRAFTIG TIGER AS</dd>`) {
		t.Errorf("detail page lacks the name:\n%s", detail.body)
	}
	if detail := b.get(e.web.URL + "/admin/onboardings/" + unnamed.ID); !strings.Contains(detail.body, "Ikke slått opp i Enhetsregisteret") {
		t.Errorf("detail page of one without a name does not say so:\n%s", detail.body)
	}

	res := b.get(e.web.URL + "/admin/onboardings.csv?q=lunefull")
	records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("export: %v, %d records\n%s", err, len(records), res.body)
	}
	if col := slices.Index(records[0], "org_name"); col < 0 || records[1][col] != "LUNEFULL HANDLEKRAFTIG TIGER AS" {
		t.Errorf("export's org_name: header %v, row %v", records[0], records[1])
	}

	admin, _ := e.dashStaff("ada@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(admin, "ERP")
	doc := e.openAPI()
	for id, want := range map[string]any{named.ID: "LUNEFULL HANDLEKRAFTIG TIGER AS", unnamed.ID: nil} {
		got := e.api(doc, "GET", "/api/v1/onboardings/"+id, key, "").json(t)
		if v, ok := got["org_name"]; !ok || v != want {
			t.Errorf("API org_name = %v (present %v), want %v", v, ok, want)
		}
	}
}

// TestRegisterIsTheSimulators: in sim mode the app's Enhetsregisteret is
// the simulator's, with ONBOARD_BRREG_TIMEOUT as its limit; a fault that
// makes it hang gives ErrUnavailable in that time, and off wires none.
func TestRegisterIsTheSimulators(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_BRREG_TIMEOUT": "300ms"})
	ctx := context.Background()
	if got, err := e.app.Register.Lookup(ctx, "314248295"); err != nil || got.Name != "LUNEFULL HANDLEKRAFTIG TIGER AS" {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if _, err := e.app.Register.Lookup(ctx, sim.BrregDeleted); !errors.Is(err, brreg.ErrDeleted) {
		t.Errorf("deleted: %v", err)
	}
	e.app.Sim.Inject(sim.Fault{Path: "/enhetsregisteret/api/", Hang: true})
	start := time.Now()
	if _, err := e.app.Register.Lookup(ctx, "310000019"); !errors.Is(err, brreg.ErrUnavailable) {
		t.Errorf("hanging register: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gave up after %v, want about 300ms", took)
	}

	off := newEnv(t, map[string]string{"ONBOARD_BRREG_URL": "off"})
	if off.app.Register != nil {
		t.Errorf("ONBOARD_BRREG_URL=off wired a register")
	}
}
