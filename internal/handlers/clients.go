package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/clients"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/orgno"
	"github.com/onboard-altinn/onboard/views"
)

// The accountant's pages (issue 14): a person at the firm that owns a
// connected agent onboarding logs in with ID-porten and adds or removes the
// firm's clients. Everything is clients.Service's; these handlers read the
// request, call it once and render. Only a browser holding a live login for
// the onboarding (its cookie, clients.CookieName) sees a client: the return
// reference alone shows the login page.

// ClientService is the accountant's flow (internal/clients).
type ClientService interface {
	BeginLogin(ctx context.Context, o *domain.Onboarding, lang string) (cookie, authURL string, err error)
	CompleteLogin(ctx context.Context, cookie string, q url.Values) (*domain.Onboarding, error)
	Session(ctx context.Context, cookie string, o *domain.Onboarding) (*clients.Session, error)
	EndLogin(ctx context.Context, cookie string) error
	List(ctx context.Context, s *clients.Session, o *domain.Onboarding) ([]clients.Client, error)
	Ask(ctx context.Context, s *clients.Session, o *domain.Onboarding, remove bool, ids []string, all bool, f clients.Filter) (int, error)
	ProgressOf(ctx context.Context, o *domain.Onboarding) (*clients.Progress, error)
}

// clientsPath is an onboarding's clients page; the others hang under it.
func clientsPath(ref string) string { return "/clients/" + ref }

// clientsLoginAction is where the connected page's "Add clients" posts.
func clientsLoginAction(ref string) string { return clientsPath(ref) + "/login" }

// maxClientsPosted bounds the checkboxes one post may name.
const maxClientsPosted = 2000

// clientsOnboarding is the onboarding of :ref when its clients can be
// managed here; a 404 otherwise (no ID-porten, not a connected client
// system).
func (h *Handler) clientsOnboarding(c echo.Context) (*domain.Onboarding, error) {
	if h.Clients == nil {
		return nil, echo.ErrNotFound
	}
	o, err := h.onboardingByRef(c, c.Param("ref"))
	if err != nil {
		return nil, err
	}
	if !clients.Can(o) {
		return nil, echo.ErrNotFound
	}
	return o, nil
}

func clientsCookie(c echo.Context) string {
	if ck, err := c.Cookie(clients.CookieName); err == nil {
		return ck.Value
	}
	return ""
}

