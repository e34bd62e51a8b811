package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// TestOutboxStoresTheUsabilityChange: a connected onboarding that becomes
// usable, then not usable, stores one usability_changed event per URL each
// time, in the save's transaction, with the documented fields; a save that
// leaves it as it was stores none, and a failed enqueue undoes the save.
func TestOutboxStoresTheUsabilityChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	jobs := &fakeJobs{}
	urls := []string{"https://a.example/hooks", "https://b.example/hooks"}
	// Made and connected through an outbox without URLs (it stores
	// nothing), so the deliveries counted are the usability events.
	w := withOutbox{d, &webhooks.Outbox{URLs: urls, Jobs: jobs, DB: d}}
	quiet := withOutbox{d, &webhooks.Outbox{Jobs: jobs, DB: d}}
	o, err := quiet.create(ctx, newOnboarding("ref-wh-usable-00001", "314248295"))
	if err != nil {
		t.Fatal(err)
	}
	su := "5e8a0c1d-0000-4000-8000-000000000001"
	o.Status, o.SystemUserID = domain.StatusConnected, &su
	if err := quiet.save(ctx, o, domain.StatusRequesting, domain.CauseCustomer); err != nil {
		t.Fatal(err)
	}
	if len(jobs.deliveryIDs()) != 0 {
		t.Fatal("an event before any check")
	}

	payloads := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, id := range jobs.deliveryIDs() {
			dl, err := d.WebhookDelivery(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(dl.Payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["type"] != webhooks.TypeUsabilityChanged || ev["id"] != dl.EventID || dl.EventType != webhooks.TypeUsabilityChanged {
				t.Fatalf("delivery %d: %s", id, dl.Payload)
			}
			out = append(out, ev)
		}
		return out
	}

	yes, no := true, false
	at := time.Now().UTC().Truncate(time.Microsecond)
	o.Usable, o.UsableSince, o.UsableOKAt = &yes, &at, &at
	if err := w.save(ctx, o, domain.StatusConnected, domain.CauseCustomer); err != nil {
		t.Fatal(err)
	}
	evs := payloads()
	if len(evs) != 2 {
		t.Fatalf("%d deliveries after becoming usable, want one per URL", len(evs))
	}
	data := evs[0]["data"].(map[string]any)
	wantKeys := []string{"id", "ref", "product", "kind", "org_no", "external_ref", "customer_ref", "status", "system_user_id",
		"usable", "previous_usable", "code", "reason", "detail", "last_success_at"}
	var keys []string
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("data keys %v, want %v", keys, wantKeys)
	}
	if data["usable"] != true || data["previous_usable"] != nil || data["code"] != nil || data["reason"] != nil ||
		data["status"] != "connected" || data["system_user_id"] != su || data["customer_ref"] != "cust-7" {
		t.Fatalf("usable event: %v", data)
	}
	if created, err := time.Parse(time.RFC3339Nano, evs[0]["created"].(string)); err != nil || !created.Equal(at) {
		t.Fatalf("created %v, want when it became usable (%v)", evs[0]["created"], at)
	}

	// Checked again, still usable: nothing.
	if err := w.save(ctx, o, domain.StatusConnected, domain.CauseReconciler); err != nil {
		t.Fatal(err)
	}
	if n := len(jobs.deliveryIDs()); n != 2 {
		t.Fatalf("%d deliveries after a save without news", n)
	}

	// Not usable: the code, its meaning and Maskinporten's words.
	code, msg := "MP-303", "MP-303 No approved system user"
	o.Usable, o.UsableCode, o.UsableMessage = &no, &code, &msg
	if err := w.save(ctx, o, domain.StatusConnected, domain.CauseStaff); err != nil {
		t.Fatal(err)
	}
	evs = payloads()
	if len(evs) != 4 {
		t.Fatalf("%d deliveries, want 4", len(evs))
	}
	data = evs[3]["data"].(map[string]any)
	if data["usable"] != false || data["previous_usable"] != true || data["code"] != code || data["detail"] != msg ||
		data["reason"] == nil || data["last_success_at"] == nil {
		t.Fatalf("not usable event: %v", data)
	}

	// The enqueue fails: the change is rolled back with its event.
	jobs.err = errors.New("queue down")
	o.Usable, o.UsableCode, o.UsableMessage = &yes, nil, nil
	if err := w.save(ctx, o, domain.StatusConnected, domain.CauseReconciler); err == nil {
		t.Fatal("a save whose event could not be enqueued succeeded")
	}
	stored, err := d.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Usable == nil || *stored.Usable || count(t, d, "webhook_events") != 2 {
		t.Fatalf("after the failed enqueue: usable %v, %d events", stored.Usable, count(t, d, "webhook_events"))
	}
}
