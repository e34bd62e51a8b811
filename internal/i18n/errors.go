package i18n

// The texts of the one error map (internal/handlers/errormap.go) that the
// pages had no words for yet, and the words of an onboarding's real cause
// on the status page and the dashboard (a request gone at Altinn is not a
// refusal; a system user Altinn reports that byquery does not find yet).
func init() { later(textsErrors) }

func textsErrors() {
	add(map[string]map[string]string{
		"nb": {
			"error.409":                    "Noe annet endret dette samtidig. Last siden på nytt for å se hvor det står nå.",
			"error.502":                    "En tjeneste vi er avhengige av, svarte ikke. Prøv igjen om litt.",
			"error.cursor":                 "Lenken til neste side (cursor) er ikke en vi har gitt ut. Begynn på første side igjen.",
			"error.idempotency.mismatch":   "Denne Idempotency-Key er brukt for en annen forespørsel.",
			"error.idempotency.inprogress": "En forespørsel med denne Idempotency-Key er fortsatt i gang.",

			"admin.altinn.error.token":  "Maskinporten ga oss ikke et token for Altinn. Kjør onboard doctor for å sjekke nøkkelen, klienten og scopene.",
			"admin.action.err.timeline": "Tidslinjen viser hva som nådde Altinn.",

			"outcome.gone":        "Forespørselen finnes ikke lenger i Altinn. Den kan være slettet der, for eksempel sammen med systemtilgangen.",
			"outcome.gone.help":   "Lag en ny forespørsel og godkjenn den i Altinn.",
			"outcome.notverified": "Altinn sier at det allerede finnes en systemtilgang, men vi har ikke funnet den ennå. Vi sjekker igjen; last siden på nytt om litt.",

			"admin.status.help.failed.gone":            "Forespørselen finnes ikke lenger i Altinn (slettet der, kanskje sammen med systembrukeren). Forny for å lage en ny.",
			"admin.status.help.requesting.notverified": "Altinn sier at det finnes en systembruker (AUTH-00004), men byquery finner den ikke ennå. Neste sjekk ser etter den igjen.",
		},
		"en": {
			"error.409":                    "Something else changed this at the same time. Reload the page to see where it stands now.",
			"error.502":                    "A service we depend on did not answer. Try again in a moment.",
			"error.cursor":                 "The cursor (the link to the next page) is not one we gave out. Start again from the first page.",
			"error.idempotency.mismatch":   "This Idempotency-Key was used for a different request.",
			"error.idempotency.inprogress": "A request with this Idempotency-Key is still in progress.",

			"admin.altinn.error.token":  "Maskinporten did not give us a token for Altinn. Run onboard doctor to check the key, the client and the scopes.",
			"admin.action.err.timeline": "The timeline shows what reached Altinn.",

			"outcome.gone":        "The request no longer exists in Altinn. It may have been deleted there, for example together with the system access.",
			"outcome.gone.help":   "Make a new request and approve it in Altinn.",
			"outcome.notverified": "Altinn says the system access exists already, but we have not found it yet. We will look again; reload the page in a moment.",

			"admin.status.help.failed.gone":            "The request no longer exists at Altinn (deleted there, perhaps together with the system user). Renew to make a new one.",
			"admin.status.help.requesting.notverified": "Altinn says a system user exists (AUTH-00004), but byquery does not find it yet. The next check looks for it again.",
		},
	})
}
