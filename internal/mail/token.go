package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
)

// StopPath is where a message's opt-out link goes: StopPath + onboarding id
// + "?t=" + token.
const StopPath = "/mail/stop/"

// StopToken signs an onboarding's opt-out link with the session key, so
// only a link from one of its messages stops its mail.
func StopToken(key []byte, onboardingID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("mail-stop\x00" + onboardingID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckStopToken reports whether token is the onboarding's.
func CheckStopToken(key []byte, onboardingID, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(key) == 0 {
		return false
	}
	want, _ := base64.RawURLEncoding.DecodeString(StopToken(key, onboardingID))
	return hmac.Equal(got, want)
}

// StopURL is the opt-out link of an onboarding's messages.
func StopURL(publicURL string, key []byte, onboardingID string) string {
	return publicURL + StopPath + url.PathEscape(onboardingID) + "?t=" + StopToken(key, onboardingID)
}
