package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/webhooks"
	"github.com/onboard-altinn/onboard/views"
)

// ProblemStore is the part of the database the Problems page reads
// (db/problems.go).
type ProblemStore interface {
	Problems(ctx context.Context, q db.ProblemQuery) (*db.Problems, error)
	WebhookDelivery(ctx context.Context, id int64) (*db.WebhookDelivery, error)
}

const (
	// problemStuckAfter: an onboarding requesting (the reconciler looks it
	// up after about 20 s) or accepted (byquery after the customer's return)
	// for longer than this is stuck.
	problemStuckAfter = 15 * time.Minute
	// problemOverdueAfter: a reconciler check this far past due is not
	// being made (the jobs are not running, or cannot reach it).
	problemOverdueAfter = time.Hour
	// problemExpiredAfter: a request pending this long has timed out at
	// Altinn (config.RequestLifetime) and the reconciler's daily look at
	// it is overdue.
	problemExpiredAfter = config.RequestLifetime + 24*time.Hour
	// problemRows is how many rows each section lists on the page (its
	// count is all): a triage summary. "Show all" leads to the rest: the
	// onboarding list's filter where it has one (problemListFilter), else
	// the section's own view, problemPageRows a page.
	problemRows     = 20
	problemPageRows = 50
)

// problemListFilter is the onboarding list's filter showing the same
// onboardings as a section, where the list has one.
var problemListFilter = map[string]url.Values{
	db.SectionNotUsable: {"usability": {db.UsabilityNotUsable}},
	db.SectionFailed:    {"status": {string(domain.StatusFailed)}},
}

// problemSectionPath is a page of a section's own view.
func problemSectionPath(section string, page int) string {
	v := url.Values{"section": {section}}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return views.ProblemsPath + "?" + v.Encode()
}

