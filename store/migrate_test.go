package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// openRaw opens the file without the store, for building old versions.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	if err := prepareFiles(path); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_txlock=immediate"+pragmas(false, DefaultBusyTimeout))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	return raw
}

// seedAtVersion fills a database that is at version v with rows the later
// migrations must carry over: a completed request with two images and a
// done outbox row, and a request with a parked outbox row.
func seedAtVersion(t *testing.T, raw *sql.DB, v int) {
	t.Helper()
	ctx := context.Background()
	at := "2026-11-27T12:00:00.000000000Z"
	insert := func(id, prompt, status string) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, `INSERT INTO requests (id, prompt, prompt_fold, model, width, height,
			seed, status, created_at, updated_at) VALUES (?, ?, lower(?), 'sdxl', 1024, 1024, 7, ?, ?, ?)`,
			id, prompt, prompt, status, at, at); err != nil {
			t.Fatalf("seed v%d: %v", v, err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("seed v%d: %s: %v", v, q, err)
		}
	}
	insert("01JDX3V6Q6T7ZP3Y6N4B1K9S2E", "a lighthouse at dusk", "completed")
	insert("01JDX3V6Q6T7ZP3Y6N4B1K9S2F", "a lighthouse at dusk", "failed")
	insert("01JDX3V6Q6T7ZP3Y6N4B1K9S2G", "neon city", "processing")
	for i, sha := range []string{"aa", "bb"} {
		exec(`INSERT INTO images (request_id, sequence, sha256, path, mime, created_at)
			VALUES ('01JDX3V6Q6T7ZP3Y6N4B1K9S2E', ?, ?, ?, 'image/png', ?)`, i+1, sha, "/img/"+sha+".png", at)
	}
	exec(`INSERT INTO outbox (kind, request_id, next_attempt_at, created_at, done_at)
		VALUES ('upsert_request', '01JDX3V6Q6T7ZP3Y6N4B1K9S2E', ?, ?, ?)`, at, at, at)
	exec(`INSERT INTO outbox (kind, request_id, next_attempt_at, created_at, parked_at, last_error)
		VALUES ('upsert_request', '01JDX3V6Q6T7ZP3Y6N4B1K9S2F', ?, ?, ?, 'Odoo said no')`, at, at, at)
	exec(`INSERT INTO outbox (kind, request_id, next_attempt_at, created_at)
		VALUES ('upsert_request', '01JDX3V6Q6T7ZP3Y6N4B1K9S2G', ?, ?)`, at, at)
	if v >= 2 {
		// From 0002 on the program keeps the counters itself, as it would have.
		exec(`UPDATE requests SET image_count = 2, sync_state = 'synced' WHERE id = '01JDX3V6Q6T7ZP3Y6N4B1K9S2E'`)
		exec(`UPDATE requests SET sync_state = 'parked' WHERE id = '01JDX3V6Q6T7ZP3Y6N4B1K9S2F'`)
		exec(`UPDATE requests SET image_count = 2 WHERE id = '01JDX3V6Q6T7ZP3Y6N4B1K9S2G'`)
	}
	if v >= 3 {
		// From 0003 on the program keeps the prompt history itself.
		exec(`INSERT INTO prompt_history (prompt, last_used_at, uses) VALUES ('a lighthouse at dusk', ?, 2), ('neon city', ?, 1)`, at, at)
	}
	// Two images numbered alike, as ingest used to leave them before the
	// results migration (which renumbers them and makes numbers unique).
	for i, sha := range []string{"cc", "dd"} {
		seq := 1
		if v >= migrationVersion(t, "results") {
			seq = i + 1
		}
		exec(`INSERT INTO images (request_id, sequence, sha256, path, mime, created_at)
			VALUES ('01JDX3V6Q6T7ZP3Y6N4B1K9S2G', ?, ?, ?, 'image/png', ?)`, seq, sha, "/img/"+sha+".png", at)
	}
	// A callback waiting in the inbox (0004 must keep it due).
	if v >= migrationVersion(t, "lean_deliveries") {
		// From 0012 on the body is in a table of its own.
		exec(`INSERT INTO deliveries (idempotency_key, request_id, received_at)
			VALUES ('webhook-id:seeded', '01JDX3V6Q6T7ZP3Y6N4B1K9S2G', ?)`, at)
		exec(`INSERT INTO delivery_bodies (delivery_id, body)
			SELECT id, '{"status":"success"}' FROM deliveries WHERE idempotency_key = 'webhook-id:seeded'`)
	} else {
		exec(`INSERT INTO deliveries (idempotency_key, request_id, body, received_at)
			VALUES ('webhook-id:seeded', '01JDX3V6Q6T7ZP3Y6N4B1K9S2G', '{"status":"success"}', ?)`, at)
	}
	if v >= migrationVersion(t, "results") {
		// From the results migration on, the program claims a request's
		// one result as it records the delivery.
		exec(`UPDATE requests SET result_delivery_id = (SELECT id FROM deliveries WHERE idempotency_key = 'webhook-id:seeded')
			WHERE id = '01JDX3V6Q6T7ZP3Y6N4B1K9S2G'`)
	}
}

// migrationVersion is the number of the migration named NNNN_<topic>.sql.
func migrationVersion(t *testing.T, topic string) int {
	t.Helper()
	for _, m := range migrations {
		if strings.HasSuffix(m.name, "_"+topic+".sql") {
			return m.version
		}
	}
	t.Fatalf("no migration named *_%s.sql", topic)
	return 0
}

