package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/views"
)

// InsightStore is the part of the database the funnel and system-user pages read.
type InsightStore interface {
	Funnel(ctx context.Context, from, to time.Time, zone string) (*db.Funnel, error)
	KnownSystemUsers(ctx context.Context, ids []string) (map[string]string, error)
	LiveOnboarding(ctx context.Context, systemID, orgNo, externalRef string) (*domain.Onboarding, error)
}

// AuditSystemUserImport is the audit action of importing a system user made
// outside the wizard.
const AuditSystemUserImport = "systemuser.import"

// defaultFunnelDays is the period the funnel shows when none is chosen.
const defaultFunnelDays = 30

// adminFunnel shows how far the onboardings started in a period got: by
// default the last 30 days, today included, in Norwegian time. A date that
// does not parse, a period that ends before it starts or one longer than
// two years gets the form back with a 400.
func (h *Handler) adminFunnel(c echo.Context) error {
	m := views.AdminFunnel{AdminPage: h.adminPage(c, "admin.funnel.heading")}
	from, to, errKey := funnelPeriod(c.QueryParam("from"), c.QueryParam("to"), time.Now().In(oslo))
	m.From, m.To = c.QueryParam("from"), c.QueryParam("to")
	if errKey != "" {
		m.ErrorKey = errKey
		h.logger().WarnContext(c.Request().Context(), "funnel period refused",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "reason", errKey)
		return render(c, http.StatusBadRequest, views.AdminFunnelPage(m))
	}
	m.From, m.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	f, err := h.Insights.Funnel(c.Request().Context(), from, to, oslo.String())
	if err != nil {
		return err
	}
	pct := func(n int) int {
		if f.Started == 0 {
			return 0
		}
		return (n*100 + f.Started/2) / f.Started
	}
	for _, s := range []struct {
		key string
		n   int
	}{
		{"admin.funnel.started", f.Started}, {"admin.funnel.sent", f.Sent}, {"admin.funnel.returned", f.Returned},
		{"admin.funnel.accepted", f.Accepted}, {"admin.funnel.connected", f.Connected},
		{"admin.funnel.rejected", f.Rejected}, {"admin.funnel.expired", f.Expired},
	} {
		m.Steps = append(m.Steps, views.FunnelStep{Key: s.key, Count: s.n, Percent: pct(s.n)})
	}
	m.Imported = f.Imported
	if f.MedianToConnect != nil && f.P90ToConnect != nil {
		m.Median, m.P90 = m.Duration(*f.MedianToConnect), m.Duration(*f.P90ToConnect)
	}
	days := make([]views.FunnelDayCount, len(f.Days))
	for i, d := range f.Days {
		days[i] = views.FunnelDayCount{Date: d.Day, Started: d.Started, Connected: d.Connected}
	}
	m.Chart = views.NewFunnelChart(days)
	return render(c, http.StatusOK, views.AdminFunnelPage(m))
}

// funnelPeriod reads the funnel's from and to dates (YYYY-MM-DD, both
// included). A missing to is today; a missing from is 30 days up to to. It
// returns the i18n key of the problem when the period is not usable.
func funnelPeriod(fromS, toS string, now time.Time) (from, to time.Time, errKey string) {
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var err error
	if toS = strings.TrimSpace(toS); toS != "" {
		if to, err = time.Parse(time.DateOnly, toS); err != nil {
			return from, to, "admin.funnel.error.date"
		}
	}
	from = to.AddDate(0, 0, 1-defaultFunnelDays)
	if fromS = strings.TrimSpace(fromS); fromS != "" {
		if from, err = time.Parse(time.DateOnly, fromS); err != nil {
			return from, to, "admin.funnel.error.date"
		}
	}
	switch {
	case from.Year() < 2000 || to.Year() > 2999:
		return from, to, "admin.funnel.error.year"
	case from.After(to):
		return from, to, "admin.funnel.error.order"
	case to.After(from.AddDate(2, 0, 0)):
		return from, to, "admin.funnel.error.toolong"
	}
	return from, to, ""
}

