package sim

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// This file holds what the system register looks up elsewhere in Altinn: Access
// Management's metadata of access packages (is a package assignable to a standard
// system user, client-delegable to an agent one, or neither) and the Resource
// Registry's resources (does a right's resource exist, and may it be delegated). The
// simulator serves both on their anonymous routes (metadata.md §1-3 and §5), so a
// service's set-up checks can ask the same questions of it as of Altinn.

// Kinds of access package (systemregister.md §7), as the catalogue's flags.
const (
	kindOrdinary   = "ordinary"   // assignable and client-delegable
	kindClientOnly = "clientOnly" // client-delegable only: accountant, auditor, business manager
	kindAdmin      = "admin"      // assignable only: administering access
	kindUnusable   = "unusable"   // neither: guardianship, explicit delegation
)

// accessPackage is one package of Access Management's metadata.
type accessPackage struct {
	id   string
	urn  string
	area string // key into areas
	// name and description are by language (nb, nn, en); nb is always there.
	name, description map[string]string
	assignable        bool
	delegable         bool
	person            bool // a package for people (guardianship), not organisations
}

// area is an access-package area of Access Management's metadata.
type area struct {
	id   string
	name map[string]string
	icon string
}

// areas are the areas of the built-in packages, by code.
var areas = map[string]area{
	"skatt-avgift-regnskap-og-toll": {
		name: texts("Skatt, avgift, regnskap og toll", "Skatt, avgift, rekneskap og toll", "Tax, fees, accounting and customs"),
		icon: "Calculator"},
	"personale": {name: texts("Personale", "Personale", "Personnel"), icon: "People"},
	"jordbruk-skogbruk-jakt-fiske-og-akvakultur": {
		name: texts("Jordbruk, skogbruk, jakt, fiske og akvakultur", "Jordbruk, skogbruk, jakt, fiske og akvakultur", "Agriculture, forestry, hunting, fishing and aquaculture"),
		icon: "Plant"},
	"kultur-og-frivillighet":   {name: texts("Kultur og frivillighet", "Kultur og frivilligheit", "Culture and volunteering"), icon: "Music"},
	"fullmakter-for-konkursbo": {name: texts("Fullmakter for konkursbo", "Fullmakter for konkursbu", "Authorizations for bankruptcy estates"), icon: "Briefcase"},
	"fullmakter-for-regnskapsforer": {id: "64cbcdc8-01c9-448c-b3d2-eb9582beb3c2",
		name: texts("Fullmakter for regnskapsfører", "Fullmakter for rekneskapsførar", "Authorizations for accountants"), icon: "Calculator"},
	"fullmakter-for-revisor":          {name: texts("Fullmakter for revisor", "Fullmakter for revisor", "Authorizations for auditors"), icon: "Magnifier"},
	"fullmakter-for-forretningsforer": {name: texts("Fullmakter for forretningsfører", "Fullmakter for forretningsførar", "Authorizations for business managers"), icon: "Buildings"},
	"administrere-tilganger":          {name: texts("Administrere tilganger", "Administrere tilgangar", "Manage access"), icon: "Key"},
	"forhold-ved-virksomheten":        {name: texts("Forhold ved virksomheten", "Forhold ved verksemda", "Business affairs"), icon: "Building"},
	"vergemal-bank":                   {name: texts("Bank", "Bank", "Bank"), icon: "PersonSuit"},
	"simulator":                       {name: texts("Fra simulatorens seed", "Frå simulatoren sin seed", "From the simulator's seed"), icon: "Wrench"},
}

// texts makes a language map from Bokmål, Nynorsk and English, leaving out the
// empty ones (Access Management then falls back to Bokmål).
func texts(nb, nn, en string) map[string]string {
	m := map[string]string{"nb": nb}
	if nn != "" {
		m["nn"] = nn
	}
	if en != "" {
		m["en"] = en
	}
	return m
}

// builtinPackage is one row of the built-in catalogue.
type builtinPackage struct {
	code, id, area, kind string
	nb, nn, en           string
	// descNB, descNN and descEN describe the package; an empty descNB gives
	// a generic text in all three, an empty descNN or descEN none (bokmål's
	// is served, as Altinn does for a missing translation).
	descNB, descNN, descEN string
	person                 bool
}

