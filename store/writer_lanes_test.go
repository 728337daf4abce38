package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
		// With no ack left waiting, the other ingest jobs go in
		// transactions of their own, at most maxBackground each (fewer
		// while the burst's acks are still expected): an ack that arrives
		// behind one waits for its commit.
		for _, tx := range order[1:] {
			if c := perTx[tx]; c[0] != 0 || c[1] > maxBackground {
				t.Fatalf("transactions %v in order %v: after the acks' one, want ingest jobs alone, at most %d each", perTx, order, maxBackground)
			}
		}
	}
	// The room shrinks as acks queue, from maxBackground to the bound.
	if backgroundRoom(0) != maxBackground {
		t.Fatalf("a transaction without acks takes %d ingest jobs, want %d", backgroundRoom(0), maxBackground)
	}
	for acks := 1; acks <= maxBatch; acks++ {
		r := backgroundRoom(acks)
		if r < minBackground || r > maxBackground || (acks > 1 && r > backgroundRoom(acks-1)) {
			t.Fatalf("backgroundRoom(%d) = %d (%d for one ack fewer): want it between %d and %d, never growing with the acks",
				acks, r, backgroundRoom(acks-1), minBackground, maxBackground)
		}
	}
}

// testWriter replaces db's writer with one whose lanes are buffered
// (room for acks and ingests jobs), not yet running.
func testWriter(t *testing.T, acks, ingests int) (*writer, *DB) {
	t.Helper()
	db, _ := openTest(t)
	db.w.stop()
	w := &writer{db: db.wdb, stmts: db.ws, committed: func() {}, log: db.log, commits: &db.commits,
		jobs: make(chan writeJob, acks), background: make(chan writeJob, ingests), lingerMax: maxLinger,
		timer: time.NewTimer(time.Hour), quit: make(chan struct{}), stopped: make(chan struct{})}
	w.timer.Stop()
	db.w = w // Close stops it
	return w, db
}

// testJob is a job whose caller waits on its own done channel.
func testJob(fn writeFunc) writeJob {
	return writeJob{ctx: context.Background(), done: make(chan error, 1), fn: fn}
}

// recordRun is a job function that appends name to order when it runs,
// then calls then (if any). Jobs run on the writer goroutine, one at a
// time, so order needs no lock when only fill's caller reads it after.
func recordRun(order *[]string, name string, then func()) writeFunc {
	return func(context.Context, *sql.Tx) error {
		*order = append(*order, name)
		if then != nil {
			then()
		}
		return nil
	}
}

// runLanes runs a writer whose lanes already hold acks and ingest jobs
// when it starts, so what it takes is decided by its rules alone, not by
// goroutine timing. It returns each transaction's (acks, ingest jobs) and
// the transactions in order.
func runLanes(t *testing.T, acks, ingests int) (map[int64][2]int, []int64) {
	t.Helper()
	w, db := testWriter(t, acks, ingests)

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

// Ingest work runs while no ack waits, in time the writer would otherwise
// spend waiting; an ack that arrives meanwhile runs next, after the job in
// progress, in the same transaction (issue 17: it used to wait for the
// whole transaction formed before it came, then for its own with up to
// 14 ingest jobs ahead of its commit).
func TestAnAckArrivingDuringIngestWorkRunsNextInTheSameTransaction(t *testing.T) {
	w, db := testWriter(t, 1, 10)
	var (
		mu    sync.Mutex
		order []string
		txs   []int64
	)
	note := func(name string) {
		mu.Lock()
		order = append(order, name)
		txs = append(txs, db.commits.Load())
		mu.Unlock()
	}
	ack := testJob(func(context.Context, *sql.Tx) error { note("ack"); return nil })
	var dones []chan error
	for i := range 10 {
		done := make(chan error, 1)
		dones = append(dones, done)
		w.background <- writeJob{ctx: context.Background(), done: done, fn: func(context.Context, *sql.Tx) error {
			note(fmt.Sprint("ingest", i+1))
			if i == 2 {
				w.jobs <- ack // arrives while the third ingest job runs
			}
			return nil
		}}
	}
	go w.run()
	for _, d := range append(dones, ack.done) {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	if len(order) != 11 || order[3] != "ack" || slices.IndexFunc(txs, func(tx int64) bool { return tx != txs[0] }) >= 0 {
		t.Fatalf("ran %v in transactions %v; want the ack 4th, right after the ingest job it arrived during, all in one transaction", order, txs)
	}
}

// In a saturating burst acks come back in waves: the first ack of a wave
// must not open the room to many ingest jobs before the rest arrive: the
// room follows the acks recent transactions had.
func TestTheFirstAckOfABurstLeavesIngestTheBurstsRoom(t *testing.T) {
	w, db := testWriter(t, 1, 20)
	w.lastBatch = 64 // the burst's transactions
	var order []string
	for range 20 {
		w.background <- testJob(recordRun(&order, "ingest", nil))
	}
	ack := testJob(recordRun(&order, "ack", nil))
	b := &txBatch{}
	if err := w.fill(b, ack, false); err != nil {
		t.Fatal(err)
	}
	if b.acks != 1 || b.background != backgroundRoom(64) || db.commits.Load() != 1 {
		t.Fatalf("the burst's first ack shared its transaction with %d ingest jobs; want %d", b.background, backgroundRoom(64))
	}
	b.answer(nil)
	close(w.stopped) // it never ran: Close must not wait for it
}

// In a burst the writer's waits for the rest of a wave are the handlers'
// CPU: ingest's job waits until the transaction's acks are in, then takes
// its room (at lower rates it would have run right after the first ack).
func TestInABurstIngestWaitsUntilTheAcksAreIn(t *testing.T) {
	w, db := testWriter(t, burstAcks, 1)
	w.lastBatch, w.commitAvg, w.lingerMax = burstAcks, time.Hour, time.Hour
	var order []string
	w.background <- testJob(recordRun(&order, "ingest", nil))
	started := make(chan struct{})
	first := testJob(recordRun(&order, "ack", func() { close(started) }))
	go func() {
		<-started
		for range burstAcks - 1 {
			w.jobs <- testJob(recordRun(&order, "ack", nil))
		}
	}()
	b := &txBatch{}
	if err := w.fill(b, first, false); err != nil {
		t.Fatal(err)
	}
	if len(order) != burstAcks+1 || order[burstAcks] != "ingest" || db.commits.Load() != 1 {
		t.Fatalf("ran %v in %d commits; want the %d acks, then the ingest job, in one", order, db.commits.Load(), burstAcks)
	}
	b.answer(nil)
	close(w.stopped) // it never ran: Close must not wait for it
}
