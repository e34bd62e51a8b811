// Package dbtest gives each test its own real Postgres database, copied from a
// migrated template (our migrations and River's), so tests run in parallel
// without seeing each other's rows or jobs.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/migrations"
)

var (
	once     sync.Once
	template string
	onceErr  error
)

// URL returns the admin DATABASE_URL the tests use, failing the test with a
// hint when it is not set.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts a private Postgres")
	}
	return u
}

// NewURL creates a fresh migrated database and returns its URL; the database
// is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	admin := URL(t)
	once.Do(func() { template, onceErr = ensureTemplate(admin) })
	if onceErr != nil {
		t.Fatalf("dbtest: template: %v", onceErr)
	}
	return create(t, admin, template)
}

// NewEmptyURL creates a fresh database with no schema at all, for tests of
// the migrations themselves.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	return create(t, URL(t), "template0")
}

func create(t testing.TB, admin, template string) string {
	t.Helper()
	name := "onboard_t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, name, template)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name))
			conn.Close(ctx)
		}
	})
	return withDatabase(admin, name)
}

// New returns an open store on a fresh migrated database.
func New(t testing.TB) *db.DB {
	t.Helper()
	u := NewURL(t)
	d, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

func ensureTemplate(admin string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	// River's migrations are part of the schema too: a River upgrade that
	// adds one makes a new template.
	river, err := db.RiverMigrations()
	if err != nil {
		return "", err
	}
	for _, m := range river {
		fmt.Fprintf(h, "river/%d/%s\n%s", m.Version, m.Name, m.SQLUp)
	}
	name := "onboard_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Test binaries of several packages run at once: one makes the template.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7411)`); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(7411)`) //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, building))
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q`, building)); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	_, err = d.Migrate(ctx)
	d.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %q RENAME TO %q`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
