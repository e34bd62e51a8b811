package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Audit actions written by the API keys page.
const (
	AuditAPIKeyCreate = "apikey.create"
	AuditAPIKeyRevoke = "apikey.revoke"
)

// apiKeyPrefix starts every API key, so a leaked one is easy to recognise
// (and to scan for).
const apiKeyPrefix = "onb_"

// APIKey is one key the vendor's product uses on /api/v1. The key itself is
// never stored: only its SHA-256.
type APIKey struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"` // the public part, shown in the dashboard
	CreatedBy  *string    `db:"created_by"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// CreateAPIKey makes a new key named name and records who made it. It
// returns the key, which cannot be read back later: "onb_" and an 8-character
// public prefix, then 32 random bytes, base64url.
func (d *DB) CreateAPIKey(ctx context.Context, name string, by AuditEntry) (*APIKey, string, error) {
	pub := make([]byte, 4)
	secret := make([]byte, 32)
	if _, err := rand.Read(pub); err != nil {
		return nil, "", fmt.Errorf("db: create api key: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, "", fmt.Errorf("db: create api key: %w", err)
	}
	prefix := hex.EncodeToString(pub)
	key := apiKeyPrefix + prefix + "_" + base64.RawURLEncoding.EncodeToString(secret)
	var k *APIKey
	err := d.InTx(ctx, func(q Querier) error {
		var id int64
		if err := q.QueryRow(ctx, `
			INSERT INTO api_keys (name, prefix, key_hash, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
			name, prefix, tokenHash(key), by.StaffID).Scan(&id); err != nil {
			return err
		}
		by.Action, by.Detail = AuditAPIKeyCreate, map[string]any{"api_key_id": id, "name": name, "prefix": prefix}
		if err := AddAudit(ctx, q, by); err != nil {
			return err
		}
		var err error
		k, err = apiKeyByID(ctx, q, id)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("db: create api key: %w", err)
	}
	return k, key, nil
}

const apiKeyColumns = `k.id, k.name, k.prefix, s.email AS created_by, k.created_at, k.last_used_at, k.revoked_at`

