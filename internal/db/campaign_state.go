package db

import (
	"context"
	"fmt"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// CampaignReach is what became of a campaign's customers since it started,
// from their timelines: how many were reminded by email (and how many
// reminders went out), and how many connected (in a change campaign: how
// many approved the change).
type CampaignReach struct {
	Reminded  int `json:"reminded"`  // customers sent at least one reminder
	Reminders int `json:"reminders"` // reminders sent in all
	Connected int `json:"connected"` // customers connected (or changes approved) since the start
}

// CampaignReach counts, for the onboardings of c's rows, the reminders sent
// (EventMail events of MailReminder that were sent or kept in the outbox)
// and the customers who connected (a status event to connected; in a
// change campaign a change event to accepted) since c started. A draft has
// reached nobody.
func (d *DB) CampaignReach(ctx context.Context, c *Campaign) (CampaignReach, error) {
	var r CampaignReach
	if c.StartedAt == nil {
		return r, nil
	}
	// A status change is a status event, or a call's row that carries it
	// (db.carriesStatus).
	reached, to := []string{domain.EventStatus, domain.EventAltinnCall}, string(domain.StatusConnected)
	if c.Kind == CampaignChange {
		reached, to = []string{domain.EventChange}, string(domain.ChangeAccepted)
	}
	err := d.Pool.QueryRow(ctx, `
		SELECT count(DISTINCT e.onboarding_id) FILTER (WHERE e.kind = $3),
		       count(*) FILTER (WHERE e.kind = $3),
		       count(DISTINCT e.onboarding_id) FILTER (WHERE e.kind = ANY($6) AND e.to_status = $7)
		FROM campaign_items i JOIN onboarding_events e ON e.onboarding_id = i.onboarding_id
		WHERE i.campaign_id = $1 AND i.state <> 'invalid' AND e.at >= $2
		  AND ((e.kind = $3 AND e.operation = $4 AND e.to_status = ANY($5))
		       OR (e.kind = ANY($6) AND e.to_status = $7))`,
		c.ID, *c.StartedAt, domain.EventMail, domain.MailReminder, []string{domain.MailSent, domain.MailOutbox},
		reached, to).Scan(&r.Reminded, &r.Reminders, &r.Connected)
	if err != nil {
		return r, fmt.Errorf("db: campaign reach: %w", err)
	}
	return r, nil
}

// CampaignStatusCounts counts, for each campaign id, its rows' onboardings
// (in a change campaign: change requests) by their status now, for the
// list's column of what the customers did.
func (d *DB) CampaignStatusCounts(ctx context.Context, ids []string) (map[string]map[string]int, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT i.campaign_id::text, coalesce(r.status, o.status), count(*)
		FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		LEFT JOIN onboardings o ON c.kind = 'onboard' AND o.id = i.onboarding_id
		LEFT JOIN change_requests r ON c.kind = 'change' AND r.id = i.change_request_id
		WHERE i.campaign_id = ANY($1::uuid[]) AND i.state <> 'invalid' AND coalesce(r.status, o.status) IS NOT NULL
		GROUP BY 1, 2`, ids)
	if err != nil {
		return nil, fmt.Errorf("db: campaign status counts: %w", err)
	}
	defer rows.Close()
	m := make(map[string]map[string]int, len(ids))
	for rows.Next() {
		var id, status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return nil, fmt.Errorf("db: campaign status counts: %w", err)
		}
		if m[id] == nil {
			m[id] = map[string]int{}
		}
		m[id][status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: campaign status counts: %w", err)
	}
	return m, nil
}
