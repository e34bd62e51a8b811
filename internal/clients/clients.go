// Package clients is the accountant's flow (issue 14): a person at the firm
// that owns an agent onboarding's system user logs in with ID-porten, sees
// the firm's clients, and asks to add or remove them; River jobs carry each
// client out against Altinn's client-delegation API with the person's token
// (../shared/altinn/clientdelegation.md). The handlers call this service and
// nothing else for it; the rules (what Altinn's answers mean, the back-off)
// are internal/domain's.
//
// A login lives in person_logins: the browser holds a random cookie, the row
// only its SHA-256; what the login must remember between the redirect and
// the callback (state, nonce, PKCE verifier) and then the person's Altinn
// token are sealed with the row's id (internal/sealed). Tokens are never
// logged, never in a cookie, and end with the login: the Altinn token
// expires with ID-porten's access token (clientdelegation.md §1.4), and so
// does the login. Clients still waiting then wait for the next login
// (WaitForLogin), which carries on where the last one stopped.
package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/google/uuid"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/idporten"
	"github.com/onboard-altinn/onboard/internal/sealed"
)

// Altinn is the part of the Altinn client the flow uses: the token exchange
// and the client-delegation calls, all with the person's token.
type Altinn interface {
	ExchangeIDPorten(ctx context.Context, idportenAccessToken string) (altinn.PersonToken, error)
	Agents(ctx context.Context, t altinn.PersonToken, ownerOrgNo string) ([]altinn.AgentSystemUser, error)
	AvailableClients(ctx context.Context, t altinn.PersonToken, agentID string) (*altinn.ClientList, error)
	DelegatedClients(ctx context.Context, t altinn.PersonToken, agentID string) (*altinn.ClientList, error)
	AddClient(ctx context.Context, t altinn.PersonToken, agentID, clientID string) error
	RemoveClient(ctx context.Context, t altinn.PersonToken, agentID, clientID string) error
}

// IDPorten logs the person in (internal/idporten).
type IDPorten interface {
	Begin(ctx context.Context, lang string) (string, idporten.Pending, error)
	Complete(ctx context.Context, pend idporten.Pending, q url.Values) (*idporten.Login, error)
	Refresh(ctx context.Context, refreshToken idporten.Secret) (*idporten.Login, error)
}

// Service is the flow. DB, Altinn, IDPorten and Box are required; Jobs is
// set once the River client is built (it is built with the Worker).
type Service struct {
	DB       *db.DB
	Altinn   Altinn
	IDPorten IDPorten
	Box      *sealed.Box
	Jobs     *river.Client[pgx.Tx]
	Log      *slog.Logger
	// Events tells the vendor of each client delegated or removed
	// (webhooks, in the change's transaction; vendor.go); nil: not told.
	Events Events
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
	// RefreshBefore is how long before the person's token runs out it is
	// refreshed (ID-porten's refresh token, then Altinn's exchange again);
	// DefaultRefreshBefore when zero.
	RefreshBefore time.Duration
}

// DefaultRefreshBefore leaves a try time to finish with the old token.
const DefaultRefreshBefore = 30 * time.Second

// MaxSession is how long a login may be kept alive by refreshing: the
// person logs in again after it.
const MaxSession = time.Hour

// The ways the flow refuses, each a page of its own in words. None changes
// anything.
var (
	// ErrNoLogin: the browser has no live login for this onboarding (no
	// cookie, an unknown or ended one, or one for another onboarding).
	ErrNoLogin = errors.New("clients: no live login for this onboarding")
	// ErrLoginExpired: the login took longer than idporten.MaxPending, or
	// its token has run out.
	ErrLoginExpired = errors.New("clients: the login has expired")
	// ErrBadAnswer: ID-porten's answer is not for this login (state), or
	// its tokens did not pass the checks (nonce, signature, level).
	ErrBadAnswer = errors.New("clients: the login's answer does not belong to it")
	// ErrCancelled: the person cancelled at ID-porten, or it refused.
	ErrCancelled = errors.New("clients: the login was cancelled")
	// ErrNotAllowed: Altinn says the person may not manage the firm's
	// clients (403: no klientadministrator or hovedadministrator there).
	ErrNotAllowed = errors.New("clients: the person may not manage the organisation's clients")
	// ErrOtherOrg: Altinn does not list the onboarding's system user
	// among the organisation's agent system users for this person.
	ErrOtherOrg = errors.New("clients: the login is not for this organisation's system user")
	// ErrNotAgent: the onboarding is not a connected agent onboarding.
	ErrNotAgent = errors.New("clients: not a connected client system")
	// ErrUnavailable: ID-porten or Altinn did not answer (no answer, 429,
	// 5xx): trying again in a while may work.
	ErrUnavailable = errors.New("clients: ID-porten or Altinn is not answering")
)

