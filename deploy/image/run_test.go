package main

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImageRunsAsInKubernetes runs the image's own file system the way the
// manifests do: as 65532 in a chroot of the image's files, where nothing but
// /tmp (the emptyDir) is writable, with the base's and the example overlay's
// config.env and the Secret's keys as files under /run/secrets/onboard. It
// migrates a fresh database twice (the Job), serves (ready, metrics behind
// the token, a wizard page), and stops at SIGTERM: /readyz 503 while it
// drains, then an exit within the 30 s budget. It needs root (chroot, the
// switch to 65532), psql and DATABASE_URL (make deploy-check starts the
// private Postgres); without them it is skipped.
func TestImageRunsAsInKubernetes(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux: chroot into the image's files and run as 65532")
	}
	dbURL := os.Getenv("DATABASE_URL")
	psql, err := exec.LookPath("psql")
	if dbURL == "" || err != nil {
		t.Skip("needs DATABASE_URL and psql (make deploy-check sets them up)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	img, err := Image(Options{Binary: binary(t), CABundle: "/etc/ssl/certs/ca-certificates.crt",
		Version: "test", Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	files := flatten(t, img)
	for _, p := range slices.Sorted(maps.Keys(files)) { // parents first
		e := files[p]
		dst := filepath.Join(root, p)
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.WriteFile(dst, e.data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Lchown(dst, e.hdr.Uid, e.hdr.Gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dst, os.FileMode(e.hdr.Mode&0o777)|modeBits(e.hdr.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	// readOnlyRootFilesystem: the user's home is writable in the image (for
	// a docker run in sim mode) but not in a pod.
	if err := os.Chown(filepath.Join(root, Home), 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, Home), 0o555); err != nil {
		t.Fatal(err)
	}

	// A database of its own, dropped at the end.
	dbName := fmt.Sprintf("deploy_smoke_%d", time.Now().UnixNano())
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skipf("DATABASE_URL is not a postgres:// URL")
	}
	if out, err := exec.CommandContext(ctx, psql, dbURL, "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE "+dbName).CombinedOutput(); err != nil {
		t.Fatalf("create database: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(psql, dbURL, "-c", "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)").Run()
	})
	u.Path = "/" + dbName

	// The Secret's keys as the pod sees them: root's, readable by the group.
	secrets := filepath.Join(root, "run", "secrets", "onboard")
	if err := os.MkdirAll(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := exec.CommandContext(ctx, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048").Output()
	if err != nil {
		t.Skipf("openssl: %v", err)
	}
	token := "metrics-token-for-the-test"
	for name, v := range map[string]string{
		"database-url": u.String(), "session-key": strings.Repeat("k", 48),
		"maskinporten-key.pem": string(key), "metrics-token": token,
	} {
		p := filepath.Join(secrets, name)
		if err := os.WriteFile(p, []byte(v), 0o440); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 0, GID); err != nil {
			t.Fatal(err)
		}
	}
	products := filepath.Join(root, "etc", "onboard")
	if err := os.MkdirAll(products, 0o755); err != nil {
		t.Fatal(err)
	}
	pj, err := os.ReadFile("../kubernetes/overlays/example/products.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(products, "products.json"), pj, 0o444); err != nil {
		t.Fatal(err)
	}

	// The environment: the image's, then the ConfigMap (base, overlay), then
	// what keeps the test on this machine: a free loopback port, and every
	// outside service at a closed loopback address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cf, _ := img.ConfigFile()
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, f := range []string{"../kubernetes/base/config.env", "../kubernetes/overlays/example/config.env"} {
		readEnv(t, f, env)
	}
	for k, v := range map[string]string{
		"ONBOARD_ADDR": addr, "ONBOARD_ALTINN_ENV": "custom",
		"ONBOARD_ALTINN_BASE_URL": "https://127.0.0.1:9", "ONBOARD_MASKINPORTEN_ISSUER": "https://127.0.0.1:9/",
		"ONBOARD_ALTINN_CONFIRM_HOSTS": "127.0.0.1:9", "ONBOARD_BRREG_URL": "off",
	} {
		env[k] = v
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	run := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, Binary, args...)
		cmd.Env = envList
		cmd.Dir = Home
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: UID, Gid: GID, Groups: []uint32{}},
		}
		return cmd
	}

	// The migration Job, twice.
	for i, want := range []string{`"count":[1-9]`, `"count":0`} {
		out, err := run("migrate").CombinedOutput()
		if err != nil || !regexp.MustCompile(`"migrations applied".*`+want).Match(out) {
			t.Fatalf("migrate (run %d): %v\n%s", i+1, err, out)
		}
	}

	// The Deployment's container.
	srv := run(cf.Config.Cmd...)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
		close(logs)
	}()
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		if srv.ProcessState == nil {
			srv.Process.Kill()
		}
	}()
	base := "http://" + addr
	get := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if len(hdr) == 2 {
			req.Header.Set(hdr[0], hdr[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := get("/readyz"); code == http.StatusOK {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s", err, drainLogs(logs))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 60 s\n%s", drainLogs(logs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		path string
		hdr  []string
		want int
	}{
		{"/healthz", nil, 200},
		{"/metrics", nil, 401},
		{"/metrics", []string{"Authorization", "Bearer " + token}, 200},
		{"/onboard/regnskap", nil, 200},
	} {
		if code, body := get(c.path, c.hdr...); code != c.want {
			t.Errorf("GET %s: %d, want %d: %.200s", c.path, code, c.want, body)
		}
	}

	// SIGTERM, as the kubelet sends it: not ready while still serving, then
	// gone within the budget.
	start := time.Now()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sawDrain := false
	for !sawDrain && time.Since(start) < 10*time.Second {
		code, body := get("/readyz")
		sawDrain = code == http.StatusServiceUnavailable && strings.Contains(body, "shutting down")
		if !sawDrain {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !sawDrain {
		t.Error("/readyz did not answer 503 while draining")
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve ended with %v\n%s", err, drainLogs(logs))
		}
		took := time.Since(start)
		if took > 30*time.Second {
			t.Errorf("shutdown took %s, over the 30 s budget", took)
		}
		t.Logf("ready, served, drained and stopped %s after SIGTERM", took.Round(10*time.Millisecond))
	case <-time.After(45 * time.Second):
		t.Fatalf("still running 45 s after SIGTERM (the pod's grace)\n%s", drainLogs(logs))
	}
	l := drainLogs(logs)
	if strings.Contains(l, "read-only file system") || strings.Contains(l, "permission denied") {
		t.Errorf("the service tried to write outside /tmp:\n%s", l)
	}
}

// modeBits carries the setuid, setgid and sticky bits of a tar mode over.
func modeBits(m int64) os.FileMode {
	var out os.FileMode
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	if m&0o2000 != 0 {
		out |= os.ModeSetgid
	}
	if m&0o4000 != 0 {
		out |= os.ModeSetuid
	}
	return out
}

// readEnv adds a config.env's KEY=VALUE lines to env, as kustomize's
// configMapGenerator reads them (later files win, as the overlay's merge).
func readEnv(t *testing.T, path string, env map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
}

func drainLogs(logs <-chan string) string {
	var b strings.Builder
	for {
		select {
		case l, ok := <-logs:
			if !ok {
				return b.String()
			}
			b.WriteString(l + "\n")
		case <-time.After(200 * time.Millisecond):
			return b.String()
		}
	}
}
