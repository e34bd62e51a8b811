package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// clientsSection is an agent onboarding's clients for the detail page
// (issue 14, point 3), from the database only: counts by state (the states
// it has) and each client with its state, the reason in words, by whom
// ("via onboard" or "in Altinn's portal") and when. Any staff member sees
// it; nothing here acts.
func (h *Handler) clientsSection(c echo.Context, o *domain.Onboarding) (views.ClientsSection, error) {
	var s views.ClientsSection
	if o.Kind != domain.KindAgent || h.ClientRows == nil {
		return s, nil
	}
	s.Show = true
	rows, err := h.ClientRows.ClientsOf(c.Request().Context(), o.ID)
	if err != nil {
		return s, err
	}
	lang := langOf(c)
	counts := map[domain.ClientState]int{}
	for _, r := range rows {
		counts[r.State]++
		row := views.StaffClientRow{ID: r.ClientID, OrgNo: orgno.Format(r.OrgNo), Name: r.OrgName, State: string(r.State),
			By: domain.ClientChangedBy(r.ChangedBy), At: when(c, r.ChangedAt), AtISO: r.ChangedAt.UTC().Format(time.RFC3339)}
		if r.Reason != domain.ReasonNone {
			row.ReasonKey = "clients.reason." + string(r.Reason)
		}
		s.Rows = append(s.Rows, row)
	}
	for _, st := range clientStates {
		if n := counts[st]; n > 0 {
			s.Counts = append(s.Counts, views.StaffClientCount{State: string(st), N: i18n.Number(lang, n)})
		}
	}
	return s, nil
}
