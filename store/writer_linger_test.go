package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// A lone caller (the previous transaction had one job) must not wait for
// company: linger is not even entered, and with no commit measured yet it
// returns at once.
func TestLingerNeverHoldsALoneWrite(t *testing.T) {
	w := &writer{jobs: make(chan writeJob), timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	batch := []writeJob{{}}
	w.lastBatch = 4 // company expected, but no commit time known yet
	if got := w.linger(batch); len(got) != 1 {
		t.Fatalf("linger with no commit time took %d jobs, want the 1 it had", len(got))
	}
}

// Linger takes the jobs that arrive while it waits, and stops as soon as
// the previous transaction's size is reached rather than at its deadline.
func TestLingerCollectsArrivingJobsUpToThePreviousBatchSize(t *testing.T) {
	// Buffered here so the arrivals are in place before linger looks: the
	// test does not race the deadline.
	w := &writer{jobs: make(chan writeJob, 3), timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	w.lastBatch = 3
	w.commitAvg = time.Hour // the deadline is then maxLinger
	for range 3 {
		w.jobs <- writeJob{}
	}
	got := w.linger([]writeJob{{}})
	if len(got) != 3 {
		t.Fatalf("linger returned %d jobs, want 3", len(got))
	}
	if len(w.jobs) != 1 {
		t.Fatalf("%d jobs left waiting, want 1 for the next transaction", len(w.jobs))
	}
}

// Jobs bind the statements registered with hotWrite; any other SQL runs
// unprepared inside the same transaction.
func TestWriteStatementsRunPreparedOrPlainInTheJobsTransaction(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	for _, q := range []string{sqlSavepoint, sqlRelease, sqlRollbackTo, sqlInsertDelivery} {
		if db.ws.m[q] == nil {
			t.Errorf("%q is not prepared on the write connection", q)
		}
	}
	err := db.write(ctx, "test", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := db.ws.exec(ctx, tx, `INSERT INTO activity (kind, level, message, created_at)
			VALUES ('test', 'info', 'unprepared', '2026-11-27T13:00:00.000000000Z')`); err != nil {
			return err
		}
		var n int
		return db.ws.queryRow(ctx, tx, "SELECT count(*) FROM activity WHERE message = 'unprepared'").Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "activity", "message = 'unprepared'"); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}
}

// The background checkpointer copies committed pages into the database
// file: after a kick, the WAL holds no frames that are not in the file.
func TestTheCheckpointerBackfillsTheWALAfterACommit(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	if _, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k")); err != nil {
		t.Fatal(err)
	}
	frames, copied, err := db.ckpt.checkpoint() // what a kick runs, without the pause
	if err != nil {
		t.Fatal(err)
	}
	if frames == 0 || frames != copied {
		t.Fatalf("WAL has %d frames, %d copied; want some, all copied", frames, copied)
	}
}
