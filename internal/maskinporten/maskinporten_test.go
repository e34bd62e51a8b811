package maskinporten_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// testKey is generated once: RSA-2048 generation is slow under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// server is a fake token endpoint at /token that hands out "token-N" for the
// Nth POST and records the grants it receives.
type server struct {
	*httptest.Server
	posts     atomic.Int64
	expiresIn int

	mu     sync.Mutex
	grants []string
}

func newServer(t *testing.T, expiresIn int) *server {
	t.Helper()
	s := &server{expiresIn: expiresIn}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		n := s.posts.Add(1)
		s.mu.Lock()
		s.grants = append(s.grants, r.PostFormValue("assertion"))
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer", "expires_in": s.expiresIn,
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) Grants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.grants)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newClient returns a Client for s with an explicit token endpoint; edit
// adjusts the config first.
func newClient(t *testing.T, s *httptest.Server, edit func(*maskinporten.Config)) *maskinporten.Client {
	t.Helper()
	cfg := maskinporten.Config{
		Issuer:        s.URL + "/",
		TokenEndpoint: s.URL + "/token",
		ClientID:      "test-client",
		KeyID:         "test-kid",
		Key:           testKey(),
		HTTPClient:    s.Client(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := maskinporten.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// clock is a fake clock for Config.Now; the fetch goroutine reads it too.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func mustToken(t *testing.T, c *maskinporten.Client, scopes ...string) string {
	t.Helper()
	tok, err := c.Token(t.Context(), scopes...)
	if err != nil {
		t.Fatalf("Token(%q): %v", scopes, err)
	}
	return tok
}

func checkFetches(t *testing.T, s *server, c *maskinporten.Client, want int64) {
	t.Helper()
	if got := s.posts.Load(); got != want {
		t.Errorf("server saw %d POSTs, want %d", got, want)
	}
	if got := c.Fetches(); got != want {
		t.Errorf("Fetches() = %d, want %d", got, want)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGrant(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		wantLife float64
	}{
		{name: "default lifetime", wantLife: 60},
		{name: "maximum lifetime", lifetime: 120 * time.Second, wantLife: 120},
		{name: "short lifetime", lifetime: 10 * time.Second, wantLife: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 600)
			c := newClient(t, s.Server, func(cfg *maskinporten.Config) { cfg.GrantLifetime = tt.lifetime })
			start := time.Now()
			mustToken(t, c, "b:write", "a:read", "b:write")
			c.Invalidate("a:read", "b:write")
			mustToken(t, c, "a:read", "b:write")

			grants := s.Grants()
			if len(grants) != 2 {
				t.Fatalf("got %d grants, want 2", len(grants))
			}
			var jtis []string
			for _, g := range grants {
				tok, err := jwt.Parse(g, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
					jwt.WithValidMethods([]string{"RS256"}))
				if err != nil {
					t.Fatalf("grant does not verify: %v", err)
				}
				if diff := cmp.Diff(map[string]any{"alg": "RS256", "kid": "test-kid", "typ": "JWT"}, tok.Header); diff != "" {
					t.Errorf("header (-want +got):\n%s", diff)
				}
				claims := tok.Claims.(jwt.MapClaims)
				iat, _ := claims["iat"].(float64)
				exp, _ := claims["exp"].(float64)
				jti, _ := claims["jti"].(string)
				jtis = append(jtis, jti)
				if d := time.Unix(int64(iat), 0).Sub(start); d < -2*time.Second || d > 5*time.Second {
					t.Errorf("iat is %v from now", d)
				}
				if got := exp - iat; got != tt.wantLife || got > 120 {
					t.Errorf("exp-iat = %v, want %v", got, tt.wantLife)
				}
				if !uuidV4.MatchString(jti) {
					t.Errorf("jti %q is not a UUIDv4", jti)
				}
				// Everything but the times and jti, exactly: no nbf, no sub,
				// and aud a string, not an array.
				rest := map[string]any{}
				for k, v := range claims {
					if k != "iat" && k != "exp" && k != "jti" {
						rest[k] = v
					}
				}
				want := map[string]any{"aud": s.URL + "/", "iss": "test-client", "scope": "a:read b:write"}
				if diff := cmp.Diff(want, rest); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
			}
			if jtis[0] == jtis[1] {
				t.Errorf("two grants share jti %q", jtis[0])
			}
		})
	}
}

func TestTokenRequest(t *testing.T) {
	var checked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			t.Errorf("got %s %s, want POST /token", r.Method, r.URL.Path)
		}
		for h, want := range map[string]string{
			"Content-Type":  "application/x-www-form-urlencoded",
			"Accept":        "application/json",
			"Authorization": "",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("header %s = %q, want %q", h, got, want)
			}
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if got := slices.Sorted(maps.Keys(r.PostForm)); !slices.Equal(got, []string{"assertion", "grant_type"}) {
			t.Errorf("form fields = %q, want assertion and grant_type", got)
		}
		if got := r.PostForm.Get("grant_type"); got != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			t.Errorf("grant_type = %q", got)
		}
		if strings.Count(r.PostForm.Get("assertion"), ".") != 2 {
			t.Errorf("assertion is not a JWS: %q", r.PostForm.Get("assertion"))
		}
		checked.Store(true)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 599, "scope": "s"})
	}))
	defer srv.Close()

	c := newClient(t, srv, nil)
	if got := mustToken(t, c, "s"); got != "at" {
		t.Errorf("Token = %q, want %q", got, "at")
	}
	if !checked.Load() {
		t.Error("token endpoint was not called")
	}
}

