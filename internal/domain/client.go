package domain

import (
	"time"
)

// A client is one of an accountant firm's clients (an organisation the firm
// works for), delegated by a person at the firm to the firm's agent system
// user so the vendor's system may act for that client
// (../shared/altinn/clientdelegation.md). These are the rules of one
// client's delegation; internal/db stores them, the client jobs move them.

// ClientState is where one client of an agent onboarding stands.
type ClientState string

// Client states.
const (
	ClientAdding    ClientState = "adding"    // asked for; not yet done at Altinn
	ClientDelegated ClientState = "delegated" // Altinn lists it among the system user's clients
	ClientRemoving  ClientState = "removing"  // removal asked for; not yet done at Altinn
	ClientRemoved   ClientState = "removed"   // no longer delegated (by us, or in Altinn's portal)
	ClientFailed    ClientState = "failed"    // Altinn refused it for good: ClientReason says why
)

// Settled reports whether the client waits for nothing.
func (s ClientState) Settled() bool {
	return s == ClientDelegated || s == ClientRemoved || s == ClientFailed
}

// ClientReason is why a client could not be delegated or removed, in a
// word the pages turn into a sentence.
type ClientReason string

// Client reasons.
const (
	ReasonNone ClientReason = ""
	// ReasonNotClient: Altinn does not list it among the firm's clients
	// (AUTH-00079): the client has not made the firm its accountant, or
	// no longer does.
	ReasonNotClient ClientReason = "not_client"
	// ReasonMissingPackages: the client relationship does not give the
	// firm every access package the system user has (AUTH-00080).
	ReasonMissingPackages ClientReason = "missing_packages"
	// ReasonNoPackages: the system user has no access packages
	// (AUTH-00063): the vendor's set-up, not the client.
	ReasonNoPackages ClientReason = "no_packages"
	// ReasonNotAllowed: the person may not manage the firm's clients
	// (403: no klientadministrator or hovedadministrator at the firm).
	ReasonNotAllowed ClientReason = "not_allowed"
	// ReasonLoginExpired: the person's login ran out before the client's
	// turn; a new login carries on.
	ReasonLoginExpired ClientReason = "login_expired"
	// ReasonSystemUserGone: the agent system user is no longer there
	// (AUTH.VLD-00014/00015).
	ReasonSystemUserGone ClientReason = "system_user_gone"
	// ReasonNotDelegated: a removal of a client that was not delegated
	// (AUTH-00038): nothing to do, and the client counts as removed.
	ReasonNotDelegated ClientReason = "not_delegated"
	// ReasonUnavailable: Altinn did not answer, or answered 5xx or 429:
	// tried again after a while.
	ReasonUnavailable ClientReason = "unavailable"
)

// ClientOutcome is what a client's state becomes after Altinn answered an
// add or a remove with status (0: no answer) and problem code.
type ClientOutcome struct {
	State  ClientState
	Reason ClientReason
	// Retry: try again after ClientBackoff; the state stays as it was.
	Retry bool
	// Wait: the person must log in again before anything more is sent.
	Wait bool
}

// ClientAnswer is the rulebook for Altinn's answers to a client's add
// (remove false) or remove (remove true).
func ClientAnswer(remove bool, status int, code string) ClientOutcome {
	pending, done := ClientAdding, ClientDelegated
	if remove {
		pending, done = ClientRemoving, ClientRemoved
	}
	switch {
	case status >= 200 && status < 300:
		return ClientOutcome{State: done}
	case status == 0 || status == 429 || status >= 500:
		return ClientOutcome{State: pending, Reason: ReasonUnavailable, Retry: true}
	case status == 401:
		return ClientOutcome{State: pending, Reason: ReasonLoginExpired, Wait: true}
	case status == 403:
		return ClientOutcome{State: ClientFailed, Reason: ReasonNotAllowed}
	}
	switch code {
	case "AUTH-00079":
		return ClientOutcome{State: ClientFailed, Reason: ReasonNotClient}
	case "AUTH-00080":
		return ClientOutcome{State: ClientFailed, Reason: ReasonMissingPackages}
	case "AUTH-00063":
		return ClientOutcome{State: ClientFailed, Reason: ReasonNoPackages}
	case "AUTH.VLD-00014", "AUTH.VLD-00015":
		return ClientOutcome{State: ClientFailed, Reason: ReasonSystemUserGone}
	case "AUTH-00038":
		if remove {
			return ClientOutcome{State: ClientRemoved, Reason: ReasonNotDelegated}
		}
	case "AUTH-00043", "AUTH-00044", "AUTH-00045":
		// Access Management behind Altinn refused or failed: Altinn's
		// own trouble, not the client's.
		return ClientOutcome{State: pending, Reason: ReasonUnavailable, Retry: true}
	}
	return ClientOutcome{State: ClientFailed, Reason: ReasonUnavailable}
}

// The client jobs' retry schedule: ClientBackoff(n) after the n-th
// unanswered try (1-based), doubling from clientBackoffBase to
// clientBackoffMax; after MaxClientAttempts tries the client is failed.
const (
	clientBackoffBase = 2 * time.Second
	clientBackoffMax  = 5 * time.Minute
	MaxClientAttempts = 8
)

// ClientBackoff is how long to wait after the attempt-th try failed
// without an answer; a Retry-After from Altinn that is longer wins.
func ClientBackoff(attempt int, retryAfter time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := clientBackoffBase
	for i := 1; i < attempt && d < clientBackoffMax; i++ {
		d *= 2
	}
	d = min(d, clientBackoffMax)
	return max(d, retryAfter)
}
