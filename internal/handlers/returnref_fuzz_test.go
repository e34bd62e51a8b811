package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/handoff"
)

// refStore knows one onboarding and no change request, and notes every
// reference it is asked for.
type refStore struct {
	known string
	asked []string
}

func (s *refStore) OnboardingByRef(_ context.Context, ref string) (*domain.Onboarding, error) {
	s.asked = append(s.asked, ref)
	if ref == s.known {
		return &domain.Onboarding{ID: "o1", Ref: ref, Status: domain.StatusPending}, nil
	}
	return nil, db.ErrNotFound
}

func (s *refStore) OnboardingByID(context.Context, string) (*domain.Onboarding, error) {
	return nil, errors.New("refStore: OnboardingByID not expected")
}

func (s *refStore) ChangeRequestByRef(_ context.Context, ref string) (*domain.ChangeRequest, error) {
	s.asked = append(s.asked, ref)
	return nil, db.ErrNotFound
}

// refOnboardings takes the return of the one known onboarding; any other
// call panics (the embedded interface is nil), which fails the test.
type refOnboardings struct {
	Onboardings
	returned, refreshed []string
	withCookie          bool
}

func (o *refOnboardings) RecordReturn(_ context.Context, ob *domain.Onboarding, withCookie bool) error {
	o.returned, o.withCookie = append(o.returned, ob.Ref), withCookie
	return nil
}

func (o *refOnboardings) Refresh(_ context.Context, ob *domain.Onboarding, cause domain.Cause, _ string) error {
	if cause != domain.CauseCustomer {
		return errors.New("refOnboardings: a return refreshes as the customer")
	}
	o.refreshed = append(o.refreshed, ob.Ref)
	return nil
}

type noJTIs struct{}

func (noJTIs) UseHandoffJTI(context.Context, string, time.Time) (bool, error) { return true, nil }

// FuzzReturnRef checks /return?ref= and the two signed cookies that carry
// references (the flow cookie: which onboardings this browser started; the
// back cookie: where the vendor's product wants the customer sent back)
// against any input. /return never panics; a reference that is not one
// (refPattern) is a 404 without a database read; a well-formed one is
// looked up exactly as given, is safe in a URL and a path, and is a 404
// unless it is known, when it is recorded, refreshed as the customer and
// redirected to its status page. A cookie value nobody signed gives
// nothing; what addFlow and setBack write reads back (the back cookie only
// for its own reference, and only while the return URL is allowed).
func FuzzReturnRef(f *testing.F) {
	const known = "AAAAAAAAAAAAAAAAAAAAAA"
	for _, s := range [][3]string{
		{"ref=" + known, "https://app.vendor.example/done", ""},
		{"ref=Yk3y8V0pQ2m1cX9wZ_-aBg", "https://app.vendor.example/done", ""},
		{"ref=" + known + "&ref=other", "", ""},
		{"ref=short", "", "x.y"},
		{"ref=" + strings.Repeat("a", 64), "", ""},
		{"ref=" + strings.Repeat("a", 65), "", ""},
		{"ref=" + known + "%0A", "https://evil.example/", ""},
		{"ref=" + known + "%20", "", ""},
		{"ref=../../admin/aaaaaaaaaaaa", "", ""},
		{"ref=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00", "", ""},
		{"ref=%zz", "", ""},
		{";ref=" + known, "", ""},
		{"", "", ""},
		{"ref=" + known, "http://localhost/back", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQSBodHRwczovL2V2aWwuZXhhbXBsZS8.AAAA"},
		{"ref=" + known, "https://app.vendor.example/a b", "." + strings.Repeat("A", 43)},
	} {
		f.Add(s[0], s[1], s[2])
	}
	v, err := handoff.New(handoff.Config{
		HS256Secret: []byte("0123456789abcdef0123456789abcdef"), ReturnHosts: []string{"app.vendor.example"},
		MaxAge: time.Minute, Audience: "https://onboard.example", Products: []string{"standard"}, JTIs: noJTIs{},
	})
	if err != nil {
		f.Fatal(err)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, rawQuery, returnURL, cookie string) {
		store, obs := &refStore{known: known}, &refOnboardings{}
		h := &Handler{Store: store, Onboardings: obs, SessionKey: []byte("fuzz session key, 32 bytes long!"), Handoff: v}

		req := httptest.NewRequest(http.MethodGet, "/return", nil)
		req.URL.RawQuery = rawQuery
		req.Header.Set("Cookie", flowCookie+"="+cookie+"; "+backCookie+"="+cookie)
		rec := httptest.NewRecorder()
		c := e.NewContext(req, rec)
		ref := c.QueryParam("ref")
		err := h.altinnReturn(c)

		if !refPattern.MatchString(ref) {
			if !errors.Is(err, echo.ErrNotFound) || len(store.asked) != 0 {
				t.Fatalf("/return?%s: %v after asking the store for %q; want a 404 and no lookup", rawQuery, err, store.asked)
			}
		} else {
			if url.QueryEscape(ref) != ref || url.PathEscape(ref) != ref || localPath("/status/"+ref) != "/status/"+ref {
				t.Fatalf("well-formed reference %q is not safe in a URL", ref)
			}
			for _, a := range store.asked {
				if a != ref {
					t.Fatalf("/return?%s looked up %q, not %q", rawQuery, a, ref)
				}
			}
			switch {
			case ref == known:
				if err != nil || rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/status/"+ref ||
					len(obs.returned) != 1 || len(obs.refreshed) != 1 {
					t.Fatalf("/return?%s for the known onboarding: %v, %d to %q, returns %q, refreshes %q",
						rawQuery, err, rec.Code, rec.Header().Get("Location"), obs.returned, obs.refreshed)
				}
				if obs.withCookie {
					t.Fatalf("cookie %q, which nobody signed, was taken as this browser's flow", cookie)
				}
			case !errors.Is(err, echo.ErrNotFound) || len(store.asked) != 2:
				t.Fatalf("/return?%s for an unknown reference: %v after %d lookups; want a 404 after looking for an onboarding and a change", rawQuery, err, len(store.asked))
			}
		}
		if refs := h.flowRefs(c); refs != nil {
			t.Fatalf("cookie %q, which nobody signed, gave flow references %q", cookie, refs)
		}
		if u := h.backURL(c, ref); u != "" {
			t.Fatalf("cookie %q, which nobody signed, gave the return URL %q", cookie, u)
		}

		// What the handlers write reads back.
		if !refPattern.MatchString(ref) {
			return
		}
		rec = httptest.NewRecorder()
		c = e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		h.addFlow(c, ref)
		h.setBack(c, ref, returnURL)
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range rec.Result().Cookies() {
			req.AddCookie(ck)
		}
		c = e.NewContext(req, httptest.NewRecorder())
		if !h.ownsFlow(c, ref) {
			t.Fatalf("the flow cookie written for %q does not read back", ref)
		}
		want := ""
		if v.CheckReturnURL(returnURL) == nil {
			want = returnURL
		}
		if got := h.backURL(c, ref); got != want {
			t.Fatalf("the back cookie for %q and %q reads back %q, want %q", ref, returnURL, got, want)
		}
		if got := h.backURL(c, ref+"x"); got != "" {
			t.Fatalf("the back cookie for %q gave %q to another reference", ref, got)
		}
	})
}
