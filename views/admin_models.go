package views

// AdminPage is what the staff layout needs on every dashboard page: the page
// basics and who is signed in.
type AdminPage struct {
	Page
	StaffEmail string // empty on the sign-in page
	StaffRole  string // viewer, operator or admin
	CSRF       string // for the sign-out form and any other form on the page
	LogoutURL  string
	// RefreshSeconds, when set, reloads the page that often in a browser
	// without JavaScript (a page that follows something live).
	RefreshSeconds int
}

// RoleLabel is the signed-in staff member's role in words.
func (p AdminPage) RoleLabel() string { return p.T("admin.role." + p.StaffRole) }

// AdminLogin is the staff sign-in form.
type AdminLogin struct {
	AdminPage
	Action   string
	Next     string // where to go after signing in; a local /admin path
	Email    string // what was typed, kept after a failed attempt (never the password)
	ErrorKey string // i18n key of the form's error, empty when there is none
	// ErrorText is the error in words when it needs more than its key (the
	// sign-in throttle's "try again in …"), and ErrorHint a line after it.
	ErrorText, ErrorHint string
}

// AdminError is an error page inside the staff layout, such as "your role
// does not allow this".
type AdminError struct {
	AdminPage
	Status    int
	Message   string
	SignInURL string // offered when signing in would help
}
