package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Timeout modes, see Config.TimeoutMode.
const (
	TimeoutCurrent   = "current"
	TimeoutLegacy10d = "legacy10d"
)

// Request statuses as Altinn writes them.
const (
	StatusNew      = "New"
	StatusAccepted = "Accepted"
	StatusRejected = "Rejected"
	StatusDenied   = "Denied"
	StatusTimedout = "Timedout"
)

const (
	defaultTokenLifetime = 599 * time.Second
	// timedOutAfter is the age after which current Altinn sets timedOut=true.
	timedOutAfter = 180 * 24 * time.Hour
	// legacyTimeoutAfter is the age after which Altinn before 2025-11-20 read the
	// status as Timedout.
	legacyTimeoutAfter = 10 * 24 * time.Hour
	apiBase            = "/authentication/api/v1/systemuser"
)

// Errors returned by the test hooks.
var (
	// ErrNotFound means the request or system user does not exist or is deleted
	// (AUTH-00010 for requests).
	ErrNotFound = errors.New("sim: not found")
	// ErrNotNew means the request's status is not New, so it can no longer be
	// approved, rejected or escalated (AUTH-00013).
	ErrNotNew = errors.New("sim: the status of the request is not New (AUTH-00013)")
	// ErrSystemUserExists means an active system user already exists for the
	// request's key (AUTH-00004); the request stays New.
	ErrSystemUserExists = errors.New("sim: a system user already exists for the system, org and external ref (AUTH-00004)")
	// ErrNoSystemUser means the system user a change request is for no longer exists
	// (AUTH-00015); the change request stays New.
	ErrNoSystemUser = errors.New("sim: the system user of the change request does not exist (AUTH-00015)")
)

// Config configures a Server.
type Config struct {
	// PublicURL is where the simulator is reachable, e.g. "http://localhost:8081",
	// without a trailing slash. The Maskinporten issuer is PublicURL+"/", the Altinn
	// API base is PublicURL, and confirm URLs point at PublicURL too.
	PublicURL string
	// Seed is the world the simulator starts with, usually DefaultSeed() or LoadSeed.
	Seed Seed
	// Now is the clock; time.Now when nil. Grants and access tokens are always checked
	// against it; Altinn's data ages by it until SetNow replaces that part.
	Now func() time.Time
	// TokenLifetime is the expires_in of issued access tokens; 599 s when zero.
	TokenLifetime time.Duration
	// IDPortenTokenLifetime is the lifetime of ID-porten's access and id
	// tokens, and so of the Altinn tokens exchanged for them; 120 s when zero.
	IDPortenTokenLifetime time.Duration
	// TimeoutMode is TimeoutCurrent (the default: timedOut=true after 180 days, status
	// unchanged) or TimeoutLegacy10d (status reads Timedout after 10 days, and a new
	// POST for the key creates a fresh request).
	TimeoutMode string
	// Logf, when set, receives one line per notable event.
	Logf func(format string, args ...any)
	// StatePath, when set, is the file the simulator keeps its state in across
	// restarts (see StateInfo): New restores it when it exists, and every
	// change is on disk before it is answered. "" keeps the state in memory.
	StatePath string
}

// Server is the simulator. Its zero value is not usable; create it with New.
type Server struct {
	publicURL   string
	issuer      string
	lifetime    time.Duration
	timeoutMode string
	logf        func(format string, args ...any)
	key         *rsa.PrivateKey
	kid         string
	handler     http.Handler

	mu          sync.Mutex
	nowFn       func() time.Time // Config.Now: grants and access tokens
	worldFn     func() time.Time // SetNow: the age of requests and system users
	worldOffset time.Duration    // added by the admin clock; see worldNowLocked
	// mpOffset skews Maskinporten's clock against Config.Now
	// (SetMaskinportenClockOffset); it is set at every start, not saved.
	mpOffset    time.Duration
	systems     map[string]*System
	orgs        map[string]string
	anyValidOrg bool
	// packages is Access Management's package metadata: the built-in catalogue with
	// the seed systems' packages merged in, by lower-case URN (metadata.go). It is
	// rebuilt from the seed at every start, not saved.
	packages map[string]*accessPackage
	// resources is the Resource Registry: the built-in resources and those of the
	// seed systems' rights; anyResource adds every plausible id (metadata.go).
	resources   map[string]*resource
	anyResource bool
	clients     map[string]*client
	kidOwner    map[string]string    // kid → client id; kids are unique across clients
	usedJTIs    map[string]time.Time // client id + jti → when the entry may be forgotten
	requests    map[string]*request
	// byKey indexes requests by their Altinn key (kind, system, org,
	// external ref), deleted ones included, so a create's lookup does not
	// read every request stored.
	byKey     map[requestKey][]*request
	reqSeq    int
	users     map[string]*systemUser
	userSeq   int
	changes   map[string]*changeRequest // by id, the vendor's correlation-id
	changeSeq int
	// ID-porten and client delegation (idporten.go, clientdelegation.go).
	idp      idportenState
	cd       delegationState
	faults   []*faultEntry
	faultSeq int
	stats    Stats
	// gen counts changes to the state kept in the state file; state is nil
	// when it is kept in memory only (see state.go).
	gen   uint64
	state *stateStore
}

