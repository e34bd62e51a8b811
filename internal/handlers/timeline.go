package handlers

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/views"
)

// timeline is an onboarding's history as the detail page shows it (issue
// 12): newest first, each line a sentence in lang made from the event's
// kind, cause, actor, statuses and operation (eventText), never from the
// English message it was stored with, which stays with the HTTP status,
// Altinn's code and the latency on the line's technical part. Repeated
// identical reads (the same GET with the same answer, or the same
// connection test with the same outcome, by the same cause) between two
// events that change something fold into one line with a count and the
// first and last time: every status view's check, or the background job's
// check of a connected customer (a byquery and a test, again and again),
// is one line each. events come oldest first, as db.Events returns them.
func timeline(lang string, events []domain.Event) []views.TimelineEvent {
	var out []views.TimelineEvent
	run := map[string]int{} // the reads since the last event that is not one: key → line
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		key, read := readKey(e)
		if !read {
			clear(run)
		} else if n, ok := run[key]; ok {
			ev := &out[n]
			ev.Count++
			ev.First = when2(lang, e.At)
			ev.FirstISO = e.At.UTC().Format(time.RFC3339)
			ev.Repeat = i18n.T(lang, "admin.tl.repeat", i18n.Number(lang, ev.Count), ev.First, ev.At)
			if e.Kind == domain.EventClients {
				// Many clients with one outcome: one line that counts them.
				ev.Text = clientsFoldedText(lang, e, ev.Count)
				ev.Repeat = i18n.T(lang, "admin.tl.clients.span", ev.First, ev.At)
			}
			continue
		}
		out = append(out, timelineEvent(lang, e))
		if read {
			run[key] = len(out) - 1
		}
	}
	return out
}

// readKey tells whether e only read something (a GET to Altinn, a
// connection test) and, if so, what makes two such reads the same: what
// was read, by whom, and the answer. A write, a status change, a staff
// action or an email is never a read: it is always its own line, and reads
// on either side of it do not fold together.
func readKey(e domain.Event) (string, bool) {
	switch {
	case e.Kind == domain.EventAltinnCall && strings.HasPrefix(e.Operation, "GET "):
	case e.Kind == domain.EventUsability && e.Operation != "":
	case e.Kind == domain.EventClients && (e.Operation == domain.ClientOpAdd || e.Operation == domain.ClientOpRemove):
		// One client's outcome: those of one ask with the same outcome
		// fold into one line that counts them (an ask, a write, stands
		// apart); the client itself stays in the line's details.
		return strings.Join([]string{e.Kind, e.Operation, e.ToStatus, e.FromStatus, string(e.Cause)}, "\x00"), true
	default:
		return "", false
	}
	return strings.Join([]string{e.Kind, e.Operation, strconv.Itoa(e.HTTPStatus), e.AltinnCode, string(e.Cause), e.Actor,
		e.ToStatus, e.Message}, "\x00"), true
}

// when2 is a moment on the dashboard: Oslo time, the language's words.
func when2(lang string, t time.Time) string { return i18n.When(lang, t.In(oslo)) }

// timelineEvent is one event as a line of the page.
func timelineEvent(lang string, e domain.Event) views.TimelineEvent {
	ev := views.TimelineEvent{
		At: when2(lang, e.At), AtISO: e.At.UTC().Format(time.RFC3339), Count: 1,
		Kind: e.Kind, Cause: string(e.Cause), Actor: e.Actor,
		FromStatus: e.FromStatus, ToStatus: e.ToStatus, Operation: e.Operation, HTTPStatus: e.HTTPStatus,
		AltinnCode: e.AltinnCode, LatencyMS: e.LatencyMS, IsCall: e.Kind == domain.EventAltinnCall,
		RawJSON: prettyJSON(e.Raw), Text: eventText(lang, e),
	}
	switch e.Kind {
	case domain.EventAltinnCall, domain.EventStatus, domain.EventError, domain.EventMail, domain.EventChange:
		// Altinn's (or the mail server's) own words, for staff: technical.
		ev.Message = e.Message
	case domain.EventUsability:
		// A usability check: its outcome is not a status.
		ev.FromStatus, ev.ToStatus = "", ""
		ev.Outcome, ev.OutcomeKey = e.ToStatus, "usability.outcome."+e.ToStatus
		ev.IsCall = e.Operation != ""
		if e.ToStatus != domain.UsableOK && e.ToStatus != domain.UsableSkipped {
			ev.Message = e.Message // Maskinporten's words
		}
	}
	if e.Kind == domain.EventStaff || e.Kind == domain.EventMail || e.Kind == domain.EventClients {
		ev.FromStatus, ev.ToStatus = "", "" // in the sentence
	}
	return ev
}

