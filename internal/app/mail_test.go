package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/mail"
)

// smtpServer is a real SMTP server (go-smtp) on loopback that keeps every
// message it takes. A recipient whose address starts with "refused" gets a
// 550; one starting with "busy" a 451 for its first two tries.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	got  []mailReceived
	// rcpts counts RCPT TO per address, taken or not.
	rcpts map[string]int
}

type mailReceived struct {
	To, Subject, Text, HTML string
	Header                  netmail.Header
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{rcpts: map[string]int{}}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }

type smtpSession struct {
	s  *smtpServer
	to string
}

func (x *smtpSession) Reset()        { x.to = "" }
func (x *smtpSession) Logout() error { return nil }
func (x *smtpSession) Mail(string, *smtp.MailOptions) error {
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	x.s.rcpts[to]++
	n := x.s.rcpts[to]
	x.s.mu.Unlock()
	switch {
	case strings.HasPrefix(to, "refused"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	case strings.HasPrefix(to, "busy") && n <= 2:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = to
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseMail(raw)
	if err != nil {
		return err
	}
	m.To = x.to
	x.s.mu.Lock()
	x.s.got = append(x.s.got, m)
	x.s.mu.Unlock()
	return nil
}

// to lists the messages one address got, in order.
func (s *smtpServer) to(addr string) []mailReceived {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mailReceived
	for _, m := range s.got {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func (s *smtpServer) rcptCount(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts[addr]
}

// parseMail reads a message's subject and its text and HTML parts.
func parseMail(raw []byte) (mailReceived, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return mailReceived{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return mailReceived{}, err
	}
	out := mailReceived{Subject: subject, Header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return mailReceived{}, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return mailReceived{}, errors.New("not multipart: " + mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return mailReceived{}, err
		}
		var body io.Reader = p
		switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return mailReceived{}, err
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	return out, nil
}

// mailClock is the mail sweep's test clock: now plus an offset.
type mailClock struct{ offset atomic.Int64 }

func (c *mailClock) now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *mailClock) set(d time.Duration) { c.offset.Store(int64(d)) }

const day = 24 * time.Hour

// mailSettings points an instance at the test SMTP server.
func mailSettings(s *smtpServer) map[string]string {
	host, port, _ := net.SplitHostPort(s.addr)
	return map[string]string{
		"ONBOARD_SMTP_HOST": host, "ONBOARD_SMTP_PORT": port, "ONBOARD_SMTP_TLS": "none",
		"ONBOARD_MAIL_FROM": "SmartCloud <noreply@smartcloud.example>", "ONBOARD_MAIL_INTERVAL": "1s",
		"ONBOARD_CAMPAIGN_RATE": "50", "ONBOARD_SUPPORT_EMAIL": "hjelp@smartcloud.example",
	}
}

// waitMail waits until addr has n messages and returns them.
func waitMail(t *testing.T, s *smtpServer, addr string, n int) []mailReceived {
	t.Helper()
	var got []mailReceived
	waitFor(t, 30*time.Second, strconv.Itoa(n)+" messages to "+addr, func() bool {
		got = s.to(addr)
		return len(got) >= n
	})
	return got
}

func mailStatus(t *testing.T, store *db.DB, onboardingID, message string, seq int) string {
	t.Helper()
	var status string
	err := store.Pool.QueryRow(context.Background(), `SELECT status FROM mail_messages
		WHERE onboarding_id = $1 AND message = $2 AND seq = $3`, onboardingID, message, seq).Scan(&status)
	if err != nil {
		return ""
	}
	return status
}

var stopLinkRE = regexp.MustCompile(`https?://[^\s"<>]+/mail/stop/[^\s"<>]+`)

// TestMailToCampaignCustomers: a campaign's customers get the approval link
// (the links CSV's confirm link) by email, then reminders at 3, 7 and 14
// days and before Altinn's expiry on a test clock, in the onboarding's
// language; an escalated request gets the access manager's text; a
// customer who opts out gets nothing more; a 5xx refusal is marked refused
// on the timeline and not tried again; a 4xx is tried again and goes; and
// the receipt follows a connection.
func TestMailToCampaignCustomers(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	e := newEnv(t, mailSettings(srv))
	clock := &mailClock{}
	e.app.Mail.Sweep.Now = clock.now
	e.app.Mail.Send.RetryBase, e.app.Mail.Send.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	orgs := distinctOrgs(300, 6)
	addrs := []string{"anna@example.com", "esc@example.com", "refused@example.com", "busy@example.com", "stop@example.com", "nn@example.com"}
	list := "organisasjonsnummer;kundereferanse;epost\n"
	for i, o := range orgs {
		list += o + ";k-" + strconv.Itoa(i) + ";" + addrs[i] + "\n"
	}
	list += validOrg(400) + ";k-none\n" // no address: no mail
	id := campaignIDOf(t, e.postCampaign(b, "Mail", "standard", list, false, "3", "50"))
	e.startJobs()
	if p := e.campaignAction(b, id, "start"); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", p.status, p.body)
	}
	waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)

	// The link: the confirm link of the campaign's links CSV.
	anna := e.onboardingForOrg(orgs[0])
	link := waitMail(t, srv, "anna@example.com", 1)[0]
	if anna.ConfirmURL == nil || !strings.Contains(link.Text, *anna.ConfirmURL) {
		t.Fatalf("the link mail lacks the confirm link %v:\n%s", anna.ConfirmURL, link.Text)
	}
	csv := b.get(e.web.URL + "/admin/campaigns/" + id + "/links.csv")
	if !strings.Contains(csv.body, *anna.ConfirmURL) {
		t.Errorf("the links CSV lacks the mailed link %s", *anna.ConfirmURL)
	}
	for _, want := range []string{"SmartCloud", "systemtilgang", "hjelp@smartcloud.example", "/mail/stop/"} {
		if !strings.Contains(link.Text, want) {
			t.Errorf("link text lacks %q:\n%s", want, link.Text)
		}
	}
	if !strings.Contains(link.Subject, "SmartCloud") || !strings.Contains(link.HTML, `href="`+strings.ReplaceAll(*anna.ConfirmURL, "&", "&amp;")+`"`) {
		t.Errorf("subject %q / HTML without the link:\n%s", link.Subject, link.HTML)
	}
	if strings.Contains(link.HTML, "<img") {
		t.Errorf("the HTML has an image:\n%s", link.HTML)
	}
	if got := link.Header.Get("Content-Language"); got != "nb" {
		t.Errorf("Content-Language %q, want nb", got)
	}
	waitEvent := func(o *domain.Onboarding, op, status string) domain.Event {
		t.Helper()
		var found domain.Event
		waitFor(t, 20*time.Second, "a "+op+" "+status+" event for "+o.OrgNo, func() bool {
			for _, ev := range e.events(o) {
				if ev.Kind == domain.EventMail && ev.Operation == op && ev.ToStatus == status {
					found = ev
					return true
				}
			}
			return false
		})
		return found
	}
	waitEvent(anna, domain.MailLink, domain.MailSent)

	// A 5xx: refused, on the timeline with the server's words, not retried.
	refused := e.onboardingForOrg(orgs[2])
	ev := waitEvent(refused, domain.MailLink, domain.MailRefused)
	if !strings.Contains(ev.Message, "550") {
		t.Errorf("refused event's message %q lacks the 550", ev.Message)
	}
	rs, err := e.db.RefusedMail(context.Background(), 10)
	if err != nil || len(rs) != 1 || rs[0].To != "refused@example.com" || rs[0].OnboardingID != refused.ID {
		t.Errorf("RefusedMail = %+v, %v", rs, err)
	}
	// A 4xx: failed, then sent on a later try.
	busy := e.onboardingForOrg(orgs[3])
	waitMail(t, srv, "busy@example.com", 1)
	waitEvent(busy, domain.MailLink, domain.MailFailed)
	waitEvent(busy, domain.MailLink, domain.MailSent)
	if n := srv.rcptCount("refused@example.com"); n != 1 {
		t.Errorf("the refused address was tried %d times, want 1", n)
	}

	// Escalated: the access manager's text.
	esc := e.onboardingForOrg(orgs[1])
	waitMail(t, srv, "esc@example.com", 1)
	if err := e.app.Sim.Escalate(*esc.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	if o := e.reconcile(esc); !o.Escalated {
		t.Fatalf("not escalated after a reconcile")
	}
	escMail := waitMail(t, srv, "esc@example.com", 2)[1]
	if !strings.Contains(escMail.Text, "tilgangsstyrer") || !strings.Contains(escMail.Text, *esc.ConfirmURL) {
		t.Errorf("escalated mail:\n%s %s", escMail.Subject, escMail.Text)
	}

	// Opting out: the link in the message, a page, a button.
	stopper := e.onboardingForOrg(orgs[4])
	stopMail := waitMail(t, srv, "stop@example.com", 1)[0]
	stopURL := stopLinkRE.FindString(stopMail.Text)
	if stopURL == "" {
		t.Fatalf("no opt-out link:\n%s", stopMail.Text)
	}
	cust := e.browser()
	sp := cust.get(stopURL)
	if sp.status != http.StatusOK || !strings.Contains(sp.body, `data-testid="mail-stop-form"`) {
		t.Fatalf("opt-out page: %d\n%s", sp.status, sp.body)
	}
	if done := cust.post(stopURL, url.Values{"_csrf": {csrfOf(t, sp)}}); done.status != http.StatusOK || !strings.Contains(done.body, `data-testid="mail-stop-done"`) {
		t.Fatalf("opt-out: %d\n%s", done.status, done.body)
	}
	if forged := cust.get(e.web.URL + "/mail/stop/" + anna.ID + "?t=AAAA"); forged.status != http.StatusNotFound {
		t.Errorf("a forged opt-out link: %d, want 404", forged.status)
	}

	// The languages: one customer reads nynorsk, one English.
	waitMail(t, srv, "nn@example.com", 1)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET lang = 'nn' WHERE id = $1`, e.onboardingForOrg(orgs[5]).ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET lang = 'en' WHERE id = $1`, busy.ID); err != nil {
		t.Fatal(err)
	}

	// Reminders on the test clock.
	for i, age := range []time.Duration{3 * day, 7 * day, 14 * day, 179*day + time.Hour} {
		clock.set(age + time.Minute)
		got := waitMail(t, srv, "anna@example.com", i+2)
		r := got[i+1]
		if !strings.HasPrefix(r.Subject, "Påminnelse") || !strings.Contains(r.Text, *anna.ConfirmURL) {
			t.Errorf("reminder %d: %q\n%s", i+1, r.Subject, r.Text)
		}
		if i == 3 && !strings.Contains(r.Text, "utløper snart") {
			t.Errorf("the last reminder does not say the request expires:\n%s", r.Text)
		}
		if i == 0 {
			nn := waitMail(t, srv, "nn@example.com", 2)[1]
			if !strings.HasPrefix(nn.Subject, "Påminning") || !strings.Contains(nn.Text, "Førespurnaden") {
				t.Errorf("nynorsk reminder: %q\n%s", nn.Subject, nn.Text)
			}
			en := waitMail(t, srv, "busy@example.com", 2)[1]
			if !strings.HasPrefix(en.Subject, "Reminder") || !strings.Contains(en.Text, "still waiting") {
				t.Errorf("English reminder: %q\n%s", en.Subject, en.Text)
			}
			escR := waitMail(t, srv, "esc@example.com", 3)[2]
			if !strings.Contains(escR.Text, "tilgangsstyrer") {
				t.Errorf("an escalated customer's reminder does not name the access manager:\n%s", escR.Text)
			}
		}
	}
	// Recorded once the server has taken it.
	waitFor(t, 20*time.Second, "the reminder before expiry recorded as sent", func() bool {
		return mailStatus(t, e.db, anna.ID, domain.MailReminder, mail.ExpirySeq) == domain.MailSent
	})
	// After expiry nothing more.
	clock.set(181 * day)
	// The one who opted out got the link only, and the rest stopped.
	if got := srv.to("stop@example.com"); len(got) != 1 {
		t.Errorf("stop@example.com got %d messages after opting out, want 1", len(got))
	}
	if s := mailStatus(t, e.db, stopper.ID, domain.MailReminder, 1); s != "" && s != db.MailSkipped {
		t.Errorf("the opted-out customer's reminder is %q", s)
	}
	if n := srv.rcptCount("refused@example.com"); n != 1 {
		t.Errorf("the refused address was tried %d times, want 1 (its reminders need a link that went)", n)
	}

	// Connected: a short receipt.
	e.returnTo(cust, e.decide(cust, *anna.ConfirmURL, "approve").location)
	receipt := waitMail(t, srv, "anna@example.com", 6)[5]
	if !strings.Contains(receipt.Subject, "koblet til") || strings.Contains(receipt.Text, *anna.ConfirmURL) {
		t.Errorf("receipt: %q\n%s", receipt.Subject, receipt.Text)
	}
	waitEvent(anna, domain.MailConnected, domain.MailSent)

	// The mail page lists every message.
	e.addStaff("adam@example.com", string(domain.RoleAdmin))
	ab := e.browser()
	e.signIn(ab, "adam@example.com", staffPassword, "")
	mp := ab.get(e.web.URL + "/admin/mail")
	if mp.status != http.StatusOK || strings.Count(mp.body, `data-testid="mail-row"`) < 10 || !strings.Contains(mp.body, "refused@example.com") {
		t.Errorf("mail page: %d, %d rows", mp.status, strings.Count(mp.body, `data-testid="mail-row"`))
	}
}

// TestMailOncePerMessageAcrossInstances: two instances on one database
// sweep and send; each customer gets the link once and each reminder once,
// also when both sweep at the same moment.
func TestMailOncePerMessageAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	c := newCluster(t, 2, mailSettings(srv))
	clock := &mailClock{}
	for _, a := range c.apps {
		a.Mail.Sweep.Now = clock.now
	}
	e := c.env
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	b := e.browser()
	e.signIn(b, "olga@example.com", staffPassword, "")
	orgs := distinctOrgs(500, 5)
	list := "organisasjonsnummer;kundereferanse;epost\n"
	for i, o := range orgs {
		list += o + ";k-" + strconv.Itoa(i) + ";kunde" + strconv.Itoa(i) + "@example.com\n"
	}
	id := campaignIDOf(t, e.postCampaign(b, "Mail twice", "standard", list, false, "3", "50"))
	c.startJobs()
	if p := e.campaignAction(b, id, "start"); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", p.status, p.body)
	}
	waitCampaign(t, c.check, id, db.CampaignDone, 30*time.Second)
	sweepBoth := func() {
		t.Helper()
		var wg sync.WaitGroup
		for _, a := range c.apps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := a.Jobs.Insert(context.Background(), mail.SweepArgs{}, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	sweepBoth()
	for i := range orgs {
		waitMail(t, srv, "kunde"+strconv.Itoa(i)+"@example.com", 1)
	}
	clock.set(3*day + time.Minute)
	sweepBoth()
	sweepBoth()
	for i := range orgs {
		waitMail(t, srv, "kunde"+strconv.Itoa(i)+"@example.com", 2)
	}
	// More sweeps, on both instances, after everything went.
	since := time.Now()
	sweepBoth()
	waitFor(t, 20*time.Second, "later sweeps on both instances", func() bool {
		var n int
		_ = c.check.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'mail_sweep' AND state = 'completed' AND finalized_at > $1`, since).Scan(&n)
		return n >= 2
	})
	for i := range orgs {
		addr := "kunde" + strconv.Itoa(i) + "@example.com"
		if got := srv.to(addr); len(got) != 2 {
			t.Errorf("%s got %d messages, want the link and one reminder", addr, len(got))
		}
	}
	var rows int
	if err := c.check.Pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_messages`).Scan(&rows); err != nil || rows != 2*len(orgs) {
		t.Errorf("%d messages stored (%v), want %d", rows, err, 2*len(orgs))
	}
	// Every sweep, the periodic ones too, is in the mail queue, which an
	// instance without mail does not work (the retest saw one fetch a
	// sweep it had no worker for).
	var elsewhere int
	if err := c.check.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_sweep' AND queue <> $1`, mail.Queue).Scan(&elsewhere); err != nil || elsewhere != 0 {
		t.Errorf("%d mail sweeps outside the mail queue (%v)", elsewhere, err)
	}
}

// TestMailOutboxAndPause: in dev without an SMTP server the messages go to
// the built-in outbox, listed on the mail page with their text; while an
// admin has paused mail they wait, and go when it is resumed. An operator
// cannot pause.
func TestMailOutboxAndPause(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_MAIL_INTERVAL": "1s", "ONBOARD_CAMPAIGN_RATE": "50"})
	e.app.Mail.Send.PauseWait = 100 * time.Millisecond
	e.addStaff("adam@example.com", string(domain.RoleAdmin))
	e.addStaff("olga@example.com", string(domain.RoleOperator))
	ab := e.browser()
	e.signIn(ab, "adam@example.com", staffPassword, "")
	ob := e.browser()
	e.signIn(ob, "olga@example.com", staffPassword, "")

	mp := ab.get(e.web.URL + "/admin/mail")
	if mp.status != http.StatusOK || !strings.Contains(mp.body, `data-testid="mail-empty"`) || !strings.Contains(mp.body, "ONBOARD_SMTP_HOST") {
		t.Fatalf("mail page: %d\n%s", mp.status, mp.body)
	}
	if op := ob.get(e.web.URL + "/admin/mail"); strings.Contains(op.body, `data-testid="mail-pause"`) {
		t.Error("an operator is offered the pause")
	}
	if p := ob.post(e.web.URL+"/admin/mail/pause", url.Values{"paused": {"true"}, "_csrf": {csrfOf(t, ob.get(e.web.URL+"/admin/mail"))}}); p.status != http.StatusForbidden {
		t.Errorf("operator's pause: %d, want 403", p.status)
	}
	if p := ab.post(e.web.URL+"/admin/mail/pause", url.Values{"paused": {"true"}, "_csrf": {csrfOf(t, mp)}}); p.status != http.StatusSeeOther {
		t.Fatalf("pause: %d\n%s", p.status, p.body)
	}
	if p := ab.get(e.web.URL + "/admin/mail"); !strings.Contains(p.body, `data-testid="mail-paused"`) || !strings.Contains(p.body, "adam@example.com") {
		t.Errorf("the page does not say who paused:\n%s", p.body)
	}

	orgs := distinctOrgs(700, 2)
	list := orgs[0] + ";k;ut1@example.com\n" + orgs[1] + ";k;ut2@example.com\n"
	id := campaignIDOf(t, e.postCampaign(ob, "Outbox", "standard", list, false, "3", "50"))
	e.startJobs()
	e.campaignAction(ob, id, "start")
	waitCampaign(t, e.db, id, db.CampaignDone, 30*time.Second)
	o := e.onboardingForOrg(orgs[0])
	waitFor(t, 20*time.Second, "the link queued", func() bool { return mailStatus(t, e.db, o.ID, domain.MailLink, 0) == db.MailQueued })
	// Paused: it waits (the job snoozes) however often it looks.
	since := time.Now()
	waitFor(t, 20*time.Second, "the send job to look again", func() bool {
		var n int
		_ = e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_send'
			AND attempted_at > $1`, since).Scan(&n)
		return n > 0
	})
	if s := mailStatus(t, e.db, o.ID, domain.MailLink, 0); s != db.MailQueued {
		t.Fatalf("while paused the link is %q", s)
	}

	// The other customer connects while the mail is paused: its link is no
	// longer due and is not sent.
	o2 := e.onboardingForOrg(orgs[1])
	waitFor(t, 20*time.Second, "the second link queued", func() bool { return mailStatus(t, e.db, o2.ID, domain.MailLink, 0) == db.MailQueued })
	cust := e.browser()
	e.returnTo(cust, e.decide(cust, *o2.ConfirmURL, "approve").location)

	mp = ab.get(e.web.URL + "/admin/mail")
	if p := ab.post(e.web.URL+"/admin/mail/pause", url.Values{"paused": {"false"}, "_csrf": {csrfOf(t, mp)}}); p.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", p.status)
	}
	waitFor(t, 20*time.Second, "the link in the outbox", func() bool { return mailStatus(t, e.db, o.ID, domain.MailLink, 0) == domain.MailOutbox })
	waitFor(t, 20*time.Second, "the connected customer's link skipped", func() bool {
		return mailStatus(t, e.db, o2.ID, domain.MailLink, 0) == db.MailSkipped
	})
	found := false
	for _, ev := range e.events(o) {
		found = found || (ev.Kind == domain.EventMail && ev.Operation == domain.MailLink && ev.ToStatus == domain.MailOutbox)
	}
	if !found {
		t.Error("no outbox event on the timeline")
	}
	mp = ab.get(e.web.URL + "/admin/mail")
	if strings.Count(mp.body, `data-testid="mail-row"`) != 2 || !strings.Contains(mp.body, "ut1@example.com") || !strings.Contains(mp.body, html.EscapeString(*o.ConfirmURL)) {
		t.Errorf("the outbox page:\n%s", mp.body)
	}
}

// TestMailForAnAPIOnboarding: an onboarding the API (or staff) starts with an email
// gets the link in its language (checked against the OpenAPI document); a
// bad address is refused; one without an address gets nothing.
func TestMailForAnAPIOnboarding(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	e := newEnv(t, mailSettings(srv))
	e.addStaff("adam@example.com", string(domain.RoleAdmin))
	ab := e.browser()
	e.signIn(ab, "adam@example.com", staffPassword, "")
	key := e.createAPIKey(ab, "mail")
	doc := e.openAPI()
	e.startJobs()
	org := validOrg(800)
	if r := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+org+`","lang":"en","email":"kari@example.com"}`); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.api(nil, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+validOrg(801)+`","email":"Kari <kari@example.com>"}`); r.status != http.StatusBadRequest {
		t.Errorf("a display name: %d, want 400", r.status)
	}
	if r := e.api(doc, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+validOrg(802)+`"}`); r.status != http.StatusCreated {
		t.Fatalf("create without email: %d %s", r.status, r.body)
	}
	o := e.onboardingForOrg(org)
	m := waitMail(t, srv, "kari@example.com", 1)[0]
	if !strings.Contains(m.Subject, "asks for system access") || !strings.Contains(m.Text, *o.ConfirmURL) {
		t.Errorf("API link mail: %q\n%s", m.Subject, m.Text)
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_messages`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d messages (%v), want 1", n, err)
	}

	// Staff start one on a customer's behalf with an address.
	form := ab.get(e.web.URL + "/admin/onboardings/new")
	bad := ab.post(e.web.URL+"/admin/onboardings/new", url.Values{"_csrf": {csrfOf(t, form)}, "product": {"standard"},
		"orgno": {validOrg(803)}, "email": {"not an address"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `data-testid="email-error"`) {
		t.Errorf("a bad address: %d", bad.status)
	}
	res := ab.post(e.web.URL+"/admin/onboardings/new", url.Values{"_csrf": {csrfOf(t, form)}, "product": {"standard"},
		"orgno": {validOrg(803)}, "email": {"per@example.com"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("staff create: %d\n%s", res.status, res.body)
	}
	staffMade := e.onboardingForOrg(validOrg(803))
	if sm := waitMail(t, srv, "per@example.com", 1)[0]; !strings.Contains(sm.Text, *staffMade.ConfirmURL) {
		t.Errorf("staff link mail:\n%s", sm.Text)
	}
}
