package views

// MailStopPath is the customer's opt-out page (mail.StopPath).
const MailStopPath = "/mail/stop/"

// MailStop is the page a message's opt-out link opens: a question and a
// button (a POST, so a link scanner opening the link stops nothing), then
// the answer. Invalid: the link's token is not the onboarding's.
type MailStop struct {
	Page
	Vendor  string
	Org     string
	Action  string // the form's URL
	CSRF    string
	Done    bool
	Invalid bool
}

// MailAdminPath is the dashboard's mail page: the outbox and the pause.
const MailAdminPath = "/admin/mail"

// MailAdmin lists every message, newest first, and the pause switch.
type MailAdmin struct {
	AdminPage
	// Mode says how mail goes, in words.
	Mode     string
	Paused   bool
	PausedBy string
	PausedAt string
	CanPause bool // an admin
	PauseURL string
	DoneKey  string
	Rows     []MailRow
}

// MailRow is one message.
type MailRow struct {
	At, To, Kind, Subject, Status, StatusColor, Error string
	// Text is the plain text, paragraph by paragraph.
	Text          []string
	OnboardingURL string
}
