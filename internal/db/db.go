// Package db is the service's Postgres store: one file per table, the SQL
// beside the method that runs it.
package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

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

// DB is the store. Its methods are safe for concurrent use. It has no
// hooks: what goes out with a change (its webhook event, a staff action's
// audit entry) is written by the caller in the change's transaction (Tx and
// the *Tx functions, such as SaveOnboardingTx).
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to Postgres and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	// pgxpool's default (4 on a 2-core machine) is too few for a web server
	// whose requests wait on Altinn while long exports stream; the URL's
	// pool_max_conns still wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 20
	}
	// A database that does not answer (restarting, unreachable) must fail a
	// request fast, with a clear page, rather than hold it until the
	// request's own deadline; the URL's connect_timeout still wins.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
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

// riverMigrator applies River's own migrations (its job tables) with the
// same pool, so River's schema is part of the one migration story.
func (d *DB) riverMigrator() (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(d.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("db: river migrations: %w", err)
	}
	return m, nil
}

// RiverMigrations lists River's migrations as this binary knows them, for
// callers that need to tell one River schema from another (the test template).
func RiverMigrations() ([]rivermigrate.Migration, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("db: river migrations: %w", err)
	}
	return m.AllVersions(), nil
}

// migrateLock is the advisory lock key Migrate holds, so that instances
// starting together (dev applies migrations at start) take turns.
const migrateLock = 7411_0001

// Migrate applies every pending migration, ours (goose files embedded in the
// binary) and then River's, and returns how many ran.
func (d *DB) Migrate(ctx context.Context) (int, error) {
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return 0, fmt.Errorf("db: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock) //nolint:errcheck // the session ends with the connection anyway

	p, closeFn, err := d.provider()
	if err != nil {
		return 0, err
	}
	defer closeFn()
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate: %w", err)
	}
	m, err := d.riverMigrator()
	if err != nil {
		return len(res), err
	}
	rres, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate river: %w", err)
	}
	return len(res) + len(rres.Versions), nil
}

// SchemaVersion is where the database's schema is against what this binary
// needs: our migrations (goose) and River's.
type SchemaVersion struct {
	Current, Target           int64 // ours
	RiverCurrent, RiverTarget int   // River's
}

// Behind reports whether a migration this binary knows is not applied.
func (v SchemaVersion) Behind() bool {
	return v.Current < v.Target || v.RiverCurrent < v.RiverTarget
}

// String says where the schema is, for the refusal to start.
func (v SchemaVersion) String() string {
	return fmt.Sprintf("schema version %d of %d, River schema version %d of %d", v.Current, v.Target, v.RiverCurrent, v.RiverTarget)
}

// SchemaCurrent reports where the schema is against every embedded
// migration, ours and River's, so the service can refuse to serve on a
// schema that is behind.
func (d *DB) SchemaCurrent(ctx context.Context) (SchemaVersion, error) {
	var v SchemaVersion
	p, closeFn, err := d.provider()
	if err != nil {
		return v, err
	}
	defer closeFn()
	if v.Current, v.Target, err = p.GetVersions(ctx); err != nil {
		return v, fmt.Errorf("db: schema version: %w", err)
	}
	m, err := d.riverMigrator()
	if err != nil {
		return v, err
	}
	all := m.AllVersions()
	if len(all) > 0 {
		v.RiverTarget = all[len(all)-1].Version
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return v, fmt.Errorf("db: river schema version: %w", err)
	}
	// River's versions are applied in order; the highest one applied is
	// where its schema is.
	for _, e := range existing {
		v.RiverCurrent = max(v.RiverCurrent, e.Version)
	}
	return v, nil
}

// ErrSchemaBehind is returned by Ready when a migration is not applied.
var ErrSchemaBehind = errors.New("db: schema is behind this binary")

// Ready reports whether the database answers and its schema (ours and
// River's) is current: what a load balancer's readiness probe asks.
func (d *DB) Ready(ctx context.Context) error {
	if err := d.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	v, err := d.SchemaCurrent(ctx)
	if err != nil {
		return err
	}
	if v.Behind() {
		return fmt.Errorf("%w: %s", ErrSchemaBehind, v)
	}
	return nil
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise.
func (d *DB) InTx(ctx context.Context, fn func(q Querier) error) error {
	return d.Tx(ctx, func(tx pgx.Tx) error { return fn(tx) })
}

// Tx is InTx for work that needs the pgx.Tx itself, such as River's InsertTx
// (a webhook delivery's job enqueued with the change it tells about).
func (d *DB) Tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
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

// IsUUID reports whether s is the textual form of a uuid, the form Postgres
// accepts for the uuid columns (ids, Altinn request and system user ids), so
// callers can refuse anything else before it reaches a query: 8-4-4-4-12
// hex digits, either case. A loop, not a regexp: the system-users page
// asks it twice per system user (a regexp was 7% of its CPU at 200).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
