package handlers

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
)

var allCauses = []domain.Cause{domain.CauseCustomer, domain.CauseReconciler, domain.CauseStaff, domain.CauseAltinn,
	domain.CauseSystem, domain.CauseAPI, domain.CauseCampaign}

// englishWord finds a word that gives an English line away in a Norwegian
// page: the stored messages' words and the raw status names.
var englishWord = regexp.MustCompile(`(?i)\b(the|by|from|onboarding|customer|returned|started|staff|request|changed|called|` +
	`read|failed|overtaken|concurrent|status change|connected|pending|requesting|accepted|rejected|expired|cancelled|revoked|` +
	`usable|sent|outbox|refused|reminder|link|imported|system user|change request|event)\b`)

// timelineCase is one event and what its line must say in nb and en.
type timelineCase struct {
	name   string
	e      domain.Event
	nb, en []string // each must be in the line
}

// timelineCases is every kind, each with its variants (operations, answers,
// actions, results, outcomes); every cause is added to each by the test.
func timelineCases() []timelineCase {
	cs := []timelineCase{
		{"created", domain.Event{Kind: domain.EventCreated, ToStatus: "requesting", Message: "onboarding started for standard"},
			[]string{"startet tilkoblingen"}, []string{"started the onboarding"}},
		{"imported", domain.Event{Kind: domain.EventCreated, ToStatus: "connected", Message: "imported a system user created outside the wizard"},
			[]string{"hentet inn en systemtilgang"}, []string{"imported a system user"}},
		{"status", domain.Event{Kind: domain.EventStatus, FromStatus: "pending", ToStatus: "connected"},
			[]string{"«Venter på godkjenning»", "«Tilkoblet»"}, []string{"“Waiting for approval”", "“Connected”"}},
		{"status set", domain.Event{Kind: domain.EventStatus, ToStatus: "failed", Message: "AUTH-00012: bad"},
			[]string{"Status satt til «Feilet»"}, []string{"Status set to “Failed”"}},
		{"change", domain.Event{Kind: domain.EventChange, FromStatus: "requesting", ToStatus: "pending"},
			[]string{"«Sendes til Altinn»", "«Venter på kunden»"}, []string{"“Being sent to Altinn”", "“Waiting for the customer”"}},
		{"change new", domain.Event{Kind: domain.EventChange, ToStatus: "requesting"},
			[]string{"Endringsforespørselen: «Sendes til Altinn»"}, []string{"The change request: “Being sent to Altinn”"}},
		{"return", domain.Event{Kind: domain.EventReturn, Message: "customer returned from Altinn"},
			[]string{"Kunden kom tilbake fra Altinn."}, []string{"The customer came back from Altinn."}},
		{"return change", domain.Event{Kind: domain.EventReturn, Message: "customer returned from Altinn's change request page (x)"},
			[]string{"endringssiden"}, []string{"change page"}},
		{"error", domain.Event{Kind: domain.EventError, Message: "something broke"},
			[]string{"Det oppstod en feil."}, []string{"An error occurred."}},
		{"call unknown op", domain.Event{Kind: domain.EventAltinnCall, Operation: "GET something/new", HTTPStatus: 200},
			[]string{"Kall til Altinn ("}, []string{"A call to Altinn ("}},
		{"usability skipped", domain.Event{Kind: domain.EventUsability, ToStatus: domain.UsableSkipped, Message: "not checked: no scopes"},
			[]string{"ikke testet"}, []string{"not tested"}},
	}
	for op, words := range map[string][2]string{
		"POST request/vendor":                    {"laget forespørselen i Altinn", "made the request in Altinn"},
		"POST request/vendor/agent":              {"klientsystem", "client system"},
		"GET request/vendor/{id}":                {"leste forespørselen i Altinn", "read the request in Altinn"},
		"GET request/vendor/agent/{id}":          {"leste forespørselen", "read the request"},
		"GET request/vendor/byexternalref":       {"etter referansen", "by its reference"},
		"GET request/vendor/agent/byexternalref": {"etter referansen", "by its reference"},
		"DELETE request/vendor/{id}":             {"slettet forespørselen", "deleted the request"},
		"GET systemuser/vendor/byquery":          {"slo opp systemtilgangen", "looked up the system user"},
		"POST changerequest/vendor":              {"laget endringsforespørselen", "made the change request"},
		"GET changerequest/vendor/{id}":          {"leste endringsforespørselen", "read the change request"},
		"DELETE changerequest/vendor/{id}":       {"slettet endringsforespørselen", "deleted the change request"},
	} {
		for _, a := range []struct {
			http   int
			nb, en string
		}{{200, "", ""}, {0, "Altinn svarte ikke.", "Altinn did not answer."},
			{404, "Altinn fant den ikke.", "Altinn did not find it."}, {500, "Altinn svarte med en feil.", "Altinn answered with an error."}} {
			cs = append(cs, timelineCase{"call " + op + " " + itoa(a.http),
				domain.Event{Kind: domain.EventAltinnCall, Operation: op, HTTPStatus: a.http, Message: "altinn: 500 Internal Server Error"},
				nonEmpty(words[0], a.nb), nonEmpty(words[1], a.en)})
		}
	}
	for outcome, words := range map[string][2]string{
		domain.UsableOK: {"kan brukes", "can be used"}, domain.UsableFailed: {"kan ikke brukes ennå", "cannot be used yet"},
		domain.UsableUnavailable: {"fikk ikke noe svar", "gave no answer"},
	} {
		cs = append(cs, timelineCase{"usability " + outcome,
			domain.Event{Kind: domain.EventUsability, Operation: "POST maskinporten token (system user)", ToStatus: outcome, Message: "not usable: MP-303"},
			[]string{words[0]}, []string{words[1]}})
	}
	for action, words := range map[string][2]string{
		AuditRefresh:        {"hentet status fra Altinn på nytt", "fetched the status from Altinn again"},
		AuditVerify:         {"bekreftet systemtilgangen", "verified the system user"},
		AuditRenew:          {"fornyet forespørselen", "renewed the request"},
		AuditCancel:         {"avsluttet tilkoblingen", "closed the onboarding"},
		AuditCreate:         {"startet tilkoblingen for kunden", "started the onboarding for the customer"},
		AuditTestConnection: {"testet tilkoblingen", "tested the connection"},
		AuditChange:         {"godkjenne endrede rettigheter", "approve changed rights"},
		AuditChangeRefresh:  {"hentet endringsforespørselen", "fetched the change request"},
		AuditChangeCancel:   {"trakk tilbake", "withdrew"},
		AuditRedeliver:      {"webhook-hendelsen på nytt", "webhook event again"},
		"something.new":     {"gjorde en handling", "took an action"},
	} {
		cs = append(cs,
			timelineCase{"staff " + action, domain.Event{Kind: domain.EventStaff, Operation: action, FromStatus: "pending", ToStatus: "connected",
				Message: action + " by staff: pending → connected"}, []string{words[0]}, []string{words[1]}},
		)
	}
	cs = append(cs,
		timelineCase{"staff moved", domain.Event{Kind: domain.EventStaff, Operation: AuditRefresh, FromStatus: "pending", ToStatus: "connected"},
			[]string{"Status: «Venter på godkjenning» → «Tilkoblet»."}, []string{"Status: “Waiting for approval” → “Connected”."}},
		timelineCase{"staff still", domain.Event{Kind: domain.EventStaff, Operation: AuditRefresh, FromStatus: "connected", ToStatus: "connected",
			Message: "onboarding.refresh by staff: connected → connected"},
			[]string{"Status er fortsatt «Tilkoblet»."}, []string{"The status is still “Connected”."}},
		// Stored before the event had its operation and statuses: read from the message.
		timelineCase{"staff old message", domain.Event{Kind: domain.EventStaff, Message: "onboarding.refresh by staff: connected → connected"},
			[]string{"hentet status fra Altinn på nytt", "Status er fortsatt «Tilkoblet»."}, []string{"fetched the status", "still “Connected”"}},
		timelineCase{"staff old failed", domain.Event{Kind: domain.EventStaff, Message: "onboarding.cancel by staff failed; status pending"},
			[]string{"avsluttet tilkoblingen", "Det gikk ikke.", "fortsatt «Venter på godkjenning»"}, []string{"It failed.", "still “Waiting for approval”"}},
		timelineCase{"staff overtaken", domain.Event{Kind: domain.EventStaff, Operation: AuditRenew, ToStatus: "pending",
			Message: "onboarding.renew by staff was overtaken by a concurrent change; status pending"},
			[]string{"Noen andre endret tilkoblingen samtidig"}, []string{"Someone else changed the onboarding"}},
		timelineCase{"staff create found", domain.Event{Kind: domain.EventStaff, Operation: AuditCreate, ToStatus: "pending",
			Message: "onboarding.create by staff found this live onboarding: status pending"},
			[]string{"allerede var i gang"}, []string{"already under way"}},
		timelineCase{"staff change failed", domain.Event{Kind: domain.EventStaff, Operation: AuditChange,
			Message: "onboarding.change by staff: change request x failed failed"},
			[]string{"Det gikk ikke."}, []string{"It failed."}},
	)
	for _, msg := range []string{domain.MailLink, domain.MailReminder, domain.MailEscalated, domain.MailConnected, "other"} {
		what := map[string][2]string{domain.MailLink: {"lenken for godkjenning", "the approval link"},
			domain.MailReminder: {"en påminnelse", "a reminder"}, domain.MailEscalated: {"hvem som må godkjenne", "who must approve"},
			domain.MailConnected: {"kvitteringen", "the receipt"}, "other": {"en melding", "a message"}}[msg]
		for outcome, words := range map[string][2]string{
			domain.MailSent: {"på e-post til kunden", "emailed"}, domain.MailOutbox: {"i utboksen", "in the outbox"},
			domain.MailFailed: {"prøver igjen", "tries again"}, domain.MailRefused: {"avvist", "refused"},
		} {
			cs = append(cs, timelineCase{"mail " + msg + " " + outcome,
				domain.Event{Kind: domain.EventMail, Operation: msg, ToStatus: outcome, Message: "550 mailbox unavailable"},
				[]string{what[0], words[0]}, []string{what[1], words[1]}})
		}
	}
	cs = append(cs,
		timelineCase{"clients ask", domain.Event{Kind: domain.EventClients, Operation: domain.ClientsAsk, Message: "303 clients"},
			[]string{"ba om å legge til 303 klienter"}, []string{"asked to add 303 clients"}},
		timelineCase{"clients ask remove", domain.Event{Kind: domain.EventClients, Operation: domain.ClientsAskRemove, Message: "1 clients"},
			[]string{"ba om å fjerne 1 klienter"}, []string{"asked to remove 1 clients"}},
		timelineCase{"client added", domain.Event{Kind: domain.EventClients, Operation: domain.ClientOpAdd, ToStatus: "delegated", HTTPStatus: 200,
			Message: "310000027 KYSTBAKERIET AS"}, []string{"Klienten 310000027 KYSTBAKERIET AS er lagt til"}, []string{"The client 310000027 KYSTBAKERIET AS was added"}},
		timelineCase{"client failed", domain.Event{Kind: domain.EventClients, Operation: domain.ClientOpAdd, ToStatus: "failed", FromStatus: "not_client",
			HTTPStatus: 400, AltinnCode: "AUTH-00079", Message: "310000027 KYSTBAKERIET AS: altinn: 400 AUTH-00079: Client not found"},
			[]string{"kunne ikke legges til", "blant firmaets klienter"}, []string{"could not be added", "among the firm's clients"}},
		timelineCase{"client removed", domain.Event{Kind: domain.EventClients, Operation: domain.ClientOpRemove, ToStatus: "removed", HTTPStatus: 200,
			Message: "310000027 KYSTBAKERIET AS"}, []string{"er fjernet"}, []string{"was removed"}},
	)
	cs = append(cs, timelineCase{"mail stop", domain.Event{Kind: domain.EventMail, Operation: mailStop, Message: "the customer stopped the emails"},
		[]string{"Kunden ba om å ikke få flere e-poster"}, []string{"The customer asked for no more emails"}})
	return cs
}