func TestMigrationsFromEachVersionReachTheLatestAndKeepData(t *testing.T) {
	for from := 0; from < len(migrations); from++ {
		t.Run(migrationName(from), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), FileName)
			raw := openRaw(t, path)
			if err := migrate(ctx, raw, from); err != nil {
				t.Fatalf("migrate to %d: %v", from, err)
			}
			if from >= 1 {
				seedAtVersion(t, raw, from)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}

			db, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatalf("Open at version %d: %v", from, err)
			}
			defer db.Close()
			v, err := db.SchemaVersion(ctx)
			if err != nil || v != LatestSchemaVersion() {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
			}
			if err := db.QuickCheck(ctx); err != nil {
				t.Fatalf("QuickCheck: %v", err)
			}
			if from == 0 {
				return
			}
			checkMigratedData(t, db)
		})
	}
}

func migrationName(from int) string {
	if from == 0 {
		return "from an empty file"
	}
	return "from version " + migrations[from-1].name
}

// checkMigratedData verifies what 0002–0004 derive from or keep of older rows.
func checkMigratedData(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	want := map[string]struct {
		images int
		sync   app.SyncState
	}{
		"01JDX3V6Q6T7ZP3Y6N4B1K9S2E": {2, app.SyncDone},
		"01JDX3V6Q6T7ZP3Y6N4B1K9S2F": {0, app.SyncParked},
		"01JDX3V6Q6T7ZP3Y6N4B1K9S2G": {2, app.SyncPending},
	}
	for id, w := range want {
		r, err := db.GetRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.ImageCount != w.images || r.SyncState != w.sync {
			t.Errorf("%s: image_count %d sync %s, want %d %s", id, r.ImageCount, r.SyncState, w.images, w.sync)
		}
	}
	hist, err := db.PromptHistory(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(hist, "|") != "neon city|a lighthouse at dusk" && strings.Join(hist, "|") != "a lighthouse at dusk|neon city" {
		t.Errorf("prompt history after migration = %q, want both distinct prompts once", hist)
	}
	pending, err := db.PendingDeliveries(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].IdempotencyKey != "webhook-id:seeded" {
		t.Errorf("pending deliveries after migration = %+v, %v; want the seeded one, due", pending, err)
	} else if string(pending[0].Body) != `{"status":"success"}` {
		// 0012 moved the body into delivery_bodies.
		t.Errorf("the seeded callback's body after migration = %q, want it kept", pending[0].Body)
	}
	imgs, err := db.Images(ctx, "01JDX3V6Q6T7ZP3Y6N4B1K9S2G")
	if err != nil || len(imgs) != 2 || imgs[0].Sequence != 1 || imgs[1].Sequence != 2 || imgs[0].SHA256 != "cc" {
		t.Errorf("images numbered alike after migration = %+v, %v; want cc 1, dd 2", imgs, err)
	}
	// The seeded callback is its request's one result: another is refused.
	if _, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "another", RequestID: "01JDX3V6Q6T7ZP3Y6N4B1K9S2G",
		Body: json.RawMessage(`{"status":"failed"}`)}); app.ErrorReason(err) != app.ReasonResultExists {
		t.Errorf("a second result after migration = %v, want %s", err, app.ReasonResultExists)
	}
	// Curation: older images are undecided and not starred, and the
	// rebuilt outbox kept its pending and parked rows.
	if imgs[0].Approval != app.ApprovalUndecided || imgs[0].Favorite || imgs[0].DecidedAt != nil {
		t.Errorf("image after migration = %+v, want undecided and not starred", imgs[0])
	}
	if stats, err := db.OutboxStats(ctx); err != nil || stats.Pending != 1 || stats.Parked != 1 {
		t.Errorf("outbox after migration = %+v, %v; want 1 pending and 1 parked", stats, err)
	}
	// The migrated database takes new writes normally.
	createOne(t, db, "after the upgrade")
}

func TestOpenRefusesADatabaseFromANewerProgram(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	raw := openRaw(t, path)
	if _, err := raw.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err := Open(ctx, path, Options{})
	wantCode(t, err, app.EUNAVAILABLE)
	if !strings.Contains(err.Error(), "upgrade influencegen") {
		t.Errorf("error %q should tell the user to upgrade", err)
	}
}

func TestOpenCreatesPrivateFolderAndFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	path := filepath.Join(dir, FileName)
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetSetting(ctx, "k", "v"); err != nil { // make sure -wal exists
		t.Fatal(err)
	}
	check := func(p string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", filepath.Base(p), got, want)
		}
	}
	check(dir, 0o700)
	check(path, 0o600)
	check(path+"-wal", 0o600)
	check(path+"-shm", 0o600)

	var mode string
	if err := db.rdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, sync int
	conn, err := db.wdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
}

func TestOpenRejectsPathsSQLiteWouldMisread(t *testing.T) {
	for _, p := range []string{"", "file:x.db", "/tmp/a?mode=memory"} {
		_, err := Open(context.Background(), p, Options{})
		wantCode(t, err, app.EINVALID)
	}
}

func TestEveryIndexHasACommentSayingWhichQueryItServes(t *testing.T) {
	for _, m := range migrations {
		lines := strings.Split(m.sql, "\n")
		for i, line := range lines {
			if !strings.Contains(strings.ToUpper(line), "CREATE ") || !strings.Contains(strings.ToUpper(line), "INDEX") {
				continue
			}
			if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "--") {
				t.Errorf("%s: index without a comment above it: %s", m.name, strings.TrimSpace(line))
			}
		}
	}
}
