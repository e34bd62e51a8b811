// Package db is the service's Postgres store: one file per table, the SQL
// beside the method that runs it.
package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/onboard-altinn/onboard/migrations"
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("db: not found")

// ErrConflict is returned when a write would break a uniqueness rule, such as
// a second live onboarding for one Altinn key.
var ErrConflict = errors.New("db: conflict")

// Querier is what both a pool and a transaction offer, so private helpers can
// run inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DB is the store. Its methods are safe for concurrent use.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to Postgres and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes every connection.
func (d *DB) Close() { d.Pool.Close() }

func (d *DB) provider() (*goose.Provider, func(), error) {
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("db: migrations: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

// Migrate applies every pending migration and returns how many ran.
func (d *DB) Migrate(ctx context.Context) (int, error) {
	p, closeFn, err := d.provider()
	if err != nil {
		return 0, err
	}
	defer closeFn()
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate: %w", err)
	}
	return len(res), nil
}

// SchemaCurrent reports whether every embedded migration has been applied,
// so the service can refuse to serve on a schema that is behind.
func (d *DB) SchemaCurrent(ctx context.Context) (current, target int64, err error) {
	p, closeFn, err := d.provider()
	if err != nil {
		return 0, 0, err
	}
	defer closeFn()
	current, target, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("db: schema version: %w", err)
	}
	return current, target, nil
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise.
func (d *DB) InTx(ctx context.Context, fn func(q Querier) error) error {
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