func TestDiscovery(t *testing.T) {
	tests := []struct {
		name     string
		slash    bool                  // Issuer ends in "/"
		metadata func(base string) any // nil: 404
		wantPath string                // where the token POSTs go
	}{
		{
			name:  "well-known, issuer with slash",
			slash: true,
			metadata: func(base string) any {
				return map[string]any{"issuer": base + "/", "token_endpoint": base + "/oauth2/token"}
			},
			wantPath: "/oauth2/token",
		},
		{
			name: "well-known, issuer without slash",
			metadata: func(base string) any {
				return map[string]any{"issuer": base + "/", "token_endpoint": base + "/oauth2/token"}
			},
			wantPath: "/oauth2/token",
		},
		{name: "404 falls back to issuer+token", slash: true, wantPath: "/token"},
		{name: "404 without slash falls back to issuer/token", wantPath: "/token"},
		{
			name:     "no token_endpoint falls back",
			slash:    true,
			metadata: func(base string) any { return map[string]any{"issuer": base + "/"} },
			wantPath: "/token",
		},
		{
			name:  "metadata of another issuer is ignored",
			slash: true,
			metadata: func(base string) any {
				return map[string]any{"issuer": "https://evil.example/", "token_endpoint": base + "/oauth2/token"}
			},
			wantPath: "/token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wellKnown atomic.Int64
			var mu sync.Mutex
			var paths, auds []string
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && r.URL.Path == "/.well-known/oauth-authorization-server" {
					wellKnown.Add(1)
					if tt.metadata == nil {
						http.NotFound(w, r)
						return
					}
					writeJSON(w, http.StatusOK, tt.metadata(srv.URL))
					return
				}
				tok, _, err := jwt.NewParser().ParseUnverified(r.PostFormValue("assertion"), jwt.MapClaims{})
				if err != nil {
					t.Errorf("bad assertion: %v", err)
					return
				}
				mu.Lock()
				paths = append(paths, r.Method+" "+r.URL.Path)
				auds = append(auds, tok.Claims.(jwt.MapClaims)["aud"].(string))
				mu.Unlock()
				writeJSON(w, http.StatusOK, map[string]any{"access_token": "at", "expires_in": 600})
			}))
			defer srv.Close()

			issuer := srv.URL
			if tt.slash {
				issuer += "/"
			}
			c := newClient(t, srv, func(cfg *maskinporten.Config) {
				cfg.Issuer = issuer
				cfg.TokenEndpoint = ""
			})
			mustToken(t, c, "a")
			mustToken(t, c, "b")

			if got := wellKnown.Load(); got != 1 {
				t.Errorf("metadata fetched %d times, want 1", got)
			}
			want := []string{"POST " + tt.wantPath, "POST " + tt.wantPath}
			if diff := cmp.Diff(want, paths); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{issuer, issuer}, auds); diff != "" {
				t.Errorf("aud is not the configured Issuer verbatim (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenConcurrent(t *testing.T) {
	s := newServer(t, 600)
	c := newClient(t, s.Server, nil)
	start := make(chan struct{})
	tokens := make([]string, 100)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			<-start
			tok, err := c.Token(t.Context(), "a", "b")
			if err != nil {
				t.Errorf("Token: %v", err)
			}
			tokens[i] = tok
		})
	}
	close(start)
	wg.Wait()
	for i, tok := range tokens {
		if tok != "token-1" {
			t.Errorf("caller %d got %q, want token-1", i, tok)
		}
	}
	checkFetches(t, s, c, 1)
}

