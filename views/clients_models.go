package views

// The accountant's pages (issue 14): log in with ID-porten, choose the
// firm's clients, follow their progress. Words come from internal/i18n's
// clients.* keys.

// ClientsLogin is the page before the clients: log in with ID-porten, or,
// when a login went wrong, what happened and a button to log in again.
// Nothing about the organisation's clients is on it.
type ClientsLogin struct {
	Page
	Status      int    // the HTTP status, for tests and the alert
	HeadingKey  string // i18n key of the heading
	NoteKey     string // i18n key of the explanation ("" on the plain login page)
	NoteArgs    []any
	Color       string // the alert's colour: info, warning, danger
	LoginAction string // POST: log in (again); "" when there is nothing to log in to
	CSRF        string
	StatusURL   string // back to the onboarding's status page; "" when unknown
}

// ClientsPage is the firm's clients for one agent onboarding: a filter, a
// form with a checkbox per client, add the chosen, add all shown, remove.
type ClientsPage struct {
	Page
	OrgName, OrgNo string // the firm ("123 456 789")
	Action         string // the filter's GET target: the page itself
	AddAction      string // POST
	RemoveAction   string // POST
	ProgressURL    string
	StatusURL      string
	LogoutAction   string // POST
	CSRF           string
	Query, Show    string
	Rows           []ClientRow
	// Total is every client Altinn lists; Delegated how many of them are
	// added; Shown the filtered rows; Addable and Removable of those shown.
	Total, Delegated, Shown, Addable, Removable int
	// InFlight: some clients are still being added or removed.
	InFlight bool
	// Packages are the system access's access packages in words: a client
	// can be added when it has given the firm every one of them (Altinn's
	// lists do not say which a client has given).
	Packages []Grant
}

// ClientRow is one client on the page.
type ClientRow struct {
	ID        string // party UUID: the checkbox's value
	Name      string
	OrgNo     string // "123 456 789"
	Delegated bool
	State     string // the service's ClientState, "" when never touched
	StateKey  string // i18n key of the row's status in words
	Tone      string // the tag's colour
	ReasonKey string // i18n key of why it failed, "" when it did not
}

// ClientsProgress is how far the asked-for clients have come.
type ClientsProgress struct {
	Page
	OrgName, OrgNo string
	Done, Total    int
	InFlight       int
	Waiting        int // of InFlight: waiting for the person to log in again
	Delegated      int
	Removed        int
	Failed         int
	Refresh        bool // the page reloads itself (Refresh header)
	// Open are the clients in flight and those that could not be done,
	// shown first; Settled those added or removed, folded away.
	Open, Settled []ClientRow
	ClientsURL    string
	LoginAction   string // POST: log in again, when clients wait for it
	CSRF          string
}

// clientsAltinnVariant: Altinn's portal is the second way when the
// service can add the clients itself.
func clientsAltinnVariant(m Outcome) string {
	if m.ClientsAction != "" {
		return "secondary"
	}
	return "primary"
}
