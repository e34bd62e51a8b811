package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/handoff"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// TestErrorMap: every kind of error the handlers meet, wrapped as the
// service and the clients wrap them, comes to its status and words.
func TestErrorMap(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("onboarding: something: %w", err) }
	tests := []struct {
		name       string
		err        error
		status     int
		key        string
		customer   string // what a customer is told, when it differs from key
		retryAfter string
	}{
		// Echo's own, and the API's.
		{"echo 404", echo.ErrNotFound, 404, "error.404", "", ""},
		{"echo 405", echo.ErrMethodNotAllowed, 405, "error.405", "", ""},
		{"echo 429", echo.ErrTooManyRequests, 429, "error.429", "", ""},
		{"echo 503 (request timeout)", echo.ErrServiceUnavailable.WithInternal(context.DeadlineExceeded), 503, "error.503", "", ""},
		{"echo status without words", echo.NewHTTPError(http.StatusTeapot), 418, "error.400", "", ""},
		{"echo 5xx without words", echo.NewHTTPError(http.StatusNotImplemented), 501, "error.500", "", ""},
		{"csrf missing", echo.NewHTTPError(http.StatusBadRequest, "missing csrf token in the form parameter"), 403, "error.403", "", ""},
		{"csrf invalid", middleware.ErrCSRFInvalid, 403, "error.403", "", ""},
		{"api problem", problem(http.StatusUnauthorized, "an API key is needed"), 401, "error.400", "", ""},

		// Text the service cannot store.
		{"bad text", errBadText, 400, "error.badtext", "", ""},

		// Hand-off links.
		{"hand-off expired", handoff.ErrExpired, 400, "handoff.err.expired", "", ""},
		{"hand-off replayed", fmt.Errorf("handoff: %w", handoff.ErrReplayed), 409, "handoff.err.used", "", ""},
		{"hand-off return URL", handoff.ErrReturnURL, 400, "handoff.err.return", "", ""},
		{"hand-off product", handoff.ErrProduct, 400, "handoff.err.product", "", ""},
		{"hand-off invalid", handoff.ErrInvalid, 400, "handoff.err.invalid", "", ""},

		// The rulebook's refusals say why.
		{"refresh a cancelled one", domain.Check(domain.StatusCancelled, domain.ActionRefresh), 409, "admin.action.err.refresh", "error.409", ""},
		{"verify a pending one", domain.Check(domain.StatusPending, domain.ActionVerify), 409, "admin.action.err.verify", "error.409", ""},
		{"renew a pending one", domain.Check(domain.StatusPending, domain.ActionRenew), 409, "admin.action.err.renew", "error.409", ""},
		{"cancel a connected one", domain.Check(domain.StatusConnected, domain.ActionCancel), 409, "admin.action.err.notcancellable", "error.409", ""},
		{"cancel an accepted one", wrap(domain.Check(domain.StatusAccepted, domain.ActionCancel)), 409, "admin.action.err.notcancellable", "error.409", ""},
		{"cancel a cancelled one", domain.Check(domain.StatusCancelled, domain.ActionCancel), 409, "admin.action.err.cancelled", "error.409", ""},
		{"test a pending one", domain.Check(domain.StatusPending, domain.ActionTestConnection), 409, "admin.action.err.testconnection", "error.409", ""},
		{"change a pending one", domain.Check(domain.StatusPending, domain.ActionChange), 409, "admin.change.err.notconnected", "error.409", ""},
		{"change an agent one", onboarding.ErrAgentChange, 409, "admin.change.err.agent", "error.409", ""},
		{"change, not connected", onboarding.ErrNotConnected, 409, "admin.change.err.notconnected", "error.409", ""},
		{"retry a pending one", domain.Check(domain.StatusPending, domain.ActionRetry), 409, "error.409", "", ""},
		{"confirm a connected one", domain.Check(domain.StatusConnected, domain.ActionConfirm), 409, "error.409", "", ""},
		{"a move the rulebook lacks", wrap(domain.CheckMove(domain.StatusConnected, domain.StatusPending)), 500, "error.500", "", ""},

		// The service.
		{"superseded", onboarding.ErrSuperseded, 409, "error.409", "", ""},
		{"unknown product", wrap(onboarding.ErrUnknownProduct), 409, "admin.action.err.product", "error.409", ""},
		{"no scopes", onboarding.ErrNoScopes, 409, "admin.action.err.noscopes", "error.409", ""},
		{"change ended", onboarding.ErrChangeEnded, 409, "admin.change.err.ended", "error.409", ""},
		{"system user replaced", onboarding.ErrSystemUserReplaced, 409, "admin.change.err.replaced", "error.409", ""},
		{"no product for a system user", onboarding.ErrNoProduct, 422, "admin.systemusers.error.noproduct", "error.400", ""},

		// The store.
		{"stale", fmt.Errorf("onboarding: save: %w", db.ErrStale), 409, "error.409", "", ""},
		{"conflict", db.ErrConflict, 409, "admin.systemusers.error.conflict", "error.409", ""},
		{"not found", db.ErrNotFound, 404, "error.404", "", ""},
		{"bad cursor", db.ErrBadCursor, 400, "error.cursor", "", ""},
		{"idempotency key reused", db.ErrIdempotencyMismatch, 422, "error.idempotency.mismatch", "", ""},
		{"idempotency key in use", db.ErrIdempotencyInProgress, 409, "error.idempotency.inprogress", "", ""},
		{"database away", fmt.Errorf("db: query: %w", &net503{}), 503, "error.503", "", "5"},
		{"deadline", context.DeadlineExceeded, 503, "error.503", "", "5"},

		// Altinn and Maskinporten.
		{"altinn 503", wrap(&altinn.Problem{Status: 503}), 502, "admin.altinn.error.unavailable", "error.502", ""},
		{"altinn 429", &altinn.Problem{Status: 429}, 502, "admin.altinn.error.unavailable", "error.502", ""},
		{"altinn held back", &altinn.HeldError{Op: "GET x"}, 502, "admin.altinn.error.unavailable", "error.502", ""},
		{"altinn 401", &altinn.Problem{Status: 401}, 502, "admin.altinn.error.denied", "error.502", ""},
		{"altinn 403", &altinn.Problem{Status: 403}, 502, "admin.altinn.error.denied", "error.502", ""},
		{"altinn 404", &altinn.Problem{Status: 404, Code: "AUTH-00011"}, 502, "admin.altinn.error.notfound", "error.502", ""},
		{"altinn 400", &altinn.Problem{Status: 400, Code: "AUTH-00001"}, 502, "admin.altinn.error.failed", "error.502", ""},
		{"altinn malformed", fmt.Errorf("altinn: GET x: %w", altinn.ErrMalformed), 502, "admin.altinn.error.failed", "error.502", ""},
		{"altinn no answer", fmt.Errorf("altinn: GET x: %w", &url.Error{Op: "Get", URL: "https://altinn", Err: context.DeadlineExceeded}),
			502, "admin.altinn.error.unavailable", "error.502", ""},
		{"maskinporten refused", fmt.Errorf("altinn: GET x: get token: %w", &maskinporten.Error{StatusCode: 400, Code: "invalid_grant"}),
			502, "admin.altinn.error.token", "error.502", ""},
		{"maskinporten 503", &maskinporten.Error{StatusCode: 503}, 502, "admin.altinn.error.unavailable", "error.502", ""},

		// Anything else says nothing of its cause.
		{"unknown", errors.New("boom"), 500, "error.500", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := failureOf(tt.err)
			if f.Status != tt.status || f.Key != tt.key || f.RetryAfter != tt.retryAfter {
				t.Fatalf("failureOf(%v) = %+v, want %d %q (Retry-After %q)", tt.err, f, tt.status, tt.key, tt.retryAfter)
			}
			want := tt.customer
			if want == "" {
				want = tt.key
			}
			if got := f.customerKey(); got != want {
				t.Errorf("a customer is told %q, want %q", got, want)
			}
			for _, key := range []string{f.Key, f.customerKey()} {
				for _, lang := range i18n.Languages {
					if i18n.T(lang, key) == key {
						t.Errorf("%s has no text in %s", key, lang)
					}
				}
			}
		})
	}
}

