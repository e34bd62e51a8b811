package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/onboard-altinn/onboard/internal/config"
)

// SendTimeout bounds one message's connection and exchange with the server.
const SendTimeout = 30 * time.Second

// Envelope is one message to send.
type Envelope struct {
	From, To string
	Lang     string
	Rendered
	// MessageID, when set, is the Message-ID's left part (so a resent
	// message keeps its id).
	MessageID string
}

// SMTP sends messages through one SMTP server with go-mail.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // config.SMTPStartTLS, SMTPTLS or SMTPNoTLS
	Username string
	Password string
	// Timeout per message (SendTimeout when zero).
	Timeout time.Duration
}

// NewSMTP is the sender of the configured server, or nil without a host.
func NewSMTP(m config.Mail) *SMTP {
	if m.SMTPHost == "" {
		return nil
	}
	return &SMTP{Host: m.SMTPHost, Port: m.SMTPPort, TLS: m.SMTPTLS, Username: m.SMTPUsername, Password: m.SMTPPassword}
}

// ErrPermanent marks a refusal that sending again will not change (an SMTP
// 5xx, an address the library will not take): Send's error wraps it.
var ErrPermanent = errors.New("permanent")

// Send hands e to the server. Its error wraps ErrPermanent when the server
// refused it for good; any other error is temporary (a 4xx, no connection,
// a timeout). The error never holds the password.
func (s *SMTP) Send(ctx context.Context, e Envelope) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return fmt.Errorf("from: %w: %w", ErrPermanent, err)
	}
	if err := m.To(e.To); err != nil {
		return fmt.Errorf("to: %w: %w", ErrPermanent, err)
	}
	m.Subject(e.Subject)
	m.SetDate()
	if e.MessageID != "" {
		domain := "onboard.local"
		if _, d, ok := strings.Cut(e.From, "@"); ok {
			domain = strings.TrimSuffix(d, ">")
		}
		m.SetMessageIDWithValue(e.MessageID + "@" + domain)
	} else {
		m.SetMessageID()
	}
	if e.Lang != "" {
		m.SetGenHeader(gomail.HeaderContentLang, e.Lang)
	}
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = SendTimeout
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(timeout)}
	switch s.TLS {
	case config.SMTPTLS:
		opts = append(opts, gomail.WithSSL())
	case config.SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w: %w", ErrPermanent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return s.classify(err)
	}
	return nil
}

// classify wraps a permanent refusal in ErrPermanent and keeps the
// password out of the text.
func (s *SMTP) classify(err error) error {
	text := err.Error()
	if s.Password != "" {
		text = strings.ReplaceAll(text, s.Password, "(password)")
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code >= 500 && code < 600 {
			return fmt.Errorf("%w: %s", ErrPermanent, text)
		}
		if code >= 400 && code < 500 {
			return errors.New(text)
		}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return errors.New(text)
	}
	// An SMTP reply without SendError (a refused AUTH, say) carries its
	// code at the start of the text, as "535 …".
	if c := replyCode(text); c >= 500 && c < 600 {
		return fmt.Errorf("%w: %s", ErrPermanent, text)
	}
	return errors.New(text)
}

// replyCode finds the first three-digit SMTP reply code in s (0: none).
func replyCode(s string) int {
	for i := 0; i+3 <= len(s); i++ {
		if (i == 0 || s[i-1] == ' ' || s[i-1] == ':') && s[i] >= '2' && s[i] <= '5' &&
			s[i+1] >= '0' && s[i+1] <= '9' && s[i+2] >= '0' && s[i+2] <= '9' &&
			(i+3 == len(s) || s[i+3] == ' ' || s[i+3] == '-') {
			return int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
		}
	}
	return 0
}
