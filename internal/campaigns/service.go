package campaigns

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Inserter enqueues River jobs (the River client).
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service is what the dashboard does with campaigns.
type Service struct {
	DB       *db.DB
	Jobs     Inserter
	Products []config.Product
	// Concurrency and Rate are a new campaign's defaults.
	Concurrency int
	Rate        float64
	// Lacking lists the connected onboardings of a product whose system
	// users lack what the product now asks for (nil: change campaigns are
	// not offered).
	Lacking func(ctx context.Context, product config.Product) ([]string, error)
}

// Errors the campaign form shows in words.
var (
	ErrName        = errors.New("campaigns: a name of 1 to 200 characters is needed")
	ErrProduct     = errors.New("campaigns: unknown product")
	ErrLimits      = errors.New("campaigns: concurrency must be 1 to 200 and the rate 0.01 to 10000 a second")
	ErrAgentChange = errors.New("campaigns: client systems cannot be changed; their customers need a new system user")
	ErrNoChange    = errors.New("campaigns: no connected customer lacks what the product asks for")
	// ErrState is returned for an action the campaign's status does not
	// allow (starting one that runs, pausing a finished one).
	ErrState = errors.New("campaigns: not possible in the campaign's status")
)

// NewCampaign is the campaign form.
type NewCampaign struct {
	Name        string
	Product     string
	Concurrency int
	Rate        float64
	Data        []byte // the uploaded file or the pasted list
	CreatedBy   string
	// By is the staff member who makes it, from where, with the audit
	// action: the entry is written with the campaign, in its transaction.
	// Nil: not audited.
	By *db.AuditEntry
}

func (s *Service) product(id string) (config.Product, bool) {
	for _, p := range s.Products {
		if p.ID == id {
			return p, true
		}
	}
	return config.Product{}, false
}

func checkLimits(n *NewCampaign) error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 200 || strings.ContainsFunc(n.Name, unicode.IsControl) {
		return ErrName
	}
	// At least one call per 100 s: a slower one (the retest's 1e-12) would
	// hold its workers for ages and never finish.
	if n.Concurrency < 1 || n.Concurrency > 200 || !(n.Rate >= 0.01 && n.Rate <= 10000) {
		return ErrLimits
	}
	return nil
}

// Create validates every row and stores the campaign as a draft with its
// report; nothing is sent until Start.
func (s *Service) Create(ctx context.Context, n NewCampaign) (*db.Campaign, error) {
	if err := checkLimits(&n); err != nil {
		return nil, err
	}
	if _, ok := s.product(n.Product); !ok {
		return nil, ErrProduct
	}
	items, err := Parse(n.Data)
	if err != nil {
		return nil, err
	}
	orgs := make([]string, 0, len(items))
	for _, it := range items {
		if it.Problem == "" {
			orgs = append(orgs, it.OrgNo)
		}
	}
	connected, err := s.DB.ConnectedOrgs(ctx, n.Product, orgs)
	if err != nil {
		return nil, err
	}
	Validate(items, connected)
	return s.create(ctx, db.Campaign{Kind: db.CampaignOnboard, Product: n.Product, Name: n.Name,
		Concurrency: n.Concurrency, Rate: n.Rate, CreatedBy: n.CreatedBy}, items, n.By)
}

// create stores the campaign and, with by, its audit entry, in one
// transaction.
func (s *Service) create(ctx context.Context, c db.Campaign, items []db.NewCampaignItem, by *db.AuditEntry) (*db.Campaign, error) {
	var out *db.Campaign
	err := s.DB.Tx(ctx, func(tx pgx.Tx) (err error) {
		if out, err = db.CreateCampaignTx(ctx, tx, c, items); err != nil {
			return err
		}
		return audit(ctx, tx, by, out, map[string]any{"product": out.Product, "kind": out.Kind})
	})
	return out, err
}

// audit writes by's entry for campaign c through q, the transaction of what
// it did, with detail and the campaign's id and name; nothing for a nil by.
func audit(ctx context.Context, q db.Querier, by *db.AuditEntry, c *db.Campaign, detail map[string]any) error {
	if by == nil {
		return nil
	}
	e := *by
	e.Detail = maps.Clone(by.Detail)
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	maps.Copy(e.Detail, detail)
	e.Detail["campaign"], e.Detail["name"] = c.ID, c.Name
	return db.AddAudit(ctx, q, e)
}

