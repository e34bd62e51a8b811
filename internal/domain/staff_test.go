package domain

import "testing"

func TestRoleAtLeast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role, min Role
		valid     bool
		atLeast   bool
	}{
		{RoleViewer, RoleViewer, true, true},
		{RoleViewer, RoleOperator, true, false},
		{RoleOperator, RoleViewer, true, true},
		{RoleOperator, RoleAdmin, true, false},
		{RoleAdmin, RoleOperator, true, true},
		{RoleAdmin, RoleAdmin, true, true},
		{"root", RoleViewer, false, false},
		{"", RoleViewer, false, false},
		{"Admin", RoleViewer, false, false},
	}
	for _, tt := range tests {
		if got := tt.role.Valid(); got != tt.valid {
			t.Errorf("%q.Valid() = %v, want %v", tt.role, got, tt.valid)
		}
		if got := tt.role.AtLeast(tt.min); got != tt.atLeast {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tt.role, tt.min, got, tt.atLeast)
		}
	}
}
