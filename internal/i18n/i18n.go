// Package i18n is the one place that knows the words: every string a customer
// or staff member reads is looked up here by key, in bokmål (the default) or
// English.
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
)

// Languages offered, default first: bokmål, nynorsk and English, as Altinn
// speaks them.
var Languages = []string{"nb", "nn", "en"}

// Default is the language used when nothing else is known.
const Default = "nb"

// Supported reports whether lang is offered.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Others are the offered languages other than lang, in Languages' order:
// the language switch's links.
func Others(lang string) []string {
	var out []string
	for _, l := range Languages {
		if l != lang {
			out = append(out, l)
		}
	}
	return out
}

// T returns the text for key in lang, formatted with args. A missing key
// shows itself, so it is noticed (and TestEveryKeyInEveryLanguage fails).
func T(lang, key string, args ...any) string {
	all := messages()
	m, ok := all[lang]
	if !ok {
		m = all[Default]
	}
	s, ok := m[key]
	if !ok {
		// A text not (yet) in nynorsk reads in bokmål, as Altinn does.
		if s, ok = all[Default][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// matcher matches the languages a browser asks for against Languages, by
// CLDR's data: regional variants (en-GB, nb-NO, nn-NO), and Norwegian (no)
// for bokmål.
// It is built on first use (CLDR's tables are not touched before).
var matcher = sync.OnceValue(func() language.Matcher {
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
})

// FromAcceptLanguage picks the language an Accept-Language header prefers
// among those offered, or "" when it asks for none of them (or cannot be
// read). The header's tags are taken in order of their q-values (q=0: not
// wanted), and the first one the matcher is highly confident of wins:
// "nn, en;q=0.9" is nynorsk.
func FromAcceptLanguage(h string) string {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil {
		return ""
	}
	for _, t := range tags {
		if _, i, conf := matcher().Match(t); conf >= language.High {
			return Languages[i]
		}
	}
	return ""
}

// messages is every text by language and key, built on first use (the
// first page or message rendered): building the maps runs a few hundred KB
// of init code and allocates about 300 KB, which a service that has not
// rendered anything yet need not hold. The files' parts are added in
// their init order, as before.
var messages = sync.OnceValue(func() map[string]map[string]string {
	table = baseMessages()
	for _, part := range parts {
		part()
	}
	parts = nil
	return table
})

// table is the map messages builds; add writes to it.
var table map[string]map[string]string

// parts are the files' texts (their init registers them with later).
var parts []func()

// later registers a file's texts, added to messages when it is built.
func later(part func()) { parts = append(parts, part) }

func baseMessages() map[string]map[string]string {
	return map[string]map[string]string{
		"nb": {
			"app.title":                    "Koble til Altinn",
			"skip":                         "Hopp til innholdet",
			"sim.banner":                   "Testmodus: Altinn er simulert. Ingen ekte tilganger blir gitt.",
			"start.heading":                "Gi %s tilgang i Altinn",
			"start.lead":                   "For at %s skal kunne sende og hente opplysninger for virksomheten din, må virksomheten gi systemet tilgang i Altinn. Det kalles en systemtilgang.",
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
			"outcome.agent.steps":          "Logg inn i Altinn, gå til «Systemtilgang» i tilgangsstyringen, velg systemtilgangen for %s og legg til klientene. Systemet kan bare jobbe for klientene du legger til.",
			"outcome.agent.link":           "Åpne Altinn",
			"outcome.pending":              "Vi venter på godkjenning i Altinn.",
			"outcome.pending.help":         "Har du ikke godkjent ennå, kan du gå til Altinn nå.",
			"outcome.escalated":            "Forespørselen er sendt til en tilgangsstyrer i virksomheten.",
			"outcome.escalated.help":       "En person med rollen tilgangsstyrer (for eksempel daglig leder eller den som styrer tilganger i Altinn) må godkjenne den. De finner den i Altinn under «Systemtilgang», eller du kan sende dem lenken.",
			"outcome.continue":             "Gå til Altinn for å godkjenne",
			"outcome.rejected":             "Forespørselen ble avvist i Altinn.",
			"outcome.rejected.help":        "Var det en feil, kan du prøve igjen. Da lager vi en ny forespørsel.",
			"outcome.expired":              "Forespørselen er utløpt.",
			"outcome.expired.help":         "Lag en ny forespørsel og godkjenn den i Altinn.",
			"outcome.revoked":              "Tilgangen er fjernet i Altinn.",
			"outcome.revoked.help":         "Vil du koble til igjen, lager vi en ny forespørsel.",
			"outcome.cancelled":            "Denne tilkoblingen er avsluttet.",
			"outcome.accepted":             "Altinn sier at forespørselen er godkjent. Vi bekrefter systemtilgangen nå; last siden på nytt om litt.",
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
			"support.heading":              "Trenger du hjelp? Kontakt oss:",
			"support.email":                "E-post:",
			"support.phone":                "Telefon:",
			"support.web":                  "Kundeservice på nettet",
			"handoff.err.heading":          "Lenken virket ikke",
			"handoff.err.invalid":          "Lenken du kom fra er ikke gyldig. Gå tilbake til programmet og prøv igjen derfra.",
			"handoff.err.expired":          "Lenken du kom fra er utløpt. Gå tilbake til programmet og prøv igjen derfra.",
			"handoff.err.used":             "Lenken du kom fra er allerede brukt. Gå tilbake til programmet og prøv igjen derfra.",
			"handoff.err.return":           "Lenken du kom fra ville sende deg tilbake til en adresse vi ikke kjenner. Ta kontakt med leverandøren av programmet.",
			"handoff.err.product":          "Lenken du kom fra gjelder et produkt vi ikke kjenner. Ta kontakt med leverandøren av programmet.",
			"outcome.back":                 "Tilbake til %s",
			"admin.title":                  "Kundestøtte",
			"admin.signin.heading":         "Logg inn for ansatte",
			"admin.signin.email":           "E-post",
			"admin.signin.password":        "Passord",
			"admin.signin.submit":          "Logg inn",
			"admin.signin.wrong":           "Feil e-post eller passord.",
			"admin.signedin":               "Innlogget som",
			"admin.signout":                "Logg ut",
			"admin.role":                   "Rolle",
			"admin.role.viewer":            "Leser",
			"admin.role.operator":          "Operatør",
			"admin.role.admin":             "Administrator",
			"admin.home.heading":           "Oversikt",
			"admin.home.back":              "Til oversikten",
			"admin.error.401":              "Du må logge inn for å gjøre dette.",
			"admin.error.403":              "Rollen din gir ikke tilgang til dette. Spør en administrator om du trenger det.",
			"right.ske-krav-og-betalinger": "Krav og betalinger hos Skatteetaten",
			"package.urn:altinn:accesspackage:skattegrunnlag":                         "Skattegrunnlag",
			"package.urn:altinn:accesspackage:regnskapsforer-lonn":                    "Regnskapsfører lønn",
			"package.urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet": "Regnskapsfører med signeringsrettighet",

			// Dashboard: the funnel and the system users at Altinn.
			"admin.nav.label":                   "Sider i kundestøtten",
			"admin.nav.funnel":                  "Trakt",
			"admin.nav.systemusers":             "Systembrukere i Altinn",
			"admin.funnel.heading":              "Trakt: hvor langt kom tilkoblingene?",
			"admin.funnel.intro":                "Tilkoblinger som ble startet i perioden, og hvor langt de har kommet. Datoene gjelder norsk tid, og begge er med.",
			"admin.funnel.from":                 "Fra og med",
			"admin.funnel.to":                   "Til og med",
			"admin.funnel.show":                 "Vis",
			"admin.funnel.error.date":           "Skriv datoene som ÅÅÅÅ-MM-DD, for eksempel 2026-06-01.",
			"admin.funnel.error.year":           "Velg datoer mellom år 2000 og 2999.",
			"admin.funnel.error.order":          "Fra-datoen må være samme dag som eller før til-datoen.",
			"admin.funnel.error.toolong":        "Velg en periode på høyst to år.",
			"admin.funnel.steps":                "Steg",
			"admin.funnel.step":                 "Steg",
			"admin.funnel.count":                "Antall",
			"admin.funnel.share":                "Andel av startede",
			"admin.funnel.percent":              "%d %%",
			"admin.funnel.started":              "Startet",
			"admin.funnel.sent":                 "Sendt til Altinn",
			"admin.funnel.returned":             "Kom tilbake fra Altinn",
			"admin.funnel.accepted":             "Godkjent",
			"admin.funnel.connected":            "Tilkoblet",
			"admin.funnel.rejected":             "Avvist",
			"admin.funnel.expired":              "Utløpt",
			"admin.funnel.note":                 "Godkjent og tilkoblet teller også dem som var tilkoblet en gang og er trukket tilbake siden. Avvist og utløpt teller dem som står slik nå.",
			"admin.funnel.imported":             "I tillegg ble %s systembrukere laget utenfor veiviseren importert i perioden. De er ikke med i tallene over.",
			"admin.funnel.times":                "Tid fra start til tilkoblet",
			"admin.funnel.median":               "Median",
			"admin.funnel.p90":                  "90. persentil",
			"admin.funnel.notimes":              "Ingen av dem som ble startet i perioden, er tilkoblet ennå.",
			"admin.funnel.chart.heading":        "Per dag",
			"admin.funnel.chart.title":          "Startet og tilkoblet per dag, %s til %s",
			"admin.funnel.chart.desc":           "Stolpediagram med to stolper per dag: tilkoblinger startet den dagen, og hvor mange av dem som er tilkoblet. Tallene står også i tabellen under diagrammet.",
			"admin.funnel.chart.day":            "%s: %s startet, %s tilkoblet",
			"admin.funnel.chart.table":          "Vis tallene per dag",
			"admin.funnel.date":                 "Dato",
			"admin.dur.d":                       "%d d",
			"admin.dur.h":                       "%d t",
			"admin.dur.m":                       "%d min",
			"admin.dur.s":                       "%d s",
			"admin.systemusers.heading":         "Systembrukere i Altinn",
			"admin.systemusers.intro":           "Alle systembrukere Altinn har for systemene våre. De som ikke er laget gjennom veiviseren, for eksempel direkte i Altinn-portalen, er merket som ukjente og kan importeres som tilkoblinger.",
			"admin.systemusers.product":         "Produkt",
			"admin.systemusers.allproducts":     "Alle produkter",
			"admin.systemusers.filter":          "Vis",
			"admin.systemusers.system":          "System %s",
			"admin.systemusers.none":            "Altinn har ingen systembrukere for dette systemet.",
			"admin.systemusers.unknowncount":    "%s av %s er ukjente for oss.",
			"admin.systemusers.orgno":           "Organisasjonsnummer",
			"admin.systemusers.type":            "Type",
			"admin.systemusers.type.standard":   "Standard",
			"admin.systemusers.type.agent":      "Klientsystem",
			"admin.systemusers.externalref":     "Ekstern referanse",
			"admin.systemusers.created":         "Opprettet",
			"admin.systemusers.id":              "Systembruker-ID",
			"admin.systemusers.status":          "Hos oss",
			"admin.systemusers.known":           "Kjent",
			"admin.systemusers.unknown":         "Ukjent",
			"admin.systemusers.open":            "Åpne tilkoblingen",
			"admin.systemusers.import":          "Importer",
			"admin.systemusers.import.label":    "Importer systembrukeren til %s",
			"admin.systemusers.noproduct":       "Passer ikke med noe produkt",
			"admin.systemusers.viewer":          "Rollen din kan se listen, men ikke importere.",
			"admin.systemusers.imported":        "Systembrukeren er importert som en tilkobling.",
			"admin.systemusers.back":            "Tilbake til systembrukerne",
			"admin.systemusers.error.product":   "Det finnes ikke noe produkt med den ID-en.",
			"admin.systemusers.error.gone":      "Altinn viser ikke lenger denne systembrukeren. Kunden kan ha slettet den.",
			"admin.systemusers.error.noproduct": "Systembrukeren passer ikke med noe produkt (system, type og ekstern referanse), så den kan ikke importeres.",
			"admin.systemusers.error.conflict":  "Det finnes allerede en tilkobling for denne organisasjonen og dette produktet. Åpne den og oppdater den fra Altinn i stedet.",
			"admin.altinn.error.notfound":       "Altinn kjenner ikke systemet, eller det tilhører en annen leverandør.",
			"admin.altinn.error.denied":         "Altinn nektet oss tilgang. Sjekk at Maskinporten-klienten har scopet altinn:authentication/systemregister.write.",
			"admin.altinn.error.unavailable":    "Altinn svarte ikke. Prøv igjen om litt.",
			"admin.altinn.error.failed":         "Altinn ga et svar vi ikke kunne bruke. Detaljene står i loggen.",
			"admin.altinn.error.code":           "Feilkode fra Altinn",
			"admin.error.reference":             "Referanse i loggen",

			// Dashboard: events sent to the vendor's product (webhooks) on the detail page.
			"admin.webhooks.heading":          "Hendelser sendt til fagsystemet (webhooks)",
			"admin.webhooks.off":              "Ingen webhook-adresser er satt opp (ONBOARD_WEBHOOK_URLS), så nye hendelser sendes ikke.",
			"admin.webhooks.none":             "Ingen hendelser er sendt om denne tilkoblingen.",
			"admin.webhooks.event":            "Statusendring",
			"admin.webhooks.url":              "Adresse",
			"admin.webhooks.status":           "Levering",
			"admin.webhooks.attempts":         "Forsøk",
			"admin.webhooks.last":             "Siste svar",
			"admin.webhooks.when":             "Levert eller neste forsøk",
			"admin.webhooks.status.pending":   "Prøver igjen",
			"admin.webhooks.status.delivered": "Levert",
			"admin.webhooks.status.failed":    "Gitt opp",
			"admin.webhooks.delivered":        "Levert %s",
			"admin.webhooks.next":             "Neste forsøk %s",
			"admin.webhooks.history":          "Vis forsøkene",
			"admin.webhooks.older":            "og %d eldre forsøk",
			"admin.webhooks.payload":          "Innholdet som ble sendt (JSON)",
			"admin.webhooks.redeliver":        "Send på nytt",
			"admin.webhooks.err.notfound":     "Vi fant ikke denne leveringen.",
			"admin.webhooks.err.gone":         "Denne adressen er ikke lenger satt opp, så hendelsen sendes ikke dit på nytt.",
			"admin.webhooks.err.off":          "Webhooks er ikke satt opp, så ingenting kan sendes på nytt.",
			"admin.done.redeliver":            "Hendelsen sendes på nytt nå. Resultatet står under «Hendelser sendt til fagsystemet».",

			// Dashboard: the onboarding list, detail page, actions and export.
			"admin.list.heading":              "Tilkoblinger",
			"admin.list.counts":               "Antall per status",
			"admin.list.all":                  "Alle",
			"admin.list.search":               "Søk",
			"admin.list.search.hint":          "Starten av virksomhetens navn (minst tre tegn), eller helt likt: organisasjonsnummer, forespørsels-ID, systembruker-ID, ekstern referanse, kundereferanse eller vår referanse.",
			"admin.list.status":               "Status",
			"admin.list.any":                  "Alle",
			"admin.list.kind":                 "Type",
			"admin.list.from":                 "Opprettet fra og med",
			"admin.list.to":                   "Opprettet til og med",
			"admin.list.escalated":            "Bare de som er sendt videre til tilgangsstyrer",
			"admin.list.apply":                "Vis",
			"admin.list.reset":                "Nullstill filtre",
			"admin.list.csv":                  "Last ned som CSV",
			"admin.list.empty":                "Ingen tilkoblinger passer med filtrene.",
			"admin.list.pages":                "Sider",
			"admin.list.first":                "Til første side",
			"admin.list.next":                 "Neste side",
			"admin.list.err.filter":           "Et av filtrene har en verdi vi ikke forstår. Bruk skjemaet for å filtrere.",
			"admin.kind.standard":             "Standard",
			"admin.kind.agent":                "Klientsystem",
			"admin.escalated":                 "Hos tilgangsstyrer",
			"admin.none":                      "Ingen",
			"admin.field.created":             "Opprettet",
			"admin.field.updated":             "Sist endret",
			"admin.field.checked":             "Sist sjekket i Altinn",
			"admin.field.connected":           "Tilkoblet",
			"admin.field.orgno":               "Organisasjonsnummer",
			"admin.field.product":             "Produkt",
			"admin.field.kind":                "Type",
			"admin.field.status":              "Status",
			"admin.field.customerref":         "Kundereferanse",
			"admin.field.systemid":            "System-ID",
			"admin.field.externalref":         "Ekstern referanse",
			"admin.field.ref":                 "Vår referanse",
			"admin.field.id":                  "Intern ID",
			"admin.field.requestid":           "Forespørsels-ID i Altinn",
			"admin.field.systemuserid":        "Systembruker-ID",
			"admin.detail.heading":            "Tilkobling",
			"admin.detail.back":               "← Alle tilkoblinger",
			"admin.detail.escalated":          "Kunden har sendt forespørselen videre til en tilgangsstyrer i virksomheten.",
			"admin.detail.error":              "Siste feil:",
			"admin.detail.confirm.heading":    "Lenke til godkjenning",
			"admin.detail.confirm.label":      "Lenken kunden åpner for å godkjenne i Altinn",
			"admin.detail.confirm.hint":       "Merk og kopier lenken, og send den til kunden.",
			"admin.detail.confirm.open":       "Åpne lenken",
			"admin.detail.who":                "Hvem",
			"admin.detail.asked":              "Hva det ble spurt om",
			"admin.detail.asked.unknown":      "Produktet er ikke lenger satt opp, så vi vet ikke hva det ble spurt om.",
			"admin.detail.timeline":           "Tidslinje",
			"admin.detail.audit":              "Revisjonslogg",
			"admin.detail.audit.none":         "Ingen ansatte har gjort noe med denne tilkoblingen.",
			"admin.status.help.started":       "Startet, men ikke sendt til Altinn.",
			"admin.status.help.requesting":    "Forespørselen er på vei til Altinn, eller svaret var uklart. En ny sjekk finner ut om Altinn har den.",
			"admin.status.help.pending":       "Venter på at kunden godkjenner i Altinn. Send kunden lenken under om de ikke finner den.",
			"admin.status.help.accepted":      "Altinn sier godkjent, men vi har ikke funnet systembrukeren ennå. Bekreft systembrukeren.",
			"admin.status.help.connected":     "Tilkoblet: systembrukeren er bekreftet i Altinn.",
			"admin.status.help.rejected":      "Kunden avviste forespørselen i Altinn. Forny for å lage en ny.",
			"admin.status.help.expired":       "Forespørselen gikk ut før noen godkjente den. Forny for å lage en ny.",
			"admin.status.help.failed":        "Altinn sa nei da vi laget forespørselen. Se feilen og tidslinjen, og forny når årsaken er rettet.",
			"admin.status.help.cancelled":     "Avsluttet av en ansatt. Forespørselen er slettet i Altinn.",
			"admin.status.help.revoked":       "Systembrukeren er slettet i Altinn. Forny for å koble til igjen.",
			"admin.event.created":             "Opprettet",
			"admin.event.altinn_call":         "Kall til Altinn",
			"admin.event.status":              "Statusendring",
			"admin.event.return":              "Kunden kom tilbake",
			"admin.event.staff":               "Handling av ansatt",
			"admin.event.error":               "Feil",
			"admin.event.noanswer":            "Intet svar",
			"admin.event.latency":             "%d ms",
			"admin.event.raw":                 "Vis rått svar fra Altinn (JSON)",
			"admin.cause.customer":            "kunde",
			"admin.cause.reconciler":          "bakgrunnsjobb",
			"admin.cause.staff":               "ansatt",
			"admin.cause.altinn":              "Altinn",
			"admin.cause.system":              "system",
			"admin.cause.api":                 "API",
			"admin.audit.at":                  "Tid",
			"admin.audit.actor":               "Hvem",
			"admin.audit.action":              "Handling",
			"admin.audit.detail":              "Detaljer",
			"admin.audit.ip":                  "IP-adresse",
			"admin.actions.heading":           "Handlinger",
			"admin.action.refresh":            "Sjekk i Altinn nå",
			"admin.action.verify":             "Bekreft systembrukeren",
			"admin.action.renew":              "Forny forespørselen …",
			"admin.action.cancel":             "Avslutt …",
			"admin.action.verify.unavailable": "Systembrukeren kan bare bekreftes når Altinn har godkjent forespørselen.",
			"admin.action.none.destructive":   "Fornying og avslutning er ikke mulig i denne statusen.",
			"admin.action.back":               "Tilbake til tilkoblingen",
			"admin.action.err.notcancellable": "Denne tilkoblingen har en systembruker og kan ikke avsluttes her. Bare kunden kan slette systembrukeren i Altinn.",
			"admin.action.err.cancelled":      "Tilkoblingen er allerede avsluttet.",
			"admin.action.err.product":        "Produktet til denne tilkoblingen er ikke lenger satt opp.",
			"admin.action.err.refresh":        "En avsluttet tilkobling har ingenting å sjekke i Altinn.",
			"admin.action.err.verify":         "Systembrukeren kan bare bekreftes når Altinn har godkjent forespørselen (status godkjent eller tilkoblet).",
			"admin.action.err.renew":          "Bare avviste, utløpte, feilede eller fjernede tilkoblinger kan fornyes.",
			"admin.done.refresh":              "Sjekket i Altinn. Status og tidslinje under viser svaret.",
			"admin.done.verify":               "Systembrukeren er sjekket i Altinn. Status og tidslinje under viser svaret.",
			"admin.done.renew":                "Forespørselen er fornyet. Status og tidslinje under viser svaret fra Altinn.",
			"admin.done.cancel":               "Tilkoblingen er avsluttet, og forespørselen er slettet i Altinn.",
			"admin.done.create":               "Tilkoblingen er opprettet. Send lenken til godkjenning til kunden.",
			"admin.done.exists":               "Kunden hadde allerede en tilkobling for dette produktet. Her er den.",
			"admin.confirm.renew.heading":     "Forny forespørselen?",
			"admin.confirm.renew.explain":     "Vi lager en ny forespørsel i Altinn, som kunden må godkjenne på nytt.",
			"admin.confirm.renew.submit":      "Ja, forny",
			"admin.confirm.cancel.heading":    "Avslutte tilkoblingen?",
			"admin.confirm.cancel.explain":    "Tilkoblingen avsluttes, og kunden kan ikke lenger godkjenne den.",
			"admin.confirm.cancel.submit":     "Ja, avslutt",
			"admin.confirm.deletes":           "Den gamle forespørselen slettes i Altinn. Det kan ikke angres.",
			"admin.confirm.back":              "Avbryt",
			"admin.new.link":                  "Ny tilkobling for en kunde",
			"admin.new.heading":               "Ny tilkobling for en kunde",
			"admin.new.lead":                  "Vi lager forespørselen i Altinn og gir deg en lenke du sender til kunden. Kunden åpner den og godkjenner.",
			"admin.new.submit":                "Lag forespørsel",
			"admin.new.err.product":           "Velg et produkt.",
			"admin.error.notfound":            "Vi fant ikke denne tilkoblingen.",
			"admin.error.requestid":           "Referanse for feilsøking:",

			// Dashboard: staff sign-in under load, and the staff page (admins).
			"admin.signin.busy": "Mange logger inn akkurat nå. Vent litt og prøv igjen.",
			"admin.nav.staff":   "Ansatte",

			// The API keys page (admin_apikeys.go).
			"admin.nav.apikeys":             "API-nøkler",
			"admin.apikeys.heading":         "API-nøkler",
			"admin.apikeys.intro":           "Produktet bruker en API-nøkkel for å starte og følge tilkoblinger via /api/v1. Nøkkelen vises én gang og lagres bare som en hash.",
			"admin.apikeys.name":            "Navn",
			"admin.apikeys.prefix":          "Prefiks",
			"admin.apikeys.created":         "Laget",
			"admin.apikeys.lastused":        "Sist brukt",
			"admin.apikeys.state":           "Tilstand",
			"admin.apikeys.revoked":         "Tilbakekalt %s",
			"admin.apikeys.revoke":          "Tilbakekall",
			"admin.apikeys.add.heading":     "Lag en API-nøkkel",
			"admin.apikeys.add.submit":      "Lag nøkkel",
			"admin.apikeys.err.name":        "Gi nøkkelen et navn på 1 til 100 tegn.",
			"admin.apikeys.err.notfound":    "Fant ingen slik API-nøkkel.",
			"admin.apikeys.done.revoked":    "Nøkkelen er tilbakekalt og virker ikke lenger.",
			"admin.apikeys.created.heading": "Ny API-nøkkel",
			"admin.apikeys.created.key":     "API-nøkkel",
			"admin.apikeys.created.once":    "Kopier den nå og legg den inn i produktet på en trygg måte. Den lagres bare som en hash og kan ikke vises igjen.",
			"admin.apikeys.back":            "Tilbake til API-nøklene",

			"admin.staff.heading":          "Ansatte med tilgang",
			"admin.staff.intro":            "Lesere ser alt, operatører kan også gjøre noe med tilkoblingene, og administratorer styrer i tillegg hvem som har tilgang. Du kan ikke endre din egen rolle eller deaktivere din egen konto.",
			"admin.staff.created":          "Opprettet",
			"admin.staff.state":            "Status",
			"admin.staff.you":              "deg",
			"admin.staff.role.label":       "Rolle for %s",
			"admin.staff.role.submit":      "Endre rolle",
			"admin.staff.active":           "Aktiv",
			"admin.staff.disabled":         "Deaktivert %s",
			"admin.staff.disable":          "Deaktiver",
			"admin.staff.add.heading":      "Legg til en ansatt",
			"admin.staff.add.hint":         "Vi lager et sterkt passord til kontoen og viser det én gang. Gi det til den ansatte på en trygg måte.",
			"admin.staff.add.submit":       "Legg til",
			"admin.staff.err.email":        "Skriv en gyldig e-postadresse, for eksempel navn@firma.no.",
			"admin.staff.err.role":         "Velg en rolle.",
			"admin.staff.err.exists":       "Det finnes allerede en konto med denne e-postadressen.",
			"admin.staff.err.self":         "Du kan ikke endre din egen rolle eller deaktivere din egen konto. Be en annen administrator om det.",
			"admin.staff.err.lastadmin":    "Dette er den siste aktive administratoren. Gjør en annen til administrator først.",
			"admin.staff.err.notfound":     "Vi fant ikke den kontoen.",
			"admin.staff.created.heading":  "Kontoen er opprettet",
			"admin.staff.created.password": "Passordet til kontoen:",
			"admin.staff.created.once":     "Kopier det nå og gi det til den ansatte på en trygg måte. Det lagres bare som en hash og kan ikke vises igjen.",
			"admin.staff.back":             "Tilbake til ansatte",
			"admin.staff.confirm.heading":  "Deaktivere kontoen?",
			"admin.staff.confirm.explain":  "Den ansatte blir logget ut overalt med en gang og kan ikke logge inn igjen. Kontoen og det den har gjort, blir stående i loggen.",
			"admin.staff.confirm.submit":   "Deaktiver kontoen",
			"admin.staff.done.role":        "Rollen er endret for",
			"admin.staff.done.disabled":    "Kontoen er deaktivert og logget ut overalt:",
		},
		"en": {
			"app.title":                    "Connect to Altinn",
			"skip":                         "Skip to content",
			"sim.banner":                   "Test mode: Altinn is simulated. No real access is granted.",
			"start.heading":                "Give %s access in Altinn",
			"start.lead":                   "For %s to send and fetch information for your organisation, the organisation must give the system access in Altinn. This is called system access.",
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
			"outcome.agent.steps":          "Log in to Altinn, go to \"System access\" in access management, choose the system access for %s and add the clients. The system can only work for the clients you add.",
			"outcome.agent.link":           "Open Altinn",
			"outcome.pending":              "Waiting for approval in Altinn.",
			"outcome.pending.help":         "If you have not approved yet, you can go to Altinn now.",
			"outcome.escalated":            "The request has been sent to an access manager in the organisation.",
			"outcome.escalated.help":       "A person with the access manager role (for example the general manager, or whoever manages access in Altinn) must approve it. They find it in Altinn under \"System access\", or you can send them the link.",
			"outcome.continue":             "Go to Altinn to approve",
			"outcome.rejected":             "The request was rejected in Altinn.",
			"outcome.rejected.help":        "If that was a mistake, you can try again. We will make a new request.",
			"outcome.expired":              "The request has expired.",
			"outcome.expired.help":         "Make a new request and approve it in Altinn.",
			"outcome.revoked":              "The access was removed in Altinn.",
			"outcome.revoked.help":         "To connect again, we will make a new request.",
			"outcome.cancelled":            "This connection has been closed.",
			"outcome.accepted":             "Altinn says the request is approved. We are confirming the system access; reload the page in a moment.",
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
			"support.heading":              "Need help? Contact us:",
			"support.email":                "Email:",
			"support.phone":                "Phone:",
			"support.web":                  "Customer service online",
			"handoff.err.heading":          "The link did not work",
			"handoff.err.invalid":          "The link you followed is not valid. Go back to the program and try again from there.",
			"handoff.err.expired":          "The link you followed has expired. Go back to the program and try again from there.",
			"handoff.err.used":             "The link you followed has already been used. Go back to the program and try again from there.",
			"handoff.err.return":           "The link you followed would send you back to an address we do not know. Please contact the program's vendor.",
			"handoff.err.product":          "The link you followed is for a product we do not know. Please contact the program's vendor.",
			"outcome.back":                 "Back to %s",
			"admin.title":                  "Support",
			"admin.signin.heading":         "Staff sign-in",
			"admin.signin.email":           "Email",
			"admin.signin.password":        "Password",
			"admin.signin.submit":          "Sign in",
			"admin.signin.wrong":           "Wrong email or password.",
			"admin.signedin":               "Signed in as",
			"admin.signout":                "Sign out",
			"admin.role":                   "Role",
			"admin.role.viewer":            "Viewer",
			"admin.role.operator":          "Operator",
			"admin.role.admin":             "Administrator",
			"admin.home.heading":           "Overview",
			"admin.home.back":              "Back to the overview",
			"admin.error.401":              "You need to sign in to do that.",
			"admin.error.403":              "Your role does not allow this. Ask an administrator if you need it.",
			"right.ske-krav-og-betalinger": "Claims and payments at the Tax Administration",
			"package.urn:altinn:accesspackage:skattegrunnlag":                         "Tax base",
			"package.urn:altinn:accesspackage:regnskapsforer-lonn":                    "Accountant payroll",
			"package.urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet": "Accountant with signing rights",

			// Dashboard: the funnel and the system users at Altinn.
			"admin.nav.label":                   "Support pages",
			"admin.nav.funnel":                  "Funnel",
			"admin.nav.systemusers":             "System users at Altinn",
			"admin.funnel.heading":              "Funnel: how far did onboardings get?",
			"admin.funnel.intro":                "Onboardings started in the period, and how far they have got. Dates are Norwegian time, and both are included.",
			"admin.funnel.from":                 "From",
			"admin.funnel.to":                   "To (inclusive)",
			"admin.funnel.show":                 "Show",
			"admin.funnel.error.date":           "Write the dates as YYYY-MM-DD, for example 2026-06-01.",
			"admin.funnel.error.year":           "Choose dates between the years 2000 and 2999.",
			"admin.funnel.error.order":          "The from date must be on or before the to date.",
			"admin.funnel.error.toolong":        "Choose a period of at most two years.",
			"admin.funnel.steps":                "Steps",
			"admin.funnel.step":                 "Step",
			"admin.funnel.count":                "Count",
			"admin.funnel.share":                "Share of started",
			"admin.funnel.percent":              "%d%%",
			"admin.funnel.started":              "Started",
			"admin.funnel.sent":                 "Sent to Altinn",
			"admin.funnel.returned":             "Came back from Altinn",
			"admin.funnel.accepted":             "Accepted",
			"admin.funnel.connected":            "Connected",
			"admin.funnel.rejected":             "Rejected",
			"admin.funnel.expired":              "Expired",
			"admin.funnel.note":                 "Accepted and connected also count those that were connected once and have been revoked since. Rejected and expired count those in that status now.",
			"admin.funnel.imported":             "In addition, %s system users made outside the wizard were imported in the period. They are not in the numbers above.",
			"admin.funnel.times":                "Time from start to connected",
			"admin.funnel.median":               "Median",
			"admin.funnel.p90":                  "90th percentile",
			"admin.funnel.notimes":              "None of those started in the period is connected yet.",
			"admin.funnel.chart.heading":        "Per day",
			"admin.funnel.chart.title":          "Started and connected per day, %s to %s",
			"admin.funnel.chart.desc":           "Bar chart with two bars per day: onboardings started that day, and how many of them are connected. The numbers are also in the table below the chart.",
			"admin.funnel.chart.day":            "%s: %s started, %s connected",
			"admin.funnel.chart.table":          "Show the numbers per day",
			"admin.funnel.date":                 "Date",
			"admin.dur.d":                       "%d d",
			"admin.dur.h":                       "%d h",
			"admin.dur.m":                       "%d min",
			"admin.dur.s":                       "%d s",
			"admin.systemusers.heading":         "System users at Altinn",
			"admin.systemusers.intro":           "Every system user Altinn has for our systems. Those not made through the wizard, for instance directly in Altinn's portal, are marked unknown and can be imported as onboardings.",
			"admin.systemusers.product":         "Product",
			"admin.systemusers.allproducts":     "All products",
			"admin.systemusers.filter":          "Show",
			"admin.systemusers.system":          "System %s",
			"admin.systemusers.none":            "Altinn has no system users for this system.",
			"admin.systemusers.unknowncount":    "%s of %s are unknown to us.",
			"admin.systemusers.orgno":           "Organisation number",
			"admin.systemusers.type":            "Type",
			"admin.systemusers.type.standard":   "Standard",
			"admin.systemusers.type.agent":      "Client system",
			"admin.systemusers.externalref":     "External reference",
			"admin.systemusers.created":         "Created",
			"admin.systemusers.id":              "System user ID",
			"admin.systemusers.status":          "Here",
			"admin.systemusers.known":           "Known",
			"admin.systemusers.unknown":         "Unknown",
			"admin.systemusers.open":            "Open the onboarding",
			"admin.systemusers.import":          "Import",
			"admin.systemusers.import.label":    "Import the system user of %s",
			"admin.systemusers.noproduct":       "Matches no product",
			"admin.systemusers.viewer":          "Your role can see the list but not import.",
			"admin.systemusers.imported":        "The system user was imported as an onboarding.",
			"admin.systemusers.back":            "Back to the system users",
			"admin.systemusers.error.product":   "There is no product with that ID.",
			"admin.systemusers.error.gone":      "Altinn no longer lists this system user. The customer may have deleted it.",
			"admin.systemusers.error.noproduct": "The system user matches no product (system, type and external reference), so it cannot be imported.",
			"admin.systemusers.error.conflict":  "An onboarding for this organisation and product exists already. Open it and refresh it from Altinn instead.",
			"admin.altinn.error.notfound":       "Altinn does not know the system, or it belongs to another vendor.",
			"admin.altinn.error.denied":         "Altinn refused us access. Check that the Maskinporten client has the scope altinn:authentication/systemregister.write.",
			"admin.altinn.error.unavailable":    "Altinn did not answer. Try again in a moment.",
			"admin.altinn.error.failed":         "Altinn gave an answer we could not use. The details are in the log.",
			"admin.altinn.error.code":           "Altinn's error code",
			"admin.error.reference":             "Reference in the log",

			// Dashboard: events sent to the vendor's product (webhooks) on the detail page.
			"admin.webhooks.heading":          "Events sent to your product (webhooks)",
			"admin.webhooks.off":              "No webhook URLs are configured (ONBOARD_WEBHOOK_URLS), so new events are not sent.",
			"admin.webhooks.none":             "No events have been sent about this onboarding.",
			"admin.webhooks.event":            "Status change",
			"admin.webhooks.url":              "URL",
			"admin.webhooks.status":           "Delivery",
			"admin.webhooks.attempts":         "Attempts",
			"admin.webhooks.last":             "Last answer",
			"admin.webhooks.when":             "Delivered or next attempt",
			"admin.webhooks.status.pending":   "Retrying",
			"admin.webhooks.status.delivered": "Delivered",
			"admin.webhooks.status.failed":    "Given up",
			"admin.webhooks.delivered":        "Delivered %s",
			"admin.webhooks.next":             "Next attempt %s",
			"admin.webhooks.history":          "Show the attempts",
			"admin.webhooks.older":            "and %d older attempts",
			"admin.webhooks.payload":          "What was sent (JSON)",
			"admin.webhooks.redeliver":        "Redeliver",
			"admin.webhooks.err.notfound":     "We could not find this delivery.",
			"admin.webhooks.err.gone":         "This URL is no longer configured, so the event is not sent there again.",
			"admin.webhooks.err.off":          "Webhooks are not configured, so nothing can be sent again.",
			"admin.done.redeliver":            "The event is being sent again now. The result is under “Events sent to your product”.",

			// Dashboard: the onboarding list, detail page, actions and export.
			"admin.list.heading":              "Onboardings",
			"admin.list.counts":               "Count per status",
			"admin.list.all":                  "All",
			"admin.list.search":               "Search",
			"admin.list.search.hint":          "The start of the organisation's name (at least three characters), or exactly: organisation number, request id, system user id, external ref, customer reference or our reference.",
			"admin.list.status":               "Status",
			"admin.list.any":                  "Any",
			"admin.list.kind":                 "Kind",
			"admin.list.from":                 "Created from",
			"admin.list.to":                   "Created up to and including",
			"admin.list.escalated":            "Only those sent on to an access manager",
			"admin.list.apply":                "Show",
			"admin.list.reset":                "Clear filters",
			"admin.list.csv":                  "Download as CSV",
			"admin.list.empty":                "No onboardings match the filters.",
			"admin.list.pages":                "Pages",
			"admin.list.first":                "To the first page",
			"admin.list.next":                 "Next page",
			"admin.list.err.filter":           "One of the filters has a value we do not understand. Use the form to filter.",
			"admin.kind.standard":             "Standard",
			"admin.kind.agent":                "Client system",
			"admin.escalated":                 "With access manager",
			"admin.none":                      "None",
			"admin.field.created":             "Created",
			"admin.field.updated":             "Last changed",
			"admin.field.checked":             "Last checked in Altinn",
			"admin.field.connected":           "Connected",
			"admin.field.orgno":               "Organisation number",
			"admin.field.product":             "Product",
			"admin.field.kind":                "Kind",
			"admin.field.status":              "Status",
			"admin.field.customerref":         "Customer reference",
			"admin.field.systemid":            "System id",
			"admin.field.externalref":         "External ref",
			"admin.field.ref":                 "Our reference",
			"admin.field.id":                  "Internal id",
			"admin.field.requestid":           "Altinn request id",
			"admin.field.systemuserid":        "System user id",
			"admin.detail.heading":            "Onboarding",
			"admin.detail.back":               "← All onboardings",
			"admin.detail.escalated":          "The customer sent the request on to an access manager in the organisation.",
			"admin.detail.error":              "Last error:",
			"admin.detail.confirm.heading":    "Approval link",
			"admin.detail.confirm.label":      "The link the customer opens to approve in Altinn",
			"admin.detail.confirm.hint":       "Select and copy the link, and send it to the customer.",
			"admin.detail.confirm.open":       "Open the link",
			"admin.detail.who":                "Who",
			"admin.detail.asked":              "What was asked for",
			"admin.detail.asked.unknown":      "The product is no longer configured, so what was asked for is unknown.",
			"admin.detail.timeline":           "Timeline",
			"admin.detail.audit":              "Audit log",
			"admin.detail.audit.none":         "No staff member has acted on this onboarding.",
			"admin.status.help.started":       "Started, but not sent to Altinn.",
			"admin.status.help.requesting":    "The request is on its way to Altinn, or the answer was unclear. The next check finds out whether Altinn has it.",
			"admin.status.help.pending":       "Waiting for the customer to approve in Altinn. Send them the link below if they cannot find it.",
			"admin.status.help.accepted":      "Altinn says approved, but we have not found the system user yet. Verify the system user.",
			"admin.status.help.connected":     "Connected: the system user is verified in Altinn.",
			"admin.status.help.rejected":      "The customer rejected the request in Altinn. Renew to make a new one.",
			"admin.status.help.expired":       "The request expired before anyone approved it. Renew to make a new one.",
			"admin.status.help.failed":        "Altinn said no when we made the request. See the error and the timeline, and renew once the cause is fixed.",
			"admin.status.help.cancelled":     "Closed by a staff member. The request was deleted at Altinn.",
			"admin.status.help.revoked":       "The system user was deleted in Altinn. Renew to connect again.",
			"admin.event.created":             "Created",
			"admin.event.altinn_call":         "Altinn call",
			"admin.event.status":              "Status change",
			"admin.event.return":              "Customer came back",
			"admin.event.staff":               "Staff action",
			"admin.event.error":               "Error",
			"admin.event.noanswer":            "No answer",
			"admin.event.latency":             "%d ms",
			"admin.event.raw":                 "Show Altinn's raw answer (JSON)",
			"admin.cause.customer":            "customer",
			"admin.cause.reconciler":          "background job",
			"admin.cause.staff":               "staff",
			"admin.cause.altinn":              "Altinn",
			"admin.cause.system":              "system",
			"admin.cause.api":                 "API",
			"admin.audit.at":                  "Time",
			"admin.audit.actor":               "Who",
			"admin.audit.action":              "Action",
			"admin.audit.detail":              "Details",
			"admin.audit.ip":                  "IP address",
			"admin.actions.heading":           "Actions",
			"admin.action.refresh":            "Check in Altinn now",
			"admin.action.verify":             "Verify the system user",
			"admin.action.renew":              "Renew the request …",
			"admin.action.cancel":             "Cancel …",
			"admin.action.verify.unavailable": "The system user can only be verified once Altinn has approved the request.",
			"admin.action.none.destructive":   "Renewing and cancelling are not possible in this status.",
			"admin.action.back":               "Back to the onboarding",
			"admin.action.err.notcancellable": "This onboarding has a system user and cannot be cancelled here. Only the customer can delete the system user in Altinn.",
			"admin.action.err.cancelled":      "The onboarding is already cancelled.",
			"admin.action.err.product":        "This onboarding's product is no longer configured.",
			"admin.action.err.refresh":        "A cancelled onboarding has nothing to check in Altinn.",
			"admin.action.err.verify":         "The system user can only be verified once Altinn has approved the request (status approved or connected).",
			"admin.action.err.renew":          "Only rejected, expired, failed or removed onboardings can be renewed.",
			"admin.done.refresh":              "Checked in Altinn. The status and timeline below show the answer.",
			"admin.done.verify":               "The system user was checked in Altinn. The status and timeline below show the answer.",
			"admin.done.renew":                "The request was renewed. The status and timeline below show Altinn's answer.",
			"admin.done.cancel":               "The onboarding is cancelled and its request deleted at Altinn.",
			"admin.done.create":               "The onboarding was created. Send the approval link to the customer.",
			"admin.done.exists":               "The customer already had an onboarding for this product. Here it is.",
			"admin.confirm.renew.heading":     "Renew the request?",
			"admin.confirm.renew.explain":     "We make a new request in Altinn, which the customer must approve again.",
			"admin.confirm.renew.submit":      "Yes, renew",
			"admin.confirm.cancel.heading":    "Cancel the onboarding?",
			"admin.confirm.cancel.explain":    "The onboarding is closed and the customer can no longer approve it.",
			"admin.confirm.cancel.submit":     "Yes, cancel it",
			"admin.confirm.deletes":           "The old request is deleted at Altinn. This cannot be undone.",
			"admin.confirm.back":              "Go back",
			"admin.new.link":                  "New onboarding for a customer",
			"admin.new.heading":               "New onboarding for a customer",
			"admin.new.lead":                  "We make the request in Altinn and give you a link to send to the customer. The customer opens it and approves.",
			"admin.new.submit":                "Make the request",
			"admin.new.err.product":           "Choose a product.",
			"admin.error.notfound":            "We could not find this onboarding.",
			"admin.error.requestid":           "Reference for troubleshooting:",

			// Dashboard: staff sign-in under load, and the staff page (admins).
			"admin.signin.busy": "Many are signing in right now. Wait a moment and try again.",
			"admin.nav.staff":   "Staff",

			// The API keys page (admin_apikeys.go).
			"admin.nav.apikeys":             "API keys",
			"admin.apikeys.heading":         "API keys",
			"admin.apikeys.intro":           "The product uses an API key to start and follow onboardings through /api/v1. A key is shown once and stored only as a hash.",
			"admin.apikeys.name":            "Name",
			"admin.apikeys.prefix":          "Prefix",
			"admin.apikeys.created":         "Created",
			"admin.apikeys.lastused":        "Last used",
			"admin.apikeys.state":           "State",
			"admin.apikeys.revoked":         "Revoked %s",
			"admin.apikeys.revoke":          "Revoke",
			"admin.apikeys.add.heading":     "Create an API key",
			"admin.apikeys.add.submit":      "Create key",
			"admin.apikeys.err.name":        "Give the key a name of 1 to 100 characters.",
			"admin.apikeys.err.notfound":    "There is no such API key.",
			"admin.apikeys.done.revoked":    "The key is revoked and no longer works.",
			"admin.apikeys.created.heading": "New API key",
			"admin.apikeys.created.key":     "API key",
			"admin.apikeys.created.once":    "Copy it now and put it into the product by a safe channel. It is stored only as a hash and cannot be shown again.",
			"admin.apikeys.back":            "Back to the API keys",

			"admin.staff.heading":          "Staff accounts",
			"admin.staff.intro":            "Viewers read everything, operators also act on onboardings, and administrators also manage who has access. You cannot change your own role or disable your own account.",
			"admin.staff.created":          "Created",
			"admin.staff.state":            "Status",
			"admin.staff.you":              "you",
			"admin.staff.role.label":       "Role for %s",
			"admin.staff.role.submit":      "Change role",
			"admin.staff.active":           "Active",
			"admin.staff.disabled":         "Disabled %s",
			"admin.staff.disable":          "Disable",
			"admin.staff.add.heading":      "Add a staff member",
			"admin.staff.add.hint":         "We make a strong password for the account and show it once. Give it to them by a safe channel.",
			"admin.staff.add.submit":       "Add",
			"admin.staff.err.email":        "Type a valid email address, for example name@company.com.",
			"admin.staff.err.role":         "Choose a role.",
			"admin.staff.err.exists":       "There is already an account with this email address.",
			"admin.staff.err.self":         "You cannot change your own role or disable your own account. Ask another administrator.",
			"admin.staff.err.lastadmin":    "This is the last active administrator. Make someone else an administrator first.",
			"admin.staff.err.notfound":     "We could not find that account.",
			"admin.staff.created.heading":  "The account is created",
			"admin.staff.created.password": "The account's password:",
			"admin.staff.created.once":     "Copy it now and give it to them by a safe channel. It is stored only as a hash and cannot be shown again.",
			"admin.staff.back":             "Back to staff",
			"admin.staff.confirm.heading":  "Disable the account?",
			"admin.staff.confirm.explain":  "They are signed out everywhere at once and cannot sign in again. The account and what it did stay in the log.",
			"admin.staff.confirm.submit":   "Disable the account",
			"admin.staff.done.role":        "The role was changed for",
			"admin.staff.done.disabled":    "The account is disabled and signed out everywhere:",
		},
	}
}

// DateTime formats a moment as the dashboard writes it in lang: the same
// words as every customer page (When): "24. november 2026 kl. 14:05" in
// bokmål and nynorsk, "24 November 2026 at 14:05" in English, so the whole
// service has one date format per language (issue 12). The caller picks the
// time zone.
func DateTime(lang string, t time.Time) string { return When(lang, t) }

// Number formats a whole number with the language's thousands separator:
// "1 234 567" (a non-breaking space) in bokmål and nynorsk, "1,234,567" in
// English.
func Number(lang string, n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := "\u00a0"
	if lang == "en" {
		sep = ","
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// add merges a feature's texts (kept in a file of their own, such as
// campaigns.go) into the one table. A key defined twice is a mistake that
// would make one of the texts silently win, so it panics when the table is
// built (on first use; every i18n test builds it).
func add(more map[string]map[string]string) {
	for lang, m := range more {
		if table[lang] == nil {
			table[lang] = map[string]string{}
		}
		for k, v := range m {
			if _, dup := table[lang][k]; dup {
				panic("i18n: key defined twice: " + lang + " " + k)
			}
			table[lang][k] = v
		}
	}
}
