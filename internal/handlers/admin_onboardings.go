package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// DashboardStore is the part of the database the dashboard's onboarding
// pages read and write.
type DashboardStore interface {
	ListOnboardings(ctx context.Context, f db.ListFilter) (db.ListPage, error)
	CountByStatus(ctx context.Context, f db.ListFilter) (map[domain.Status]int, error)
	EachOnboarding(ctx context.Context, f db.ListFilter, fn func(*domain.Onboarding) error) error
	OnboardingByID(ctx context.Context, id string) (*domain.Onboarding, error)
	Events(ctx context.Context, onboardingID string) ([]domain.Event, error)
	AuditLog(ctx context.Context, f db.AuditFilter) ([]db.AuditEntry, error)
	AddAudit(ctx context.Context, e db.AuditEntry) error
	LiveOnboarding(ctx context.Context, systemID, orgNo, externalRef string) (*domain.Onboarding, error)
	// Change requests (admin_changes.go).
	ChangeRequests(ctx context.Context, onboardingID string) ([]domain.ChangeRequest, error)
	ChangeRequestByID(ctx context.Context, id string) (*domain.ChangeRequest, error)
	LackingOnboardings(ctx context.Context, product string, rights, packages []string, limit int) ([]domain.Onboarding, int, error)
	LiveChangeCount(ctx context.Context, product string) (int, error)
}

const (
	listPath = "/admin/onboardings"
	csvPath  = "/admin/onboardings.csv"
	newPath  = "/admin/onboardings/new"

	// maxQueryLen bounds the search box: every search is an exact match, so
	// anything longer matches nothing.
	maxQueryLen = 200
	// csvTimeout bounds an export, which may outlast the request timeout of
	// every other page (a million rows take a while to send).
	csvTimeout = 10 * time.Minute
	// csvExports is how many exports may stream at once: each holds one
	// database connection for its whole length.
	csvExports = 2
)

// Audit actions of the onboarding pages.
const (
	AuditRefresh = "onboarding.refresh"
	AuditVerify  = "onboarding.verify"
	AuditRenew   = "onboarding.renew"
	AuditCancel  = "onboarding.cancel"
	AuditCreate  = "onboarding.create"
	AuditExport  = "onboarding.export"
	// AuditTestConnection is a staff member's Test connection: a
	// system-user token asked of Maskinporten (usability).
	AuditTestConnection = "onboarding.testconnection"
)

// statusNames is every status (domain.Statuses, in the order of an
// onboarding's life) as the row of counts and the status filter name them.
func statusNames() []string {
	out := make([]string, len(domain.Statuses))
	for i, s := range domain.Statuses {
		out[i] = string(s)
	}
	return out
}

// canAct reports whether the signed-in staff member may run actions, so
// pages offer only what the server would allow.
func canAct(c echo.Context) bool {
	s := staffFrom(c)
	return s != nil && s.Role.AtLeast(domain.RoleOperator)
}

// --- list ---

// listQuery is the list's query parameters, parsed: the filter for the
// database and the form to show again.
type listQuery struct {
	filter db.ListFilter
	form   views.ListFilterForm
}

// parseListQuery reads the filters shared by the list and the export. A
// value that is not one the form can send is a 400, never a silent "all".
func parseListQuery(c echo.Context) (listQuery, bool) {
	var q listQuery
	p := c.QueryParams()
	q.form.Status = p.Get("status")
	if _, ok := domain.ParseStatus(q.form.Status); q.form.Status != "" && !ok {
		return q, false
	}
	q.form.Kind = p.Get("kind")
	if q.form.Kind != "" && q.form.Kind != string(domain.KindStandard) && q.form.Kind != string(domain.KindAgent) {
		return q, false
	}
	q.form.Usability = p.Get("usability")
	if q.form.Usability != "" && !slices.Contains(db.UsabilityFilters, q.form.Usability) {
		return q, false
	}
	switch p.Get("escalated") {
	case "":
	case "1", "true", "on", "yes":
		q.form.Escalated = true
	default:
		return q, false
	}
	var ok bool
	if q.form.From, q.filter.CreatedFrom, ok = parseDay(p.Get("from"), 0); !ok {
		return q, false
	}
	// "to" is inclusive on the page, the filter's bound exclusive: the next midnight.
	if q.form.To, q.filter.CreatedTo, ok = parseDay(p.Get("to"), 1); !ok {
		return q, false
	}
	q.form.Query = strings.TrimSpace(p.Get("q"))
	if len(q.form.Query) > maxQueryLen {
		return q, false
	}
	if l := p.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, false
		}
		n = min(n, db.MaxListLimit)
		q.filter.Limit = n
		q.form.Limit = strconv.Itoa(n)
	}
	q.filter.Status, q.filter.Kind, q.filter.Escalated, q.filter.Query = domain.Status(q.form.Status), domain.Kind(q.form.Kind), q.form.Escalated, q.form.Query
	q.filter.Usability = q.form.Usability
	return q, true
}

