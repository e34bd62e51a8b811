package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/campaigns"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/views"
)

// CampaignService is what the campaign pages ask of campaigns.Service.
type CampaignService interface {
	Create(ctx context.Context, n campaigns.NewCampaign) (*db.Campaign, error)
	CreateChange(ctx context.Context, product, createdBy, name string, by *db.AuditEntry) (*db.Campaign, error)
	// StaffAct runs an action and writes its audit entry (by) in its
	// transaction; Create and CreateChange do so with NewCampaign.By and by.
	StaffAct(ctx context.Context, id, action string, by db.AuditEntry) (*db.Campaign, error)
}

// CampaignStore is the part of the database the campaign pages read.
type CampaignStore interface {
	ListCampaigns(ctx context.Context, limit int) ([]db.Campaign, error)
	CampaignByID(ctx context.Context, id string) (*db.Campaign, error)
	CampaignProgress(ctx context.Context, c *db.Campaign) (db.CampaignProgress, error)
	CampaignCounts(ctx context.Context, ids []string) (map[string][2]int, error)
	CampaignItems(ctx context.Context, campaignID, state string, limit int) ([]db.CampaignItem, error)
	EachCampaignLink(ctx context.Context, c *db.Campaign, fn func(db.CampaignLink) error) error
	AddAudit(ctx context.Context, e db.AuditEntry) error
	// CampaignReach and CampaignStatusCounts are what the customers did
	// (campaign_state.go).
	CampaignReach(ctx context.Context, c *db.Campaign) (db.CampaignReach, error)
	CampaignStatusCounts(ctx context.Context, ids []string) (map[string]map[string]int, error)
}

const (
	campaignsPath = views.CampaignsPath
	// maxUpload bounds a campaign's upload: campaigns.MaxRows rows of an
	// organisation number, a reference and an email fit with room to spare.
	maxUpload = "8M"
	// reportRows is how many invalid (or failed) rows a campaign page lists.
	reportRows = 1000
	// campaignsShown is how many campaigns the list shows.
	campaignsShown = 100
)

// Audit actions of the campaign pages.
const (
	AuditCampaignCreate = "campaign.create"
	AuditCampaignExport = "campaign.export"
)

func campaignPath(id string) string { return campaignsPath + "/" + id }

func (h *Handler) withCampaign(fn func(echo.Context, *db.Campaign) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		camp, err := h.CampaignStore.CampaignByID(c.Request().Context(), c.Param("id"))
		if errors.Is(err, db.ErrNotFound) {
			return h.adminError(c, http.StatusNotFound, "campaign.err.notfound")
		}
		if err != nil {
			return err
		}
		return fn(c, camp)
	}
}

// --- list ---

func (h *Handler) campaignList(c echo.Context) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	cs, err := h.CampaignStore.ListCampaigns(ctx, campaignsShown)
	if err != nil {
		return err
	}
	m := views.CampaignList{AdminPage: h.adminPage(c, "campaign.list.heading")}
	if canAct(c) {
		m.NewURL = campaignsPath + "/new"
	}
	ids := make([]string, len(cs))
	for i, camp := range cs {
		ids[i] = camp.ID
	}
	counts, err := h.CampaignStore.CampaignCounts(ctx, ids)
	if err != nil {
		return err
	}
	statuses, err := h.CampaignStore.CampaignStatusCounts(ctx, ids)
	if err != nil {
		return err
	}
	for i := range cs {
		camp := &cs[i]
		n := counts[camp.ID]
		row := views.CampaignRow{URL: campaignPath(camp.ID), Name: camp.Name,
			ProductName: h.productName(camp.Product, lang), Kind: camp.Kind, Status: camp.Status,
			Created: i18n.DateTime(lang, camp.CreatedAt.In(oslo)), CreatedBy: camp.CreatedBy,
			Valid: n[0], Finished: n[1]}
		for _, g := range customerCounts(camp.Kind, n[0], statuses[camp.ID], lang) {
			if g.Count > 0 {
				row.Customers = append(row.Customers, g)
			}
		}
		m.Rows = append(m.Rows, row)
	}
	return render(c, http.StatusOK, views.CampaignsPage(m))
}

// --- new ---

func (h *Handler) campaignForm(c echo.Context) views.CampaignForm {
	m := views.CampaignForm{AdminPage: h.adminPage(c, "campaign.new.heading"), Action: campaignsPath,
		MaxRows: campaigns.MaxRows, Concurrency: strconv.Itoa(h.CampaignConcurrency),
		Rate: strconv.FormatFloat(h.CampaignRate, 'f', -1, 64)}
	lang := langOf(c)
	for i, p := range h.Products {
		m.Products = append(m.Products, views.ProductChoice{ID: p.ID, Name: h.productName(p.ID, lang), Kind: string(p.Kind), Checked: i == 0})
	}
	return m
}

