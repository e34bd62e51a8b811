package db_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	// Nothing listens here: connecting fails at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, connErr := db.Open(ctx, "postgres://x@"+addr+"/x?sslmode=disable")

	store := dbtest.New(t)
	_, syntaxErr := store.Pool.Exec(ctx, `SELEKT 1`)
	var missing bool
	noRow := store.Pool.QueryRow(ctx, `SELECT true FROM onboardings WHERE false`).Scan(&missing)

	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", connErr, true},
		{"wrapped", fmt.Errorf("db: save onboarding: %w", connErr), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"database dropped", &pgconn.PgError{Code: "3D000"}, true},
		{"conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), true},
		{"syntax error", syntaxErr, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", noRow, false},
		{"not found", db.ErrNotFound, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if got := db.Unavailable(tt.err); got != tt.want {
			t.Errorf("%s (%v): Unavailable = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
