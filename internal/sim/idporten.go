package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ID-porten's routes under the simulator: the issuer is PublicURL+idportenBase.
const (
	idportenBase = "/idporten"
	// exchangePath is Altinn's token exchange for an ID-porten token.
	exchangePath = "/authentication/api/v1/exchange/id-porten"
	// altinnIssuerPath is the issuer of Altinn's own tokens under the
	// platform URL.
	altinnIssuerPath = "/authentication/api/v1/openid/"

	acrSubstantial = "idporten-loa-substantial"
	acrHigh        = "idporten-loa-high"
	acrLow         = "idporten-loa-low"

	// defaultIDPortenTokenLifetime is the expires_in of ID-porten's access
	// and id tokens (Digdir's default for a client, 120 s).
	defaultIDPortenTokenLifetime = 120 * time.Second
	// codeLifetime is how long an authorization code may be redeemed.
	codeLifetime = 60 * time.Second
	// refreshLifetime is how long a refresh token lasts (unused).
	refreshLifetime = 2 * time.Hour
	// clientAssertionType is RFC 7523's client authentication by JWT.
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

//go:embed idporten.html
var idportenHTML string

// idportenPages are parsed on first use, as pages (confirm.go).
var idportenPages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("idporten").Parse(idportenHTML))
})

// idportenState is the simulated ID-porten: its clients, the persons it can
// log in, and the codes and refresh tokens it has issued. None of it is kept
// in the state file: clients and persons come from the seed and
// AddIDPortenClient at every start, and a restart ends every login, as new
// signing keys would anyway.
type idportenState struct {
	issuer   string
	lifetime time.Duration
	key      lazyKey // ID-porten's signing key
	altinn   lazyKey // Altinn's key for exchanged tokens
	clients  map[string]*idpClient
	persons  map[string]*person
	order    []string // pids in seed order, for the picker
	codes    map[string]*authCode
	refresh  map[string]*refreshGrant
	// usedAssertions are client assertions' client id + jti, until they expire.
	usedAssertions map[string]time.Time
}

// lazyKey is an RSA signing key made on first use, so that a simulator
// nobody logs in to does not pay for it.
type lazyKey struct {
	once   sync.Once
	prefix string
	key    *rsa.PrivateKey
	kid    string
}

// get returns the key and its kid.
func (k *lazyKey) get() (*rsa.PrivateKey, string) {
	k.once.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("sim: generate signing key: " + err.Error())
		}
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		sum := sha256.Sum256(der)
		k.key, k.kid = key, k.prefix+base64.RawURLEncoding.EncodeToString(sum[:12])
	})
	return k.key, k.kid
}

// idpClient is a registered ID-porten client.
type idpClient struct {
	id           string
	redirectURIs []string
	method       string
	keys         map[string]*rsa.PublicKey
	secretHash   [32]byte
	scopes       []string
}

// person is a test person, with what they hold per organisation.
type person struct {
	pid, name       string
	roles           map[string][]string // org number → roles and packages
	orgOrder        []string
	userID, partyID int
	partyUUID       string
}

// authCode is an issued authorization code.
type authCode struct {
	clientID, redirectURI string
	pid, nonce, acr       string
	scopes                []string
	challenge             string
	authTime, expires     time.Time
	sid                   string
	used                  bool
}

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	clientID, pid, acr, sid string
	scopes                  []string
	authTime, expires       time.Time
}

// oauthError is an RFC 6749 error answer.
type oauthError struct {
	status       int
	code, desc   string
	wwwAuthBasic bool
}

// Error returns the code and description, for logs.
func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func oauthErr(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
}

