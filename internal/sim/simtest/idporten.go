// Package simtest has what tests outside the simulator need: to start it
// over HTTP, and to play a person at it as a browser would.
package simtest

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/sim"
)

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// PickPerson plays the person at the simulated ID-porten: it opens
// authURL (the test-person picker), presses the button of the person with
// national id pid (or Cancel when pid is ""), and returns the URL
// ID-porten sends the browser back to (the redirect URI with code, state
// and iss, or error).
func PickPerson(t testing.TB, authURL, pid string) *url.URL {
	t.Helper()
	res, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Simulert ID-porten") {
		t.Fatalf("the picker: %d\n%s", res.StatusCode, body)
	}
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(body), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	if pid == "" {
		form.Set("cancel", "1")
	} else {
		form.Set("pid", pid)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = ""
	res, err = noFollow.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode/100 != 3 || loc.Host == "" {
		t.Fatalf("after the picker: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc
}

// Start runs a simulator with the default seed on a test server over HTTP
// (cfg's PublicURL is the server's; a nil Seed is the default one), closed
// when the test ends.
func Start(t testing.TB, cfg sim.Config) (*sim.Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	if cfg.Seed.Systems == nil {
		cfg.Seed = sim.DefaultSeed()
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return s, ts
}
