package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Issue 17: every statement a write job runs is prepared on the write
// connection after its first use, the ingest's included, so a busy
// writer stops compiling SQL.
func TestEveryWriterStatementIsPreparedAfterItsFirstUse(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	const q = "UPDATE requests SET execution_id = execution_id WHERE id = ?"
	run := func() {
		t.Helper()
		if err := db.write(ctx, "test", func(ctx context.Context, tx *sql.Tx) error {
			_, err := txExec(ctx, tx, q, "none")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	run()
	db.ws.mu.Lock()
	prepared := db.ws.m[q] != nil
	db.ws.mu.Unlock()
	if !prepared {
		t.Fatalf("a statement run by a write job is not prepared after the job's transaction")
	}
	run() // now through the prepared statement, in a new transaction

	// The ingest's transaction: every statement it ran is prepared now.
	r := createOne(t, db, "p")
	id, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k"))
	if err != nil {
		t.Fatal(err)
	}
	before := len(db.ws.m)
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: id, RequestID: r.ID, To: app.StatusFailed,
		ErrorCode: "x", ErrorMessage: "boom"}); err != nil {
		t.Fatal(err)
	}
	db.ws.mu.Lock()
	defer db.ws.mu.Unlock()
	if len(db.ws.noted) != 0 || len(db.ws.m) <= before {
		t.Fatalf("after CompleteDelivery: %d statements prepared (%d before), %d still noted", len(db.ws.m), before, len(db.ws.noted))
	}
}

// Issue 17: the checkpoint inside COMMIT is only a backstop, large enough
// that a burst of callbacks ends before it; the checkpointer copies the
// WAL when the writer goes quiet.
func TestTheWritersCheckpointIsALargeBackstop(t *testing.T) {
	db, _ := openTest(t)
	var pages int
	if err := db.wdb.QueryRowContext(context.Background(), "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != walBackstopPages || pages*4096 < 256<<20 {
		t.Fatalf("wal_autocheckpoint = %d pages, want the %d-page (256 MiB) backstop", pages, walBackstopPages)
	}
}

// Issue 17: SQLite shortened the WAL inside the first COMMIT after it
// restarted (journal_size_limit), 90–110 ms of giving blocks back while
// every caller of that commit waited. The file is now kept while commits
// come and truncated by the checkpointer once the writer is quiet.
func TestTheWALIsKeptWhileBusyAndTruncatedWhenQuiet(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(context.Background(), path, Options{Clock: newTestClock(), walQuiet: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	var limit int
	if err := db.wdb.QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil || limit != -1 {
		t.Fatalf("journal_size_limit = %d (%v), want -1: SQLite must not truncate the WAL inside a COMMIT", limit, err)
	}
	for i := range 20 {
		r := createOne(t, db, fmt.Sprint("p", i))
		if _, _, err := db.RecordDelivery(ctx, delivery(r.ID, fmt.Sprint("k", i))); err != nil {
			t.Fatal(err)
		}
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if walSize() == 0 {
		t.Fatal("the WAL is empty right after 20 commits")
	}
	deadline := time.Now().Add(10 * time.Second)
	for walSize() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL still holds %d bytes 10 s after the last commit; want it truncated after the quiet spell", walSize())
		}
		time.Sleep(50 * time.Millisecond) // polling the file for the checkpointer's work
	}
	// And the next write still works on the truncated file.
	if _, _, err := db.RecordDelivery(ctx, delivery(createOne(t, db, "after").ID, "after")); err != nil {
		t.Fatal(err)
	}
}