func (h *Handler) newCampaignForm(c echo.Context) error {
	return render(c, http.StatusOK, views.CampaignNewPage(h.campaignForm(c)))
}

func (h *Handler) createCampaign(c echo.Context) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	m := h.campaignForm(c)
	m.Name = c.FormValue("name")
	m.Paste = c.FormValue("paste")
	m.Concurrency, m.Rate = c.FormValue("concurrency"), c.FormValue("rate")
	product := c.FormValue("product")
	for i := range m.Products {
		m.Products[i].Checked = m.Products[i].ID == product
	}
	fail := func(status int, key, field string) error {
		m.ErrorKey, m.ErrorField = key, field
		if len(m.Paste) > 64<<10 {
			m.Paste = "" // a large upload pasted is not sent back
		}
		return render(c, status, views.CampaignNewPage(m))
	}
	data, err := uploaded(c)
	if err != nil {
		return fail(http.StatusRequestEntityTooLarge, "campaign.err.upload", "file")
	}
	conc, cerr := strconv.Atoi(strings.TrimSpace(m.Concurrency))
	rate, rerr := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(m.Rate), ",", "."), 64)
	if cerr != nil || rerr != nil {
		return fail(http.StatusUnprocessableEntity, "campaign.err.limits", "concurrency")
	}
	camp, err := h.Campaigns.Create(c.Request().Context(), campaigns.NewCampaign{Name: m.Name, Product: product,
		Concurrency: conc, Rate: rate, Data: data, CreatedBy: s.Email, By: campaignAudit(c, s, AuditCampaignCreate)})
	switch {
	case errors.Is(err, campaigns.ErrName):
		return fail(http.StatusUnprocessableEntity, "campaign.err.name", "name")
	case errors.Is(err, campaigns.ErrProduct):
		return fail(http.StatusUnprocessableEntity, "campaign.err.product", "product-0")
	case errors.Is(err, campaigns.ErrLimits):
		return fail(http.StatusUnprocessableEntity, "campaign.err.limits", "concurrency")
	case errors.Is(err, campaigns.ErrNoRows):
		return fail(http.StatusUnprocessableEntity, "campaign.err.empty", "file")
	case errors.Is(err, campaigns.ErrTooManyRows):
		return fail(http.StatusUnprocessableEntity, "campaign.err.toomany", "file")
	case errors.Is(err, campaigns.ErrNotText):
		return fail(http.StatusUnprocessableEntity, "campaign.err.nottext", "file")
	case errors.As(err, new(*csv.ParseError)):
		return fail(http.StatusUnprocessableEntity, "campaign.err.csv", "file")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, campaignPath(camp.ID)+"?done=created")
}

// campaignAudit is who does a campaign action (s), from where and what, for
// the campaigns service to write with the action, in its transaction.
func campaignAudit(c echo.Context, s *db.Staff, action string) *db.AuditEntry {
	return &db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: action, IP: c.RealIP()}
}

// uploaded is the list: the file when one was chosen, else the pasted text
// (also from a form posted urlencoded, by a script or a browser without the
// form's enctype, which cannot carry a file).
func uploaded(c echo.Context) ([]byte, error) {
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) || (err == nil && fh.Size == 0) {
		return []byte(c.FormValue("paste")), nil
	}
	if err != nil {
		return nil, err
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// createChangeCampaign makes a draft change-request campaign for every
// connected customer of a product that lacks what it now asks for.
func (h *Handler) createChangeCampaign(c echo.Context) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	product := c.FormValue("product")
	lang := langOf(c)
	name := i18n.T(lang, "campaign.kind.change") + " · " + h.productName(product, lang) + " · " +
		i18n.DateTime(lang, time.Now().In(oslo))
	camp, err := h.Campaigns.CreateChange(c.Request().Context(), product, s.Email, name, campaignAudit(c, s, AuditCampaignCreate))
	switch {
	case errors.Is(err, campaigns.ErrProduct):
		return h.adminError(c, http.StatusUnprocessableEntity, "campaign.err.product")
	case errors.Is(err, campaigns.ErrAgentChange):
		return h.adminError(c, http.StatusConflict, "campaign.err.agent")
	case errors.Is(err, campaigns.ErrNoChange):
		return h.adminError(c, http.StatusConflict, "campaign.err.nochange")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, campaignPath(camp.ID)+"?done=created")
}