// builtinCatalogue is a part of Access Management's package list, with the ids
// and flags of its code constants (altinn-authorization-tmp PackageConstants) where
// they are known here and made-up stable ids otherwise. It has the ordinary packages
// an integration usually asks for, all six client-only ones, the admin-type ones and
// a few that cannot be used at all; a seed can add more (mergeSeedSystem).
var builtinCatalogue = []builtinPackage{
	// Ordinary: assignable and client-delegable.
	{code: "skatt-naering", id: "1dba50d6-f604-48e9-bd41-82321b13e85c", area: "skatt-avgift-regnskap-og-toll", kind: kindOrdinary,
		nb: "Skatt næring", nn: "Skatt næring", en: "Business tax",
		descNB: "Gir tilgang til tjenester knyttet til skatt for næringsdrivende, som skattemelding og skatteoppgjør.",
		descNN: "Gir tilgang til tenester knytte til skatt for næringsdrivande, som skattemelding og skatteoppgjer.",
		descEN: "Gives access to services for business taxation, such as the tax return and the tax settlement."},
	{code: "skattegrunnlag", id: "4c859601-9b2b-4662-af39-846f4117ad7a", area: "skatt-avgift-regnskap-og-toll", kind: kindOrdinary,
		nb: "Skattegrunnlag", nn: "Skattegrunnlag", en: "Tax base",
		descNB: "Gir tilgang til tjenester for å hente og rapportere opplysninger som inngår i skattegrunnlaget.",
		descNN: "Gir tilgang til tenester for å hente og rapportere opplysningar som inngår i skattegrunnlaget.",
		descEN: "Gives access to services for fetching and reporting information that forms the tax base."},
	{code: "merverdiavgift", id: "9a61b136-7810-4939-ab6d-84938e9a12c6", area: "skatt-avgift-regnskap-og-toll", kind: kindOrdinary,
		nb: "Merverdiavgift", nn: "Meirverdiavgift", en: "Value added tax"},
	{code: "regnskap-okonomi-rapport", id: "b4e69b54-895e-42c5-bf0d-861a571cd282", area: "skatt-avgift-regnskap-og-toll", kind: kindOrdinary,
		nb: "Regnskap og økonomirapportering", nn: "Rekneskap og økonomirapportering", en: "Accounting and economic reporting"},
	{code: "toll", area: "skatt-avgift-regnskap-og-toll", kind: kindOrdinary, nb: "Toll", nn: "Toll", en: "Customs"},
	{code: "ansettelsesforhold", id: "cf575d42-72be-4d14-b0d2-77352221df4f", area: "personale", kind: kindOrdinary,
		nb: "Ansettelsesforhold", nn: "Tilsetjingsforhold", en: "Employment relations"},
	{code: "lonn", id: "fb0aa257-e7dc-4b7b-9528-77dfb749461c", area: "personale", kind: kindOrdinary,
		nb: "Lønn", nn: "Løn", en: "Salary"},
	{code: "a-ordning", id: "4af2d44d-f9f8-4585-b679-7875bb1828ea", area: "personale", kind: kindOrdinary,
		nb: "A-ordningen", nn: "A-ordninga", en: "The a-scheme"},
	{code: "jordbruk", id: "c5bbbc3f-605a-4dcb-a587-32124d7bb76d", area: "jordbruk-skogbruk-jakt-fiske-og-akvakultur", kind: kindOrdinary,
		nb: "Jordbruk", nn: "Jordbruk", en: "Agriculture"},
	{code: "dyrehold", id: "7b8a3aaa-c8ed-4ac4-923a-335f4f9eb45a", area: "jordbruk-skogbruk-jakt-fiske-og-akvakultur", kind: kindOrdinary,
		nb: "Dyrehold", nn: "Dyrehald", en: "Animal husbandry"},
	{code: "fiske", id: "9d2ec6e9-5148-4f47-9ae4-4536f6c9c1cb", area: "jordbruk-skogbruk-jakt-fiske-og-akvakultur", kind: kindOrdinary,
		nb: "Fiske", nn: "Fiske", en: "Fishing"},
	{code: "kunst-og-underholdning", area: "kultur-og-frivillighet", kind: kindOrdinary,
		nb: "Kunst og underholdning", nn: "Kunst og underhaldning", en: "Arts and entertainment"},
	{code: "konkursbo-skrivetilgang", id: "0e219609-02c6-44e6-9c80-fe2c1997940e", area: "fullmakter-for-konkursbo", kind: kindOrdinary,
		nb: "Konkursbo skrivetilgang", nn: "Konkursbu skrivetilgang", en: "Bankruptcy estate write access"},

	// Client-only: delegable to an agent system user, not assignable.
	{code: "regnskapsforer-med-signeringsrettighet", id: "955d5779-3e2b-4098-b11d-0431dc41ddbe", area: "fullmakter-for-regnskapsforer", kind: kindClientOnly,
		nb: "Regnskapsfører med signeringsrettighet", nn: "Rekneskapsførar med signeringsrett", en: "Accountant with signing rights",
		descNB: "Gir regnskapsfører tilgang til å signere på vegne av kunden for alle tjenester som krever signeringsrett.",
		descNN: "Gir rekneskapsførar tilgang til å signere på vegner av kunden for alle tenester som krev signeringsrett.",
		descEN: "Allows an accountant to sign on behalf of the client for all services that require signing rights."},
	{code: "regnskapsforer-uten-signeringsrettighet", id: "a5f7f72a-9b89-445d-85bb-06f678a3d4d1", area: "fullmakter-for-regnskapsforer", kind: kindClientOnly,
		nb: "Regnskapsfører uten signeringsrettighet", nn: "Rekneskapsførar utan signeringsrett", en: "Accountant without signing rights",
		descNB: "Gir regnskapsfører tilgang til alle tjenester for kunden som ikke krever signeringsrett.",
		descNN: "Gir rekneskapsførar tilgang til alle tenester for kunden som ikkje krev signeringsrett.",
		descEN: "Allows an accountant to perform all services for the client that do not require signing rights."},
	{code: "regnskapsforer-lonn", id: "43becc6a-8c6c-4e9e-bb2f-08fe588ada21", area: "fullmakter-for-regnskapsforer", kind: kindClientOnly,
		nb: "Regnskapsfører lønn", nn: "Rekneskapsførar løn", en: "Accountant salary",
		descNB: "Gir regnskapsfører tilgang til å rapportere lønn for kunden.",
		descNN: "Gir rekneskapsførar tilgang til å rapportere løn for kunden.",
		descEN: "Allows an accountant to report salaries for the client."},
	{code: "ansvarlig-revisor", id: "2f176732-b1e9-449b-9918-090d1fa986f6", area: "fullmakter-for-revisor", kind: kindClientOnly,
		nb: "Ansvarlig revisor", nn: "Ansvarleg revisor", en: "Auditor in charge",
		descNB: "Gir revisor tilgang til å opptre som ansvarlig revisor for kunden.",
		descNN: "Gir revisor tilgang til å opptre som ansvarleg revisor for kunden.",
		descEN: "Allows an auditor to act as the auditor in charge for the client."},
	{code: "revisormedarbeider", id: "96120c32-389d-46eb-8212-0a6540540c25", area: "fullmakter-for-revisor", kind: kindClientOnly,
		nb: "Revisormedarbeider", nn: "Revisormedarbeidar", en: "Assistant auditor",
		descNB: "Gir revisor tilgang til å opptre som revisormedarbeider for kunden.",
		descNN: "Gir revisor tilgang til å opptre som revisormedarbeidar for kunden.",
		descEN: "Allows an auditor to act as an assistant auditor for the client."},
	{code: "forretningsforer-eiendom", id: "0195efb8-7c80-7cf2-bcc8-720a3fb39d44", area: "fullmakter-for-forretningsforer", kind: kindClientOnly,
		nb: "Forretningsfører eiendom", nn: "Forretningsførar eigedom", en: "Business manager real estate",
		descNB: "Gir forretningsfører for borettslag og eierseksjonssameier tilgang til å opptre på vegne av kunden.",
		descNN: "Gir forretningsførar for burettslag og eigarseksjonssameige tilgang til å opptre på vegner av kunden.",
		descEN: "Allows the business manager of a housing cooperative or condominium to act on behalf of the client."},

	// Admin-type: assignable, not delegable.
	{code: "tilgangsstyrer", id: "0195efb8-7c80-7a95-ad36-900c3d8ad300", area: "administrere-tilganger", kind: kindAdmin,
		nb: "Tilgangsstyrer", nn: "Tilgangsstyrar", en: "Access manager",
		descNB: "Gir mulighet til å gi videre tilganger for virksomheten som man selv har mottatt.",
		descEN: "Allows passing on the organisation's access one has received oneself."},
	{code: "hovedadministrator", id: "0195efb8-7c80-7e16-ab0c-36dc8ab1a29d", area: "administrere-tilganger", kind: kindAdmin,
		nb: "Hovedadministrator", nn: "Hovudadministrator", en: "Main administrator",
		descNB: "Gir mulighet til å administrere alle tilganger for virksomheten.",
		descEN: "Allows administering all of the organisation's access."},
	{code: "klientadministrator", id: "0195efb8-7c80-7e82-9b4f-7d63e773bbca", area: "administrere-tilganger", kind: kindAdmin,
		nb: "Klientadministrator", nn: "Klientadministrator", en: "Client administrator",
		descNB: "Gir mulighet til å administrere tilgang til tjenester videre til ansatte på vegne av deres kunder.",
		descEN: "Allows passing on access to services to employees on behalf of the organisation's clients."},
	{code: "maskinporten-administrator", id: "0195efb8-7c80-7b30-a84d-f37fed9fb89c", area: "administrere-tilganger", kind: kindAdmin,
		nb: "Maskinporten administrator", nn: "Maskinporten administrator", en: "Maskinporten administrator",
		descNB: "Gir mulighet til å administrere tilgang til Maskinporten-scopes.",
		descEN: "Allows administering access to Maskinporten scopes."},

	// Unusable: neither assignable nor delegable.
	{code: "eksplisitt", id: "c0eb20c1-2268-48f5-88c5-f26cb47a6b1f", area: "forhold-ved-virksomheten", kind: kindUnusable,
		nb: "Eksplisitt tjenestedelegering", nn: "Eksplisitt tenestedelegering", en: "Explicit service delegation",
		descNB: "Denne fullmakten er ikke delegerbar; tilgang til tjenestene gis av hovedadministrator som enkeltrettigheter.",
		descEN: "This authorization is not delegable; access to its services is granted by the main administrator as single rights."},
	{code: "vergemal-bank-representasjon-dagligbank", area: "vergemal-bank", kind: kindUnusable, person: true,
		nb: "Representasjon dagligbank", descNB: "Vergemål: representasjon i dagligbank."},
	{code: "vergemal-bank-ta-opp-lan-kreditter", area: "vergemal-bank", kind: kindUnusable, person: true,
		nb: "Ta opp lån/kreditter", descNB: "Vergemål: ta opp lån og kreditter."},
}

