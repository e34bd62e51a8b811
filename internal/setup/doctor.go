package setup

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// ClockTolerance is how far Maskinporten lets a grant's iat be from its own
// clock.
const ClockTolerance = 10 * time.Second

// callTimeout bounds each call a check makes.
const callTimeout = 10 * time.Second

// Scopes the service's own Maskinporten client needs: the request APIs and
// the system register.
var Scopes = []string{altinn.ScopeRequestRead, altinn.ScopeRequestWrite, altinn.ScopeSystemRegisterWrite}

// Prober fetches one uncached token per call (*maskinporten.Client).
type Prober interface {
	Probe(ctx context.Context, scopes ...string) (*maskinporten.Result, error)
}

// Register reads and writes systems in Altinn's system register
// (*altinn.Client).
type Register interface {
	GetSystem(ctx context.Context, systemID string) (*altinn.RegisteredSystem, error)
	CreateSystem(ctx context.Context, s altinn.RegisteredSystem) (string, error)
	UpdateSystem(ctx context.Context, s altinn.RegisteredSystem) error
}

// PackageLookup reads Altinn's access-package metadata (*altinn.Metadata).
type PackageLookup interface {
	Package(ctx context.Context, urn string) (*altinn.PackageInfo, error)
}

// Service runs the set-up checks and plans the system register's changes
// for one configuration. Tokens, Register and Packages are nil when they
// could not be built (KeyErr says why, for the key check).
type Service struct {
	Config *config.Config
	// Key is the Maskinporten signing key; KeyErr why there is none.
	Key    *rsa.PrivateKey
	KeyErr error
	// KeyHint, when set, replaces the fix of a key that could not be
	// loaded (the CLI's "start make run first" in sim mode).
	KeyHint  Text
	Tokens   Prober
	Register Register
	Packages PackageLookup
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// state is what a run of the checks has learnt so far.
type state struct {
	skew     time.Duration // this machine's clock minus Maskinporten's
	skewSeen bool
	// answered is whether Maskinporten answered any probe at all.
	answered bool
	// clientOrg is the organisation the Maskinporten client belongs to,
	// read from a token's consumer claim ("" when no token was had).
	clientOrg string
	scopeOK   map[string]bool
	systems   map[string]*altinn.RegisteredSystem // the readable, live, own ones
	packages  map[string]*altinn.PackageInfo
	pkgErr    map[string]error
	// wrongKind are the packages the kinds check rejects, by product id.
	wrongKind map[string][]string
}

// Check runs every check, in order: the key, one token per scope, the
// clock, each system, each product's rights and packages and their kinds,
// the redirect URL and client id on each system, the public URL and the
// environment's hosts. It never fails; what it cannot check is a failed or
// skipped result.
func (s *Service) Check(ctx context.Context) Report {
	var r Report
	add := func(res Result) { r.Results = append(r.Results, res) }
	st := &state{scopeOK: map[string]bool{}, systems: map[string]*altinn.RegisteredSystem{},
		packages: map[string]*altinn.PackageInfo{}, pkgErr: map[string]error{}, wrongKind: map[string][]string{}}
	cfg := s.Config

	keyOK := s.checkKey(add)

	// Tokens first, collected, so a skewed clock can be blamed for their
	// failures instead of the scopes.
	type probe struct {
		scope string
		err   error
	}
	var probes []probe
	productScopes, scopeProducts := productScopes(cfg)
	if keyOK && s.Tokens != nil {
		for _, scope := range append(slices.Clone(Scopes), productScopes...) {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			res, err := s.Tokens.Probe(cctx, scope)
			cancel()
			probes = append(probes, probe{scope, err})
			st.noteClock(res, err, s.now())
			if res != nil && st.clientOrg == "" {
				st.clientOrg = ConsumerOrg(res.AccessToken)
			}
		}
	}
	clockBad := st.skewSeen && absDuration(st.skew) > ClockTolerance
	for _, scope := range Scopes {
		name := T("setup.check.token", scope)
		if !keyOK || s.Tokens == nil {
			add(Result{ID: "token", Name: name, Status: Skip, Detail: T("setup.skip.key")})
			continue
		}
		i := slices.IndexFunc(probes, func(p probe) bool { return p.scope == scope })
		err := probes[i].err
		if err == nil {
			st.scopeOK[scope] = true
			add(Result{ID: "token", Name: name, Status: OK, Detail: T("setup.detail.token.ok")})
			continue
		}
		detail, fix := explainProbe(cfg, scope, err, clockBad)
		add(Result{ID: "token", Name: name, Status: Fail, Detail: detail, Fix: fix})
	}
	// The products' system-user scopes: a plain grant shows whether the
	// scope is on the client (MP-200/MP-201 when not). The vendor may have
	// no access of its own to a service owner's scope (MP-250): the access
	// then comes with the customer's system user, which is fine.
	for _, scope := range productScopes {
		name := T("setup.check.token.product", scope, strings.Join(scopeProducts[scope], ", "))
		if !keyOK || s.Tokens == nil {
			add(Result{ID: "token", Name: name, Status: Skip, Detail: T("setup.skip.key")})
			continue
		}
		i := slices.IndexFunc(probes, func(p probe) bool { return p.scope == scope })
		err := probes[i].err
		var me *maskinporten.Error
		switch {
		case err == nil:
			add(Result{ID: "token", Name: name, Status: OK, Detail: T("setup.detail.token.ok")})
		case !clockBad && errors.As(err, &me) && noDirectAccess(me):
			add(Result{ID: "token", Name: name, Status: OK, Detail: T("setup.detail.token.systemuser", strings.TrimSpace(me.MPCode()+" "+me.Code))})
		default:
			detail, fix := explainProbe(cfg, scope, err, clockBad)
			add(Result{ID: "token", Name: name, Status: Fail, Detail: detail, Fix: fix})
		}
	}
	s.checkClock(add, st, keyOK)

	ids := make([]string, 0)
	products := map[string][]config.Product{}
	for _, p := range cfg.Products {
		if _, ok := products[p.SystemID]; !ok {
			ids = append(ids, p.SystemID)
		}
		products[p.SystemID] = append(products[p.SystemID], p)
	}
	add(checkOneSystem(ids))
	registerOK := st.scopeOK[altinn.ScopeSystemRegisterWrite] && s.Register != nil
	for _, id := range ids {
		add(s.checkSystem(ctx, st, id, registerOK))
	}
	// The kinds are checked first, so the access check does not tell to
	// add a package the kinds check says cannot work; they are listed in
	// the usual order.
	kinds := make([]Result, 0, len(cfg.Products))
	for _, p := range cfg.Products {
		kinds = append(kinds, s.checkKinds(ctx, st, p))
	}
	for _, p := range cfg.Products {
		add(s.checkAccess(st, p))
	}
	for _, k := range kinds {
		add(k)
	}
	for _, id := range ids {
		add(s.checkRedirect(st, id))
	}
	for _, id := range ids {
		add(s.checkClientID(st, id, len(ids) > 1))
	}
	add(s.checkPublicURL())
	add(s.checkConfirmHosts())
	add(s.checkEnvironment())
	return r
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) checkKey(add func(Result)) bool {
	cfg := s.Config
	name := T("setup.check.key")
	switch {
	case s.KeyErr != nil || s.Key == nil:
		fix := T("setup.fix.key.parse")
		if cfg.AltinnEnv == config.EnvSim {
			fix = T("setup.fix.key.sim", cfg.KeyPath())
		}
		if s.KeyHint.Key != "" {
			fix = s.KeyHint
		}
		msg := "no key"
		if s.KeyErr != nil {
			msg = s.KeyErr.Error()
		}
		add(Result{ID: "key", Name: name, Status: Fail, Detail: T("setup.detail.key.parse", msg), Fix: fix})
		return false
	case cfg.MaskinportenClientID == "":
		add(Result{ID: "key", Name: name, Status: Fail, Detail: T("setup.detail.key.noclient"), Fix: T("setup.fix.key.noclient")})
		return false
	case cfg.MaskinportenKID == "":
		add(Result{ID: "key", Name: name, Status: Fail, Detail: T("setup.detail.key.nokid"), Fix: T("setup.fix.key.nokid")})
		return false
	case s.Key.N.BitLen() < 2048:
		add(Result{ID: "key", Name: name, Status: Fail, Detail: T("setup.detail.key.short", s.Key.N.BitLen()), Fix: T("setup.fix.key.parse")})
		return false
	}
	add(Result{ID: "key", Name: name, Status: OK,
		Detail: T("setup.detail.key.ok", s.Key.N.BitLen(), cfg.MaskinportenClientID, cfg.MaskinportenKID)})
	return true
}

// noteClock remembers the first skew an answer shows.
func (st *state) noteClock(res *maskinporten.Result, err error, now time.Time) {
	if st.skewSeen {
		return
	}
	var serverDate, received time.Time
	if res != nil {
		serverDate, received = res.ServerDate, res.Received
	}
	var me *maskinporten.Error
	if errors.As(err, &me) {
		serverDate, received = me.ServerDate, now
	}
	if res != nil || me != nil {
		st.answered = true
	}
	if serverDate.IsZero() || received.IsZero() {
		return
	}
	// The Date header has whole seconds: half a second is the best guess
	// of the fraction it dropped.
	st.skew = received.Sub(serverDate.Add(500 * time.Millisecond))
	st.skewSeen = true
}

func (s *Service) checkClock(add func(Result), st *state, keyOK bool) {
	name := T("setup.check.clock")
	switch {
	case !keyOK || s.Tokens == nil:
		add(Result{ID: "clock", Name: name, Status: Skip, Detail: T("setup.skip.key")})
	case !st.skewSeen && !st.answered:
		add(Result{ID: "clock", Name: name, Status: Skip, Detail: T("setup.skip.clock.noanswer")})
	case !st.skewSeen:
		add(Result{ID: "clock", Name: name, Status: Skip, Detail: T("setup.skip.clock")})
	case absDuration(st.skew) > ClockTolerance:
		key := "setup.detail.clock.ahead"
		if st.skew < 0 {
			key = "setup.detail.clock.behind"
		}
		add(Result{ID: "clock", Name: name, Status: Fail, Detail: T(key, roundSeconds(st.skew), int(ClockTolerance/time.Second)),
			Fix: T("setup.fix.clock")})
	default:
		add(Result{ID: "clock", Name: name, Status: OK, Detail: T("setup.detail.clock.ok", roundSeconds(st.skew))})
	}
}

func (s *Service) checkSystem(ctx context.Context, st *state, id string, registerOK bool) Result {
	name := T("setup.check.system", id)
	if !registerOK {
		return Result{ID: "system", Name: name, Status: Skip, Detail: T("setup.skip.register")}
	}
	org, _ := VendorOrgNo(id)
	if st.clientOrg != "" && org != st.clientOrg {
		// Altinn only lets an organisation read and register system ids
		// that start with its own number: whatever the GET answers, the
		// prefix is the fault.
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.org", id, org, st.clientOrg),
			Fix: T("setup.fix.system.other", st.clientOrg)}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	sys, err := s.Register.GetSystem(cctx, id)
	switch {
	case errors.Is(err, altinn.ErrNotOwner):
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.other", id), Fix: T("setup.fix.system.other.unknown")}
	case errors.Is(err, altinn.ErrNotFound):
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.missing", id), Fix: T("setup.fix.system.missing")}
	case err != nil:
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.error", id, err.Error()), Fix: T("setup.fix.altinn")}
	case sys.IsDeleted:
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.deleted", id), Fix: T("setup.fix.system.deleted")}
	case sys.Vendor.ID != "" && sys.Vendor.OrgNo() != org:
		return Result{ID: "system", Name: name, Status: Fail, Detail: T("setup.detail.system.vendor", id, sys.Vendor.OrgNo()), Fix: T("setup.fix.system.other.unknown")}
	}
	st.systems[id] = sys
	return Result{ID: "system", Name: name, Status: OK, Detail: T("setup.detail.system.ok", org)}
}

func (s *Service) checkAccess(st *state, p config.Product) Result {
	name := T("setup.check.access", p.ID)
	sys := st.systems[p.SystemID]
	if sys == nil {
		return Result{ID: "access", Name: name, Status: Skip, Detail: T("setup.skip.system", p.SystemID)}
	}
	var missing []string
	if p.Kind == domain.KindStandard {
		for _, r := range p.Rights {
			if !slices.ContainsFunc(sys.Rights, func(h altinn.Right) bool { return SameRight(h, Right(r)) }) {
				missing = append(missing, r)
			}
		}
	}
	for _, urn := range p.AccessPackages {
		if !slices.ContainsFunc(sys.AccessPackages, func(h altinn.AccessPackage) bool { return samePackage(h.URN, urn) }) {
			missing = append(missing, urn)
		}
	}
	if len(missing) > 0 {
		// A package the kinds check rejects cannot work whatever the
		// system holds: the kinds line has its fix.
		addable := slices.DeleteFunc(slices.Clone(missing), func(m string) bool {
			return slices.ContainsFunc(st.wrongKind[p.ID], func(w string) bool { return samePackage(w, m) })
		})
		var fix Text
		switch len(addable) {
		case 0:
			fix = T("setup.fix.access.kinds", p.ID)
		case 1:
			fix = T("setup.fix.access.one")
		default:
			fix = T("setup.fix.access")
		}
		return Result{ID: "access", Name: name, Status: Fail,
			Detail: T("setup.detail.access.missing", p.SystemID, strings.Join(missing, ", ")), Fix: fix}
	}
	if n := len(p.Rights) + len(p.AccessPackages); n != 1 {
		return Result{ID: "access", Name: name, Status: OK, Detail: T("setup.detail.access.ok", n)}
	}
	return Result{ID: "access", Name: name, Status: OK, Detail: T("setup.detail.access.ok.one")}
}

// packageInfo looks a package up once per run.
func (s *Service) packageInfo(ctx context.Context, st *state, urn string) (*altinn.PackageInfo, error) {
	key := strings.ToLower(urn)
	if p, ok := st.packages[key]; ok {
		return p, nil
	}
	if err, ok := st.pkgErr[key]; ok {
		return nil, err
	}
	if s.Packages == nil {
		return nil, errors.New("no metadata client")
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	p, err := s.Packages.Package(cctx, urn)
	if err != nil {
		st.pkgErr[key] = err
		return nil, err
	}
	st.packages[key] = p
	return p, nil
}

func (s *Service) checkKinds(ctx context.Context, st *state, p config.Product) Result {
	name := T("setup.check.kinds", p.ID)
	if len(p.AccessPackages) == 0 {
		return Result{ID: "kinds", Name: name, Status: OK, Detail: T("setup.detail.kinds.none")}
	}
	var unknown, wrong []string
	for _, urn := range p.AccessPackages {
		info, err := s.packageInfo(ctx, st, urn)
		switch {
		case errors.Is(err, altinn.ErrNotFound):
			unknown = append(unknown, urn)
			continue
		case err != nil:
			return Result{ID: "kinds", Name: name, Status: Skip, Detail: T("setup.skip.metadata", err.Error())}
		}
		if (p.Kind == domain.KindAgent && !info.IsDelegable) || (p.Kind == domain.KindStandard && !info.IsAssignable) {
			wrong = append(wrong, urn)
		}
	}
	st.wrongKind[p.ID] = append(unknown, wrong...)
	switch {
	case len(unknown) > 0:
		return Result{ID: "kinds", Name: name, Status: Fail, Detail: T("setup.detail.kinds.unknown", strings.Join(unknown, ", ")),
			Fix: T("setup.fix.kinds.unknown", p.ID)}
	case len(wrong) > 0 && p.Kind == domain.KindAgent:
		return Result{ID: "kinds", Name: name, Status: Fail, Detail: T("setup.detail.kinds.agent", strings.Join(wrong, ", ")),
			Fix: T("setup.fix.kinds.agent", p.ID)}
	case len(wrong) > 0:
		return Result{ID: "kinds", Name: name, Status: Fail, Detail: T("setup.detail.kinds.standard", strings.Join(wrong, ", ")),
			Fix: T("setup.fix.kinds.standard", p.ID)}
	}
	key := "setup.detail.kinds.ok.standard"
	if p.Kind == domain.KindAgent {
		key = "setup.detail.kinds.ok.agent"
	}
	return Result{ID: "kinds", Name: name, Status: OK, Detail: T(key)}
}

func (s *Service) checkRedirect(st *state, id string) Result {
	name := T("setup.check.redirect", id)
	sys := st.systems[id]
	if sys == nil {
		return Result{ID: "redirect", Name: name, Status: Skip, Detail: T("setup.skip.system", id)}
	}
	want := s.Config.ReturnURL()
	if slices.ContainsFunc(sys.AllowedRedirectURLs, func(u string) bool { return SameRedirectURL(u, want) }) {
		return Result{ID: "redirect", Name: name, Status: OK, Detail: T("setup.detail.redirect.ok", want, id)}
	}
	has := strings.Join(sys.AllowedRedirectURLs, ", ")
	if has == "" {
		has = "–"
	}
	return Result{ID: "redirect", Name: name, Status: Fail, Detail: T("setup.detail.redirect.missing", id, want, has),
		Fix: T("setup.fix.redirect", want)}
}

// checkClientID checks that the client id is on system id. With several
// systems adding it cannot help (the one client can be on only one
// system): the fix points at the one-system check instead.
func (s *Service) checkClientID(st *state, id string, several bool) Result {
	name := T("setup.check.clientid", id)
	sys := st.systems[id]
	if sys == nil {
		return Result{ID: "clientid", Name: name, Status: Skip, Detail: T("setup.skip.system", id)}
	}
	cid := s.Config.MaskinportenClientID
	if slices.Contains(sys.ClientIDs, cid) {
		return Result{ID: "clientid", Name: name, Status: OK, Detail: T("setup.detail.clientid.ok", cid, id)}
	}
	fix := T("setup.fix.clientid", cid)
	if several {
		fix = T("setup.fix.clientid.several")
	}
	return Result{ID: "clientid", Name: name, Status: Fail, Detail: T("setup.detail.clientid.missing", id, cid), Fix: fix}
}

func (s *Service) checkPublicURL() Result {
	cfg := s.Config
	name := T("setup.check.publicurl")
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" {
		return Result{ID: "publicurl", Name: name, Status: Fail, Detail: T("setup.detail.publicurl.bad", cfg.PublicURL), Fix: T("setup.fix.publicurl")}
	}
	live := cfg.AltinnEnv == config.EnvTT02 || cfg.AltinnEnv == config.EnvProd
	switch {
	case u.Scheme != "https" && (live || !cfg.Dev):
		return Result{ID: "publicurl", Name: name, Status: Fail, Detail: T("setup.detail.publicurl.http", cfg.PublicURL), Fix: T("setup.fix.publicurl")}
	case live && isLoopback(u.Hostname()):
		return Result{ID: "publicurl", Name: name, Status: Fail, Detail: T("setup.detail.publicurl.loopback", cfg.PublicURL), Fix: T("setup.fix.publicurl")}
	case u.Scheme != "https":
		return Result{ID: "publicurl", Name: name, Status: OK, Detail: T("setup.detail.publicurl.dev", cfg.PublicURL)}
	}
	return Result{ID: "publicurl", Name: name, Status: OK, Detail: T("setup.detail.publicurl.ok", cfg.PublicURL)}
}

// Hosts of the live environments (contract.md §1, maskinporten.md §1).
var liveHosts = map[string]struct{ confirm, platform, issuer string }{
	config.EnvTT02: {"am.ui.tt02.altinn.no", "platform.tt02.altinn.no", "test.maskinporten.no"},
	config.EnvProd: {"am.ui.altinn.no", "platform.altinn.no", "maskinporten.no"},
}

func otherEnv(env string) string {
	if env == config.EnvTT02 {
		return config.EnvProd
	}
	return config.EnvTT02
}

func (s *Service) checkConfirmHosts() Result {
	cfg := s.Config
	name := T("setup.check.confirmhosts")
	want, live := liveHosts[cfg.AltinnEnv]
	if !live {
		return Result{ID: "confirmhosts", Name: name, Status: OK,
			Detail: T("setup.detail.confirmhosts.custom", cfg.AltinnEnv, strings.Join(cfg.ConfirmHosts, ", "))}
	}
	other := liveHosts[otherEnv(cfg.AltinnEnv)].confirm
	if slices.Contains(cfg.ConfirmHosts, other) {
		return Result{ID: "confirmhosts", Name: name, Status: Fail,
			Detail: T("setup.detail.confirmhosts.other", other, otherEnv(cfg.AltinnEnv), cfg.AltinnEnv), Fix: T("setup.fix.confirmhosts", want.confirm)}
	}
	if !slices.Contains(cfg.ConfirmHosts, want.confirm) {
		return Result{ID: "confirmhosts", Name: name, Status: Fail,
			Detail: T("setup.detail.confirmhosts.missing", want.confirm, strings.Join(cfg.ConfirmHosts, ", ")), Fix: T("setup.fix.confirmhosts", want.confirm)}
	}
	return Result{ID: "confirmhosts", Name: name, Status: OK, Detail: T("setup.detail.confirmhosts.ok", want.confirm, cfg.AltinnEnv)}
}

// checkEnvironment checks that Altinn and Maskinporten are of the same
// environment: TT02 pairs with test.maskinporten.no, production with
// maskinporten.no.
func (s *Service) checkEnvironment() Result {
	cfg := s.Config
	name := T("setup.check.env")
	want, live := liveHosts[cfg.AltinnEnv]
	if !live {
		return Result{ID: "env", Name: name, Status: OK, Detail: T("setup.detail.env.custom", cfg.AltinnEnv, cfg.AltinnBaseURL, cfg.MaskinportenIssuer)}
	}
	var bad []string
	if h := hostOf(cfg.AltinnBaseURL); h != want.platform {
		bad = append(bad, "ONBOARD_ALTINN_BASE_URL="+cfg.AltinnBaseURL+" (want https://"+want.platform+")")
	}
	if h := hostOf(cfg.MaskinportenIssuer); h != want.issuer {
		bad = append(bad, "ONBOARD_MASKINPORTEN_ISSUER="+cfg.MaskinportenIssuer+" (want https://"+want.issuer+"/)")
	}
	if len(bad) > 0 {
		return Result{ID: "env", Name: name, Status: Fail, Detail: T("setup.detail.env.mixed", cfg.AltinnEnv, strings.Join(bad, "; ")), Fix: T("setup.fix.env")}
	}
	return Result{ID: "env", Name: name, Status: OK, Detail: T("setup.detail.env.ok", want.platform, want.issuer)}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// roundSeconds is d in whole seconds, without the sign, for texts.
func roundSeconds(d time.Duration) string {
	return fmt.Sprintf("%d s", int64(absDuration(d).Round(time.Second)/time.Second))
}
