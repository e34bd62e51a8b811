package views

// StaffPath is the staff page: the accounts, and the form to add one.
const StaffPath = "/admin/staff"

// StaffList is the staff page for admins: every account, the form to add
// one, and the message after an action.
type StaffList struct {
	AdminPage
	Rows    []StaffRow
	Roles   []string // every role, lowest first, for the selects
	AddURL  string
	Add     StaffAddForm
	DoneKey string // i18n key of the message after an action, "" for none
	// DoneEmail is the account the message is about, "" when unknown.
	DoneEmail string
}

// StaffRow is one account in the list. RoleURL and DisableURL are "" when
// the action is not offered: on the admin's own account, and (disabling) on
// an account that is disabled already.
type StaffRow struct {
	ID         string
	Email      string
	Role       string
	Created    string
	Disabled   string // when it was disabled, "" while active
	Self       bool   // the signed-in admin's own account
	RoleURL    string
	DisableURL string
	// ResetURL asks to reset the account's password (an active account
	// not the admin's own), "" when not offered.
	ResetURL string
	// Failures is the account's failed sign-ins in the last hour since its
	// last success; UnlockURL clears them, the sign-in throttle (an active
	// account not the admin's own, with failures), "" when not offered.
	Failures  int
	UnlockURL string
}

// StaffAddForm is the add form as typed, with its error.
type StaffAddForm struct {
	Email    string
	Role     string
	ErrorKey string // i18n key of the form's error, "" when there is none
}

// StaffCreated is shown once, after an account is added: the password made
// for it, which is stored only as a hash and cannot be shown again.
type StaffCreated struct {
	AdminPage
	Email    string
	Role     string
	Password string
	BackURL  string
}

// StaffDisableConfirm asks before disabling an account, which also signs it
// out everywhere.
type StaffDisableConfirm struct {
	AdminPage
	Email   string
	Role    string
	PostURL string
	BackURL string
}

// StaffError is a staff action's error page (refused or failed), with the
// way back to the list.
type StaffError struct {
	AdminPage
	Status  int
	Message string
	BackURL string
}