// parseDay reads a YYYY-MM-DD date as midnight in Oslo, plus addDays days.
func parseDay(s string, addDays int) (string, time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", time.Time{}, true
	}
	d, err := time.ParseInLocation(time.DateOnly, s, oslo)
	if err != nil || d.Year() < 2000 || d.Year() > 9999 {
		return s, time.Time{}, false
	}
	return s, d.AddDate(0, 0, addDays), true
}

// listValues is the list's filters as query parameters, empty ones left out,
// for the links that keep them (counts, next page, export).
func listValues(f views.ListFilterForm) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("status", f.Status)
	set("kind", f.Kind)
	set("usability", f.Usability)
	if f.Escalated {
		v.Set("escalated", "1")
	}
	set("from", f.From)
	set("to", f.To)
	set("q", f.Query)
	set("limit", f.Limit)
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// onboardingList is the dashboard's home: the counts per status for the
// current filters, and one page of the onboardings that match, newest first.
func (h *Handler) onboardingList(c echo.Context) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	q, ok := parseListQuery(c)
	if !ok {
		return h.adminError(c, http.StatusBadRequest, "admin.list.err.filter")
	}
	f := q.filter
	f.After = c.QueryParam("after")
	// The counts and the page are two queries on two connections at once:
	// the page waits for the slower of them, not for both in turn.
	// A panic in the counts goes on in this goroutine, where the server's
	// recovery catches it.
	var counts map[domain.Status]int
	var countPanic any
	countErr := make(chan error, 1)
	go func() {
		err := errors.New("counts: panic")
		defer func() {
			countPanic = recover()
			countErr <- err
		}()
		counts, err = h.Dashboard.CountByStatus(ctx, q.filter)
	}()
	page, err := h.Dashboard.ListOnboardings(ctx, f)
	cerr := <-countErr
	if countPanic != nil {
		panic(countPanic)
	}
	if errors.Is(err, db.ErrBadCursor) {
		fail := failureOf(err)
		return h.adminError(c, fail.Status, fail.Key)
	}
	if err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}

	m := views.OnboardingList{
		AdminPage: h.adminPage(c, "admin.list.heading"),
		Action:    listPath, Filter: q.form, Statuses: statusNames(), UsabilityFilters: db.UsabilityFilters,
		CSVURL:   withQuery(csvPath, listValues(q.form)),
		Filtered: q.form != (views.ListFilterForm{Limit: q.form.Limit}),
	}
	if canAct(c) {
		m.NewURL = newPath
	}
	reset := url.Values{}
	if q.form.Limit != "" {
		reset.Set("limit", q.form.Limit)
	}
	m.ResetURL = withQuery(listPath, reset)
	noStatus := q.form
	noStatus.Status = ""
	m.AllURL = withQuery(listPath, listValues(noStatus))
	for _, s := range statusNames() {
		withStatus := q.form
		withStatus.Status = s
		m.Counts = append(m.Counts, views.StatusCount{
			Status: s, Count: counts[domain.Status(s)], URL: withQuery(listPath, listValues(withStatus)), Active: q.form.Status == s,
		})
		m.Total += counts[domain.Status(s)]
	}
	for i := range page.Items {
		o := &page.Items[i]
		r := views.OnboardingRow{
			ID: o.ID, URL: detailPath(o.ID), Created: when(c, o.CreatedAt),
			OrgNo: orgno.Format(o.OrgNo), ProductName: h.productName(o.Product, lang), Kind: string(o.Kind),
			Status: string(o.Status), Escalated: o.Escalated,
			NotUsable: o.NotUsable(),
		}
		if o.CustomerRef != nil {
			r.CustomerRef = *o.CustomerRef
		}
		if o.OrgName != nil {
			r.OrgName = *o.OrgName
		}
		if o.ErrorCode != nil {
			r.ErrorCode = *o.ErrorCode
		}
		m.Rows = append(m.Rows, r)
	}
	if page.Next != "" {
		next := listValues(q.form)
		next.Set("after", page.Next)
		m.NextURL = withQuery(listPath, next)
	}
	if f.After != "" {
		m.FirstURL = withQuery(listPath, listValues(q.form))
	}
	return render(c, http.StatusOK, views.OnboardingListPage(m))
}

