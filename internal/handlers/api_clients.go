package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/webhooks"
)

// ClientStore reads an agent onboarding's clients from the database (no
// Altinn call), for the API and the dashboard (issue 14, point 3).
type ClientStore interface {
	ClientsOf(ctx context.Context, onboardingID string) ([]db.Client, error)
}

// apiClientList is GET /api/v1/onboardings/{id}/clients.
type apiClientList struct {
	OnboardingID string                     `json:"onboarding_id"`
	Counts       map[domain.ClientState]int `json:"counts"`
	Items        []webhooks.Client          `json:"items"`
}

// clientStates are every client state, for counts that name each.
var clientStates = []domain.ClientState{domain.ClientAdding, domain.ClientDelegated, domain.ClientRemoving,
	domain.ClientRemoved, domain.ClientFailed}

// apiClients lists an agent onboarding's clients as the service knows them
// (the rows, which follow Altinn's portal through the reconciler), by org
// number, with counts by state. An unknown id, and an onboarding that is
// not an agent (client system) onboarding, are 404: there are no clients
// to list. An agent onboarding not yet connected has none: an empty list.
func (h *Handler) apiClients(c echo.Context) error {
	id := c.Param("id")
	if !db.IsUUID(id) {
		return problem(http.StatusNotFound, "no onboarding with this id")
	}
	ctx := c.Request().Context()
	o, err := h.APIKeys.OnboardingByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no onboarding with this id")
	}
	if err != nil {
		return err
	}
	if o.Kind != domain.KindAgent {
		return problem(http.StatusNotFound, "this onboarding is not for a client system (kind agent): it has no clients")
	}
	out := apiClientList{OnboardingID: o.ID, Counts: map[domain.ClientState]int{}, Items: []webhooks.Client{}}
	for _, s := range clientStates {
		out.Counts[s] = 0
	}
	if h.ClientRows != nil {
		rows, err := h.ClientRows.ClientsOf(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.Counts[r.State]++
			out.Items = append(out.Items, webhooks.ClientOf(r))
		}
	}
	return c.JSON(http.StatusOK, out)
}