// adminSystemUsers lists, for each system of the configured products (or
// of the one chosen with ?product=), the system users Altinn has, and marks
// those no onboarding holds: made outside the wizard, for instance directly
// in Altinn's portal.
func (h *Handler) adminSystemUsers(c echo.Context) error {
	ctx := c.Request().Context()
	lang := langOf(c)
	m := views.AdminSystemUsers{AdminPage: h.adminPage(c, "admin.systemusers.heading")}
	products := h.Products
	if id := c.QueryParam("product"); id != "" {
		p, ok := h.product(id)
		if !ok {
			return h.insightProblem(c, http.StatusNotFound, "admin.systemusers.error.product", nil)
		}
		products, m.Product = []config.Product{p}, p.ID
	}
	for _, p := range h.Products {
		m.Products = append(m.Products, views.SystemUsersProduct{ID: p.ID, Name: p.DisplayName(lang)})
	}
	if s := staffFrom(c); s != nil {
		m.CanImport = s.Role.AtLeast(domain.RoleOperator)
	}

	// Each system's list is its own Altinn call (or several, a page each),
	// made at most once a minute (systemUserLists; ?reload=1 reads it
	// again now): they go out at once, and the page waits for the slowest.
	// Whether each is known is read from the database on every view.
	systemIDs := onboarding.SystemIDs(products)
	lists := make([][]altinn.SystemUser, len(systemIDs))
	readAt := make([]time.Time, len(systemIDs))
	errs := make([]error, len(systemIDs))
	fresh := c.QueryParam("reload") != ""
	var wg sync.WaitGroup
	for i, systemID := range systemIDs {
		wg.Go(func() {
			lists[i], readAt[i], errs[i] = h.systemUsers.get(ctx, systemID, fresh, h.Onboardings.SystemUsers)
		})
	}
	wg.Wait()
	// A list read again on ?reload=1 is shown at the address without it,
	// so that reloading or bookmarking the page afterwards takes the copy.
	if fresh && !slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		u := *c.Request().URL
		q := u.Query()
		q.Del("reload")
		u.RawQuery = q.Encode()
		return c.Redirect(http.StatusSeeOther, u.RequestURI())
	}
	var ids []string
	var oldest time.Time
	for i, systemID := range systemIDs {
		users, err := lists[i], errs[i]
		if err != nil {
			return h.altinnProblem(c, "listing system users", err)
		}
		if oldest.IsZero() || readAt[i].Before(oldest) {
			oldest = readAt[i]
		}
		g := views.SystemUserGroup{SystemID: systemID}
		for _, su := range users {
			if su.IsDeleted {
				continue
			}
			p, ok := onboarding.ProductFor(h.Products, su)
			if m.Product != "" && (!ok || p.ID != m.Product) {
				continue
			}
			row := views.SystemUserRow{ID: su.ID, OrgNo: su.ReporteeOrgNo, Agent: strings.EqualFold(su.UserType, string(domain.KindAgent)),
				ExternalRef: su.ExternalRef, Title: su.IntegrationTitle}
			if !su.Created.IsZero() {
				row.Created = when(c, su.Created)
			}
			if ok {
				row.ProductName = p.DisplayName(lang)
				if db.IsUUID(su.ID) {
					row.ImportAction = views.SystemUsersPath + "/" + url.PathEscape(su.ID) + "/import"
				}
			}
			g.Users = append(g.Users, row)
			ids = append(ids, su.ID)
		}
		m.Systems = append(m.Systems, g)
	}

	if !oldest.IsZero() {
		m.ReadAt = oldest.In(oslo).Format(time.TimeOnly)
		m.ReadAtISO = oldest.UTC().Format(time.RFC3339)
	}
	known, err := h.Insights.KnownSystemUsers(ctx, ids)
	if err != nil {
		return err
	}
	for i := range m.Systems {
		g := &m.Systems[i]
		for j := range g.Users {
			u := &g.Users[j]
			if onb, ok := known[strings.ToLower(u.ID)]; ok {
				u.OnboardingURL = "/admin/onboardings/" + url.PathEscape(onb)
				if strings.EqualFold(u.ID, c.QueryParam("imported")) {
					m.Imported = u.ID // only a notice for what really is imported
				}
			} else {
				g.Unknown++
			}
		}
	}
	return render(c, http.StatusOK, views.AdminSystemUsersPage(m))
}