// client is a registered Maskinporten client.
type client struct {
	id     string
	orgNo  string
	keys   map[string]*rsa.PublicKey
	scopes []string
}

// request is a stored system-user request, standard or agent.
type request struct {
	id               string
	agent            bool
	systemID         string
	partyOrgNo       string
	externalRef      string
	integrationTitle string
	rights           []Right
	packages         []string
	redirectURL      *string
	status           string
	escalated        bool
	deleted          bool
	created          time.Time
	seq              int
}

// systemUser is a system user created by approving a request. Its id is the request id.
type systemUser struct {
	id               string
	agent            bool
	systemID         string
	partyOrgNo       string
	externalRef      string
	integrationTitle string
	// rights and packages are what the system user holds: those of the approved
	// request, then changed by approved change requests.
	rights   []Right
	packages []string
	created  time.Time
	deleted  bool
	seq      int
}

// Stats counts what the simulator has done since New.
type Stats struct {
	// TokensIssued counts access tokens issued by /token.
	TokensIssued int `json:"tokensIssued"`
	// RequestsCreated counts 201 answers to request creates, standard and agent.
	RequestsCreated int `json:"requestsCreated"`
	// ChangeRequestsCreated counts 201 answers to change-request creates.
	ChangeRequestsCreated int `json:"changeRequestsCreated"`
	// ClientsAdded counts clients delegated to agent system users (API and
	// portal); ClientsAddedAgain the adds of a client already delegated,
	// which change nothing; ClientsRemoved the removals.
	ClientsAdded      int `json:"clientsAdded"`
	ClientsAddedAgain int `json:"clientsAddedAgain"`
	ClientsRemoved    int `json:"clientsRemoved"`
	// Calls counts calls per route pattern, e.g.
	// "POST /authentication/api/v1/systemuser/request/vendor". Calls answered by an
	// injected fault are counted too.
	Calls map[string]int `json:"calls"`
}

// RequestInfo is a snapshot of one stored request, for tests and the admin API.
type RequestInfo struct {
	ID string `json:"id"`
	// Kind is "standard" or "agent".
	Kind        string `json:"kind"`
	SystemID    string `json:"systemId"`
	PartyOrgNo  string `json:"partyOrgNo"`
	ExternalRef string `json:"externalRef"`
	// Status is the status as the API would show it now (legacy10d may read Timedout).
	Status    string `json:"status"`
	Escalated bool   `json:"escalated"`
	TimedOut  bool   `json:"timedOut"`
	Deleted   bool   `json:"deleted"`
	// RedirectURL is the stored redirectUrl, "" when none was given.
	RedirectURL string    `json:"redirectUrl"`
	ConfirmURL  string    `json:"confirmUrl"`
	Created     time.Time `json:"created"`
	// SystemUserID is set while an active system user created from the request exists.
	SystemUserID string `json:"systemUserId,omitempty"`
}

