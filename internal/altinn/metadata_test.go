package altinn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/sim"
	"github.com/onboard-altinn/onboard/internal/sim/simtest"
)

// TestPackageInLanguages checks that PackageIn sends one Accept-Language tag
// per language and reads the answer, and that 204 and 404 are "unknown".
func TestPackageInLanguages(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		sent []string
	)
	names := map[string]string{"nb": "Skattegrunnlag", "nn": "Skattegrunnlag (nn)", "en": "Tax base"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("Accept-Language"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "" {
			t.Error("the metadata API is anonymous")
		}
		switch r.URL.EscapedPath() {
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/urn:altinn:accesspackage:skattegrunnlag":
			lang := r.Header.Get("Accept-Language")
			w.Write([]byte(`{"id":"4c85","name":"` + names[lang] + `","urn":"urn:altinn:accesspackage:skattegrunnlag",
			 "description":"d-` + lang + `","isDelegable":true,"isAssignable":true,"area":null,"type":null,"resources":null}`))
		case "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	m := altinn.NewMetadata(srv.URL, srv.Client())
	ctx := context.Background()
	for _, tc := range []struct{ lang, wantTag string }{{"nb", "nb"}, {"nn", "nn"}, {"en", "en"}, {"en-GB", "en"}, {"", "nb"}, {"sv", "nb"}} {
		p, err := m.PackageIn(ctx, "urn:altinn:accesspackage:skattegrunnlag", tc.lang)
		if err != nil {
			t.Fatalf("%q: %v", tc.lang, err)
		}
		if p.Name != names[tc.wantTag] || p.Description != "d-"+tc.wantTag {
			t.Errorf("%q: %+v", tc.lang, p)
		}
	}
	if want := []string{"nb", "nn", "en", "en", "nb", "nb"}; !cmp.Equal(sent, want) {
		t.Errorf("Accept-Language sent %q, want %q", sent, want)
	}
	for _, urn := range []string{"empty", "urn:altinn:accesspackage:ukjent"} {
		if _, err := m.PackageIn(ctx, urn, "en"); !errors.Is(err, altinn.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", urn, err)
		}
	}
	// Package keeps asking in English, for the set-up checks.
	if p, err := m.Package(ctx, "urn:altinn:accesspackage:skattegrunnlag"); err != nil || p.Name != "Tax base" {
		t.Errorf("Package: %+v, %v", p, err)
	}
}

// TestResource reads a resource's texts and picks a language as the portal
// does: its key, else bokmål, field by field.
func TestResource(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("the Resource Registry's GET is anonymous")
		}
		switch r.URL.EscapedPath() {
		case "/resourceregistry/api/v1/resource/ske-krav-og-betalinger":
			w.Write([]byte(`{"identifier":"ske-krav-og-betalinger","title":{"nb":"Krav og betalinger","nn":"Krav og betalingar","en":"Claims and payments"},
			 "description":{"nb":"Se krav.","en":""},"rightDescription":{"nb":"Gir tilgang.","nn":"Gir tilgang (nn).","en":"Gives access."},
			 "resourceType":"Default","delegable":true,"visible":true,"status":"Completed"}`))
		case "/resourceregistry/api/v1/resource/bare-nb":
			w.Write([]byte(`{"identifier":"bare-nb","title":{"nb":"Bare bokmål"},"description":null,"resourceType":"Default"}`))
		case "/resourceregistry/api/v1/resource/tom":
			w.WriteHeader(http.StatusNoContent)
		case "/resourceregistry/api/v1/resource/broken":
			w.Write([]byte(`{"title":{"nb":"x"}}`))
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"title":"Not Found","status":404}`))
		}
	}))
	t.Cleanup(srv.Close)
	m := altinn.NewMetadata(srv.URL, srv.Client())
	ctx := context.Background()
	r, err := m.Resource(ctx, "ske-krav-og-betalinger")
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]altinn.ResourceText{
		"nb": {Title: "Krav og betalinger", Description: "Se krav.", RightDescription: "Gir tilgang."},
		"nn": {Title: "Krav og betalingar", Description: "Se krav.", RightDescription: "Gir tilgang (nn)."},
		"en": {Title: "Claims and payments", Description: "Se krav.", RightDescription: "Gives access."},
		"de": {Title: "Krav og betalinger", Description: "Se krav.", RightDescription: "Gir tilgang."},
	} {
		if diff := cmp.Diff(want, r.In(lang)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", lang, diff)
		}
	}
	r, err = m.Resource(ctx, "bare-nb")
	if err != nil || r.In("en") != (altinn.ResourceText{Title: "Bare bokmål"}) {
		t.Errorf("bokmål only: %+v, %v", r, err)
	}
	for _, id := range []string{"tom", "ukjent"} {
		if _, err := m.Resource(ctx, id); !errors.Is(err, altinn.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := m.Resource(ctx, "broken"); !errors.Is(err, altinn.ErrMalformed) {
		t.Errorf("no identifier: %v, want ErrMalformed", err)
	}
	if _, err := m.Resource(ctx, " "); err == nil {
		t.Error("an empty id is refused")
	}
}

// TestMetadataTimeout: a metadata call gives up at the client's timeout.
func TestMetadataTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	m := altinn.NewMetadata(srv.URL, &http.Client{Timeout: 50 * time.Millisecond})
	if _, err := m.PackageIn(context.Background(), "skattegrunnlag", "nb"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("package: %v, want a deadline", err)
	}
	if _, err := m.Resource(context.Background(), "ske-krav-og-betalinger"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("resource: %v, want a deadline", err)
	}
}

// TestMetadataAgainstTheSimulator reads the default products' package and
// right from the simulator in every language.
func TestMetadataAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	_, ts := simtest.Start(t, sim.Config{})
	m := altinn.NewMetadata(ts.URL, ts.Client())
	ctx := context.Background()

	for _, tc := range []struct{ urn, lang, name string }{
		{"urn:altinn:accesspackage:skattegrunnlag", "nb", "Skattegrunnlag"},
		{"urn:altinn:accesspackage:skattegrunnlag", "en", "Tax base"},
		{"urn:altinn:accesspackage:regnskapsforer-lonn", "nb", "Regnskapsfører lønn"},
		{"urn:altinn:accesspackage:regnskapsforer-lonn", "nn", "Rekneskapsførar løn"},
		{"urn:altinn:accesspackage:regnskapsforer-lonn", "en", "Accountant salary"},
		// No English in the catalogue: bokmål.
		{"urn:altinn:accesspackage:vergemal-bank-representasjon-dagligbank", "en", "Representasjon dagligbank"},
	} {
		p, err := m.PackageIn(ctx, tc.urn, tc.lang)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.urn, tc.lang, err)
		}
		if p.Name != tc.name || p.Description == "" {
			t.Errorf("%s %s: %+v, want name %q", tc.urn, tc.lang, p, tc.name)
		}
	}
	descs := map[string]bool{}
	for _, lang := range []string{"nb", "nn", "en"} {
		p, err := m.PackageIn(ctx, "urn:altinn:accesspackage:skattegrunnlag", lang)
		if err != nil {
			t.Fatal(err)
		}
		descs[p.Description] = true
	}
	if len(descs) != 3 {
		t.Errorf("skattegrunnlag's description is not in three languages: %v", descs)
	}
	if _, err := m.PackageIn(ctx, "urn:altinn:accesspackage:finnes-ikke", "nb"); !errors.Is(err, altinn.ErrNotFound) {
		t.Errorf("unknown package: %v", err)
	}

	r, err := m.Resource(ctx, "ske-krav-og-betalinger")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[altinn.ResourceText]bool{}
	for _, lang := range []string{"nb", "nn", "en"} {
		rt := r.In(lang)
		if rt.Title == "" || rt.Description == "" || rt.RightDescription == "" {
			t.Errorf("%s: %+v", lang, rt)
		}
		seen[rt] = true
	}
	if len(seen) != 3 || r.In("en").Title != "Claims and payments" {
		t.Errorf("ske-krav-og-betalinger is not in three languages: %v", seen)
	}
	if _, err := m.Resource(ctx, "Not-Plausible"); !errors.Is(err, altinn.ErrNotFound) {
		t.Errorf("unknown resource: %v", err)
	}
}
