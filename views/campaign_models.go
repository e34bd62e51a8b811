package views

import "github.com/onboard-altinn/onboard/static"

// Paths of the campaign pages, for the navigation.
const CampaignsPath = "/admin/campaigns"

// CampaignRow is one campaign in the list.
type CampaignRow struct {
	URL, Name, ProductName, Kind, Status, Created, CreatedBy string
	Valid, Finished                                          int
	// Customers are what its customers did, the groups with any (the
	// campaign's own status is Status).
	Customers []CampaignCount
}

// CampaignList is the campaigns page.
type CampaignList struct {
	AdminPage
	NewURL string // empty for a viewer
	Rows   []CampaignRow
}

// ProductChoice is one product in a form's choice.
type ProductChoice struct {
	ID, Name, Kind string
	Checked        bool
}

// CampaignForm is the new-campaign form, filled in again after an error.
type CampaignForm struct {
	AdminPage
	Action      string
	Products    []ProductChoice
	Name        string
	Paste       string
	Concurrency string
	Rate        string
	ErrorKey    string // the problem in words, shown in the summary and at its field
	ErrorField  string // the id of the field it belongs to
	MaxRows     int
}

// CampaignCount is one count on a campaign page.
type CampaignCount struct {
	Key   string // an item state or an onboarding status
	Label string
	Count int
}

// CampaignRowProblem is one row of the validation report, or one failed row.
type CampaignRowProblem struct {
	Line    int
	Typed   string // what the row said for the organisation
	Problem string // in words
}

// CampaignAction is a button on a campaign page.
type CampaignAction struct {
	Name, URL string
	Danger    bool
}

// CampaignView is one campaign's page.
type CampaignView struct {
	AdminPage
	ID, Name, ProductName, Kind, Status string
	CreatedBy, Created, Started, Ended  string
	Concurrency                         int
	Rate                                string
	Valid, Finished                     int             // valid rows, and those done, failed or cancelled
	Items                               []CampaignCount // by row state
	Statuses                            []CampaignCount // by onboarding (or change request) status
	Invalid                             []CampaignRowProblem
	InvalidMore                         int // invalid rows not listed
	Failed                              []CampaignRowProblem
	FailedMore                          int
	Actions                             []CampaignAction // empty for a viewer
	Confirm                             string           // an action waiting for "are you sure"
	ConfirmURL, BackURL                 string
	ExportURL, ProgressURL              string
	Live                                bool // running: the page follows its progress
	// Done is the action whose banner shows: only while the campaign is
	// still in the state that action left it in.
	Done string
	// Now says where the campaign stands now, in words: its own status and
	// whether its customers still have to answer.
	Now CampaignNow
	// Customers are the valid rows by what their customers did (unsent,
	// waiting, connected, rejected, …), apart from the campaign's status.
	Customers []CampaignCount
	// Reminded customers were sent Reminders email reminders in all since
	// the start; Connected connected (a change campaign: approved) since.
	Reminded, Reminders, Connected int
}

// CampaignNow is a campaign's state in one sentence.
type CampaignNow struct {
	Key  string // draft, running, paused, cancelled, waiting, answered
	Text string
	Tone string // ok, wait or neutral
}

// campaignTone colours a campaign's status badge.
func campaignTone(status string) string {
	switch status {
	case "done":
		return "ok"
	case "draft", "running", "paused":
		return "wait"
	}
	return "bad"
}

// campaignNowColor colours the sentence of where a campaign stands.
// (green once every customer has answered, else information).
func campaignNowColor(tone string) string {
	if tone == "ok" {
		return dsColor(tone)
	}
	return "info"
}

// CampaignScriptURL is campaign.js, which follows a running campaign's
// progress without reloading the page.
func CampaignScriptURL() string { return static.URL("campaign.js") }
