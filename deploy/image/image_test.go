package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// repoRoot is the main module, whose ./cmd/onboard the test builds.
// ONBOARD_IMAGE_SRC points it at another checkout of the same tree.
func repoRoot(t *testing.T) string {
	t.Helper()
	if s := os.Getenv("ONBOARD_IMAGE_SRC"); s != "" {
		return s
	}
	abs, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// testVersion is the version the tests' binary is stamped with.
const testVersion = "1.2.3-test"

// binary builds ./cmd/onboard as `make image` does, once for all the tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "onboard-image-test-"); buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		builtBin = filepath.Join(buildDir, "onboard")
		start := time.Now()
		buildErr = BuildBinary(ctx, repoRoot(t), builtBin, runtime.GOARCH, testVersion)
		t.Logf("binary built in %s", time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// entry is one file of the image's flattened file system.
type entry struct {
	hdr  *tar.Header
	data []byte
}

// TestImage builds the binary and the image as `make image` does, writes the
// tarball, reads it back with go-containerregistry and checks what a
// Kubernetes pod with a read-only root file system and runAsNonRoot needs.
func TestImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := binary(t)

	epoch := time.Unix(1764000000, 0).UTC()
	opts := Options{Binary: bin, CABundle: "/etc/ssl/certs/ca-certificates.crt", Arch: runtime.GOARCH,
		Version: testVersion, Revision: "0123abc", Created: epoch}
	img, err := Image(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "onboard-image.tar")
	if err := Write(out, "onboard:dev", img); err != nil {
		t.Fatal(err)
	}

	// Read back what was written, as `crane push` or `docker load` would.
	tag, _ := name.NewTag("onboard:dev")
	got, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	// What `crane validate --tarball` checks: every digest, size and diff id.
	if err := validate.Image(got); err != nil {
		t.Errorf("the tarball's image is not consistent: %v", err)
	}
	if mt, _ := got.MediaType(); mt != types.DockerManifestSchema2 {
		t.Errorf("manifest media type %s, want Docker schema 2 (what a docker-save tarball gives)", mt)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532 (non-root)", c.User)
	}
	if strings.Join(c.Entrypoint, " ") != "/onboard" || strings.Join(c.Cmd, " ") != "serve" {
		t.Errorf("Entrypoint %q Cmd %q, want [/onboard] [serve]", c.Entrypoint, c.Cmd)
	}
	port := configDefaultPort(t)
	if _, ok := c.ExposedPorts[strconv.Itoa(port)+"/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts %v, want only %d/tcp (ONBOARD_ADDR's default port)", c.ExposedPorts, port)
	}
	if Port != port {
		t.Errorf("the image listens on %d, ONBOARD_ADDR's default is port %d", Port, port)
	}
	if c.WorkingDir != Home {
		t.Errorf("WorkingDir %q", c.WorkingDir)
	}
	for _, e := range c.Env {
		if regexp.MustCompile(`(?i)KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL`).MatchString(e) {
			t.Errorf("env %q looks secret: secrets come from the pod, not the image", e)
		}
	}
	if !slices.Contains(c.Env, "ONBOARD_ADDR=:"+strconv.Itoa(port)) {
		t.Errorf("Env %q lacks ONBOARD_ADDR=:%d (a container listens on every interface)", c.Env, port)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.version":  "1.2.3-test",
		"org.opencontainers.image.revision": "0123abc",
		"org.opencontainers.image.created":  "2025-11-24T16:00:00Z",
	} {
		if c.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
		}
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH || !cf.Created.Time.Equal(epoch) {
		t.Errorf("platform %s/%s created %s", cf.OS, cf.Architecture, cf.Created.Time)
	}

	files := flatten(t, got)
	// No shell, no busybox, nothing to exec into: only these files.
	want := []string{"/etc", "/etc/group", "/etc/nsswitch.conf", "/etc/passwd", "/etc/ssl", "/etc/ssl/certs",
		CAPath, "/home", Home, "/onboard", "/tmp"}
	var have []string
	for p, e := range files {
		have = append(have, p)
		base := path.Base(p)
		switch {
		case regexp.MustCompile(`^(sh|bash|ash|dash|zsh|ksh|busybox|toybox)$`).MatchString(base),
			strings.HasPrefix(p, "/bin"), strings.HasPrefix(p, "/usr"), strings.HasPrefix(p, "/sbin"):
			t.Errorf("%s in the image: no shell or system binaries belong there", p)
		}
		if !e.hdr.ModTime.Equal(epoch) {
			t.Errorf("%s mtime %s, want SOURCE_DATE_EPOCH %s", p, e.hdr.ModTime, epoch)
		}
		owner := 0
		if p == Home {
			owner = UID
		}
		if e.hdr.Uid != owner || e.hdr.Gid != owner {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, e.hdr.Uid, e.hdr.Gid, owner, owner)
		}
		if e.hdr.Typeflag == tar.TypeReg && e.hdr.Mode&0o022 != 0 {
			t.Errorf("%s mode %o is group/world writable", p, e.hdr.Mode)
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("files\n  %s\nwant\n  %s", strings.Join(have, " "), strings.Join(want, " "))
	}
	if m := files["/onboard"].hdr.Mode; m != 0o555 {
		t.Errorf("/onboard mode %o, want 555 (root-owned, not writable by the service)", m)
	}
	if m := files["/tmp"].hdr.Mode; m != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", m)
	}
	if !strings.Contains(string(files["/etc/passwd"].data), "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") ||
		!strings.Contains(string(files["/etc/group"].data), "nonroot:x:65532:\n") {
		t.Errorf("/etc/passwd %q /etc/group %q lack nonroot 65532", files["/etc/passwd"].data, files["/etc/group"].data)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(files[CAPath].data) || strings.Count(string(files[CAPath].data), "BEGIN CERTIFICATE") < 50 {
		t.Errorf("%s holds no usable CA bundle", CAPath)
	}

	// The binary: static (no interpreter, no dynamic section), and it runs.
	extracted := filepath.Join(dir, "extracted-onboard")
	if err := os.WriteFile(extracted, files["/onboard"].data, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(extracted)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("/onboard has a %s program header: not statically linked", p.Type)
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("/onboard imports %v", libs)
	}
	ef.Close()
	cmd := exec.CommandContext(ctx, extracted, "help")
	cmd.Env = []string{} // as in the image: nothing from this machine
	outb, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(outb), "usage: onboard <command>") || !strings.Contains(string(outb), "migrate") {
		t.Errorf("/onboard help: %v\n%s", err, outb)
	}
	cmd = exec.CommandContext(ctx, extracted, "version")
	cmd.Env = []string{}
	if outb, err = cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(outb)) != "onboard "+testVersion {
		t.Errorf("/onboard version: %v %q, want the version stamped at build time", err, outb)
	}

	// Reproducible: the same inputs give the same digest and the same bytes.
	again, err := Image(opts)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	d3, _ := got.Digest()
	if d1 != d2 || d1 != d3 {
		t.Errorf("digests differ: built %s, built again %s, read back %s", d1, d2, d3)
	}
	out2 := filepath.Join(dir, "again.tar")
	if err := Write(out2, "onboard:dev", again); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(out)
	b2, _ := os.ReadFile(out2)
	if !bytes.Equal(b1, b2) {
		t.Error("the two tarballs differ")
	}
	t.Logf("image %s, %d bytes", d1, len(b1))
}

