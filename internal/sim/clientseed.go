package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Firm is an organisation that others have made their accountant, auditor or
// business manager: a facilitator in Access Management, whose agent system users
// may be given its clients (clientdelegation.md §4).
type Firm struct {
	OrgNo string `json:"orgNo"`
	Name  string `json:"name"`
	// Clients are the organisations the firm works for, in the order
	// Access Management lists them.
	Clients []FirmClient `json:"clients"`
}

// FirmClient is one client relationship of a firm.
type FirmClient struct {
	OrgNo string `json:"orgNo"`
	// Name is the client's name as Register has it; Altinn writes names in
	// upper case ("AUTORISERT VEIK TIGER AS").
	Name string `json:"name"`
	// Relationship is how the client made the firm its facilitator:
	// regnskapsforer, revisor or forretningsforer (a role in
	// Enhetsregisteret, which gives the role's packages, RelationshipPackages),
	// or fullmakt (an explicit delegation of Packages).
	Relationship string `json:"relationship"`
	// Packages are the access packages (URNs) the client gave the firm. For a
	// role they replace the role's packages when set; fullmakt needs them.
	Packages []string `json:"packages,omitempty"`
	// Deleted is an organisation deleted in Enhetsregisteret: Access
	// Management no longer lists it, so it cannot be delegated (AUTH-00079).
	Deleted bool `json:"deleted,omitempty"`
}

// Person is someone ID-porten can log in (a synthetic test person, as in
// Tenor), known in Altinn.
type Person struct {
	// PID is the national identity number: 11 digits with both check digits.
	PID  string `json:"pid"`
	Name string `json:"name"`
	// Roles are what the person holds at organisations in Altinn.
	Roles []PersonRole `json:"roles,omitempty"`
}

// PersonRole is what a person holds at one organisation: access-package codes
// (klientadministrator, hovedadministrator, tilgangsstyrer, ...) and legacy
// role codes (KLADM, HADM, DAGL, ...).
type PersonRole struct {
	OrgNo string   `json:"orgNo"`
	Roles []string `json:"roles,omitempty"`
}

// IDPortenClient is an OpenID Connect client registered with ID-porten.
type IDPortenClient struct {
	ClientID string `json:"clientId"`
	// RedirectURIs are the registered redirect URIs, matched exactly.
	RedirectURIs []string `json:"redirectUris"`
	// AuthMethod is the registered client authentication at the token
	// endpoint: private_key_jwt (the default), client_secret_basic or
	// client_secret_post.
	AuthMethod string `json:"authMethod,omitempty"`
	// KeyID and PublicKeyPEM are the client's key for private_key_jwt.
	KeyID        string `json:"keyId,omitempty"`
	PublicKeyPEM string `json:"publicKeyPem,omitempty"`
	// Secret is the client secret for the client_secret_* methods.
	Secret string `json:"secret,omitempty"`
	// Scopes are the scopes the client may ask for besides openid and
	// profile; nil gives altinn:clientdelegations.read and .write.
	Scopes []string `json:"scopes,omitempty"`
}

// Relationships of a client to its firm, and the client-delegation scopes.
const (
	RelRegnskapsforer   = "regnskapsforer"
	RelRevisor          = "revisor"
	RelForretningsforer = "forretningsforer"
	RelFullmakt         = "fullmakt"

	ScopeClientDelegationsRead  = "altinn:clientdelegations.read"
	ScopeClientDelegationsWrite = "altinn:clientdelegations.write"
)