// packagePrefix is the URN prefix of every access package.
const packagePrefix = "urn:altinn:accesspackage:"

// builtinPackages returns a fresh copy of the built-in catalogue by lower-case URN.
func builtinPackages() map[string]*accessPackage {
	out := make(map[string]*accessPackage, len(builtinCatalogue))
	for _, b := range builtinCatalogue {
		p := &accessPackage{
			id: b.id, urn: packagePrefix + b.code, area: b.area, person: b.person,
			name: texts(b.nb, b.nn, b.en),
		}
		if p.id == "" {
			p.id = derivedGUID("package:" + p.urn)
		}
		switch b.kind {
		case kindOrdinary:
			p.assignable, p.delegable = true, true
		case kindClientOnly:
			p.delegable = true
		case kindAdmin:
			p.assignable = true
		}
		if b.descNB != "" {
			p.description = texts(b.descNB, b.descNN, b.descEN)
		} else {
			p.description = texts(
				"Denne tilgangspakken gir fullmakter til tjenester knyttet til "+strings.ToLower(b.nb)+".",
				"Denne tilgangspakken gir fullmakter til tenester knytt til "+strings.ToLower(b.nn)+".",
				"This access package gives access to services related to "+strings.ToLower(b.en)+".")
		}
		out[strings.ToLower(p.urn)] = p
	}
	return out
}

