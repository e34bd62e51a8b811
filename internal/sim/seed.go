package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Seed is the world the simulator starts with: the registered systems in Altinn's
// system register, the organisations in Altinn Register and the Maskinporten clients.
type Seed struct {
	Systems []System `json:"systems"`
	// Orgs are the organisations that exist in Register.
	Orgs []Org `json:"orgs"`
	// AnyValidOrg makes every 9-digit number with a valid mod-11 check digit exist in
	// Register too, named "Testorganisasjon <orgno>". When false, an unknown org gives
	// AUTH-00000.
	AnyValidOrg bool `json:"anyValidOrg"`
	// AnyResource makes every plausible resource id (lower-case letters, digits, "-"
	// and "_") exist in the Resource Registry as a delegable resource of type
	// Default, so the system register accepts rights on it. When false, only the
	// built-in resources and those in the seed systems' rights exist; any other gives
	// AUTH.VLD-00003.
	AnyResource bool `json:"anyResource"`
	// Clients are the Maskinporten clients.
	Clients []Client `json:"clients"`
	// Firms are the organisations that others have made their accountant,
	// auditor or business manager: Access Management's facilitators, with the
	// clients an agent system user of theirs may be given (clientseed.go).
	Firms []Firm `json:"firms,omitempty"`
	// Persons are the people ID-porten can log in, with their roles and access
	// packages in Altinn.
	Persons []Person `json:"persons,omitempty"`
	// IDPortenClients are the ID-porten (OpenID Connect) clients; the app adds
	// its own with AddIDPortenClient, as it adds its Maskinporten client.
	IDPortenClients []IDPortenClient `json:"idportenClients,omitempty"`
}

// System is a system registered by a vendor in Altinn's system register.
type System struct {
	// ID has the form <vendorOrgNo>_<name>, without spaces.
	ID          string `json:"id"`
	VendorOrgNo string `json:"vendorOrgNo"`
	// Name has the keys nb, nn and en; nb is required and is the default
	// integrationTitle of a request.
	Name           map[string]string `json:"name"`
	Rights         []Right           `json:"rights"`
	AccessPackages []Package         `json:"accessPackages"`
	// ClientIDs are the Maskinporten clients that may get system-user tokens for the
	// system.
	ClientIDs []string `json:"clientIds"`
	// AllowedRedirectURLs must be absolute https URLs (http is allowed for localhost
	// in the simulator only).
	AllowedRedirectURLs []string `json:"allowedRedirectUrls"`
	// Description has the same keys as Name. The register requires it on POST and
	// PUT; Altinn's portal shows it nowhere.
	Description map[string]string `json:"description,omitempty"`
	// IsVisible is false for a system hidden from the portal's self-service list;
	// nil means true, Altinn's default. A visible system may not hold client-only
	// access packages (AUTH.VLD-00018).
	IsVisible *bool `json:"isVisible,omitempty"`
	// InternalID is the register's internal GUID, which POST answers with and the
	// change log names. New derives a stable one from ID when it is empty.
	InternalID string `json:"internalId,omitempty"`
	// Deleted is set by DELETE vendor/{id}: the system stays readable, its id can
	// never be used again, and system-user tokens for it fail with MP-303.
	Deleted bool `json:"deleted,omitempty"`
	// Changelog holds the register's changes to the system, oldest first (the API
	// answers newest first).
	Changelog []ChangeLogEntry `json:"changelog,omitempty"`
}

// Visible reports whether the system is visible in the portal: IsVisible, or true
// when it is unset.
func (sys System) Visible() bool { return sys.IsVisible == nil || *sys.IsVisible }

// ChangeLogEntry is one change the system register made to a system.
type ChangeLogEntry struct {
	// ChangedByOrgNumber is the org of the token that made the change.
	ChangedByOrgNumber string `json:"changedByOrgNumber"`
	// ChangeType is create, update, rightsupdate, accesspackageupdate or delete.
	ChangeType string `json:"changeType"`
	// ChangedData is the body as sent, with PascalCase keys; empty for delete.
	ChangedData json.RawMessage `json:"changedData,omitempty"`
	// ClientID is the Maskinporten client whose token made the change.
	ClientID string    `json:"clientId"`
	Created  time.Time `json:"created"`
}