// newIDPortenClient checks a client registration and builds it.
func newIDPortenClient(c IDPortenClient) (*idpClient, error) {
	if c.ClientID == "" {
		return nil, errors.New("sim: ID-porten client needs a client id")
	}
	if len(c.RedirectURIs) == 0 {
		return nil, fmt.Errorf("sim: ID-porten client %q needs a redirect URI", c.ClientID)
	}
	for _, u := range c.RedirectURIs {
		if err := checkRegisteredRedirectURL(u); err != nil {
			return nil, fmt.Errorf("sim: ID-porten client %q: %w", c.ClientID, err)
		}
	}
	cl := &idpClient{id: c.ClientID, redirectURIs: slices.Clone(c.RedirectURIs), method: c.AuthMethod, keys: map[string]*rsa.PublicKey{}}
	if cl.method == "" {
		cl.method = AuthPrivateKeyJWT
	}
	switch cl.method {
	case AuthPrivateKeyJWT:
		if c.KeyID == "" {
			return nil, fmt.Errorf("sim: ID-porten client %q: private_key_jwt needs a key id", c.ClientID)
		}
		pub, err := parseRSAPublicKey(c.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("sim: ID-porten client %q: %w", c.ClientID, err)
		}
		cl.keys[c.KeyID] = pub
	case AuthClientSecretBasic, AuthClientSecretPost:
		if len(c.Secret) < 16 {
			return nil, fmt.Errorf("sim: ID-porten client %q: the secret must be at least 16 characters", c.ClientID)
		}
		cl.secretHash = sha256.Sum256([]byte(c.Secret))
	default:
		return nil, fmt.Errorf("sim: ID-porten client %q: auth method %q is not private_key_jwt, client_secret_basic or client_secret_post", c.ClientID, c.AuthMethod)
	}
	cl.scopes = c.Scopes
	if cl.scopes == nil {
		cl.scopes = []string{ScopeClientDelegationsRead, ScopeClientDelegationsWrite}
	}
	return cl, nil
}

// AddIDPortenClient registers an ID-porten client, as the app does with its
// own at start (see DevIDPortenClient). Adding a client id again replaces it.
func (s *Server) AddIDPortenClient(c IDPortenClient) error {
	cl, err := newIDPortenClient(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idp.clients[cl.id] = cl
	return nil
}

// IDPortenIssuer returns the simulated ID-porten's issuer (no trailing slash,
// as ID-porten's): its discovery document is at issuer +
// "/.well-known/openid-configuration".
func (s *Server) IDPortenIssuer() string { return s.idp.issuer }

// AltinnIssuer returns the issuer of the Altinn tokens the exchange gives.
func (s *Server) AltinnIssuer() string { return s.publicURL + altinnIssuerPath }

// initIDPorten sets up ID-porten from the seed. The caller is New.
func (s *Server) initIDPorten(cfg Config) error {
	s.idp = idportenState{
		issuer:         s.publicURL + idportenBase,
		lifetime:       cfg.IDPortenTokenLifetime,
		key:            lazyKey{prefix: "idporten-"},
		altinn:         lazyKey{prefix: "altinn-"},
		clients:        map[string]*idpClient{},
		persons:        map[string]*person{},
		codes:          map[string]*authCode{},
		refresh:        map[string]*refreshGrant{},
		usedAssertions: map[string]time.Time{},
	}
	if s.idp.lifetime <= 0 {
		s.idp.lifetime = defaultIDPortenTokenLifetime
	}
	for _, p := range cfg.Seed.Persons {
		pp := &person{pid: p.PID, name: p.Name, roles: map[string][]string{}, partyUUID: derivedGUID("person:" + p.PID)}
		pp.userID = 20000000 + derivedInt("user:"+p.PID, 9000000)
		pp.partyID = 50000000 + derivedInt("party:"+p.PID, 9000000)
		for _, r := range p.Roles {
			if _, seen := pp.roles[r.OrgNo]; !seen {
				pp.orgOrder = append(pp.orgOrder, r.OrgNo)
			}
			pp.roles[r.OrgNo] = append(pp.roles[r.OrgNo], r.Roles...)
		}
		s.idp.persons[p.PID] = pp
		s.idp.order = append(s.idp.order, p.PID)
	}
	for _, c := range cfg.Seed.IDPortenClients {
		cl, err := newIDPortenClient(c)
		if err != nil {
			return err
		}
		s.idp.clients[cl.id] = cl
	}
	return nil
}

// derivedInt is a stable number in [0, n) for key.
func derivedInt(key string, n int) int {
	sum := sha256.Sum256([]byte("onboard-sim:" + key))
	return int(new(big.Int).Mod(new(big.Int).SetBytes(sum[:8]), big.NewInt(int64(n))).Int64())
}

// handleDiscovery serves the OpenID Connect discovery document.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.idp.issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + "/authorize",
		"token_endpoint":                                   iss + "/token",
		"jwks_uri":                                         iss + "/jwks.json",
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                          []string{"pairwise"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"token_endpoint_auth_methods_supported":            []string{AuthClientSecretPost, AuthClientSecretBasic, AuthPrivateKeyJWT},
		"token_endpoint_auth_signing_alg_values_supported": grantAlgs,
		"code_challenge_methods_supported":                 []string{"S256"},
		"scopes_supported":                                 []string{"openid", "profile", ScopeClientDelegationsRead, ScopeClientDelegationsWrite},
		"acr_values_supported":                             []string{acrSubstantial, acrHigh},
		"ui_locales_supported":                             []string{"nb", "nn", "en", "se"},
		"claims_supported":                                 []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "pid", "sid", "locale"},
		"authorization_response_iss_parameter_supported":   true,
	})
}