// --- one campaign ---

var itemStates = []string{db.ItemQueued, db.ItemWorking, db.ItemDone, db.ItemFailed, db.ItemCancelled, db.ItemInvalid}

// changeStatuses are a change request's statuses, in the order of its life.
var changeStatuses = []string{string(domain.ChangeRequesting), string(domain.ChangePending), string(domain.ChangeAccepted), string(domain.ChangeRejected),
	string(domain.ChangeNoChange), string(domain.ChangeFailed), string(domain.ChangeCancelled)}

func (h *Handler) campaignDetail(c echo.Context, camp *db.Campaign) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	p, err := h.CampaignStore.CampaignProgress(ctx, camp)
	if err != nil {
		return err
	}
	m := views.CampaignView{AdminPage: h.adminPage(c, "campaign.list.heading"),
		ID: camp.ID, Name: camp.Name, ProductName: h.productName(camp.Product, lang), Kind: camp.Kind,
		Status: camp.Status, CreatedBy: camp.CreatedBy, Created: i18n.DateTime(lang, camp.CreatedAt.In(oslo)),
		Concurrency: camp.Concurrency, Rate: strconv.FormatFloat(camp.Rate, 'f', -1, 64),
		Valid: p.Valid, Finished: p.Finished, BackURL: campaignPath(camp.ID),
		ExportURL: campaignPath(camp.ID) + "/links.csv", ProgressURL: campaignPath(camp.ID) + "/progress",
		Live: camp.Status == db.CampaignRunning}
	m.Title = camp.Name
	if m.Live {
		m.RefreshSeconds = 5
	}
	if camp.StartedAt != nil {
		m.Started = i18n.DateTime(lang, camp.StartedAt.In(oslo))
	}
	if camp.FinishedAt != nil {
		m.Ended = i18n.DateTime(lang, camp.FinishedAt.In(oslo))
	}
	for _, st := range itemStates {
		m.Items = append(m.Items, views.CampaignCount{Key: st, Label: i18n.T(lang, "campaign.item."+st), Count: p.Items[st]})
	}
	if camp.Kind == db.CampaignChange {
		for _, st := range changeStatuses {
			m.Statuses = append(m.Statuses, views.CampaignCount{Key: st, Label: i18n.T(lang, "campaign.crstatus."+st), Count: p.Statuses[st]})
		}
	} else {
		for _, st := range statusNames() {
			if st == string(domain.StatusStarted) {
				continue
			}
			m.Statuses = append(m.Statuses, views.CampaignCount{Key: st, Label: i18n.T(lang, "status."+st), Count: p.Statuses[st]})
		}
	}
	if m.Invalid, m.InvalidMore, err = h.problemRows(ctx, camp.ID, db.ItemInvalid, p.Items[db.ItemInvalid], lang); err != nil {
		return err
	}
	if m.Failed, m.FailedMore, err = h.problemRows(ctx, camp.ID, db.ItemFailed, p.Items[db.ItemFailed], lang); err != nil {
		return err
	}
	if canAct(c) {
		actions := campaigns.Actions(camp, p.Items[db.ItemFailed])
		if confirm := c.QueryParam("confirm"); confirm == campaigns.ActionCancel && slices.Contains(actions, confirm) {
			m.Confirm, m.ConfirmURL = confirm, campaignPath(camp.ID)+"/"+confirm
		}
		for _, a := range actions {
			ca := views.CampaignAction{Name: a, URL: campaignPath(camp.ID) + "/" + a}
			if a == campaigns.ActionCancel {
				ca.Danger, ca.URL = true, campaignPath(camp.ID)+"?confirm=cancel"
			}
			m.Actions = append(m.Actions, ca)
		}
	}
	// The banner after an action says what the action did only while the
	// campaign is still in the state it left: a later visit, or the reload
	// when a running campaign ends, shows the state that is true now.
	if done := c.QueryParam("done"); slices.Contains(doneStates[done], camp.Status) {
		m.Done = done
	}
	m.Customers = customerCounts(camp.Kind, p.Valid, p.Statuses, lang)
	reach, err := h.CampaignStore.CampaignReach(ctx, camp)
	if err != nil {
		return err
	}
	m.Reminded, m.Reminders, m.Connected = reach.Reminded, reach.Reminders, reach.Connected
	m.Now = campaignNow(camp, p, m.Customers, lang)
	return render(c, http.StatusOK, views.CampaignPage(m))
}

