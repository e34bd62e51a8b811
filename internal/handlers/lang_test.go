package handlers

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestLangOf: the switch's cookie, then Accept-Language, then bokmål; the
// dashboard speaks bokmål and English, so nynorsk reads bokmål there.
func TestLangOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, path, cookie, accept, want string }{
		{"nothing known", "/onboard/standard", "", "", "nb"},
		{"cookie nynorsk", "/onboard/standard", "nn", "en", "nn"},
		{"cookie english", "/status/abc", "en", "nn", "en"},
		{"cookie unknown, header", "/status/abc", "sv", "nn-NO, en;q=0.8", "nn"},
		{"header english", "/", "", "en-GB", "en"},
		{"header no", "/", "", "no", "nb"},
		{"dashboard, nynorsk cookie", "/admin/onboardings", "nn", "", "nb"},
		{"dashboard, nynorsk header", "/admin/login", "", "nn", "nb"},
		{"dashboard root", "/admin", "nn", "", "nb"},
		{"dashboard, english", "/admin/", "en", "", "en"},
		{"not the dashboard", "/administrator", "nn", "", "nn"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if tt.cookie != "" {
			req.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
		}
		if tt.accept != "" {
			req.Header.Set("Accept-Language", tt.accept)
		}
		c := echo.New().NewContext(req, httptest.NewRecorder())
		if got := langOf(c); got != tt.want {
			t.Errorf("%s: langOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestLangLinks: one link per other language, named in its own language,
// back to the page; the dashboard offers only bokmål and English.
func TestLangLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang   string
		staff  bool
		want   []string // lang, name, URL for each link
		toggle string
	}{
		{"nb", false, []string{"nn", "Norsk (nynorsk)", "/lang/nn?next=%2Fstatus%2Fx%3Fa%3D1", "en", "English", "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"}, "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"},
		{"nn", false, []string{"nb", "Norsk (bokmål)", "/lang/nb?next=%2Fstatus%2Fx%3Fa%3D1", "en", "English", "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"}, "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"},
		{"en", false, []string{"nb", "Norsk (bokmål)", "/lang/nb?next=%2Fstatus%2Fx%3Fa%3D1", "nn", "Norsk (nynorsk)", "/lang/nn?next=%2Fstatus%2Fx%3Fa%3D1"}, "/lang/nb?next=%2Fstatus%2Fx%3Fa%3D1"},
		{"nb", true, []string{"en", "English", "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"}, "/lang/en?next=%2Fstatus%2Fx%3Fa%3D1"},
		{"en", true, []string{"nb", "Norsk (bokmål)", "/lang/nb?next=%2Fstatus%2Fx%3Fa%3D1"}, "/lang/nb?next=%2Fstatus%2Fx%3Fa%3D1"},
	}
	for _, tt := range tests {
		links := langLinks(tt.lang, "/status/x?a=1", tt.staff)
		var got []string
		for _, l := range links {
			got = append(got, l.Lang, l.Name, l.URL)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("langLinks(%s, staff %v) = %q, want %q", tt.lang, tt.staff, got, tt.want)
		}
		if s := switchURL(links); s != tt.toggle {
			t.Errorf("switchURL(%s, staff %v) = %q, want %q", tt.lang, tt.staff, s, tt.toggle)
		}
	}
}

// TestSetLang: the switch takes every offered language, nynorsk too, and
// refuses the rest.
func TestSetLang(t *testing.T) {
	t.Parallel()
	h := &Handler{}
	for _, tt := range []struct {
		lang   string
		status int
	}{{"nb", http.StatusSeeOther}, {"nn", http.StatusSeeOther}, {"en", http.StatusSeeOther}, {"no", http.StatusNotFound}, {"sv", http.StatusNotFound}, {"", http.StatusNotFound}} {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/lang/"+tt.lang+"?next=%2Fstatus%2Fx", nil), rec)
		c.SetParamNames("lang")
		c.SetParamValues(tt.lang)
		err := h.setLang(c)
		status := rec.Code
		if he, ok := err.(*echo.HTTPError); ok {
			status = he.Code
		} else if err != nil {
			t.Fatalf("setLang(%q): %v", tt.lang, err)
		}
		if status != tt.status {
			t.Errorf("setLang(%q) = %d, want %d", tt.lang, status, tt.status)
			continue
		}
		if tt.status == http.StatusSeeOther {
			ck := rec.Result().Cookies()
			if len(ck) != 1 || ck[0].Name != langCookie || ck[0].Value != tt.lang || rec.Header().Get("Location") != "/status/x" {
				t.Errorf("setLang(%q): cookies %v, Location %q", tt.lang, ck, rec.Header().Get("Location"))
			}
		}
	}
}
