package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch caps how many callers share one transaction, so one commit never
// holds the write lock long enough to starve another process.
const maxBatch = 128

// Background jobs (the ingest's commits) in a transaction that carries
// acks (issue 17). Ingest takes the writer's spare capacity: the fewer
// acks a transaction carries, the more ingest jobs join it, up to
// maxBackground; from ackPressure acks on (callers queue faster than the
// writer commits: a saturating burst) only minBackground, the starvation
// bound that keeps ingest advancing with every commit. Measured with the
// load command: with 8 ingest jobs in every transaction, a saturating
// burst was acked at ~2,600/s while ingest took ~900/s; with ingest
// stopped, at ~5,400/s; with this rule, at ~4,200/s while ingest took
// ~150/s.
const (
	maxBackground = 16
	minBackground = 1
	ackPressure   = 32
)

// backgroundRoom is how many background jobs join a transaction of acks.
func backgroundRoom(acks int) int {
	switch {
	case acks == 0:
		return maxBatch // no ack waits: ingest gets the whole transaction
	case acks >= ackPressure:
		return minBackground
	}
	return minBackground + (maxBackground-minBackground)*(ackPressure-acks)/ackPressure
}

// writeFunc is one caller's unit of work. It runs inside the shared
// transaction, under its own SAVEPOINT: returning an error undoes exactly
// its own statements.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

type writeJob struct {
	ctx  context.Context
	fn   writeFunc
	done chan error // buffered 1: the writer never blocks on a caller
}

// writer is group commit: one goroutine owns the only write connection. It
// takes the first waiting job, then every other job already waiting (up to
// maxBatch), runs them in ONE transaction with a SAVEPOINT each, and commits
// once. N concurrent callbacks wait on one fsync instead of N, and each
// caller still gets its own result: nil only if its work is committed.
// Under concurrent load it may linger up to one commit's time for callers
// about to arrive (see linger); its hot statements are prepared once
// (writer_stmts.go) and WAL checkpoints run beside it
// (writer_checkpoint.go).
type writer struct {
	db    *sql.DB
	stmts *writeStmts // prepared on db's one connection
	// committed is called after every commit (the checkpointer's kick);
	// it must not block.
	committed func()
	log       *slog.Logger
	commits   *atomic.Int64

	jobs chan writeJob // unbuffered: a send succeeds only when the writer takes it
	// background is the lane of work nobody is waiting to answer a
	// client for (ingest): see run for how the two lanes share commits.
	background chan writeJob
	quit       chan struct{} // closed by stop
	stopped    chan struct{} // closed when the goroutine has exited
	once       sync.Once

	// Linger state, touched only by the writer goroutine (see linger).
	lastBatch int           // decaying peak of jobs per transaction
	commitAvg time.Duration // moving average of COMMIT (mostly the fsync)
	timer     *time.Timer   // stopped except while lingering
}

func startWriter(db *sql.DB, stmts *writeStmts, committed func(), log *slog.Logger, commits *atomic.Int64) *writer {
	w := &writer{
		db: db, stmts: stmts, committed: committed, log: log, commits: commits,
		jobs:       make(chan writeJob),
		background: make(chan writeJob),
		timer:      time.NewTimer(time.Hour),
		quit:       make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	w.timer.Stop()
	go w.run()
	return w
}

// do runs fn in the next group transaction and returns its own result. Once
// the writer has taken the job, do waits for the answer even if ctx ends:
// the caller must learn whether its work was committed. A job whose ctx has
// ended before it runs is skipped.
func (w *writer) do(ctx context.Context, fn writeFunc) error {
	return w.submit(ctx, w.jobs, fn)
}

// doBackground is do in the background lane: for work that competes with
// the acks (ingest), which the writer takes after the jobs of do.
func (w *writer) doBackground(ctx context.Context, fn writeFunc) error {
	return w.submit(ctx, w.background, fn)
}

func (w *writer) submit(ctx context.Context, lane chan writeJob, fn writeFunc) error {
	job := writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case lane <- job:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stopped:
		return ErrClosed
	}
	return <-job.done
}

// stop lets the batch in progress finish, then ends the goroutine. Callers
// arriving later get ErrClosed.
func (w *writer) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.stopped
}

