package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

var (
	tlEventRE = regexp.MustCompile(`(?s)<li data-testid="event" data-kind="([a-z_]+)" data-cause="([a-z]*)" data-actor="[^"]*" data-at="([^"]+)" data-count="(\d+)">(.*?)</li>`)
	tlTextRE  = regexp.MustCompile(`data-testid="event-text">([^<]*)<`)
	// tlEnglish gives an English line away on a Norwegian page: the words
	// of the messages events are stored with, and the raw status names.
	tlEnglish = regexp.MustCompile(`(?i)\b(the|by|from|onboarding|customer|returned|started|staff|request|changed|called|read|` +
		`failed|connected|pending|requesting|accepted|rejected|expired|system user)\b`)
)

// tlLine is one timeline line of a detail page.
type tlLine struct {
	kind, cause, at, text string
	count                 int
}

func timelineOf(t *testing.T, p page) []tlLine {
	t.Helper()
	var out []tlLine
	for _, m := range tlEventRE.FindAllStringSubmatch(p.body, -1) {
		n, _ := strconv.Atoi(m[4])
		tm := tlTextRE.FindStringSubmatch(m[5])
		if tm == nil {
			t.Fatalf("a timeline line without its words: %s", m[0])
		}
		out = append(out, tlLine{kind: m[1], cause: m[2], at: m[3], text: html.UnescapeString(tm[1]), count: n})
	}
	if len(out) == 0 {
		t.Fatalf("no timeline on the page (%d):\n%s", p.status, p.body)
	}
	return out
}

// TestTimelineInWords: a customer starts, looks at the status page three
// times (three identical reads of the request at Altinn), approves and
// comes back; a staff member refreshes. The detail page in bokmål has every
// line in Norwegian (none of the stored English messages, no raw status
// name), newest first, with the three reads folded into one line with a
// count; in English the same lines in English. Audit details are labelled
// fields, not JSON, and dates are in words.
func TestTimelineInWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	o := e.onboardingForOrg(org)
	for range 3 {
		if res := b.get(e.web.URL + "/status/" + o.Ref); res.status != http.StatusOK {
			t.Fatalf("status page: %d\n%s", res.status, res.body)
		}
	}
	e.returnTo(b, e.decide(b, confirm, "approve").location)
	if o = e.dashReload(o); o.Status != domain.StatusConnected {
		t.Fatalf("after approval: %s", o.Status)
	}
	staff, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	path := e.web.URL + "/admin/onboardings/" + o.ID
	detail := staff.get(path)
	dashDoneAt(t, staff.post(path+"/refresh", url.Values{"_csrf": {csrfOf(t, detail)}}), o, "refresh")

	stored := map[string]bool{}
	for _, ev := range e.events(o) {
		if ev.Message != "" {
			stored[ev.Message] = true
		}
	}
	for _, lang := range []string{"nb", "en"} {
		staff.get(e.web.URL + "/lang/" + lang + "?next=/admin/")
		p := staff.get(path)
		if p.status != http.StatusOK || !strings.Contains(p.body, `<html lang="`+lang+`"`) {
			t.Fatalf("%s: detail page %d", lang, p.status)
		}
		lines := timelineOf(t, p)
		for _, l := range lines {
			t.Logf("%s: %s ×%d %s %s", lang, l.at, l.count, l.kind, l.text)
		}
		for i, l := range lines {
			for msg := range stored {
				if strings.Contains(l.text, msg) {
					t.Errorf("%s: line %q shows the stored message %q", lang, l.text, msg)
				}
			}
			if lang == "nb" {
				if w := tlEnglish.FindString(strings.ReplaceAll(l.text, "olga@example.com", "")); w != "" {
					t.Errorf("nb: English %q in the line %q", w, l.text)
				}
			}
			if i > 0 && l.at > lines[i-1].at {
				t.Errorf("%s: line %d (%s %s) is newer than the one above it (%s)", lang, i, l.kind, l.at, lines[i-1].at)
			}
		}
		if last := lines[len(lines)-1]; last.kind != domain.EventCreated {
			t.Errorf("%s: the oldest line (last) is %s, want created", lang, last.kind)
		}
		if first := lines[0]; first.kind != domain.EventStaff && first.kind != domain.EventAltinnCall {
			t.Errorf("%s: the newest line (first) is %s %q, want the staff refresh", lang, first.kind, first.text)
		}
		folded := 0
		for _, l := range lines {
			if l.kind == domain.EventAltinnCall && l.cause == "customer" && l.count == 3 {
				folded++
			}
		}
		if folded != 1 {
			t.Errorf("%s: the three status views' reads should be one line with count 3: %+v", lang, lines)
		}
		want := map[string][]string{
			"nb": {"Kunden startet tilkoblingen.", "Kunden kom tilbake fra Altinn.", "olga@example.com hentet status fra Altinn på nytt.",
				"Leste forespørselen i Altinn (kunden var på siden).", "«Tilkoblet»", "3 ganger, første", " kl.\u00a0"},
			"en": {"The customer started the onboarding.", "The customer came back from Altinn.", "olga@example.com fetched the status from Altinn again.",
				"Read the request in Altinn (the customer was on the page).", "“Connected”", "3 times, first", " at "},
		}[lang]
		text := html.UnescapeString(p.body)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
		// Audit details as labelled fields, never the stored JSON.
		if !strings.Contains(p.body, `data-testid="audit-detail"`) || strings.Contains(text, `{"from"`) || strings.Contains(text, `"result":`) {
			t.Errorf("%s: the audit details should be fields, not JSON", lang)
		}
		field := map[string]string{"nb": "<dt>Resultat</dt>", "en": "<dt>Result</dt>"}[lang]
		if !strings.Contains(p.body, field) {
			t.Errorf("%s: the audit details lack %s", lang, field)
		}
		// No numeric date anywhere on the page.
		if d := regexp.MustCompile(`\b\d{2}\.\d{2}\.\d{4}\b|\b\d{4}-\d{2}-\d{2} \d{2}:`).FindString(text); d != "" {
			t.Errorf("%s: a numeric date on the page: %s", lang, d)
		}
	}
	// The dashboard speaks bokmål and English; a staff member who chose
	// nynorsk reads it in bokmål, timeline included.
	staff.get(e.web.URL + "/lang/nn?next=/admin/")
	if p := staff.get(path); !strings.Contains(p.body, `<html lang="nb"`) || timelineOf(t, p)[0].text != timelineOf(t, staff.get(path))[0].text ||
		!strings.Contains(html.UnescapeString(p.body), "Kunden startet tilkoblingen.") {
		t.Errorf("nn: the detail page should be in bokmål")
	}
}