func (h *Handler) productName(id, lang string) string {
	if p, ok := h.product(id); ok {
		return p.DisplayName(lang)
	}
	return id
}

func detailPath(id string) string { return listPath + "/" + id }

// --- CSV export ---

// csvHeader names the export's columns, one per field of db.Onboarding that
// support reads; times are RFC 3339 in UTC.
var csvHeader = []string{
	"id", "ref", "created_at", "updated_at", "product", "kind", "system_id", "org_no", "external_ref",
	"customer_ref", "status", "escalated", "altinn_request_id", "system_user_id", "error_code",
	"error_message", "checked_at", "connected_at",
	"usable", "usable_checked_at", "usable_ok_at", "usable_code",
	"org_name",
}

// onboardingCSV streams the filtered list as CSV, row by row from the
// database to the response, so a large export never sits in memory. The
// export is audited: it carries customers' data out of the service.
// exportSlots limits concurrent CSV exports process-wide.
var exportSlots = make(chan struct{}, csvExports)

func (h *Handler) onboardingCSV(c echo.Context) error {
	select {
	case exportSlots <- struct{}{}:
		defer func() { <-exportSlots }()
	default:
		c.Response().Header().Set("Retry-After", "60")
		return echo.ErrTooManyRequests
	}
	q, ok := parseListQuery(c)
	if !ok {
		return h.adminError(c, http.StatusBadRequest, "admin.list.err.filter")
	}
	f := q.filter
	f.Limit = 0
	// The request's own deadline is for pages; an export gets longer, and
	// still stops when the browser goes away (the next write fails).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), csvTimeout)
	defer cancel()
	rc := http.NewResponseController(c.Response())
	_ = rc.SetWriteDeadline(time.Now().Add(csvTimeout)) // not every writer supports it; then the server's stands

	// The status line and the header row go out with the first row, so a
	// query that fails at once still gets an error page instead of a 200.
	res := c.Response()
	w := csv.NewWriter(res)
	started := false
	start := func() error {
		started = true
		res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		res.Header().Set(echo.HeaderContentDisposition,
			`attachment; filename="onboardings-`+time.Now().In(oslo).Format("20060102-1504")+`.csv"`)
		res.Header().Set("Cache-Control", "no-store")
		res.WriteHeader(http.StatusOK)
		return w.Write(csvHeader)
	}
	rows := 0
	err := h.Dashboard.EachOnboarding(ctx, f, func(o *domain.Onboarding) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		rows++
		if err := w.Write(csvRecord(o)); err != nil {
			return err
		}
		if rows%500 == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	if !started {
		err = start()
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if s := staffFrom(c); s != nil {
		detail := map[string]any{"filter": listValues(q.form).Encode(), "rows": rows, "complete": err == nil}
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer acancel()
		if aerr := h.Dashboard.AddAudit(actx, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: AuditExport,
			Detail: detail, IP: c.RealIP()}); aerr != nil {
			h.logger().ErrorContext(ctx, "auditing an export", "err", aerr)
		}
	}
	if err != nil {
		// The status line has gone; all that is left is to stop and log.
		h.logger().WarnContext(ctx, "onboarding export stopped", "request_id", res.Header().Get(echo.HeaderXRequestID),
			"rows", rows, "err", err)
	}
	return nil
}

func csvRecord(o *domain.Onboarding) []string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	rec := []string{
		o.ID, o.Ref, tm(&o.CreatedAt), tm(&o.UpdatedAt), o.Product, string(o.Kind), o.SystemID, o.OrgNo, o.ExternalRef,
		str(o.CustomerRef), string(o.Status), strconv.FormatBool(o.Escalated), str(o.AltinnRequestID), str(o.SystemUserID),
		str(o.ErrorCode), str(o.ErrorMessage), tm(o.CheckedAt), tm(o.ConnectedAt),
		usableCell(o), tm(o.UsableCheckedAt), tm(o.UsableOKAt), str(o.UsableCode),
		str(o.OrgName),
	}
	for i, v := range rec {
		rec[i] = csvSafe(v)
	}
	return rec
}

// usableCell is the export's usable column: true or false once checked,
// empty when not (or not connected).
func usableCell(o *domain.Onboarding) string {
	if o.Usable == nil || !domain.HasUsability(o.Status) {
		return ""
	}
	return strconv.FormatBool(*o.Usable)
}