// problemsPage lists, in one place, what support should look at: webhook
// deliveries failing or given up (with redeliver), connected onboardings
// that are not usable, failed and stuck onboardings, and refused mail.
// Each row leads to its onboarding's page. With ?section= (and &page=) it
// is that section's own view: all its rows, problemPageRows a page.
func (h *Handler) problemsPage(c echo.Context) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	q := db.ProblemQuery{StuckAfter: problemStuckAfter, OverdueAfter: problemOverdueAfter,
		ExpiredAfter: problemExpiredAfter, Limit: problemRows}
	section, page := c.QueryParam("section"), 1
	if section != "" {
		if !slices.Contains(db.ProblemSections, section) {
			return h.adminError(c, http.StatusNotFound, "admin.problems.err.page")
		}
		if p := c.QueryParam("page"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 1_000_000 {
				return h.adminError(c, http.StatusNotFound, "admin.problems.err.page")
			}
			page = n
		}
		q.Section, q.Limit, q.Offset = section, problemPageRows, (page-1)*problemPageRows
	}
	ps, err := h.Problems.Problems(ctx, q)
	if err != nil {
		return err
	}
	m := views.ProblemsView{AdminPage: h.adminPage(c, "admin.problems.heading"), Total: ps.Total()}
	if c.QueryParam("done") == "redeliver" {
		m.Done = "redeliver"
	}
	redeliver := h.Redeliver != nil && canAct(c)

	hooks := h.problemSection("webhooks", ps.WebhookCount, len(ps.Webhooks), lang)
	for _, d := range ps.Webhooks {
		r := h.problemRow(c, d.OnboardingID, d.OrgNo, d.OrgName, d.Product)
		r.ID = strconv.FormatInt(d.ID, 10)
		r.Tag, r.Tone = i18n.T(lang, "admin.problems.webhook."+d.Status), "bad"
		if d.Status == db.WebhookPending {
			r.Tone = "wait"
		}
		last := ""
		switch {
		case d.LastStatusCode != nil:
			last = "HTTP " + strconv.Itoa(*d.LastStatusCode)
		case d.LastError != nil:
			last = *d.LastError
		}
		r.Detail = i18n.T(lang, "admin.problems.webhook.detail", i18n.Number(lang, d.Attempts), last)
		r.Raw = config.RedactURL(d.URL)
		if d.LastAttemptAt != nil {
			r.When = when(c, *d.LastAttemptAt)
		}
		if redeliver {
			r.RedeliverURL = problemRedeliverPath(d.ID)
			if section == db.SectionWebhooks { // back to this page of the section afterwards
				r.RedeliverURL += "?page=" + strconv.Itoa(page)
			}
		}
		hooks.Rows = append(hooks.Rows, r)
	}

	notUsable := h.problemSection("notusable", ps.NotUsableCount, len(ps.NotUsable), lang)
	for i := range ps.NotUsable {
		o := &ps.NotUsable[i]
		r := h.onboardingProblem(c, o)
		r.Tag, r.Tone = i18n.T(lang, "usability.tag.not_usable"), "bad"
		if o.UsableCode != nil {
			r.Code = *o.UsableCode
		}
		r.Detail = i18n.T(lang, "admin.problems.notusable.detail")
		if o.UsableMessage != nil {
			r.Raw = *o.UsableMessage
		}
		if o.UsableCheckedAt != nil {
			r.When = when(c, *o.UsableCheckedAt)
		}
		notUsable.Rows = append(notUsable.Rows, r)
	}

	failed := h.problemSection("failed", ps.FailedCount, len(ps.Failed), lang)
	for i := range ps.Failed {
		o := &ps.Failed[i]
		r := h.onboardingProblem(c, o)
		r.Tag, r.Tone = i18n.T(lang, "status.failed"), "bad"
		if o.ErrorCode != nil {
			r.Code = *o.ErrorCode
		}
		if o.ErrorMessage != nil {
			r.Raw = *o.ErrorMessage
		}
		failed.Rows = append(failed.Rows, r)
	}

	stuck := h.problemSection("stuck", ps.StuckCount, len(ps.Stuck), lang)
	for i := range ps.Stuck {
		s := &ps.Stuck[i]
		r := h.onboardingProblem(c, &s.Onboarding)
		r.Tag, r.Tone = i18n.T(lang, "status."+string(s.Status)), "wait"
		r.Detail = i18n.T(lang, "admin.problems.stuck."+s.Reason, i18n.Number(lang, int(problemStuckAfter.Minutes())))
		if s.Reason == db.StuckOverdue && s.NextCheckAt != nil {
			r.Detail = i18n.T(lang, "admin.problems.stuck.overdue", when(c, *s.NextCheckAt))
		}
		if s.ErrorCode != nil {
			r.Code = *s.ErrorCode
		}
		if s.ErrorMessage != nil {
			r.Raw = *s.ErrorMessage
		}
		stuck.Rows = append(stuck.Rows, r)
	}

	mail := h.problemSection("mail", ps.MailCount, len(ps.Mail), lang)
	for _, e := range ps.Mail {
		r := h.problemRow(c, e.OnboardingID, e.OrgNo, e.OrgName, e.Product)
		r.ID = strconv.FormatInt(e.EventID, 10)
		r.Tag, r.Tone = i18n.T(lang, "admin.problems.mail.refused"), "bad"
		r.Detail = label(lang, "admin.problems.mail."+e.Message, e.Message)
		r.Raw = e.Reason
		r.When = when(c, e.At)
		mail.Rows = append(mail.Rows, r)
	}

	m.Sections = []views.ProblemSection{hooks, notUsable, failed, stuck, mail}
	if section == "" {
		return render(c, http.StatusOK, views.ProblemsPage(m))
	}

	// A section's own view: that section, its pages, the way back.
	i := slices.Index(db.ProblemSections, section)
	s := m.Sections[i]
	pages := max(1, (s.Count+problemPageRows-1)/problemPageRows)
	if page > pages {
		return h.adminError(c, http.StatusNotFound, "admin.problems.err.page")
	}
	s.More, s.AllURL, s.All = "", "", ""
	m.Sections, m.Section = []views.ProblemSection{s}, section
	m.BackURL = views.ProblemsPath + "#" + section
	m.PageOf = i18n.T(lang, "admin.problems.pageof", i18n.Number(lang, page), i18n.Number(lang, pages))
	if page > 1 {
		m.PrevURL = problemSectionPath(section, page-1)
	}
	if page < pages {
		m.NextURL = problemSectionPath(section, page+1)
	}
	return render(c, http.StatusOK, views.ProblemsPage(m))
}

