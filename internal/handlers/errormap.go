package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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

// The one error map: what an error of the domain, the service, the store or
// a client (Altinn, Maskinporten) comes to for whoever meets it, as an HTTP
// status and the i18n key of the words. The wizard's and the dashboard's
// error pages (errorHandler), the dashboard's action and insight pages and
// the API's problem documents all take it from failureOf; none decides a
// status of its own. Below it, the words for where an onboarding stands,
// from its real cause (outcomeTextOf, staffHelpKey).

// failure is what an error comes to: the status to answer and the i18n key
// of what to say. Keys under "admin." are staff's words (they name the
// service's setup); customers are told customerKey's instead.
type failure struct {
	Status int
	Key    string
	// RetryAfter, when set, is the Retry-After header to send (seconds).
	RetryAfter string
}

// errorRule is one row of the map: the first row whose match holds wins.
type errorRule struct {
	name   string // for the test and the reader
	match  func(error) bool
	status int
	key    string
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func as[T error]() func(error) bool {
	return func(err error) bool { var t T; return errors.As(err, &t) }
}

// errorRules is the map, most specific first. Altinn's and Maskinporten's
// failures come before the database's, since a transport error of an HTTP
// call would otherwise look like the database being away.
var errorRules = []errorRule{
	// Text the service cannot store (checkText).
	{"bad text", is(errBadText), http.StatusBadRequest, "error.badtext"},

	// The wizard's hand-off links.
	{"hand-off expired", is(handoff.ErrExpired), http.StatusBadRequest, "handoff.err.expired"},
	{"hand-off used", is(handoff.ErrReplayed), http.StatusConflict, "handoff.err.used"},
	{"hand-off return URL", is(handoff.ErrReturnURL), http.StatusBadRequest, "handoff.err.return"},
	{"hand-off product", is(handoff.ErrProduct), http.StatusBadRequest, "handoff.err.product"},
	{"hand-off invalid", is(handoff.ErrInvalid), http.StatusBadRequest, "handoff.err.invalid"},

	// The rulebook and the service.
	{"transition the rulebook lacks", as[*domain.TransitionError](), http.StatusInternalServerError, "error.500"},
	{"superseded", is(onboarding.ErrSuperseded), http.StatusConflict, "error.409"},
	{"stale", is(db.ErrStale), http.StatusConflict, "error.409"},
	{"unknown product", is(onboarding.ErrUnknownProduct), http.StatusConflict, "admin.action.err.product"},
	{"no scopes", is(onboarding.ErrNoScopes), http.StatusConflict, "admin.action.err.noscopes"},
	{"change ended", is(onboarding.ErrChangeEnded), http.StatusConflict, "admin.change.err.ended"},
	{"system user replaced", is(onboarding.ErrSystemUserReplaced), http.StatusConflict, "admin.change.err.replaced"},
	{"no product for a system user", is(onboarding.ErrNoProduct), http.StatusUnprocessableEntity, "admin.systemusers.error.noproduct"},

	// The store.
	{"conflict", is(db.ErrConflict), http.StatusConflict, "admin.systemusers.error.conflict"},
	{"not found", is(db.ErrNotFound), http.StatusNotFound, "error.404"},
	{"bad cursor", is(db.ErrBadCursor), http.StatusBadRequest, "error.cursor"},
	{"idempotency key reused", is(db.ErrIdempotencyMismatch), http.StatusUnprocessableEntity, "error.idempotency.mismatch"},
	{"idempotency key in use", is(db.ErrIdempotencyInProgress), http.StatusConflict, "error.idempotency.inprogress"},

	// Altinn and Maskinporten: a gateway's failure (502), in words by kind.
	{"altinn unavailable", is(altinn.ErrUnavailable), http.StatusBadGateway, "admin.altinn.error.unavailable"},
	{"altinn unauthorized", is(altinn.ErrUnauthorized), http.StatusBadGateway, "admin.altinn.error.denied"},
	{"altinn forbidden", is(altinn.ErrForbidden), http.StatusBadGateway, "admin.altinn.error.denied"},
	{"altinn not found", is(altinn.ErrNotFound), http.StatusBadGateway, "admin.altinn.error.notfound"},
	{"altinn malformed", is(altinn.ErrMalformed), http.StatusBadGateway, "admin.altinn.error.failed"},
	{"maskinporten unavailable", maskinportenDown, http.StatusBadGateway, "admin.altinn.error.unavailable"},
	{"maskinporten refused", as[*maskinporten.Error](), http.StatusBadGateway, "admin.altinn.error.token"},
	{"altinn other answer", as[*altinn.Problem](), http.StatusBadGateway, "admin.altinn.error.failed"},
	{"no answer to a call", as[*url.Error](), http.StatusBadGateway, "admin.altinn.error.unavailable"},

	// The database away, or time running out on something that was no
	// call to Altinn (db.Unavailable counts a bare deadline too): passing.
	{"database unavailable", db.Unavailable, http.StatusServiceUnavailable, "error.503"},
}

// maskinportenDown reports a token endpoint that did not answer usefully
// (5xx, 429): trying again later may help.
func maskinportenDown(err error) bool {
	var mp *maskinporten.Error
	return errors.As(err, &mp) && (mp.StatusCode >= 500 || mp.StatusCode == http.StatusTooManyRequests)
}

// failureOf maps err to its status and words. Echo's own errors keep their
// status (a missing CSRF token is a 403 like a wrong one), the rulebook's
// refusals are a 409 saying why, and anything unknown is a 500 that says
// nothing of its cause.
func failureOf(err error) failure {
	var (
		ap *apiProblem
		he *echo.HTTPError
		na *domain.NotAllowedError
	)
	switch {
	case errors.As(err, &ap):
		return failure{Status: ap.Status, Key: statusKey(ap.Status)}
	case errors.Is(err, middleware.ErrCSRFInvalid):
		return failure{Status: http.StatusForbidden, Key: "error.403"}
	case errors.Is(err, errCrossSite): // csrf.go
		return failure{Status: http.StatusForbidden, Key: "error.crosssite"}
	case errors.As(err, &he):
		status := he.Code
		if s, _ := he.Message.(string); status == http.StatusBadRequest && strings.Contains(s, "csrf") {
			status = http.StatusForbidden
		}
		return failure{Status: status, Key: statusKey(status)}
	case errors.As(err, &na):
		return failure{Status: http.StatusConflict, Key: refusalKey(na)}
	}
	for _, r := range errorRules {
		if r.match(err) {
			f := failure{Status: r.status, Key: r.key}
			if r.status == http.StatusServiceUnavailable {
				f.RetryAfter = "5"
			}
			return f
		}
	}
	return failure{Status: http.StatusInternalServerError, Key: "error.500"}
}

// statusKey is the general words for a status: error.<status>, or the 400's
// or 500's when that status has none of its own.
func statusKey(status int) string {
	key := "error." + strconv.Itoa(status)
	if i18n.T(i18n.Default, key) != key {
		return key
	}
	if status >= 500 {
		return "error.500"
	}
	return "error.400"
}

// customerKey is what a customer's page says of f: staff's words name the
// service's setup, so a customer gets the general words for its status.
func (f failure) customerKey() string {
	if strings.HasPrefix(f.Key, "admin.") {
		return statusKey(f.Status)
	}
	return f.Key
}

// refusals says in words why the rulebook refused an action: by action,
// with a reason's own words where it has them (reason "" is any other).
var refusals = []struct {
	action domain.Action
	reason domain.Reason
	key    string
}{
	{domain.ActionRefresh, "", "admin.action.err.refresh"},
	{domain.ActionVerify, "", "admin.action.err.verify"},
	{domain.ActionRenew, "", "admin.action.err.renew"},
	{domain.ActionCancel, domain.ReasonDone, "admin.action.err.cancelled"},
	{domain.ActionCancel, "", "admin.action.err.notcancellable"},
	{domain.ActionTestConnection, "", "admin.action.err.testconnection"},
	{domain.ActionChange, domain.ReasonAgent, "admin.change.err.agent"},
	{domain.ActionChange, "", "admin.change.err.notconnected"},
	// The customer's: the page was out of date.
	{domain.ActionRetry, "", "error.409"},
	{domain.ActionConfirm, "", "error.409"},
}

// refusalKey is the i18n key of why the rulebook refused na.
func refusalKey(na *domain.NotAllowedError) string {
	for _, r := range refusals {
		if r.action == na.Action && (r.reason == "" || r.reason == na.Reason) {
			return r.key
		}
	}
	return "error.409"
}

// outcomeText is what the status page says about where an onboarding
// stands and why: Note and Help (i18n keys; Help may be ""), the label of
// its try-again button, and whether to add how to reach the vendor.
type outcomeText struct {
	Note, Help, Retry string
	Contact           bool
}

// outcomeTexts are the words of each status whose words do not depend on
// who or what ended it (connected and pending have their own, with the
// vendor's name and the escalation); failedText stands for any other.
var outcomeTexts = map[domain.Status]outcomeText{
	domain.StatusRequesting: {Note: "outcome.requesting", Retry: "outcome.retry"},
	domain.StatusAccepted:   {Note: "outcome.accepted"},
	domain.StatusRejected:   {Note: "outcome.rejected", Help: "outcome.rejected.help", Retry: "outcome.newrequest"},
	domain.StatusExpired:    {Note: "outcome.expired", Help: "outcome.expired.help", Retry: "outcome.newrequest"},
	domain.StatusRevoked:    {Note: "outcome.revoked", Help: "outcome.revoked.help", Retry: "outcome.newrequest"},
	domain.StatusCancelled:  {Note: "outcome.cancelled"},
	domain.StatusFailed:     failedText,
}

var failedText = outcomeText{Note: "outcome.failed", Help: "outcome.failed.help", Retry: "outcome.retry", Contact: true}

// statusCause is a status with the error code kept on the onboarding.
type statusCause struct {
	status domain.Status
	code   string
}

// causeTexts are the words where the real cause (the error code) says more
// than the status: a failed onboarding whose request disappeared at Altinn
// was not refused, and one Altinn did not answer is not lost. For pending,
// Note is a line under the status's own words.
var causeTexts = map[statusCause]outcomeText{
	{domain.StatusRequesting, onboarding.CodeUnavailable}: {Note: "outcome.unavailable", Retry: "outcome.retry"},
	{domain.StatusRequesting, onboarding.CodeNotVerified}: {Note: "outcome.notverified", Retry: "outcome.retry"},
	{domain.StatusPending, onboarding.CodeConfirmHost}:    {Note: "outcome.confirmhost"},
	{domain.StatusFailed, onboarding.CodeGone}:            {Note: "outcome.gone", Help: "outcome.gone.help", Retry: "outcome.newrequest"},
	{domain.StatusFailed, onboarding.CodeUnavailable}:     {Note: "outcome.unavailable", Retry: "outcome.retry"},
}

// outcomeTextOf is what the status page says for an onboarding in status
// whose kept error code is code ("" for none).
func outcomeTextOf(status domain.Status, code string) outcomeText {
	if t, ok := causeTexts[statusCause{status, code}]; ok {
		return t
	}
	if t, ok := outcomeTexts[status]; ok {
		return t
	}
	switch status {
	case domain.StatusConnected, domain.StatusPending:
		return outcomeText{}
	}
	return failedText
}

// staffCauseKeys are the dashboard's words where the real cause says more
// than the status's own (admin.status.help.<status>).
var staffCauseKeys = map[statusCause]string{
	{domain.StatusFailed, onboarding.CodeGone}:            "admin.status.help.failed.gone",
	{domain.StatusRequesting, onboarding.CodeNotVerified}: "admin.status.help.requesting.notverified",
}

// staffHelpKey is the dashboard's explanation of where an onboarding in
// status with error code code stands.
func staffHelpKey(status domain.Status, code string) string {
	if k, ok := staffCauseKeys[statusCause{status, code}]; ok {
		return k
	}
	return "admin.status.help." + string(status)
}