func apiKeyByID(ctx context.Context, q Querier, id int64) (*APIKey, error) {
	rows, err := q.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k LEFT JOIN staff s ON s.id = k.created_by WHERE k.id = $1`, id)
	if err != nil {
		return nil, err
	}
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[APIKey])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// ListAPIKeys returns every key, revoked ones too, newest first.
func (d *DB) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k LEFT JOIN staff s ON s.id = k.created_by
		ORDER BY k.created_at DESC, k.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("db: list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return nil, fmt.Errorf("db: list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key at once (every request looks the key up, so
// nothing caches it) and records who did. Revoking a revoked key changes
// and records nothing; an unknown id is ErrNotFound.
func (d *DB) RevokeAPIKey(ctx context.Context, id int64, by AuditEntry) error {
	err := d.InTx(ctx, func(q Querier) error {
		k, err := apiKeyByID(ctx, q, id)
		if err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		by.Action, by.Detail = AuditAPIKeyRevoke, map[string]any{"api_key_id": id, "name": k.Name, "prefix": k.Prefix}
		return AddAudit(ctx, q, by)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("db: revoke api key: %w", err)
	}
	return nil
}

// APIKeyByKey finds the live key a request presented, and notes that it
// was used (at most once a minute). It returns ErrNotFound when the key is
// malformed, unknown or revoked.
func (d *DB) APIKeyByKey(ctx context.Context, key string) (*APIKey, error) {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	prefix, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(prefix) != 8 || len(key) > 128 {
		return nil, ErrNotFound
	}
	var id int64
	var hash []byte
	err := d.Pool.QueryRow(ctx, `SELECT id, key_hash FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`, prefix).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: api key: %w", err)
	}
	if subtle.ConstantTimeCompare(hash, tokenHash(key)) != 1 {
		return nil, ErrNotFound
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, id); err != nil {
		return nil, fmt.Errorf("db: api key used: %w", err)
	}
	k, err := apiKeyByID(ctx, d.Pool, id)
	if err != nil {
		return nil, fmt.Errorf("db: api key: %w", err)
	}
	return k, nil
}

// ErrIdempotencyMismatch is returned when an Idempotency-Key comes again
// with a different request; ErrIdempotencyInProgress when the first request
// with it is still being answered.
var (
	ErrIdempotencyMismatch   = errors.New("db: idempotency key used for another request")
	ErrIdempotencyInProgress = errors.New("db: idempotency key in use by a request in progress")
)

// Idempotent is a stored answer to an earlier request with the same key.
type Idempotent struct {
	Status   int
	Response []byte
}

// RequestHash is the hash ClaimIdempotencyKey compares requests by.
func RequestHash(body []byte) []byte {
	h := sha256.Sum256(body)
	return h[:]
}

// ClaimIdempotencyKey claims key for the API key's request with hash. It
// returns nil when the claim is new (answer, then SaveIdempotent or
// ReleaseIdempotencyKey), the stored answer when the same request was
// answered before, ErrIdempotencyMismatch for a different request and
// ErrIdempotencyInProgress while the first one is still running.
func (d *DB) ClaimIdempotencyKey(ctx context.Context, apiKeyID int64, key string, hash []byte) (*Idempotent, error) {
	tag, err := d.Pool.Exec(ctx, `INSERT INTO api_idempotency (api_key_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, apiKeyID, key, hash)
	if err != nil {
		return nil, fmt.Errorf("db: claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var stored []byte
	var status *int
	var resp []byte
	err = d.Pool.QueryRow(ctx, `SELECT request_hash, status, response FROM api_idempotency WHERE api_key_id = $1 AND key = $2`,
		apiKeyID, key).Scan(&stored, &status, &resp)
	if errors.Is(err, pgx.ErrNoRows) { // released meanwhile: try once more
		return d.ClaimIdempotencyKey(ctx, apiKeyID, key, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("db: claim idempotency key: %w", err)
	}
	switch {
	case subtle.ConstantTimeCompare(stored, hash) != 1:
		return nil, ErrIdempotencyMismatch
	case status == nil:
		return nil, ErrIdempotencyInProgress
	}
	return &Idempotent{Status: *status, Response: resp}, nil
}

// SaveIdempotent stores the answer to a claimed key.
func (d *DB) SaveIdempotent(ctx context.Context, apiKeyID int64, key string, answer Idempotent) error {
	if _, err := d.Pool.Exec(ctx, `UPDATE api_idempotency SET status = $3, response = $4 WHERE api_key_id = $1 AND key = $2`,
		apiKeyID, key, answer.Status, answer.Response); err != nil {
		return fmt.Errorf("db: save idempotent answer: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claim whose request failed, so a retry
// is tried afresh.
func (d *DB) ReleaseIdempotencyKey(ctx context.Context, apiKeyID int64, key string) error {
	if _, err := d.Pool.Exec(ctx, `DELETE FROM api_idempotency WHERE api_key_id = $1 AND key = $2 AND status IS NULL`,
		apiKeyID, key); err != nil {
		return fmt.Errorf("db: release idempotency key: %w", err)
	}
	return nil
}

// OnboardingsByCustomerRef returns the onboardings with the product's
// customer reference ref, newest first, at most MaxListLimit.
func (d *DB) OnboardingsByCustomerRef(ctx context.Context, ref string) ([]domain.Onboarding, error) {
	rows, err := d.Pool.Query(ctx, `SELECT `+onboardingColumns+` FROM onboardings WHERE customer_ref = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, ref, MaxListLimit)
	if err != nil {
		return nil, fmt.Errorf("db: onboardings by customer ref: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[domain.Onboarding])
	if err != nil {
		return nil, fmt.Errorf("db: onboardings by customer ref: %w", err)
	}
	return list, nil
}