// TestEmptyStatesAndCopyButtons: every dashboard list that can be empty
// says so in words (the onboardings with none yet and with no match, the
// API keys, the campaigns), and the texts to copy (the API key and a new
// account's password shown once, a waiting onboarding's confirm link) have a copy button that is hidden
// without script, with the script on the page; the text itself is a
// readonly input to select by hand.
func TestEmptyStatesAndCopyButtons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin, _ := e.dashStaff("ada@example.com", string(domain.RoleAdmin))
	for _, tc := range []struct{ path, want string }{
		{"/admin/", `data-testid="no-rows">Ingen tilkoblinger ennå.`},
		{"/admin/?q=999999999", `data-testid="no-rows">Ingen tilkoblinger passer med filtrene.`},
		{"/admin/apikeys", `data-testid="no-apikeys">Ingen API-nøkler ennå.`},
		{"/admin/campaigns", `data-testid="no-campaigns">`},
	} {
		if p := admin.get(e.web.URL + tc.path); p.status != http.StatusOK || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s (%d) lacks %s", tc.path, p.status, tc.want)
		}
	}
	copyable := func(p page, id string) {
		t.Helper()
		for _, want := range []string{`id="` + id + `"`, ` readonly`, `<span class="copy-button" hidden data-copy-wrap>`,
			`data-copy="` + id + `"`, `data-copied="Kopiert."`, `/wizard.js"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the copy button for %s: the page lacks %s", id, want)
			}
		}
		if n := strings.Count(p.body, `/wizard.js"`); n != 1 {
			t.Errorf("the copy script is on the page %d times, want once", n)
		}
	}
	list := admin.get(e.web.URL + "/admin/apikeys")
	copyable(admin.post(e.web.URL+"/admin/apikeys", url.Values{"_csrf": {csrfOf(t, list)}, "name": {"erp"}}), "new-key")
	if p := admin.get(e.web.URL + "/admin/apikeys"); strings.Contains(p.body, `data-testid="no-apikeys"`) || !strings.Contains(p.body, `data-testid="apikey-row"`) {
		t.Error("with a key, the API keys page lists it instead of saying there are none")
	}
	e.startFlow(e.browser(), "standard", org)
	copyable(admin.get(e.web.URL+"/admin/onboardings/"+e.onboardingForOrg(org).ID), "confirm-url")
	staffList := admin.get(e.web.URL + "/admin/staff")
	copyable(admin.post(e.web.URL+"/admin/staff", url.Values{"_csrf": {csrfOf(t, staffList)}, "email": {"nils@example.com"}, "role": {"viewer"}}),
		"new-password")
}