func itoa(n int) string { return i18n.Number("en", n) }

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// TestEventText: every kind of event, with every cause, reads as a
// sentence in bokmål and in English, from the event's fields and never its
// stored message; the bokmål line has no English in it.
func TestEventText(t *testing.T) {
	t.Parallel()
	whoWords := map[domain.Cause][2]string{
		domain.CauseCustomer: {"unden", "he customer"}, domain.CauseReconciler: {"akgrunnsjobben", "he background job"},
		domain.CauseStaff: {"olga@example.com", "olga@example.com"}, domain.CauseAltinn: {"Altinn", "Altinn"},
		domain.CauseSystem: {"jenesten", "he service"}, domain.CauseAPI: {"agsystemet", "he vendor's product"},
		domain.CauseCampaign: {"n kampanje", " campaign"},
	}
	for _, tc := range timelineCases() {
		for _, cause := range allCauses {
			e := tc.e
			e.Cause = cause
			if cause == domain.CauseStaff {
				e.Actor = "olga@example.com"
			}
			t.Run(tc.name+"/"+string(cause), func(t *testing.T) {
				t.Parallel()
				nb, en := eventText("nb", e), eventText("en", e)
				for _, s := range []string{nb, en} {
					if strings.Contains(s, "admin.") || strings.Contains(s, "%!") || strings.Contains(s, "status.") {
						t.Errorf("a key or a format error shows: %q", s)
					}
					// A client's outcome names the client (its number and
					// name are data, not a stored message).
					if e.Message != "" && strings.Contains(s, e.Message) && e.Kind != domain.EventClients {
						t.Errorf("the line shows the stored message: %q", s)
					}
					if s == "" || !strings.HasSuffix(s, ".") {
						t.Errorf("not a sentence: %q", s)
					}
				}
				if nb == en {
					t.Errorf("the same line in nb and en: %q", nb)
				}
				// Outside the actor's address, no English word in bokmål.
				if w := englishWord.FindString(strings.ReplaceAll(nb, "olga@example.com", "")); w != "" {
					t.Errorf("English %q in the bokmål line %q", w, nb)
				}
				for _, want := range tc.nb {
					if !strings.Contains(strings.ToLower(nb), strings.ToLower(want)) {
						t.Errorf("nb %q lacks %q", nb, want)
					}
				}
				for _, want := range tc.en {
					if !strings.Contains(strings.ToLower(en), strings.ToLower(want)) {
						t.Errorf("en %q lacks %q", en, want)
					}
				}
				// Who did it, where the line names someone.
				names := tc.e.Kind == domain.EventAltinnCall || tc.e.Kind == domain.EventCreated ||
					tc.e.Kind == domain.EventStaff || tc.e.Kind == domain.EventStatus || tc.e.Kind == domain.EventChange ||
					(tc.e.Kind == domain.EventUsability && tc.e.ToStatus != domain.UsableSkipped)
				if names {
					if w := whoWords[cause]; !strings.Contains(nb, w[0]) || !strings.Contains(en, w[1]) {
						t.Errorf("cause %s: %q / %q do not name %v", cause, nb, en, w)
					}
				}
			})
		}
	}
}

