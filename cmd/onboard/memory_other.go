//go:build !linux

package main

import "runtime/debug"

// releaseStartup gives back the heap's start-up garbage (see the Linux
// version, which also drops the start-up code's page mappings).
func releaseStartup() int64 {
	debug.FreeOSMemory()
	return 0
}
