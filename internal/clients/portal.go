package clients

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// Portal notices clients added or removed in Altinn's portal, without the
// person (clientdelegation.md §6): a Maskinporten system-user token for the
// agent system user's owner (the firm), with scope
// altinn:accessmanagement/authorizedparties, exchanged for an Altinn token
// (systemuser-token.md §6), then authorizedparties, which lists the parties
// the system user may act for: its delegated clients. What differs from the
// onboarding's rows is recorded as Service.Note does (timeline events and
// client.delegated / client.removed webhooks, once). The reconciler calls
// Check at its periodic look at a connected agent onboarding.
type Portal struct {
	// S records the changes (its DB and Events).
	S      *Service
	Tokens PortalTokens
	Altinn PortalAltinn
}

// PortalTokens gets system-user tokens (internal/maskinporten).
type PortalTokens interface {
	SystemUserToken(ctx context.Context, su maskinporten.SystemUser, scopes ...string) (*maskinporten.Result, error)
}

// PortalAltinn is the part of the Altinn client the look uses.
type PortalAltinn interface {
	ExchangeMaskinporten(ctx context.Context, maskinportenToken string) (altinn.PersonToken, error)
	AuthorizedParties(ctx context.Context, t altinn.PersonToken) ([]altinn.AuthorizedParty, error)
}

// Check compares what Altinn lists for o's agent system user with o's rows
// and records the differences: a client Altinn lists that the rows do not
// have as delegated becomes delegated (changed_by altinn), a delegated row
// Altinn no longer lists becomes removed. Clients a try is under way for
// (adding, removing) are left to their job. It returns how many changed;
// an onboarding that is not a connected agent one is left alone. The
// tokens are dropped at once, never logged or stored.
func (p *Portal) Check(ctx context.Context, o *domain.Onboarding, actor string) (int, error) {
	if !Can(o) || p == nil || p.S == nil || p.Tokens == nil || p.Altinn == nil {
		return 0, nil
	}
	mp, err := p.Tokens.SystemUserToken(ctx, maskinporten.SystemUser{OrgNo: o.OrgNo, ExternalRef: o.ExternalRef},
		altinn.ScopeAuthorizedParties)
	if err != nil {
		return 0, fmt.Errorf("clients: portal look: system-user token: %w", err)
	}
	tok, err := p.Altinn.ExchangeMaskinporten(ctx, mp.AccessToken)
	if err != nil {
		return 0, fmt.Errorf("clients: portal look: exchange: %w", err)
	}
	parties, err := p.Altinn.AuthorizedParties(ctx, tok)
	if err != nil {
		return 0, fmt.Errorf("clients: portal look: authorizedparties: %w", err)
	}
	listed := map[string]altinn.AuthorizedParty{}
	for _, pt := range parties {
		id := strings.ToLower(strings.TrimSpace(pt.PartyUUID))
		// The firm itself, a person, a deleted party or one without a
		// usable id is not a client row.
		if pt.IsDeleted || pt.OrgNo == o.OrgNo || !db.IsUUID(id) || !isOrgNo(pt.OrgNo) {
			continue
		}
		listed[id] = pt
	}
	rows, err := p.S.DB.ClientsOf(ctx, o.ID)
	if err != nil {
		return 0, err
	}
	known := map[string]db.Client{}
	for _, r := range rows {
		known[strings.ToLower(r.ClientID)] = r
	}
	var delegated, gone []db.ClientRef
	for id, pt := range listed {
		if r, ok := known[id]; ok && r.State != domain.ClientRemoved && r.State != domain.ClientFailed {
			continue // delegated already, or a try is under way
		}
		delegated = append(delegated, db.ClientRef{ID: id, OrgNo: pt.OrgNo, OrgName: pt.Name})
	}
	for id, r := range known {
		if _, ok := listed[id]; !ok && r.State == domain.ClientDelegated {
			gone = append(gone, db.ClientRef{ID: r.ClientID, OrgNo: r.OrgNo, OrgName: r.OrgName})
		}
	}
	byOrg := func(a, b db.ClientRef) int { return strings.Compare(a.OrgNo+a.ID, b.OrgNo+b.ID) }
	slices.SortFunc(delegated, byOrg)
	slices.SortFunc(gone, byOrg)
	return p.S.Note(ctx, o, domain.CauseReconciler, actor, delegated, gone)
}

func isOrgNo(s string) bool {
	return len(s) == 9 && strings.Trim(s, "0123456789") == ""
}
