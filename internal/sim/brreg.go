package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// brregBase is where the fake Enhetsregisteret lives, as on data.brreg.no
// (config.SimBrregPath).
const brregBase = "/enhetsregisteret/api"

// Special organisation numbers of the fake Enhetsregisteret (all valid
// mod-11), so tests and the wizard's test-mode hint can name each case.
// They are listed in the package documentation.
const (
	BrregDeleted     = "319900004" // 200 with slettedato: deleted
	BrregRemoved     = "319900012" // 410 Gone: removed for legal reasons
	BrregUnknown     = "319900020" // 404 on /enheter and /underenheter
	BrregSubUnit     = "319900039" // a sub-unit (BEDR) of BrregSubUnitParent
	BrregBankrupt    = "319900047" // konkurs
	BrregWindingUp   = "319900055" // underAvvikling
	BrregUnavailable = "319900063" // 503, as when the register is down
	BrregSlow        = "319900071" // answers after BrregSlowDelay, past the service's 2 s
	// BrregSubUnitParent is the legal entity of BrregSubUnit: the seed's
	// demo customer.
	BrregSubUnitParent = "314248295"
)

// BrregSlowDelay is how long BrregSlow takes to answer.
const BrregSlowDelay = 3 * time.Second

// Media types the register versions its answers by.
const (
	brregEntityType  = "application/vnd.brreg.enhetsregisteret.enhet.v2+json"
	brregSubUnitType = "application/vnd.brreg.enhetsregisteret.underenhet.v2+json"
)

// brregEntity is an enhet or underenhet as data.brreg.no answers it (the
// fields a client is likely to read).
type brregEntity struct {
	OrgNo        string     `json:"organisasjonsnummer"`
	Name         string     `json:"navn"`
	Form         brregCode  `json:"organisasjonsform"`
	Registered   string     `json:"registreringsdatoEnhetsregisteret,omitempty"`
	DeletedOn    string     `json:"slettedato,omitempty"`
	Parent       string     `json:"overordnetEnhet,omitempty"`
	Bankrupt     *bool      `json:"konkurs,omitempty"`
	BankruptOn   string     `json:"konkursdato,omitempty"`
	WindingUp    *bool      `json:"underAvvikling,omitempty"`
	WindingUpOn  string     `json:"underAvviklingDato,omitempty"`
	Forced       *bool      `json:"underTvangsavviklingEllerTvangsopplosning,omitempty"`
	VAT          *bool      `json:"registrertIMvaregisteret,omitempty"`
	Address      *brregAddr `json:"forretningsadresse,omitempty"`
	Location     *brregAddr `json:"beliggenhetsadresse,omitempty"`
	LanguageForm string     `json:"maalform,omitempty"`
	Links        brregLinks `json:"_links"`
}

type brregCode struct {
	Code        string     `json:"kode"`
	Description string     `json:"beskrivelse"`
	Links       brregLinks `json:"_links"`
}

type brregAddr struct {
	Country     string   `json:"land"`
	CountryCode string   `json:"landkode"`
	PostCode    string   `json:"postnummer"`
	Place       string   `json:"poststed"`
	Lines       []string `json:"adresse"`
}

type brregLinks map[string]struct {
	Href string `json:"href"`
}

func (s *Server) brregLinks(kind, id string) brregLinks {
	l := brregLinks{}
	l["self"] = struct {
		Href string `json:"href"`
	}{s.publicURL + brregBase + "/" + kind + "/" + id}
	return l
}

// Word lists for the fake names of numbers the seed does not name.
var (
	brregAdjectives = [10]string{"BLÅ", "RASK", "STILLE", "NORDRE", "GRØNN", "LYSE", "TRYGG", "VESLE", "STERK", "KLAR"}
	brregNouns      = [10]string{"FJORD", "FJELL", "BRU", "ELV", "SKOG", "HAVN", "DAL", "ØY", "VIK", "TIND"}
	brregTrades     = [10]string{"REGNSKAP", "BYGG", "DATA", "HANDEL", "TRANSPORT", "EIENDOM", "KONSULT", "MEDIA", "HELSE", "SERVICE"}
)

// BrregName is the fake register's name for orgNo: the seed's name in
// upper case (as the register writes names), else one made of the number's
// last three digits before the check digit, e.g. "RASK FJELL REGNSKAP AS".
func BrregName(seedName, orgNo string) string {
	if seedName != "" {
		return strings.ToUpper(seedName)
	}
	return brregAdjectives[orgNo[5]-'0'] + " " + brregNouns[orgNo[6]-'0'] + " " + brregTrades[orgNo[7]-'0'] + " AS"
}

