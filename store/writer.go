package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// maxBatch caps how many callers share one transaction, so one commit never
// holds the write lock long enough to starve another process.
const maxBatch = 128

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
type writer struct {
	db      *sql.DB
	log     *slog.Logger
	commits *atomic.Int64

	jobs    chan writeJob // unbuffered: a send succeeds only when the writer takes it
	quit    chan struct{} // closed by stop
	stopped chan struct{} // closed when the goroutine has exited
	once    sync.Once
}

func startWriter(db *sql.DB, log *slog.Logger, commits *atomic.Int64) *writer {
	w := &writer{
		db: db, log: log, commits: commits,
		jobs:    make(chan writeJob),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

// do runs fn in the next group transaction and returns its own result. Once
// the writer has taken the job, do waits for the answer even if ctx ends:
// the caller must learn whether its work was committed. A job whose ctx has
// ended before it runs is skipped.
func (w *writer) do(ctx context.Context, fn writeFunc) error {
	job := writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case w.jobs <- job:
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

func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]writeJob, 0, maxBatch)
	for {
		select {
		case <-w.quit:
			return
		case job := <-w.jobs:
			batch = append(batch[:0], job)
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
		w.runBatch(batch)
		clear(batch) // drop references to finished callers' closures
	}
}

// runBatch executes one group transaction and answers every job in it.
func (w *writer) runBatch(batch []writeJob) {
	results := make([]error, len(batch))
	err := w.runTx(batch, results)
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
		if _, err := tx.ExecContext(bg, "SAVEPOINT job"); err != nil {
			return mapError("begin write", err)
		}
		jerr := runJob(job, tx)
		if jerr != nil {
			results[i] = jerr
			// ROLLBACK TO fails only if SQLite already rolled back the whole
			// transaction (disk full, I/O error): then nobody's work survives.
			if _, err := tx.ExecContext(bg, "ROLLBACK TO job"); err != nil {
				return mapError("write", fmt.Errorf("transaction lost after %w: %w", jerr, err))
			}
		}
		if _, err := tx.ExecContext(bg, "RELEASE job"); err != nil {
			return mapError("write", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return mapError("commit", err)
	}
	w.commits.Add(1)
	return nil
}

// runJob runs one caller's function. Its statements run under a context
// that cannot be cancelled: cancelling a statement interrupts the SQLite
// connection, and an interrupted write inside a transaction may roll back
// the whole batch. The job was checked for cancellation just before; its
// statements are short.
func runJob(job writeJob, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return job.fn(context.WithoutCancel(job.ctx), tx)
}
