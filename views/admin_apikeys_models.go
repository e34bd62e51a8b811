package views

// APIKeysPath is the API keys page: the keys, and the form to make one.
const APIKeysPath = "/admin/apikeys"

// APIKeyList is the API keys page for admins.
type APIKeyList struct {
	AdminPage
	Rows     []APIKeyRow
	AddURL   string
	Name     string // the name as typed, when the form comes back
	ErrorKey string // i18n key of the form's error, "" when there is none
	DoneKey  string // i18n key of the message after an action, "" for none
}

// APIKeyRow is one key in the list; RevokeURL is "" once it is revoked.
type APIKeyRow struct {
	Name      string
	Prefix    string
	Created   string
	CreatedBy string
	LastUsed  string
	Revoked   string // when, "" while live
	RevokeURL string
}

// APIKeyCreated shows a new key once: only its hash is kept.
type APIKeyCreated struct {
	AdminPage
	Name    string
	Prefix  string
	Key     string
	BackURL string
}
