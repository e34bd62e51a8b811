package mail

import (
	"strings"
	"testing"
)

// FuzzCheckStopToken is a message's opt-out link as anyone may send it
// (POST /mail/stop/:id?t=): only the token StopToken made for that
// onboarding with that key stops its mail; any other token, another
// onboarding's, or any token without a key is refused. StopURL's token
// round-trips.
func FuzzCheckStopToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef-test")
	id := "4b5f5d8e-2a47-4c8f-9a51-7f1d5b3f1c11"
	for _, s := range []struct{ id, token string }{
		{id, StopToken(key, id)}, {id, ""}, {id, "x"}, {"", StopToken(key, "")}, {id, StopToken(key, id) + "="},
		{id, strings.ToUpper(StopToken(key, id))}, {id + "\x00", StopToken(key, id)}, {"\xff", "%00"},
	} {
		f.Add(s.id, s.token)
	}
	f.Fuzz(func(t *testing.T, onboardingID, token string) {
		want := StopToken(key, onboardingID)
		if !CheckStopToken(key, onboardingID, want) {
			t.Fatalf("the token made for %q is refused", onboardingID)
		}
		got := CheckStopToken(key, onboardingID, token)
		if got && token != want {
			t.Fatalf("token %q stops %q's mail, but its token is %q", token, onboardingID, want)
		}
		if CheckStopToken(nil, onboardingID, token) || CheckStopToken(nil, onboardingID, StopToken(nil, onboardingID)) {
			t.Fatal("a token was taken without a key")
		}
		if other := onboardingID + "x"; CheckStopToken(key, other, want) {
			t.Fatalf("%q's token stops %q's mail", onboardingID, other)
		}
		u := StopURL("https://onboard.example", key, onboardingID)
		if _, tok, ok := strings.Cut(u, "?t="); !ok || tok != want {
			t.Fatalf("StopURL %q does not carry the token %q", u, want)
		}
	})
}