// doneStates are, for each ?done= banner, the campaign statuses in which
// what it says is still true.
var doneStates = map[string][]string{
	"created":              {db.CampaignDraft},
	campaigns.ActionStart:  {db.CampaignRunning},
	campaigns.ActionResume: {db.CampaignRunning},
	campaigns.ActionPause:  {db.CampaignPaused},
	campaigns.ActionCancel: {db.CampaignCancelled},
	campaigns.ActionRetry:  {db.CampaignRunning, db.CampaignPaused},
}

// Customer groups: what a campaign's customers did, apart from the
// campaign's own status (it sends; they answer, or not). An onboarding
// campaign's customers wait (requesting, pending, accepted), connect, reject,
// expire, fail, are cancelled or revoked; a change campaign's approve, need
// no change, reject, fail or are cancelled. Unsent rows have no customer
// answer yet.
const (
	groupUnsent  = "unsent"
	groupWaiting = "waiting"
)

var (
	onboardGroups = []string{groupUnsent, groupWaiting, string(domain.StatusConnected), string(domain.StatusRejected),
		string(domain.StatusExpired), string(domain.StatusFailed), string(domain.StatusCancelled), string(domain.StatusRevoked)}
	changeGroups = []string{groupUnsent, groupWaiting, string(domain.ChangeAccepted), string(domain.ChangeNoChange),
		string(domain.ChangeRejected), string(domain.ChangeFailed), string(domain.ChangeCancelled)}
)

// customerGroup is the group of a campaign's customer whose onboarding (or
// change request) has status.
func customerGroup(kind, status string) string {
	waiting := []string{string(domain.StatusStarted), string(domain.StatusRequesting), string(domain.StatusPending), string(domain.StatusAccepted)}
	if kind == db.CampaignChange {
		waiting = []string{string(domain.ChangeRequesting), string(domain.ChangePending)}
	}
	if slices.Contains(waiting, status) {
		return groupWaiting
	}
	return status
}

// customerCounts counts a campaign's valid rows by customer group, from the
// counts of their onboardings' (or change requests') statuses; rows
// without one yet are unsent.
func customerCounts(kind string, valid int, statuses map[string]int, lang string) []views.CampaignCount {
	groups, prefix := onboardGroups, "campaign.customers."
	if kind == db.CampaignChange {
		groups, prefix = changeGroups, "campaign.crcustomers."
	}
	n := map[string]int{}
	reached := 0
	for st, k := range statuses {
		n[customerGroup(kind, st)] += k
		reached += k
	}
	n[groupUnsent] = max(valid-reached, 0)
	out := make([]views.CampaignCount, 0, len(groups))
	for _, g := range groups {
		out = append(out, views.CampaignCount{Key: g, Label: i18n.T(lang, prefix+g), Count: n[g]})
	}
	return out
}

// campaignNow says in one sentence where a campaign stands now: its own
// status (what it has sent) and, once it has sent everything, whether its
// customers are still to answer.
func campaignNow(camp *db.Campaign, p db.CampaignProgress, customers []views.CampaignCount, lang string) views.CampaignNow {
	num := func(k int) string { return i18n.Number(lang, k) }
	sent, waiting := p.Items[db.ItemDone], 0
	for _, g := range customers {
		if g.Key == groupWaiting {
			waiting = g.Count
		}
	}
	now := views.CampaignNow{Tone: "wait"}
	switch camp.Status {
	case db.CampaignDraft:
		now.Key, now.Text = "draft", i18n.T(lang, "campaign.now.draft", num(p.Valid))
	case db.CampaignRunning:
		now.Key, now.Text = "running", i18n.T(lang, "campaign.now.running", num(sent), num(p.Valid))
	case db.CampaignPaused:
		now.Key, now.Text = "paused", i18n.T(lang, "campaign.now.paused", num(sent), num(p.Valid))
	case db.CampaignCancelled:
		now.Key, now.Text, now.Tone = "cancelled", i18n.T(lang, "campaign.now.cancelled", num(sent), num(p.Valid)), "neutral"
	case db.CampaignDone:
		switch {
		case waiting > 0:
			now.Key, now.Text = "waiting", i18n.T(lang, "campaign.now.waiting", num(sent), num(waiting))
		default:
			now.Key, now.Text, now.Tone = "answered", i18n.T(lang, "campaign.now.answered", num(sent)), "ok"
		}
		if failed := p.Items[db.ItemFailed]; failed > 0 {
			now.Text += " " + i18n.T(lang, "campaign.now.failed", num(failed))
		}
	}
	return now
}

