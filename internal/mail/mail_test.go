package mail

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestRenderEveryMessageInEveryLanguage: each message in nb, nn and en
// has its own words, the vendor, the organisation, the link (but the
// receipt), the support contact and the opt-out link, and its HTML escapes
// what it is given and has no image.
func TestRenderEveryMessageInEveryLanguage(t *testing.T) {
	t.Parallel()
	words := map[string]map[string]string{
		domain.MailLink:      {"nb": "ber om systemtilgang", "nn": "ber om systemtilgang", "en": "asks for system access"},
		domain.MailReminder:  {"nb": "Påminnelse", "nn": "Påminning", "en": "Reminder"},
		domain.MailEscalated: {"nb": "tilgangsstyrer", "nn": "tilgangsstyrar", "en": "access manager"},
		domain.MailConnected: {"nb": "koblet til", "nn": "kopla til", "en": "connected to"},
	}
	for message, byLang := range words {
		for lang, want := range byLang {
			t.Run(message+"/"+lang, func(t *testing.T) {
				t.Parallel()
				r, err := Render(Content{Message: message, Lang: lang, Vendor: "Smart<Cloud>", Org: "Bakeriet & Co AS",
					Product: "Regnskap", Link: "https://altinn.example/confirm?id=1&x=2", OptOutURL: "https://onboard.example/mail/stop/x?t=y",
					Support: "hjelp@example.no"})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(r.Subject+" "+r.Text, want) {
					t.Errorf("%q lacks %q:\n%s\n%s", message, want, r.Subject, r.Text)
				}
				for _, s := range []string{"Smart<Cloud>", "Bakeriet & Co AS", "hjelp@example.no", "/mail/stop/x?t=y"} {
					if !strings.Contains(r.Text, s) {
						t.Errorf("text lacks %q:\n%s", s, r.Text)
					}
				}
				hasLink := strings.Contains(r.Text, "https://altinn.example/confirm")
				if hasLink == (message == domain.MailConnected) {
					t.Errorf("link in the text: %v", hasLink)
				}
				if strings.Contains(r.HTML, "Smart<Cloud>") || !strings.Contains(r.HTML, "Smart&lt;Cloud&gt;") {
					t.Errorf("HTML does not escape the vendor:\n%s", r.HTML)
				}
				if strings.Contains(r.HTML, "<img") || !strings.Contains(r.HTML, `lang="`+lang+`"`) {
					t.Errorf("HTML:\n%s", r.HTML)
				}
			})
		}
	}
	if _, err := Render(Content{Message: "nonsense", Lang: "nb"}); err == nil {
		t.Error("an unknown message rendered")
	}
	// Not an http(s) link: not linked.
	r, _ := Render(Content{Message: domain.MailLink, Lang: "en", Link: "javascript:alert(1)"})
	if strings.Contains(r.HTML, "javascript:") {
		t.Errorf("HTML links a script:\n%s", r.HTML)
	}
}

func TestStopToken(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := StopToken(key, "a")
	if !CheckStopToken(key, "a", tok) {
		t.Error("own token refused")
	}
	for _, c := range []struct{ name, id, tok string }{
		{"other onboarding", "b", tok}, {"empty", "a", ""}, {"garbage", "a", "!!"}, {"truncated", "a", tok[:10]},
	} {
		if CheckStopToken(key, c.id, c.tok) {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if CheckStopToken([]byte("another key, also 32 bytes long!"), "a", tok) {
		t.Error("accepted under another key")
	}
}

func TestDueReminder(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	w := &SweepWorker{ReminderAges: []time.Duration{3 * day, 7 * day, 14 * day}, ExpiryReminder: day,
		Lifetime: 180 * day, Now: func() time.Time { return now }}
	for _, c := range []struct {
		name string
		age  time.Duration
		want int
	}{
		{"new", time.Hour, 0}, {"3 days", 3 * day, 1}, {"6 days", 6 * day, 1}, {"7 days", 7 * day, 2},
		{"30 days", 30 * day, 3}, {"a day before expiry", 179 * day, ExpirySeq}, {"expired", 180 * day, 0},
	} {
		if got := w.dueReminder(now.Add(-c.age)); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestReplyCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int
	}{
		{"535 5.7.8 authentication failed", 535}, {"smtp: 421 closing", 421}, {"dial tcp: connection refused", 0},
		{"port 25000 open", 0}, {"", 0},
	} {
		if got := replyCode(c.in); got != c.want {
			t.Errorf("%q: %d, want %d", c.in, got, c.want)
		}
	}
}

func FuzzReplyCode(f *testing.F) {
	f.Add("550 no")
	f.Add("x 451-y")
	f.Fuzz(func(t *testing.T, s string) {
		if c := replyCode(s); c != 0 && (c < 200 || c > 599) {
			t.Fatalf("%q: %d", s, c)
		}
	})
}

// smtpBackend refuses "refused@…" for good and "busy@…" for now.
type smtpBackend struct{ got chan string }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct{ b smtpBackend }

func (*session) Reset()                               {}
func (*session) Logout() error                        { return nil }
func (*session) Mail(string, *smtp.MailOptions) error { return nil }
func (*session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "refused"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	case strings.HasPrefix(to, "busy"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"}
	}
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.got <- string(b)
	return err
}

// TestSMTPSendAndClassify sends to a real SMTP server (go-smtp): taken, a
// 5xx is permanent, a 4xx and no server are temporary.
func TestSMTPSendAndClassify(t *testing.T) {
	t.Parallel()
	b := smtpBackend{got: make(chan string, 4)}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var p int
	for _, ch := range port {
		p = p*10 + int(ch-'0')
	}
	s := &SMTP{Host: "127.0.0.1", Port: p, TLS: config.SMTPNoTLS, Timeout: 5 * time.Second}
	env := func(to string) Envelope {
		return Envelope{From: "Vendor <noreply@vendor.example>", To: to, Lang: "nb", MessageID: "m-1",
			Rendered: Rendered{Subject: "Påminnelse", Text: "tekst", HTML: "<p>tekst</p>"}}
	}
	ctx := context.Background()
	if err := s.Send(ctx, env("anna@example.com")); err != nil {
		t.Fatalf("send: %v", err)
	}
	raw := <-b.got
	for _, want := range []string{"Content-Language: nb", "Message-ID: <m-1@vendor.example>", "multipart/alternative", "text/html"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
	if err := s.Send(ctx, env("refused@example.com")); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "550") {
		t.Errorf("5xx: %v, want permanent", err)
	}
	if err := s.Send(ctx, env("busy@example.com")); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("4xx: %v, want temporary", err)
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	_, closedPort, _ := net.SplitHostPort(ln2.Addr().String())
	_ = ln2.Close()
	var cp int
	for _, ch := range closedPort {
		cp = cp*10 + int(ch-'0')
	}
	gone := &SMTP{Host: "127.0.0.1", Port: cp, TLS: config.SMTPNoTLS, Timeout: 2 * time.Second, Password: "hunter2-secret"}
	if err := gone.Send(ctx, env("anna@example.com")); err == nil || errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("no server: %v, want temporary without the password", err)
	}
}
