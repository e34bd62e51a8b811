package views

// ChangesPath is the dashboard page of change requests: per product, the
// connected customers whose system user lacks what the product asks for now.
const ChangesPath = "/admin/changes"

// ChangeCampaignPath is where the change-request campaign form posts
// (the campaigns pages handle it).
const ChangeCampaignPath = "/admin/campaigns/change"

// ChangeOutcome is the customer's page after a change request's confirm
// page in Altinn: where the change stands, re-read from Altinn.
type ChangeOutcome struct {
	Page
	Ref       string
	Status    string // a change request status: requesting, pending, accepted, rejected, no_change, failed, cancelled
	ErrorCode string
	Vendor    string
	// ConfirmURL is Altinn's page for a change still waiting. It names no
	// organisation and opens only for someone who may approve for it in
	// Altinn, so it is offered to any browser holding the return link.
	ConfirmURL string
	RefreshURL string
	// Detail is set for the browser that started the customer's onboarding:
	// the organisation and what the change adds and removes.
	Detail      bool
	OrgNo       string
	ProductName string
	Add         []Grant
	Remove      []Grant
	CheckedAt   string
	// AutoRefresh: a waiting change reloads itself every RefreshSeconds
	// (an HTTP Refresh header); RefreshToggleURL turns that off, or on
	// again ("": not waiting).
	AutoRefresh      bool
	RefreshSeconds   int
	RefreshToggleURL string
}

// ChangeTone is how a change request status reads at a glance (a CSS class).
func ChangeTone(status string) string {
	switch status {
	case "accepted", "no_change":
		return "ok"
	case "requesting", "pending":
		return "wait"
	}
	return "bad"
}

// EventStatusKey is the i18n key of a status in a timeline event: a change
// request's own statuses for change events, the onboarding's otherwise.
func EventStatusKey(kind, status string) string {
	if kind == "change" {
		return "change.status." + status
	}
	return "status." + status
}

// ChangesPage lists, per product, the connected customers lacking what it
// asks for now.
type ChangesPage struct {
	AdminPage
	Products []ChangeProduct
}

// ChangeProduct is one product on the changes page.
type ChangeProduct struct {
	ID     string
	Name   string
	Agent  bool    // a change is not possible: a new system user is needed
	Grants []Grant // what it asks for now
	Total  int     // connected customers lacking it, without a live change request
	Shown  int     // how many of them are listed
	Live   int     // customers with a change request waiting
	Rows   []LackingRow
	// CampaignURL is the POST target of "start change-request campaign";
	// "" when not offered (a viewer, an agent product, nobody lacking).
	CampaignURL string
}

// LackingRow is one connected customer whose system user differs from the
// product's configuration.
type LackingRow struct {
	ID          string
	URL         string
	OrgNo       string
	CustomerRef string
	Connected   string
	Lacks       []Grant // configured but not granted
	Extra       []Grant // granted but no longer configured
}

// ChangeSection is the detail page's account of an onboarding's change
// requests, and the action to ask for one.
type ChangeSection struct {
	Show  bool // a connected onboarding, or one with change requests
	Agent bool // an agent system user: say a new one is needed instead
	// Held is what the system user holds as far as we know; Lacks and Extra
	// how that differs from what the product asks for now (connected only).
	Held  []Grant
	Lacks []Grant
	Extra []Grant
	Rows  []ChangeRow // newest first
	// RequestURL is the confirmation page of "request change"; "" when not
	// offered (a viewer, an agent, not connected, or one already live).
	RequestURL string
}

// ChangeRow is one change request on the detail page.
type ChangeRow struct {
	ID           string
	Status       string
	Created      string
	Checked      string
	Cause        string
	Actor        string
	Add          []Grant
	Remove       []Grant
	ConfirmURL   string // while pending
	ErrorCode    string
	ErrorMessage string
	RefreshURL   string // POST; "" when not offered
	CancelURL    string // confirmation page; "" when not offered
}

// ChangeConfirm asks before sending a change request to Altinn, showing
// what it will ask the customer to approve.
type ChangeConfirm struct {
	AdminPage
	PostURL     string
	BackURL     string
	OrgNo       string
	ProductName string
	Add         []Grant
	Remove      []Grant
}
