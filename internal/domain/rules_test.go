package domain

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The rulebook spelled out, to be checked against DESIGN by reading: what
// each status allows, and where each can move. Each row is one status; the
// columns are in the order of the header comment.

// actionTable: Y allowed; - refused (not in this status); S refused (a
// system user exists: only the customer can delete it); D refused (done
// already).
var actionTable = []struct {
	status Status
	//      refresh verify renew cancel retry confirm change testconnection
	row string
}{
	{StatusStarted /*  */, "Y - - Y - - - -"},
	{StatusRequesting /**/, "Y - - Y Y - - -"},
	{StatusPending /*  */, "Y - - Y - Y - -"},
	{StatusAccepted /* */, "Y Y - S - - - -"},
	{StatusConnected /**/, "Y Y - S - - Y Y"},
	{StatusRejected /* */, "Y - Y Y Y - - -"},
	{StatusExpired /*  */, "Y - Y Y Y - - -"},
	{StatusFailed /*   */, "Y - Y Y Y - - -"},
	{StatusCancelled /**/, "- - - D - - - -"},
	{StatusRevoked /*  */, "Y - Y Y Y - - -"},
}

var actionColumns = []Action{
	ActionRefresh, ActionVerify, ActionRenew, ActionCancel, ActionRetry, ActionConfirm, ActionChange, ActionTestConnection,
}

func TestEveryActionInEveryStatus(t *testing.T) {
	t.Parallel()
	if !slices.Equal(actionColumns, AllActions) {
		t.Fatalf("the table's columns %v are not AllActions %v", actionColumns, AllActions)
	}
	seen := map[Status]bool{}
	for _, tt := range actionTable {
		seen[tt.status] = true
		cells := strings.Fields(tt.row)
		if len(cells) != len(actionColumns) {
			t.Fatalf("%s: %d cells, want %d", tt.status, len(cells), len(actionColumns))
		}
		var allowed []Action
		for i, a := range actionColumns {
			t.Run(string(tt.status)+"/"+string(a), func(t *testing.T) {
				want := map[string]Reason{"-": ReasonStatus, "S": ReasonSystemUser, "D": ReasonDone}
				err := Check(tt.status, a)
				switch cell := cells[i]; cell {
				case "Y":
					allowed = append(allowed, a)
					if !Allows(tt.status, a) || err != nil {
						t.Fatalf("refused (%v), want allowed", err)
					}
				default:
					var na *NotAllowedError
					if Allows(tt.status, a) || !errors.As(err, &na) {
						t.Fatalf("Allows %v, Check %v: want refused", Allows(tt.status, a), err)
					}
					if *na != (NotAllowedError{Action: a, Status: tt.status, Reason: want[cell]}) {
						t.Fatalf("refusal %+v, want reason %q", *na, want[cell])
					}
					if !errors.Is(err, ErrNotAllowed) {
						t.Fatalf("%v does not match ErrNotAllowed", err)
					}
				}
			})
		}
		if got := Actions(tt.status); !slices.Equal(got, allowed) {
			t.Errorf("Actions(%s) = %v, want %v", tt.status, got, allowed)
		}
	}
	for _, s := range Statuses {
		if !seen[s] {
			t.Errorf("status %s has no row in the table", s)
		}
	}
	if Allows("nonsense", ActionRefresh) || Check("nonsense", ActionRefresh) == nil {
		t.Error("an unknown status must allow nothing")
	}
}

// moveTable: from each status (rows) to each (columns, in the order of
// Statuses): Y a transition, - none, . staying.
var moveTable = []struct {
	from Status
	//      started requesting pending accepted connected rejected expired failed cancelled revoked
	row string
}{
	{StatusStarted /*  */, ". Y Y Y Y Y Y Y Y -"},
	{StatusRequesting /**/, "- . Y Y Y Y Y Y Y -"},
	{StatusPending /*  */, "- - . Y Y Y Y Y Y -"},
	{StatusAccepted /* */, "- - Y . Y Y Y - - -"},
	{StatusConnected /**/, "- - - - . - - - - Y"},
	{StatusRejected /* */, "- Y Y Y Y . Y - Y -"},
	{StatusExpired /*  */, "- Y Y Y Y Y . - Y -"},
	{StatusFailed /*   */, "- Y Y Y Y Y Y . Y -"},
	{StatusCancelled /**/, "- - - - - - - - . -"},
	{StatusRevoked /*  */, "- Y Y Y Y Y Y - Y ."},
}

