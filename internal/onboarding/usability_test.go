package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// TestUsabilityReasons: each Maskinporten code a vendor meets reads as what
// is wrong and what to change, in every language; an unknown code gets the
// general text, never its key.
func TestUsabilityReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
		want string   // the key
		says []string // the English text names these (what to change, where)
	}{
		{"no system user", "MP-303", "usability.reason.systemuser", []string{"clientId", "externalRef", "system register", "deleted", "accountant"}},
		{"no system user, OAuth code only", "invalid_altinn_customer_configuration", "usability.reason.systemuser", []string{"clientId", "externalRef"}},
		{"scope not on the client", "MP-200", "usability.reason.scope", []string{"not registered", "Maskinporten client", "Samarbeidsportalen"}},
		{"scope, OAuth code only", "invalid_scope", "usability.reason.scope", []string{"Samarbeidsportalen"}},
		{"scope for another client type", "MP-201", "usability.reason.scopetype", []string{"integration type"}},
		{"organisation has no access to the scope", "MP-250", "usability.reason.scopeaccess", []string{"not been given access", "API owner"}},
		{"older delegation", "MP-251", "usability.reason.scopedelegation", []string{"supplier"}},
		{"unknown authorization_details type", "MP-301", "usability.reason.detailstype", []string{"urn:altinn:systemuser"}},
		{"unknown authorization_details field", "MP-302", "usability.reason.detailsfields", []string{"systemuser_org"}},
		{"unknown client", "MP-100", "usability.reason.client", []string{"ONBOARD_MASKINPORTEN_CLIENT_ID", "environment"}},
		{"wrong audience", "MP-110", "usability.reason.audience", []string{"ONBOARD_MASKINPORTEN_ISSUER", "https://test.maskinporten.no/"}},
		{"bad certificate", "MP-120", "usability.reason.certificate", []string{"ONBOARD_MASKINPORTEN_KEY_FILE"}},
		{"expired key", "MP-121", "usability.reason.keyexpired", []string{"expired", "ONBOARD_MASKINPORTEN_KID"}},
		{"certificate of another org", "MP-122", "usability.reason.certificate", []string{"organisation"}},
		{"bad x5c", "MP-123", "usability.reason.certificate", []string{"certificate"}},
		{"bad signature", "MP-124", "usability.reason.signature", []string{"ONBOARD_MASKINPORTEN_KID"}},
		{"clock", "MP-130", "usability.reason.clock", []string{"clock", "10 seconds"}},
		{"grant reused", "MP-012", "usability.reason.reused", []string{"used before"}},
		{"malformed grant", "MP-011", "usability.reason.malformed", []string{"malformed"}},
		{"invalid_grant without a code", "invalid_grant", "usability.reason.grant", []string{"invalid_grant"}},
		{"authorization_details without a code", "invalid_authorization_details", "usability.reason.details", []string{"authorization_details"}},
		{"a code nobody knows", "MP-999", "usability.reason.other", []string{"Maskinporten refused"}},
		{"no code at all", "", "usability.reason.other", []string{"Maskinporten refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := onboarding.UsabilityReason(tt.code)
			if key != tt.want {
				t.Fatalf("UsabilityReason(%q) = %q, want %q", tt.code, key, tt.want)
			}
			en := i18n.T("en", key)
			for _, s := range tt.says {
				if !strings.Contains(en, s) {
					t.Errorf("the English text for %s does not say %q: %s", tt.code, s, en)
				}
			}
		})
	}
}

// TestUsabilityReasonsInEveryLanguage: every reason has its own text in
// nb and en.
func TestUsabilityReasonsInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, key := range onboarding.UsabilityReasonKeys() {
		for _, lang := range i18n.Languages {
			if got := i18n.T(lang, key); got == key || got == "" {
				t.Errorf("%s has no %s text", key, lang)
			}
		}
		if i18n.T("nb", key) == i18n.T("en", key) {
			t.Errorf("%s is not translated: nb and en say the same", key)
		}
	}
	// The MP-303 text keeps Altinn's field names in both languages, so a
	// vendor finds them in the system register.
	for _, lang := range i18n.Languages {
		if s := i18n.T(lang, onboarding.UsabilityReason("MP-303")); !strings.Contains(s, "clientId") || !strings.Contains(s, "externalRef") {
			t.Errorf("%s: the MP-303 text does not name clientId and externalRef: %s", lang, s)
		}
	}
}

// TestClassifyToken: a 4xx from Maskinporten is "not usable" with its MP
// code, while no answer, a 429 or a 5xx is "could not check".
func TestClassifyToken(t *testing.T) {
	t.Parallel()
	mp := func(status int, code, desc string) error {
		return fmt.Errorf("wrapped: %w", &maskinporten.Error{StatusCode: status, Code: code, Description: desc})
	}
	tests := []struct {
		name    string
		err     error
		outcome string
		code    string
		status  int
	}{
		{"issued", nil, domain.UsableOK, "", 200},
		{"MP-303", mp(400, "invalid_altinn_customer_configuration", "MP-303 No approved system user"), domain.UsableFailed, "MP-303", 400},
		{"MP-200", mp(400, "invalid_scope", "MP-200 Invalid scope."), domain.UsableFailed, "MP-200", 400},
		{"MP-250 as forbidden", mp(403, "forbidden", "MP-250 Consumer has not been granted access to the scope x"), domain.UsableFailed, "MP-250", 403},
		{"no MP code: the OAuth code stands in", mp(400, "invalid_scope", "Invalid scope"), domain.UsableFailed, "invalid_scope", 400},
		{"5xx", mp(503, "", "Service Unavailable"), domain.UsableUnavailable, "", 503},
		// The vendor's own key, client or clock: not a customer's fault, so
		// no customer is flipped to not usable for it.
		{"MP-121 expired key", mp(400, "invalid_grant", "MP-121 Invalid assertion. Expired key"), domain.UsableUnavailable, "MP-121", 400},
		{"MP-130 clock", mp(400, "invalid_grant", "MP-130 JWT is expired"), domain.UsableUnavailable, "MP-130", 400},
		{"MP-100 client", mp(400, "invalid_grant", "MP-100 Client not found"), domain.UsableUnavailable, "MP-100", 400},
		{"invalid_grant without a code", mp(400, "invalid_grant", "Issue time is after now"), domain.UsableUnavailable, "invalid_grant", 400},
		{"500 with an MP code is still could-not-check", mp(500, "server_error", "MP-999 oops"), domain.UsableUnavailable, "MP-999", 500},
		{"429", mp(429, "", "slow down"), domain.UsableUnavailable, "", 429},
		{"no answer", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, domain.UsableUnavailable, "", 0},
		{"timeout", context.DeadlineExceeded, domain.UsableUnavailable, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := onboarding.ClassifyToken(tt.err)
			if r.Outcome != tt.outcome || r.Code != tt.code || r.HTTPStatus != tt.status {
				t.Fatalf("ClassifyToken = %+v, want outcome %s, code %q, status %d", r, tt.outcome, tt.code, tt.status)
			}
			if tt.err != nil && r.Message == "" {
				t.Error("a failure without a message")
			}
		})
	}
}