// handleIDPortenJWKS serves ID-porten's signing key.
func (s *Server) handleIDPortenJWKS(w http.ResponseWriter, r *http.Request) {
	key, kid := s.idp.key.get()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{jwk(&key.PublicKey, kid)}})
}

// jwk is an RSA public key as a JWK.
func jwk(pub *rsa.PublicKey, kid string) map[string]string {
	return map[string]string{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// authzRequest is an authorization request's parameters.
type authzRequest struct {
	ClientID, RedirectURI, ResponseType, Scope, State, Nonce string
	Challenge, Method, ACRValues, UILocales, Prompt          string
}

// readAuthzRequest reads the parameters from a query or form.
func readAuthzRequest(v url.Values) authzRequest {
	return authzRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), ResponseType: v.Get("response_type"),
		Scope: v.Get("scope"), State: v.Get("state"), Nonce: v.Get("nonce"),
		Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"),
		ACRValues: v.Get("acr_values"), UILocales: v.Get("ui_locales"), Prompt: v.Get("prompt"),
	}
}

// values is the request as hidden form fields.
func (a authzRequest) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{
		"client_id": a.ClientID, "redirect_uri": a.RedirectURI, "response_type": a.ResponseType, "scope": a.Scope,
		"state": a.State, "nonce": a.Nonce, "code_challenge": a.Challenge, "code_challenge_method": a.Method,
		"acr_values": a.ACRValues, "ui_locales": a.UILocales, "prompt": a.Prompt,
	} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// checkAuthzRequest validates an authorization request in ID-porten's order.
// A bad client or redirect URI cannot be sent back (redirect false): it is
// shown to the person. Every other error goes to the redirect URI. It
// returns the acr to log in at and the scopes.
func (s *Server) checkAuthzRequest(a authzRequest) (acr string, scopes []string, redirect bool, e *oauthError) {
	s.mu.Lock()
	cl := s.idp.clients[a.ClientID]
	s.mu.Unlock()
	if cl == nil {
		return "", nil, false, oauthErr(http.StatusBadRequest, "invalid_client", "Unknown client_id %q.", a.ClientID)
	}
	if !slices.Contains(cl.redirectURIs, a.RedirectURI) {
		return "", nil, false, oauthErr(http.StatusBadRequest, "invalid_request", "redirect_uri %q is not registered for the client.", a.RedirectURI)
	}
	bad := func(code, format string, args ...any) (string, []string, bool, *oauthError) {
		return "", nil, true, oauthErr(http.StatusBadRequest, code, format, args...)
	}
	if a.ResponseType != "code" {
		return bad("unsupported_response_type", "response_type must be code (the authorization code flow is the only one).")
	}
	scopes = strings.Fields(a.Scope)
	if !slices.Contains(scopes, "openid") {
		return bad("invalid_scope", "The scope must include openid.")
	}
	for _, sc := range scopes {
		if sc != "openid" && sc != "profile" && !slices.Contains(cl.scopes, sc) {
			return bad("invalid_scope", "Scope %q is not registered on the client.", sc)
		}
	}
	switch {
	case a.State == "":
		return bad("invalid_request", "state is required.")
	case a.Nonce == "":
		return bad("invalid_request", "nonce is required.")
	case a.Challenge == "":
		return bad("invalid_request", "code_challenge is required (PKCE).")
	case a.Method != "S256":
		return bad("invalid_request", "code_challenge_method must be S256.")
	case !pkceValue(a.Challenge, 43, 43):
		return bad("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier, without padding (43 characters).")
	}
	acr = acrSubstantial
	if a.ACRValues != "" {
		for _, v := range strings.Fields(a.ACRValues) {
			if v != acrSubstantial && v != acrHigh {
				return bad("invalid_request", "acr_values %q: use idporten-loa-substantial or idporten-loa-high.", v)
			}
		}
		acr = strings.Fields(a.ACRValues)[0]
	}
	return acr, scopes, true, nil
}

