package maskinporten_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// claimsOf reads a grant's claims without checking its signature (TestGrant
// checks signing).
func claimsOf(t *testing.T, grant string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(grant, claims); err != nil {
		t.Fatalf("parse grant: %v", err)
	}
	return claims
}

func TestSystemUserTokenGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		su   maskinporten.SystemUser
		want string // authorization_details as JSON
	}{
		{"default external ref is left out", maskinporten.SystemUser{OrgNo: "314248295"},
			`[{"systemuser_org":{"ID":"0192:314248295","authority":"iso6523-actorid-upis"},"type":"urn:altinn:systemuser"}]`},
		{"external ref equal to the org is left out", maskinporten.SystemUser{OrgNo: "314248295", ExternalRef: "314248295"},
			`[{"systemuser_org":{"ID":"0192:314248295","authority":"iso6523-actorid-upis"},"type":"urn:altinn:systemuser"}]`},
		{"custom external ref is sent verbatim", maskinporten.SystemUser{OrgNo: "314248295", ExternalRef: "Agent"},
			`[{"externalRef":"Agent","systemuser_org":{"ID":"0192:314248295","authority":"iso6523-actorid-upis"},"type":"urn:altinn:systemuser"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, 120)
			c := newClient(t, s.Server, nil)
			for range 2 { // never cached: each call is a grant
				res, err := c.SystemUserToken(t.Context(), tt.su, "skatteetaten:a", "skatteetaten:b")
				if err != nil {
					t.Fatal(err)
				}
				if res.AccessToken == "" || res.ExpiresIn != 120*time.Second {
					t.Errorf("result = %+v", res)
				}
			}
			checkFetches(t, s, c, 2)
			claims := claimsOf(t, s.Grants()[0])
			got, _ := json.Marshal(claims["authorization_details"])
			if string(got) != tt.want {
				t.Errorf("authorization_details = %s\nwant %s", got, tt.want)
			}
			if claims["scope"] != "skatteetaten:a skatteetaten:b" {
				t.Errorf("scope = %v", claims["scope"])
			}
			// The cache is untouched: a vendor token is still fetched.
			mustToken(t, c, "x")
			checkFetches(t, s, c, 3)
			if _, ok := claimsOf(t, s.Grants()[2])["authorization_details"]; ok {
				t.Error("a vendor token's grant carries authorization_details")
			}
		})
	}
}

func TestSystemUserTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t, 120)
	c := newClient(t, s.Server, nil)
	for _, tt := range []struct {
		name   string
		su     maskinporten.SystemUser
		scopes []string
	}{
		{"org not nine digits", maskinporten.SystemUser{OrgNo: "12345"}, []string{"a"}},
		{"no scopes", maskinporten.SystemUser{OrgNo: "314248295"}, nil},
		{"scope with a space", maskinporten.SystemUser{OrgNo: "314248295"}, []string{"a b"}},
	} {
		if _, err := c.SystemUserToken(t.Context(), tt.su, tt.scopes...); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	checkFetches(t, s, c, 0)
}

func TestProbe(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", date.Format(http.TimeFormat))
		claims := jwt.MapClaims{}
		_, _, _ = jwt.NewParser().ParseUnverified(r.PostFormValue("assertion"), claims)
		if claims["scope"] == "missing" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_scope", "error_description": "MP-200 Scope missing not registered on client"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": claims["scope"]})
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, nil)
	res, err := c.Probe(t.Context(), "present")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(date, res.ServerDate); diff != "" || res.Scope != "present" || res.Received.IsZero() {
		t.Errorf("Probe = %+v (date diff %s)", res, diff)
	}
	_, err = c.Probe(t.Context(), "missing")
	var mpErr *maskinporten.Error
	if !errors.As(err, &mpErr) || mpErr.MPCode() != "MP-200" || !mpErr.ServerDate.Equal(date) || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("Probe(missing) = %v", err)
	}
	// Probes are not cached: the vendor token is fetched anew.
	if _, err := c.Token(t.Context(), "present"); err != nil {
		t.Fatal(err)
	}
	if got := c.Fetches(); got != 3 {
		t.Errorf("Fetches() = %d, want 3", got)
	}
}
