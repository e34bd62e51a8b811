package domain

import "time"

// Status is where an onboarding is in its life.
type Status string

// Onboarding statuses.
const (
	StatusStarted    Status = "started"
	StatusRequesting Status = "requesting"
	StatusPending    Status = "pending"
	StatusAccepted   Status = "accepted"
	StatusConnected  Status = "connected"
	StatusRejected   Status = "rejected"
	StatusExpired    Status = "expired"
	StatusFailed     Status = "failed"
	StatusCancelled  Status = "cancelled"
	StatusRevoked    Status = "revoked"
)

// Kind is what a product asks Altinn for: a standard system user for the
// customer's own use (request/vendor), or an agent (client) system user for
// an accountant's clients (request/vendor/agent, access packages only).
type Kind string

// Request kinds an onboarding product can ask Altinn for.
const (
	KindStandard Kind = "standard"
	KindAgent    Kind = "agent"
)

// Onboarding is one customer organisation being connected to one product.
type Onboarding struct {
	ID              string     `db:"id"`
	Ref             string     `db:"ref"`
	Product         string     `db:"product"`
	Kind            Kind       `db:"kind"`
	SystemID        string     `db:"system_id"`
	OrgNo           string     `db:"org_no"`
	ExternalRef     string     `db:"external_ref"`
	Status          Status     `db:"status"`
	Escalated       bool       `db:"escalated"`
	AltinnRequestID *string    `db:"altinn_request_id"`
	ConfirmURL      *string    `db:"confirm_url"`
	SystemUserID    *string    `db:"system_user_id"`
	ErrorCode       *string    `db:"error_code"`
	ErrorMessage    *string    `db:"error_message"`
	CustomerRef     *string    `db:"customer_ref"`
	Lang            string     `db:"lang"`
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	CheckedAt       *time.Time `db:"checked_at"`
	ConnectedAt     *time.Time `db:"connected_at"`
	Version         int        `db:"version"`
	// StatusAt is when the status last changed: the age the reconciler's
	// schedule counts from.
	StatusAt time.Time `db:"status_at"`
	// NextCheckAt is when the reconciler should next re-read the onboarding
	// from Altinn; nil when it is final and nothing is left to notice.
	NextCheckAt *time.Time `db:"next_check_at"`
	// GrantedRights (resource ids) and GrantedPackages (URNs) are what the
	// customer's system user was granted: set when it becomes connected and
	// moved on by accepted change requests. Nil means unknown (a row from
	// before they were kept), which counts as the product's current
	// configuration; an empty slice means none.
	GrantedRights   []string `db:"granted_rights"`
	GrantedPackages []string `db:"granted_packages"`

	// Usable is whether Maskinporten issued a system-user token for the
	// system user when it was last asked (the token is thrown away): nil
	// when not checked (yet, or since the onboarding last became
	// connected). It means something only while the onboarding is
	// connected; the service clears it when it leaves. An attempt that got
	// no answer (UsableUnavailable) leaves it as it was.
	Usable *bool `db:"usable"`
	// UsableSince is when Usable took its current value.
	UsableSince *time.Time `db:"usable_since"`
	// UsableCheckedAt is the last attempt, whatever came of it, and
	// UsableOutcome what it gave (UsableOK, UsableFailed, UsableUnavailable).
	UsableCheckedAt *time.Time `db:"usable_checked_at"`
	UsableOutcome   *string    `db:"usable_outcome"`
	// UsableOKAt is when a token was last issued; kept after a failure.
	UsableOKAt *time.Time `db:"usable_ok_at"`
	// UsableCode and UsableMessage say why it is not usable: Maskinporten's
	// MP-nnn code (or its OAuth error code when the answer had none) and
	// its error_description. Nil while usable or unknown.
	UsableCode    *string `db:"usable_code"`
	UsableMessage *string `db:"usable_message"`

	// OrgName is the organisation's name from Enhetsregisteret as the
	// customer confirmed it; nil when it was never looked up. For display
	// and search only.
	OrgName *string `db:"org_name"`

	// Origin is where the onboarding started: OriginWizard (a customer in a
	// browser: the wizard or the vendor's hand-off), "staff", "api",
	// "campaign" or "import".
	Origin string `db:"origin"`
}

// OriginWizard is the Origin of an onboarding a customer started in a
// browser (the wizard or the hand-off): only there is its status page's
// "the person who started it sees the details" true.
const OriginWizard = "wizard"

// Outcomes of a usability check (Onboarding.UsableOutcome, and the to_status
// of its EventUsability).
const (
	UsableOK          = "usable"      // Maskinporten issued the token
	UsableFailed      = "not_usable"  // Maskinporten refused it (a 4xx)
	UsableUnavailable = "unavailable" // no answer, or a 5xx: could not check
	// UsableSkipped is the to_status of an event that says no check was
	// made, because the product has no scopes to ask for; never stored on
	// the onboarding.
	UsableSkipped = "skipped"
)

// UsabilityChanged reports whether a save that moves usable from prev to
// next is news: it became true or false and was not that before. Becoming
// unknown again (the onboarding left connected) is not: its status change
// tells.
func UsabilityChanged(prev, next *bool) bool {
	return next != nil && (prev == nil || *prev != *next)
}

// NotUsable reports whether the onboarding is connected but its system user
// was last refused a token: connected in Altinn, yet the vendor cannot act.
func (o *Onboarding) NotUsable() bool {
	return HasUsability(o.Status) && o.Usable != nil && !*o.Usable
}

// Statuses lists every onboarding status in the order of its life, the
// endings last.
var Statuses = []Status{
	StatusStarted, StatusRequesting, StatusPending, StatusAccepted, StatusConnected,
	StatusRejected, StatusExpired, StatusFailed, StatusCancelled, StatusRevoked,
}

// ParseStatus returns the status s names, and false when it names none.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}
