package domain

import (
	"errors"
	"slices"
)

// The rulebook: the one table of an onboarding's life. It says which
// statuses each status can move to and which actions each status allows;
// the service checks its moves against it and refuses what it does not
// allow, and the handlers, the API and the views ask it what to offer
// instead of deciding. A rule that needs more than the status (a change
// needs a standard system user whose id is known) is on Onboarding.Check.

// Action is something that can be done to an onboarding: by staff on the
// dashboard, by the customer on the status page, or by the service for
// either of them.
type Action string

// Actions on an onboarding.
const (
	// ActionRefresh re-reads the onboarding from Altinn: staff's Refresh,
	// the status page, the reconciler.
	ActionRefresh Action = "refresh"
	// ActionVerify confirms the system user with byquery (staff's Verify).
	ActionVerify Action = "verify"
	// ActionRenew deletes the old request at Altinn and makes a new one.
	ActionRenew Action = "renew"
	// ActionCancel deletes the request at Altinn and closes the onboarding,
	// freeing its key.
	ActionCancel Action = "cancel"
	// ActionRetry is the customer's "try again" on the status page: a
	// request that never reached Altinn is sent again, one that ended is
	// renewed.
	ActionRetry Action = "retry"
	// ActionConfirm is sending the customer to Altinn's confirm page to
	// approve the request: the wizard's redirect, the status page's
	// "continue", the dashboard's confirm link, the API's confirm_url.
	ActionConfirm Action = "confirm"
	// ActionChange asks Altinn for a change request that brings the system
	// user's rights and packages to what its product asks for now.
	ActionChange Action = "change"
	// ActionTestConnection asks Maskinporten for a system-user token for
	// the customer (usability).
	ActionTestConnection Action = "testconnection"
)

// AllActions lists every action, in the order pages offer them.
var AllActions = []Action{
	ActionRefresh, ActionVerify, ActionRenew, ActionCancel, ActionRetry, ActionConfirm, ActionChange, ActionTestConnection,
}

// Reason says why an action is refused.
type Reason string

// Reasons for a refusal.
const (
	// ReasonStatus: the onboarding is not where the action needs it (for a
	// change: connected, with its system user's id known).
	ReasonStatus Reason = "status"
	// ReasonSystemUser: Altinn has approved, so a system user exists (or is
	// about to); only the customer can delete it, in Altinn.
	ReasonSystemUser Reason = "system_user"
	// ReasonDone: it has been done already.
	ReasonDone Reason = "done"
	// ReasonAgent: an agent (client) system user, which Altinn cannot
	// change; a new system user is needed instead.
	ReasonAgent Reason = "agent"
)

// rule is one status's row of the rulebook.
type rule struct {
	// moves are the statuses it can move to (staying is always allowed).
	moves []Status
	// allows are the actions it allows.
	allows []Action
	// refusals say why an action it does not allow is refused, where that
	// is more than ReasonStatus.
	refusals map[Action]Reason
}

// rulebook is the status machine. A status that has an Altinn request can
// become whatever a re-read of that request shows (pending, accepted,
// connected, rejected, expired), and one still on its way fails when its
// request is gone (but accepted, which byquery settles). One that ended
// can be renewed (requesting) or cancelled, except when a system user
// exists; its request being gone too changes nothing: what ended it stays
// its cause.
var rulebook = map[Status]rule{
	// A row from before requests were stored first: it is sent on submit,
	// and otherwise only read (when it has a request) or cancelled.
	StatusStarted: {
		moves: []Status{StatusRequesting, StatusPending, StatusAccepted, StatusConnected, StatusRejected,
			StatusExpired, StatusFailed, StatusCancelled},
		allows: []Action{ActionRefresh, ActionCancel},
	},
	// Stored, not (yet) at Altinn as far as we know: sent again (after a
	// lookup), which gives what Altinn answers, or failed when it says no;
	// Altinn's AUTH-00004 (a system user exists) connects it.
	StatusRequesting: {
		moves: []Status{StatusPending, StatusAccepted, StatusConnected, StatusRejected, StatusExpired,
			StatusFailed, StatusCancelled},
		allows: []Action{ActionRefresh, ActionCancel, ActionRetry},
	},
	// Waiting for the customer: whatever they decide, or Altinn's timeout;
	// failed when the request disappeared at Altinn.
	StatusPending: {
		moves:  []Status{StatusAccepted, StatusConnected, StatusRejected, StatusExpired, StatusFailed, StatusCancelled},
		allows: []Action{ActionRefresh, ActionCancel, ActionConfirm},
	},
	// Altinn says approved; byquery has not found the system user yet. A
	// re-read follows Altinn (it may even read the request as new again);
	// a request gone at Altinn leaves it to byquery, so never failed.
	StatusAccepted: {
		moves:    []Status{StatusPending, StatusConnected, StatusRejected, StatusExpired},
		allows:   []Action{ActionRefresh, ActionVerify},
		refusals: map[Action]Reason{ActionCancel: ReasonSystemUser},
	},
	// Verified: only the customer deleting the system user moves it on.
	StatusConnected: {
		moves:    []Status{StatusRevoked},
		allows:   []Action{ActionRefresh, ActionVerify, ActionChange, ActionTestConnection},
		refusals: map[Action]Reason{ActionCancel: ReasonSystemUser},
	},
	// The endings below are renewed (requesting) or cancelled; a re-read of
	// the old request still follows Altinn.
	StatusRejected: {
		moves: []Status{StatusRequesting, StatusPending, StatusAccepted, StatusConnected, StatusExpired,
			StatusCancelled},
		allows: []Action{ActionRefresh, ActionRenew, ActionCancel, ActionRetry},
	},
	StatusExpired: {
		moves: []Status{StatusRequesting, StatusPending, StatusAccepted, StatusConnected, StatusRejected,
			StatusCancelled},
		allows: []Action{ActionRefresh, ActionRenew, ActionCancel, ActionRetry},
	},
	StatusFailed: {
		moves: []Status{StatusRequesting, StatusPending, StatusAccepted, StatusConnected, StatusRejected,
			StatusExpired, StatusCancelled},
		allows: []Action{ActionRefresh, ActionRenew, ActionCancel, ActionRetry},
	},
	// The system user was deleted in Altinn, and its request with it.
	StatusRevoked: {
		moves: []Status{StatusRequesting, StatusPending, StatusAccepted, StatusConnected, StatusRejected,
			StatusExpired, StatusCancelled},
		allows: []Action{ActionRefresh, ActionRenew, ActionCancel, ActionRetry},
	},
	// Closed by staff, its request deleted at Altinn: final. Its key is
	// free, so a new onboarding takes over.
	StatusCancelled: {
		refusals: map[Action]Reason{ActionCancel: ReasonDone},
	},
}

