package views

import "github.com/onboard-altinn/onboard/static"

// The staff password pages (issue 12): a staff member's own change, and the
// one-time reset code an admin makes for someone else.
const (
	// AccountPasswordPath is where signed-in staff change their password.
	AccountPasswordPath = "/admin/account/password"
	// ResetPath is where a staff member sets a new password with a reset
	// code, signed out; the code's link is ResetPath?code=….
	ResetPath = "/admin/reset"
)

// PasswordRules is what a new password must be, said on the forms.
type PasswordRules struct {
	MinLen, MaxLen int
}

// AccountPassword is the "change password" form of the signed-in staff
// member: the message after a change, or the form's error.
type AccountPassword struct {
	AdminPage
	PasswordRules
	PostURL string
	DoneKey string // i18n key of the message after a change, "" for none
	// ErrorKey is the form's error (an i18n key), "" when there is none;
	// ErrorField the input it is about ("current", "new" or "confirm").
	ErrorKey   string
	ErrorField string
}

// StaffResetConfirm asks an admin before resetting another account's
// password, which also signs it out everywhere.
type StaffResetConfirm struct {
	AdminPage
	Email   string
	Role    string
	TTL     string // how long the code will work, in words ("24 timer")
	PostURL string
	BackURL string
}

// StaffResetCreated shows a reset code and its link once: only a hash of
// the code is kept.
type StaffResetCreated struct {
	AdminPage
	Email   string
	Code    string // grouped for reading aloud or typing: ABCD-EFGH-…
	Link    string
	Expires string // when the code stops working, in words
	BackURL string
}

// ScriptURL is the optional script with the copy buttons (static/wizard.js).
func (StaffResetCreated) ScriptURL() string { return static.URL("wizard.js") }

// ResetForm is where a staff member, signed out, sets a new password with
// a reset code: typed, or from the link (then Code is filled in and Email
// says whose it is).
type ResetForm struct {
	AdminPage
	PasswordRules
	PostURL    string
	Code       string
	Email      string
	ErrorKey   string
	ErrorField string // "code", "new" or "confirm"
	SignInURL  string
}

// ResetProblem says why a reset code does not work (expired, used, not
// known), with the way on.
type ResetProblem struct {
	AdminPage
	Status     int
	Reason     string // expired, used, unknown or disabled, for tests
	MessageKey string
	ResetURL   string
	SignInURL  string
}

// fieldError is the error key of the field named name: key when the
// form's error is about it, else "".
func fieldError(errField, name, key string) string {
	if errField == name {
		return key
	}
	return ""
}

// describedBy joins the ids an input is described by, skipping empty ones.
func describedBy(ids ...string) string {
	out := ""
	for _, id := range ids {
		if id == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += id
	}
	return out
}
