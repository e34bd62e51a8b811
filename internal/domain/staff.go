package domain

import "slices"

// Role is what a member of the vendor's support staff may do.
type Role string

// Staff roles, lowest first: viewers read, operators act, admins manage staff.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists every role in rank order, lowest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

// RoleRank is a role's place in Roles, or -1 for an unknown role, so
// "at least operator" is RoleRank(r) >= RoleRank(RoleOperator).
func RoleRank(role Role) int { return slices.Index(Roles, role) }

// AtLeast reports whether r ranks at or above min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && RoleRank(r) >= RoleRank(min) }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return RoleRank(r) >= 0 }