// Package is an access package registered on a system. Whether a package is
// assignable or client-delegable belongs to the package in Access Management's
// metadata (the simulator's built-in catalogue, see metadata.go), not to the
// system: the flags here only add to the catalogue's, for packages a seed needs
// that the catalogue does not know or knows otherwise. Systems the register API
// writes carry the URN only.
type Package struct {
	URN string `json:"urn"`
	// Assignable means a standard system user may be given the package.
	Assignable bool `json:"assignable,omitempty"`
	// ClientDelegable means an agent (client) system user may be given the package.
	ClientDelegable bool `json:"clientDelegable,omitempty"`
}

// Right is a single right: a resource given as attribute pairs, and an optional action
// that Altinn ignores when it matches rights.
type Right struct {
	Action   string          `json:"action,omitempty"`
	Resource []AttributePair `json:"resource"`
}

// AttributePair is one id/value pair of a right's resource, such as
// {"id":"urn:altinn:resource","value":"ske-krav-og-betalinger"}.
type AttributePair struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Org is an organisation in Altinn Register.
type Org struct {
	OrgNo string `json:"orgNo"`
	Name  string `json:"name"`
}

// Client is a Maskinporten client with one registered RSA key.
type Client struct {
	ClientID string `json:"clientId"`
	// OrgNo is the organisation that owns the client; it becomes the token's consumer.
	OrgNo string `json:"orgNo"`
	KeyID string `json:"keyId"`
	// PublicKeyPEM is a PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM block.
	PublicKeyPEM string   `json:"publicKeyPem"`
	Scopes       []string `json:"scopes"`
}

// Scopes the Altinn vendor API checks.
const (
	ScopeRequestWrite  = "altinn:authentication/systemuser.request.write"
	ScopeRequestRead   = "altinn:authentication/systemuser.request.read"
	ScopeRegisterWrite = "altinn:authentication/systemregister.write"
	ScopeRegisterAdmin = "altinn:authentication/systemregister.admin"
)

// defaultSystemVendor is the org number of SmartCloud AS, the vendor in DefaultSeed.
const defaultSystemVendor = "991825827"

// DefaultSeed returns the world a developer gets without a seed file: the vendor
// SmartCloud AS with one system that has a single right, an ordinary package
// (assignable and client-delegable) and two client-only packages, a handful of named
// test organisations, AnyValidOrg so that any org number with a valid check digit
// exists, and AnyResource so that rights on any plausible resource id can be
// registered. It also has the accounting firm Fjellheim Regnskap AS with 320
// clients and the auditing firm Vestland Revisjon AS with a few, and the test
// persons ID-porten's picker offers (DefaultFirms, DefaultPersons). The system
// holds client-only packages, so it is not visible in the
// portal (isVisible false), as the register demands. It has no Maskinporten clients;
// the caller adds its own with AddClient and AddClientID.
func DefaultSeed() Seed {
	hidden := false
	return Seed{
		Systems: []System{{
			ID:          defaultSystemVendor + "_smartcloud",
			VendorOrgNo: defaultSystemVendor,
			Name:        map[string]string{"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
			Description: map[string]string{
				"nb": "Regnskap og lønn i skyen",
				"nn": "Rekneskap og løn i skya",
				"en": "Accounting and payroll in the cloud",
			},
			Rights: []Right{{Resource: []AttributePair{
				{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"},
			}}},
			AccessPackages: []Package{
				{URN: "urn:altinn:accesspackage:skattegrunnlag", Assignable: true, ClientDelegable: true},
				{URN: "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet", ClientDelegable: true},
				{URN: "urn:altinn:accesspackage:regnskapsforer-lonn", ClientDelegable: true},
			},
			IsVisible: &hidden,
		}},
		Orgs: []Org{
			{OrgNo: defaultSystemVendor, Name: "SmartCloud AS"},
			{OrgNo: "314248295", Name: "Lunefull Handlekraftig Tiger AS"},
			{OrgNo: "310000019", Name: "Fjellheim Regnskap AS"},
			{OrgNo: "310000027", Name: "Kystbakeriet AS"},
			{OrgNo: "310000035", Name: "Nordlys Transport AS"},
			{OrgNo: "310000043", Name: "Bergen Byggservice AS"},
			{OrgNo: "310000051", Name: "Solsiden Frisør AS"},
		},
		AnyValidOrg: true,
		AnyResource: true,
		Firms:       DefaultFirms(),
		Persons:     DefaultPersons(),
	}
}

// LoadSeed reads a Seed from a JSON file. The file replaces the default seed; it is not
// merged with it. Unknown fields are an error, so that a typo does not go unnoticed.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sim: read seed: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("sim: parse seed %s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return Seed{}, fmt.Errorf("sim: seed %s: %w", path, err)
	}
	return s, nil
}