// mergeSeedSystem adds a seed system's packages and rights to the catalogues: a
// package the catalogue lacks is added with the seed's flags, a known one gets the
// seed's flags added to its own; a right's resource becomes a delegable resource of
// type Default unless it is known. Only New calls it, before the server is shared.
func (s *Server) mergeSeedSystem(sys *System) {
	for _, sp := range sys.AccessPackages {
		key := strings.ToLower(sp.URN)
		p := s.packages[key]
		if p == nil {
			code := sp.URN[strings.LastIndex(sp.URN, ":")+1:]
			p = &accessPackage{id: derivedGUID("package:" + key), urn: sp.URN, area: "simulator",
				name:        texts(code, "", ""),
				description: texts("Tilgangspakke fra simulatorens seed.", "", "An access package from the simulator's seed.")}
			s.packages[key] = p
		}
		p.assignable = p.assignable || sp.Assignable
		p.delegable = p.delegable || sp.ClientDelegable
	}
	for _, r := range sys.Rights {
		for _, pair := range r.Resource {
			if pair.ID == resourceAttr && s.resources[pair.Value] == nil {
				s.resources[pair.Value] = plausibleResource(pair.Value)
			}
		}
	}
}

// packageLocked returns the catalogue's package with the URN (any case), or nil.
// The caller holds s.mu (the catalogue does not change after New).
func (s *Server) packageLocked(urn string) *accessPackage {
	return s.packages[strings.ToLower(urn)]
}

