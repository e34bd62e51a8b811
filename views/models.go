// Package views renders the customer-facing pages with templ. Each page has
// one view model shaped like the screen; all words come from internal/i18n.
package views

import (
	"strings"

	"github.com/onboard-altinn/onboard/internal/i18n"
)

// Page is what the layout needs on every page.
type Page struct {
	Lang    string
	Title   string
	Sim     bool   // show the test-mode banner
	LangURL string // switches to the other language and back to this page
	CSSURL  string
	LogoURL string
	// DesignCSSURLs are Designsystemet's stylesheets (the components, then
	// the Altinn theme's tokens), linked before CSSURL, which builds on them.
	DesignCSSURLs []string
	// Vendor is the vendor's name as customers know it (ONBOARD_VENDOR_NAME),
	// named in the header beside the product.
	Vendor string
	// The vendor's look (ONBOARD_BRAND_*, ONBOARD_SUPPORT_*).
	LogoType    string // the logo's content type, for the icon link
	BrandName   string // empty: app.title in the page's language
	BrandCSSURL string // generated colour stylesheet, linked after CSSURL; empty: none
	Support     Support
	// LangLinks switch to each other language and back to this page.
	LangLinks []LangLink
}

// LangLink is one link of the language switch: its language's code, its
// name in that language ("Norsk (nynorsk)") and the switch's URL.
type LangLink struct{ Lang, Name, URL string }

// Support is the vendor's support contact, shown in the footer of every
// customer page and where a page says "contact us".
type Support struct {
	Email string
	Phone string
	URL   string
}

// Any reports whether any contact is configured.
func (s Support) Any() bool { return s.Email != "" || s.Phone != "" || s.URL != "" }

// ProductName is the name in the header and the title.
func (p Page) ProductName() string {
	if p.BrandName != "" {
		return p.BrandName
	}
	return p.T("app.title")
}

// TelURL is the tel: link of the support phone number.
func (s Support) TelURL() string {
	return "tel:" + strings.Map(func(r rune) rune {
		if r == '+' || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s.Phone)
}

// T looks up a text in the page's language.
func (p Page) T(key string, args ...any) string { return i18n.T(p.Lang, key, args...) }

// Product is one onboarding product as the customer sees it.
type Product struct {
	ID     string
	Name   string
	Agent  bool
	Grants []Grant
	URL    string
}

// Grant is one right or access package: Label and Description in words
// for customers (Altinn's name and description, or the service's own name),
// ID, the raw resource id or URN, for the dashboard only.
type Grant struct {
	Label       string
	Description string
	ID          string
}

// ProductList lets the customer choose when several products are offered.
type ProductList struct {
	Page
	Products []Product
}

// Start explains what the customer is about to allow.
type Start struct {
	Page
	Product Product
	Vendor  string
	OrgURL  string
}

// OrgForm asks for the organisation number.
type OrgForm struct {
	Page
	Product  Product
	Action   string
	BackURL  string
	CSRF     string
	Value    string
	ErrorKey string // i18n key of the field's error, empty when valid
}

// OrgConfirm asks "is this the right company?" with what
// Enhetsregisteret says of the number, before the customer goes to Altinn.
type OrgConfirm struct {
	Page
	Product   Product
	OrgNo     string // "123 456 789"
	Number    string // the nine digits, posted on
	Checked   bool   // the register answered; false: the name could not be checked
	Name      string
	Form      string // the organisation form in words ("Aksjeselskap"), or its code
	Bankrupt  bool
	WindingUp bool
	// ParentOrgNo ("123 456 789") and ParentURL are set when the number is
	// a sub-unit's: the legal entity it belongs to, offered instead.
	ParentOrgNo string
	ParentURL   string
	Action      string // POST: start, then Altinn
	ChangeURL   string // back to the form, the number filled in
	CSRF        string
	// Reservation is the signed return reference this page reserved for
	// the onboarding its "yes" starts (posted back as is), so a browser
	// whose "yes" was cut off by a crash is still its starter on the retry.
	Reservation string
}

// Known is the one page a browser gets that typed the number of an
// organisation someone else has an onboarding for: the same whatever its
// status, with nothing about it but that it exists.
type Known struct {
	Page
	OrgNo     string // what the browser typed, "123 456 789"
	Vendor    string
	ChangeURL string
	AltinnURL string
	VendorURL string // "": the vendor's address is not configured
}

// Outcome shows where an onboarding stands.
type Outcome struct {
	Page
	Ref         string
	Status      string
	Escalated   bool
	Detail      bool // the browser that started it: show organisation details and actions
	OrgNo       string
	OrgName     string // from Enhetsregisteret, as confirmed; "" when unknown
	ProductName string
	// ByCustomer: a customer started it in a browser (the wizard or the
	// hand-off), so "the person who started it sees the details" is true.
	ByCustomer bool
	StartURL   string // the product's start page, for starting again
	Vendor     string
	Agent      bool
	ConfirmURL string // "continue to Altinn" link; only with Detail
	ErrorCode  string
	// NoteKey and HelpKey are the i18n keys of what the page says about
	// where the onboarding stands and why, chosen from its real cause (the
	// status and the error code) by the handler; for pending, NoteKey is a
	// further line under its own words. HelpKey may be "". ContactUs adds
	// how to reach the vendor.
	NoteKey, HelpKey string
	ContactUs        bool
	CSRF             string
	RetryAction      string // POST target for "try again"; empty when not offered
	RetryKey         string // the "try again" button's label
	RefreshURL       string
	CheckedAt        string
	AltinnURL        string
	BackURL          string // the vendor's product: the hand-off's return URL, else ONBOARD_VENDOR_URL
	// AutoRefresh: the page reloads itself every RefreshSeconds (an HTTP
	// Refresh header); RefreshToggleURL turns that off, or on again.
	AutoRefresh      bool
	RefreshSeconds   int
	RefreshToggleURL string
	// ClientsAction, on a connected client system's page, is the POST that
	// logs the accountant in with ID-porten to add the firm's clients
	// (issue 14); "" when the service has no ID-porten login.
	ClientsAction string
}

// Waiting reports whether the onboarding waits for someone or something, so
// the page offers the refresh toggle.
func (m Outcome) Waiting() bool { return m.RefreshToggleURL != "" }

// Error is the one error page.
type Error struct {
	Page
	Status  int
	Message string
}
