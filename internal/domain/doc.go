// Package domain holds what an onboarding is and the rules of its life: the
// types (Onboarding, Status, Cause, Kind, ChangeRequest, Event, Role) and the
// rulebook (rules.go) that says which transitions exist and which actions
// each status allows. It imports no storage, HTTP or Altinn code: internal/db
// stores these types, internal/onboarding (the service) moves them, and the
// handlers, the API and the views ask the rulebook instead of deciding.
//
// The life these types describe is told in the repository's DESIGN notes:
// an onboarding is stored before Altinn is called (requesting), waits for the
// customer (pending), and ends connected, or rejected, expired, failed,
// cancelled or revoked.
package domain