// packageFlagsLocked returns whether a system's package may go to a standard system
// user (assignable) and to an agent one (delegable): the catalogue's flags, with the
// seed package's own added. The caller holds s.mu.
func (s *Server) packageFlagsLocked(sp Package) (assignable, delegable bool) {
	assignable, delegable = sp.Assignable, sp.ClientDelegable
	if p := s.packageLocked(sp.URN); p != nil {
		assignable = assignable || p.assignable
		delegable = delegable || p.delegable
	}
	return assignable, delegable
}

// findPackageLocked finds a package as GET package/urn/{v} does: a value without
// the "urn:" prefix gets ":" in front, then the URN must end with it (any case) and
// exactly one package may match. The caller holds s.mu.
func (s *Server) findPackageLocked(v string) *accessPackage {
	v = strings.ToLower(v)
	if !strings.HasPrefix(v, "urn:") {
		v = ":" + v
	}
	var found *accessPackage
	for key, p := range s.packages {
		if strings.HasSuffix(key, v) {
			if found != nil {
				return nil
			}
			found = p
		}
	}
	return found
}

// metadataLang picks the language of Access Management's texts from
// Accept-Language as the main Access Management host does: only the first entry
// counts, a region is dropped, nb/no/nob give Bokmål, nn/nno Nynorsk, en/eng
// English, and anything else Bokmål.
func metadataLang(header string) string {
	first, _, _ := strings.Cut(header, ",")
	first, _, _ = strings.Cut(first, ";")
	first = strings.ToLower(strings.TrimSpace(first))
	if i := strings.IndexAny(first, "-_"); i >= 0 {
		first = first[:i]
	}
	switch first {
	case "nn", "nno":
		return "nn"
	case "en", "eng":
		return "en"
	}
	return "nb"
}

// translated returns the text in lang, falling back to Bokmål.
func translated(m map[string]string, lang string) string {
	if v, ok := m[lang]; ok && v != "" {
		return v
	}
	return m["nb"]
}

// packageDTO is Access Management's PackageDto as the package/urn route fills it.
type packageDTO struct {
	ID                        string        `json:"id"`
	Name                      string        `json:"name"`
	URN                       string        `json:"urn"`
	Description               string        `json:"description"`
	IsDelegable               bool          `json:"isDelegable"`
	IsAssignable              bool          `json:"isAssignable"`
	IsResourcePolicyAvailable bool          `json:"isResourcePolicyAvailable"`
	Area                      areaDTO       `json:"area"`
	Type                      entityTypeDTO `json:"type"`
	Resources                 []any         `json:"resources"`
}

// areaDTO is AreaDto, without its packages and group (null on this route).
type areaDTO struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URN         string `json:"urn"`
	Description string `json:"description"`
	IconURL     string `json:"iconUrl"`
	Packages    []any  `json:"packages"`
	Group       any    `json:"group"`
}

// entityTypeDTO is the entity type a package is for.
type entityTypeDTO struct {
	ID         string `json:"id"`
	ProviderID string `json:"providerId"`
	Name       string `json:"name"`
	Provider   any    `json:"provider"`
}