// flatten reads the image's file system as a container sees it.
func flatten(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files["/"+strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = entry{hdr: h, data: data}
	}
}

// configDefaultPort reads the port of ONBOARD_ADDR's default from
// internal/config (the literal in get("ONBOARD_ADDR", ":8080")), so the image
// and the service cannot drift apart.
func configDefaultPort(t *testing.T) int {
	t.Helper()
	src := filepath.Join(repoRoot(t), "internal", "config", "config.go")
	f, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	port := 0
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			return true
		}
		k, ok1 := call.Args[0].(*ast.BasicLit)
		v, ok2 := call.Args[1].(*ast.BasicLit)
		if !ok1 || !ok2 || k.Value != `"ONBOARD_ADDR"` {
			return true
		}
		def, _ := strconv.Unquote(v.Value)
		if i := strings.LastIndex(def, ":"); i >= 0 {
			port, _ = strconv.Atoi(def[i+1:])
		}
		return false
	})
	if port == 0 {
		t.Fatalf("no default of ONBOARD_ADDR with a port found in %s", src)
	}
	return port
}

// TestDockerfileMatches checks the Dockerfile, which cannot be built here,
// against what the image builder does and against go.mod's toolchain.
func TestDockerfileMatches(t *testing.T) {
	root := repoRoot(t)
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	if m := regexp.MustCompile(`(?m)^toolchain go(\S+)`).FindSubmatch(gomod); m != nil {
		want = string(m[1])
	} else if m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod); m != nil {
		want = string(m[1])
	}
	text := string(df)
	for _, line := range []string{
		"ARG GO_VERSION=" + want,
		"FROM golang:${GO_VERSION}-bookworm AS build",
		"CGO_ENABLED=0",
		"-trimpath",
		"-X main.version=${VERSION}",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"COPY --from=build /out/onboard " + Binary,
		"ENV ONBOARD_ADDR=:" + strconv.Itoa(Port),
		"EXPOSE " + strconv.Itoa(Port),
		fmt.Sprintf("USER %d:%d", UID, GID),
		"WORKDIR " + Home,
		`ENTRYPOINT ["` + Binary + `"]`,
		`CMD ["serve"]`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("Dockerfile lacks %q", line)
		}
	}
}
