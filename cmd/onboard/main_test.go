package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// TestRunServesTheWizard starts the whole program as `onboard serve` would,
// on ":0" with the simulator, and checks it comes up on a fresh database,
// serves the wizard, and shuts down cleanly when its context ends.
func TestRunServesTheWizard(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":     dbtest.NewEmptyURL(t),
		"ONBOARD_ADDR":     "127.0.0.1:0",
		"ONBOARD_SIM_ADDR": "127.0.0.1:0",
		"ONBOARD_DATA_DIR": t.TempDir(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening, done := start(ctx, t, []string{"serve"}, env)
	if listening.ReturnURL != listening.URL+"/return" || !strings.HasSuffix(listening.URL, listening.Addr[strings.LastIndex(listening.Addr, ":"):]) {
		t.Fatalf("URLs not bound to the real port: %+v", listening)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get("http://" + listening.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	res, err = http.Get("http://" + listening.Addr + "/onboard/standard/org")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="orgno"`) {
		t.Fatalf("org step: %d\n%s", res.StatusCode, body)
	}
	// Migrated at start (dev), River's schema included: ready, and metrics served.
	for _, path := range []string{"/readyz", "/metrics"} {
		res, err = http.Get("http://" + listening.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	res, err = http.Get("http://" + listening.SimAddr + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("simulator metadata: %d", res.StatusCode)
	}

	stopAndWait(t, cancel, done)
}

// TestRunDrainsBeforeItStops: at a shutdown with ONBOARD_SHUTDOWN_DRAIN,
// /readyz turns 503 at once while the pages are still served, so a load
// balancer takes the instance out before it stops taking connections; then
// it ends within the shutdown budget.
func TestRunDrainsBeforeItStops(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":           dbtest.NewEmptyURL(t),
		"ONBOARD_ADDR":           "127.0.0.1:0",
		"ONBOARD_SIM_ADDR":       "127.0.0.1:0",
		"ONBOARD_DATA_DIR":       t.TempDir(),
		"ONBOARD_SHUTDOWN_DRAIN": "5s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, done := start(ctx, t, []string{"serve"}, env)
	get := func(path string) (int, string, error) {
		res, err := http.Get("http://" + l.Addr + path)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	if st, _, err := get("/readyz"); err != nil || st != http.StatusOK {
		t.Fatalf("/readyz before the shutdown: %d %v", st, err)
	}
	began := time.Now()
	cancel()
	deadline := time.Now().Add(4 * time.Second)
	for {
		st, body, err := get("/readyz")
		if err != nil {
			t.Fatalf("/readyz refused during the drain (after %v): %v", time.Since(began), err)
		}
		if st == http.StatusServiceUnavailable && strings.Contains(body, "shutting down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %q %v after the shutdown began", st, body, time.Since(began))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st, body, err := get("/onboard/standard/org"); err != nil || st != http.StatusOK || !strings.Contains(body, `name="orgno"`) {
		t.Fatalf("a page during the drain: %d %v", st, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after shutdown: %v", err)
		}
		if took := time.Since(began); took < 5*time.Second {
			t.Errorf("run ended %v after the signal, before its 5 s drain", took)
		}
	case <-time.After(shutdownBudget + 5*time.Second):
		t.Fatal("run did not shut down within its budget")
	}
}

// TestRunSimAlone starts `onboard sim`, the simulator a vendor can test its
// own integration against, and gets a token from it with the dev key.
func TestRunSimAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"ONBOARD_SIM_ADDR": "127.0.0.1:0", "ONBOARD_DATA_DIR": dir}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening, done := start(ctx, t, []string{"sim"}, env)
	key, _, err := maskinporten.LoadOrCreateKey(filepath.Join(dir, "maskinporten-dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := maskinporten.New(maskinporten.Config{Issuer: listening.Issuer,
		ClientID: "onboard-dev", KeyID: "onboard-dev-key", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Token(ctx, "altinn:authentication/systemuser.request.write"); err != nil {
		t.Fatalf("a vendor using the printed client id and key should get a token: %v", err)
	}
	stopAndWait(t, cancel, done)
}

type listening struct{ Addr, SimAddr, URL, ReturnURL, Issuer string }

// start runs the program in the background and waits for its "listening"
// log line, which carries the addresses it bound.
func start(ctx context.Context, t *testing.T, args []string, env map[string]string) (listening, chan error) {
	t.Helper()
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, logW)
		logW.Close()
	}()
	ready := make(chan listening, 1)
	go func() {
		sc := bufio.NewScanner(logR)
		for sc.Scan() { // keep draining so the program never blocks on its log
			line := sc.Bytes()
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "listening" {
				var l listening
				l.Addr, _ = m["addr"].(string)
				l.SimAddr, _ = m["sim_addr"].(string)
				l.URL, _ = m["url"].(string)
				l.ReturnURL, _ = m["return_url"].(string)
				l.Issuer, _ = m["issuer"].(string)
				ready <- l
			}
			if strings.Contains(string(line), "PRIVATE KEY") {
				t.Errorf("a log line holds a private key: %s", line)
			}
		}
	}()
	select {
	case l := <-ready:
		return l, done
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("run did not start listening within 60 s")
	}
	return listening{}, nil
}

func stopAndWait(t *testing.T, cancel func(), done chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not shut down within 30 s")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown env", map[string]string{"ONBOARD_ALTINN_ENV": "staging"}, "ONBOARD_ALTINN_ENV"},
		{"tt02 without credentials", map[string]string{"ONBOARD_ALTINN_ENV": "tt02", "ONBOARD_PUBLIC_URL": "https://x.example", "ONBOARD_SESSION_KEY": strings.Repeat("k", 32)}, "ONBOARD_MASKINPORTEN_CLIENT_ID"},
		{"prod over http", map[string]string{"ONBOARD_ALTINN_ENV": "prod", "ONBOARD_PUBLIC_URL": "http://x.example"}, "https"},
		{"no database", map[string]string{}, "DATABASE_URL"},
		{"unknown command", map[string]string{"DATABASE_URL": "postgres://x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"serve"}
			if tt.name == "unknown command" {
				args = []string{"frobnicate"}
			}
			tt.env["ONBOARD_DATA_DIR"] = t.TempDir()
			err := run(context.Background(), args, func(k string) string { return tt.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestVersion: `onboard version` needs no configuration and prints the
// version stamped at build time (make build, make image, the Dockerfile),
// else the commit or "devel".
func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "onboard "+Version() || Version() == "" {
		t.Errorf("version printed %q", got)
	}
	defer func(v string) { version = v }(version)
	version = "v1.2.3"
	if Version() != "v1.2.3" {
		t.Errorf("Version() = %q with v1.2.3 stamped", Version())
	}
}
