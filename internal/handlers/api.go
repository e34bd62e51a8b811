package handlers

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

// APIStore is the part of the database the JSON API and the API keys page
// (admin_apikeys.go) use.
type APIStore interface {
	APIKeyByKey(ctx context.Context, key string) (*db.APIKey, error)
	ClaimIdempotencyKey(ctx context.Context, apiKeyID int64, key string, hash []byte) (*db.Idempotent, error)
	SaveIdempotent(ctx context.Context, apiKeyID int64, key string, answer db.Idempotent) error
	ReleaseIdempotencyKey(ctx context.Context, apiKeyID int64, key string) error
	OnboardingByID(ctx context.Context, id string) (*domain.Onboarding, error)
	OnboardingsByCustomerRef(ctx context.Context, ref string) ([]domain.Onboarding, error)
	ListOnboardings(ctx context.Context, f db.ListFilter) (db.ListPage, error)

	ListAPIKeys(ctx context.Context) ([]db.APIKey, error)
	CreateAPIKey(ctx context.Context, name string, by db.AuditEntry) (*db.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, id int64, by db.AuditEntry) error
}

const (
	apiPrefix      = "/api/"
	apiKeyCtx      = "onboard.api_key"
	problemBaseURL = "https://onboard.invalid/problems/" // problem type URIs; not meant to be fetched
	maxIdemKeyLen  = 200
	maxCustRefLen  = 200
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI is the OpenAPI 3 document of /api/v1, served at /api/openapi.json.
func OpenAPI() []byte { return openAPIDoc }

// openAPIDocument serves the OpenAPI document (routes.go: apiRoutes).
func openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
}

// apiProblem is an error the API answers as application/problem+json (RFC 9457).
type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func (p *apiProblem) Error() string { return "api: " + strconv.Itoa(p.Status) + " " + p.Detail }

func problem(status int, detail string) *apiProblem {
	title := http.StatusText(status)
	slug := strings.ReplaceAll(strings.ToLower(title), " ", "-")
	return &apiProblem{Type: problemBaseURL + slug, Title: title, Status: status, Detail: detail}
}

// writeProblem answers any error on an /api/ path: an *apiProblem as it is,
// any other error as the error map has it (failureOf: an echo.HTTPError by
// its code, a 503 while the database is away, a 500 for anything unknown),
// its words in English and never the error's own text.
func writeProblem(c echo.Context, err error) {
	var p *apiProblem
	if !errors.As(err, &p) {
		f := failureOf(err)
		if f.RetryAfter != "" {
			c.Response().Header().Set("Retry-After", f.RetryAfter)
		}
		p = problem(f.Status, i18n.T("en", f.Key))
	}
	b, _ := json.Marshal(p)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().Header().Set("Cache-Control", "no-store")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", b)
}

// isAPI reports whether the request is for the JSON API, whose errors are
// problem documents rather than pages.
func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, apiPrefix) }

// requireAPIKey lets a request through only with a live API key.
func (h *Handler) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		addr := c.RealIP()
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, key, ok := strings.Cut(auth, " ")
		key = strings.TrimSpace(key)
		if h.badKeys.blocked(addr) && !h.badKeys.knownGood(key, time.Now()) {
			c.Response().Header().Set("Retry-After", "1")
			return problem(http.StatusTooManyRequests, "too many requests without a valid API key from this address")
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			h.badKeys.refused(addr)
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="onboard"`)
			return problem(http.StatusUnauthorized, "an API key is needed: Authorization: Bearer <key>")
		}
		k, err := h.APIKeys.APIKeyByKey(c.Request().Context(), key)
		if errors.Is(err, db.ErrNotFound) {
			h.badKeys.refused(addr)
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="onboard", error="invalid_token"`)
			return problem(http.StatusUnauthorized, "the API key is unknown or revoked")
		}
		if err != nil {
			return err
		}
		h.badKeys.markGood(key, time.Now())
		c.Set(apiKeyCtx, k)
		return next(c)
	}
}