// net503 is a network error, as pgx reports the database going away.
type net503 struct{}

func (*net503) Error() string   { return "connection reset" }
func (*net503) Timeout() bool   { return false }
func (*net503) Temporary() bool { return true }

// TestErrorMapRowsAreReached: no row of the map is hidden by one above it.
func TestErrorMapRowsAreReached(t *testing.T) {
	t.Parallel()
	examples := map[string]error{
		"bad text":         errBadText,
		"hand-off expired": handoff.ErrExpired, "hand-off used": handoff.ErrReplayed, "hand-off return URL": handoff.ErrReturnURL,
		"hand-off product": handoff.ErrProduct, "hand-off invalid": handoff.ErrInvalid,
		"transition the rulebook lacks": &domain.TransitionError{From: domain.StatusConnected, To: domain.StatusPending},
		"superseded":                    onboarding.ErrSuperseded, "stale": db.ErrStale, "unknown product": onboarding.ErrUnknownProduct,
		"no scopes": onboarding.ErrNoScopes, "change ended": onboarding.ErrChangeEnded,
		"system user replaced": onboarding.ErrSystemUserReplaced, "no product for a system user": onboarding.ErrNoProduct,
		"conflict": db.ErrConflict, "not found": db.ErrNotFound, "bad cursor": db.ErrBadCursor,
		"idempotency key reused": db.ErrIdempotencyMismatch, "idempotency key in use": db.ErrIdempotencyInProgress,
		"altinn unavailable": &altinn.Problem{Status: 500}, "altinn unauthorized": &altinn.Problem{Status: 401},
		"altinn forbidden": &altinn.Problem{Status: 403}, "altinn not found": &altinn.Problem{Status: 404},
		"altinn malformed": altinn.ErrMalformed, "maskinporten unavailable": &maskinporten.Error{StatusCode: 502},
		"maskinporten refused": &maskinporten.Error{StatusCode: 401}, "altinn other answer": &altinn.Problem{Status: 409},
		"no answer to a call": &url.Error{Op: "Get", URL: "x", Err: errors.New("refused")}, "database unavailable": &net503{},
	}
	for _, r := range errorRules {
		err, ok := examples[r.name]
		if !ok {
			t.Errorf("row %q has no example here", r.name)
			continue
		}
		if f := failureOf(err); f.Status != r.status || f.Key != r.key {
			t.Errorf("row %q: its example comes to %+v, want %d %q", r.name, f, r.status, r.key)
		}
	}
}