// run forms the transactions. The callers of do (acks) come first: every
// one already waiting joins, up to maxBatch. Background jobs (ingest) then
// take backgroundRoom places of the same transaction, at least one: that
// is the starvation bound, so under any steady ack load ingest still
// advances with every commit; with no ack waiting, background jobs fill a
// whole transaction.
func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]writeJob, 0, maxBatch+maxBackground)
	background := 0 // background jobs in batch
	for {
		select {
		case <-w.quit:
			return
		case job := <-w.jobs:
			batch = append(batch[:0], job)
			background = 0
		case job := <-w.background:
			batch = append(batch[:0], job)
			background = 1
		}
		// Everyone already waiting joins this transaction. Jobs that arrive
		// while it commits form the next batch.
	drain:
		for len(batch) < maxBatch {
			select {
			case job := <-w.jobs:
				batch = append(batch, job)
			default:
				break drain
			}
		}
		if len(batch) < w.lastBatch {
			batch = w.linger(batch)
		}
		// A decaying peak: one short transaction must not end the
		// lingering while the callers of the last big one are coming back.
		w.lastBatch = max(len(batch), w.lastBatch*7/8)
		batch = w.takeBackground(batch, backgroundRoom(len(batch)-background)-background)
		w.runBatch(batch)
		clear(batch) // drop references to finished callers' closures
	}
}

// takeBackground adds up to room background jobs already waiting.
func (w *writer) takeBackground(batch []writeJob, room int) []writeJob {
	for range room {
		select {
		case job := <-w.background:
			batch = append(batch, job)
		default:
			return batch
		}
	}
	return batch
}

// maxLinger bounds how long a transaction waits for more callers.
const maxLinger = 4 * time.Millisecond

// linger waits briefly for more jobs when fewer are waiting than took part
// in recent transactions, up to that many or one commit's time (at most
// maxLinger).
//
// Without it, concurrent callers answered together come back spread over
// a few milliseconds (each on its own goroutine, through its own HTTP
// exchange): the first one alone starts a transaction and pays a whole
// fsync, and the others wait for it. With it, they share the next fsync,
// and the table and index pages every transaction rewrites are written to
// the WAL once per batch instead of once per caller or two. (Measured on
// BenchmarkCallbackDurableAck: waiting one commit's time gave 15–20 %
// more acks/s than half of one; two commits' time gave no more.) A caller
// writing alone (recent transactions of one job) never waits: its commit
// starts at once.
func (w *writer) linger(batch []writeJob) []writeJob {
	d := min(w.commitAvg, maxLinger)
	if d <= 0 {
		return batch
	}
	w.timer.Reset(d)
	defer w.timer.Stop()
	for len(batch) < w.lastBatch && len(batch) < maxBatch {
		select {
		case job := <-w.jobs:
			batch = append(batch, job)
		case <-w.timer.C:
			return batch
		}
	}
	return batch
}

// runBatch executes one group transaction and answers every job in it.
func (w *writer) runBatch(batch []writeJob) {
	results := make([]error, len(batch))
	err := w.runTx(batch, results)
	// No transaction is open now: the connection is free to compile the
	// statements this batch ran unprepared.
	w.stmts.prepareNoted(w.db)
	for i, job := range batch {
		if err != nil && results[i] == nil {
			// Nothing of this job was committed.
			results[i] = err
		}
		job.done <- results[i]
	}
}

func (w *writer) runTx(batch []writeJob, results []error) (err error) {
	// The writer's own statements (BEGIN, SAVEPOINT, COMMIT) never use a
	// caller's context: one caller giving up must not roll back the others.
	bg := context.Background()
	tx, err := w.db.BeginTx(bg, nil)
	if err != nil {
		return mapError("begin write", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	for i, job := range batch {
		if cerr := job.ctx.Err(); cerr != nil {
			results[i] = cerr // skipped: the caller already gave up
			continue
		}
		if _, err := w.stmts.exec(bg, tx, sqlSavepoint); err != nil {
			return mapError("begin write", err)
		}
		jerr := runJob(job, tx, w.stmts)
		if jerr != nil {
			results[i] = jerr
			// ROLLBACK TO fails only if SQLite already rolled back the whole
			// transaction (disk full, I/O error): then nobody's work survives.
			if _, err := w.stmts.exec(bg, tx, sqlRollbackTo); err != nil {
				return mapError("write", fmt.Errorf("transaction lost after %w: %w", jerr, err))
			}
		}
		if _, err := w.stmts.exec(bg, tx, sqlRelease); err != nil {
			return mapError("write", err)
		}
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return mapError("commit", err)
	}
	w.commitAvg += (time.Since(start) - w.commitAvg) / 8
	w.commits.Add(1)
	w.committed()
	return nil
}

// runJob runs one caller's function. Its statements run under a context
// that cannot be cancelled: cancelling a statement interrupts the SQLite
// connection, and an interrupted write inside a transaction may roll back
// the whole batch. The job was checked for cancellation just before; its
// statements are short.
func runJob(job writeJob, tx *sql.Tx, ws *writeStmts) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return job.fn(withWriteStmts(context.WithoutCancel(job.ctx), ws), tx)
}