// TestTimeline: newest first; identical reads between two events that
// change something fold into one line with a count and the first and last
// time, also when two kinds of read alternate (the background job's lookup
// and test); a read with another answer or cause stands apart, and a status
// change, a write or a staff action is always its own line.
func TestTimeline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC) // 14:00 in Oslo
	min := func(m int) time.Time { return at.Add(time.Duration(m) * time.Minute) }
	read := func(m int, cause domain.Cause, status int) domain.Event {
		return domain.Event{Kind: domain.EventAltinnCall, At: min(m), Cause: cause, Operation: "GET request/vendor/{id}", HTTPStatus: status}
	}
	byquery := func(m int) domain.Event {
		return domain.Event{Kind: domain.EventAltinnCall, At: min(m), Cause: domain.CauseReconciler, Operation: "GET systemuser/vendor/byquery", HTTPStatus: 200}
	}
	test := func(m int, outcome string) domain.Event {
		return domain.Event{Kind: domain.EventUsability, At: min(m), Cause: domain.CauseReconciler, Operation: "POST maskinporten token (system user)",
			ToStatus: outcome}
	}
	events := []domain.Event{ // oldest first, as db.Events gives them
		{Kind: domain.EventCreated, At: min(0), Cause: domain.CauseCustomer, ToStatus: "requesting"},
		{Kind: domain.EventAltinnCall, At: min(0), Cause: domain.CauseCustomer, Operation: "POST request/vendor", HTTPStatus: 201},
		{Kind: domain.EventStatus, At: min(0), Cause: domain.CauseCustomer, FromStatus: "requesting", ToStatus: "pending"},
		read(1, domain.CauseCustomer, 200), read(2, domain.CauseCustomer, 200), read(5, domain.CauseCustomer, 200),
		read(6, domain.CauseReconciler, 200), // another cause: its own line
		read(7, domain.CauseReconciler, 0),   // another answer: its own line
		read(8, domain.CauseReconciler, 200),
		{Kind: domain.EventStatus, At: min(8), Cause: domain.CauseReconciler, FromStatus: "pending", ToStatus: "connected"},
		read(9, domain.CauseReconciler, 200), read(10, domain.CauseReconciler, 200),
		// The background job's checks of a connected customer: a lookup and
		// a test, again and again; the test's outcome changes once.
		byquery(11), test(11, domain.UsableOK), byquery(12), test(12, domain.UsableOK), byquery(13), test(13, domain.UsableFailed),
		byquery(14), test(14, domain.UsableOK),
	}
	for _, lang := range []string{"nb", "en"} {
		got := timeline(lang, events)
		var shape []string
		for _, ev := range got {
			shape = append(shape, ev.Kind+":"+string(rune('0'+ev.Count)))
		}
		// Newest first: the tests (3 usable, 1 not), the lookups (4), the
		// request read twice since the status change; before it, the
		// reconciler's two good reads around one unanswered, the customer's
		// three status views.
		want := "usability:3 altinn_call:4 usability:1 altinn_call:2 status:1 altinn_call:2 altinn_call:1 altinn_call:3 status:1 altinn_call:1 created:1"
		if s := strings.Join(shape, " "); s != want {
			t.Fatalf("%s: lines %s, want %s", lang, s, want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].AtISO > got[i-1].AtISO {
				t.Errorf("%s: line %d (%s) is newer than line %d (%s)", lang, i, got[i].AtISO, i-1, got[i-1].AtISO)
			}
		}
		folded := got[7]
		if folded.FirstISO != min(1).Format(time.RFC3339) || folded.AtISO != min(5).Format(time.RFC3339) {
			t.Errorf("%s: folded from %s to %s, want 14:01 to 14:05", lang, folded.FirstISO, folded.AtISO)
		}
		wantRepeat := map[string]string{
			"nb": "3 ganger, første 2. desember 2026 kl.\u00a014:01, siste 2. desember 2026 kl.\u00a014:05",
			"en": "3 times, first 2 December 2026 at 14:01, last 2 December 2026 at 14:05",
		}[lang]
		if folded.Repeat != wantRepeat {
			t.Errorf("%s: repeat %q, want %q", lang, folded.Repeat, wantRepeat)
		}
		if got[1].Repeat == "" || got[1].Count != 4 || got[1].FirstISO != min(11).Format(time.RFC3339) || got[1].AtISO != min(14).Format(time.RFC3339) {
			t.Errorf("%s: the lookups between the tests should fold into one: %+v", lang, got[1])
		}
		if got[0].Outcome != domain.UsableOK || got[0].Count != 3 || got[2].Outcome != domain.UsableFailed {
			t.Errorf("%s: the tests fold by outcome: %+v / %+v", lang, got[0], got[2])
		}
	}
	if got := timeline("nb", nil); len(got) != 0 {
		t.Errorf("no events: %v", got)
	}
}

