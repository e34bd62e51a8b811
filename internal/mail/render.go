// Package mail emails an onboarding's customer (issue 12): the approval
// link when a campaign, the API or staff started the onboarding with an
// address, reminders while it waits, a different text when the request is
// escalated (an access manager must approve) and a short receipt when it is
// connected.
//
// A periodic sweep (SweepWorker) finds what each onboarding is owed, renders
// it in the onboarding's language and stores it in mail_messages with its
// send job, in one transaction; (onboarding, message, seq) is unique there,
// so each message exists once however many instances sweep. The send job
// (SendWorker) hands it to the SMTP server through go-mail, or in dev with
// no SMTP server keeps it in the outbox. A temporary failure (a 4xx, no
// connection) is retried with back-off; a permanent refusal (a 5xx) is
// marked refused and not retried. Every outcome is an EventMail on the
// onboarding's timeline.
package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"sync"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
)

// Content is what one message says.
type Content struct {
	Message string // domain.MailLink, MailReminder, MailEscalated or MailConnected
	Lang    string
	Vendor  string // the vendor's name, as customers know it
	Org     string // the organisation's name, or its number
	Product string // the product's name in Lang
	// Link is Altinn's approval link (the one a campaign's links CSV has);
	// none in the receipt.
	Link string
	// OptOutURL is the customer's link to stop further mail.
	OptOutURL string
	// Support is the vendor's support contact in words ("" : none).
	Support string
	// Escalated: the request waits for an access manager (a reminder says
	// so too). Expiry: the reminder before Altinn's request expires.
	Escalated, Expiry bool
}

// Rendered is a message's subject and bodies.
type Rendered struct {
	Subject, Text, HTML string
}

// htmlBody is parsed on first use (the first message rendered): a service
// that sends no email need not have html/template's parser in its memory.
var htmlBody = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("mail").Parse(htmlBodyText))
})

const htmlBodyText = `<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1e2b3c; max-width: 40em; margin: 0 auto; padding: 1em;">
{{range .Paras}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}" style="display: inline-block; padding: 0.6em 1.2em; background: #0062ba; color: #ffffff; text-decoration: none; border-radius: 4px;">{{.Action}}</a></p>
<p style="font-size: 14px; word-break: break-all;">{{.Link}}</p>
{{end}}{{if .Support}}<p>{{.Support}}</p>
{{end}}<hr style="border: 0; border-top: 1px solid #d2d5d9;">
<p style="font-size: 14px; color: #555;">{{.Why}}{{if .OptOutURL}} {{.OptOut}} <a href="{{.OptOutURL}}">{{.OptOutLink}}</a>{{end}}</p>
</body></html>
`

// Render writes c's message in its language: plain text and simple HTML
// (every value escaped; no images, no tracking).
func Render(c Content) (Rendered, error) {
	t := func(key string, args ...any) string { return i18n.T(c.Lang, key, args...) }
	args := []any{c.Vendor, c.Org, c.Product}
	var subject string
	var paras []string
	switch c.Message {
	case domain.MailLink:
		subject = t("mail.link.subject", args...)
		paras = []string{t("mail.link.intro", args...)}
		if c.Escalated {
			paras = append(paras, t("mail.escalated.who"))
		}
	case domain.MailReminder:
		subject = t("mail.reminder.subject", args...)
		paras = []string{t("mail.reminder.intro", args...)}
		if c.Escalated {
			paras = append(paras, t("mail.escalated.who"))
		}
		if c.Expiry {
			paras = append(paras, t("mail.reminder.expiry", args...))
		}
	case domain.MailEscalated:
		subject = t("mail.escalated.subject", args...)
		paras = []string{t("mail.escalated.intro", args...), t("mail.escalated.who")}
	case domain.MailConnected:
		subject = t("mail.connected.subject", args...)
		paras = []string{t("mail.connected.intro", args...), t("mail.connected.remove")}
	default:
		return Rendered{}, fmt.Errorf("mail: unknown message %q", c.Message)
	}
	link := c.Link
	if c.Message == domain.MailConnected {
		link = ""
	}
	support := ""
	if c.Support != "" {
		support = t("mail.support", c.Vendor, c.Support)
	}
	why := t("mail.why", c.Vendor, c.Org)

	var text strings.Builder
	for _, p := range paras {
		text.WriteString(p + "\n\n")
	}
	if link != "" {
		text.WriteString(t("mail.action") + ":\n" + link + "\n\n")
	}
	if support != "" {
		text.WriteString(support + "\n\n")
	}
	text.WriteString("-- \n" + why + "\n")
	if c.OptOutURL != "" {
		text.WriteString(t("mail.optout") + " " + t("mail.optout.link") + ": " + c.OptOutURL + "\n")
	}

	var html bytes.Buffer
	err := htmlBody().Execute(&html, map[string]any{
		"Lang": c.Lang, "Subject": subject, "Paras": paras, "Link": template.URL(safeURL(link)), "Action": t("mail.action"),
		"Support": support, "Why": why, "OptOut": t("mail.optout"), "OptOutLink": t("mail.optout.link"),
		"OptOutURL": template.URL(safeURL(c.OptOutURL)),
	})
	if err != nil {
		return Rendered{}, fmt.Errorf("mail: render: %w", err)
	}
	return Rendered{Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// safeURL is u when it is an http(s) URL, else "" (a link in a message is
// Altinn's or ours; anything else is not linked).
func safeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

// SupportContact is the vendor's support contact in words: its email,
// phone and page, as many as are set.
func SupportContact(email, phone, url string) string {
	var out []string
	for _, s := range []string{email, phone, url} {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}