// altinn3Provider is the provider id the simulator gives Altinn's own packages.
var altinn3Provider = derivedGUID("provider:altinn3")

// dto renders p in lang. With partial false, a package not fully translated into
// lang comes back entirely in Bokmål (X-Accept-Partial-Translation: false).
func (p *accessPackage) dto(lang string, partial bool) packageDTO {
	a := areas[p.area]
	if !partial && lang != "nb" {
		full := p.name[lang] != "" && p.description[lang] != "" && a.name[lang] != ""
		if !full {
			lang = "nb"
		}
	}
	areaID := a.id
	if areaID == "" {
		areaID = derivedGUID("area:" + p.area)
	}
	typeName, typeKey := texts("Organisasjon", "Organisasjon", "Organization"), "organisation"
	if p.person {
		typeName, typeKey = texts("Person", "Person", "Person"), "person"
	}
	areaDesc := translated(a.name, lang)
	return packageDTO{
		ID: p.id, Name: translated(p.name, lang), URN: p.urn, Description: translated(p.description, lang),
		IsDelegable: p.delegable, IsAssignable: p.assignable,
		IsResourcePolicyAvailable: p.assignable || p.delegable,
		Area: areaDTO{ID: areaID, Name: translated(a.name, lang), URN: "accesspackage:area:" + p.area,
			Description: areaDesc, IconURL: "https://altinncdn.no/authorization/areaicons/" + a.icon + ".svg"},
		Type:      entityTypeDTO{ID: derivedGUID("entitytype:" + typeKey), ProviderID: altinn3Provider, Name: translated(typeName, lang)},
		Resources: []any{},
	}
}

// handlePackageByURN serves GET /accessmanagement/api/v1/meta/info/accesspackages/
// package/urn/{urnValue}: anonymous, the PackageDto of the one package whose URN
// ends with the value, 404 otherwise.
func (s *Server) handlePackageByURN(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.findPackageLocked(strings.TrimSpace(r.PathValue("urnValue")))
	var dto packageDTO
	if p != nil {
		partial := !strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Accept-Partial-Translation")), "false")
		dto = p.dto(metadataLang(r.Header.Get("Accept-Language")), partial)
	}
	s.mu.Unlock()
	if p == nil {
		writeProblem(w, bareProblem(http.StatusNotFound))
		return
	}
	writeJSON(w, http.StatusOK, dto)
}

// Resource types of the Resource Registry the simulator uses.
const (
	resourceTypeDefault      = "Default"
	resourceTypeMaskinporten = "MaskinportenSchema"
	// resourceAttr is the attribute id of a right's resource.
	resourceAttr = "urn:altinn:resource"
)

// notDelegableTypes are the resource types the system register refuses in rights
// (AUTH.VLD-00017).
var notDelegableTypes = []string{resourceTypeMaskinporten, "Altinn2Service", "Consent"}

// resource is a resource of the Resource Registry.
type resource struct {
	identifier  string
	title       map[string]string
	description map[string]string
	// rightDescription says what a right on the resource lets one do; the
	// title when nil.
	rightDescription map[string]string
	resourceType     string
	owner            *competentAuthority
}

// competentAuthority is a resource's owner.
type competentAuthority struct {
	name    map[string]string
	orgNo   string
	orgCode string
}

// skatteetaten owns the built-in Skatteetaten resources.
var skatteetaten = &competentAuthority{name: texts("Skatteetaten", "Skatteetaten", "Norwegian Tax Administration"), orgNo: "974761076", orgCode: "skd"}

// Built-in resources of type MaskinportenSchema: rights on them give
// AUTH.VLD-00017, as an API scope is not something a system user can be given.
const (
	ResourceMaskinportenMVA   = "skd-maskinporten-mva"
	ResourceMaskinportenAareg = "nav-maskinporten-aareg"
)