// ID-porten client authentication methods.
const (
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// RelationshipPackages are the packages a role in Enhetsregisteret gives the
// firm (clientdelegation.md §4): accountant, auditor, business manager.
var RelationshipPackages = map[string][]string{
	RelRegnskapsforer: {
		packagePrefix + "regnskapsforer-med-signeringsrettighet",
		packagePrefix + "regnskapsforer-uten-signeringsrettighet",
		packagePrefix + "regnskapsforer-lonn",
	},
	RelRevisor:          {packagePrefix + "ansvarlig-revisor", packagePrefix + "revisormedarbeider"},
	RelForretningsforer: {packagePrefix + "forretningsforer-eiendom"},
}

// Seed's firms and persons.
const (
	// FirmOrgNo is Fjellheim Regnskap AS, the accounting firm of DefaultSeed.
	FirmOrgNo = "310000019"
	// OtherFirmOrgNo is Vestland Revisjon AS, a second firm.
	OtherFirmOrgNo = "315000009"
	// FirmClientCount is how many live clients Fjellheim Regnskap has.
	FirmClientCount = 320

	// PersonClientAdmin holds klientadministrator at Fjellheim Regnskap: may
	// add and remove its clients.
	PersonClientAdmin = "15838540063"
	// PersonMainAdmin holds the legacy role HADM at Fjellheim Regnskap: may too.
	PersonMainAdmin = "02879040089"
	// PersonOtherFirm holds klientadministrator at Vestland Revisjon only.
	PersonOtherFirm = "24917240082"
	// PersonNoRole works at Fjellheim Regnskap without a role that lets them
	// administer clients.
	PersonNoRole = "11886840073"

	// IDPortenDevClientID is the ID-porten client DevIDPortenClient makes.
	IDPortenDevClientID = "onboard-dev-idporten"
	// DefaultIDPortenCallbackPath is the service's redirect URI path that
	// DevIDPortenClient registers under the service's public URL.
	DefaultIDPortenCallbackPath = "/idporten/callback"
)

// DefaultFirms are DefaultSeed's firms. Fjellheim Regnskap AS (FirmOrgNo) has
// FirmClientCount live clients: the seed's named organisations, then
// generated ones with valid org numbers from 312100000 up and names made of
// their digits (BrregName). Most have it as accountant (all three
// regnskapsforer packages); every 40th, from the 8th, has it as business
// manager (forretningsforer-eiendom only), from the 20th gave it only
// regnskapsforer-lonn, from the 32nd only regnskapsforer-uten-
// signeringsrettighet; and BrregDeleted is a deleted client. Vestland Revisjon
// AS (OtherFirmOrgNo) audits four and keeps the books of two.
func DefaultFirms() []Firm {
	main := Firm{OrgNo: FirmOrgNo, Name: "Fjellheim Regnskap AS"}
	named := []FirmClient{
		{OrgNo: "314248295", Name: "LUNEFULL HANDLEKRAFTIG TIGER AS"},
		{OrgNo: "310000027", Name: "KYSTBAKERIET AS"},
		{OrgNo: "310000035", Name: "NORDLYS TRANSPORT AS"},
		{OrgNo: "310000043", Name: "BERGEN BYGGSERVICE AS"},
		{OrgNo: "310000051", Name: "SOLSIDEN FRISØR AS"},
	}
	gen := generatedOrgs(31210000, FirmClientCount-len(named))
	for i := 0; i < FirmClientCount; i++ {
		var c FirmClient
		if i < len(named) {
			c = named[i]
		} else {
			o := gen[i-len(named)]
			c = FirmClient{OrgNo: o, Name: BrregName("", o)}
		}
		switch i % 40 {
		case 7:
			c.Relationship = RelForretningsforer
		case 19:
			c.Relationship, c.Packages = RelFullmakt, []string{packagePrefix + "regnskapsforer-lonn"}
		case 31:
			c.Relationship, c.Packages = RelFullmakt, []string{packagePrefix + "regnskapsforer-uten-signeringsrettighet"}
		default:
			c.Relationship = RelRegnskapsforer
		}
		main.Clients = append(main.Clients, c)
	}
	main.Clients = append(main.Clients, FirmClient{OrgNo: BrregDeleted, Name: "NEDLAGT BAKERI AS", Relationship: RelRegnskapsforer, Deleted: true})

	other := Firm{OrgNo: OtherFirmOrgNo, Name: "Vestland Revisjon AS"}
	for i, o := range generatedOrgs(31220500, 6) {
		rel := RelRevisor
		if i >= 4 {
			rel = RelRegnskapsforer
		}
		other.Clients = append(other.Clients, FirmClient{OrgNo: o, Name: BrregName("", o), Relationship: rel})
	}
	return []Firm{main, other}
}

// DefaultPersons are DefaultSeed's test persons (synthetic numbers, month + 80
// as in Tenor).
func DefaultPersons() []Person {
	return []Person{
		{PID: PersonClientAdmin, Name: "Kari Fjellheim", Roles: []PersonRole{{OrgNo: FirmOrgNo, Roles: []string{"klientadministrator"}}}},
		{PID: PersonMainAdmin, Name: "Henrik Dahl", Roles: []PersonRole{{OrgNo: FirmOrgNo, Roles: []string{"HADM", "DAGL"}}}},
		{PID: PersonOtherFirm, Name: "Vera Vestrheim", Roles: []PersonRole{{OrgNo: OtherFirmOrgNo, Roles: []string{"klientadministrator"}}}},
		{PID: PersonNoRole, Name: "Ola Berg", Roles: []PersonRole{{OrgNo: FirmOrgNo}}},
	}
}

// DevIDPortenClient is the ID-porten client a service at serviceURL (its
// public URL, no trailing slash) registers in the simulator: client id
// IDPortenDevClientID, redirect URI serviceURL+DefaultIDPortenCallbackPath,
// private_key_jwt with the given key. A service with another path or method
// changes the fields before AddIDPortenClient.
func DevIDPortenClient(serviceURL, keyID, publicKeyPEM string) IDPortenClient {
	return IDPortenClient{
		ClientID:     IDPortenDevClientID,
		RedirectURIs: []string{strings.TrimRight(serviceURL, "/") + DefaultIDPortenCallbackPath},
		AuthMethod:   AuthPrivateKeyJWT,
		KeyID:        keyID,
		PublicKeyPEM: publicKeyPEM,
	}
}

// GeneratedFirm is a firm with n clients that all have it as accountant
// (regnskapsforer), with valid org numbers from base (8 digits, followed by
// the check digit) up, named from their digits: for benchmarks and big seeds,
// e.g. GeneratedFirm("315000017", "Stor Regnskap AS", 31300000, 1000).
func GeneratedFirm(orgNo, name string, base, n int) Firm {
	f := Firm{OrgNo: orgNo, Name: name}
	for _, o := range generatedOrgs(base, n) {
		f.Clients = append(f.Clients, FirmClient{OrgNo: o, Name: BrregName("", o), Relationship: RelRegnskapsforer})
	}
	return f
}

// generatedOrgs returns n valid org numbers from base (8 digits) up.
func generatedOrgs(base, n int) []string {
	var out []string
	for b := base; len(out) < n; b++ {
		for d := 0; d <= 9; d++ {
			if o := fmt.Sprintf("%d%d", b, d); validOrgNo(o) {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// clientPackages are the packages the relationship gives the firm.
func (c FirmClient) clientPackages() []string {
	if len(c.Packages) > 0 {
		return c.Packages
	}
	return RelationshipPackages[c.Relationship]
}

// validateDelegationSeed checks firms, persons and ID-porten clients.
func (s Seed) validateDelegationSeed() error {
	firms := map[string]bool{}
	for _, f := range s.Firms {
		if !validOrgNo(f.OrgNo) {
			return fmt.Errorf("firm %q: orgNo is not a valid organisation number", f.OrgNo)
		}
		if firms[f.OrgNo] {
			return fmt.Errorf("firm %s: listed twice", f.OrgNo)
		}
		firms[f.OrgNo] = true
		seen := map[string]bool{}
		for _, c := range f.Clients {
			switch {
			case !validOrgNo(c.OrgNo):
				return fmt.Errorf("firm %s: client %q is not a valid organisation number", f.OrgNo, c.OrgNo)
			case c.OrgNo == f.OrgNo:
				return fmt.Errorf("firm %s: is its own client", f.OrgNo)
			case seen[c.OrgNo]:
				return fmt.Errorf("firm %s: client %s listed twice", f.OrgNo, c.OrgNo)
			case c.Relationship == RelFullmakt && len(c.Packages) == 0:
				return fmt.Errorf("firm %s: client %s: a fullmakt needs packages", f.OrgNo, c.OrgNo)
			case c.Relationship != RelFullmakt && RelationshipPackages[c.Relationship] == nil:
				return fmt.Errorf("firm %s: client %s: relationship %q is not one of regnskapsforer, revisor, forretningsforer, fullmakt", f.OrgNo, c.OrgNo, c.Relationship)
			}
			seen[c.OrgNo] = true
			for _, p := range c.Packages {
				if !strings.HasPrefix(p, packagePrefix) {
					return fmt.Errorf("firm %s: client %s: package %q is not an access package URN", f.OrgNo, c.OrgNo, p)
				}
			}
		}
	}
	pids := map[string]bool{}
	for _, p := range s.Persons {
		if !validPID(p.PID) {
			return fmt.Errorf("person %q: pid is not a valid national identity number", p.PID)
		}
		if pids[p.PID] {
			return fmt.Errorf("person %s: listed twice", p.PID)
		}
		pids[p.PID] = true
		for _, r := range p.Roles {
			if !isOrgNo(r.OrgNo) {
				return fmt.Errorf("person %s: role org %q is not 9 digits", p.PID, r.OrgNo)
			}
		}
	}
	ids := map[string]bool{}
	for _, c := range s.IDPortenClients {
		if ids[c.ClientID] {
			return fmt.Errorf("ID-porten client %q: listed twice", c.ClientID)
		}
		ids[c.ClientID] = true
		if _, err := newIDPortenClient(c); err != nil {
			return err
		}
	}
	return nil
}

// validPID reports whether s is a Norwegian national identity number (or a
// synthetic one): 11 digits whose last two are the mod-11 check digits.
func validPID(s string) bool {
	if len(s) != 11 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	check := func(n int, weights []int) bool {
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		k := 11 - sum%11
		if k == 11 {
			k = 0
		}
		return k != 10 && int(s[n]-'0') == k
	}
	return check(9, []int{3, 7, 6, 1, 8, 9, 4, 5, 2}) && check(10, []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
}

// mayAdministerClients reports whether the roles let a person read and write
// altinn_client_administration at the org (clientdelegation.md §5: the
// packages klientadministrator or hovedadministrator, the roles KLADM or HADM).
func mayAdministerClients(roles []string) bool {
	return slices.ContainsFunc(roles, func(r string) bool {
		switch r {
		case "klientadministrator", "hovedadministrator", "KLADM", "HADM",
			packagePrefix + "klientadministrator", packagePrefix + "hovedadministrator":
			return true
		}
		return false
	})
}