// clientsLogin starts the person's ID-porten login for the onboarding: the
// login cookie, then a 303 to ID-porten.
func (h *Handler) clientsLogin(c echo.Context) error {
	o, err := h.clientsOnboarding(c)
	if err != nil {
		return err
	}
	cookie, authURL, err := h.Clients.BeginLogin(c.Request().Context(), o, langOf(c))
	if err != nil {
		return h.clientsRefused(c, o, err)
	}
	c.SetCookie(&http.Cookie{Name: clients.CookieName, Value: cookie, Path: "/", MaxAge: 60 * 60,
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, authURL)
}

// idportenCallback is where ID-porten sends the browser back
// (config.IDPortenCallbackPath): the login is completed and checked with
// Altinn, then the clients page; any refusal is a page in words that
// changes nothing.
func (h *Handler) idportenCallback(c echo.Context) error {
	if h.Clients == nil {
		return echo.ErrNotFound
	}
	o, err := h.Clients.CompleteLogin(c.Request().Context(), clientsCookie(c), c.QueryParams())
	if err != nil {
		return h.clientsRefused(c, o, err)
	}
	return c.Redirect(http.StatusSeeOther, clientsPath(o.Ref))
}

// clientsRefused renders the login page for a refusal of the flow: what
// happened in words, and a button to log in again when the onboarding is
// known. Other errors go to the error handler.
func (h *Handler) clientsRefused(c echo.Context, o *domain.Onboarding, err error) error {
	m := views.ClientsLogin{HeadingKey: "clients.login.heading", Color: "warning"}
	switch {
	case errors.Is(err, clients.ErrNoLogin):
		m.Status, m.NoteKey = http.StatusBadRequest, "clients.err.nologin"
	case errors.Is(err, clients.ErrLoginExpired):
		m.Status, m.NoteKey = http.StatusBadRequest, "clients.err.expired"
	case errors.Is(err, clients.ErrBadAnswer):
		m.Status, m.NoteKey, m.Color = http.StatusBadRequest, "clients.err.badanswer", "danger"
	case errors.Is(err, clients.ErrCancelled):
		m.Status, m.NoteKey = http.StatusBadRequest, "clients.err.cancelled"
	case errors.Is(err, clients.ErrNotAllowed):
		m.Status, m.NoteKey, m.Color = http.StatusForbidden, "clients.err.notallowed", "danger"
	case errors.Is(err, clients.ErrOtherOrg):
		m.Status, m.NoteKey, m.Color = http.StatusForbidden, "clients.err.otherorg", "danger"
	case errors.Is(err, clients.ErrUnavailable):
		c.Response().Header().Set("Retry-After", "60")
		m.Status, m.NoteKey = http.StatusServiceUnavailable, "clients.err.unavailable"
	case errors.Is(err, clients.ErrNotAgent):
		return echo.ErrNotFound
	default:
		return err
	}
	m.Page = h.page(c, i18n.T(langOf(c), m.HeadingKey))
	m.CSRF, _ = c.Get(csrfContextKey).(string)
	org := ""
	if o != nil {
		org = orgno.Format(o.OrgNo)
		if o.OrgName != nil && *o.OrgName != "" {
			org = *o.OrgName + " (" + org + ")"
		}
		if clients.Can(o) {
			m.LoginAction, m.StatusURL = clientsLoginAction(o.Ref), "/status/"+o.Ref
		}
	}
	if m.NoteKey == "clients.err.notallowed" || m.NoteKey == "clients.err.otherorg" {
		m.NoteArgs = []any{org}
	}
	return render(c, m.Status, views.ClientsLoginPage(m))
}

// clientsSession is the browser's live login for o; without one the
// handler renders the login page (done reports that). With ended, a login
// whose token has ended is no refusal: s is nil and the handler goes on.
func (h *Handler) clientsSession(c echo.Context, o *domain.Onboarding, ended bool) (s *clients.Session, done bool, err error) {
	s, err = h.Clients.Session(c.Request().Context(), clientsCookie(c), o)
	switch {
	case ended && errors.Is(err, clients.ErrLoginExpired):
		return nil, false, nil
	case errors.Is(err, clients.ErrNoLogin):
		m := views.ClientsLogin{Status: http.StatusOK, HeadingKey: "clients.login.heading",
			LoginAction: clientsLoginAction(o.Ref), StatusURL: "/status/" + o.Ref}
		m.Page = h.page(c, i18n.T(langOf(c), m.HeadingKey))
		m.CSRF, _ = c.Get(csrfContextKey).(string)
		return nil, true, render(c, http.StatusOK, views.ClientsLoginPage(m))
	case errors.Is(err, clients.ErrLoginExpired):
		// A refusal (401): the login ended, nothing was shown or done.
		m := views.ClientsLogin{Status: http.StatusUnauthorized, HeadingKey: "clients.login.heading", NoteKey: "clients.err.ended",
			Color: "info", LoginAction: clientsLoginAction(o.Ref), StatusURL: "/status/" + o.Ref}
		m.Page = h.page(c, i18n.T(langOf(c), m.HeadingKey))
		m.CSRF, _ = c.Get(csrfContextKey).(string)
		return nil, true, render(c, http.StatusUnauthorized, views.ClientsLoginPage(m))
	case err != nil:
		return nil, true, err
	}
	return s, false, nil
}

func clientsFilter(q, show string) clients.Filter {
	f := clients.Filter{Query: q}
	if show == clients.ShowDelegated || show == clients.ShowNot {
		f.Show = show
	}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	return f
}

// clientsPage lists the firm's clients, fresh from Altinn.
func (h *Handler) clientsPage(c echo.Context) error {
	o, err := h.clientsOnboarding(c)
	if err != nil {
		return err
	}
	s, done, err := h.clientsSession(c, o, false)
	if done {
		return err
	}
	list, err := h.Clients.List(c.Request().Context(), s, o)
	if err != nil {
		return h.clientsRefused(c, o, err)
	}
	lang := langOf(c)
	f := clientsFilter(c.QueryParam("q"), c.QueryParam("show"))
	base := clientsPath(o.Ref)
	m := views.ClientsPage{
		Page: h.page(c, i18n.T(lang, "clients.heading")), OrgNo: orgno.Format(o.OrgNo),
		Action: base, AddAction: base + "/add", RemoveAction: base + "/remove", ProgressURL: base + "/progress",
		StatusURL: "/status/" + o.Ref, LogoutAction: base + "/logout", Query: f.Query, Show: f.Show, Total: len(list),
	}
	m.OrgName = m.OrgNo
	if o.OrgName != nil && *o.OrgName != "" {
		m.OrgName = *o.OrgName
	}
	m.CSRF, _ = c.Get(csrfContextKey).(string)
	packages := o.GrantedPackages
	if packages == nil {
		if p, ok := h.product(o.Product); ok {
			packages = p.AccessPackages
		}
	}
	m.Packages = h.namedGrants(c.Request().Context(), lang, nil, packages)
	for _, cl := range list {
		if cl.Delegated {
			m.Delegated++
		}
		if cl.State == domain.ClientAdding || cl.State == domain.ClientRemoving {
			m.InFlight = true
		}
		if !f.Match(cl) {
			continue
		}
		m.Shown++
		if cl.Delegated {
			m.Removable++
		} else {
			m.Addable++
		}
		m.Rows = append(m.Rows, clientRow(cl.ID, cl.Name, cl.OrgNo, cl.Delegated, cl.State, cl.Reason))
	}
	return render(c, http.StatusOK, views.ClientsListPage(m))
}

// clientRow is one client as the pages show it: its state in words and
// colour, and the reason in words when it failed.
func clientRow(id, name, org string, delegated bool, state domain.ClientState, reason domain.ClientReason) views.ClientRow {
	r := views.ClientRow{ID: id, Name: name, OrgNo: orgno.Format(org), Delegated: delegated, State: string(state)}
	switch {
	case state == domain.ClientAdding || state == domain.ClientRemoving:
		r.StateKey, r.Tone = "clients.state."+string(state), "info"
		if reason == domain.ReasonLoginExpired {
			r.ReasonKey = "clients.reason.login_expired"
		}
	case state == domain.ClientFailed:
		r.StateKey, r.Tone, r.ReasonKey = "clients.state.failed", "danger", "clients.reason."+string(reason)
		if reason == domain.ReasonNone {
			r.ReasonKey = "clients.reason.unavailable"
		}
	case delegated || state == domain.ClientDelegated:
		r.StateKey, r.Tone = "clients.state.delegated", "success"
	case state == domain.ClientRemoved:
		r.StateKey, r.Tone = "clients.state.removed", "neutral"
	default:
		r.StateKey, r.Tone = "clients.state.not", "neutral"
	}
	return r
}

// clientsAsk is the form's add (all shown, or the chosen) or removal: the
// jobs are enqueued, then the progress page (post/redirect/get).
func (h *Handler) clientsAsk(remove bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := h.clientsOnboarding(c)
		if err != nil {
			return err
		}
		s, done, err := h.clientsSession(c, o, false)
		if done {
			return err
		}
		form, err := c.FormParams()
		if err != nil {
			return echo.ErrBadRequest
		}
		ids := form["client"]
		if len(ids) > maxClientsPosted {
			return echo.ErrBadRequest
		}
		all := form.Get("all") == "1" && !remove
		f := clientsFilter(form.Get("q"), form.Get("show"))
		if _, err := h.Clients.Ask(c.Request().Context(), s, o, remove, ids, all, f); err != nil {
			return h.clientsRefused(c, o, err)
		}
		return c.Redirect(http.StatusSeeOther, clientsPath(o.Ref)+"/progress")
	}
}

