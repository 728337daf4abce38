package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/influencegen/influencegen/app"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered, forward-only schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded steps in order; migration N brings the file
// to PRAGMA user_version N. Loaded once at init: a malformed name is a
// build mistake and must fail every test, not a user's start-up.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			panic(fmt.Sprintf("store: migration %q must be named NNNN_description.sql", name))
		}
		if v != len(ms)+1 {
			panic(fmt.Sprintf("store: migration %q is out of sequence: expected number %d", name, len(ms)+1))
		}
		body, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	return ms
}

// migrate brings the database to version target, one transaction per step,
// and takes no lock at all when the file is already there.
// The version is read inside each step's IMMEDIATE transaction, so two
// processes opening a fresh file at once cannot both apply a step.
func migrate(ctx context.Context, db *sql.DB, target int) error {
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return mapError("read schema version", err)
	}
	if current > len(migrations) {
		return app.Errorf(app.EUNAVAILABLE,
			"database schema version %d is newer than this program understands (%d): upgrade influencegen, or use a different --home",
			current, len(migrations))
	}
	if current >= target {
		// Up to date: no transaction at all. A read-only command (status,
		// doctor) must open the file while another process holds a long
		// write transaction, and BEGIN IMMEDIATE would wait for it.
		return nil
	}
	for _, m := range migrations[:target] {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return mapError("migrate database", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return mapError("read schema version", err)
	}
	if current >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return mapError("apply migration "+m.name, err)
	}
	// PRAGMA takes no bound parameters; the version is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return mapError("apply migration "+m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return mapError("apply migration "+m.name, err)
	}
	return nil
}