// who is the subject of an event's sentence: the staff member's address
// when one acted, else the cause in words.
func who(lang string, e domain.Event) string {
	if e.Cause == domain.CauseStaff && e.Actor != "" {
		return e.Actor
	}
	return i18n.T(lang, "admin.tl.who."+causeKey(e.Cause))
}

// why is the reason in brackets after something the service did (a call,
// a check, a status it found): the staff member's address when one acted,
// else the cause in words ("kunden var på siden").
func why(lang string, e domain.Event) string {
	if e.Cause == domain.CauseStaff && e.Actor != "" {
		return e.Actor
	}
	return i18n.T(lang, "admin.tl.why."+causeKey(e.Cause))
}

// causeKey is the cause's key in admin.tl.who.*; an unknown one reads as
// the service.
func causeKey(c domain.Cause) string {
	switch c {
	case domain.CauseCustomer, domain.CauseReconciler, domain.CauseStaff, domain.CauseAltinn,
		domain.CauseAPI, domain.CauseCampaign:
		return string(c)
	}
	return string(domain.CauseSystem)
}

// sentence fills a sentence whose first argument is its subject, and
// starts it with a capital (an email address stays as it is).
func sentence(lang, key, subject string, args ...any) string {
	if !strings.Contains(subject, "@") {
		subject = capitalize(subject)
	}
	return i18n.T(lang, key, append([]any{subject}, args...)...)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// statusWord is an onboarding status (or, for a change event, a change
// request's) as the dashboard names it.
func statusWord(lang, kind, status string) string {
	return i18n.T(lang, views.EventStatusKey(kind, status))
}

// callOps are the Altinn operations the service makes (onboarding.Service's
// callEvent), each with its words in admin.tl.op.*.
var callOps = map[string]string{
	"POST request/vendor":                    "create",
	"POST request/vendor/agent":              "create_agent",
	"GET request/vendor/{id}":                "read",
	"GET request/vendor/agent/{id}":          "read",
	"GET request/vendor/byexternalref":       "byexternalref",
	"GET request/vendor/agent/byexternalref": "byexternalref",
	"DELETE request/vendor/{id}":             "delete",
	"GET systemuser/vendor/byquery":          "byquery",
	"POST changerequest/vendor":              "change_create",
	"GET changerequest/vendor/{id}":          "change_read",
	"DELETE changerequest/vendor/{id}":       "change_delete",
}

// staffActions are the staff actions with an event in the timeline, each
// with its sentence in admin.tl.staff.*.
var staffActions = map[string]string{
	AuditRefresh:        "refresh",
	AuditVerify:         "verify",
	AuditRenew:          "renew",
	AuditCancel:         "cancel",
	AuditCreate:         "create",
	AuditTestConnection: "testconnection",
	AuditChange:         "change",
	AuditChangeRefresh:  "change_refresh",
	AuditChangeCancel:   "change_cancel",
	AuditRedeliver:      "redeliver",
}

// mailStop is the operation of the mail event recorded when the customer
// opts out by the link in an email (mail.OpStop).
const mailStop = "stop"

// mailMessages are the messages of a mail event, in admin.tl.mail.what.*.
var mailMessages = []string{domain.MailLink, domain.MailReminder, domain.MailEscalated, domain.MailConnected}

// eventText is one event in words, in lang: who did what, and how it went.
func eventText(lang string, e domain.Event) string {
	w, y := who(lang, e), why(lang, e)
	switch e.Kind {
	case domain.EventCreated:
		if e.ToStatus == string(domain.StatusConnected) {
			return sentence(lang, "admin.tl.imported", w)
		}
		return sentence(lang, "admin.tl.created", w)
	case domain.EventStatus:
		if e.FromStatus == "" {
			return i18n.T(lang, "admin.tl.status.set", statusWord(lang, e.Kind, e.ToStatus), y)
		}
		return i18n.T(lang, "admin.tl.status", statusWord(lang, e.Kind, e.FromStatus), statusWord(lang, e.Kind, e.ToStatus), y)
	case domain.EventChange:
		if e.FromStatus == "" {
			return i18n.T(lang, "admin.tl.change.set", statusWord(lang, e.Kind, e.ToStatus), y)
		}
		return i18n.T(lang, "admin.tl.change", statusWord(lang, e.Kind, e.FromStatus), statusWord(lang, e.Kind, e.ToStatus), y)
	case domain.EventReturn:
		if strings.Contains(e.Message, "change request") {
			return i18n.T(lang, "admin.tl.return.change")
		}
		return i18n.T(lang, "admin.tl.return")
	case domain.EventAltinnCall:
		return callText(lang, e, y)
	case domain.EventUsability:
		switch e.ToStatus {
		case domain.UsableOK, domain.UsableFailed, domain.UsableUnavailable:
			return i18n.T(lang, "admin.tl.usability."+e.ToStatus, y)
		}
		return i18n.T(lang, "admin.tl.usability.skipped")
	case domain.EventStaff:
		return staffText(lang, e, w)
	case domain.EventMail:
		return mailText(lang, e, w)
	case domain.EventClients:
		return clientsText(lang, e, w)
	}
	return i18n.T(lang, "admin.tl.error")
}

// clientsFoldedText is n clients' outcomes of one kind in one line.
func clientsFoldedText(lang string, e domain.Event, n int) string {
	op := domain.ClientOpAdd
	if e.Operation == domain.ClientOpRemove {
		op = domain.ClientOpRemove
	}
	switch domain.ClientState(e.ToStatus) {
	case domain.ClientDelegated, domain.ClientRemoved:
		return i18n.T(lang, "admin.tl.clients."+op+"."+e.ToStatus+".n", i18n.Number(lang, n))
	}
	return i18n.T(lang, "admin.tl.clients."+op+".failed.n", i18n.Number(lang, n), i18n.T(lang, "clients.reason."+e.FromStatus))
}

// clientsText is a step of an agent onboarding's clients (issue 14): a
// person's ask, or one client's outcome with the reason in words.
func clientsText(lang string, e domain.Event, w string) string {
	switch e.Operation {
	case domain.ClientsAsk, domain.ClientsAskRemove:
		n, _, _ := strings.Cut(e.Message, " ")
		return sentence(lang, "admin.tl.clients."+e.Operation, w, n)
	}
	client, _, _ := strings.Cut(e.Message, ": ")
	op := domain.ClientOpAdd
	if e.Operation == domain.ClientOpRemove {
		op = domain.ClientOpRemove
	}
	switch domain.ClientState(e.ToStatus) {
	case domain.ClientDelegated, domain.ClientRemoved:
		return i18n.T(lang, "admin.tl.clients."+op+"."+e.ToStatus, client)
	}
	return i18n.T(lang, "admin.tl.clients."+op+".failed", client, i18n.T(lang, "clients.reason."+e.FromStatus))
}

// callText is a call to Altinn: what was asked and why (y), and a second
// sentence when Altinn did not answer or answered with an error.
func callText(lang string, e domain.Event, y string) string {
	s := i18n.T(lang, "admin.tl.call.other", y)
	if op, ok := callOps[e.Operation]; ok {
		s = i18n.T(lang, "admin.tl.call", capitalize(i18n.T(lang, "admin.tl.op."+op)), y)
	}
	switch {
	case e.HTTPStatus == 0:
		s += " " + i18n.T(lang, "admin.tl.call.noanswer")
	case e.HTTPStatus == 404:
		s += " " + i18n.T(lang, "admin.tl.call.notfound")
	case e.HTTPStatus >= 400:
		s += " " + i18n.T(lang, "admin.tl.call.failed")
	}
	return s
}

// staffAction is the action of a staff event: its operation (db.AddStaffAction
// sets it), or for an event stored before that, the start of its message
// ("onboarding.refresh by staff: …").
func staffAction(e domain.Event) string {
	if e.Operation != "" {
		return e.Operation
	}
	if a, _, ok := strings.Cut(e.Message, " by staff"); ok {
		return a
	}
	return ""
}

// staffText is a staff action: who did what, and how it went: failed,
// overtaken, or the status it moved the onboarding to (or left it in).
func staffText(lang string, e domain.Event, w string) string {
	action := staffAction(e)
	key, ok := staffActions[action]
	if !ok {
		key = "other"
	}
	if action == AuditCreate && strings.Contains(e.Message, "found this live onboarding") {
		key = "create.found"
	}
	s := sentence(lang, "admin.tl.staff."+key, w)
	from, to := e.FromStatus, e.ToStatus
	if to == "" && strings.HasPrefix(action, "onboarding.") {
		from, to = staffStatuses(e.Message)
	}
	switch {
	case strings.Contains(e.Message, "overtaken by a concurrent change"):
		return s + " " + i18n.T(lang, "admin.tl.staff.superseded")
	case strings.HasSuffix(e.Message, " failed") || strings.Contains(e.Message, " by staff failed"):
		s += " " + i18n.T(lang, "admin.tl.staff.failed")
	}
	if _, known := domain.ParseStatus(to); !known || key == "redeliver" {
		return s
	}
	if _, known := domain.ParseStatus(from); known && from != to {
		return s + " " + i18n.T(lang, "admin.tl.staff.moved", statusWord(lang, "", from), statusWord(lang, "", to))
	}
	return s + " " + i18n.T(lang, "admin.tl.staff.still", statusWord(lang, "", to))
}

// staffStatuses reads the statuses out of a staff event stored before the
// event had them: "…: pending → connected" or "…; status connected".
func staffStatuses(msg string) (from, to string) {
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		if f, t, ok := strings.Cut(rest, " → "); ok {
			return strings.TrimSpace(f), strings.TrimSpace(t)
		}
	}
	if i := strings.LastIndex(msg, "status "); i >= 0 {
		return "", strings.TrimSpace(msg[i+len("status "):])
	}
	return "", ""
}

