package views

// ClientsSection is an agent onboarding's clients on the dashboard's
// detail page (admin_clients.templ; issue 14, point 3).
type ClientsSection struct {
	Show   bool // an agent onboarding
	Counts []StaffClientCount
	Rows   []StaffClientRow // by organisation number
}

// StaffClientCount is how many clients are in one state.
type StaffClientCount struct {
	State string // domain.ClientState
	N     string // formatted
}

// StaffClientRow is one client.
type StaffClientRow struct {
	ID        string // party UUID
	OrgNo     string // formatted
	Name      string
	State     string // domain.ClientState
	ReasonKey string // i18n key of the reason in words; "" for none
	By        string // "person" or "altinn"
	At        string
	AtISO     string
}

// clientStateColor is the Designsystemet tag colour of a client state.
func clientStateColor(state string) string {
	switch state {
	case "delegated":
		return "success"
	case "failed":
		return "danger"
	case "adding", "removing":
		return "info"
	}
	return "neutral"
}
