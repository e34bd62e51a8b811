// Package i18n is the one place that knows the words: every string a customer
// or staff member reads is looked up here by key, in bokmål (the default) or
// English.
package i18n

import (
	"fmt"
	"strings"
)

// Languages offered, default first.
var Languages = []string{"nb", "en"}

// Default is the language used when nothing else is known.
const Default = "nb"

// Supported reports whether lang is offered.
func Supported(lang string) bool { _, ok := messages[lang]; return ok }

// T returns the text for key in lang, formatted with args. A missing key
// shows itself, so it is noticed (and TestEveryKeyInEveryLanguage fails).
func T(lang, key string, args ...any) string {
	m, ok := messages[lang]
	if !ok {
		m = messages[Default]
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// FromAcceptLanguage picks the first supported language in an
// Accept-Language header, or "" when none is.
func FromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		base := strings.SplitN(tag, "-", 2)[0]
		switch base {
		case "nb", "no", "nn":
			return "nb"
		case "en":
			return "en"
		}
	}
	return ""
}

var messages = map[string]map[string]string{
	"nb": {
		"app.title":                    "Koble til Altinn",
		"lang.switch":                  "English",
		"lang.switch.label":            "Change language to English",
		"skip":                         "Hopp til innholdet",
		"sim.banner":                   "Testmodus: Altinn er simulert. Ingen ekte tilganger blir gitt.",
		"start.heading":                "Gi %s tilgang i Altinn",
		"start.lead":                   "For at %s skal kunne sende og hente opplysninger for virksomheten din, må virksomheten gi systemet tilgang i Altinn. Det kalles en systembruker.",
		"start.what":                   "Dette gir du tilgang til",
		"start.how":                    "Slik gjør du det",
		"start.step1":                  "Skriv inn organisasjonsnummeret til virksomheten.",
		"start.step2":                  "Du sendes til Altinn, logger inn og godkjenner.",
		"start.step3":                  "Du kommer tilbake hit og ser at alt er i orden.",
		"start.who":                    "Du må ha rettighet til å gi tilganger for virksomheten i Altinn (tilgangsstyrer). Har du ikke det, kan du be noen som har det om å godkjenne.",
		"start.agent":                  "Dette er et klientsystem for regnskapsførere og revisorer: etterpå velger du i Altinn hvilke klienter systemet får jobbe for.",
		"start.continue":               "Start",
		"start.choose":                 "Velg hva du vil koble til",
		"org.heading":                  "Hvilken virksomhet gjelder det?",
		"org.label":                    "Organisasjonsnummer",
		"org.hint":                     "9 siffer, for eksempel 314 248 295.",
		"org.submit":                   "Gå videre til Altinn",
		"org.back":                     "Tilbake",
		"org.err.empty":                "Skriv inn organisasjonsnummeret.",
		"org.err.length":               "Et organisasjonsnummer har 9 siffer.",
		"org.err.chars":                "Bruk bare siffer (mellomrom er greit).",
		"org.err.check":                "Dette er ikke et gyldig organisasjonsnummer. Sjekk at du har skrevet det riktig.",
		"org.sim.hint":                 "I testmodus kan du bruke et hvilket som helst gyldig nummer, for eksempel 314 248 295.",
		"err.summary":                  "Noe må rettes",
		"outcome.heading":              "Status for tilkoblingen",
		"outcome.org":                  "Virksomhet",
		"outcome.product":              "Gjelder",
		"outcome.connected":            "Alt er klart. %s er koblet til virksomheten i Altinn.",
		"outcome.connected.agent":      "Systemet er koblet til. Ett steg gjenstår: velg hvilke klienter systemet skal få jobbe for.",
		"outcome.agent.steps":          "Logg inn i Altinn, gå til «Tilganger for systemer» (systembrukere), velg systembrukeren for %s og legg til klientene. Systemet kan bare jobbe for klientene du legger til.",
		"outcome.agent.link":           "Åpne Altinn",
		"outcome.pending":              "Vi venter på godkjenning i Altinn.",
		"outcome.pending.help":         "Har du ikke godkjent ennå, kan du gå til Altinn nå.",
		"outcome.escalated":            "Forespørselen er sendt til en tilgangsstyrer i virksomheten.",
		"outcome.escalated.help":       "En person med rollen tilgangsstyrer (for eksempel daglig leder eller den som styrer tilganger i Altinn) må godkjenne den. De finner den i Altinn under tilganger for systemer, eller du kan sende dem lenken.",
		"outcome.continue":             "Gå til Altinn for å godkjenne",
		"outcome.rejected":             "Forespørselen ble avvist i Altinn.",
		"outcome.rejected.help":        "Var det en feil, kan du prøve igjen. Da lager vi en ny forespørsel.",
		"outcome.expired":              "Forespørselen er utløpt.",
		"outcome.expired.help":         "Lag en ny forespørsel og godkjenn den i Altinn.",
		"outcome.revoked":              "Tilgangen er fjernet i Altinn.",
		"outcome.revoked.help":         "Vil du koble til igjen, lager vi en ny forespørsel.",
		"outcome.cancelled":            "Denne tilkoblingen er avsluttet.",
		"outcome.accepted":             "Altinn sier at forespørselen er godkjent. Vi bekrefter systembrukeren nå; last siden på nytt om litt.",
		"outcome.failed":               "Vi fikk ikke laget forespørselen i Altinn.",
		"outcome.failed.help":          "Prøv igjen. Skjer det igjen, ta kontakt med oss og oppgi referansen under.",
		"outcome.unavailable":          "Altinn svarer ikke akkurat nå. Ingenting er tapt: prøv igjen om et par minutter.",
		"outcome.confirmhost":          "Altinn ga oss en lenke vi ikke stoler på, så vi sendte deg ikke videre. Ta kontakt med oss.",
		"outcome.requesting":           "Forespørselen er ikke sendt til Altinn ennå.",
		"outcome.retry":                "Prøv igjen",
		"outcome.newrequest":           "Lag ny forespørsel",
		"outcome.refresh":              "Sjekk status på nytt",
		"outcome.other.browser":        "Av hensyn til personvern viser vi bare status her. Detaljene ser den som startet tilkoblingen.",
		"outcome.ref":                  "Referanse",
		"outcome.checked":              "Sist sjekket i Altinn",
		"status.started":               "Startet",
		"status.requesting":            "Sender til Altinn",
		"status.pending":               "Venter på godkjenning",
		"status.accepted":              "Godkjent",
		"status.connected":             "Tilkoblet",
		"status.rejected":              "Avvist",
		"status.expired":               "Utløpt",
		"status.failed":                "Feilet",
		"status.cancelled":             "Avsluttet",
		"status.revoked":               "Fjernet i Altinn",
		"error.heading":                "Noe gikk galt",
		"error.400":                    "Forespørselen var ikke gyldig.",
		"error.403":                    "Skjemaet var utløpt eller ugyldig. Gå tilbake, last siden på nytt og prøv igjen.",
		"error.404":                    "Vi fant ikke det du lette etter. Sjekk lenken.",
		"error.405":                    "Det går ikke an å gjøre det her.",
		"error.413":                    "Du sendte for mye data.",
		"error.429":                    "Du har prøvd mange ganger på kort tid. Vent et minutt og prøv igjen.",
		"error.500":                    "En feil oppstod hos oss. Prøv igjen om litt.",
		"error.503":                    "Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.",
		"error.home":                   "Til forsiden",
		"admin.title":                  "Kundestøtte",
		"admin.signin.heading":         "Logg inn for ansatte",
		"admin.signin.email":           "E-post",
		"admin.signin.password":        "Passord",
		"admin.signin.submit":          "Logg inn",
		"admin.signin.wrong":           "Feil e-post eller passord.",
		"admin.signin.limited":         "For mange mislykkede forsøk. Vent 15 minutter og prøv igjen.",
		"admin.signedin":               "Innlogget som",
		"admin.signout":                "Logg ut",
		"admin.role":                   "Rolle",
		"admin.role.viewer":            "Leser",
		"admin.role.operator":          "Operatør",
		"admin.role.admin":             "Administrator",
		"admin.home.heading":           "Oversikt",
		"admin.home.placeholder":       "Her kommer listen over tilkoblinger.",
		"admin.home.back":              "Til oversikten",
		"admin.error.401":              "Du må logge inn for å gjøre dette.",
		"admin.error.403":              "Rollen din gir ikke tilgang til dette. Spør en administrator om du trenger det.",
		"right.ske-krav-og-betalinger": "Krav og betalinger hos Skatteetaten",
		"package.urn:altinn:accesspackage:skattegrunnlag":                         "Skattegrunnlag",
		"package.urn:altinn:accesspackage:regnskapsforer-lonn":                    "Regnskapsfører lønn",
		"package.urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet": "Regnskapsfører med signeringsrettighet",
	},
	"en": {
		"app.title":                    "Connect to Altinn",
		"lang.switch":                  "Norsk",
		"lang.switch.label":            "Bytt språk til norsk",
		"skip":                         "Skip to content",
		"sim.banner":                   "Test mode: Altinn is simulated. No real access is granted.",
		"start.heading":                "Give %s access in Altinn",
		"start.lead":                   "For %s to send and fetch information for your organisation, the organisation must give the system access in Altinn. This is called a system user.",
		"start.what":                   "What you give access to",
		"start.how":                    "How it works",
		"start.step1":                  "Enter the organisation number.",
		"start.step2":                  "You are sent to Altinn, log in and approve.",
		"start.step3":                  "You come back here and see that everything is in order.",
		"start.who":                    "You need the right to grant access for the organisation in Altinn (access manager). If you do not have it, you can ask someone who does to approve.",
		"start.agent":                  "This is a client system for accountants and auditors: afterwards you choose in Altinn which clients the system may work for.",
		"start.continue":               "Start",
		"start.choose":                 "Choose what to connect",
		"org.heading":                  "Which organisation is it?",
		"org.label":                    "Organisation number",
		"org.hint":                     "9 digits, for example 314 248 295.",
		"org.submit":                   "Continue to Altinn",
		"org.back":                     "Back",
		"org.err.empty":                "Enter the organisation number.",
		"org.err.length":               "An organisation number has 9 digits.",
		"org.err.chars":                "Use digits only (spaces are fine).",
		"org.err.check":                "This is not a valid organisation number. Check that you typed it correctly.",
		"org.sim.hint":                 "In test mode any valid number works, for example 314 248 295.",
		"err.summary":                  "Something needs fixing",
		"outcome.heading":              "Connection status",
		"outcome.org":                  "Organisation",
		"outcome.product":              "For",
		"outcome.connected":            "All done. %s is connected to the organisation in Altinn.",
		"outcome.connected.agent":      "The system is connected. One step remains: choose which clients the system may work for.",
		"outcome.agent.steps":          "Log in to Altinn, go to \"Access for systems\" (system users), choose the system user for %s and add the clients. The system can only work for the clients you add.",
		"outcome.agent.link":           "Open Altinn",
		"outcome.pending":              "Waiting for approval in Altinn.",
		"outcome.pending.help":         "If you have not approved yet, you can go to Altinn now.",
		"outcome.escalated":            "The request has been sent to an access manager in the organisation.",
		"outcome.escalated.help":       "A person with the access manager role (for example the general manager, or whoever manages access in Altinn) must approve it. They find it in Altinn under access for systems, or you can send them the link.",
		"outcome.continue":             "Go to Altinn to approve",
		"outcome.rejected":             "The request was rejected in Altinn.",
		"outcome.rejected.help":        "If that was a mistake, you can try again. We will make a new request.",
		"outcome.expired":              "The request has expired.",
		"outcome.expired.help":         "Make a new request and approve it in Altinn.",
		"outcome.revoked":              "The access was removed in Altinn.",
		"outcome.revoked.help":         "To connect again, we will make a new request.",
		"outcome.cancelled":            "This connection has been closed.",
		"outcome.accepted":             "Altinn says the request is approved. We are confirming the system user; reload the page in a moment.",
		"outcome.failed":               "We could not create the request in Altinn.",
		"outcome.failed.help":          "Try again. If it happens again, contact us and give the reference below.",
		"outcome.unavailable":          "Altinn is not answering right now. Nothing is lost: try again in a couple of minutes.",
		"outcome.confirmhost":          "Altinn gave us a link we do not trust, so we did not send you on. Please contact us.",
		"outcome.requesting":           "The request has not been sent to Altinn yet.",
		"outcome.retry":                "Try again",
		"outcome.newrequest":           "Make a new request",
		"outcome.refresh":              "Check status again",
		"outcome.other.browser":        "For privacy we only show the status here. The person who started the connection sees the details.",
		"outcome.ref":                  "Reference",
		"outcome.checked":              "Last checked in Altinn",
		"status.started":               "Started",
		"status.requesting":            "Sending to Altinn",
		"status.pending":               "Waiting for approval",
		"status.accepted":              "Approved",
		"status.connected":             "Connected",
		"status.rejected":              "Rejected",
		"status.expired":               "Expired",
		"status.failed":                "Failed",
		"status.cancelled":             "Closed",
		"status.revoked":               "Removed in Altinn",
		"error.heading":                "Something went wrong",
		"error.400":                    "The request was not valid.",
		"error.403":                    "The form had expired or was not valid. Go back, reload the page and try again.",
		"error.404":                    "We could not find what you were looking for. Check the link.",
		"error.405":                    "That cannot be done here.",
		"error.413":                    "You sent too much data.",
		"error.429":                    "You have tried many times in a short while. Wait a minute and try again.",
		"error.500":                    "Something failed on our side. Try again in a moment.",
		"error.503":                    "The service is temporarily unavailable. Try again in a moment.",
		"error.home":                   "Go to the start page",
		"admin.title":                  "Support",
		"admin.signin.heading":         "Staff sign-in",
		"admin.signin.email":           "Email",
		"admin.signin.password":        "Password",
		"admin.signin.submit":          "Sign in",
		"admin.signin.wrong":           "Wrong email or password.",
		"admin.signin.limited":         "Too many failed attempts. Wait 15 minutes and try again.",
		"admin.signedin":               "Signed in as",
		"admin.signout":                "Sign out",
		"admin.role":                   "Role",
		"admin.role.viewer":            "Viewer",
		"admin.role.operator":          "Operator",
		"admin.role.admin":             "Administrator",
		"admin.home.heading":           "Overview",
		"admin.home.placeholder":       "The list of onboardings will appear here.",
		"admin.home.back":              "Back to the overview",
		"admin.error.401":              "You need to sign in to do that.",
		"admin.error.403":              "Your role does not allow this. Ask an administrator if you need it.",
		"right.ske-krav-og-betalinger": "Claims and payments at the Tax Administration",
		"package.urn:altinn:accesspackage:skattegrunnlag":                         "Tax base",
		"package.urn:altinn:accesspackage:regnskapsforer-lonn":                    "Accountant payroll",
		"package.urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet": "Accountant with signing rights",
	},
}
