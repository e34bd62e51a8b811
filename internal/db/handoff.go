package db

import (
	"context"
	"fmt"
	"time"
)

// UseHandoffJTI records a hand-off token's id until expires and reports
// whether it was new: false means the token was used before. Rows of tokens
// that have expired are pruned on the way, a few at a time.
func (d *DB) UseHandoffJTI(ctx context.Context, jti string, expires time.Time) (bool, error) {
	if _, err := d.Pool.Exec(ctx, `
		DELETE FROM handoff_jtis WHERE jti IN (
			SELECT jti FROM handoff_jtis WHERE expires_at < now() ORDER BY expires_at LIMIT 100)`); err != nil {
		return false, fmt.Errorf("db: prune handoff jtis: %w", err)
	}
	tag, err := d.Pool.Exec(ctx, `
		INSERT INTO handoff_jtis (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, jti, expires)
	if err != nil {
		return false, fmt.Errorf("db: use handoff jti: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