// New returns a simulator for cfg. It generates the Maskinporten signing key in memory.
func New(cfg Config) (*Server, error) {
	pub := strings.TrimRight(cfg.PublicURL, "/")
	if pub == "" || !strings.Contains(pub, "://") {
		return nil, fmt.Errorf("sim: PublicURL %q must be an absolute URL", cfg.PublicURL)
	}
	mode := cfg.TimeoutMode
	switch mode {
	case "":
		mode = TimeoutCurrent
	case TimeoutCurrent, TimeoutLegacy10d:
	default:
		return nil, fmt.Errorf("sim: unknown TimeoutMode %q (want %q or %q)", cfg.TimeoutMode, TimeoutCurrent, TimeoutLegacy10d)
	}
	if err := cfg.Seed.validate(); err != nil {
		return nil, fmt.Errorf("sim: seed: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sim: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sim: marshal signing key: %w", err)
	}
	sum := sha256.Sum256(der)
	s := &Server{
		publicURL:   pub,
		issuer:      pub + "/",
		lifetime:    cfg.TokenLifetime,
		timeoutMode: mode,
		logf:        cfg.Logf,
		key:         key,
		kid:         "sim-" + base64.RawURLEncoding.EncodeToString(sum[:12]),
		nowFn:       cfg.Now,
		systems:     map[string]*System{},
		orgs:        map[string]string{},
		anyValidOrg: cfg.Seed.AnyValidOrg,
		packages:    builtinPackages(),
		resources:   builtinResources(),
		anyResource: cfg.Seed.AnyResource,
		clients:     map[string]*client{},
		kidOwner:    map[string]string{},
		usedJTIs:    map[string]time.Time{},
		requests:    map[string]*request{},
		byKey:       map[requestKey][]*request{},
		users:       map[string]*systemUser{},
		changes:     map[string]*changeRequest{},
		stats:       Stats{Calls: map[string]int{}},
	}
	if s.lifetime <= 0 {
		s.lifetime = defaultTokenLifetime
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.nowFn == nil {
		s.nowFn = time.Now
	}
	s.worldFn = s.nowFn
	for _, sys := range cfg.Seed.Systems {
		c := cloneSystem(sys)
		if c.InternalID == "" {
			c.InternalID = derivedGUID("system:" + c.ID)
		}
		s.systems[sys.ID] = c
		s.mergeSeedSystem(c)
	}
	for _, o := range cfg.Seed.Orgs {
		s.orgs[o.OrgNo] = o.Name
	}
	if err := s.initDelegation(cfg); err != nil {
		return nil, err
	}
	if cfg.StatePath != "" {
		if err := s.openState(cfg.StatePath, cfg.Seed); err != nil {
			return nil, err
		}
	}
	for _, c := range cfg.Seed.Clients {
		if err := s.AddClient(c); err != nil {
			return nil, err
		}
	}
	s.handler = s.durable(s.routes())
	return s, nil
}

// Handler returns the simulator's HTTP handler: Maskinporten, the Altinn vendor API,
// the confirm page and the admin API on one mux, behind the fault injector.
func (s *Server) Handler() http.Handler { return s.handler }

// Issuer returns the Maskinporten issuer, which a grant must use as its aud.
func (s *Server) Issuer() string { return s.issuer }

// AddClient registers a Maskinporten client, as the app does with its development key
// at start. Adding a client id again adds the key to it and replaces its scopes; a key
// id may belong to one client only, as in Maskinporten.
func (s *Server) AddClient(c Client) error {
	if c.ClientID == "" || c.KeyID == "" {
		return errors.New("sim: client needs a client id and a key id")
	}
	if !isOrgNo(c.OrgNo) {
		return fmt.Errorf("sim: client %q: orgNo %q is not 9 digits", c.ClientID, c.OrgNo)
	}
	pub, err := parseRSAPublicKey(c.PublicKeyPEM)
	if err != nil {
		return fmt.Errorf("sim: client %q: %w", c.ClientID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner, ok := s.kidOwner[c.KeyID]; ok && owner != c.ClientID {
		return fmt.Errorf("sim: client %q: key id %q already belongs to client %q", c.ClientID, c.KeyID, owner)
	}
	cl := s.clients[c.ClientID]
	if cl == nil {
		cl = &client{id: c.ClientID, orgNo: c.OrgNo, keys: map[string]*rsa.PublicKey{}}
		s.clients[c.ClientID] = cl
	} else if cl.orgNo != c.OrgNo {
		return fmt.Errorf("sim: client %q already belongs to org %s", c.ClientID, cl.orgNo)
	}
	cl.keys[c.KeyID] = pub
	cl.scopes = slices.Clone(c.Scopes)
	s.kidOwner[c.KeyID] = c.ClientID
	return nil
}

// AddRedirectURL registers url as an allowed redirect URL of the system, standing in
// for the vendor editing its registration. The URL must be absolute https, or http on
// localhost (a simulator-only deviation, see checkRegisteredRedirectURL).
func (s *Server) AddRedirectURL(systemID, url string) error {
	if err := checkRegisteredRedirectURL(url); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	s.mu.Lock()
	sys := s.systems[systemID]
	if sys == nil {
		s.mu.Unlock()
		return fmt.Errorf("sim: unknown system %q", systemID)
	}
	if !slices.ContainsFunc(sys.AllowedRedirectURLs, func(u string) bool { return dotnetURI(u) == dotnetURI(url) }) {
		sys.AllowedRedirectURLs = append(sys.AllowedRedirectURLs, url)
		s.changedLocked()
	}
	gen := s.gen
	s.mu.Unlock()
	return s.commitTo(gen)
}

// SetNow replaces Altinn's clock: the one by which requests and system users are
// created and age (timedOut after 180 days, Timedout after 10 in legacy mode). Grants
// and access tokens stay on Config.Now, because the client that signs grants and
// caches tokens lives on that clock; a test can thus jump 181 days ahead without its
// client's tokens turning invalid. A nil f puts Altinn back on Config.Now. Any offset
// set through the admin clock is cleared.
func (s *Server) SetNow(f func() time.Time) {
	s.mu.Lock()
	if f == nil {
		f = s.nowFn
	}
	s.worldFn = f
	if s.worldOffset != 0 {
		s.worldOffset = 0
		s.changedLocked()
	}
	gen := s.gen
	s.mu.Unlock()
	_ = s.commitTo(gen) // a failure is logged; SetNow is a test hook without an error
}

// nowLocked is Altinn's clock for access tokens (Config.Now). The caller holds s.mu.
func (s *Server) nowLocked() time.Time { return s.nowFn() }

// SetMaskinportenClockOffset skews Maskinporten's clock by d against Config.Now, as
// a Maskinporten (or a client host) whose clock is off would be: grants are checked
// and tokens issued by the skewed clock, and the Maskinporten routes' Date header
// shows it, so a client can measure the skew. Altinn's checks of access tokens stay
// on Config.Now. Zero removes the skew; it is not kept in the state file.
func (s *Server) SetMaskinportenClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mpOffset = d
}

// mpNowLocked is Maskinporten's clock for grants and the tokens it issues:
// Config.Now with the skew of SetMaskinportenClockOffset. The caller holds s.mu.
func (s *Server) mpNowLocked() time.Time { return s.nowFn().Add(s.mpOffset) }

// mpNow returns mpNowLocked under the lock.
func (s *Server) mpNow() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mpNowLocked()
}

// worldNowLocked is Altinn's clock, for the age of requests and system users: SetNow's
// clock plus the admin offset. The caller holds s.mu.
func (s *Server) worldNowLocked() time.Time { return s.worldFn().Add(s.worldOffset) }

// now returns nowLocked under the lock.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls = make(map[string]int, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		st.Calls[k] = v
	}
	return st
}

