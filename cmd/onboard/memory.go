package main

import "runtime/debug"

// releaseStartup gives the heap's start-up garbage back to the kernel once
// the service is up (a GC, then the free pages returned at once rather than
// by the scavenger over minutes), so idle memory is the serving working set.
//
// The binary's own pages (code, read-only data) stay mapped: they are the
// page cache's, shared and reclaimable, and dropping them would only move
// the cost to the next request's page faults (and in a PIE build their
// relocated pages would be lost).
func releaseStartup() { debug.FreeOSMemory() }
