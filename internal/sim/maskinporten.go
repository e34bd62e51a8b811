package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	systemUserType     = "urn:altinn:systemuser"
	orgAuthority       = "iso6523-actorid-upis"
	// maxGrantLifetime is the longest exp - iat Maskinporten accepts.
	maxGrantLifetime = 120
	// grantClockSkew is how far iat may be from Maskinporten's clock.
	grantClockSkew = 10
	// bearerLeeway is the clock skew Altinn allows when it validates a token.
	bearerLeeway = 10 * time.Second
)

// grantClaims are the claims a Maskinporten grant may carry; any other claim makes
// Maskinporten answer "Invalid assertion".
var grantClaims = []string{"aud", "iss", "iat", "exp", "jti", "scope", "resource", "authorization_details"}

// grantAlgs are the signing algorithms Maskinporten accepts on a grant.
var grantAlgs = []string{"RS256", "RS384", "RS512"}

var orgIDPattern = regexp.MustCompile(`^0192:[0-9]{9}$`)

// tokenError is an OAuth error answer from /token.
type tokenError struct {
	status int
	code   string
	desc   string
}

// Error returns the OAuth error code and description, for logs.
func (e *tokenError) Error() string { return e.code + ": " + e.desc }

// invalidGrant is Maskinporten's answer to a grant that fails validation.
func invalidGrant(format string, args ...any) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", fmt.Sprintf(format, args...)}
}

// invalidRequest is Maskinporten's answer to a malformed request or assertion.
func invalidRequest(format string, args ...any) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

// handleMetadata serves the RFC 8414 metadata document as Maskinporten does.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	s.setDate(w)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.issuer,
		"token_endpoint":                        s.publicURL + "/token",
		"jwks_uri":                              s.publicURL + "/jwk",
		"grant_types_supported":                 []string{grantTypeJWTBearer},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": grantAlgs,
		"authorization_details_types_supported":            []string{systemUserType, "urn:altinn:consent"},
	})
}

