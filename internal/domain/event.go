package domain

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Cause is who or what made something happen: it travels with every event,
// webhook and audit entry.
type Cause string

// Event causes.
const (
	CauseCustomer   Cause = "customer"
	CauseReconciler Cause = "reconciler"
	CauseStaff      Cause = "staff"
	CauseAltinn     Cause = "altinn"
	CauseSystem     Cause = "system"
	CauseAPI        Cause = "api"
	CauseCampaign   Cause = "campaign"
)

// Event kinds.
const (
	EventCreated    = "created"
	EventAltinnCall = "altinn_call"
	EventStatus     = "status"
	EventReturn     = "return"
	EventStaff      = "staff"
	EventError      = "error"
	// EventUsability is one usability check: a system-user token asked of
	// Maskinporten (thrown away). Operation names the call, ToStatus the
	// outcome (UsableOK, UsableFailed, UsableUnavailable or UsableSkipped),
	// AltinnCode Maskinporten's MP code, LatencyMS how long it took.
	EventUsability = "usability"
	// EventChange is the timeline event of a change request's status
	// moving; its from and to statuses are change request statuses, not the
	// onboarding's.
	EventChange = "change"
	// EventMail is one email to the customer (issue 12): Operation names
	// the message (MailLink, MailReminder, MailEscalated, MailConnected),
	// ToStatus its outcome (MailSent, MailOutbox, MailFailed, MailRefused),
	// Message the recipient's error when it was not sent.
	EventMail = "mail"
	// EventClients is one step of an agent onboarding's clients (issue
	// 14): a person asked to add or remove clients (Operation ClientsAsk
	// or ClientsAskRemove, Message the count), or one client's outcome
	// (Operation ClientOpAdd or ClientOpRemove, ToStatus the ClientState,
	// FromStatus the ClientReason of a failure, AltinnCode and HTTPStatus
	// Altinn's answer, Message the client's org number and name). Actor is
	// the person's pairwise ID-porten subject, never the national id.
	EventClients = "clients"
)

// The operations of EventClients.
const (
	ClientsAsk       = "ask_add"
	ClientsAskRemove = "ask_remove"
	ClientOpAdd      = "add"
	ClientOpRemove   = "remove"
)

// The messages of EventMail (its Operation).
const (
	MailLink      = "link"      // the approval link, for an onboarding a campaign, the API or staff made
	MailReminder  = "reminder"  // a reminder while it waits
	MailEscalated = "escalated" // the request waits for someone else to approve
	MailConnected = "connected" // the receipt
)

// The outcomes of EventMail (its ToStatus).
const (
	MailSent    = "sent"    // the SMTP server took it
	MailOutbox  = "outbox"  // kept in the built-in outbox (sim and dev): not sent
	MailFailed  = "failed"  // a try failed and will be retried
	MailRefused = "refused" // refused for good (a bounce, a 5xx): not retried
)

// Event is one entry in an onboarding's history. FromStatus and ToStatus
// hold an onboarding Status for EventStatus, a ChangeStatus for EventChange
// and a usability outcome for EventUsability, so they are plain strings.
type Event struct {
	ID           int64           `db:"id"`
	OnboardingID string          `db:"onboarding_id"`
	At           time.Time       `db:"at"`
	Kind         string          `db:"kind"`
	Cause        Cause           `db:"cause"`
	Actor        string          `db:"actor"`
	FromStatus   string          `db:"from_status"`
	ToStatus     string          `db:"to_status"`
	Operation    string          `db:"operation"`
	HTTPStatus   int             `db:"http_status"`
	AltinnCode   string          `db:"altinn_code"`
	LatencyMS    int             `db:"latency_ms"`
	Message      string          `db:"message"`
	Raw          json.RawMessage `db:"raw"`
}

// maxErrorText is the longest error text an event or an attempt keeps.
const maxErrorText = 300

// OneLine is a failure's words as the timeline and the dashboard store and
// show them (a webhook attempt's error, a mail's refusal): one line, valid
// UTF-8 without NUL (Postgres stores neither), at most 300 bytes, cut at a
// character with "…".
func OneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", " ")), " ")
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
