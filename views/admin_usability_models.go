package views

// UsabilitySection is whether a connected customer's system user can be
// used: Maskinporten issues (or refuses) a system-user token for it. It is
// shown on the detail page of a connected onboarding only.
type UsabilitySection struct {
	Show bool
	// Skipped: the product has no scopes configured, so usability is not
	// checked at all.
	Skipped bool
	State   string // "usable", "not_usable" or "not_checked"
	Since   string // when the state began; "" when not checked
	Checked string // the last attempt; "" when never
	LastOK  string // the last token issued; "" when never
	// LastUnavailable: the last attempt got no answer (could not check).
	LastUnavailable bool
	ReasonKey       string // i18n key of what the code means; "" unless not usable
	Code            string // Maskinporten's code
	Detail          string // Maskinporten's own text
}

// UsabilityTone is how the state reads at a glance, as a CSS class.
func UsabilityTone(state string) string {
	switch state {
	case "usable":
		return "ok"
	case "not_usable":
		return "bad"
	}
	return "wait"
}

// TestConnectionConfirm asks before testing a connection: a second form
// that carries confirm=yes.
type TestConnectionConfirm struct {
	AdminPage
	PostURL     string
	BackURL     string
	OrgNo       string
	ProductName string
	Scopes      []string
}
