package db

import (
	"context"
	"time"
)

// FunnelFromTable is Funnel scanning the table, whatever the zone: the
// summary's oracle.
func (d *DB) FunnelFromTable(ctx context.Context, from, to time.Time, zone string) (*Funnel, error) {
	return d.funnel(ctx, from, to, zone, true)
}

var HistBlocks = histBlocks

var ConnectKey, ConnectKeySeconds = connectKey, connectKeySeconds
