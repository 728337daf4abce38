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
// ~150/s. A transaction without acks takes maxBackground ingest jobs: an
// ack arriving behind it waits for its commit.
const (
	maxBackground = 16
	minBackground = 1
	ackPressure   = 32
)

// backgroundRoom is how many background jobs join a transaction of acks.
func backgroundRoom(acks int) int {
	switch {
	case acks == 0:
		return maxBackground // no ack yet: see fill
	case acks >= ackPressure:
		return minBackground
	}
	return minBackground + (maxBackground-minBackground)*(ackPressure-acks)/ackPressure
}

// burstAcks: from this many acks per recent transaction on, acks are
// coming in a burst, and ingest's jobs wait until the transaction's acks
// are in. The moments the writer waits for the rest of a wave are then CPU
// for the handlers reading and checking them. Measured with the load
// command on 2 cores, against the writer before fill (4,636–5,893 acks/s):
// with ingest run in those moments a saturating burst was acked at
// 3,446–4,591/s; with this rule, at parity (median 4,302 against 3,822 in
// a noisier hour).
const burstAcks = 8

// writeFunc is one caller's unit of work. It runs inside the shared
// transaction, under its own SAVEPOINT: returning an error undoes exactly
// its own statements.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

type writeJob struct {
	ctx  context.Context
	fn   writeFunc
	done chan error // buffered 1: the writer never blocks on a caller
}

// writer is group commit: one goroutine owns the only write connection. The
// first waiting job opens a transaction; every job that waits while it is
// open joins it (up to maxBatch acks and backgroundRoom ingest jobs, see
// fill), each under its own SAVEPOINT, and one commit ends it. N concurrent
// callbacks wait on one fsync instead of N, and each caller still gets its
// own result: nil only if its work is committed. Under concurrent load a
// transaction may linger up to one commit's time for callers about to
// arrive (see lingerFor); its hot statements are prepared once
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
	// client for (ingest): see fill for how the two lanes share commits.
	background chan writeJob
	quit       chan struct{} // closed by stop
	stopped    chan struct{} // closed when the goroutine has exited
	once       sync.Once

	// Linger state, touched only by the writer goroutine (see lingerFor).
	lastBatch int           // decaying peak of acks per transaction
	commitAvg time.Duration // moving average of COMMIT (mostly the fsync)
	lingerMax time.Duration // maxLinger
	timer     *time.Timer   // stopped except while lingering

	times commitHistogram // every COMMIT's time (writer_stats.go)
}

