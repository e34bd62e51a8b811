// Command image builds onboard's container image without a Docker daemon or
// network: the static binary, CA certificates and a non-root user on an empty
// base, assembled with go-containerregistry and written as a tarball that
// `docker load`, `podman load` and `crane push` read. `make image` runs it:
//
//	cd deploy && go run ./image -o ../dist/onboard-image.tar -tag onboard:dev
//
// Every timestamp is SOURCE_DATE_EPOCH (the Makefile passes the last
// commit's time; unset: 0), so the same commit, toolchain and CA bundle give
// the same image digest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("o", "../dist/onboard-image.tar", "where to write the image tarball")
	tag := fs.String("tag", "onboard:dev", "the tag `docker load` gives the image")
	root := fs.String("src", "..", "the repository root (the main module)")
	bin := fs.String("binary", "", "a static linux binary already built (default: build it)")
	ca := fs.String("ca", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle to put in the image")
	arch := fs.String("arch", runtime.GOARCH, "GOARCH to build for")
	version := fs.String("version", "dev", "the image's version label")
	revision := fs.String("revision", "", "the image's revision label (a commit)")
	licenses := fs.String("licenses", "", "the image's licenses label (SPDX expression); empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	epoch, err := sourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	if *bin == "" {
		dir, err := os.MkdirTemp("", "onboard-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "onboard")
		abs, err := filepath.Abs(*root)
		if err != nil {
			return err
		}
		if err := BuildBinary(ctx, abs, *bin, *arch, *version); err != nil {
			return err
		}
	}
	img, err := Image(Options{Binary: *bin, CABundle: *ca, Arch: *arch, Version: *version,
		Revision: *revision, Licenses: *licenses, Created: epoch})
	if err != nil {
		return err
	}
	if err := Write(*out, *tag, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s %s (%.1f MB)\n", *out, *tag, digest, float64(st.Size())/1e6)
	return nil
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (seconds since 1970); unset is 0.
func sourceDateEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
