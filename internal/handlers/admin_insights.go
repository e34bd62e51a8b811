package handlers

import (
	"github.com/labstack/echo/v4"
)

// InsightStore is the part of the database the funnel and system-user pages read.
type InsightStore interface{}

// insightRoutes wires the funnel and the system users page under /admin.
func (h *Handler) insightRoutes(g *echo.Group) {}
