package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db/dbtest"
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
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, logW)
		logW.Close()
	}()

	var listening struct{ Addr, SimAddr, URL, ReturnURL string }
	ready := make(chan struct{})
	sc := bufio.NewScanner(logR)
	go func() {
		// Keep draining the log so the server never blocks on it.
		for sc.Scan() {
			line := sc.Bytes()
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "listening" {
				listening.Addr, _ = m["addr"].(string)
				listening.SimAddr, _ = m["sim_addr"].(string)
				listening.URL, _ = m["url"].(string)
				listening.ReturnURL, _ = m["return_url"].(string)
				close(ready)
			}
			if strings.Contains(string(line), "maskinporten") && strings.Contains(string(line), "PRIVATE KEY") {
				t.Errorf("a log line holds the private key: %s", line)
			}
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("run did not start listening within 60 s")
	}
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
	res, err = http.Get("http://" + listening.SimAddr + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("simulator metadata: %d", res.StatusCode)
	}

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
			err := run(context.Background(), args, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