// pkceValue reports whether v is made of RFC 7636's unreserved characters
// and has a length in [min, max].
func pkceValue(v string, min, max int) bool {
	if len(v) < min || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// pickerView is the test-person picker.
type pickerView struct {
	Action  string
	Hidden  url.Values
	ACR     string
	Persons []pickerPerson
	Error   *message
}

// pickerPerson is one person on the picker.
type pickerPerson struct {
	PID, Name string
	Roles     []string
}

// handleAuthorize serves GET authorize: the test-person picker, once the
// request is valid.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	a := readAuthzRequest(r.URL.Query())
	acr, _, redirect, e := s.checkAuthzRequest(a)
	if e != nil {
		s.authzError(w, a, redirect, e)
		return
	}
	renderIDPortenPage(w, http.StatusOK, "picker", s.pickerView(a, acr))
}

// handleAuthorizeChoice serves the picker's form: log in as the chosen
// person (a code to the redirect URI) or cancel (access_denied).
func (s *Server) handleAuthorizeChoice(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderIDPortenPage(w, http.StatusBadRequest, "error", message{NB: "Ugyldig skjema", EN: "The form could not be read."})
		return
	}
	a := readAuthzRequest(r.PostForm)
	acr, scopes, redirect, e := s.checkAuthzRequest(a)
	if e != nil {
		s.authzError(w, a, redirect, e)
		return
	}
	if r.PostForm.Get("cancel") != "" {
		s.authzError(w, a, true, oauthErr(http.StatusBadRequest, "access_denied", "The person cancelled the login."))
		return
	}
	pid := r.PostForm.Get("pid")
	s.mu.Lock()
	p := s.idp.persons[pid]
	s.mu.Unlock()
	if p == nil {
		v := s.pickerView(a, acr)
		v.Error = &message{NB: "Velg en av testpersonene.", EN: "Choose one of the test persons."}
		renderIDPortenPage(w, http.StatusBadRequest, "picker", v)
		return
	}
	code := randomToken()
	now := s.now()
	s.mu.Lock()
	for k, c := range s.idp.codes {
		if now.After(c.expires) {
			delete(s.idp.codes, k)
		}
	}
	s.idp.codes[code] = &authCode{
		clientID: a.ClientID, redirectURI: a.RedirectURI, pid: pid, nonce: a.Nonce, acr: acr,
		scopes: scopes, challenge: a.Challenge, authTime: now, expires: now.Add(codeLifetime), sid: newUUID(),
	}
	s.mu.Unlock()
	s.logf("sim: ID-porten login of %s for client %s", p.name, a.ClientID)
	q := url.Values{"code": {code}, "state": {a.State}, "iss": {s.idp.issuer}}
	redirectTo(w, a.RedirectURI, q)
}

// authzError shows the error, or sends it to the client's redirect URI with
// the state and iss (RFC 6749 §4.1.2.1, RFC 9207).
func (s *Server) authzError(w http.ResponseWriter, a authzRequest, redirect bool, e *oauthError) {
	s.logf("sim: ID-porten authorize refused: %s", e)
	if !redirect {
		renderIDPortenPage(w, e.status, "error", message{NB: "Innloggingen kan ikke starte", EN: e.desc, Code: e.code})
		return
	}
	q := url.Values{"error": {e.code}, "error_description": {e.desc}, "iss": {s.idp.issuer}}
	if a.State != "" {
		q.Set("state", a.State)
	}
	redirectTo(w, a.RedirectURI, q)
}

