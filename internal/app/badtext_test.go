package app_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestTextThatCannotBeStoredIsRefused sends the penetration test's inputs
// (issue 13): a NUL or invalid UTF-8 in a search, the CSV export, the
// API's body and query, an API key's name, a campaign's name and a signed
// hand-off token. Each is a 400 with words (a page, or problem+json on the
// API), never a 500, and nothing is stored.
func TestTextThatCannotBeStoredIsRefused(t *testing.T) {
	t.Parallel()
	e := handoffEnv(t, nil)
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	admin, _ := e.dashStaff("ada@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(admin, "the vendor's product")
	const words = "Teksten inneholder tegn vi ikke kan lese"

	for _, path := range []string{"/admin/onboardings?q=%00", "/admin/onboardings?q=%FF", "/admin/onboardings.csv?q=%FF",
		"/admin/onboardings?q=a%00b&status=pending"} {
		p := viewer.get(e.web.URL + path)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, words) {
			t.Errorf("GET %s: %d, want 400 with the words\n%.300s", path, p.status, p.body)
		}
	}

	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/onboardings", `{"org_no":"` + org + `","customer_ref":"a\u0000b"}`},
		{http.MethodPost, "/api/v1/onboardings", "{\"org_no\":\"" + org + "\",\"customer_ref\":\"a\xffb\"}"},
		{http.MethodPost, "/api/v1/onboardings", `{"org_no":"` + org + `","a\u0000":"b"}`},
		{http.MethodGet, "/api/v1/onboardings?customer_ref=%FF", ""},
	} {
		a := e.api(nil, tc.method, tc.path, key, tc.body)
		if a.status != http.StatusBadRequest || a.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(a.body), "cannot read") {
			t.Errorf("%s %s %q: %d %s %s, want a 400 problem", tc.method, tc.path, tc.body, a.status, a.header.Get("Content-Type"), a.body)
		}
	}
	// A backslash before u0000 is no NUL: the customer's reference is kept as typed.
	if a := e.api(nil, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+org+`","customer_ref":"a\\u0000b"}`); a.status >= 400 {
		t.Errorf("an escaped backslash before u0000 was refused: %d %s", a.status, a.body)
	}

	list := admin.get(e.web.URL + "/admin/apikeys")
	if p := admin.post(e.web.URL+"/admin/apikeys", map[string][]string{"_csrf": {csrfOf(t, list)}, "name": {"key\x00"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, words) {
		t.Errorf("an API key named with a NUL: %d, want 400\n%.300s", p.status, p.body)
	}
	if p := e.postCampaign(admin, "Kampanje \xff", "standard", "310000018\n", true, "1", "1"); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, words) {
		t.Errorf("a campaign named with byte 0xFF: %d, want 400\n%.300s", p.status, p.body)
	}

	for _, claim := range []string{"customer_ref", "jti"} {
		c := e.handoffClaims()
		c[claim] = "a\x00b"
		p := e.handoff(e.browser(), signHS(t, c, handoffSecret))
		if p.status != http.StatusBadRequest {
			t.Errorf("a hand-off with a NUL in %s: %d, want 400\n%.300s", claim, p.status, p.body)
		}
	}

	// Raw bytes in the signed JSON (encoding/json would quietly make them
	// U+FFFD): a token signed by hand, as the penetration test did.
	for _, claim := range []string{"customer_ref", "jti"} {
		c := e.handoffClaims()
		c[claim] = "a-placeholder-b"
		payload, _ := json.Marshal(c)
		payload = bytes.Replace(payload, []byte("-placeholder-"), []byte("\xff"), 1)
		if p := e.handoff(e.browser(), signRawHS(t, payload, handoffSecret)); p.status != http.StatusBadRequest {
			t.Errorf("a hand-off with byte 0xFF in %s: %d, want 400\n%.300s", claim, p.status, p.body)
		}
	}

	// A broken pair in a form refuses the whole form: the pairs around it
	// are not read unchecked (the retest found a 500 and a stored row).
	list = admin.get(e.web.URL + "/admin/apikeys")
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/apikeys",
		strings.NewReader("_csrf="+url.QueryEscape(csrfOf(t, list))+"&name=x%00y&z=%ZZ"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := admin.do(req); p.status != http.StatusBadRequest || !strings.Contains(p.body, words) {
		t.Errorf("a form with a broken pair: %d, want 400 with the words\n%.300s", p.status, p.body)
	}
	staffList := admin.get(e.web.URL + "/admin/staff")
	req, _ = http.NewRequest(http.MethodPost, e.web.URL+"/admin/staff",
		strings.NewReader("_csrf="+url.QueryEscape(csrfOf(t, staffList))+"&email=x%FF@example.com&role=viewer&z=%ZZ"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := admin.do(req); p.status != http.StatusBadRequest {
		t.Errorf("a staff form with a broken pair: %d, want 400\n%.300s", p.status, p.body)
	}
	// The API reads its body whatever the Content-Type says: so is it checked.
	for _, ct := range []string{"text/plain", "", "application/octet-stream"} {
		for _, body := range []string{`{"org_no":"` + org + `","customer_ref":"a\u0000b"}`, "{\"org_no\":\"" + org + "\",\"customer_ref\":\"a\xffb\"}"} {
			if a := e.api(nil, http.MethodPost, "/api/v1/onboardings", key, body, "Content-Type", ct); a.status != http.StatusBadRequest {
				t.Errorf("an API body %q sent as %q: %d %s, want 400", body, ct, a.status, a.body)
			}
		}
	}
	if a := e.api(nil, http.MethodPost, "/api/v1/onboardings", key, `{"org_no":"`+org+`","customer_ref":"idem"}`, "Idempotency-Key", "a\xffb"); a.status != http.StatusBadRequest ||
		a.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("an Idempotency-Key with byte 0xFF: %d %s, want a 400 problem", a.status, a.body)
	}

	for table, want := range map[string]int{"campaigns": 0, "api_keys": 1, "handoff_jtis": 0, "staff": 2, "api_idempotency": 0} {
		if n := e.dashCount(table); n != want {
			t.Errorf("%d rows in %s, want %d", n, table, want)
		}
	}
	// One onboarding: the escaped backslash's.
	if n := e.countOnboardings(); n != 1 {
		t.Errorf("%d onboardings stored, want only the one with the escaped backslash", n)
	}
}

// TestRequestIDsAreOursOrValid: a client's X-Request-Id is taken only when
// it is a plain id (1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'); anything else
// (spaces, a forged log field, too long) is replaced by one the service
// makes, so no client writes into the log through it.
func TestRequestIDsAreOursOrValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	plain := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	for sent, kept := range map[string]bool{
		"3f2b6c1e-0d4a-4b8e-9c7a-5e1f2a3b4c5d": true,
		"abc.DEF_123":                          true,
		`x" level=ERROR msg="forged`:           false,
		"two words":                            false,
		strings.Repeat("a", 65):                false,
		"ære":                                  false,
	} {
		req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/onboard/standard", nil)
		req.Header.Set("X-Request-Id", sent)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("X-Request-Id")
		if kept && got != sent {
			t.Errorf("a plain id %q came back as %q, want it kept", sent, got)
		}
		if !kept && (got == sent || !plain.MatchString(got)) {
			t.Errorf("the id %q came back as %q, want one the service made", sent, got)
		}
	}
}

// TestBadAPIKeysAreLimitedBeforeTheLookup: an address that keeps sending
// unknown or missing keys gets a 429 problem (Retry-After) after twenty,
// before any key is looked up; a good key's requests never count.
func TestBadAPIKeysAreLimitedBeforeTheLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin, _ := e.dashStaff("ada@example.com", string(domain.RoleAdmin))
	key := e.createAPIKey(admin, "the vendor's product")
	key2 := e.createAPIKey(admin, "the vendor's other product")
	fresh := e.createAPIKey(admin, "never used")
	if a := e.api(nil, http.MethodGet, "/api/v1/onboardings?limit=1", key2, ""); a.status != http.StatusOK {
		t.Fatalf("the second key: %d", a.status)
	}
	for range 150 { // good keys spend nothing of the address's allowance for bad ones
		if a := e.api(nil, http.MethodGet, "/api/v1/onboardings?limit=1", key, ""); a.status == http.StatusTooManyRequests {
			break // the key's own limit (burst 100)
		}
	}
	var statuses []int
	for i := range 25 {
		bad := "onb_unknown_" + strings.Repeat("x", i)
		if i%2 == 0 {
			bad = "" // no key at all counts too
		}
		a := e.api(nil, http.MethodGet, "/api/v1/onboardings", bad, "")
		statuses = append(statuses, a.status)
		if a.status == http.StatusTooManyRequests && (a.header.Get("Retry-After") == "" || a.header.Get("Content-Type") != "application/problem+json") {
			t.Fatalf("the 429 has Retry-After %q and Content-Type %q, want a problem document with Retry-After", a.header.Get("Retry-After"), a.header.Get("Content-Type"))
		}
	}
	for i, s := range statuses {
		if want := http.StatusUnauthorized; i < 20 && s != want {
			t.Fatalf("bad key %d: %d, want %d (statuses %v)", i, s, want, statuses)
		}
	}
	if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests {
		t.Fatalf("after 25 bad keys in a row the answer is %d, want 429 (statuses %v)", last, statuses)
	}
	// The good client shares the held-back address (a NAT): its key, found
	// live here before, is still looked up and served. (The retest found
	// it shut out with the bad one.)
	if a := e.api(nil, http.MethodGet, "/api/v1/onboardings?limit=1", key2, ""); a.status != http.StatusOK {
		t.Errorf("a key found live before, from the held-back address: %d %s, want 200", a.status, a.body)
	}
	// A key this instance has not seen live waits with the bad ones.
	if a := e.api(nil, http.MethodGet, "/api/v1/onboardings?limit=1", fresh, ""); a.status != http.StatusTooManyRequests {
		t.Errorf("a key not seen live before, from the held-back address: %d, want 429", a.status)
	}
}