// validate checks the seed against the rules the system register and Register enforce.
// Clients are checked when they are added.
func (s Seed) validate() error {
	ids := map[string]bool{}
	for _, sys := range s.Systems {
		if !isOrgNo(sys.VendorOrgNo) {
			return fmt.Errorf("system %q: vendorOrgNo %q is not 9 digits", sys.ID, sys.VendorOrgNo)
		}
		if !strings.HasPrefix(sys.ID, sys.VendorOrgNo+"_") || len(sys.ID) == len(sys.VendorOrgNo)+1 ||
			strings.ContainsAny(sys.ID, " \t\r\n") {
			return fmt.Errorf("system %q: id must be <vendorOrgNo>_<name> without spaces", sys.ID)
		}
		if ids[sys.ID] {
			return fmt.Errorf("system %q: duplicate id", sys.ID)
		}
		ids[sys.ID] = true
		if sys.Name["nb"] == "" {
			return fmt.Errorf("system %q: name.nb is required", sys.ID)
		}
		for _, r := range sys.Rights {
			if len(r.Resource) == 0 {
				return fmt.Errorf("system %q: a right has no resource", sys.ID)
			}
		}
		for _, p := range sys.AccessPackages {
			if p.URN == "" {
				return fmt.Errorf("system %q: an access package has no urn", sys.ID)
			}
		}
		for _, u := range sys.AllowedRedirectURLs {
			if err := checkRegisteredRedirectURL(u); err != nil {
				return fmt.Errorf("system %q: %w", sys.ID, err)
			}
		}
		if sys.InternalID != "" {
			if _, ok := parseGUID(sys.InternalID); !ok {
				return fmt.Errorf("system %q: internalId %q is not a GUID", sys.ID, sys.InternalID)
			}
		}
	}
	for _, o := range s.Orgs {
		if !isOrgNo(o.OrgNo) {
			return fmt.Errorf("org %q: orgNo is not 9 digits", o.OrgNo)
		}
	}
	return s.validateDelegationSeed()
}

// checkRegisteredRedirectURL applies the system register's rule for allowed redirect
// URLs: absolute and https. Deviation, for local development only: http is accepted
// when the host is localhost, 127.0.0.1 or [::1], so that a developer's service on
// http://localhost can receive the customer's return. The real register rejects these.
func checkRegisteredRedirectURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("redirect URL %q is not an absolute URL", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		switch strings.ToLower(u.Hostname()) {
		case "localhost", "127.0.0.1", "::1":
			return nil
		}
	}
	return fmt.Errorf("redirect URL %q must use https (http only for localhost)", raw)
}

// isOrgNo reports whether s is nine ASCII digits.
func isOrgNo(s string) bool {
	if len(s) != 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validOrgNo reports whether s is a Norwegian organisation number: nine digits whose
// last digit is the mod-11 check digit of the first eight (weights 3 2 7 6 5 4 3 2).
func validOrgNo(s string) bool {
	if !isOrgNo(s) {
		return false
	}
	weights := [8]int{3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(s[8]-'0') == check
}