// mailText is an email to the customer: which message, and what became of
// it.
func mailText(lang string, e domain.Event, w string) string {
	what := "other"
	if slices.Contains(mailMessages, e.Operation) {
		what = e.Operation
	}
	if e.Operation == mailStop {
		return i18n.T(lang, "admin.tl.mail.stop")
	}
	msg := i18n.T(lang, "admin.tl.mail.what."+what)
	switch e.ToStatus {
	case domain.MailSent, domain.MailOutbox:
		return sentence(lang, "admin.tl.mail."+e.ToStatus, w, msg)
	case domain.MailFailed, domain.MailRefused:
		return i18n.T(lang, "admin.tl.mail."+e.ToStatus, msg)
	}
	return sentence(lang, "admin.tl.mail.other", w, msg)
}

// auditAction is an audit entry's action in words, "" for one without.
func auditAction(lang, action string) string {
	if t := i18n.T(lang, "admin.audit.action."+action); t != "admin.audit.action."+action {
		return t
	}
	return ""
}

// auditFields is an audit entry's detail as labelled fields, in a fixed
// order (known fields first, as auditFieldOrder lists them, then the rest
// by name), each value in words where it has some: statuses, results,
// roles, yes and no, numbers with the language's separator.
func auditFields(lang string, a db.AuditEntry) []views.AuditField {
	keys := make([]string, 0, len(a.Detail))
	for k := range a.Detail {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, oj := fieldOrder(keys[i]), fieldOrder(keys[j])
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	out := make([]views.AuditField, 0, len(keys))
	for _, k := range keys {
		label := i18n.T(lang, "admin.audit.field."+k)
		if label == "admin.audit.field."+k {
			label = k // a field this page does not know: its name
		}
		out = append(out, views.AuditField{Key: k, Label: label, Value: auditValue(lang, a.Action, k, a.Detail[k])})
	}
	return out
}

var auditFieldOrder = []string{"from", "to", "status", "result", "outcome", "code", "error_code",
	"product", "org_no", "started", "email", "role", "name", "prefix", "campaign", "change_request"}

func fieldOrder(k string) int {
	if i := slices.Index(auditFieldOrder, k); i >= 0 {
		return i
	}
	return len(auditFieldOrder)
}

// auditValue is one detail's value in words.
func auditValue(lang, action, key string, v any) string {
	switch x := v.(type) {
	case nil:
		return i18n.T(lang, "admin.none")
	case bool:
		if x {
			return i18n.T(lang, "admin.audit.yes")
		}
		return i18n.T(lang, "admin.audit.no")
	case float64:
		if x == float64(int(x)) && !strings.HasSuffix(key, "_id") {
			return i18n.Number(lang, int(x))
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return i18n.Number(lang, x)
	case int64:
		return i18n.Number(lang, int(x))
	case string:
		return auditString(lang, action, key, x)
	case domain.Status:
		return auditString(lang, action, key, string(x))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// auditString names a string detail in words where the page knows them:
// an onboarding's status, a change request's, a webhook delivery's, a
// staff role, an action's result, a usability outcome.
func auditString(lang, action, key, s string) string {
	try := func(k string) (string, bool) {
		if t := i18n.T(lang, k); t != k {
			return t, true
		}
		return "", false
	}
	var k string
	switch {
	case key == "result":
		k = "admin.audit.result." + s
	case key == "outcome":
		k = "usability.outcome." + s
	case key == "role" || (strings.HasPrefix(action, "staff.") && (key == "from" || key == "to")):
		k = "admin.role." + s
	case action == AuditRedeliver && key == "from":
		k = "admin.webhooks.status." + s
	case strings.HasPrefix(action, "onboarding.change") && key == "status":
		k = "change.status." + s
	case key == "from" || key == "to" || key == "status":
		k = "status." + s
	}
	if k != "" {
		if t, ok := try(k); ok {
			return t
		}
	}
	return s
}