// csvSafe keeps a spreadsheet from running a cell as a formula (CSV
// injection). A spreadsheet may split a cell further than our CSV does: a
// Norwegian Excel splits our comma-separated line on ; (where our quotes
// do not start its fields, so they do not hold), others on tabs or line
// breaks, and some strip a quote before a field. So an apostrophe goes
// before every formula trigger (= + - @, or a tab or carriage return, which
// some spreadsheets skip before looking) that starts the value or follows
// a separator (; , tab, CR, LF or "), spaces or no-break spaces between
// them and it included, and no piece of the cell, however it is split and
// trimmed, starts a formula. Plain negative numbers get one too (-1 reads
// '-1): none of our columns holds one, and "-2+3" is a formula.
// Customer references and Altinn's error texts are not ours to trust.
func csvSafe(v string) string {
	var out []byte // nil until something changes
	start := true  // at the value's start or just after a separator
	lead := -1     // where the spaces began that follow the start, if any
	for i := 0; i < len(v); i++ {
		c := v[i]
		// Spaces (and no-break spaces) after a start keep it a start: a
		// spreadsheet may trim them before it looks for a formula. The
		// apostrophe then goes before the spaces.
		if start && (c == ' ' || (c == 0xC2 && i+1 < len(v) && v[i+1] == 0xA0)) {
			if lead < 0 {
				lead = i
			}
			n := 1
			if c == 0xC2 {
				n = 2
			}
			if out != nil {
				out = append(out, v[i:i+n]...)
			}
			i += n - 1
			continue
		}
		if start && strings.IndexByte(csvTriggers, c) >= 0 {
			at := i
			if lead >= 0 {
				at = lead
			}
			if out == nil {
				out = append(make([]byte, 0, len(v)+4), v[:at]...)
			} else {
				out = out[:len(out)-(i-at)]
			}
			out = append(out, '\'')
			out = append(out, v[at:i]...)
		}
		if out != nil {
			out = append(out, c)
		}
		start, lead = strings.IndexByte(csvSeparators, c) >= 0, -1
	}
	if out == nil {
		return v
	}
	return string(out)
}

const (
	csvTriggers   = "=+-@\t\r"
	csvSeparators = ";,\t\r\n\""
)

// --- detail ---

// withOnboarding loads the onboarding named by the :id parameter for fn; an
// id that is not a uuid, or names nothing, is a 404 in the staff layout.
func (h *Handler) withOnboarding(fn func(echo.Context, *domain.Onboarding) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if !db.IsUUID(id) {
			return h.adminError(c, http.StatusNotFound, "admin.error.notfound")
		}
		o, err := h.Dashboard.OnboardingByID(c.Request().Context(), strings.ToLower(id))
		if errors.Is(err, db.ErrNotFound) {
			return h.adminError(c, http.StatusNotFound, "admin.error.notfound")
		}
		if err != nil {
			return err
		}
		return fn(c, o)
	}
}

// doneKeys are the messages the detail page shows after an action, by the
// done query parameter; anything else shows nothing.
var doneKeys = map[string]string{
	"refresh": "admin.done.refresh",
	"verify":  "admin.done.verify",
	"renew":   "admin.done.renew",
	"cancel":  "admin.done.cancel",
	"create":  "admin.done.create",
	"exists":  "admin.done.exists",

	"redeliver": "admin.done.redeliver",

	"change":        "admin.done.change",
	"changerefresh": "admin.done.changerefresh",
	"changecancel":  "admin.done.changecancel",

	"testconnection": "admin.done.testconnection",
}