func apiKeyFrom(c echo.Context) *db.APIKey {
	k, _ := c.Get(apiKeyCtx).(*db.APIKey)
	return k
}

// apiOnboarding is an onboarding as the API shows it.
type apiOnboarding struct {
	ID           string    `json:"id"`
	Ref          string    `json:"ref"`
	Product      string    `json:"product"`
	Kind         string    `json:"kind"`
	OrgNo        string    `json:"org_no"`
	OrgName      *string   `json:"org_name"`
	CustomerRef  *string   `json:"customer_ref"`
	Lang         string    `json:"lang"`
	Status       string    `json:"status"`
	ConfirmURL   *string   `json:"confirm_url,omitempty"`
	HandoffURL   string    `json:"handoff_url"`
	SystemUserID *string   `json:"system_user_id,omitempty"`
	ErrorCode    *string   `json:"error_code,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Usability is null unless connected: whether Maskinporten issues a
	// system-user token for the customer (the vendor can act for them).
	Usability *apiUsability `json:"usability"`
}

// apiUsability is a connected onboarding's usability as the API shows it.
type apiUsability struct {
	State string `json:"state"` // usable, not_usable or not_checked
	// Checked is false when the product has no scopes configured: then it
	// is never checked, and Reason says so.
	Checked       bool       `json:"checked"`
	Since         *time.Time `json:"since"`
	CheckedAt     *time.Time `json:"checked_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastOutcome   *string    `json:"last_outcome"` // usable, not_usable or unavailable (could not check)
	Code          *string    `json:"code"`
	Reason        *string    `json:"reason"`
	Detail        *string    `json:"detail"`
}

