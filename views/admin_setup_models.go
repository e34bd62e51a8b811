package views

// SetupPath is the Setup page for admins: the set-up checks and the system
// register's diff.
const SetupPath = "/admin/setup"

// AdminSetup is the Setup page: every check of `onboard doctor` on a line,
// and per system what `onboard system apply` would change (read-only).
type AdminSetup struct {
	AdminPage
	Checks  []SetupCheck
	Summary string
	AllOK   bool
	// TimedOut: the checks ran out of time, so some failed for that alone.
	TimedOut bool
	Systems  []SetupSystem
}

// SetupCheck is one check's line, in the page's language.
type SetupCheck struct {
	ID          string // the kind of check: key, token, system, redirect, …
	Name        string
	Status      string // ok, fail or skip
	StatusLabel string
	Detail      string
	Fix         string // on a failure
}

// Tone is the badge colour of the check's status.
func (c SetupCheck) Tone() string {
	switch c.Status {
	case "ok":
		return "tone-ok"
	case "fail":
		return "tone-bad"
	}
	return "tone-wait"
}

// SetupSystem is one system's diff against Altinn's system register.
type SetupSystem struct {
	ID      string
	Create  bool   // not registered yet
	Deleted bool   // deleted in Altinn: nothing can be applied
	Error   string // why it could not be read, "" when it could
	Changes []SetupChange
	Kept    []SetupChange // at Altinn but not in the configuration (From only)
	Unknown string        // packages whose kind the metadata did not tell
}

// SetupChange is one field's change: From is what Altinn has ("" for an
// item added), To what apply sends ("" for an item removed).
type SetupChange struct {
	Field    string
	From, To string
}

// orNone is s, or "(none)" for an empty value.
func orNone(p Page, s string) string {
	if s == "" {
		return p.T("setup.diff.empty")
	}
	return s
}