func TestTokenScopeSets(t *testing.T) {
	s := newServer(t, 600)
	c := newClient(t, s.Server, nil)
	got := []string{
		mustToken(t, c, "a"),
		mustToken(t, c, "b"),
		mustToken(t, c, "b", "a"),
		mustToken(t, c, "a", "b", "a"),
		mustToken(t, c, "a"),
	}
	want := []string{"token-1", "token-2", "token-3", "token-3", "token-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	checkFetches(t, s, c, 3)
}

func TestTokenRefresh(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		margin    time.Duration
		refreshAt time.Duration // after receipt
	}{
		{name: "default margin", expiresIn: 600, refreshAt: 570 * time.Second},
		{name: "configured margin", expiresIn: 600, margin: 2 * time.Minute, refreshAt: 480 * time.Second},
		{name: "token shorter than margin", expiresIn: 20, refreshAt: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clk := &clock{t: t0}
			s := newServer(t, tt.expiresIn)
			c := newClient(t, s.Server, func(cfg *maskinporten.Config) {
				cfg.Now = clk.Now
				cfg.RefreshMargin = tt.margin
			})
			steps := []struct {
				at   time.Duration
				want string
			}{
				{0, "token-1"},
				{tt.refreshAt - time.Second, "token-1"},
				{tt.refreshAt, "token-2"},
				{tt.refreshAt + time.Second, "token-2"},
			}
			for _, st := range steps {
				clk.Set(t0.Add(st.at))
				if got := mustToken(t, c, "s"); got != st.want {
					t.Errorf("at +%v: got %q, want %q", st.at, got, st.want)
				}
			}
			checkFetches(t, s, c, 2)
		})
	}
}

func TestInvalidate(t *testing.T) {
	s := newServer(t, 600)
	c := newClient(t, s.Server, nil)
	mustToken(t, c, "a", "b")
	mustToken(t, c, "c")
	c.Invalidate("b", "a", "b")
	if got := mustToken(t, c, "a", "b"); got != "token-3" {
		t.Errorf("after Invalidate got %q, want a new token-3", got)
	}
	if got := mustToken(t, c, "c"); got != "token-2" {
		t.Errorf("other scope set got %q, want cached token-2", got)
	}
	checkFetches(t, s, c, 3)
}

// TestTokenCancel checks that a caller who gives up gets ctx.Err() at once,
// while the fetch it started still serves the others.
func TestTokenCancel(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "at", "expires_in": 600})
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, should a check below fail
	c := newClient(t, srv, nil)

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := c.Token(ctx, "s")
		first <- err
	}()
	<-arrived
	second := make(chan string, 1)
	go func() {
		tok, err := c.Token(context.Background(), "s")
		if err != nil {
			t.Errorf("second caller: %v", err)
		}
		second <- tok
	}()

	cancel()
	select {
	case err := <-first:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller got %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled caller did not return")
	}
	release <- struct{}{}
	if got := <-second; got != "at" {
		t.Errorf("second caller got %q, want at", got)
	}
	if posts.Load() != 1 || c.Fetches() != 1 {
		t.Errorf("posts = %d, Fetches = %d, want 1", posts.Load(), c.Fetches())
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *maskinporten.Error // nil: not an *Error
		wantMsg     string              // substring of err.Error()
	}{
		{
			name:        "400 invalid_grant",
			status:      400,
			contentType: "application/json",
			body:        `{"error":"invalid_grant","error_description":"MP-100 Invalid assertion. Client authentication failed. (correlation id: 1f2e)"}`,
			want:        &maskinporten.Error{StatusCode: 400, Code: "invalid_grant", Description: "MP-100 Invalid assertion. Client authentication failed. (correlation id: 1f2e)"},
			wantMsg:     "maskinporten: token endpoint returned 400 invalid_grant: MP-100 Invalid assertion.",
		},
		{
			name:        "403 forbidden",
			status:      403,
			contentType: "application/json",
			body:        `{"error":"forbidden","error_description":"MP-250 Consumer has not been granted access to the scope a","error_uri":"https://docs.digdir.no/"}`,
			want:        &maskinporten.Error{StatusCode: 403, Code: "forbidden", Description: "MP-250 Consumer has not been granted access to the scope a", URI: "https://docs.digdir.no/"},
			wantMsg:     "403 forbidden: MP-250",
		},
		{
			name:        "503 not JSON",
			status:      503,
			contentType: "text/html",
			body:        "<html>\n<body>Service   Unavailable</body>\n</html>\n",
			want:        &maskinporten.Error{StatusCode: 503, Description: "<html> <body>Service Unavailable</body> </html>"},
			wantMsg:     "maskinporten: token endpoint returned 503: <html>",
		},
		{
			name:        "502 long body is truncated",
			status:      502,
			contentType: "text/plain",
			body:        strings.Repeat("x", 5000),
			want:        &maskinporten.Error{StatusCode: 502, Description: strings.Repeat("x", 200) + "…"},
		},
		{
			name:        "200 malformed JSON",
			status:      200,
			contentType: "application/json",
			body:        `{"access_token":`,
			wantMsg:     "maskinporten: decode token response",
		},
		{
			name:        "200 empty access_token",
			status:      200,
			contentType: "application/json",
			body:        `{"access_token":"","token_type":"Bearer","expires_in":600}`,
			wantMsg:     "maskinporten: token response has no access_token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := newClient(t, srv, nil)

			for range 2 { // a failure is not cached
				tok, err := c.Token(t.Context(), "s")
				if err == nil {
					t.Fatalf("Token = %q, want error", tok)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not contain %q", err, tt.wantMsg)
				}
				var got *maskinporten.Error
				if errors.As(err, &got) != (tt.want != nil) {
					t.Fatalf("errors.As(%v, *Error) = %v, want %v", err, got != nil, tt.want != nil)
				}
				if got != nil && got.ServerDate.IsZero() {
					t.Error("*Error has no ServerDate from the answer's Date header")
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(maskinporten.Error{}, "ServerDate")); diff != "" {
					t.Errorf("*Error (-want +got):\n%s", diff)
				}
			}
			if got := c.Fetches(); got != 2 {
				t.Errorf("Fetches() = %d, want 2", got)
			}
		})
	}
}

