package static

import (
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDesignsystemetVendored checks that make vendor-css's output is committed
// and embedded: both stylesheets, both licences, and a VERSION naming the
// packages and versions scripts/designsystemet.sh pins, each with an npm
// integrity.
func TestDesignsystemetVendored(t *testing.T) {
	script, err := os.ReadFile("../scripts/designsystemet.sh")
	if err != nil {
		t.Fatal(err)
	}
	pin := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(script)
		if m == nil {
			t.Fatalf("scripts/designsystemet.sh has no %s=", name)
		}
		return string(m[1])
	}
	version, err := fs.ReadFile(files, "designsystemet/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []struct{ name, version string }{
		{pin("css_pkg"), pin("css_version")},
		{pin("theme_pkg"), pin("theme_version")},
	} {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(pkg.name) + ` (\S+) sha512-(\S+) `).FindSubmatch(version)
		if m == nil {
			t.Errorf("VERSION has no line for %s:\n%s", pkg.name, version)
			continue
		}
		if string(m[1]) != pkg.version {
			t.Errorf("VERSION has %s %s, the script pins %s: run make vendor-css", pkg.name, m[1], pkg.version)
		}
		if sum, err := base64.StdEncoding.DecodeString(string(m[2])); err != nil || len(sum) != 64 {
			t.Errorf("%s's integrity sha512-%s is not a SHA-512 (%v)", pkg.name, m[2], err)
		}
	}
	for _, name := range []string{"designsystemet/LICENSE", "designsystemet/LICENSE-theme"} {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Digitaliseringsdirektoratet (Digdir)", "Permission is hereby granted, free of charge"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q: not the MIT licence from Digdir", name, want)
			}
		}
	}
	for _, name := range []string{DesignsystemetCSS, DesignsystemetTheme} {
		if b, err := fs.ReadFile(files, name); err != nil || len(b) < 10_000 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
}

// TestDesignsystemetTokens checks that the theme defines every token the
// components read, so a theme and a css version that no longer fit are caught
// here and not by a page without colours.
func TestDesignsystemetTokens(t *testing.T) {
	css, err := fs.ReadFile(files, DesignsystemetCSS)
	if err != nil {
		t.Fatal(err)
	}
	theme, err := fs.ReadFile(files, DesignsystemetTheme)
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(--ds-[a-z0-9-]+):`).FindAllSubmatch(append(append([]byte{}, css...), theme...), -1) {
		defined[string(m[1])] = true
	}
	used := regexp.MustCompile(`var\((--ds-[a-z0-9-]+)`).FindAllSubmatch(css, -1)
	if len(used) < 50 {
		t.Fatalf("index.css reads only %d tokens: not Designsystemet's bundle?", len(used))
	}
	for _, m := range used {
		if !defined[string(m[1])] {
			t.Errorf("%s reads %s, which neither it nor %s defines", DesignsystemetCSS, m[1], DesignsystemetTheme)
			defined[string(m[1])] = true // once
		}
	}
}

// TestHandlerServesSubdirectory checks a vendored file is served under its
// content-hashed URL, and that a stale hash or an unknown path is a 404.
func TestHandlerServesSubdirectory(t *testing.T) {
	h := Handler()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	for _, name := range []string{DesignsystemetCSS, DesignsystemetTheme, "style.css"} {
		rec := get(URL(name))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("GET %s: %d %q", URL(name), rec.Code, rec.Header().Get("Content-Type"))
		}
		want, _ := fs.ReadFile(files, name)
		if got, _ := io.ReadAll(rec.Body); string(got) != string(want) {
			t.Errorf("GET %s: not the embedded file", URL(name))
		}
	}
	if rec := get(URL("designsystemet/LICENSE")); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("GET the licence: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, path := range []string{
		Prefix + "000000000000/" + DesignsystemetCSS,
		Prefix + hashes()[DesignsystemetCSS] + "/designsystemet/../" + DesignsystemetCSS,
		Prefix + hashes()[DesignsystemetCSS] + "/designsystemet/",
		Prefix + hashes()[DesignsystemetCSS] + "/index.css",
	} {
		if rec := get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
}