// TestTimelineKeepsTechnicalDetails: a call keeps its operation, HTTP
// status, Altinn code, latency and Altinn's words for staff, out of the
// sentence; a customer's return has no technical part at all.
func TestTimelineKeepsTechnicalDetails(t *testing.T) {
	t.Parallel()
	call := timelineEvent("nb", domain.Event{Kind: domain.EventAltinnCall, Cause: domain.CauseStaff, Actor: "olga@example.com",
		Operation: "POST request/vendor", HTTPStatus: 400, AltinnCode: "AUTH-00012", LatencyMS: 42, Message: "altinn: 400 bad request"})
	if !call.HasTech() || call.Operation != "POST request/vendor" || call.HTTPStatus != 400 || call.AltinnCode != "AUTH-00012" ||
		call.LatencyMS != 42 || call.Message != "altinn: 400 bad request" {
		t.Errorf("call: %+v", call)
	}
	ret := timelineEvent("nb", domain.Event{Kind: domain.EventReturn, Cause: domain.CauseCustomer, Message: "customer returned from Altinn"})
	if ret.HasTech() || ret.Message != "" {
		t.Errorf("a return has nothing technical: %+v", ret)
	}
}

// TestAuditFields: an audit entry's details as labelled fields in words,
// known ones first, numbers with the language's separator.
func TestAuditFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, lang, action string
		detail             map[string]any
		want               string
	}{
		{"refresh", "nb", AuditRefresh, map[string]any{"from": "pending", "to": "connected", "result": "ok"},
			"Fra=Venter på godkjenning; Til=Tilkoblet; Resultat=Gjort"},
		{"refresh en", "en", AuditRefresh, map[string]any{"result": "error", "error_code": "altinn_unavailable", "to": "pending", "from": "pending"},
			"From=Waiting for approval; To=Waiting for approval; Result=Failed; Error code=altinn_unavailable"},
		{"export", "nb", AuditExport, map[string]any{"rows": float64(12345), "complete": true, "filter": "status=pending"},
			"Fullført=Ja; Filter=status=pending; Rader=12\u00a0345"},
		{"role", "en", "staff.role_changed", map[string]any{"staff_id": float64(7), "email": "a@example.com", "from": "viewer", "to": "operator"},
			"From=Viewer; To=Operator; Email=a@example.com; Account=7"},
		{"redeliver", "nb", AuditRedeliver, map[string]any{"from": "failed", "delivery_id": float64(3), "url": "https://x"},
			"Fra=Gitt opp; Levering=3; Adresse=https://x"},
		{"unknown field", "en", "x.y", map[string]any{"zz": []any{"a"}}, `zz=["a"]`},
		{"none", "nb", "x.y", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var parts []string
			for _, f := range auditFields(tc.lang, db.AuditEntry{Action: tc.action, Detail: tc.detail}) {
				parts = append(parts, f.Label+"="+f.Value)
			}
			if got := strings.Join(parts, "; "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestAuditAction: every action the service audits has words in nb and
// en; an unknown one has none (the page shows its name).
func TestAuditAction(t *testing.T) {
	t.Parallel()
	for _, a := range []string{AuditRefresh, AuditVerify, AuditRenew, AuditCancel, AuditCreate, AuditExport, AuditTestConnection,
		AuditChange, AuditChangeRefresh, AuditChangeCancel, AuditRedeliver, AuditSystemUserImport, AuditCampaignCreate, AuditCampaignExport,
		db.AuditAPIKeyCreate, db.AuditAPIKeyRevoke, db.AuditStaffCreated, db.AuditStaffDisable, db.AuditStaffRole, db.AuditSignIn,
		db.AuditSignInFailed, db.AuditSignOut, db.AuditPasswordChanged, db.AuditPasswordChangeFailed, db.AuditPasswordReset,
		db.AuditPasswordResetUsed} {
		nb, en := auditAction("nb", a), auditAction("en", a)
		if nb == "" || en == "" || nb == en && nb != "Administrator" {
			t.Errorf("%s: %q / %q", a, nb, en)
		}
	}
	if got := auditAction("nb", "no.such"); got != "" {
		t.Errorf("unknown action: %q", got)
	}
}

// FuzzEventText: whatever an event holds (an old staff message read for
// its statuses, an unknown kind, cause or operation), its line is a
// sentence without a format error or a raw key, in both languages.
func FuzzEventText(f *testing.F) {
	f.Add("staff", "staff", "", "", "", "onboarding.refresh by staff: pending → connected")
	f.Add("staff", "staff", "", "", "", "onboarding.cancel by staff failed; status pending")
	f.Add("staff", "staff", "onboarding.create", "", "pending", "onboarding.create by staff found this live onboarding: status pending")
	f.Add("altinn_call", "reconciler", "GET request/vendor/{id}", "", "", "")
	f.Add("mail", "system", "reminder", "", "refused", "550")
	f.Add("weird", "nobody", "x", "y", "z", "status  → ")
	f.Fuzz(func(t *testing.T, kind, cause, op, from, to, msg string) {
		e := domain.Event{Kind: kind, Cause: domain.Cause(cause), Operation: op, FromStatus: from, ToStatus: to, Message: msg}
		for _, lang := range []string{"nb", "en"} {
			s := eventText(lang, e)
			if !strings.HasSuffix(s, ".") || strings.Contains(s, "%!") || strings.Contains(s, "admin.tl.") {
				t.Fatalf("%s: %q for %+v", lang, s, e)
			}
		}
	})
}

// TestTimelineFoldsClients: the outcomes of many clients fold into one
// line per outcome that counts them, with the first and last time; the ask
// stands apart.
func TestTimelineFoldsClients(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	evs := []domain.Event{{Kind: domain.EventClients, At: at, Cause: domain.CauseCustomer, Operation: domain.ClientsAsk, Message: "4 clients"}}
	for i, state := range []string{"delegated", "delegated", "failed", "delegated"} {
		e := domain.Event{Kind: domain.EventClients, At: at.Add(time.Duration(i+1) * time.Second), Cause: domain.CauseCustomer,
			Operation: domain.ClientOpAdd, ToStatus: state, Message: "31000002" + strconv.Itoa(i) + " X AS"}
		if state == "failed" {
			e.FromStatus = "missing_packages"
		}
		evs = append(evs, e)
	}
	lines := timeline("nb", evs)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (added ×3, failed, the ask): %+v", len(lines), lines)
	}
	if lines[0].Text != "3 klienter er lagt til." || lines[0].Count != 3 || !strings.HasPrefix(lines[0].Repeat, "første ") {
		t.Errorf("the folded line: %q ×%d, %q", lines[0].Text, lines[0].Count, lines[0].Repeat)
	}
	if !strings.Contains(lines[1].Text, "kunne ikke legges til") || lines[1].Count != 1 {
		t.Errorf("the failed line: %q ×%d", lines[1].Text, lines[1].Count)
	}
	if !strings.Contains(lines[2].Text, "ba om å legge til 4 klienter") {
		t.Errorf("the ask: %q", lines[2].Text)
	}
}
