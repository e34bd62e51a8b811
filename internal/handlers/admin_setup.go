package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/setup"
	"github.com/onboard-altinn/onboard/views"
)

// SetupChecker runs the set-up checks and plans the system register's
// changes (*setup.Service).
type SetupChecker interface {
	Check(ctx context.Context) setup.Report
	Plans(ctx context.Context, prune bool) ([]setup.Plan, error)
}

// setupTimeout bounds the Setup page's calls to Altinn and Maskinporten, well
// inside the request timeout.
const setupTimeout = 20 * time.Second

// adminSetup runs the same checks as `onboard doctor` and shows, read-only,
// what `onboard system apply` would change. The lines carry the clients'
// own error texts, as the command does: the page is for admins fixing the
// set-up, and those texts never hold a token or key.
func (h *Handler) adminSetup(c echo.Context) error {
	if h.Setup == nil {
		return echo.ErrNotFound
	}
	lang := langOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), setupTimeout)
	defer cancel()
	var (
		wg       sync.WaitGroup
		rep      setup.Report
		plans    []setup.Plan
		plansErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); rep = h.Setup.Check(ctx) }()
	go func() { defer wg.Done(); plans, plansErr = h.Setup.Plans(ctx, false) }()
	wg.Wait()

	m := views.AdminSetup{AdminPage: h.adminPage(c, "setup.heading"), Summary: rep.Summary(lang), AllOK: rep.OK(),
		TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
	for _, r := range rep.Results {
		m.Checks = append(m.Checks, views.SetupCheck{ID: r.ID, Name: r.Name.In(lang), Status: string(r.Status),
			StatusLabel: i18n.T(lang, "setup.status."+string(r.Status)), Detail: r.Detail.In(lang), Fix: r.Fix.In(lang)})
	}
	if plansErr != nil {
		// Only a configuration without a usable system id gets here, and
		// config.Load refuses those; say it on the page all the same.
		m.Systems = append(m.Systems, views.SetupSystem{Error: plansErr.Error()})
	}
	for _, p := range plans {
		s := views.SetupSystem{ID: p.SystemID, Create: p.Create, Deleted: p.Deleted, Unknown: strings.Join(p.Unknown, ", ")}
		if p.Err != nil {
			s.Error = p.Err.Error()
		}
		for _, ch := range p.Changes {
			s.Changes = append(s.Changes, views.SetupChange{Field: ch.Field, From: ch.From, To: ch.To})
		}
		for _, k := range p.Kept {
			s.Kept = append(s.Kept, views.SetupChange{Field: k.Field, From: k.Value})
		}
		m.Systems = append(m.Systems, s)
	}
	if !m.AllOK {
		h.logger().InfoContext(c.Request().Context(), "setup checks failing", "failing", rep.Failing(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	return render(c, http.StatusOK, views.AdminSetupPage(m))
}
