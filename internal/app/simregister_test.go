package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/app"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/setup"
)

// TestSetupSimForeignSystem: a product system the simulator's seed lacks
// (the vendor rehearsing with its own system id) does not stop the service.
// The simulator's client belongs to the vendor the system id names, doctor
// says the system is not registered, and `system apply` registers it in
// the simulator, after which the system check passes.
func TestSetupSimForeignSystem(t *testing.T) {
	t.Parallel()
	const id = "123456789_rehearsal"
	a, err := simOnlyApp(t, t.TempDir(), map[string]string{"ONBOARD_SIM_STATE": "off",
		"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"` + id + `","rights":["ske-krav-og-betalinger"]}]`})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if got := app.SimMissingSystems(a.Sim, a.Config); len(got) != 1 || got[0] != id {
		t.Errorf("missing systems: %v", got)
	}
	res, err := a.Maskinporten.Probe(context.Background(), "altinn:authentication/systemregister.write")
	if err != nil {
		t.Fatal(err)
	}
	if org := setup.ConsumerOrg(res.AccessToken); org != "123456789" {
		t.Errorf("the simulator's client belongs to %q, want the system id's vendor 123456789", org)
	}
	svc, _ := app.SetupFor(a.Config)
	line := func() string {
		for _, c := range svc.Check(context.Background()).Results {
			if c.ID == "system" {
				return c.Line("en")
			}
		}
		return ""
	}
	if l := line(); !strings.Contains(l, "FAIL") || !strings.Contains(l, "not in Altinn's system register") {
		t.Errorf("system line before apply: %s", l)
	}
	plans, err := svc.Plans(context.Background(), false)
	if err != nil || len(plans) != 1 || !plans[0].Create {
		t.Fatalf("plans: %+v, %v", plans, err)
	}
	if _, err := svc.Apply(context.Background(), plans[0]); err != nil {
		t.Fatalf("apply: %v", svc.ExplainRefusal(context.Background(), id, err))
	}
	if l := line(); !strings.HasPrefix(l, "ok") {
		t.Errorf("system line after apply: %s", l)
	}
	if sys, ok := a.Sim.System(id); !ok || !strings.Contains(strings.Join(sys.ClientIDs, ","), config.SimClientID) {
		t.Errorf("the registered system: %+v, %v", sys, ok)
	}
}

// TestSetupSimTwoVendors: products whose system ids name two vendors are
// refused with a message that names them, since the one client belongs to
// one organisation.
func TestSetupSimTwoVendors(t *testing.T) {
	t.Parallel()
	_, err := simOnlyApp(t, t.TempDir(), map[string]string{"ONBOARD_SIM_STATE": "off",
		"ONBOARD_PRODUCTS": `[{"id":"a","kind":"standard","systemId":"991825827_smartcloud","rights":["ske-krav-og-betalinger"]},
		{"id":"b","kind":"standard","systemId":"123456789_other","rights":["ske-krav-og-betalinger"]}]`})
	if err == nil {
		t.Fatal("two vendors' systems were accepted")
	}
	for _, w := range []string{"991825827_smartcloud", "123456789_other", "different organisation numbers", "ONBOARD_PRODUCTS"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error lacks %q: %v", w, err)
		}
	}
}
