package domain

import (
	"testing"
	"time"
)

func TestClientAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remove bool
		status int
		code   string
		want   ClientOutcome
	}{
		{"added", false, 200, "", ClientOutcome{State: ClientDelegated}},
		{"removed", true, 200, "", ClientOutcome{State: ClientRemoved}},
		{"no answer", false, 0, "", ClientOutcome{State: ClientAdding, Reason: ReasonUnavailable, Retry: true}},
		{"no answer to a removal", true, 0, "", ClientOutcome{State: ClientRemoving, Reason: ReasonUnavailable, Retry: true}},
		{"busy", false, 429, "", ClientOutcome{State: ClientAdding, Reason: ReasonUnavailable, Retry: true}},
		{"down", false, 503, "", ClientOutcome{State: ClientAdding, Reason: ReasonUnavailable, Retry: true}},
		{"login expired", false, 401, "", ClientOutcome{State: ClientAdding, Reason: ReasonLoginExpired, Wait: true}},
		{"person not allowed", false, 403, "", ClientOutcome{State: ClientFailed, Reason: ReasonNotAllowed}},
		{"not the firm's client", false, 400, "AUTH-00079", ClientOutcome{State: ClientFailed, Reason: ReasonNotClient}},
		{"lacks packages", false, 400, "AUTH-00080", ClientOutcome{State: ClientFailed, Reason: ReasonMissingPackages}},
		{"system user without packages", false, 400, "AUTH-00063", ClientOutcome{State: ClientFailed, Reason: ReasonNoPackages}},
		{"system user gone", false, 400, "AUTH.VLD-00014", ClientOutcome{State: ClientFailed, Reason: ReasonSystemUserGone}},
		{"not an agent", true, 400, "AUTH.VLD-00015", ClientOutcome{State: ClientFailed, Reason: ReasonSystemUserGone}},
		{"removal of one not delegated", true, 400, "AUTH-00038", ClientOutcome{State: ClientRemoved, Reason: ReasonNotDelegated}},
		{"AUTH-00038 on an add", false, 400, "AUTH-00038", ClientOutcome{State: ClientFailed, Reason: ReasonUnavailable}},
		{"access management refused", false, 400, "AUTH-00044", ClientOutcome{State: ClientAdding, Reason: ReasonUnavailable, Retry: true}},
		{"something else", false, 400, "AUTH-99999", ClientOutcome{State: ClientFailed, Reason: ReasonUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClientAnswer(tt.remove, tt.status, tt.code); got != tt.want {
				t.Errorf("ClientAnswer(%v, %d, %q) = %+v, want %+v", tt.remove, tt.status, tt.code, got, tt.want)
			}
		})
	}
}

func TestClientBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{0, 0, 2 * time.Second},
		{1, 0, 2 * time.Second},
		{2, 0, 4 * time.Second},
		{5, 0, 32 * time.Second},
		{8, 0, 256 * time.Second},
		{9, 0, 5 * time.Minute},
		{1000, 0, 5 * time.Minute},
		{1, 30 * time.Second, 30 * time.Second},
		{9, time.Hour, time.Hour},
	}
	for _, tt := range tests {
		if got := ClientBackoff(tt.attempt, tt.retryAfter); got != tt.want {
			t.Errorf("ClientBackoff(%d, %v) = %v, want %v", tt.attempt, tt.retryAfter, got, tt.want)
		}
	}
}

func TestClientStateSettled(t *testing.T) {
	t.Parallel()
	for s, want := range map[ClientState]bool{ClientAdding: false, ClientRemoving: false,
		ClientDelegated: true, ClientRemoved: true, ClientFailed: true} {
		if s.Settled() != want {
			t.Errorf("%s.Settled() = %v", s, !want)
		}
	}
}
