package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// A lone caller (recent transactions had one ack) must not wait for
// company, nor may anyone before a commit has been timed.
func TestLingerNeverHoldsALoneWrite(t *testing.T) {
	w := &writer{lingerMax: maxLinger, commitAvg: time.Millisecond}
	w.lastBatch = 1
	if d := w.lingerFor(1); d != 0 {
		t.Fatalf("a lone ack lingers %v, want 0", d)
	}
	w.lastBatch, w.commitAvg = 4, 0 // company expected, but no commit time known yet
	if d := w.lingerFor(1); d != 0 {
		t.Fatalf("with no commit time a transaction lingers %v, want 0", d)
	}
	if d := w.lingerFor(0); d != 0 {
		t.Fatalf("a transaction of ingest work alone lingers %v, want 0", d)
	}
	w.commitAvg = time.Hour
	if d := w.lingerFor(1); d != maxLinger {
		t.Fatalf("one ack of an expected four lingers %v, want %v", d, maxLinger)
	}
}

// Lingering takes the acks that arrive while it waits, runs the ingest
// work that arrives meanwhile, and commits as soon as the previous
// transactions' size is reached rather than at its deadline (an hour
// here: the test would time out).
func TestLingeringTakesArrivalsAndEndsWhenTheExpectedCompanyHasCome(t *testing.T) {
	w, db := testWriter(t, 4, 4)
	w.lastBatch, w.commitAvg, w.lingerMax = 3, time.Hour, time.Hour
	var order []string
	started := make(chan struct{})
	first := testJob(recordRun(&order, "ack1", func() { close(started) }))
	go func() {
		<-started
		w.background <- testJob(recordRun(&order, "ingest", nil))
		w.jobs <- testJob(recordRun(&order, "ack2", nil))
		w.jobs <- testJob(recordRun(&order, "ack3", nil))
	}()
	b := &txBatch{}
	if err := w.fill(b, first, false); err != nil {
		t.Fatal(err)
	}
	if b.acks != 3 || b.background != 1 || db.commits.Load() != 1 {
		t.Fatalf("one transaction of %d acks and %d ingest jobs (%d commits); want 3 and 1 in 1 (order %v)",
			b.acks, b.background, db.commits.Load(), order)
	}
	b.answer(nil)
	close(w.stopped) // it never ran: Close must not wait for it
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

// The linger and the burst rule read lastBatch: a transaction of acks must
// leave its size there.
func TestATransactionOfAcksSetsTheSizeTheNextOneExpects(t *testing.T) {
	w, _ := testWriter(t, 5, 0)
	var dones []chan error
	for range 5 {
		done := make(chan error, 1)
		dones = append(dones, done)
		w.jobs <- writeJob{ctx: context.Background(), done: done, fn: func(context.Context, *sql.Tx) error { return nil }}
	}
	go w.run()
	for _, d := range dones {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	w.stop()
	if w.lastBatch != 5 {
		t.Fatalf("after a transaction of 5 acks the writer expects %d, want 5", w.lastBatch)
	}
}