// CookieName is the browser's login cookie; only its SHA-256 is stored.
const CookieName = "onboard_clients"

// Session is a browser's live login for one onboarding.
type Session struct {
	LoginID string
	Subject string
	Token   altinn.PersonToken
	Expires time.Time
}

func (s *Service) now() time.Time { return s.Time() }

// Time is the service's clock: Now, or time.Now. The ID-porten client is
// given it too, so a test that moves it ages both.
func (s *Service) Time() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// loginGrace keeps a pending login's row a while past idporten.MaxPending,
// so a late answer gets "too late, log in again" for its onboarding rather
// than "no such login".
const loginGrace = 5 * time.Minute

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Can reports whether the onboarding's clients can be managed here: a
// connected agent onboarding with its system user known.
func Can(o *domain.Onboarding) bool {
	return o != nil && o.Kind == domain.KindAgent && o.Status == domain.StatusConnected &&
		o.SystemUserID != nil && *o.SystemUserID != ""
}

// BeginLogin starts a person's login for the onboarding: the cookie to give
// the browser and the ID-porten URL to send it to. lang is the page's.
func (s *Service) BeginLogin(ctx context.Context, o *domain.Onboarding, lang string) (cookie, authURL string, err error) {
	if !Can(o) {
		return "", "", ErrNotAgent
	}
	authURL, pend, err := s.IDPorten.Begin(ctx, lang)
	if err != nil {
		return "", "", fmt.Errorf("%w: begin login: %v", ErrUnavailable, err)
	}
	cookie = randomToken()
	id := uuid.NewString()
	plain, err := json.Marshal(pendingJSON{State: pend.State, Nonce: pend.Nonce, Verifier: pend.Verifier.Reveal(), Begun: pend.Begun})
	if err != nil {
		return "", "", fmt.Errorf("clients: begin login: %w", err)
	}
	sum := sha256.Sum256([]byte(cookie))
	if err := s.DB.CreatePersonLogin(ctx, id, sum[:], o.ID, s.Box.Seal(plain, id), s.now().Add(idporten.MaxPending+loginGrace)); err != nil {
		return "", "", err
	}
	return cookie, authURL, nil
}

// pendingJSON is idporten.Pending as sealed: its Verifier in the clear
// inside the seal (idporten.Secret marshals as itself, but say so).
type pendingJSON struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Begun    time.Time `json:"begun"`
}

// tokenJSON is the person's Altinn token as sealed, with ID-porten's
// refresh token that gets the next one.
type tokenJSON struct {
	Token   string    `json:"token"`
	Expiry  time.Time `json:"expiry"`
	Refresh string    `json:"refresh,omitempty"`
}