func startWriter(db *sql.DB, stmts *writeStmts, committed func(), log *slog.Logger, commits *atomic.Int64) *writer {
	w := &writer{
		db: db, stmts: stmts, committed: committed, log: log, commits: commits,
		jobs:       make(chan writeJob),
		background: make(chan writeJob),
		timer:      time.NewTimer(time.Hour),
		lingerMax:  maxLinger,
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

// run forms the transactions, one at a time: the first job waiting in
// either lane opens one (fill), and everything it takes is answered after
// its commit.
func (w *writer) run() {
	defer close(w.stopped)
	b := &txBatch{}
	for {
		var (
			job        writeJob
			background bool
		)
		select {
		case <-w.quit:
			return
		case job = <-w.jobs:
		case job = <-w.background:
			background = true
		}
		err := w.fill(b, job, background)
		// A decaying peak: one short transaction must not end the
		// lingering while the callers of the last big one are coming back.
		w.lastBatch = max(b.acks, w.lastBatch*7/8)
		// No transaction is open now: the connection is free to compile the
		// statements this batch ran unprepared.
		w.stmts.prepareNoted(w.db)
		b.answer(err)
	}
}

// txBatch is the transaction being formed: its jobs in the order they
// ran, with each one's own result.
type txBatch struct {
	jobs       []writeJob
	results    []error
	acks       int // jobs of do
	background int // jobs of doBackground
}

// answer gives every job its result: its own error, or err when the
// transaction as a whole was lost (nothing of it was committed).
func (b *txBatch) answer(err error) {
	for i, job := range b.jobs {
		if err != nil && b.results[i] == nil {
			b.results[i] = err
		}
		job.done <- b.results[i]
	}
	clear(b.jobs) // drop references to finished callers' closures
	b.jobs, b.results, b.acks, b.background = b.jobs[:0], b.results[:0], 0, 0
}

// fill runs one group transaction, from first to its commit. Jobs run as
// they are taken, each under its own SAVEPOINT, and the order of taking is
// the lanes' contract:
//
//   - Acks first: every ack already waiting runs next, up to maxBatch.
//   - While no ack waits, background jobs run, up to backgroundRoom of the
//     acks taken so far or expected (lastBatch). At moderate rates
//     ingest's work is then done in time the writer would otherwise spend
//     waiting for acks: an ack that arrives finds most of its transaction's
//     ingest work done, and waits for the job in progress, what is left of
//     the room, and the commit (issue 17: the room used to be filled after
//     the acks, up to 14 jobs of ~230 µs ahead of every ack's commit). In
//     a burst (burstAcks) they wait until the acks are in.
//   - With nothing waiting, the transaction lingers for more acks while
//     recent transactions had more (see lingerFor), running background jobs
//     that arrive meanwhile (outside a burst).
//   - Then the acks are in (no more join: they form the next
//     transaction), what is left of the room goes to waiting background
//     jobs, and the transaction commits. The room is at least one however many acks
//     come, so ingest advances with every commit (the starvation bound).
//
// A transaction without acks takes at most maxBackground jobs, fewer while
// acks are expected: an ack arriving behind it waits for its commit, whose
// WAL writes grow with it.
func (w *writer) fill(b *txBatch, first writeJob, background bool) error {
	// The writer's own statements (BEGIN, SAVEPOINT, COMMIT) never use a
	// caller's context: one caller giving up must not roll back the others.
	tx, err := w.db.BeginTx(context.Background(), nil)
	if err != nil {
		b.add(first, background, nil)
		return mapError("begin write", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := w.runOne(b, tx, first, background); err != nil {
		return err
	}
	lingering, lingered, closing := false, false, false
	defer func() {
		if lingering {
			w.timer.Stop()
		}
	}()
	for {
		job, background, ok := w.next(b, lingering, closing)
		if ok {
			if err := w.runOne(b, tx, job, background); err != nil {
				return err
			}
			if lingering && b.acks >= w.lastBatch {
				// The company expected has come.
				lingering, closing = false, true
				w.timer.Stop()
			}
			continue
		}
		// Nothing waits, or the linger is over.
		switch d := w.lingerFor(b.acks); {
		case lingering:
			lingering = false // its timer fired
		case !lingered && d > 0:
			lingering, lingered = true, true
			w.timer.Reset(d)
			continue
		}
		if closing {
			break
		}
		closing = true // the acks are in: what is left of ingest's room, then the commit
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return mapError("commit", err)
	}
	took := time.Since(start)
	w.commitAvg += (took - w.commitAvg) / 8
	w.times.record(took)
	w.commits.Add(1)
	w.committed()
	return nil
}

// next takes the transaction's next job: an ack if one waits, else a
// background job if one waits, there is room, and it may run now (see
// burstAcks). When lingering it waits for either until the linger timer
// fires; otherwise ok is false at once when neither waits.
func (w *writer) next(b *txBatch, lingering, closing bool) (job writeJob, background, ok bool) {
	acks := w.jobs
	if b.acks >= maxBatch || closing {
		acks = nil // a nil channel is never ready
	}
	select {
	case job = <-acks:
		return job, false, true
	default:
	}
	// The room follows the acks this transaction can expect, not only
	// those it has: in a saturating burst acks come back in waves, and the
	// first of a wave must not open the room to maxBackground ingest jobs
	// before the rest arrive.
	room := w.background
	if b.background >= backgroundRoom(max(b.acks, w.lastBatch)) || (!closing && w.lastBatch >= burstAcks) {
		room = nil
	}
	select {
	case job = <-room:
		return job, true, true
	default:
	}
	if !lingering {
		return writeJob{}, false, false
	}
	select {
	case job = <-acks:
		return job, false, true
	case job = <-room:
		return job, true, true
	case <-w.timer.C:
		return writeJob{}, false, false
	}
}

// maxLinger bounds how long a transaction waits for more callers.
const maxLinger = 4 * time.Millisecond

// lingerFor is how long a transaction holding acks waits for more: when
// fewer have come than took part in recent transactions, up to that many
// or one commit's time (at most lingerMax: maxLinger, longer in tests).
//
// Without it, concurrent callers answered together come back spread over
// a few milliseconds (each on its own goroutine, through its own HTTP
// exchange): the first one alone starts a transaction and pays a whole
// fsync, and the others wait for it. With it, they share the next fsync,
// and the table and index pages every transaction rewrites are written to
// the WAL once per batch instead of once per caller or two. (Measured on
// BenchmarkCallbackDurableAck: waiting one commit's time gave 15–20 %
// more acks/s than half of one; two commits' time gave no more.) A caller
// writing alone (recent transactions of one ack) never waits: its commit
// starts at once. Background jobs that arrive meanwhile run in the wait.
func (w *writer) lingerFor(acks int) time.Duration {
	if acks == 0 || acks >= w.lastBatch || acks >= maxBatch {
		return 0
	}
	return min(w.commitAvg, w.lingerMax)
}

// add records a job that did not run (begin failed) or ran with result.
func (b *txBatch) add(job writeJob, background bool, result error) {
	b.jobs = append(b.jobs, job)
	b.results = append(b.results, result)
	if background {
		b.background++
	} else {
		b.acks++
	}
}

// runOne runs job in tx under its own SAVEPOINT and records its result. A
// job whose caller already gave up is skipped. The error returned is the
// transaction's: nobody's work in it survives.
func (w *writer) runOne(b *txBatch, tx *sql.Tx, job writeJob, background bool) error {
	if cerr := job.ctx.Err(); cerr != nil {
		b.add(job, background, cerr)
		return nil
	}
	bg := context.Background()
	b.add(job, background, nil)
	if _, err := w.stmts.exec(bg, tx, sqlSavepoint); err != nil {
		return mapError("begin write", err)
	}
	if jerr := runJob(job, tx, w.stmts); jerr != nil {
		b.results[len(b.results)-1] = jerr
		// ROLLBACK TO fails only if SQLite already rolled back the whole
		// transaction (disk full, I/O error): then nobody's work survives.
		if _, err := w.stmts.exec(bg, tx, sqlRollbackTo); err != nil {
			return mapError("write", fmt.Errorf("transaction lost after %w: %w", jerr, err))
		}
	}
	if _, err := w.stmts.exec(bg, tx, sqlRelease); err != nil {
		return mapError("write", err)
	}
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
