package handoff_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/onboard-altinn/onboard/internal/handoff"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

var fuzzSecret = []byte("0123456789abcdef0123456789abcdef")

func fuzzVerifier(t testing.TB, now time.Time) (*handoff.Verifier, *memJTIs) {
	jtis := &memJTIs{seen: map[string]bool{}}
	v, err := handoff.New(handoff.Config{
		HS256Secret: fuzzSecret, ReturnHosts: []string{"app.vendor.example", "localhost:8443"}, MaxAge: 5 * time.Minute,
		Audience: aud, Products: []string{"standard", "agent"}, JTIs: jtis,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, jtis
}

// refusal reports whether err wraps one of the refusals Verify promises
// (the store in these tests never fails).
func refusal(err error) bool {
	for _, e := range []error{handoff.ErrInvalid, handoff.ErrExpired, handoff.ErrReplayed, handoff.ErrReturnURL, handoff.ErrProduct} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkAccepted fails unless h is a hand-off the wizard may start from.
func checkAccepted(t *testing.T, v *handoff.Verifier, h *handoff.Handoff) {
	t.Helper()
	if h == nil {
		t.Fatal("accepted with no hand-off")
	}
	if n, err := orgno.Normalize(h.OrgNo); err != nil || n != h.OrgNo {
		t.Fatalf("accepted org %q: %v", h.OrgNo, err)
	}
	if h.CustomerRef == "" || len(h.CustomerRef) > 200 || h.CustomerRef != strings.TrimSpace(h.CustomerRef) {
		t.Fatalf("accepted customer_ref %q", h.CustomerRef)
	}
	if h.Lang != "nb" && h.Lang != "nn" && h.Lang != "en" {
		t.Fatalf("accepted lang %q", h.Lang)
	}
	if !slices.Contains([]string{"standard", "agent"}, h.Product) {
		t.Fatalf("accepted product %q", h.Product)
	}
	if err := v.CheckReturnURL(h.ReturnURL); err != nil {
		t.Fatalf("accepted return_url %q that CheckReturnURL refuses: %v", h.ReturnURL, err)
	}
	u, err := url.Parse(h.ReturnURL)
	if err != nil || u.Scheme != "https" || u.User != nil || !v.AllowedHost(u) {
		t.Fatalf("accepted return_url %q: not https on an allowed host", h.ReturnURL)
	}
}

// FuzzVerifyToken feeds Verify any string: it never panics, refuses with
// one of its errors and no hand-off, and accepts (here: never, as nobody
// can sign without the secret; a seed signs one) only a usable hand-off.
func FuzzVerifyToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	sign := func(c jwt.MapClaims, m jwt.SigningMethod, key any) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{
		"aud": aud, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j1",
		"org": "314248295", "customer_ref": "c1", "lang": "nb", "return_url": "https://app.vendor.example/done",
	}
	valid := sign(good, jwt.SigningMethodHS256, fuzzSecret)
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		valid,
		sign(good, jwt.SigningMethodHS384, fuzzSecret),
		sign(good, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		sign(good, jwt.SigningMethodHS256, []byte("another secret, another secret!!")),
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0.eyJvcmciOiIzMTQyNDgyOTUifQ.",
		"", ".", "..", "...", "a.b.c", "\x00", strings.Repeat("a", 9000),
		"eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("e", 8000) + ".x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		v, _ := fuzzVerifier(t, now)
		h, err := v.Verify(context.Background(), token)
		if err != nil {
			if h != nil || !refusal(err) {
				t.Fatalf("Verify(%q) = %+v, %v: a refusal must be one of the errors and no hand-off", token, h, err)
			}
			return
		}
		checkAccepted(t, v, h)
		if _, err := v.Verify(context.Background(), token); !errors.Is(err, handoff.ErrReplayed) {
			t.Fatalf("the same token a second time: %v, want ErrReplayed", err)
		}
	})
}

// FuzzVerifyClaims signs any claims with the right secret: Verify never
// panics; it accepts exactly when every rule holds, and then hands on what
// the token said (the organisation normalised, the reference trimmed, the
// default product when none is named); a refusal is one of its errors and
// no hand-off, and does not use up the jti.
func FuzzVerifyClaims(f *testing.F) {
	f.Add("314248295", "c1", "nb", "https://app.vendor.example/done", "", "j1", int64(0), int64(60))
	f.Add("314 248 295", "  c2 ", "en", "https://APP.vendor.example:443/x?y=1#z", "agent", "j2", int64(-10), int64(290))
	f.Add("314248296", "c", "nb", "https://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "", "nb", "https://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "se", "https://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nn", "https://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "no", "https://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "http://app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://evil.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example.evil.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://user@app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example\\@evil.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/\r\nSet-Cookie: x", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://localhost:8443/back", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "//app.vendor.example/", "", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "premium", "j", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "", "", int64(0), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "", "j", int64(-3600), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "", "j", int64(0), int64(3600))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "", "j", int64(3600), int64(60))
	f.Add("314248295", "c", "nb", "https://app.vendor.example/", "", "j", int64(-1<<62), int64(1<<62))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, org, ref, lang, returnURL, product, jti string, iat, life int64) {
		// Seconds within ±100 years, so the arithmetic below does not wrap.
		iat, life = iat%(100*365*86400), life%(100*365*86400)
		// A token is JSON, which carries only valid UTF-8: the encoder
		// replaces each invalid byte with U+FFFD, and so does this.
		for _, s := range []*string{&org, &ref, &lang, &returnURL, &product, &jti} {
			*s = string([]rune(*s))
		}
		v, jtis := fuzzVerifier(t, now)
		c := jwt.MapClaims{
			"aud": aud, "iat": now.Unix() + iat, "exp": now.Unix() + iat + life, "jti": jti,
			"org": org, "customer_ref": ref, "lang": lang, "return_url": returnURL,
		}
		if product != "" {
			c["product"] = product
		}
		token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(fuzzSecret)
		if err != nil {
			t.Fatal(err)
		}
		h, err := v.Verify(context.Background(), token)

		n, orgErr := orgno.Normalize(org)
		leeway := int64(handoff.Leeway / time.Second)
		want := orgErr == nil && len(org) <= 20 &&
			iat <= leeway && iat+life >= -leeway && life <= int64(5*time.Minute/time.Second) &&
			jti != "" && len(jti) <= 200 &&
			strings.TrimSpace(ref) != "" && len(strings.TrimSpace(ref)) <= 200 &&
			(lang == "nb" || lang == "nn" || lang == "en") &&
			v.CheckReturnURL(returnURL) == nil &&
			(product == "" || product == "standard" || product == "agent")
		if err != nil {
			if h != nil || !refusal(err) {
				t.Fatalf("refused with %v and hand-off %+v", err, h)
			}
			if want {
				t.Fatalf("a token that keeps every rule was refused: %v (claims %v)", err, c)
			}
			if jtis.seen[jti] {
				t.Fatalf("a refused token (%v) used up its jti %q", err, jti)
			}
			return
		}
		if !want {
			t.Fatalf("a token that breaks a rule was accepted: %+v (claims %v)", h, c)
		}
		checkAccepted(t, v, h)
		wantProduct := product
		if wantProduct == "" {
			wantProduct = "standard"
		}
		if h.OrgNo != n || h.CustomerRef != strings.TrimSpace(ref) || h.Lang != lang || h.ReturnURL != returnURL || h.Product != wantProduct {
			t.Fatalf("hand-off %+v does not say what the token said (claims %v)", h, c)
		}
	})
}