// problemSection is one section's frame: its words and counts, and when
// not all are listed, where they are.
func (h *Handler) problemSection(key string, count, shown int, lang string) views.ProblemSection {
	s := views.ProblemSection{Key: key, Heading: i18n.T(lang, "admin.problems."+key+".heading"),
		Lead: i18n.T(lang, "admin.problems."+key+".lead"), Empty: i18n.T(lang, "admin.problems."+key+".none"), Count: count}
	if count > shown {
		s.More = i18n.T(lang, "admin.problems.more", i18n.Number(lang, shown), i18n.Number(lang, count))
		s.All = i18n.T(lang, "admin.problems.showall", i18n.Number(lang, count))
		if f, ok := problemListFilter[key]; ok {
			s.AllURL = withQuery(listPath, f)
		} else {
			s.AllURL = problemSectionPath(key, 1)
		}
	}
	return s
}

// problemRow is a row's customer: its onboarding, linked to its page.
func (h *Handler) problemRow(c echo.Context, onboardingID, orgNo string, orgName *string, product string) views.ProblemRow {
	r := views.ProblemRow{ID: onboardingID, URL: detailPath(onboardingID), OrgNo: orgNo,
		ProductName: h.productName(product, langOf(c))}
	if orgName != nil {
		r.OrgName = *orgName
	}
	return r
}

func (h *Handler) onboardingProblem(c echo.Context, o *domain.Onboarding) views.ProblemRow {
	r := h.problemRow(c, o.ID, o.OrgNo, o.OrgName, o.Product)
	r.When = when(c, o.StatusAt)
	return r
}

func problemRedeliverPath(deliveryID int64) string {
	return views.ProblemsPath + "/webhooks/" + strconv.FormatInt(deliveryID, 10) + "/redeliver"
}

// redeliverProblem sends a listed webhook delivery again from the Problems
// page: the same redelivery as the onboarding page's (webhooks.Outbox's
// Redeliver, which audits it and puts it on the onboarding's timeline in
// its transaction), then back to the page.
func (h *Handler) redeliverProblem(c echo.Context) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	if h.Redeliver == nil {
		return h.adminError(c, http.StatusConflict, "admin.webhooks.err.off")
	}
	id, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || id <= 0 {
		return h.adminError(c, http.StatusNotFound, "admin.webhooks.err.notfound")
	}
	ctx := c.Request().Context()
	d, err := h.Problems.WebhookDelivery(ctx, id)
	if err == nil {
		_, err = h.Redeliver.Redeliver(ctx, d.OnboardingID, id,
			db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: AuditRedeliver, IP: c.RealIP()})
	}
	switch {
	case errors.Is(err, db.ErrNotFound):
		return h.adminError(c, http.StatusNotFound, "admin.webhooks.err.notfound")
	case errors.Is(err, webhooks.ErrEndpointGone):
		return h.adminError(c, http.StatusConflict, "admin.webhooks.err.gone")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, problemRedeliverBack(c.QueryParam("page")))
}

// problemRedeliverBack is where a redeliver sends support afterwards: the
// page of the webhooks section's own view it was sent from (?page= on the
// form's action), else the Problems page, with the notice either way.
func problemRedeliverBack(page string) string {
	if n, err := strconv.Atoi(page); err == nil && n >= 1 && n <= 1_000_000 {
		return problemSectionPath(db.SectionWebhooks, n) + "&done=redeliver"
	}
	return views.ProblemsPath + "?done=redeliver#webhooks"
}