func TestEveryTransition(t *testing.T) {
	t.Parallel()
	seen := map[Status]bool{}
	for _, tt := range moveTable {
		seen[tt.from] = true
		cells := strings.Fields(tt.row)
		if len(cells) != len(Statuses) {
			t.Fatalf("%s: %d cells, want %d", tt.from, len(cells), len(Statuses))
		}
		var moves []Status
		for i, to := range Statuses {
			want := cells[i] != "-"
			if (cells[i] == ".") != (to == tt.from) {
				t.Fatalf("%s: the staying cell is misplaced", tt.from)
			}
			if got := CanMove(tt.from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, to, got, want)
			}
			var te *TransitionError
			if err := CheckMove(tt.from, to); want != (err == nil) || (err != nil && (!errors.As(err, &te) || *te != TransitionError{tt.from, to})) {
				t.Errorf("CheckMove(%s, %s) = %v", tt.from, to, err)
			}
			if cells[i] == "Y" {
				moves = append(moves, to)
			}
		}
		if got := Moves(tt.from); !slices.Equal(got, moves) {
			t.Errorf("Moves(%s) = %v, want %v", tt.from, got, moves)
		}
	}
	for _, s := range Statuses {
		if !seen[s] {
			t.Errorf("status %s has no row in the table", s)
		}
	}
	if CanMove("nonsense", "nonsense") || CanMove(StatusPending, "nonsense") {
		t.Error("an unknown status must have no moves")
	}
}

// TestActionsAgreeWithMoves: an action that moves an onboarding only runs
// where the move exists.
func TestActionsAgreeWithMoves(t *testing.T) {
	t.Parallel()
	lands := map[Action]Status{ActionRenew: StatusRequesting, ActionCancel: StatusCancelled}
	for _, s := range Statuses {
		for a, to := range lands {
			if Allows(s, a) && !CanMove(s, to) {
				t.Errorf("%s allows %s but cannot move to %s", s, a, to)
			}
		}
		// Retry sends a requesting one again and renews the rest.
		if Allows(s, ActionRetry) && s != StatusRequesting && !Allows(s, ActionRenew) {
			t.Errorf("%s allows retry but not renew", s)
		}
		if HasUsability(s) != (s == StatusConnected) {
			t.Errorf("HasUsability(%s) = %v", s, HasUsability(s))
		}
	}
}

func TestOnboardingCheck(t *testing.T) {
	t.Parallel()
	su := "9b2f7f5e-0000-4000-8000-000000000001"
	tests := []struct {
		name   string
		o      Onboarding
		action Action
		want   *NotAllowedError // nil: allowed
	}{
		{"change a connected standard one", Onboarding{Status: StatusConnected, Kind: KindStandard, SystemUserID: &su}, ActionChange, nil},
		{"change without a known system user", Onboarding{Status: StatusConnected, Kind: KindStandard},
			ActionChange, &NotAllowedError{ActionChange, StatusConnected, ReasonStatus}},
		{"change an agent one", Onboarding{Status: StatusConnected, Kind: KindAgent, SystemUserID: &su},
			ActionChange, &NotAllowedError{ActionChange, StatusConnected, ReasonAgent}},
		{"change an agent one not connected", Onboarding{Status: StatusPending, Kind: KindAgent},
			ActionChange, &NotAllowedError{ActionChange, StatusPending, ReasonAgent}},
		{"change a revoked one", Onboarding{Status: StatusRevoked, Kind: KindStandard, SystemUserID: &su},
			ActionChange, &NotAllowedError{ActionChange, StatusRevoked, ReasonStatus}},
		{"cancel a connected one", Onboarding{Status: StatusConnected, SystemUserID: &su},
			ActionCancel, &NotAllowedError{ActionCancel, StatusConnected, ReasonSystemUser}},
		{"test an agent one", Onboarding{Status: StatusConnected, Kind: KindAgent, SystemUserID: &su}, ActionTestConnection, nil},
		{"renew a failed one", Onboarding{Status: StatusFailed}, ActionRenew, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.o.Check(tt.action)
			if tt.want == nil {
				if err != nil || !tt.o.Allows(tt.action) {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var na *NotAllowedError
			if !errors.As(err, &na) || *na != *tt.want || tt.o.Allows(tt.action) {
				t.Fatalf("Check = %v, want %+v", err, *tt.want)
			}
		})
	}
}

// TestNotAllowedErrorIs: a refusal kept as a sentinel with some fields set
// matches every refusal those fields describe.
func TestNotAllowedErrorIs(t *testing.T) {
	t.Parallel()
	err := Check(StatusConnected, ActionCancel)
	tests := []struct {
		target error
		want   bool
	}{
		{ErrNotAllowed, true},
		{&NotAllowedError{Action: ActionCancel}, true},
		{&NotAllowedError{Action: ActionCancel, Reason: ReasonSystemUser}, true},
		{&NotAllowedError{Action: ActionCancel, Status: StatusConnected, Reason: ReasonSystemUser}, true},
		{&NotAllowedError{Action: ActionCancel, Status: StatusAccepted}, false},
		{&NotAllowedError{Action: ActionCancel, Reason: ReasonDone}, false},
		{&NotAllowedError{Action: ActionRenew}, false},
		{errors.New("other"), false},
	}
	for _, tt := range tests {
		if got := errors.Is(err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, tt.target, got, tt.want)
		}
	}
	if !strings.Contains(err.Error(), "only the customer can delete") {
		t.Errorf("the refusal does not say why: %q", err)
	}
}