// handleBrreg answers GET /enhetsregisteret/api/enheter/{orgnr} (sub false)
// and /underenheter/{orgnr} (sub true) as data.brreg.no does: 400 for a
// malformed number, 404 for none, 410 with the short body for a removed
// entity, 200 with slettedato for a deleted one. Every valid number is an
// entity when the seed has AnyValidOrg, else only the seed's organisations
// and the special numbers are.
func (s *Server) handleBrreg(sub bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("orgnr")
		kind := "enheter"
		if sub {
			kind = "underenheter"
		}
		if !validOrgNo(n) {
			s.brregError(w, r, http.StatusBadRequest, "Ugyldig organisasjonsnummer: "+n)
			return
		}
		switch n {
		case BrregUnavailable:
			s.brregError(w, r, http.StatusServiceUnavailable, "Service Unavailable")
			return
		case BrregSlow:
			t := time.NewTimer(BrregSlowDelay)
			defer t.Stop()
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
			}
		case BrregRemoved:
			if !sub {
				writeBrreg(w, r, http.StatusGone, sub, map[string]string{"organisasjonsnummer": n, "slettedato": "2020-02-03"})
				return
			}
		}
		e, ok := s.brregEntity(n, sub)
		if !ok {
			s.brregError(w, r, http.StatusNotFound, "Enhet med organisasjonsnummer "+n+" ble ikke funnet")
			return
		}
		e.Links = s.brregLinks(kind, n)
		writeBrreg(w, r, http.StatusOK, sub, e)
	}
}

// brregEntity builds the answer for n from /enheter (sub false) or
// /underenheter, and reports whether there is one.
func (s *Server) brregEntity(n string, sub bool) (brregEntity, bool) {
	if sub != (n == BrregSubUnit) || n == BrregUnknown || n == BrregRemoved {
		return brregEntity{}, false
	}
	s.mu.Lock()
	seedName, seeded := s.orgs[n]
	anyValid := s.anyValidOrg
	parentName := s.orgs[BrregSubUnitParent]
	s.mu.Unlock()
	no, yes := false, true
	as := brregCode{Code: "AS", Description: "Aksjeselskap", Links: s.brregLinks("organisasjonsformer", "AS")}
	e := brregEntity{OrgNo: n, Form: as, Registered: "2020-01-15", Bankrupt: &no, WindingUp: &no, Forced: &no, VAT: &yes,
		LanguageForm: "Bokmål",
		Address:      &brregAddr{Country: "Norge", CountryCode: "NO", PostCode: "0150", Place: "OSLO", Lines: []string{"Testveien " + n[6:8]}}}
	switch n {
	case BrregDeleted:
		// A deleted entity keeps only a few fields.
		return brregEntity{OrgNo: n, Name: "NEDLAGT TESTFIRMA AS", Form: as, DeletedOn: "2023-06-30"}, true
	case BrregSubUnit:
		return brregEntity{OrgNo: n, Name: BrregName(parentName, BrregSubUnitParent) + " AVD BERGEN", Parent: BrregSubUnitParent,
			Form:     brregCode{Code: "BEDR", Description: "Underenhet til næringsdrivende og offentlig forvaltning", Links: s.brregLinks("organisasjonsformer", "BEDR")},
			Location: &brregAddr{Country: "Norge", CountryCode: "NO", PostCode: "5003", Place: "BERGEN", Lines: []string{"Bryggen 1"}}}, true
	case BrregBankrupt:
		e.Name, e.Bankrupt, e.BankruptOn = "KONKURSRAMMET TESTFIRMA AS", &yes, "2025-09-01"
		return e, true
	case BrregWindingUp:
		e.Name, e.WindingUp, e.WindingUpOn = "AVVIKLES TESTFIRMA AS", &yes, "2025-10-01"
		return e, true
	case BrregSlow, BrregUnavailable:
		e.Name = BrregName("", n)
		return e, true
	}
	if !seeded && !anyValid {
		return brregEntity{}, false
	}
	e.Name = BrregName(seedName, n)
	return e, true
}

// writeBrreg writes v in the versioned media type when the client asked
// for it, else as plain JSON (what the register gives without a version).
func writeBrreg(w http.ResponseWriter, r *http.Request, status int, sub bool, v any) {
	ct := brregEntityType
	if sub {
		ct = brregSubUnitType
	}
	if !strings.Contains(r.Header.Get("Accept"), ct) {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct+";charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// brregError writes the register's error shape (UNCONFIRMED in its details:
// a Spring-style body, shared/brreg.md §3).
func (s *Server) brregError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"timestamp": s.now().UTC().Format(time.RFC3339),
		"status":    status,
		"error":     http.StatusText(status),
		"message":   msg,
		"path":      r.URL.Path,
	})
}