// redirectTo sends the browser to uri with q added to its query.
func redirectTo(w http.ResponseWriter, uri string, q url.Values) {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	w.Header().Set("Location", uri+sep+q.Encode())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// pickerView builds the picker for a valid request.
func (s *Server) pickerView(a authzRequest, acr string) pickerView {
	v := pickerView{Action: idportenBase + "/authorize", Hidden: a.values(), ACR: acr}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pid := range s.idp.order {
		p := s.idp.persons[pid]
		pp := pickerPerson{PID: p.pid, Name: p.name}
		for _, org := range p.orgOrder {
			name, _ := s.orgNameLocked(org)
			if f := s.cd.firms[org]; f != nil {
				name = f.name
			}
			roles := "ingen roller (no roles)"
			if len(p.roles[org]) > 0 {
				roles = strings.Join(p.roles[org], ", ")
			}
			pp.Roles = append(pp.Roles, fmt.Sprintf("%s (%s): %s", name, org, roles))
		}
		v.Persons = append(v.Persons, pp)
	}
	return v
}

// renderIDPortenPage renders one of ID-porten's pages, without scripts.
func renderIDPortenPage(w http.ResponseWriter, status int, name string, data any) {
	var buf strings.Builder
	if err := idportenPages().ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "sim: render page", http.StatusInternalServerError)
		return
	}
	// The picker's form is answered with a redirect to the client's
	// (registered, already checked) redirect URI, which browsers hold to
	// form-action too.
	formAction := "'self'"
	if v, ok := data.(pickerView); ok {
		if u, err := url.Parse(v.Hidden.Get("redirect_uri")); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action "+formAction)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// handleIDPortenToken serves POST token: the authorization code and refresh
// token grants, with client authentication.
func (s *Server) handleIDPortenToken(w http.ResponseWriter, r *http.Request) {
	resp, e := s.idportenToken(r, w)
	if e != nil {
		s.logf("sim: ID-porten token refused: %s", e)
		writeOAuthError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// writeOAuthError writes an RFC 6749 §5.2 error body.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.wwwAuthBasic {
		w.Header().Set("WWW-Authenticate", `Basic realm="idporten"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// idportenToken validates a token request and issues the tokens.
func (s *Server) idportenToken(r *http.Request, w http.ResponseWriter) (map[string]any, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, oauthErr(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST.")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "The form body could not be read.")
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) > 1 {
			return nil, oauthErr(http.StatusBadRequest, "invalid_request", "Parameter %s is repeated.", k)
		}
	}
	cl, e := s.authenticateClient(r, f)
	if e != nil {
		return nil, e
	}
	switch gt := f.Get("grant_type"); gt {
	case "authorization_code":
		return s.codeGrant(cl, f)
	case "refresh_token":
		return s.refreshGrant(cl, f)
	case "":
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "grant_type is missing.")
	default:
		return nil, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported.", gt)
	}
}

// authenticateClient authenticates the client by the method it is registered
// with; another method, an unknown client or bad credentials are
// invalid_client (401).
func (s *Server) authenticateClient(r *http.Request, f url.Values) (*idpClient, *oauthError) {
	user, pass, basic := r.BasicAuth()
	invalid := func(format string, args ...any) *oauthError {
		e := oauthErr(http.StatusUnauthorized, "invalid_client", format, args...)
		e.wwwAuthBasic = basic // RFC 6749 §5.2: a failed Authorization header gets a challenge
		return e
	}
	assertion := f.Get("client_assertion")
	id := f.Get("client_id")
	var method string
	switch {
	case basic:
		method = AuthClientSecretBasic
		if u, err := url.QueryUnescape(user); err == nil {
			user = u
		}
		if p, err := url.QueryUnescape(pass); err == nil {
			pass = p
		}
		if id != "" && id != user {
			return nil, invalid("client_id does not match the Authorization header.")
		}
		id = user
	case assertion != "":
		method = AuthPrivateKeyJWT
		if t := f.Get("client_assertion_type"); t != clientAssertionType {
			return nil, invalid("client_assertion_type must be %s.", clientAssertionType)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(assertion, claims); err != nil {
			return nil, invalid("client_assertion is not a JWT.")
		}
		iss, _ := claims["iss"].(string)
		if id != "" && id != iss {
			return nil, invalid("client_id does not match the client_assertion's iss.")
		}
		id = iss
	case f.Get("client_secret") != "":
		method = AuthClientSecretPost
	default:
		return nil, invalid("No client authentication.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.idp.clients[id]
	if cl == nil {
		return nil, invalid("Unknown client %q.", id)
	}
	if cl.method != method {
		return nil, invalid("The client is registered with %s, not %s.", cl.method, method)
	}
	switch method {
	case AuthClientSecretBasic, AuthClientSecretPost:
		secret := pass
		if method == AuthClientSecretPost {
			secret = f.Get("client_secret")
		}
		sum := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(sum[:], cl.secretHash[:]) != 1 {
			return nil, invalid("Client authentication failed.")
		}
	case AuthPrivateKeyJWT:
		if e := s.checkClientAssertionLocked(cl, assertion); e != nil {
			return nil, e
		}
	}
	return cl, nil
}

// checkClientAssertionLocked verifies a private_key_jwt assertion: a key of
// the client (kid), RS256/384/512, iss = sub = client_id, aud = the issuer,
// exp within 120 s of iat, iat within 10 s of now, a jti not seen before. The
// caller holds s.mu.
func (s *Server) checkClientAssertionLocked(cl *idpClient, assertion string) *oauthError {
	invalid := func(format string, args ...any) *oauthError {
		return oauthErr(http.StatusUnauthorized, "invalid_client", format, args...)
	}
	now := s.nowLocked()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := cl.keys[kid]; k != nil {
			return k, nil
		}
		return nil, errors.New("unknown kid")
	},
		jwt.WithValidMethods(grantAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(grantClockSkew*time.Second),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return invalid("client_assertion is not valid: %v.", err)
	}
	if iss, _ := claims["iss"].(string); iss != cl.id {
		return invalid("client_assertion: iss must be the client_id.")
	}
	if sub, _ := claims["sub"].(string); sub != cl.id {
		return invalid("client_assertion: sub must be the client_id.")
	}
	if !audIsIssuer(claims["aud"], s.idp.issuer) {
		return invalid("client_assertion: aud must be the issuer %q.", s.idp.issuer)
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if iat == nil {
		return invalid("client_assertion: iat is required.")
	}
	// An iat in the future is refused by the parser (WithIssuedAt, leeway
	// grantClockSkew).
	if life := exp.Sub(iat.Time); life <= 0 || life > maxGrantLifetime*time.Second {
		return invalid("client_assertion: exp - iat must be more than 0 and at most %d seconds.", maxGrantLifetime)
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return invalid("client_assertion: jti is required.")
	}
	for k, until := range s.idp.usedAssertions {
		if now.After(until) {
			delete(s.idp.usedAssertions, k)
		}
	}
	key := cl.id + "\x00" + jti
	if _, used := s.idp.usedAssertions[key]; used {
		return invalid("client_assertion has been used before.")
	}
	s.idp.usedAssertions[key] = exp.Add(grantClockSkew * time.Second)
	return nil
}

// codeGrant redeems an authorization code: once, before it expires, by the
// client it was issued to, with the same redirect_uri and the PKCE verifier.
func (s *Server) codeGrant(cl *idpClient, f url.Values) (map[string]any, *oauthError) {
	code, verifier, redirect := f.Get("code"), f.Get("code_verifier"), f.Get("redirect_uri")
	if code == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "code is missing.")
	}
	if redirect == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "redirect_uri is missing.")
	}
	if verifier == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "code_verifier is missing (PKCE).")
	}
	if !pkceValue(verifier, 43, 128) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "code_verifier must be 43 to 128 unreserved characters.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	c := s.idp.codes[code]
	grantErr := func(format string, args ...any) (map[string]any, *oauthError) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", format, args...)
	}
	switch {
	case c == nil:
		return grantErr("The code is unknown.")
	case c.used:
		return grantErr("The code has been used before.")
	case now.After(c.expires):
		delete(s.idp.codes, code)
		return grantErr("The code has expired.")
	case c.clientID != cl.id:
		return grantErr("The code was issued to another client.")
	}
	c.used = true // a code is spent by any attempt, as RFC 6749 §10.5 advises
	if c.redirectURI != redirect {
		return grantErr("redirect_uri does not match the authorization request.")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		return grantErr("code_verifier does not match the code_challenge.")
	}
	p := s.idp.persons[c.pid]
	if p == nil {
		return grantErr("The person is no longer known.")
	}
	resp, err := s.issueIDPortenTokensLocked(cl, p, c.acr, c.scopes, c.authTime, c.sid, c.nonce, true)
	if err != nil {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", "The simulator could not sign the tokens.")
	}
	return resp, nil
}

// refreshGrant exchanges a refresh token for new tokens; the old one is spent.
func (s *Server) refreshGrant(cl *idpClient, f url.Values) (map[string]any, *oauthError) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "refresh_token is missing.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.idp.refresh[rt]
	delete(s.idp.refresh, rt)
	if g == nil || g.clientID != cl.id || s.nowLocked().After(g.expires) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", "The refresh token is unknown, spent, expired or another client's.")
	}
	p := s.idp.persons[g.pid]
	if p == nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", "The person is no longer known.")
	}
	resp, err := s.issueIDPortenTokensLocked(cl, p, g.acr, g.scopes, g.authTime, g.sid, "", false)
	if err != nil {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", "The simulator could not sign the tokens.")
	}
	return resp, nil
}

// issueIDPortenTokensLocked signs an access token (a JWT "by value") and, for
// a code, an id token, and makes a refresh token. The caller holds s.mu.
func (s *Server) issueIDPortenTokensLocked(cl *idpClient, p *person, acr string, scopes []string, authTime time.Time, sid, nonce string, withID bool) (map[string]any, error) {
	key, kid := s.idp.key.get()
	now := s.nowLocked()
	iat, exp := now.Unix(), now.Add(s.idp.lifetime).Unix()
	sub := pairwiseSub(cl.id, p.pid)
	var apiScopes []string
	for _, sc := range scopes {
		if sc != "openid" && sc != "profile" {
			apiScopes = append(apiScopes, sc)
		}
	}
	at := jwt.MapClaims{
		"iss": s.idp.issuer, "client_id": cl.id, "client_amr": cl.method, "aud": "unspecified",
		"sub": sub, "pid": p.pid, "acr": acr, "amr": []string{"TestID"}, "scope": strings.Join(apiScopes, " "),
		"iat": iat, "exp": exp, "auth_time": authTime.Unix(), "jti": newUUID(),
	}
	access, err := signJWT(at, key, kid)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int64(s.idp.lifetime / time.Second),
		"scope": strings.Join(scopes, " "),
	}
	if withID {
		idc := jwt.MapClaims{
			"iss": s.idp.issuer, "aud": cl.id, "sub": sub, "pid": p.pid, "acr": acr, "amr": []string{"TestID"},
			"iat": iat, "exp": exp, "auth_time": authTime.Unix(), "nonce": nonce, "sid": sid, "locale": "nb", "jti": newUUID(),
		}
		idt, err := signJWT(idc, key, kid)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	for k, g := range s.idp.refresh {
		if now.After(g.expires) {
			delete(s.idp.refresh, k)
		}
	}
	rt := randomToken()
	s.idp.refresh[rt] = &refreshGrant{clientID: cl.id, pid: p.pid, acr: acr, sid: sid, scopes: scopes, authTime: authTime, expires: now.Add(refreshLifetime)}
	resp["refresh_token"] = rt
	resp["refresh_token_expires_in"] = int64(refreshLifetime / time.Second)
	return resp, nil
}

// signJWT signs claims with RS256 and the kid.
func signJWT(c jwt.MapClaims, key *rsa.PrivateKey, kid string) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = kid
	return t.SignedString(key)
}

// pairwiseSub is ID-porten's pairwise subject: the same for a person and a
// client every time, different across clients.
func pairwiseSub(clientID, pid string) string {
	sum := sha256.Sum256([]byte("onboard-sim-sub:" + clientID + "\x00" + pid))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// handleExchange serves GET exchange/id-porten: an ID-porten access token for
// an Altinn token (clientdelegation.md §1). It checks the signature against
// ID-porten's key and the lifetime (10 s skew) but not iss or aud; no pid or
// acr, or a person unknown in Altinn, is a 401; no altinn: scope a 403. The
// Altinn token keeps the claims, with Altinn's added, and the same exp.
func (s *Server) handleExchange(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	key, _ := s.idp.key.get()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(),
		jwt.WithLeeway(bearerLeeway), jwt.WithTimeFunc(s.now))
	if err != nil {
		s.logf("sim: exchange refused: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	pid, _ := claims["pid"].(string)
	acr, _ := claims["acr"].(string)
	level, known := map[string]int{acrLow: 0, acrSubstantial: 3, acrHigh: 4}[acr]
	s.mu.Lock()
	p := s.idp.persons[pid]
	s.mu.Unlock()
	if pid == "" || !known || p == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sc, _ := claims["scope"].(string)
	if !slices.ContainsFunc(strings.Fields(sc), func(v string) bool { return strings.HasPrefix(v, "altinn:") }) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	claims["iss"] = s.AltinnIssuer()
	claims["iat"] = s.now().Unix()
	claims["urn:altinn:userid"] = fmt.Sprint(p.userID)
	claims["urn:altinn:partyid"] = fmt.Sprint(p.partyID)
	claims["urn:altinn:party:uuid"] = p.partyUUID
	claims["urn:altinn:authlevel"] = fmt.Sprint(level)
	akey, akid := s.idp.altinn.get()
	signed, err := signJWT(claims, akey, akid)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(signed))
}

// bearer reads a bearer token from an Authorization header.
func bearer(h string) (string, bool) {
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(h, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	return raw, ok && raw != ""
}

// personToken is what Altinn knows from a verified exchanged token.
type personToken struct {
	pid       string
	scopes    []string
	authLevel int
}

// altinnTokenClaims checks the bearer token in h as one of the Altinn
// exchange's (Altinn's key and kid, RS256, its issuer, not expired, with
// bearerLeeway) and returns its claims.
func (s *Server) altinnTokenClaims(h string) (jwt.MapClaims, error) {
	raw, ok := bearer(h)
	if !ok {
		return nil, errors.New("no bearer token")
	}
	key, kid := s.idp.altinn.get()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if k, _ := t.Header["kid"].(string); k != kid {
			return nil, errors.New("unknown kid")
		}
		return &key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(s.AltinnIssuer()), jwt.WithExpirationRequired(),
		jwt.WithLeeway(bearerLeeway), jwt.WithTimeFunc(s.now))
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// verifyAltinnToken checks an Altinn token from the exchange: Altinn's key
// and issuer, not expired (10 s leeway).
func (s *Server) verifyAltinnToken(h string) (*personToken, error) {
	claims, err := s.altinnTokenClaims(h)
	if err != nil {
		return nil, err
	}
	pt := &personToken{}
	pt.pid, _ = claims["pid"].(string)
	if sc, ok := claims["scope"].(string); ok {
		pt.scopes = strings.Fields(sc)
	}
	lv, _ := claims["urn:altinn:authlevel"].(string)
	_, _ = fmt.Sscan(lv, &pt.authLevel)
	return pt, nil
}

// adminAddIDPortenClient serves POST /_sim/idporten/clients: an
// IDPortenClient as JSON registers (or replaces) an ID-porten client, for
// people running the simulator on its own.
func (s *Server) adminAddIDPortenClient(w http.ResponseWriter, r *http.Request) {
	var c IDPortenClient
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		writeAdminError(w, http.StatusBadRequest, "bad ID-porten client: "+err.Error())
		return
	}
	if err := s.AddIDPortenClient(c); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"clientId": c.ClientID})
}