// onboardingDetail shows one onboarding: who, what was asked for, where it
// stands and why, the confirm link, the actions the role allows, and its
// whole history with the audit entries about it.
func (h *Handler) onboardingDetail(c echo.Context, o *domain.Onboarding) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	events, err := h.Dashboard.Events(ctx, o.ID)
	if err != nil {
		return err
	}
	audit, err := h.Dashboard.AuditLog(ctx, db.AuditFilter{OnboardingID: o.ID, Limit: 500})
	if err != nil {
		return err
	}
	m := views.OnboardingDetail{
		AdminPage: h.adminPage(c, "admin.detail.heading"),
		ID:        o.ID, Ref: o.Ref, OrgNo: orgno.Format(o.OrgNo), ProductID: o.Product,
		ProductName: h.productName(o.Product, lang), Kind: string(o.Kind), SystemID: o.SystemID, ExternalRef: o.ExternalRef,
		Status: string(o.Status), Escalated: o.Escalated, DoneKey: doneKeys[c.QueryParam("done")],
		Created: when(c, o.CreatedAt), Updated: when(c, o.UpdatedAt),
		ListURL: listPath,
	}
	m.Title = m.OrgNo + " · " + m.ProductName
	if o.OrgName != nil {
		m.OrgName = *o.OrgName
	}
	p, known := h.product(o.Product)
	if known {
		m.Grants = h.productView(p, lang).Grants
	}
	m.Usability = h.usabilitySection(c, o, p)
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	m.CustomerRef, m.ErrorCode, m.ErrorMessage = deref(o.CustomerRef), deref(o.ErrorCode), deref(o.ErrorMessage)
	m.HelpKey = staffHelpKey(o.Status, m.ErrorCode)
	m.AltinnRequestID, m.SystemUserID = deref(o.AltinnRequestID), deref(o.SystemUserID)
	if o.Allows(domain.ActionConfirm) {
		m.ConfirmURL = deref(o.ConfirmURL)
	}
	if o.CheckedAt != nil {
		m.Checked = when(c, *o.CheckedAt)
	}
	if o.ConnectedAt != nil {
		m.Connected = when(c, *o.ConnectedAt)
	}
	if canAct(c) {
		// The actions the rulebook allows; the handlers below refuse the rest.
		m.CanAct = true
		offer := func(a domain.Action) string {
			if o.Allows(a) {
				return detailPath(o.ID) + "/" + string(a)
			}
			return ""
		}
		m.RefreshURL, m.VerifyURL = offer(domain.ActionRefresh), offer(domain.ActionVerify)
		m.RenewURL, m.CancelURL = offer(domain.ActionRenew), offer(domain.ActionCancel)
		if _, refusal := h.testable(o); refusal == "" {
			m.TestURL = offer(domain.ActionTestConnection)
		}
	}
	m.Events = timeline(lang, events) // timeline.go: newest first, in words, reads folded
	for _, a := range audit {
		m.Audit = append(m.Audit, views.AuditRow{At: when(c, a.At), AtISO: a.At.UTC().Format(time.RFC3339),
			Actor: a.Actor, Action: a.Action, ActionText: auditAction(lang, a.Action), IP: a.IP, Fields: auditFields(lang, a)})
	}
	if m.Webhooks, err = h.webhookSection(c, o); err != nil {
		return err
	}
	if m.Changes, err = h.changeSection(c, o); err != nil {
		return err
	}
	if m.Clients, err = h.clientsSection(c, o); err != nil { // admin_clients.go
		return err
	}
	return render(c, http.StatusOK, views.OnboardingDetailPage(m))
}

// prettyJSON indents an event's raw Altinn body for reading; "" for none.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// --- actions ---