// TestBigUploadsNeedALiveSession (issue 13): a campaign's upload may be
// large only for a live staff session; a made-up onboard_staff cookie gets
// the small limit (a 413 for a 1 MB body), and a signed-in operator's
// large list is read.
func TestBigUploadsNeedALiveSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	big := strings.Repeat("310000018\n", 100_000) // 1 MB
	req, _ := http.NewRequest(http.MethodPost, e.web.URL+"/admin/campaigns", strings.NewReader(big))
	req.Header.Set("Content-Type", "text/plain")
	req.AddCookie(&http.Cookie{Name: "onboard_staff", Value: "made-up"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 MB upload with a made-up staff cookie: %d, want 413 before anything reads it", res.StatusCode)
	}
	op, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	if p := e.postCampaign(op, "Stor liste", "standard", big, false, "1", "1"); p.status == http.StatusRequestEntityTooLarge {
		t.Fatalf("a signed-in operator's 1 MB list: %d, want it read", p.status)
	}
	// A viewer may make no campaign: its 1 MB is not read either (the
	// retest saw it read in full before the 403).
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	form := viewer.get(e.web.URL + "/admin/campaigns")
	req, _ = http.NewRequest(http.MethodPost, e.web.URL+"/admin/campaigns", strings.NewReader("_csrf="+url.QueryEscape(csrfOf(t, form))+"&paste="+big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := viewer.do(req); p.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a viewer's 1 MB campaign form: %d, want 413", p.status)
	}
}

// signRawHS signs payload, bytes as they are, as an HS256 JWT.
func signRawHS(t *testing.T, payload []byte, secret string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(m.Sum(nil))
}