// Requests returns a snapshot of every stored request, deleted ones included, in the
// order they were created.
func (s *Server) Requests() []RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.sortedRequestsLocked(func(*request) bool { return true })
	out := make([]RequestInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.infoLocked(r))
	}
	return out
}

// infoLocked builds the RequestInfo of r. The caller holds s.mu.
func (s *Server) infoLocked(r *request) RequestInfo {
	status, timedOut := s.statusLocked(r)
	kind := "standard"
	if r.agent {
		kind = "agent"
	}
	info := RequestInfo{
		ID: r.id, Kind: kind, SystemID: r.systemID, PartyOrgNo: r.partyOrgNo,
		ExternalRef: r.externalRef, Status: status, Escalated: r.escalated, TimedOut: timedOut,
		Deleted: r.deleted, ConfirmURL: s.confirmURL(r), Created: r.created,
	}
	if r.redirectURL != nil {
		info.RedirectURL = *r.redirectURL
	}
	if u := s.users[r.id]; u != nil && !u.deleted {
		info.SystemUserID = u.id
	}
	return info
}

// Customer decisions on the confirm page.
const (
	actionApprove  = "approve"
	actionReject   = "reject"
	actionEscalate = "escalate"
)

// Approve approves a request as the customer's approve button does: it creates a
// system user whose id is the request id and sets the status to Accepted. It returns
// ErrNotFound, ErrNotNew, or ErrSystemUserExists (the request then stays New).
func (s *Server) Approve(requestID string) error {
	_, err := s.decide(requestID, "", actionApprove)
	return s.commitAfter(err)
}

