package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// The types of the events sent when a client of an agent onboarding
// becomes delegated to its system user, or no longer is (issue 14): by a
// person through the service, or in Altinn's portal.
const (
	TypeClientDelegated = "client.delegated"
	TypeClientRemoved   = "client.removed"
)

// ClientEvent is the JSON body of a client event.
type ClientEvent struct {
	ID      string     `json:"id"`
	Type    string     `json:"type"`    // TypeClientDelegated or TypeClientRemoved
	Created time.Time  `json:"created"` // when the client changed
	Data    ClientData `json:"data"`
}

// ClientData is the client after the change, with the agent onboarding it
// belongs to (the accounting firm's).
type ClientData struct {
	OnboardingID string  `json:"onboarding_id"`
	Ref          string  `json:"ref"`
	Product      string  `json:"product"`
	OrgNo        string  `json:"org_no"` // the firm's
	CustomerRef  *string `json:"customer_ref"`
	SystemUserID *string `json:"system_user_id"`
	Client       Client  `json:"client"`
}

// Client is one client as the vendor sees it (the API's too).
type Client struct {
	ID     string             `json:"id"` // the client's party UUID at Altinn
	OrgNo  string             `json:"org_no"`
	Name   string             `json:"name"`
	State  domain.ClientState `json:"state"`
	Reason *string            `json:"reason"` // domain.ClientReason; null for none
	// ChangedBy is "person" (through the service) or "altinn" (in
	// Altinn's portal); never who the person is.
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
}

// ClientOf is c as the vendor sees it.
func ClientOf(c db.Client) Client {
	out := Client{ID: c.ClientID, OrgNo: c.OrgNo, Name: c.OrgName, State: c.State,
		ChangedBy: domain.ClientChangedBy(c.ChangedBy), ChangedAt: c.ChangedAt.UTC().Truncate(time.Microsecond)}
	if c.Reason != domain.ReasonNone {
		r := string(c.Reason)
		out.Reason = &r
	}
	return out
}

// ClientEventType is the event a client now in state tells of: "" for a
// state that is not news to the vendor (in flight, failed).
func ClientEventType(state domain.ClientState) string {
	switch state {
	case domain.ClientDelegated:
		return TypeClientDelegated
	case domain.ClientRemoved:
		return TypeClientRemoved
	}
	return ""
}

// AddClientEvent stores the event of client c of agent onboarding o having
// become delegated or removed, and enqueues its deliveries, in tx: the
// transaction of the change (so once per change). Any other state sends
// nothing.
func (b *Outbox) AddClientEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, c db.Client) error {
	typ := ClientEventType(c.State)
	if len(b.URLs) == 0 || typ == "" {
		return nil
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	cl := ClientOf(c)
	ev := ClientEvent{ID: id, Type: typ, Created: cl.ChangedAt, Data: ClientData{
		OnboardingID: o.ID, Ref: o.Ref, Product: o.Product, OrgNo: o.OrgNo, CustomerRef: o.CustomerRef,
		SystemUserID: o.SystemUserID, Client: cl}}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhooks: event: %w", err)
	}
	return b.store(ctx, tx, db.WebhookEvent{ID: ev.ID, OnboardingID: o.ID, Type: ev.Type,
		Payload: payload, CreatedAt: ev.Created})
}
