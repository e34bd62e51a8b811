package domain

import (
	"strings"
	"time"
)

// ChangeStatus is where a change request is in its life.
type ChangeStatus string

// Change request statuses.
const (
	ChangeRequesting ChangeStatus = "requesting" // stored; Altinn not reached, or its answer was lost
	ChangePending    ChangeStatus = "pending"    // waiting for the customer at the confirm URL
	ChangeAccepted   ChangeStatus = "accepted"   // the customer approved: the grants moved
	ChangeRejected   ChangeStatus = "rejected"   // the customer rejected (or Altinn timed it out)
	ChangeNoChange   ChangeStatus = "no_change"  // Altinn said NoChangeNeeded: nothing to approve
	ChangeFailed     ChangeStatus = "failed"     // Altinn refused it, or it disappeared there
	ChangeCancelled  ChangeStatus = "cancelled"  // deleted at Altinn by us
)

// ChangeRequest is one change request (endringsforespørsel) of a connected
// onboarding's system user. Its ID is the correlation-id sent to Altinn.
type ChangeRequest struct {
	ID               string       `db:"id"`
	OnboardingID     string       `db:"onboarding_id"`
	Ref              string       `db:"ref"`
	SystemUserID     string       `db:"system_user_id"`
	RequiredRights   []string     `db:"required_rights"`
	UnwantedRights   []string     `db:"unwanted_rights"`
	RequiredPackages []string     `db:"required_packages"`
	UnwantedPackages []string     `db:"unwanted_packages"`
	Status           ChangeStatus `db:"status"`
	ConfirmURL       *string      `db:"confirm_url"`
	ErrorCode        *string      `db:"error_code"`
	ErrorMessage     *string      `db:"error_message"`
	Cause            Cause        `db:"cause"`
	Actor            string       `db:"actor"`
	CreatedAt        time.Time    `db:"created_at"`
	UpdatedAt        time.Time    `db:"updated_at"`
	CheckedAt        *time.Time   `db:"checked_at"`
	Version          int          `db:"version"`
}

// Live reports whether the change request can still move by itself or by a
// retry: requesting or pending. An onboarding has at most one live one.
func (c *ChangeRequest) Live() bool {
	return c.Status == ChangeRequesting || c.Status == ChangePending
}

// Empty reports whether the change request asks for nothing.
func (c *ChangeRequest) Empty() bool {
	return len(c.RequiredRights)+len(c.UnwantedRights)+len(c.RequiredPackages)+len(c.UnwantedPackages) == 0
}

// Summary is the change in one line for the timeline and logs, such as
// "+rights a; -packages b".
func (c *ChangeRequest) Summary() string {
	var parts []string
	add := func(sign, what string, l []string) {
		if len(l) > 0 {
			parts = append(parts, sign+what+" "+strings.Join(l, ", "))
		}
	}
	add("+", "rights", c.RequiredRights)
	add("+", "packages", c.RequiredPackages)
	add("-", "rights", c.UnwantedRights)
	add("-", "packages", c.UnwantedPackages)
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, "; ")
}
