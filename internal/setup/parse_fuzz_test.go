package setup

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzConsumerOrg reads the consumer claim of whatever Maskinporten's
// token endpoint sent as an access token: never a panic, and the answer is
// "" or nine digits, the number the claim's ID ends with.
func FuzzConsumerOrg(f *testing.F) {
	enc := func(claims string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	}
	for _, s := range []string{
		enc(`{"consumer":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"},"scope":"altinn:x","client_id":"c"}`),
		enc(`{"consumer":{"ID":"991825827"}}`), enc(`{"consumer":{"id":"0192:991825827"}}`), enc(`{"consumer":{"ID":"0192:99182582"}}`),
		enc(`{"consumer":"0192:991825827"}`), enc(`{"consumer":{"ID":"0192:9918258271"}}`), enc(`{"consumer":{"ID":"a:b:991825827"}}`),
		enc(`null`), "a.b", "a.b.c.d", "..", "eyJ.=.x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		org := ConsumerOrg(token)
		if org == "" {
			return
		}
		if len(org) != 9 || strings.Trim(org, "0123456789") != "" {
			t.Fatalf("ConsumerOrg(%q) = %q, not nine digits", token, org)
		}
		parts := strings.Split(token, ".")
		b, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
		var c struct {
			Consumer struct {
				ID string `json:"ID"`
			} `json:"consumer"`
		}
		_ = json.Unmarshal(b, &c)
		if !strings.HasSuffix(c.Consumer.ID, org) {
			t.Fatalf("ConsumerOrg(%q) = %q, but the claim's ID is %q", token, org, c.Consumer.ID)
		}
	})
}

// FuzzVendorOrgNo reads a configured system id (ONBOARD_ALTINN_SYSTEM_ID
// and the products'): a taken one is nine digits, an underscore and a name
// without whitespace, and the answer is those nine digits; a refusal is an
// error and no number.
func FuzzVendorOrgNo(f *testing.F) {
	for _, s := range []string{"991825827_smartcloud", "991825827_lonn", "991825827_", "_x", "99182582_x", "991825827-x",
		"991825827_a b", "991825827_a_b", "991825827_\xff", "９９１８２５８２７_x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		org, err := VendorOrgNo(id)
		if err != nil {
			if org != "" {
				t.Fatalf("VendorOrgNo(%q) = %q with an error", id, org)
			}
			return
		}
		name, ok := strings.CutPrefix(id, org+"_")
		if len(org) != 9 || strings.Trim(org, "0123456789") != "" || !ok || name == "" || strings.ContainsAny(id, " \t\r\n") {
			t.Fatalf("VendorOrgNo(%q) = %q", id, org)
		}
	})
}
