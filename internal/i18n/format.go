package i18n

import (
	"strconv"
	"time"
)

// months are the months' names: the same in bokmål and nynorsk.
var months = map[string][12]string{
	"nb": {"januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// norwegian reports whether lang writes dates the Norwegian way (bokmål and
// nynorsk do; anything unknown reads as the default, bokmål).
func norwegian(lang string) bool { return lang != "en" }

// Date writes a day as the customer pages do: "2. desember 2026" in bokmål
// and nynorsk, "2 December 2026" in English.
func Date(lang string, t time.Time) string {
	if norwegian(lang) {
		return strconv.Itoa(t.Day()) + ". " + months["nb"][t.Month()-1] + " " + strconv.Itoa(t.Year())
	}
	return strconv.Itoa(t.Day()) + " " + months["en"][t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// When writes a moment as every customer page does: "2. desember 2026 kl.
// 14:05" in bokmål and nynorsk, "2 December 2026 at 14:05" in English. The
// caller picks the time zone. The dashboard writes the same (DateTime).
func When(lang string, t time.Time) string {
	if norwegian(lang) {
		return Date(lang, t) + " kl.\u00a0" + t.Format("15:04")
	}
	return Date(lang, t) + " at " + t.Format("15:04")
}