// adminImportSystemUser makes a connected onboarding of a system user that
// no onboarding holds. Only the id comes from the form: the system user is
// read again from Altinn, so what is stored is what Altinn says now. An
// import of a system user that is known by now (a second click) goes back
// to the list like a successful one.
func (h *Handler) adminImportSystemUser(c echo.Context) error {
	ctx := c.Request().Context()
	s := staffFrom(c)
	id := c.Param("id")
	if s == nil || !db.IsUUID(id) {
		return h.insightProblem(c, http.StatusNotFound, "admin.systemusers.error.gone", nil)
	}
	back := views.SystemUsersPath
	if p, ok := h.product(c.FormValue("product")); ok {
		back += "?product=" + url.QueryEscape(p.ID)
	}
	done := func(suID string) error {
		sep := "?"
		if strings.Contains(back, "?") {
			sep = "&"
		}
		return c.Redirect(http.StatusSeeOther, back+sep+"imported="+url.QueryEscape(suID))
	}

	su, err := h.Onboardings.FindSystemUser(ctx, id)
	if err != nil {
		return h.altinnProblem(c, "reading the system user to import", err)
	}
	if su == nil {
		return h.insightProblem(c, http.StatusNotFound, "admin.systemusers.error.gone", nil)
	}
	known, err := h.Insights.KnownSystemUsers(ctx, []string{su.ID})
	if err != nil {
		return err
	}
	if len(known) > 0 {
		return done(su.ID)
	}

	// Imported and recorded by the service: the audit entry goes with the
	// new onboarding, in its transaction.
	describe := func(onboarding.Outcome) (map[string]any, string) {
		return map[string]any{"system_user_id": su.ID, "system_id": su.SystemID, "org_no": su.ReporteeOrgNo,
			"external_ref": su.ExternalRef, "user_type": su.UserType}, ""
	}
	var o *domain.Onboarding
	err = h.Onboardings.Audited(ctx, actionAudit(c, s, AuditSystemUserImport, describe), nil, func(ctx context.Context) (err error) {
		o, err = h.Onboardings.Import(ctx, *su, domain.CauseStaff, s.Email)
		return err
	})
	// The page after it reads Altinn's lists again, not the copy.
	h.systemUsers.drop()
	switch f := failureOf(err); {
	case errors.Is(err, onboarding.ErrNoProduct):
		return h.insightProblem(c, f.Status, f.Key, nil)
	case errors.Is(err, db.ErrConflict):
		// A live onboarding holds the key: the page links to it.
		p := &views.AdminInsightProblem{}
		if live, lerr := h.Insights.LiveOnboarding(ctx, su.SystemID, su.ReporteeOrgNo, su.ExternalRef); lerr == nil {
			p.LinkURL, p.LinkKey = "/admin/onboardings/"+url.PathEscape(live.ID), "admin.systemusers.open"
		}
		return h.insightProblem(c, f.Status, f.Key, p)
	case err != nil:
		return err
	}
	h.logger().InfoContext(ctx, "imported a system user", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"staff", s.Email, "system_user_id", su.ID, "onboarding_id", o.ID)
	return done(su.ID)
}

// altinnProblem answers an Altinn failure with a page that says what kind of
// failure it was in words, and Altinn's error code when there is one. The
// error itself goes to the log, with the request id the page shows.
func (h *Handler) altinnProblem(c echo.Context, what string, err error) error {
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	h.logger().ErrorContext(c.Request().Context(), "altinn call failed: "+what, "request_id", rid, "err", err)
	f := failureOf(err)
	if f.Status != http.StatusBadGateway {
		// Not a kind of Altinn failure the map knows (a token or request
		// that could not be built, say): still Altinn's call that failed.
		f = failure{Status: http.StatusBadGateway, Key: "admin.altinn.error.failed"}
	}
	p := &views.AdminInsightProblem{RequestID: rid}
	var prob *altinn.Problem
	if errors.As(err, &prob) {
		p.AltinnCode = prob.Code
	}
	return h.insightProblem(c, f.Status, f.Key, p)
}

// insightProblem renders an error page of the insight pages; extra may add
// a link, Altinn's code and the request id.
func (h *Handler) insightProblem(c echo.Context, status int, msgKey string, extra *views.AdminInsightProblem) error {
	m := views.AdminInsightProblem{}
	if extra != nil {
		m = *extra
	}
	m.AdminPage = h.adminPage(c, "error.heading")
	m.Status, m.MessageKey = status, msgKey
	m.BackURL, m.BackKey = views.SystemUsersPath, "admin.systemusers.back"
	if status < 500 {
		h.logger().WarnContext(c.Request().Context(), "staff request refused",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "method", c.Request().Method,
			"path", c.Request().URL.Path, "status", status, "reason", msgKey)
	}
	return render(c, status, views.AdminInsightProblemPage(m))
}