// Reject rejects a request as the customer's reject button does. It returns
// ErrNotFound or ErrNotNew.
func (s *Server) Reject(requestID string) error {
	_, err := s.decide(requestID, "", actionReject)
	return s.commitAfter(err)
}

// Escalate asks an access manager to approve, as a customer without the right role
// does: escalated becomes true and the status stays New. It returns ErrNotFound or
// ErrNotNew.
func (s *Server) Escalate(requestID string) error {
	_, err := s.decide(requestID, "", actionEscalate)
	return s.commitAfter(err)
}

// decide applies the customer's decision to a live request whose status reads New.
// kind is "standard" or "agent" to accept only that kind, "" for either. It returns
// the request's stored redirectUrl (nil when none was given).
func (s *Server) decide(requestID, kind, action string) (*string, error) {
	id, ok := parseGUID(requestID)
	if !ok {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[id]
	if r == nil || r.deleted || kind == "agent" && !r.agent || kind == "standard" && r.agent {
		return nil, ErrNotFound
	}
	if st, _ := s.statusLocked(r); st != StatusNew {
		return nil, ErrNotNew
	}
	switch action {
	case actionApprove:
		if s.activeUserLocked(r.systemID, r.partyOrgNo, r.externalRef) != nil {
			return nil, ErrSystemUserExists
		}
		s.userSeq++
		s.users[r.id] = &systemUser{
			id: r.id, agent: r.agent, systemID: r.systemID, partyOrgNo: r.partyOrgNo,
			externalRef: r.externalRef, integrationTitle: r.integrationTitle,
			rights: cloneRights(r.rights), packages: slices.Clone(r.packages),
			created: s.worldNowLocked().UTC().Truncate(time.Microsecond), seq: s.userSeq,
		}
		r.status = StatusAccepted
		s.logf("sim: request %s approved; system user %s created for %s", r.id, r.id, r.partyOrgNo)
	case actionReject:
		r.status = StatusRejected
		s.logf("sim: request %s rejected", r.id)
	case actionEscalate:
		r.escalated = true
		s.logf("sim: request %s escalated", r.id)
	default:
		return nil, fmt.Errorf("sim: unknown action %q", action)
	}
	s.changedLocked()
	if r.redirectURL == nil {
		return nil, nil
	}
	u := *r.redirectURL
	return &u, nil
}

// DeleteSystemUser deletes a system user as the customer does in Altinn: the system
// user and the request it came from are both soft-deleted, so the vendor's GETs answer
// 404 and a new POST for the key creates a fresh request. It returns ErrNotFound.
func (s *Server) DeleteSystemUser(systemUserID string) error {
	id, ok := parseGUID(systemUserID)
	if !ok {
		return ErrNotFound
	}
	s.mu.Lock()
	u := s.users[id]
	if u == nil || u.deleted {
		s.mu.Unlock()
		return ErrNotFound
	}
	u.deleted = true
	if r := s.requests[id]; r != nil {
		r.deleted = true
	}
	s.removeDelegationsOfLocked(id)
	s.changedLocked()
	s.mu.Unlock()
	s.logf("sim: system user %s deleted by the customer", id)
	return s.commit()
}

// statusLocked returns the status of r as Altinn would show it now, and the timedOut
// flag. In legacy10d mode a request older than 10 days reads Timedout whatever its
// stored status, as Altinn did before 2025-11-20. The caller holds s.mu.
func (s *Server) statusLocked(r *request) (status string, timedOut bool) {
	return s.agedStatusLocked(r.status, r.created)
}

// agedStatusLocked applies the timeout mode to a stored status and creation time, for
// requests and change requests alike. The caller holds s.mu.
func (s *Server) agedStatusLocked(stored string, created time.Time) (status string, timedOut bool) {
	age := s.worldNowLocked().Sub(created)
	if s.timeoutMode == TimeoutLegacy10d {
		if age > legacyTimeoutAfter {
			return StatusTimedout, true
		}
		return stored, false
	}
	return stored, age > timedOutAfter
}

// activeUserLocked returns the non-deleted system user for the key, of any type. The
// caller holds s.mu.
func (s *Server) activeUserLocked(systemID, orgNo, externalRef string) *systemUser {
	for _, u := range s.users {
		if !u.deleted && u.systemID == systemID && u.partyOrgNo == orgNo && u.externalRef == externalRef {
			return u
		}
	}
	return nil
}

// sortedRequestsLocked returns the requests that keep, in creation order. The caller
// holds s.mu.
func (s *Server) sortedRequestsLocked(keep func(*request) bool) []*request {
	var out []*request
	for _, r := range s.requests {
		if keep(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *request) int { return a.seq - b.seq })
	return out
}

// confirmURL is where the customer approves r.
func (s *Server) confirmURL(r *request) string {
	page := "request"
	if r.agent {
		page = "agentrequest"
	}
	return s.publicURL + "/accessmanagement/ui/systemuser/" + page + "?id=" + r.id + "&DONTCHOOSEREPORTEE=true"
}

// orgNameLocked returns the name of orgNo in Register, and whether it exists there.
// The caller holds s.mu.
func (s *Server) orgNameLocked(orgNo string) (string, bool) {
	if name, ok := s.orgs[orgNo]; ok {
		return name, true
	}
	if s.anyValidOrg && validOrgNo(orgNo) {
		return "Testorganisasjon " + orgNo, true
	}
	return "", false
}

// parseRSAPublicKey reads a PKIX or PKCS#1 RSA public key from PEM.
func parseRSAPublicKey(p string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("public key is not PEM")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, Maskinporten needs RSA", k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
}

// cloneSystem deep-copies a seed system so that the caller's seed stays untouched.
func cloneSystem(sys System) *System {
	c := sys
	c.Name = make(map[string]string, len(sys.Name))
	for k, v := range sys.Name {
		c.Name[k] = v
	}
	c.Rights = make([]Right, len(sys.Rights))
	for i, r := range sys.Rights {
		c.Rights[i] = Right{Action: r.Action, Resource: slices.Clone(r.Resource)}
	}
	c.AccessPackages = slices.Clone(sys.AccessPackages)
	c.ClientIDs = slices.Clone(sys.ClientIDs)
	c.AllowedRedirectURLs = slices.Clone(sys.AllowedRedirectURLs)
	if sys.Description != nil {
		c.Description = make(map[string]string, len(sys.Description))
		for k, v := range sys.Description {
			c.Description[k] = v
		}
	}
	if sys.IsVisible != nil {
		v := *sys.IsVisible
		c.IsVisible = &v
	}
	c.Changelog = nil
	for _, e := range sys.Changelog {
		e.ChangedData = slices.Clone(e.ChangedData)
		c.Changelog = append(c.Changelog, e)
	}
	return &c
}

// derivedGUID is a stable version-5-style GUID for key, for ids the simulator makes
// up: a seed system's internal id, a package or area whose id is not known here.
func derivedGUID(key string) string {
	sum := sha256.Sum256([]byte("onboard-sim:" + key))
	u := uuid.UUID(sum[:16])
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// newUUID returns a random (version 4) UUID in lower-case hyphenated form,
// as Altinn writes its ids.
func newUUID() string { return uuid.NewString() }

// parseGUID accepts a GUID in the formats .NET's Guid binder accepts (D, N, B and P:
// hyphenated, bare, in braces or in parentheses), in any case, and returns it in
// lower-case hyphenated form.
func parseGUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	var hex string
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		hex = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	case 32:
		hex = s
	default:
		return "", false
	}
	hex = strings.ToLower(hex)
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return hex[0:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32], true
}

// formatTime formats t as .NET serialises a Postgres timestamptz: UTC, up to
// microseconds, trailing zeros dropped, e.g. 2024-11-15T09:36:50.451886Z.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.999999Z07:00")
}