// clientsLogout ends the browser's login.
func (h *Handler) clientsLogout(c echo.Context) error {
	o, err := h.clientsOnboarding(c)
	if err != nil {
		return err
	}
	if err := h.Clients.EndLogin(c.Request().Context(), clientsCookie(c)); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: clients.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !h.Dev, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/status/"+o.Ref)
}

// clientsRefreshAfter is how often the progress page reloads itself while
// clients are in flight.
const clientsRefreshAfter = 2

// clientsProgress shows how far the clients have come, from the database
// only; it reloads itself while any is in flight and not waiting for a
// login.
func (h *Handler) clientsProgress(c echo.Context) error {
	o, err := h.clientsOnboarding(c)
	if err != nil {
		return err
	}
	// A login whose token has ended still shows the progress: the browser
	// proved it logged in for this onboarding, and the page is where it
	// logs in again to carry on.
	if _, done, err := h.clientsSession(c, o, true); done {
		return err
	}
	p, err := h.Clients.ProgressOf(c.Request().Context(), o)
	if err != nil {
		return err
	}
	lang := langOf(c)
	m := views.ClientsProgress{
		Page: h.page(c, i18n.T(lang, "clients.progress.heading")), OrgNo: orgno.Format(o.OrgNo),
		Done: p.Done, Total: p.Total, InFlight: p.InFlight, Waiting: p.Waiting,
		Delegated: p.Counts[domain.ClientDelegated], Removed: p.Counts[domain.ClientRemoved], Failed: p.Counts[domain.ClientFailed],
		ClientsURL: clientsPath(o.Ref), LoginAction: clientsLoginAction(o.Ref),
	}
	m.OrgName = m.OrgNo
	if o.OrgName != nil && *o.OrgName != "" {
		m.OrgName = *o.OrgName
	}
	m.CSRF, _ = c.Get(csrfContextKey).(string)
	// In flight first, then failed, each by org number; the rest folded.
	for _, pass := range []domain.ClientState{"", domain.ClientFailed, domain.ClientDelegated} {
		for _, r := range p.Clients {
			row := clientRow(r.ClientID, r.OrgName, r.OrgNo, r.State == domain.ClientDelegated, r.State, r.Reason)
			switch {
			case pass == "" && !r.State.Settled(), pass == domain.ClientFailed && r.State == domain.ClientFailed:
				m.Open = append(m.Open, row)
			case pass == domain.ClientDelegated && (r.State == domain.ClientDelegated || r.State == domain.ClientRemoved):
				m.Settled = append(m.Settled, row)
			}
		}
	}
	if p.InFlight > p.Waiting {
		m.Refresh = true
		c.Response().Header().Set("Refresh", strconv.Itoa(clientsRefreshAfter))
	}
	return render(c, http.StatusOK, views.ClientsProgressPage(m))
}