// serviceAction is one of the service's operations on an onboarding.
type serviceAction func(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error

// act runs one staff action through the service, which writes the Altinn
// calls and status changes to the timeline, with the staff member as actor,
// and the action's audit entry and staff event in the transaction of its
// last write (onboarding.Service.Audited; an action that writes nothing is
// recorded too: the attempt is part of the story). It sends the browser
// back to the detail page with a fixed message.
func (h *Handler) act(c echo.Context, o *domain.Onboarding, done, action string, run serviceAction) error {
	s := staffFrom(c)
	if s == nil { // requireStaff guarantees one; never act without an author
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	err := h.Onboardings.Audited(c.Request().Context(), actionAudit(c, s, action, describeAction(action)), o,
		func(ctx context.Context) error { return run(ctx, o, domain.CauseStaff, s.Email) })
	switch {
	case errors.Is(err, onboarding.ErrSuperseded):
		// Someone else changed it meanwhile; this action may not have
		// happened, so it is recorded as such and the page shows the news.
		return c.Redirect(http.StatusSeeOther, detailPath(o.ID))
	case err != nil:
		return h.actionFailed(c, o, err)
	}
	return c.Redirect(http.StatusSeeOther, detailPath(o.ID)+"?done="+done)
}

// actionAudit is who does a staff action (s), from where and what, for the
// service to record with the action; describe is how its entry reads.
func actionAudit(c echo.Context, s *db.Staff, action string, describe func(onboarding.Outcome) (map[string]any, string)) onboarding.Audit {
	return onboarding.Audit{StaffID: s.ID, Actor: s.Email, IP: c.RealIP(), Action: action, Describe: describe}
}

// describeAction is how an onboarding action's audit entry and staff event
// read: the status before and after, the result, the error code the
// onboarding is left with and, for a test connection, its outcome.
func describeAction(action string) func(onboarding.Outcome) (map[string]any, string) {
	return func(out onboarding.Outcome) (map[string]any, string) {
		o := out.Onboarding
		detail := map[string]any{"from": out.From, "to": o.Status, "result": out.Result}
		if action == AuditTestConnection && out.Result == onboarding.ResultOK && o.UsableOutcome != nil {
			detail["outcome"] = *o.UsableOutcome
			if o.UsableCode != nil && *o.UsableOutcome == domain.UsableFailed {
				detail["code"] = *o.UsableCode
			}
		}
		msg := action + " by staff: " + string(out.From) + " → " + string(o.Status)
		switch out.Result {
		case onboarding.ResultSuperseded:
			msg = action + " by staff was overtaken by a concurrent change; status " + string(o.Status)
		case onboarding.ResultError:
			msg = action + " by staff failed; status " + string(o.Status)
		}
		withErrorCode(detail, o)
		return detail, msg
	}
}

// withErrorCode adds the error code o is left with to an audit entry's detail.
func withErrorCode(detail map[string]any, o *domain.Onboarding) {
	if o != nil && o.ErrorCode != nil {
		detail["error_code"] = *o.ErrorCode
	}
}

// actionFailed answers an action the service could not carry out (or the
// rulebook refused) with a page that says why in words, as the error map
// has them; the error itself goes to the log only.
func (h *Handler) actionFailed(c echo.Context, o *domain.Onboarding, err error) error {
	f := failureOf(err)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	log := h.logger().With("request_id", reqID, "path", c.Path(), "onboarding", o.ID, "status", f.Status)
	if f.Status >= 500 && f.Status != http.StatusBadGateway {
		log.ErrorContext(c.Request().Context(), "staff action failed", "err", err)
	} else {
		log.WarnContext(c.Request().Context(), "staff action failed", "err", err)
	}
	m := views.ActionError{AdminPage: h.adminPage(c, "error.heading"), Status: f.Status,
		Message: i18n.T(langOf(c), f.Key), BackURL: detailPath(o.ID)}
	if f.Status >= 500 {
		m.RequestID = reqID
		m.Hint = i18n.T(langOf(c), "admin.action.err.timeline")
	}
	return render(c, f.Status, views.ActionErrorPage(m))
}

// refuse answers an action the rulebook does not allow for o (its refusal,
// err), before anything is called or written.
func (h *Handler) refuse(c echo.Context, o *domain.Onboarding, err error) error {
	return h.notPossible(c, o, failureOf(err).Key)
}

// notPossible refuses an action the onboarding does not allow, in the words
// key names, before anything is called or written.
func (h *Handler) notPossible(c echo.Context, o *domain.Onboarding, key string) error {
	m := views.ActionError{AdminPage: h.adminPage(c, "error.heading"), Status: http.StatusConflict,
		Message: i18n.T(langOf(c), key), BackURL: detailPath(o.ID)}
	return render(c, http.StatusConflict, views.ActionErrorPage(m))
}

// refreshOnboarding re-reads the onboarding from Altinn now.
func (h *Handler) refreshOnboarding(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionRefresh); err != nil {
		return h.refuse(c, o, err)
	}
	return h.act(c, o, "refresh", AuditRefresh, h.Onboardings.Refresh)
}

// verifyOnboarding confirms the system user with byquery. The service's
// Refresh does exactly that for accepted and connected onboardings, the
// statuses the rulebook allows it in; in any other there is no system user
// to verify.
func (h *Handler) verifyOnboarding(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionVerify); err != nil {
		return h.refuse(c, o, err)
	}
	return h.act(c, o, "verify", AuditVerify, h.Onboardings.Refresh)
}

// confirmPage asks before a destructive action.
func (h *Handler) confirmPage(c echo.Context, o *domain.Onboarding, action string) error {
	return render(c, http.StatusOK, views.ActionConfirmPage(views.ActionConfirm{
		AdminPage: h.adminPage(c, "admin.confirm."+action+".heading"),
		Action:    action, PostURL: detailPath(o.ID) + "/" + action, BackURL: detailPath(o.ID),
		OrgNo: orgno.Format(o.OrgNo), ProductName: h.productName(o.Product, langOf(c)), Status: string(o.Status),
		HasRequest: o.AltinnRequestID != nil,
	}))
}

