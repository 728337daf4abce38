package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"
)

// Issue 17: the acks' jobs come first and share each transaction with at
// most maxBackground ingest jobs; every transaction takes the background
// work that is waiting, so ingest advances under steady ack load.
func TestTheWriterServesAcksFirstAndIngestInABoundedLane(t *testing.T) {
	db, _ := openTest(t)
	// A writer of our own on the store's write connection, whose lanes
	// already hold the jobs when it starts: what it takes is then decided
	// by its rules alone, not by goroutine timing.
	db.w.stop()
	const acks, ingests = 20, 20
	w := &writer{db: db.wdb, stmts: db.ws, committed: func() {}, log: db.log, commits: &db.commits,
		jobs: make(chan writeJob, acks), background: make(chan writeJob, ingests),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	db.w = w // Close stops it

	type seen struct {
		tx         int64
		background bool
	}
	var (
		mu    sync.Mutex
		runs  []seen
		dones []chan error
	)
	job := func(background bool) writeJob {
		done := make(chan error, 1)
		dones = append(dones, done)
		return writeJob{ctx: context.Background(), done: done, fn: func(context.Context, *sql.Tx) error {
			mu.Lock()
			runs = append(runs, seen{tx: db.commits.Load(), background: background})
			mu.Unlock()
			return nil
		}}
	}
	for range ingests {
		w.background <- job(true)
	}
	for range acks {
		w.jobs <- job(false)
	}
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	go w.run()
	for _, d := range dones {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	perTx := map[int64][2]int{} // acks, ingests
	for _, r := range runs {
		c := perTx[r.tx]
		if r.background {
			c[1]++
		} else {
			c[0]++
		}
		perTx[r.tx] = c
	}
	first := runs[0].tx
	if c := perTx[first]; c[0] != acks || c[1] != maxBackground {
		t.Fatalf("first transaction: %d acks and %d ingest jobs, want all %d acks and %d ingest jobs", c[0], c[1], acks, maxBackground)
	}
	for tx, c := range perTx {
		if c[0] > 0 && c[1] > maxBackground {
			t.Fatalf("transaction %d took %d ingest jobs beside acks, over the bound of %d", tx, c[1], maxBackground)
		}
	}
	// With no ack left waiting, the other 12 share one transaction.
	if len(perTx) != 2 {
		t.Fatalf("%d transactions, want 2 (20 acks + 8 ingest jobs, then the other 12): %v", len(perTx), perTx)
	}
}