// TestOutcomeTextFromTheRealCause: the status page's words follow the error
// code kept on the onboarding, not only its status.
func TestOutcomeTextFromTheRealCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                   domain.Status
		code                     string
		note, help, retry, staff string
		contact                  bool
	}{
		{domain.StatusFailed, onboarding.CodeGone, "outcome.gone", "outcome.gone.help", "outcome.newrequest", "admin.status.help.failed.gone", false},
		{domain.StatusFailed, onboarding.CodeAltinnRefuse, "outcome.failed", "outcome.failed.help", "outcome.retry", "admin.status.help.failed", true},
		{domain.StatusFailed, "AUTH-00001", "outcome.failed", "outcome.failed.help", "outcome.retry", "admin.status.help.failed", true},
		{domain.StatusFailed, onboarding.CodeUnavailable, "outcome.unavailable", "", "outcome.retry", "admin.status.help.failed", false},
		{domain.StatusFailed, "", "outcome.failed", "outcome.failed.help", "outcome.retry", "admin.status.help.failed", true},
		{domain.StatusRequesting, "", "outcome.requesting", "", "outcome.retry", "admin.status.help.requesting", false},
		{domain.StatusRequesting, onboarding.CodeUnavailable, "outcome.unavailable", "", "outcome.retry", "admin.status.help.requesting", false},
		{domain.StatusRequesting, onboarding.CodeNotVerified, "outcome.notverified", "", "outcome.retry", "admin.status.help.requesting.notverified", false},
		{domain.StatusPending, "", "", "", "", "admin.status.help.pending", false},
		{domain.StatusPending, onboarding.CodeConfirmHost, "outcome.confirmhost", "", "", "admin.status.help.pending", false},
		{domain.StatusAccepted, onboarding.CodeNotVerified, "outcome.accepted", "", "", "admin.status.help.accepted", false},
		{domain.StatusConnected, "", "", "", "", "admin.status.help.connected", false},
		{domain.StatusRejected, "", "outcome.rejected", "outcome.rejected.help", "outcome.newrequest", "admin.status.help.rejected", false},
		{domain.StatusExpired, onboarding.CodeGone, "outcome.expired", "outcome.expired.help", "outcome.newrequest", "admin.status.help.expired", false},
		{domain.StatusRevoked, onboarding.CodeGone, "outcome.revoked", "outcome.revoked.help", "outcome.newrequest", "admin.status.help.revoked", false},
		{domain.StatusCancelled, "", "outcome.cancelled", "", "", "admin.status.help.cancelled", false},
		{domain.StatusStarted, "", "outcome.failed", "outcome.failed.help", "outcome.retry", "admin.status.help.started", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/"+tt.code, func(t *testing.T) {
			t.Parallel()
			got := outcomeTextOf(tt.status, tt.code)
			want := outcomeText{Note: tt.note, Help: tt.help, Retry: tt.retry, Contact: tt.contact}
			if got != want {
				t.Errorf("outcomeTextOf = %+v, want %+v", got, want)
			}
			if staff := staffHelpKey(tt.status, tt.code); staff != tt.staff {
				t.Errorf("staffHelpKey = %q, want %q", staff, tt.staff)
			}
			// A status the customer can retry in has a label for the button.
			if domain.Allows(tt.status, domain.ActionRetry) && got.Retry == "" {
				t.Errorf("%s allows retry but the button has no label", tt.status)
			}
			for _, key := range []string{got.Note, got.Help, got.Retry, tt.staff} {
				for _, lang := range i18n.Languages {
					if key != "" && i18n.T(lang, key) == key {
						t.Errorf("%s has no text in %s", key, lang)
					}
				}
			}
		})
	}
}
