package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's fixed facts, which the test and the manifests check against.
const (
	// UID and GID are the non-root user the service runs as (distroless'
	// "nonroot").
	UID = 65532
	GID = 65532
	// Port is where the service listens in a container: the port of
	// ONBOARD_ADDR's default, on every interface (the image sets
	// ONBOARD_ADDR=:8080, as loopback is of no use in a container).
	Port = 8080
	// Binary is the service's path in the image.
	Binary = "/onboard"
	// CAPath is where Go's crypto/x509 looks first on Linux.
	CAPath = "/etc/ssl/certs/ca-certificates.crt"
	// Home is the non-root user's home and the working directory: writable
	// by the user (a `docker run` in sim mode keeps its .data there), not
	// needed with a read-only root filesystem outside sim.
	Home = "/home/nonroot"
	// Source is the repository, for the image's source label.
	Source = "https://github.com/onboard-altinn/onboard"
)

// Options say what goes into the image.
type Options struct {
	Binary   string    // the static linux binary to put at /onboard
	CABundle string    // PEM bundle of CA certificates (Debian's ca-certificates.crt)
	Arch     string    // GOARCH the binary was built for
	Version  string    // org.opencontainers.image.version
	Revision string    // org.opencontainers.image.revision (a commit), optional
	Licenses string    // org.opencontainers.image.licenses (SPDX), optional
	Created  time.Time // every timestamp in the image (SOURCE_DATE_EPOCH)
}

// BuildBinary builds the service as a static, path-free linux binary into
// out: CGO_ENABLED=0 (pure-Go net and user lookups, no libc), -trimpath, no
// VCS stamp but version, which `onboard version` prints (and the image's
// label shows). The same source, toolchain and version give the same bytes.
func BuildBinary(ctx context.Context, repoRoot, out, arch, version string) error {
	cmd := exec.CommandContext(ctx, goCmd(), "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -X main.version="+version, "-o", out, "./cmd/onboard")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/onboard: %w", err)
	}
	return nil
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// file is one entry of a layer.
type file struct {
	path     string // absolute, in the image
	mode     int64  // permission bits
	uid, gid int
	dir      bool
	data     []byte
}

// Image assembles the image from scratch: no base image, no shell, no
// package manager, only the files below. Two layers: the rarely changing
// one (users, CA certificates, directories) and the binary.
func Image(o Options) (v1.Image, error) {
	if o.Arch == "" {
		o.Arch = runtime.GOARCH
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(o.CABundle)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w (install Debian's ca-certificates or set CA_BUNDLE)", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", UID, GID, Home)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID)
	base := []file{
		{path: "/etc", mode: 0o755, dir: true},
		{path: "/etc/group", mode: 0o644, data: []byte(group)},
		{path: "/etc/passwd", mode: 0o644, data: []byte(passwd)},
		// Go's resolver reads it for the order of /etc/hosts and DNS.
		{path: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{path: "/etc/ssl", mode: 0o755, dir: true},
		{path: "/etc/ssl/certs", mode: 0o755, dir: true},
		{path: CAPath, mode: 0o644, data: ca},
		{path: "/home", mode: 0o755, dir: true},
		{path: Home, mode: 0o700, uid: UID, gid: GID, dir: true},
		{path: "/tmp", mode: 0o1777, dir: true},
	}
	baseLayer, err := layer(base, o.Created)
	if err != nil {
		return nil, err
	}
	binLayer, err := layer([]file{{path: Binary, mode: 0o555, data: bin}}, o.Created)
	if err != nil {
		return nil, err
	}

	created := v1.Time{Time: o.Created.UTC()}
	// Docker's schema 2 media types (empty.Image's), not OCI's: the tarball
	// `docker load` reads keeps no media types, so an image read back from
	// it (and pushed by crane) has these, and the digest printed here is the
	// one a registry shows.
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: baseLayer, History: v1.History{
			Created: created, CreatedBy: "onboard deploy/image: /etc/passwd, /etc/group (nonroot 65532), CA certificates, /tmp, " + Home}},
		mutate.Addendum{Layer: binLayer, History: v1.History{
			Created: created, CreatedBy: "onboard deploy/image: /onboard (CGO_ENABLED=0 go build -trimpath ./cmd/onboard)"}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.Arch
	cf.Created = created
	labels := map[string]string{
		"org.opencontainers.image.title":       "onboard",
		"org.opencontainers.image.description": "Connects a software vendor's customers to Altinn 3 through system users",
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	if o.Licenses != "" {
		labels["org.opencontainers.image.licenses"] = o.Licenses
	}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", UID, GID),
		Entrypoint:   []string{Binary},
		Cmd:          []string{"serve"},
		WorkingDir:   Home,
		ExposedPorts: map[string]struct{}{fmt.Sprintf("%d/tcp", Port): {}},
		// Nothing secret: where to listen, and the CA bundle spelled out for
		// anything that does not look in Go's default places.
		Env: []string{
			fmt.Sprintf("ONBOARD_ADDR=:%d", Port),
			"SSL_CERT_FILE=" + CAPath,
		},
		Labels:     labels,
		StopSignal: "SIGTERM",
	}
	return mutate.ConfigFile(img, cf)
}

// layer is a reproducible tar of files: sorted, every timestamp the same,
// owners by number and name, no entries from the build machine.
func layer(files []file, mtime time.Time) (v1.Layer, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := map[int]string{0: "root", UID: "nonroot"}
	for _, f := range files {
		h := &tar.Header{
			Name:    strings.TrimPrefix(f.path, "/"),
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			Uname:   names[f.uid],
			Gname:   names[f.gid],
			ModTime: mtime.UTC(),
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// Write writes img as a `docker save`-style tarball tagged tag, which
// `docker load`, `podman load` and `crane push` read, atomically.
func Write(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tarball.Write(ref, img, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
