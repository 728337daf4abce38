package store

import (
	"context"
	"database/sql"
	"testing"

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
