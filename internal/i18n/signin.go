package i18n

import (
	"math"
	"time"
)

// The staff sign-in throttle and CSRF refusals (issue 13): the sign-in
// page's "try again in …", the admin's unlock on the staff page (dashboard
// texts: bokmål and English), and the page for a form sent from another
// site, which customers can see too (nb, nn, en).
func init() { later(textsSignin) }

func textsSignin() {
	add(map[string]map[string]string{
		"nb": {
			"admin.signin.wait":         "For mange mislykkede forsøk. Prøv igjen om %s.",
			"admin.signin.wait.hint":    "Kontoen er ikke låst: vent, og logg inn med riktig passord. En administrator kan også oppheve ventetiden.",
			"admin.signin.wait.second":  "1 sekund",
			"admin.signin.wait.seconds": "%d sekunder",
			"admin.signin.wait.minutes": "%d minutter",

			"admin.staff.failures":      "Feil passord siste time: %d",
			"admin.staff.unlock":        "Opphev ventetid",
			"admin.staff.unlock.label":  "Opphev ventetid for innlogging for %s",
			"admin.staff.unlock.hint":   "Etter flere feil passord må man vente litt før neste forsøk. Har noen tastet feil passord for en ansatt, kan du oppheve ventetiden hvis den ansatte trenger å logge inn nå.",
			"admin.staff.done.unlocked": "Ventetiden for innlogging er opphevet for",

			"error.crosssite": "Skjemaet ble sendt fra en annen nettside, så vi tok ikke imot det. Åpne siden her, og send skjemaet derfra.",
		},
		"nn": {
			"error.crosssite": "Skjemaet vart sendt frå ei anna nettside, så vi tok ikkje imot det. Opne sida her, og send skjemaet derifrå.",
		},
		"en": {
			"admin.signin.wait":         "Too many failed attempts. Try again in %s.",
			"admin.signin.wait.hint":    "The account is not locked: wait, then sign in with the right password. An administrator can also clear the wait.",
			"admin.signin.wait.second":  "1 second",
			"admin.signin.wait.seconds": "%d seconds",
			"admin.signin.wait.minutes": "%d minutes",

			"admin.staff.failures":      "Wrong passwords in the last hour: %d",
			"admin.staff.unlock":        "Clear sign-in delay",
			"admin.staff.unlock.label":  "Clear sign-in delay for %s",
			"admin.staff.unlock.hint":   "After several wrong passwords, the next attempt has to wait a little. Where someone has typed wrong passwords for a staff member, you can clear the delay if they need to sign in now.",
			"admin.staff.done.unlocked": "The sign-in delay is cleared for",

			"error.crosssite": "The form was sent from another website, so it was refused. Open the page here and send the form from there.",
		},
	})
}

// WaitWords says a wait in lang's words, rounded up: seconds up to 90 s,
// whole minutes beyond ("40 sekunder", "3 minutes").
func WaitWords(lang string, d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	switch {
	case secs <= 1:
		return T(lang, "admin.signin.wait.second")
	case secs <= 90:
		return T(lang, "admin.signin.wait.seconds", secs)
	}
	return T(lang, "admin.signin.wait.minutes", (secs+59)/60)
}