// apiList is a page of onboardings; NextCursor is "" on the last page.
type apiListPage struct {
	Items      []apiOnboarding `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// apiView shapes o for the API. The hand-off URL is where to send the
// customer: Altinn's confirm page while a request waits for them, our
// status page otherwise.
func (h *Handler) apiView(o *domain.Onboarding) apiOnboarding {
	v := apiOnboarding{ID: o.ID, Ref: o.Ref, Product: o.Product, Kind: string(o.Kind), OrgNo: o.OrgNo, CustomerRef: o.CustomerRef,
		OrgName: o.OrgName, Lang: o.Lang, Status: string(o.Status), SystemUserID: o.SystemUserID, ErrorCode: o.ErrorCode,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), HandoffURL: h.PublicURL + "/status/" + o.Ref}
	if o.Allows(domain.ActionConfirm) && o.ConfirmURL != nil && *o.ConfirmURL != "" {
		v.ConfirmURL = o.ConfirmURL
		v.HandoffURL = *o.ConfirmURL
	}
	if domain.HasUsability(o.Status) {
		v.Usability = h.apiUsability(o)
	}
	return v
}

// apiUsability shapes a connected onboarding's usability; its texts are
// English, like the rest of the API.
func (h *Handler) apiUsability(o *domain.Onboarding) *apiUsability {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	p, _ := h.product(o.Product)
	u := &apiUsability{State: usabilityState(o), Checked: len(p.Scopes) > 0,
		CheckedAt: utc(o.UsableCheckedAt), LastSuccessAt: utc(o.UsableOKAt), LastOutcome: o.UsableOutcome}
	if o.Usable != nil {
		u.Since = utc(o.UsableSince)
	}
	switch {
	case u.State == db.UsabilityNotUsable:
		code := ""
		if o.UsableCode != nil {
			code = *o.UsableCode
		}
		reason := i18n.T("en", onboarding.UsabilityReason(code))
		u.Code, u.Reason, u.Detail = o.UsableCode, &reason, o.UsableMessage
	case !u.Checked:
		reason := i18n.T("en", "usability.skipped")
		u.Reason = &reason
	}
	return u
}

// apiCreateRequest is the body of POST /api/v1/onboardings.
type apiCreateRequest struct {
	Product     string `json:"product"`
	OrgNo       string `json:"org_no"`
	CustomerRef string `json:"customer_ref"`
	Lang        string `json:"lang"`
	// Email, when given, is where the customer's mail goes (mail.go).
	Email string `json:"email,omitempty"`
}

var orgErrDetail = map[error]string{
	orgno.ErrEmpty: "org_no is required", orgno.ErrLength: "org_no must have 9 digits",
	orgno.ErrCharacters: "org_no may hold only digits and spaces", orgno.ErrCheckDigit: "org_no fails the mod-11 check digit",
}

// apiCreate starts (or finds the live) onboarding for a customer. A new one
// answers 201, the live one already there 200. With an Idempotency-Key, a
// retry of the same request gets the first answer again.
func (h *Handler) apiCreate(c echo.Context) error {
	ctx := c.Request().Context()
	k := apiKeyFrom(c)
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return problem(http.StatusBadRequest, "the body could not be read")
	}
	in, p := h.parseCreate(body)
	if p != nil {
		return p
	}
	idem := c.Request().Header.Get("Idempotency-Key")
	if !goodText(idem) {
		return problem(http.StatusBadRequest, "Idempotency-Key is not valid UTF-8 or holds a NUL")
	}
	if len(idem) > maxIdemKeyLen {
		return problem(http.StatusBadRequest, "Idempotency-Key is longer than 200 characters")
	}
	if idem != "" {
		norm, _ := json.Marshal(in)
		prev, err := h.APIKeys.ClaimIdempotencyKey(ctx, k.ID, idem, db.RequestHash(norm))
		switch {
		case err != nil:
			// A key used for another request (422) or still in progress
			// (409), as the error map says, or the database.
			return err
		case prev != nil:
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(prev.Status, echo.MIMEApplicationJSON, prev.Response)
		}
	}
	status, out, err := h.startFromAPI(ctx, k, in)
	if err != nil {
		if idem != "" {
			if rerr := h.APIKeys.ReleaseIdempotencyKey(context.WithoutCancel(ctx), k.ID, idem); rerr != nil {
				h.logger().ErrorContext(ctx, "idempotency key not released", "err", rerr)
			}
		}
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if idem != "" {
		if err := h.APIKeys.SaveIdempotent(context.WithoutCancel(ctx), k.ID, idem, db.Idempotent{Status: status, Response: b}); err != nil {
			return err
		}
	}
	return c.Blob(status, echo.MIMEApplicationJSON, b)
}

// parseCreate reads and checks a create request, normalising it so that
// requests meaning the same compare equal for the Idempotency-Key.
func (h *Handler) parseCreate(body []byte) (apiCreateRequest, *apiProblem) {
	var in apiCreateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, problem(http.StatusBadRequest, "the body must be a JSON object with org_no and optional product, customer_ref, lang, email")
	}
	if dec.More() {
		return in, problem(http.StatusBadRequest, "the body must hold one JSON object")
	}
	n, err := orgno.Normalize(in.OrgNo)
	if err != nil {
		d, ok := orgErrDetail[err]
		if !ok {
			d = "org_no is not a valid organisation number"
		}
		return in, problem(http.StatusBadRequest, d)
	}
	in.OrgNo = n
	if in.Product == "" && len(h.Products) > 0 {
		in.Product = h.Products[0].ID
	}
	if _, ok := h.product(in.Product); !ok {
		return in, problem(http.StatusBadRequest, "product is not a configured product")
	}
	in.CustomerRef = strings.TrimSpace(in.CustomerRef)
	if len(in.CustomerRef) > maxCustRefLen {
		return in, problem(http.StatusBadRequest, "customer_ref is longer than 200 characters")
	}
	if in.Lang == "" {
		in.Lang = i18n.Languages[0]
	}
	if !i18n.Supported(in.Lang) {
		return in, problem(http.StatusBadRequest, "lang must be one of "+strings.Join(i18n.Languages, ", "))
	}
	in.Email = strings.TrimSpace(in.Email)
	if in.Email != "" && !validEmail(in.Email) {
		return in, problem(http.StatusBadRequest, "email must be a bare email address of at most 320 characters")
	}
	return in, nil
}

func (h *Handler) startFromAPI(ctx context.Context, k *db.APIKey, in apiCreateRequest) (int, apiOnboarding, error) {
	o, started, err := h.Onboardings.Start(ctx, onboarding.StartInput{Product: in.Product, OrgNo: in.OrgNo,
		CustomerRef: in.CustomerRef, Lang: in.Lang, Cause: domain.CauseAPI, Actor: "apikey:" + k.Prefix})
	if err != nil {
		return 0, apiOnboarding{}, err
	}
	if o.Product != in.Product {
		return 0, apiOnboarding{}, problem(http.StatusConflict,
			"this organisation is being connected for another product that uses the same Altinn system")
	}
	if err := h.setMailContact(ctx, o.ID, in.Email); err != nil {
		return 0, apiOnboarding{}, err
	}
	status := http.StatusOK
	if started {
		status = http.StatusCreated
	}
	return status, h.apiView(o), nil
}

// apiGet reads one onboarding by its id.
func (h *Handler) apiGet(c echo.Context) error {
	id := c.Param("id")
	if !db.IsUUID(id) {
		return problem(http.StatusNotFound, "no onboarding with this id")
	}
	o, err := h.APIKeys.OnboardingByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no onboarding with this id")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.apiView(o))
}

var apiKinds = map[string]bool{"": true, "standard": true, "agent": true}

// apiList lists onboardings newest first: those with one customer_ref, or
// a page of those matching status and kind (cursor pagination).
func (h *Handler) apiList(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	out := apiListPage{Items: []apiOnboarding{}}
	if q.Has("customer_ref") {
		ref := strings.TrimSpace(q.Get("customer_ref"))
		if ref == "" || len(ref) > maxCustRefLen {
			return problem(http.StatusBadRequest, "customer_ref must be 1 to 200 characters")
		}
		if len(q) > 1 {
			return problem(http.StatusBadRequest, "customer_ref cannot be combined with other parameters")
		}
		list, err := h.APIKeys.OnboardingsByCustomerRef(ctx, ref)
		if err != nil {
			return err
		}
		for i := range list {
			out.Items = append(out.Items, h.apiView(&list[i]))
		}
		return c.JSON(http.StatusOK, out)
	}
	f := db.ListFilter{Status: domain.Status(q.Get("status")), Kind: domain.Kind(q.Get("kind")), After: q.Get("cursor"), Usability: q.Get("usability")}
	if _, ok := domain.ParseStatus(string(f.Status)); f.Status != "" && !ok {
		return problem(http.StatusBadRequest, "status is not an onboarding status")
	}
	if f.Usability != "" && !slices.Contains(db.UsabilityFilters, f.Usability) {
		return problem(http.StatusBadRequest, "usability must be one of "+strings.Join(db.UsabilityFilters, ", "))
	}
	if !apiKinds[string(f.Kind)] {
		return problem(http.StatusBadRequest, "kind must be standard or agent")
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > db.MaxListLimit {
			return problem(http.StatusBadRequest, "limit must be 1 to "+strconv.Itoa(db.MaxListLimit))
		}
		f.Limit = n
	}
	page, err := h.APIKeys.ListOnboardings(ctx, f)
	if err != nil {
		return err // a cursor we never gave out is a 400 (the error map)
	}
	for i := range page.Items {
		out.Items = append(out.Items, h.apiView(&page.Items[i]))
	}
	out.NextCursor = page.Next
	return c.JSON(http.StatusOK, out)
}