// CreateChange makes a draft change-request campaign for every connected
// customer of the product whose system user lacks what it now asks for. by,
// when set, is the staff member who makes it, from where, with the audit
// action: the entry is written with the campaign, in its transaction.
func (s *Service) CreateChange(ctx context.Context, productID, createdBy, name string, by *db.AuditEntry) (*db.Campaign, error) {
	p, ok := s.product(productID)
	if !ok {
		return nil, ErrProduct
	}
	if p.Kind == domain.KindAgent {
		return nil, ErrAgentChange
	}
	if s.Lacking == nil {
		return nil, ErrNoChange
	}
	ids, err := s.Lacking(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, ErrNoChange
	}
	if len(ids) > MaxRows {
		ids = ids[:MaxRows] // the rest are still lacking afterwards: run another
	}
	items, err := s.DB.OnboardingOrgs(ctx, ids)
	if err != nil {
		return nil, err
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	n := NewCampaign{Name: name, Concurrency: s.Concurrency, Rate: s.Rate}
	if err := checkLimits(&n); err != nil {
		return nil, err
	}
	return s.create(ctx, db.Campaign{Kind: db.CampaignChange, Product: p.ID, Name: n.Name,
		Concurrency: n.Concurrency, Rate: n.Rate, CreatedBy: createdBy}, items, by)
}

// Campaign actions.
const (
	ActionStart  = "start"
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionCancel = "cancel"
	ActionRetry  = "retry" // queue the failed rows again
)

// Actions lists what can be done with a campaign in its status now.
func Actions(c *db.Campaign, failed int) []string {
	switch c.Status {
	case db.CampaignDraft:
		return []string{ActionStart, ActionCancel}
	case db.CampaignRunning:
		return []string{ActionPause, ActionCancel}
	case db.CampaignPaused:
		a := []string{ActionResume, ActionCancel}
		if failed > 0 {
			a = append(a, ActionRetry)
		}
		return a
	case db.CampaignDone:
		if failed > 0 {
			return []string{ActionRetry}
		}
	}
	return nil
}

// Act runs one action and, when the campaign is to run, enqueues its run.
func (s *Service) Act(ctx context.Context, id, action string) (*db.Campaign, error) {
	return s.act(ctx, id, action, nil)
}

// StaffAct is Act for a staff member: by is who, from where, with the audit
// action (and the detail known before, such as the status the page showed);
// the entry, with the status the action left, is written in the action's
// transaction.
func (s *Service) StaffAct(ctx context.Context, id, action string, by db.AuditEntry) (*db.Campaign, error) {
	return s.act(ctx, id, action, &by)
}

func (s *Service) act(ctx context.Context, id, action string, by *db.AuditEntry) (*db.Campaign, error) {
	var c *db.Campaign
	err := s.DB.InTx(ctx, func(q db.Querier) (err error) {
		switch action {
		case ActionStart:
			c, err = db.SetCampaignStatusTx(ctx, q, id, []string{db.CampaignDraft}, db.CampaignRunning)
		case ActionPause:
			c, err = db.SetCampaignStatusTx(ctx, q, id, []string{db.CampaignRunning}, db.CampaignPaused)
		case ActionResume:
			c, err = db.SetCampaignStatusTx(ctx, q, id, []string{db.CampaignPaused}, db.CampaignRunning)
		case ActionCancel:
			c, err = db.SetCampaignStatusTx(ctx, q, id, []string{db.CampaignDraft, db.CampaignRunning, db.CampaignPaused}, db.CampaignCancelled)
		case ActionRetry:
			if _, err = db.RetryFailedItemsTx(ctx, q, id); err == nil {
				c, err = db.CampaignByIDTx(ctx, q, id)
			}
		default:
			return ErrState
		}
		if err != nil {
			return err
		}
		return audit(ctx, q, by, c, map[string]any{"to": c.Status})
	})
	if errors.Is(err, ErrState) {
		return nil, err
	}
	if errors.Is(err, db.ErrConflict) {
		return nil, ErrState
	}
	if err != nil {
		return nil, err
	}
	if c.Status == db.CampaignRunning {
		if err := s.Enqueue(ctx, c.ID); err != nil {
			// The periodic kick picks it up; say so, but the action stands.
			return c, fmt.Errorf("campaigns: enqueue run (the next kick will): %w", err)
		}
	}
	return c, nil
}

// Enqueue asks for a run of the campaign now. A second run finds the first
// holding the campaign and ends at once, so no uniqueness is needed here.
func (s *Service) Enqueue(ctx context.Context, id string) error {
	if s.Jobs == nil {
		return errors.New("campaigns: no job queue")
	}
	_, err := s.Jobs.Insert(ctx, RunArgs{CampaignID: id}, nil)
	return err
}
