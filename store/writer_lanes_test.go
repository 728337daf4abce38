package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"
)

// Issue 17: the acks' jobs come first and share each transaction with
// the ingest jobs backgroundRoom allows: many while few acks wait, one
// (the starvation bound) under a saturating burst; every transaction takes
// background work that is waiting, so ingest advances under any ack load.
func TestTheWriterServesAcksFirstAndIngestInABoundedLane(t *testing.T) {
	for _, tc := range []struct {
		acks, ingests, wantFirst int
	}{
		{acks: 20, ingests: 20, wantFirst: backgroundRoom(20)},
		{acks: 40, ingests: 20, wantFirst: minBackground},
		{acks: 4, ingests: 30, wantFirst: backgroundRoom(4)},
	} {
		perTx, order := runLanes(t, tc.acks, tc.ingests)
		first := perTx[order[0]]
		if first[0] != tc.acks || first[1] != tc.wantFirst {
			t.Fatalf("%d acks and %d ingest jobs waiting: the first transaction took %d acks and %d ingest jobs, want %d and %d",
				tc.acks, tc.ingests, first[0], first[1], tc.acks, tc.wantFirst)
		}
		for tx, c := range perTx {
			if c[0] > 0 && c[1] > backgroundRoom(c[0]) {
				t.Fatalf("transaction %d took %d ingest jobs beside %d acks, over the bound of %d", tx, c[1], c[0], backgroundRoom(c[0]))
			}
		}
		// With no ack left waiting, the other ingest jobs share one transaction.
		if len(perTx) != 2 || perTx[order[1]] != [2]int{0, tc.ingests - tc.wantFirst} {
			t.Fatalf("%d transactions %v, want 2: the acks with %d ingest jobs, then the other %d", len(perTx), perTx, tc.wantFirst, tc.ingests-tc.wantFirst)
		}
	}
	// The room shrinks as acks queue, from maxBackground to the bound.
	for acks := 1; acks <= maxBatch; acks++ {
		r := backgroundRoom(acks)
		if r < minBackground || r > maxBackground || (acks > 1 && r > backgroundRoom(acks-1)) {
			t.Fatalf("backgroundRoom(%d) = %d (%d for one ack fewer): want it between %d and %d, never growing with the acks",
				acks, r, backgroundRoom(acks-1), minBackground, maxBackground)
		}
	}
}

// runLanes runs a writer whose lanes already hold acks and ingest jobs
// when it starts, so what it takes is decided by its rules alone, not by
// goroutine timing. It returns each transaction's (acks, ingest jobs) and
// the transactions in order.
func runLanes(t *testing.T, acks, ingests int) (map[int64][2]int, []int64) {
	t.Helper()
	db, _ := openTest(t)
	db.w.stop()
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
	perTx := map[int64][2]int{}
	var order []int64
	for _, r := range runs {
		c, ok := perTx[r.tx]
		if !ok {
			order = append(order, r.tx)
		}
		if r.background {
			c[1]++
		} else {
			c[0]++
		}
		perTx[r.tx] = c
	}
	return perTx, order
}
