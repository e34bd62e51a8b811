// Package migrations holds the database schema as goose SQL files embedded in
// the binary, so `onboard migrate` and the start-up check need no files on disk.
package migrations

import "embed"

// FS holds every migration, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
