package onboarding

import (
	"context"
	"slices"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
)

// SystemUsers lists the system users Altinn has for the system, deleted
// ones included, for the dashboard's system-users page. Like every Altinn
// call it is measured by the Altinn client's transport; it belongs to no
// onboarding, so it is on no timeline.
func (s *Service) SystemUsers(ctx context.Context, systemID string) ([]altinn.SystemUser, error) {
	return s.Altinn.ListSystemUsers(ctx, systemID)
}

// FindSystemUser reads the system user with id from Altinn, looking through
// the systems of every configured product; nil when Altinn does not list it
// (deleted, or not one of ours), so what an import stores is what Altinn
// says now.
func (s *Service) FindSystemUser(ctx context.Context, id string) (*altinn.SystemUser, error) {
	for _, systemID := range SystemIDs(s.Products) {
		users, err := s.SystemUsers(ctx, systemID)
		if err != nil {
			return nil, err
		}
		for _, su := range users {
			if strings.EqualFold(su.ID, id) && !su.IsDeleted && su.SystemID == systemID {
				return &su, nil
			}
		}
	}
	return nil, nil
}

// SystemIDs are the products' system ids, each once, in the products' order.
func SystemIDs(ps []config.Product) []string {
	var ids []string
	for _, p := range ps {
		if !slices.Contains(ids, p.SystemID) {
			ids = append(ids, p.SystemID)
		}
	}
	return ids
}