// CompleteLogin finishes the login of the browser holding cookie with
// ID-porten's answer q (the callback's query): the state, iss, code, nonce
// and level (idporten.Complete), the Altinn token exchange, and Altinn's
// word that the person may manage the onboarding's system user's clients
// (GET agents lists it). It returns the onboarding. Clients that waited for
// a new login carry on with this one. On any refusal nothing is stored.
func (s *Service) CompleteLogin(ctx context.Context, cookie string, q url.Values) (*domain.Onboarding, error) {
	l, err := s.loginByCookie(ctx, cookie)
	if err != nil {
		return nil, err
	}
	o, err := s.DB.OnboardingByID(ctx, l.OnboardingID)
	if err != nil {
		return nil, err
	}
	if !Can(o) {
		return o, ErrNotAgent
	}
	if l.Pending == nil {
		return o, ErrBadAnswer // completed already: an answer works once
	}
	plain, err := s.Box.Open(l.Pending, l.ID)
	if err != nil {
		return o, ErrBadAnswer
	}
	var p pendingJSON
	if err := json.Unmarshal(plain, &p); err != nil {
		return o, ErrBadAnswer
	}
	login, err := s.IDPorten.Complete(ctx, idporten.Pending{State: p.State, Nonce: p.Nonce, Verifier: idporten.Secret(p.Verifier), Begun: p.Begun}, q)
	switch {
	case errors.Is(err, idporten.ErrExpired):
		return o, ErrLoginExpired
	case errors.Is(err, idporten.ErrState), errors.Is(err, idporten.ErrToken), errors.Is(err, idporten.ErrLevel):
		s.log().WarnContext(ctx, "ID-porten login refused", "onboarding", o.ID, "err", err)
		return o, ErrBadAnswer
	case errors.Is(err, idporten.ErrCancelled):
		return o, ErrCancelled
	case err != nil:
		// Discovery, the keys or the token call got no answer.
		return o, fmt.Errorf("%w: complete login: %v", ErrUnavailable, err)
	}
	tok, err := s.Altinn.ExchangeIDPorten(ctx, login.AccessToken.Reveal())
	if err != nil {
		if errors.Is(err, altinn.ErrUnauthorized) || errors.Is(err, altinn.ErrForbidden) {
			s.log().WarnContext(ctx, "Altinn refused the ID-porten token", "onboarding", o.ID, "err", err)
			return o, ErrNotAllowed
		}
		return o, s.altinnErr(err, "token exchange")
	}
	if !tok.Valid(s.now()) {
		return o, ErrLoginExpired
	}
	agents, err := s.Altinn.Agents(ctx, tok, o.OrgNo)
	if err != nil {
		if forbidden(err) {
			return o, ErrNotAllowed
		}
		if errors.Is(err, altinn.ErrNotFound) {
			return o, ErrOtherOrg
		}
		return o, s.altinnErr(err, "agents")
	}
	if !slices.ContainsFunc(agents, func(a altinn.AgentSystemUser) bool {
		return strings.EqualFold(a.ID, *o.SystemUserID) && !a.IsDeleted
	}) {
		return o, ErrOtherOrg
	}
	sealedTok, err := json.Marshal(tokenJSON{Token: tok.Reveal(), Expiry: tok.Expiry, Refresh: login.RefreshToken.Reveal()})
	if err != nil {
		return o, err
	}
	if err := s.DB.CompletePersonLogin(ctx, l.ID, s.Box.Seal(sealedTok, l.ID), tok.Expiry, login.Subject); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return o, ErrBadAnswer // another tab completed it first
		}
		return o, err
	}
	if _, err := s.resume(ctx, o, l.ID, login.Subject); err != nil {
		// The login stands; the waiting clients wait for the next one.
		s.log().ErrorContext(ctx, "could not resume the clients waiting for a login", "onboarding", o.ID, "err", err)
	}
	return o, nil
}

// isProblem reports whether Altinn answered (with an error status).
func isProblem(err error) bool {
	var p *altinn.Problem
	return errors.As(err, &p)
}

// forbidden reports an Altinn 403: the PDP said no (clientdelegation.md §3.5).
func forbidden(err error) bool {
	var p *altinn.Problem
	return errors.As(err, &p) && p.Status == 403
}

func (s *Service) loginByCookie(ctx context.Context, cookie string) (*db.PersonLogin, error) {
	if cookie == "" || len(cookie) > 100 {
		return nil, ErrNoLogin
	}
	sum := sha256.Sum256([]byte(cookie))
	l, err := s.DB.PersonLoginByCookie(ctx, sum[:])
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoLogin
	}
	return l, err
}

