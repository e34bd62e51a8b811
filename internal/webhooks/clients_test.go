package webhooks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestClientEventType: only a client becoming delegated or removed is news
// to the vendor.
func TestClientEventType(t *testing.T) {
	for state, want := range map[domain.ClientState]string{
		domain.ClientDelegated: TypeClientDelegated, domain.ClientRemoved: TypeClientRemoved,
		domain.ClientAdding: "", domain.ClientRemoving: "", domain.ClientFailed: "", "": "",
	} {
		if got := ClientEventType(state); got != want {
			t.Errorf("%q: %q, want %q", state, got, want)
		}
	}
}

// TestClientOf: who changed a client is "person" or "altinn", never the
// person's pairwise sub; no reason is null.
func TestClientOf(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 15, 4, 123456789, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		by, want string
		reason   domain.ClientReason
	}{
		{"pairwise-sub-abc", "person", ""},
		{"altinn", "altinn", ""},
		{"", "person", domain.ReasonNotDelegated},
	} {
		c := ClientOf(db.Client{ClientID: "7b1e0000-0000-4000-8000-000000000001", OrgNo: "310000027", OrgName: "KYSTBAKERIET AS",
			State: domain.ClientRemoved, Reason: tc.reason, ChangedBy: tc.by, ChangedAt: at})
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if c.ChangedBy != tc.want || (tc.by != "" && tc.by != "altinn" && strings.Contains(string(b), tc.by)) {
			t.Errorf("%q: %s", tc.by, b)
		}
		if (tc.reason == "") != (c.Reason == nil) || !strings.Contains(string(b), `"changed_at":"2026-03-02T08:15:04.123456Z"`) {
			t.Errorf("%q: %s", tc.by, b)
		}
	}
}