// problemRows lists up to reportRows rows in state, with their problem (or
// last error) in words, and how many more there are.
func (h *Handler) problemRows(ctx context.Context, id, state string, total int, lang string) ([]views.CampaignRowProblem, int, error) {
	if total == 0 {
		return nil, 0, nil
	}
	items, err := h.CampaignStore.CampaignItems(ctx, id, state, reportRows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]views.CampaignRowProblem, 0, len(items))
	for _, it := range items {
		r := views.CampaignRowProblem{Line: it.Line, Typed: it.OrgNo}
		switch {
		case it.Problem != nil && *it.Problem == campaigns.ProblemDuplicate && it.ProblemLine != nil:
			r.Problem = i18n.T(lang, "campaign.problem.duplicate", *it.ProblemLine)
		case it.Problem != nil:
			r.Problem = i18n.T(lang, "campaign.problem."+*it.Problem)
		case it.LastError != nil:
			r.Problem = *it.LastError
		}
		out = append(out, r)
	}
	return out, total - len(out), nil
}

// campaignProgress is the JSON campaign.js follows.
func (h *Handler) campaignProgress(c echo.Context, camp *db.Campaign) error {
	p, err := h.CampaignStore.CampaignProgress(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	customers := map[string]int{}
	for _, g := range customerCounts(camp.Kind, p.Valid, p.Statuses, langOf(c)) {
		customers[g.Key] = g.Count
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, struct {
		Status string `json:"status"`
		db.CampaignProgress
		Customers map[string]int `json:"customers"` // by customer group (customerCounts)
	}{camp.Status, p, customers})
}

// campaignAct runs start, pause, resume, cancel or retry.
func (h *Handler) campaignAct(c echo.Context, camp *db.Campaign) error {
	s := staffFrom(c)
	if s == nil {
		return h.adminError(c, http.StatusUnauthorized, "admin.error.401")
	}
	action := c.Param("action")
	if !slices.Contains([]string{campaigns.ActionStart, campaigns.ActionPause, campaigns.ActionResume,
		campaigns.ActionCancel, campaigns.ActionRetry}, action) {
		return h.adminError(c, http.StatusNotFound, "campaign.err.notfound")
	}
	by := campaignAudit(c, s, "campaign."+action)
	by.Detail = map[string]any{"from": camp.Status}
	after, err := h.Campaigns.StaffAct(c.Request().Context(), camp.ID, action, *by)
	switch {
	case errors.Is(err, campaigns.ErrState):
		return h.adminError(c, http.StatusConflict, "campaign.err.state")
	case err != nil && after == nil:
		return err
	case err != nil:
		// Done, but its run could not be queued now; the periodic kick will.
		h.logger().WarnContext(c.Request().Context(), "campaign run not queued", "campaign", camp.ID, "err", err)
	}
	return c.Redirect(http.StatusSeeOther, campaignPath(camp.ID)+"?done="+action)
}

// campaignLinks exports every valid row with the link its customer opens
// to approve at Altinn, for the vendor's own mailing.
func (h *Handler) campaignLinks(c echo.Context, camp *db.Campaign) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), csvTimeout)
	defer cancel()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="campaign-`+camp.ID[:8]+`-links.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	if err := w.Write([]string{"line", "org_no", "customer_ref", "email", "row_state", "status", "confirm_url"}); err != nil {
		return nil
	}
	rows := 0
	err := h.CampaignStore.EachCampaignLink(ctx, camp, func(l db.CampaignLink) error {
		rows++
		return w.Write([]string{strconv.Itoa(l.Line), l.OrgNo, csvSafe(l.CustomerRef), csvSafe(l.Email), l.State, l.Status, l.ConfirmURL})
	})
	w.Flush()
	if err != nil {
		// The header is out: a cut-off file is all that can be said.
		h.logger().ErrorContext(ctx, "campaign export cut off", "campaign", camp.ID, "err", err)
		return nil
	}
	if s := staffFrom(c); s != nil {
		h.auditCampaign(c, s, AuditCampaignExport, camp, map[string]any{"rows": rows})
	}
	return nil
}

// auditCampaign writes what a staff member read of a campaign (its export)
// to the audit log: it changes nothing, so it goes on its own, with a
// context of its own, written even if the browser has gone.
func (h *Handler) auditCampaign(c echo.Context, s *db.Staff, action string, camp *db.Campaign, detail map[string]any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
	defer cancel()
	detail["campaign"], detail["name"] = camp.ID, camp.Name
	if err := h.CampaignStore.AddAudit(ctx, db.AuditEntry{StaffID: &s.ID, Actor: s.Email, Action: action,
		Detail: detail, IP: c.RealIP()}); err != nil {
		h.logger().ErrorContext(ctx, "audit of a campaign action not written", "campaign", camp.ID, "action", action, "err", err)
	}
}