// Session returns the browser's live login for the onboarding: ErrNoLogin
// without one, ErrLoginExpired when its token has run out.
func (s *Service) Session(ctx context.Context, cookie string, o *domain.Onboarding) (*Session, error) {
	l, err := s.loginByCookie(ctx, cookie)
	if err != nil {
		return nil, err
	}
	if l.OnboardingID != o.ID || l.Token == nil {
		return nil, ErrNoLogin
	}
	tok, err := s.freshToken(ctx, l)
	if err != nil {
		return nil, ErrNoLogin
	}
	if !tok.Valid(s.now()) {
		return nil, ErrLoginExpired
	}
	return &Session{LoginID: l.ID, Subject: l.Subject, Token: tok, Expires: tok.Expiry}, nil
}

func (s *Service) openToken(sealedTok []byte, loginID string) (tokenJSON, error) {
	var t tokenJSON
	plain, err := s.Box.Open(sealedTok, loginID)
	if err != nil {
		return t, err
	}
	err = json.Unmarshal(plain, &t)
	return t, err
}

// freshToken is the login's Altinn token, refreshed first when it runs out
// within RefreshBefore and the login may still be kept alive (MaxSession):
// ID-porten's refresh token gets a new access token, Altinn's exchange a new
// Altinn token, both sealed in place of the old under the row's lock (one
// refresh for all the workers that notice). A refresh that fails leaves the
// old token, which then runs out: the clients wait for a new login.
func (s *Service) freshToken(ctx context.Context, l *db.PersonLogin) (altinn.PersonToken, error) {
	t, err := s.openToken(l.Token, l.ID)
	if err != nil {
		return altinn.PersonToken{}, err
	}
	before := s.RefreshBefore
	if before <= 0 {
		before = DefaultRefreshBefore
	}
	now := s.now()
	if t.Refresh == "" || now.Add(before).Before(t.Expiry) || now.After(l.CreatedAt.Add(MaxSession)) {
		return altinn.RestorePersonToken(t.Token, t.Expiry), nil
	}
	err = s.DB.RenewPersonToken(ctx, l.ID, l.CreatedAt.Add(MaxSession), func(stored []byte) ([]byte, time.Time, error) {
		cur, err := s.openToken(stored, l.ID)
		if err != nil {
			return nil, time.Time{}, err
		}
		t = cur
		if cur.Refresh == "" || s.now().Add(before).Before(cur.Expiry) {
			return nil, time.Time{}, nil // another worker refreshed it meanwhile
		}
		login, err := s.IDPorten.Refresh(ctx, idporten.Secret(cur.Refresh))
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("clients: refresh the login: %w", err)
		}
		tok, err := s.Altinn.ExchangeIDPorten(ctx, login.AccessToken.Reveal())
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("clients: exchange the refreshed token: %w", err)
		}
		t = tokenJSON{Token: tok.Reveal(), Expiry: tok.Expiry, Refresh: login.RefreshToken.Reveal()}
		plain, err := json.Marshal(t)
		if err != nil {
			return nil, time.Time{}, err
		}
		return s.Box.Seal(plain, l.ID), tok.Expiry, nil
	})
	if err != nil {
		s.log().WarnContext(ctx, "could not refresh the person's login", "login", l.ID, "err", err)
	}
	return altinn.RestorePersonToken(t.Token, t.Expiry), nil
}

// EndLogin ends the browser's login (logging out).
func (s *Service) EndLogin(ctx context.Context, cookie string) error {
	l, err := s.loginByCookie(ctx, cookie)
	if errors.Is(err, ErrNoLogin) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.DB.EndPersonLogin(ctx, l.ID)
}

// Client is one of the firm's clients as the page shows it: Altinn's
// listing, whether Altinn has it delegated, and what the service last did
// with it.
type Client struct {
	ID        string // party UUID
	OrgNo     string
	Name      string
	Delegated bool // Altinn lists it among the system user's clients
	// Available: Altinn lists it among the firm's clients that may be
	// added (a delegated one may have left the firm since).
	Available bool
	State     domain.ClientState  // "" when the service never touched it
	Reason    domain.ClientReason // why it failed, or waits
}

// Filter picks clients from the list: Query matches the name or the org
// number (digits, spaces ignored); Show is "", "delegated" or "not".
type Filter struct {
	Query string
	Show  string
}

// Filter values of Show.
const (
	ShowAll       = ""
	ShowDelegated = "delegated"
	ShowNot       = "not"
)