// handleJWK serves the simulator's token-signing key as a JWK set.
func (s *Server) handleJWK(w http.ResponseWriter, r *http.Request) {
	s.setDate(w)
	pub := s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": s.kid,
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// handleToken is the token endpoint: it validates a JWT-bearer grant as Maskinporten
// does and issues an access token signed by the simulator's key.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.setDate(w)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeTokenError(w, &tokenError{http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST."})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeTokenError(w, invalidRequest("MP-011 Invalid request. Content-Type must be application/x-www-form-urlencoded."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, invalidRequest("MP-011 Invalid request. The form body could not be read."))
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "":
		writeTokenError(w, invalidRequest("Missing grant_type."))
		return
	case grantTypeJWTBearer:
	default:
		writeTokenError(w, &tokenError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("Unsupported grant_type %q; use %s.", gt, grantTypeJWTBearer)})
		return
	}
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		writeTokenError(w, invalidRequest("Missing assertion."))
		return
	}
	resp, terr := s.grant(assertion)
	if terr != nil {
		s.logf("sim: token refused: %s", terr)
		writeTokenError(w, terr)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// setDate sets the Date header from Maskinporten's clock, which a client reads to
// tell how far its own clock is off.
func (s *Server) setDate(w http.ResponseWriter) {
	w.Header().Set("Date", s.mpNow().UTC().Format(http.TimeFormat))
}

// grant validates a grant and issues a token, in Maskinporten's order as far as it is
// known: form of the JWT, header, claims allowed, client, key, signature, aud, times,
// jti, scopes, authorization_details.
func (s *Server) grant(assertion string) (map[string]any, *tokenError) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, invalidRequest("MP-011 Invalid assertion. The assertion is not a signed JWT.")
	}
	var hdr, claims map[string]any
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, invalidRequest("MP-011 Invalid assertion. The JWT header cannot be read.")
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, invalidRequest("MP-011 Invalid assertion. The JWT claims cannot be read.")
	}
	if _, ok := hdr["x5c"]; ok {
		return nil, invalidGrant("MP-123 Invalid assertion. Authentication with a certificate (x5c) is not supported by the simulator; register a key and send kid.")
	}
	kid, _ := hdr["kid"].(string)
	if kid == "" {
		return nil, invalidGrant("Invalid assertion. The JWT header has no kid.")
	}
	alg, _ := hdr["alg"].(string)
	if !slices.Contains(grantAlgs, alg) {
		return nil, invalidGrant("Invalid assertion. Unsupported signing algorithm %q; use RS256, RS384 or RS512.", alg)
	}
	var unknown []string
	for k := range claims {
		if !slices.Contains(grantClaims, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, invalidRequest("Invalid assertion. Claims not allowed in a grant: %s.", strings.Join(unknown, ", "))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.mpNowLocked()

	iss, _ := claims["iss"].(string)
	cl := s.clients[iss]
	if cl == nil {
		return nil, invalidGrant("MP-100 Invalid assertion. Client authentication failed. Client not found: %q.", iss)
	}
	pub := cl.keys[kid]
	if pub == nil {
		return nil, invalidGrant("Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, invalidGrant("MP-124 Invalid assertion. Invalid signature.")
	}
	if err := jwt.GetSigningMethod(alg).Verify(parts[0]+"."+parts[1], sig, pub); err != nil {
		return nil, invalidGrant("MP-124 Invalid assertion. Invalid signature.")
	}
	if !audIsIssuer(claims["aud"], s.issuer) {
		if a, _ := claims["aud"].(string); strings.TrimRight(a, "/") == s.publicURL+"/token" {
			return nil, invalidGrant("MP-110 Invalid assertion. Invalid JWT claim aud: the token endpoint is no longer a valid audience; use the issuer %q.", s.issuer)
		}
		return nil, invalidGrant("MP-110 Invalid assertion. Invalid JWT claim aud; want the issuer %q.", s.issuer)
	}
	iat, ok := numericClaim(claims["iat"])
	if !ok {
		return nil, invalidGrant("Invalid assertion. Missing or invalid iat.")
	}
	nowSec := float64(now.UnixNano()) / 1e9
	switch {
	case iat > nowSec+grantClockSkew:
		return nil, invalidGrant("Invalid assertion. Issue time is after now.")
	case iat < nowSec-grantClockSkew:
		return nil, invalidGrant("Invalid assertion. Issue time is more than %d seconds before now.", grantClockSkew)
	}
	exp, ok := numericClaim(claims["exp"])
	if !ok {
		return nil, invalidGrant("Invalid assertion. Missing or invalid exp.")
	}
	if life := exp - iat; life <= 0 || life > maxGrantLifetime {
		return nil, invalidGrant("Invalid assertion. exp - iat must be more than 0 and at most %d seconds.", maxGrantLifetime)
	}
	if exp <= nowSec {
		return nil, invalidGrant("MP-130 Invalid assertion. JWT is expired.")
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return nil, invalidRequest("MP-011 Invalid assertion. Missing jti.")
	}
	for k, until := range s.usedJTIs {
		if now.After(until) {
			delete(s.usedJTIs, k)
		}
	}
	jtiKey := iss + "\x00" + jti
	if _, used := s.usedJTIs[jtiKey]; used {
		return nil, invalidGrant("MP-012 Invalid assertion. Grant is used before.")
	}
	scope, _ := claims["scope"].(string)
	scopes := strings.Fields(scope)
	if len(scopes) == 0 {
		return nil, &tokenError{http.StatusBadRequest, "invalid_scope", "MP-200 Invalid scope. The grant asks for no scope."}
	}
	for _, sc := range scopes {
		if !slices.Contains(cl.scopes, sc) {
			return nil, &tokenError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf("MP-200 Invalid scope. Scope %q is not registered on client %q.", sc, cl.id)}
		}
	}
	aud, terr := resourceAudience(claims["resource"])
	if terr != nil {
		return nil, terr
	}
	var details []map[string]any
	if raw, ok := claims["authorization_details"]; ok {
		d, terr := s.systemUserDetailsLocked(cl, raw)
		if terr != nil {
			return nil, terr
		}
		details = []map[string]any{d}
	}

	s.usedJTIs[jtiKey] = time.Unix(int64(math.Ceil(exp)), 0).Add(grantClockSkew * time.Second)
	issued := now.Unix()
	at := jwt.MapClaims{
		"iss":        s.issuer,
		"aud":        aud,
		"client_id":  cl.id,
		"client_amr": "private_key_jwt",
		"consumer":   map[string]string{"authority": orgAuthority, "ID": "0192:" + cl.orgNo},
		"scope":      strings.Join(scopes, " "),
		"token_type": "Bearer",
		"iat":        issued,
		"exp":        issued + int64(s.lifetime/time.Second),
		"jti":        newUUID(),
	}
	if details != nil {
		at["authorization_details"] = details
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, at)
	tok.Header["kid"] = s.kid
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "The simulator could not sign the token."}
	}
	s.stats.TokensIssued++
	s.logf("sim: token issued to client %s (org %s) for %q", cl.id, cl.orgNo, scope)
	return map[string]any{
		"access_token": signed,
		"token_type":   "Bearer",
		"expires_in":   int64(s.lifetime / time.Second),
		"scope":        strings.Join(scopes, " "),
	}, nil
}

