package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
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

// A TRUNCATE checkpoint holds the write lock while it works: it must not
// run while another process sharing the file (serve beside a dashboard)
// is still committing, however quiet this process's own writer is; once
// everyone is quiet, it runs.
func TestTheWALIsNotTruncatedWhileAnotherProcessCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	var (
		mu        sync.Mutex
		truncated []time.Time
	)
	log := slog.New(logFunc(func(msg string) {
		if msg == "store: WAL truncated" {
			mu.Lock()
			truncated = append(truncated, time.Now())
			mu.Unlock()
		}
	}))
	db, err := Open(context.Background(), path, Options{Clock: newTestClock(), Log: log, walQuiet: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	createOne(t, db, "ours") // our writer commits once, then stays quiet
	other, err := sql.Open("sqlite", path+"?_txlock=immediate"+pragmas(false, DefaultBusyTimeout))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// The other "process" commits every 100 ms for 1.5 s: five of our
	// quiet periods.
	for i := range 15 {
		if _, err := other.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('other', 'x', 'now')
			ON CONFLICT (key) DO UPDATE SET value = excluded.value || ?`, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the other process's pace
	}
	lastCommit := time.Now().Add(-100 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(truncated)
		var first time.Time
		if n > 0 {
			first = truncated[0]
		}
		mu.Unlock()
		if n > 0 {
			if first.Before(lastCommit) {
				t.Fatalf("the WAL was truncated %s before another connection's last commit", lastCommit.Sub(first))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the WAL was not truncated once every connection had been quiet")
		}
		time.Sleep(50 * time.Millisecond) // polling for the checkpointer's work
	}
}

// logFunc is a slog handler that hands each record's message to a func.
type logFunc func(msg string)

func (f logFunc) Enabled(context.Context, slog.Level) bool { return true }
func (f logFunc) Handle(_ context.Context, r slog.Record) error {
	f(r.Message)
	return nil
}
func (f logFunc) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f logFunc) WithGroup(string) slog.Handler      { return f }
