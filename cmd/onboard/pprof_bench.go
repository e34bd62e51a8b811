//go:build benchpprof

package main

// Only in the build bench/wizard -profile makes (go build -tags
// benchpprof): net/http/pprof on a side port of its own,
// ONBOARD_BENCH_PPROF, never on the service's own address or in a release.

import (
	"log"
	"net/http"
	_ "net/http/pprof" // registers on http.DefaultServeMux, which only this side port serves
	"os"
)

func init() {
	if addr := os.Getenv("ONBOARD_BENCH_PPROF"); addr != "" {
		go func() { log.Println(http.ListenAndServe(addr, nil)) }()
	}
}
