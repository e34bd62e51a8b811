package views

// ProblemsPath is the Problems page, for the navigation.
const ProblemsPath = "/admin/problems"

// ProblemsView is the Problems page: every section, each with its count,
// in the order support reads them.
type ProblemsView struct {
	AdminPage
	Total    int // problems in all sections
	Sections []ProblemSection
	Done     string // "redeliver" after sending a delivery again
	// Section is the one section of a section's own view ("" on the
	// page of them all), with its pages: "Page 2 of 7", the neighbours
	// ("" at the ends) and the way back to the page of them all.
	Section          string
	PageOf           string
	PrevURL, NextURL string
	BackURL          string
}

// ProblemSection is one kind of problem: its rows (the newest, at most
// twenty; a page of its own view) and how many there are.
type ProblemSection struct {
	Key           string // webhooks, notusable, failed, stuck, mail
	Heading, Lead string
	Empty         string // said when there are none
	Count         int
	More          string // "the first 20 of 250", when not all are listed
	// All ("Show all 250") links to AllURL, where they all are: the
	// onboarding list's filter, or the section's own view.
	All, AllURL string
	Rows        []ProblemRow
}

// ProblemRow is one problem, with the customer whose onboarding it is.
type ProblemRow struct {
	ID           string // the delivery's, event's or onboarding's id
	URL          string // the onboarding's page
	OrgNo        string
	OrgName      string
	ProductName  string
	Tag          string // what it is, in a word or two
	Tone         string // bad or wait
	Code         string // an error code (AUTH-…, MP-…), when there is one
	Detail       string // what happened, in our words
	Raw          string // what the other side said (Altinn, Maskinporten, the mail server), or the URL
	When         string
	RedeliverURL string // a webhook delivery an operator may send again
}

// problemCountColor colours a section's count: green for none.
func problemCountColor(n int) string {
	if n == 0 {
		return "success"
	}
	return "danger"
}