// systemUserDetailsLocked checks a grant's authorization_details for a system-user
// token and returns the element to put in the access token. Maskinporten asks Altinn
// for an active system user of (client id, client org, owner org, externalRef
// defaulting to the owner org); without one the answer is MP-303. The caller holds s.mu.
func (s *Server) systemUserDetailsLocked(cl *client, raw any) (map[string]any, *tokenError) {
	bad := func(format string, args ...any) *tokenError {
		return &tokenError{http.StatusBadRequest, "invalid_authorization_details", fmt.Sprintf(format, args...)}
	}
	list, ok := raw.([]any)
	if !ok || len(list) != 1 {
		return nil, bad("MP-303 Invalid authorization_details: want an array with exactly one element.")
	}
	el, ok := list[0].(map[string]any)
	if !ok {
		return nil, bad("MP-303 Invalid authorization_details: the element is not an object.")
	}
	if t, _ := el["type"].(string); t != systemUserType {
		return nil, bad("MP-301 Unsupported authorization_details type %q; the simulator supports %s.", t, systemUserType)
	}
	for k := range el {
		if k != "type" && k != "systemuser_org" && k != "externalRef" {
			return nil, bad("MP-302 Unknown field %q in authorization_details.", k)
		}
	}
	org, ok := el["systemuser_org"].(map[string]any)
	if !ok {
		return nil, bad("MP-303 Invalid authorization details values: systemuser_org is missing.")
	}
	authority, _ := org["authority"].(string)
	id, _ := org["ID"].(string)
	if authority != orgAuthority || !orgIDPattern.MatchString(id) || len(org) != 2 {
		return nil, bad(`MP-303 Invalid authorization details values: systemuser_org must be {"authority":"%s","ID":"0192:<9 digits>"}.`, orgAuthority)
	}
	owner := strings.TrimPrefix(id, "0192:")
	ref := owner
	if v, present := el["externalRef"]; present {
		str, ok := v.(string)
		if !ok {
			return nil, bad("MP-303 Invalid authorization details values: externalRef must be a string.")
		}
		ref = str
	}
	for _, u := range s.users {
		if u.deleted || u.partyOrgNo != owner || u.externalRef != ref {
			continue
		}
		sys := s.systems[u.systemID]
		if sys == nil || sys.Deleted || sys.VendorOrgNo != cl.orgNo || !slices.Contains(sys.ClientIDs, cl.id) {
			continue
		}
		return map[string]any{
			"type":           systemUserType,
			"systemuser_org": map[string]string{"authority": orgAuthority, "ID": id},
			"systemuser_id":  []string{u.id},
			"system_id":      u.systemID,
		}, nil
	}
	return nil, &tokenError{http.StatusBadRequest, "invalid_altinn_customer_configuration",
		fmt.Sprintf("MP-303 No approved system user for client %q, org %s and externalRef %q (or the client is not registered on the system).", cl.id, owner, ref)}
}

// audIsIssuer reports whether a grant's aud is the issuer: a string, or an array
// holding only the issuer (RFC 7519 allows both; Maskinporten documents the string).
func audIsIssuer(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		if len(a) != 1 {
			return false
		}
		s, _ := a[0].(string)
		return s == issuer
	}
	return false
}

// resourceAudience returns the access token's aud: the grant's resource when given
// (RFC 8707), otherwise "unspecified" as Maskinporten does today.
func resourceAudience(raw any) (any, *tokenError) {
	switch v := raw.(type) {
	case nil:
		return "unspecified", nil
	case string:
		if v != "" {
			return v, nil
		}
	case []any:
		var out []string
		for _, x := range v {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, invalidRequest("MP-011 Invalid assertion. Invalid parameter value: resource.")
			}
			out = append(out, s)
		}
		if len(out) == 1 {
			return out[0], nil
		}
		if len(out) > 1 {
			return out, nil
		}
	}
	return nil, invalidRequest("MP-011 Invalid assertion. Invalid parameter value: resource.")
}

// numericClaim reads a JSON number claim.
func numericClaim(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// decodeSegment decodes one base64url JWT segment holding a JSON object.
func decodeSegment(seg string, v *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if *v == nil {
		return errors.New("not an object")
	}
	return nil
}

// writeTokenError writes an OAuth error body with a correlation id, as Maskinporten does.
func writeTokenError(w http.ResponseWriter, e *tokenError) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, map[string]string{
		"error":             e.code,
		"error_description": e.desc + " (Correlation id: " + newUUID() + ")",
	})
}

// accessToken is what the simulator knows about the caller from a verified bearer token.
type accessToken struct {
	scopes []string
	// clientID is the Maskinporten client the token was issued to.
	clientID string
	// consumerOrg is the org number in the consumer claim, "" when there is none.
	consumerOrg string
}

// verifyBearer checks an Authorization header as Altinn does: a token the simulator
// issued, with a valid signature, not expired (10 s leeway).
func (s *Server) verifyBearer(header string) (*accessToken, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		if raw, ok = strings.CutPrefix(header, "bearer "); !ok {
			return nil, errors.New("no bearer token")
		}
	}
	raw = strings.TrimSpace(raw)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown kid")
		}
		return &s.key.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(s.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(bearerLeeway),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return nil, err
	}
	at := &accessToken{}
	if sc, ok := claims["scope"].(string); ok {
		at.scopes = strings.Fields(sc)
	}
	at.consumerOrg = consumerOrg(claims["consumer"])
	at.clientID, _ = claims["client_id"].(string)
	return at, nil
}

// consumerOrg reads the org number from a consumer claim as Altinn's tolerant parser
// does: the ID (any case) of {"authority":..., "ID":"0192:<orgno>"}, with or without
// the 0192: prefix.
func consumerOrg(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	for k, val := range m {
		if !strings.EqualFold(k, "id") {
			continue
		}
		id, _ := val.(string)
		if i := strings.LastIndex(id, ":"); i >= 0 {
			id = id[i+1:]
		}
		return strings.TrimSpace(id)
	}
	return ""
}

// writeJSON writes v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}
