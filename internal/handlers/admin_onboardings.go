package handlers

import (
	"github.com/labstack/echo/v4"
)

// DashboardStore is the part of the database the dashboard's onboarding
// pages read and write.
type DashboardStore interface{}

// onboardingRoutes wires the onboarding list, detail, actions and export
// under /admin (the group already requires a viewer).
func (h *Handler) onboardingRoutes(g *echo.Group) {}
