package i18n

// The dashboard's section on an agent onboarding's clients (issue 14, point
// 3): counts by state and each client with who changed it and when.
// Bokmål and English, as every dashboard text.
func init() { later(textsClientsAdmin) }

func textsClientsAdmin() {
	add(map[string]map[string]string{
		"nb": {
			"admin.clients.heading":   "Klienter",
			"admin.clients.lead":      "Klientene regnskapsfirmaet har lagt til systemtilgangen, gjennom oss eller i Altinns portal. Endringer i portalen ser vi når vi ser over kunden, eller når noen i firmaet åpner klientsiden.",
			"admin.clients.none":      "Ingen klienter er lagt til ennå.",
			"admin.clients.counts":    "Antall klienter etter tilstand",
			"admin.clients.list":      "Klientene",
			"admin.clients.orgno":     "Organisasjonsnummer",
			"admin.clients.name":      "Navn",
			"admin.clients.state":     "Tilstand",
			"admin.clients.reason":    "Hvorfor",
			"admin.clients.by":        "Av hvem",
			"admin.clients.when":      "Når",
			"admin.clients.by.person": "via onboard",
			"admin.clients.by.altinn": "i Altinns portal",

			"admin.clients.state.adding":    "Legges til",
			"admin.clients.state.delegated": "Lagt til",
			"admin.clients.state.removing":  "Fjernes",
			"admin.clients.state.removed":   "Fjernet",
			"admin.clients.state.failed":    "Kunne ikke gjøres",
		},
		"en": {
			"admin.clients.heading":   "Clients",
			"admin.clients.lead":      "The clients the accounting firm has added to the system access, through us or in Altinn's portal. Changes made in the portal are seen when we look the customer over, or when someone at the firm opens the clients page.",
			"admin.clients.none":      "No clients have been added yet.",
			"admin.clients.counts":    "Clients by state",
			"admin.clients.list":      "The clients",
			"admin.clients.orgno":     "Organisation number",
			"admin.clients.name":      "Name",
			"admin.clients.state":     "State",
			"admin.clients.reason":    "Why",
			"admin.clients.by":        "By",
			"admin.clients.when":      "When",
			"admin.clients.by.person": "via onboard",
			"admin.clients.by.altinn": "in Altinn's portal",

			"admin.clients.state.adding":    "Being added",
			"admin.clients.state.delegated": "Added",
			"admin.clients.state.removing":  "Being removed",
			"admin.clients.state.removed":   "Removed",
			"admin.clients.state.failed":    "Could not be done",
		},
	})
}