// Match reports whether c passes the filter.
func (f Filter) Match(c Client) bool {
	switch f.Show {
	case ShowDelegated:
		if !c.Delegated {
			return false
		}
	case ShowNot:
		if c.Delegated {
			return false
		}
	}
	q := strings.TrimSpace(f.Query)
	if q == "" {
		return true
	}
	if digits := strings.ReplaceAll(q, " ", ""); digits != "" && strings.Trim(digits, "0123456789") == "" {
		return strings.Contains(c.OrgNo, digits)
	}
	return strings.Contains(strings.ToLower(c.Name), strings.ToLower(q))
}

// List is the firm's clients for the onboarding's system user, from Altinn
// (available and delegated, both unpaged: clientdelegation.md §0.5) with
// what the service knows of each, by name. Altinn's answer is the truth
// for Delegated; the service's rows add what it is doing.
func (s *Service) List(ctx context.Context, sess *Session, o *domain.Onboarding) ([]Client, error) {
	if !Can(o) {
		return nil, ErrNotAgent
	}
	avail, err := s.Altinn.AvailableClients(ctx, sess.Token, *o.SystemUserID)
	if err != nil {
		return nil, s.altinnErr(err, "available clients")
	}
	deleg, err := s.Altinn.DelegatedClients(ctx, sess.Token, *o.SystemUserID)
	if err != nil {
		return nil, s.altinnErr(err, "delegated clients")
	}
	rows, err := s.DB.ClientsOf(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	known := map[string]db.Client{}
	for _, r := range rows {
		known[strings.ToLower(r.ClientID)] = r
	}
	byID := map[string]*Client{}
	var out []*Client
	add := func(ci altinn.ClientInfo) *Client {
		id := strings.ToLower(ci.ID)
		if c := byID[id]; c != nil {
			return c
		}
		c := &Client{ID: id, OrgNo: ci.OrgNo, Name: ci.OrgName}
		if r, ok := known[id]; ok {
			c.State, c.Reason = r.State, r.Reason
		}
		byID[id] = c
		out = append(out, c)
		return c
	}
	for _, ci := range avail.Data {
		add(ci).Available = true
	}
	var delegated, gone []db.ClientRef
	for _, ci := range deleg.Data {
		c := add(ci)
		c.Delegated = true
		if c.State != domain.ClientDelegated && c.State != domain.ClientAdding && c.State != domain.ClientRemoving {
			delegated = append(delegated, db.ClientRef{ID: c.ID, OrgNo: c.OrgNo, OrgName: c.Name})
		}
	}
	for id, r := range known {
		if r.State == domain.ClientDelegated && byID[id] != nil && !byID[id].Delegated {
			gone = append(gone, db.ClientRef{ID: r.ClientID, OrgNo: r.OrgNo, OrgName: r.OrgName})
		}
	}
	// What Altinn says and the rows do not (a change in Altinn's portal):
	// the rows follow, so the progress and the vendor see the truth.
	// Recorded as the reconciler records them (vendor.go: Note), with their
	// timeline events and webhooks, once.
	if _, err := s.Note(ctx, o, domain.CauseAltinn, domain.ChangedByAltinn, delegated, gone); err != nil {
		return nil, err
	}
	res := make([]Client, 0, len(out))
	for _, c := range out {
		if c.Delegated && (c.State == "" || c.State.Settled()) {
			c.State, c.Reason = domain.ClientDelegated, domain.ReasonNone
		} else if !c.Delegated && c.State == domain.ClientDelegated {
			c.State = domain.ClientRemoved
		}
		res = append(res, *c)
	}
	slices.SortStableFunc(res, func(a, b Client) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.OrgNo, b.OrgNo)
	})
	return res, nil
}

// altinnErr turns Altinn's refusal of the person into ErrNotAllowed (403)
// or ErrLoginExpired (401).
func (s *Service) altinnErr(err error, what string) error {
	switch {
	case forbidden(err):
		return ErrNotAllowed
	case errors.Is(err, altinn.ErrUnauthorized):
		return ErrLoginExpired
	case errors.Is(err, altinn.ErrUnavailable), !isProblem(err):
		// 5xx, 429, Retry-After, or no answer at all.
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, what, err)
	}
	return fmt.Errorf("clients: %s: %w", what, err)
}