func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

func (h *Handler) confirmRenew(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionRenew); err != nil {
		return h.refuse(c, o, err)
	}
	return h.confirmPage(c, o, "renew")
}

// renewOnboarding deletes the old request at Altinn and makes a new one,
// after confirmation.
func (h *Handler) renewOnboarding(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionRenew); err != nil {
		return h.refuse(c, o, err)
	}
	if !confirmed(c) {
		return h.confirmPage(c, o, "renew")
	}
	return h.act(c, o, "renew", AuditRenew, h.Onboardings.Renew)
}

func (h *Handler) confirmCancel(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionCancel); err != nil {
		return h.refuse(c, o, err)
	}
	return h.confirmPage(c, o, "cancel")
}

// cancelOnboarding deletes the request at Altinn and closes the onboarding,
// after confirmation.
func (h *Handler) cancelOnboarding(c echo.Context, o *domain.Onboarding) error {
	if err := o.Check(domain.ActionCancel); err != nil {
		return h.refuse(c, o, err)
	}
	if !confirmed(c) {
		return h.confirmPage(c, o, "cancel")
	}
	return h.act(c, o, "cancel", AuditCancel, h.Onboardings.Cancel)
}

// --- usability ---

// usabilitySection shapes a connected onboarding's usability for its page;
// other statuses show none (usability belongs to a connected system user).
func (h *Handler) usabilitySection(c echo.Context, o *domain.Onboarding, p config.Product) views.UsabilitySection {
	if !domain.HasUsability(o.Status) {
		return views.UsabilitySection{}
	}
	u := views.UsabilitySection{Show: true, Skipped: len(p.Scopes) == 0, State: usabilityState(o)}
	if o.UsableSince != nil && o.Usable != nil {
		u.Since = when(c, *o.UsableSince)
	}
	if o.UsableCheckedAt != nil {
		u.Checked = when(c, *o.UsableCheckedAt)
	}
	if o.UsableOKAt != nil {
		u.LastOK = when(c, *o.UsableOKAt)
	}
	u.LastUnavailable = o.UsableOutcome != nil && *o.UsableOutcome == domain.UsableUnavailable
	if u.State == db.UsabilityNotUsable {
		code := ""
		if o.UsableCode != nil {
			code = *o.UsableCode
		}
		u.Code, u.ReasonKey = code, onboarding.UsabilityReason(code)
		if o.UsableMessage != nil {
			u.Detail = *o.UsableMessage
		}
	}
	return u
}

// usabilityState is a connected onboarding's usability as the list filter
// names it: usable, not usable or not checked.
func usabilityState(o *domain.Onboarding) string {
	switch {
	case o.Usable == nil:
		return db.UsabilityNotChecked
	case *o.Usable:
		return db.UsabilityUsable
	}
	return db.UsabilityNotUsable
}

// testable refuses a Test connection the onboarding does not allow: the
// rulebook refuses it (not connected), or its product has no scopes to ask
// for. It returns the refusal's i18n key, or "" when the test may run.
func (h *Handler) testable(o *domain.Onboarding) (config.Product, string) {
	if err := o.Check(domain.ActionTestConnection); err != nil {
		return config.Product{}, failureOf(err).Key
	}
	p, ok := h.product(o.Product)
	if !ok {
		return p, failureOf(onboarding.ErrUnknownProduct).Key
	}
	if len(p.Scopes) == 0 {
		return p, failureOf(onboarding.ErrNoScopes).Key
	}
	return p, ""
}

func (h *Handler) confirmTestConnection(c echo.Context, o *domain.Onboarding) error {
	p, refusal := h.testable(o)
	if refusal != "" {
		return h.notPossible(c, o, refusal)
	}
	return h.testConnectionPage(c, o, p)
}

func (h *Handler) testConnectionPage(c echo.Context, o *domain.Onboarding, p config.Product) error {
	return render(c, http.StatusOK, views.TestConnectionPage(views.TestConnectionConfirm{
		AdminPage: h.adminPage(c, "admin.confirm.testconnection.heading"),
		PostURL:   detailPath(o.ID) + "/testconnection", BackURL: detailPath(o.ID),
		OrgNo: orgno.Format(o.OrgNo), ProductName: p.DisplayName(langOf(c)), Scopes: p.Scopes,
	}))
}