func TestTokenBadScopes(t *testing.T) {
	s := newServer(t, 600)
	c := newClient(t, s.Server, nil)
	for _, scopes := range [][]string{nil, {""}, {"a", ""}, {"a b"}} {
		if _, err := c.Token(t.Context(), scopes...); err == nil || !strings.HasPrefix(err.Error(), "maskinporten: ") {
			t.Errorf("Token(%q) error = %v, want a maskinporten error", scopes, err)
		}
	}
	checkFetches(t, s, c, 0)
}

func TestNew(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	valid := maskinporten.Config{Issuer: "https://test.maskinporten.no/", ClientID: "c", KeyID: "k", Key: testKey()}
	tests := []struct {
		name    string
		edit    func(*maskinporten.Config)
		wantErr string // "" means valid
	}{
		{name: "valid", edit: func(*maskinporten.Config) {}},
		{name: "grant lifetime 120s", edit: func(c *maskinporten.Config) { c.GrantLifetime = 120 * time.Second }},
		{name: "grant lifetime 121s", edit: func(c *maskinporten.Config) { c.GrantLifetime = 121 * time.Second }, wantErr: "GrantLifetime"},
		{name: "negative grant lifetime", edit: func(c *maskinporten.Config) { c.GrantLifetime = -time.Second }, wantErr: "GrantLifetime"},
		{name: "negative refresh margin", edit: func(c *maskinporten.Config) { c.RefreshMargin = -time.Second }, wantErr: "RefreshMargin"},
		{name: "no issuer", edit: func(c *maskinporten.Config) { c.Issuer = "" }, wantErr: "Issuer"},
		{name: "relative issuer", edit: func(c *maskinporten.Config) { c.Issuer = "test.maskinporten.no" }, wantErr: "Issuer"},
		{name: "bad token endpoint", edit: func(c *maskinporten.Config) { c.TokenEndpoint = "/token" }, wantErr: "TokenEndpoint"},
		{name: "no client id", edit: func(c *maskinporten.Config) { c.ClientID = "" }, wantErr: "ClientID"},
		{name: "no key id", edit: func(c *maskinporten.Config) { c.KeyID = "" }, wantErr: "KeyID"},
		{name: "no key", edit: func(c *maskinporten.Config) { c.Key = nil }, wantErr: "Key is required"},
		{name: "1024-bit key", edit: func(c *maskinporten.Config) { c.Key = small }, wantErr: "at least 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := maskinporten.New(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New error = %v, want one mentioning %q", err, tt.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "maskinporten: "):
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}