// Allows reports whether an onboarding in status s may have action a, by
// its status alone.
func Allows(s Status, a Action) bool { return slices.Contains(rulebook[s].allows, a) }

// Actions lists the actions status s allows, in the order of AllActions.
func Actions(s Status) []Action {
	var out []Action
	for _, a := range AllActions {
		if Allows(s, a) {
			out = append(out, a)
		}
	}
	return out
}

// CanMove reports whether an onboarding may move from status from to
// status to. Staying where it is is always allowed, for a known status.
func CanMove(from, to Status) bool {
	r, ok := rulebook[from]
	if !ok {
		return false
	}
	return from == to || slices.Contains(r.moves, to)
}

// Moves lists the statuses an onboarding in status s can move to, in the
// order of Statuses.
func Moves(s Status) []Status {
	var out []Status
	for _, to := range Statuses {
		if to != s && CanMove(s, to) {
			out = append(out, to)
		}
	}
	return out
}

// ErrNotAllowed is matched (errors.Is) by every refusal of the rulebook.
var ErrNotAllowed = errors.New("domain: not allowed")

// NotAllowedError is the rulebook's refusal of an action: what was asked,
// in which status, and why. errors.Is matches it against ErrNotAllowed, and
// against another NotAllowedError whose set fields (Action, Status, Reason)
// are equal, so a refusal kept as a sentinel (with only the action, say)
// matches every refusal of that action.
type NotAllowedError struct {
	Action Action
	Status Status
	Reason Reason
}

func (e *NotAllowedError) Error() string {
	s := "domain: " + string(e.Action) + " is not allowed"
	if e.Status != "" {
		s += " for a " + string(e.Status) + " onboarding"
	}
	switch e.Reason {
	case ReasonSystemUser:
		s += ": it has a system user, which only the customer can delete in Altinn"
	case ReasonDone:
		s += ": it has been done already"
	case ReasonAgent:
		s += ": an agent (client) system user cannot be changed; a new system user is needed"
	}
	return s
}

// Is reports whether target is ErrNotAllowed or a NotAllowedError that e
// matches field by field, an empty field matching any.
func (e *NotAllowedError) Is(target error) bool {
	if target == ErrNotAllowed {
		return true
	}
	t, ok := target.(*NotAllowedError)
	return ok && (t.Action == "" || t.Action == e.Action) && (t.Status == "" || t.Status == e.Status) &&
		(t.Reason == "" || t.Reason == e.Reason)
}

// Check returns nil when status s allows action a, or the rulebook's
// refusal, a *NotAllowedError saying why.
func Check(s Status, a Action) error {
	if Allows(s, a) {
		return nil
	}
	reason, ok := rulebook[s].refusals[a]
	if !ok {
		reason = ReasonStatus
	}
	return &NotAllowedError{Action: a, Status: s, Reason: reason}
}

// Check returns nil when o may have action a now, or the rulebook's
// refusal. Besides o's status, a change needs a standard system user (an
// agent one cannot be changed, whatever its status) whose id is known.
func (o *Onboarding) Check(a Action) error {
	if a == ActionChange && o.Kind == KindAgent {
		return &NotAllowedError{Action: a, Status: o.Status, Reason: ReasonAgent}
	}
	if err := Check(o.Status, a); err != nil {
		return err
	}
	if a == ActionChange && o.SystemUserID == nil {
		return &NotAllowedError{Action: a, Status: o.Status, Reason: ReasonStatus}
	}
	return nil
}

// Allows reports whether o may have action a now (Check gives nil).
func (o *Onboarding) Allows(a Action) bool { return o.Check(a) == nil }

// HasUsability reports whether usability (a system-user token from
// Maskinporten) means anything for an onboarding in status s: while it can
// be tested, that is while it is connected.
func HasUsability(s Status) bool { return Allows(s, ActionTestConnection) }

// TransitionError is a move the rulebook does not have: a bug in whoever
// tried it, refused before it is stored.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return "domain: an onboarding cannot move from " + string(e.From) + " to " + string(e.To)
}

// CheckMove returns nil when an onboarding may move from status from to
// status to, or a *TransitionError.
func CheckMove(from, to Status) error {
	if CanMove(from, to) {
		return nil
	}
	return &TransitionError{From: from, To: to}
}