// builtinResources returns the Resource Registry's built-in resources.
func builtinResources() map[string]*resource {
	list := []*resource{
		{identifier: "ske-krav-og-betalinger", resourceType: resourceTypeDefault, owner: skatteetaten,
			title:       texts("Krav og betalinger", "Krav og betalingar", "Claims and payments"),
			description: texts("Se krav og betalinger hos Skatteetaten.", "Sjå krav og betalingar hos Skatteetaten.", "See claims and payments at the Norwegian Tax Administration."),
			rightDescription: texts("Gir tilgang til å se virksomhetens krav, innbetalinger og saldo hos Skatteetaten.",
				"Gir tilgang til å sjå krava, innbetalingane og saldoen til verksemda hos Skatteetaten.",
				"Gives access to see the organisation's claims, payments and balance at the Norwegian Tax Administration.")},
		{identifier: "ske-innrapportering-a-melding", resourceType: resourceTypeDefault, owner: skatteetaten,
			title:       texts("A-melding", "A-melding", "A-message"),
			description: texts("Innrapportering av a-melding.", "", "Reporting of the a-message.")},
		{identifier: "ske-innrapportering-aksjonaerregisteroppgave", resourceType: resourceTypeDefault, owner: skatteetaten,
			title: texts("Aksjonærregisteroppgave", "Aksjonærregisteroppgåve", "Shareholder register return")},
		{identifier: ResourceMaskinportenMVA, resourceType: resourceTypeMaskinporten, owner: skatteetaten,
			title: texts("Merverdiavgift-API (Maskinporten)", "", "VAT API (Maskinporten)")},
		{identifier: ResourceMaskinportenAareg, resourceType: resourceTypeMaskinporten,
			owner: &competentAuthority{name: texts("Arbeids- og velferdsetaten", "", "Norwegian Labour and Welfare Administration"), orgNo: "889640782", orgCode: "nav"},
			title: texts("Aa-registeret-API (Maskinporten)", "", "Aa register API (Maskinporten)")},
	}
	out := make(map[string]*resource, len(list))
	for _, r := range list {
		out[r.identifier] = r
	}
	return out
}

// resourceIDPattern is what the simulator takes for a plausible resource id when
// AnyResource is set: lower-case letters, digits, "-" and "_", as the Resource
// Registry's identifiers (and app_{org}_{app}) are.
var resourceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{2,99}$`)

// plausibleResource is the resource AnyResource makes of an id: delegable, of type
// Default, titled by its id.
func plausibleResource(id string) *resource {
	return &resource{identifier: id, resourceType: resourceTypeDefault, title: texts(id, id, id)}
}

// resourceLocked returns the resource with the id, or nil. The caller holds s.mu.
func (s *Server) resourceLocked(id string) *resource {
	if r := s.resources[id]; r != nil {
		return r
	}
	if s.anyResource && resourceIDPattern.MatchString(id) {
		return plausibleResource(id)
	}
	return nil
}

// serviceResource is the Resource Registry's ServiceResource, the fields worth
// reading (metadata.md §5).
type serviceResource struct {
	Identifier            string             `json:"identifier"`
	Title                 map[string]string  `json:"title"`
	Description           map[string]string  `json:"description,omitempty"`
	RightDescription      map[string]string  `json:"rightDescription,omitempty"`
	HasCompetentAuthority *competentAuthJSON `json:"hasCompetentAuthority,omitempty"`
	ResourceType          string             `json:"resourceType"`
	Delegable             bool               `json:"delegable"`
	Visible               bool               `json:"visible"`
	Status                string             `json:"status"`
}

// competentAuthJSON is a resource owner on the wire.
type competentAuthJSON struct {
	Name         map[string]string `json:"name"`
	Organization string            `json:"organization"`
	Orgcode      string            `json:"orgcode"`
}

// handleResource serves GET /resourceregistry/api/v1/resource/{id}: anonymous, the
// ServiceResource or 404.
func (s *Server) handleResource(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	res := s.resourceLocked(r.PathValue("id"))
	s.mu.Unlock()
	if res == nil {
		writeProblem(w, bareProblem(http.StatusNotFound))
		return
	}
	out := serviceResource{
		Identifier: res.identifier, Title: res.title, Description: res.description,
		ResourceType: res.resourceType, Delegable: !slices.Contains(notDelegableTypes, res.resourceType),
		Visible: true, Status: "Completed",
	}
	if out.Delegable {
		out.RightDescription = res.rightDescription
		if out.RightDescription == nil {
			out.RightDescription = res.title
		}
	}
	if o := res.owner; o != nil {
		out.HasCompetentAuthority = &competentAuthJSON{Name: o.name, Organization: o.orgNo, Orgcode: o.orgCode}
	}
	writeJSON(w, http.StatusOK, out)
}