// Ask asks to add (remove false) or remove clients: the ones named by ids,
// or with all every client the filter shows, of those Altinn lists now (a
// posted id Altinn does not list is ignored). An add skips what Altinn has
// delegated already, a removal what it has not. The rows and their jobs are
// written in one transaction, and asking twice sends nothing twice
// (db.AskClientsTx). It returns how many clients now wait for a try.
func (s *Service) Ask(ctx context.Context, sess *Session, o *domain.Onboarding, remove bool, ids []string, all bool, f Filter) (int, error) {
	list, err := s.List(ctx, sess, o)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[strings.ToLower(strings.TrimSpace(id))] = true
	}
	var refs []db.ClientRef
	for _, c := range list {
		if !(all && f.Match(c)) && !want[c.ID] {
			continue
		}
		if remove != c.Delegated {
			continue // nothing to do: an add of a delegated client, a removal of one that is not
		}
		refs = append(refs, db.ClientRef{ID: c.ID, OrgNo: c.OrgNo, OrgName: c.Name})
	}
	if len(refs) == 0 {
		return 0, nil
	}
	op := domain.ClientsAsk
	if remove {
		op = domain.ClientsAskRemove
	}
	n := 0
	err = s.DB.Tx(ctx, func(tx pgx.Tx) error {
		asked, err := db.AskClientsTx(ctx, tx, o.ID, sess.LoginID, sess.Subject, remove, refs)
		if err != nil {
			return err
		}
		n = len(asked)
		if n == 0 {
			return nil
		}
		if err := s.enqueue(ctx, tx, asked); err != nil {
			return err
		}
		return db.AddEventTx(ctx, tx, domain.Event{OnboardingID: o.ID, Kind: domain.EventClients, Cause: domain.CauseCustomer,
			Actor: sess.Subject, Operation: op, Message: fmt.Sprintf("%d clients", n)})
	})
	return n, err
}

// resume hands the clients that waited for a new login to loginID and
// enqueues them again.
func (s *Service) resume(ctx context.Context, o *domain.Onboarding, loginID, subject string) (int, error) {
	n := 0
	err := s.DB.Tx(ctx, func(tx pgx.Tx) error {
		rows, err := db.ResumeClientsTx(ctx, tx, o.ID, loginID, subject)
		if err != nil || len(rows) == 0 {
			return err
		}
		n = len(rows)
		return s.enqueue(ctx, tx, rows)
	})
	return n, err
}

// enqueue inserts one job per client in tx.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, rows []db.Client) error {
	if s.Jobs == nil {
		return errors.New("clients: no job client")
	}
	params := make([]river.InsertManyParams, 0, len(rows))
	for _, r := range rows {
		params = append(params, river.InsertManyParams{Args: Args{OnboardingID: r.OnboardingID, ClientID: r.ClientID,
			Remove: r.State == domain.ClientRemoving}})
	}
	if _, err := s.Jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("clients: enqueue: %w", err)
	}
	return nil
}

// Progress is where an onboarding's clients stand: the counts by state and
// each client the service touched, by org number.
type Progress struct {
	Clients []db.Client
	Counts  map[domain.ClientState]int
	// InFlight counts the clients waiting for a try; Waiting those of them
	// that wait for the person to log in again.
	InFlight, Waiting int
	// Done counts the settled ones of the last asks (delegated, removed,
	// failed); Total = Done + InFlight.
	Done, Total int
}

// ProgressOf reads the onboarding's clients from the database only (no
// Altinn call), for the progress page and, later, the dashboard and API.
func (s *Service) ProgressOf(ctx context.Context, o *domain.Onboarding) (*Progress, error) {
	rows, err := s.DB.ClientsOf(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	p := &Progress{Clients: rows, Counts: map[domain.ClientState]int{}}
	for _, r := range rows {
		p.Counts[r.State]++
		if r.State.Settled() {
			p.Done++
		} else {
			p.InFlight++
			if r.Reason == domain.ReasonLoginExpired {
				p.Waiting++
			}
		}
	}
	p.Total = p.Done + p.InFlight
	return p, nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
