package views

// ListFilterForm is the list's filter form as the staff member filled it in,
// so the form shows it again. Every field is a query parameter of the list
// and of the CSV export.
type ListFilterForm struct {
	Status    string
	Kind      string // "standard", "agent" or ""
	Escalated bool
	From      string // YYYY-MM-DD, inclusive
	To        string // YYYY-MM-DD, inclusive
	Query     string
	Limit     string // empty: the default page size
	Usability string // "usable", "not_usable", "not_checked" or ""
}

// StatusCount is one status in the row of counts above the list; its link
// filters the list to that status.
type StatusCount struct {
	Status string
	Count  int
	URL    string
	Active bool
}

// OnboardingRow is one onboarding in the list.
type OnboardingRow struct {
	ID          string
	URL         string
	Created     string
	OrgNo       string
	OrgName     string
	ProductName string
	Kind        string
	Status      string
	Escalated   bool
	CustomerRef string
	ErrorCode   string
	NotUsable   bool // connected, but Maskinporten refused its system-user token
}

// OnboardingList is the dashboard's home: the counts per status, the filter
// form and one page of onboardings, newest first.
type OnboardingList struct {
	AdminPage
	Action   string // the form's GET target
	Filter   ListFilterForm
	Statuses []string // the status filter's options
	// UsabilityFilters are the usability filter's options.
	UsabilityFilters []string
	Counts           []StatusCount
	Total            int
	AllURL           string // the counts' "all" link: the same filters without a status
	Rows             []OnboardingRow
	NextURL          string // the following page, "" on the last one
	FirstURL         string // back to the first page, "" on the first one
	CSVURL           string // the same filters as a CSV download
	ResetURL         string
	NewURL           string // create an onboarding on behalf of a customer; "" for viewers
	Filtered         bool   // some filter or search is in force
}

// TimelineEvent is one line of an onboarding's history (newest first):
// Text says what happened in the page's language; the rest is for data
// attributes and the technical details staff may open. A line may stand
// for several identical reads (Count > 1), from First to At.
type TimelineEvent struct {
	At         string
	AtISO      string // RFC 3339, UTC: the <time datetime>
	Text       string // the line in words (handlers/timeline.go)
	Count      int    // how many identical events the line stands for; 1 for one
	First      string // the oldest of them, when Count > 1
	FirstISO   string
	Repeat     string // "3 times, first …, last …" when Count > 1
	Kind       string
	Cause      string
	Actor      string
	FromStatus string
	ToStatus   string
	Operation  string
	HTTPStatus int
	AltinnCode string
	LatencyMS  int
	IsCall     bool // a call (to Altinn, or Maskinporten's for usability): show the status line and latency
	// Outcome is a usability check's outcome (usable, not_usable,
	// unavailable, skipped) and OutcomeKey its i18n key; "" on other events.
	Outcome    string
	OutcomeKey string
	Message    string // the stored technical text (Altinn's error, say), for staff; "" when the line says it all
	RawJSON    string // pretty-printed; "" when the event has none
}

// HasTech reports whether the line has technical details to show.
func (e TimelineEvent) HasTech() bool {
	return e.IsCall || e.Message != "" || e.AltinnCode != "" || e.RawJSON != ""
}

// AuditField is one labelled field of an audit entry's details.
type AuditField struct {
	Key   string // the detail's name in the stored JSON
	Label string
	Value string // in words where the page knows them
}

// AuditRow is one audit log entry about an onboarding.
type AuditRow struct {
	At     string
	AtISO  string
	Actor  string
	Action string // the action's name in the log ("onboarding.refresh")
	// ActionText is the action in words, "" for one the page has no words for.
	ActionText string
	Fields     []AuditField
	IP         string
}

// OnboardingDetail is everything support knows about one onboarding, with
// the actions the staff member's role allows.
type OnboardingDetail struct {
	AdminPage
	ID              string
	Ref             string
	OrgNo           string
	OrgName         string
	ProductID       string
	ProductName     string
	Kind            string
	SystemID        string
	ExternalRef     string
	CustomerRef     string
	Status          string
	HelpKey         string // what the status means here, from its real cause (the error code too)
	Escalated       bool
	ErrorCode       string
	ErrorMessage    string
	ConfirmURL      string // only while the customer can approve
	AltinnRequestID string
	SystemUserID    string
	Created         string
	Updated         string
	Checked         string
	Connected       string
	Grants          []Grant
	DoneKey         string // i18n key of the message after an action, "" for none

	// Actions; each URL is "" when the action is not offered (a viewer, or
	// not possible in this status).
	RefreshURL string
	VerifyURL  string
	RenewURL   string // a confirmation page
	CancelURL  string // a confirmation page
	TestURL    string // Test connection: a confirmation page
	CanAct     bool   // the staff member may act at all
	ListURL    string

	Events []TimelineEvent
	Audit  []AuditRow

	// Webhooks are the events sent to the vendor's product (admin_webhooks.templ).
	Webhooks WebhookSection

	// Changes are the onboarding's change requests (admin_changes.templ).
	Changes ChangeSection

	// Usability is whether a connected customer's system user can be used
	// (admin_usability.templ).
	Usability UsabilitySection

	// Clients are an agent onboarding's clients (admin_clients.templ).
	Clients ClientsSection
}

// ActionConfirm asks before an action that destroys something (renew,
// cancel): a second form that carries confirm=yes.
type ActionConfirm struct {
	AdminPage
	Action      string // "renew" or "cancel"
	PostURL     string
	BackURL     string
	OrgNo       string
	ProductName string
	Status      string
	HasRequest  bool // there is a request at Altinn that will be deleted
}

// ProductOption is one product staff can create an onboarding for.
type ProductOption struct {
	ID    string
	Name  string
	Agent bool
}

// NewOnboardingForm creates an onboarding on behalf of a customer.
type NewOnboardingForm struct {
	AdminPage
	Action   string
	BackURL  string
	Products []ProductOption
	Product  string // the chosen product
	OrgNo    string // what was typed, kept after an error
	ErrorKey string // i18n key of the form's error, "" when there is none
	// Email is the customer's address the service mails the link to
	// (optional); EmailErrorKey says why it was refused.
	Email, EmailErrorKey string
}

// ActionError is an action's error page, with the way back to the
// onboarding it was about.
type ActionError struct {
	AdminPage
	Status    int
	Message   string
	Hint      string // a further line, such as where to see what reached Altinn
	RequestID string
	BackURL   string
}

// Tone is how a status reads at a glance: "ok" (connected), "wait" (still
// on its way) or "bad" (ended without a system user). It names a CSS class.
func Tone(status string) string {
	switch status {
	case "connected":
		return "ok"
	case "started", "requesting", "pending", "accepted":
		return "wait"
	}
	return "bad"
}