// testConnection asks Maskinporten for a system-user token for the
// customer now, after confirmation, and shows the page with the answer.
// The token is thrown away by the service; only the outcome is kept.
func (h *Handler) testConnection(c echo.Context, o *domain.Onboarding) error {
	p, refusal := h.testable(o)
	if refusal != "" {
		return h.notPossible(c, o, refusal)
	}
	if !confirmed(c) {
		return h.testConnectionPage(c, o, p)
	}
	return h.act(c, o, "testconnection", AuditTestConnection, h.Onboardings.TestConnection)
}

// --- create on behalf ---

func (h *Handler) renderNewForm(c echo.Context, status int, product, typed, errKey string) error {
	lang := langOf(c)
	m := views.NewOnboardingForm{
		AdminPage: h.adminPage(c, "admin.new.heading"),
		Action:    newPath, BackURL: listPath, Product: product, OrgNo: typed, ErrorKey: errKey,
	}
	for _, p := range h.Products {
		m.Products = append(m.Products, views.ProductOption{ID: p.ID, Name: p.DisplayName(lang), Agent: p.Kind == domain.KindAgent})
	}
	return render(c, status, views.NewOnboardingPage(m))
}

func (h *Handler) newOnboardingForm(c echo.Context) error {
	return h.renderNewForm(c, http.StatusOK, "", "", "")
}

// createOnboarding starts an onboarding for a customer, as the wizard does
// but with staff as cause and author, and shows its detail page, where the
// confirm link to send to the customer is. When the customer already has a
// live one, that one is moved on and shown instead.
func (h *Handler) createOnboarding(c echo.Context) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	productID := c.FormValue("product")
	typed := c.FormValue("orgno")
	if r := []rune(typed); len(r) > 20 {
		typed = string(r[:20])
	}
	if _, ok := h.product(productID); !ok {
		return h.renderNewForm(c, http.StatusUnprocessableEntity, "", typed, "admin.new.err.product")
	}
	n, err := orgno.Normalize(typed)
	if err != nil {
		return h.renderNewForm(c, http.StatusUnprocessableEntity, productID, typed, orgErrorKeys[err])
	}
	// An onboarding that already holds this key is shown, not acted on:
	// renewing or cancelling it has its own confirmed actions.
	p, _ := h.product(productID)
	extRef := p.ExternalRef
	if extRef == "" {
		extRef = n
	}
	if live, err := h.Dashboard.LiveOnboarding(c.Request().Context(), p.SystemID, n, extRef); err == nil {
		return c.Redirect(http.StatusSeeOther, detailPath(live.ID)+"?done=exists")
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// Started and recorded by the service: the audit entry and staff event
	// go with the onboarding's last write.
	var (
		o       *domain.Onboarding
		started bool
	)
	email := strings.TrimSpace(c.FormValue("email"))
	if email != "" && !validEmail(email) {
		return h.renderNewFormEmail(c, productID, typed, email)
	}
	err = h.Onboardings.Audited(c.Request().Context(), actionAudit(c, s, AuditCreate, describeCreate), nil,
		func(ctx context.Context) (err error) {
			o, started, err = h.Onboardings.Start(ctx, onboarding.StartInput{
				Product: productID, OrgNo: n, Lang: langOf(c), Cause: domain.CauseStaff, Actor: s.Email,
			})
			return err
		})
	if errors.Is(err, onboarding.ErrSuperseded) {
		err, started = nil, false
	}
	if errors.Is(err, onboarding.ErrUnknownProduct) {
		return h.renderNewForm(c, http.StatusUnprocessableEntity, "", typed, "admin.new.err.product")
	}
	if err != nil {
		return err
	}
	if err := h.setMailContact(c.Request().Context(), o.ID, email); err != nil {
		return err
	}
	done := "create"
	if !started {
		done = "exists"
	}
	return c.Redirect(http.StatusSeeOther, detailPath(o.ID)+"?done="+done)
}

// describeCreate is how a create on a customer's behalf reads in the audit
// log: what was asked for and whether it began anything (overtaken by a
// concurrent start, it found the live onboarding instead).
func describeCreate(out onboarding.Outcome) (map[string]any, string) {
	o := out.Onboarding
	started := out.Started && out.Result != onboarding.ResultSuperseded
	detail := map[string]any{"product": o.Product, "org_no": o.OrgNo, "started": started, "status": o.Status}
	msg := AuditCreate + " by staff: status " + string(o.Status)
	if !started {
		msg = AuditCreate + " by staff found this live onboarding: status " + string(o.Status)
	}
	withErrorCode(detail, o)
	return detail, msg
}
