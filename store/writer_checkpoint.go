package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// WAL checkpoints off the writer.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses
// wal_autocheckpoint pages: on the writer connection it copies megabytes
// into the database file and fsyncs it while every caller of the group
// commit waits (with ~10 KB callback bodies, every ~7th transaction). The
// checkpointer does the same copy on a connection of its own, after
// commits, at most every checkpointEvery. A PASSIVE checkpoint takes no
// write lock, so the writer keeps committing meanwhile.
//
// The writer connection keeps a wal_autocheckpoint only as a backstop:
// under sustained writes a passive checkpoint rarely catches up with the
// last frame, and the WAL only restarts from its beginning after a
// checkpoint that did. The checkpointer gets there when the writer goes
// quiet: checkpointIdle after the last commit it copies the tail, and with
// nothing committing meanwhile it completes, so the next write starts the
// WAL from its beginning. The backstop (256 MiB of WAL) is large enough
// that a burst of callbacks ends before it does (issue 17: at 8192 pages
// every burst had 2–4 commits of 25–38 ms, the backstop checkpoint
// running inside COMMIT). Durability is unchanged: a commit is durable
// once the WAL is fsynced (synchronous=FULL), whoever checkpointed it later.
//
// The WAL file is never shortened while commits come: SQLite truncates it
// to journal_size_limit in the first COMMIT after the WAL restarts, and
// giving a few hundred MiB back to ext4 inside that COMMIT took 90–110 ms
// (issue 17: every ~5 s at 1,000 callbacks/s, the open loop's p99). A
// restarted WAL instead rewrites blocks the file already has, which also
// keeps each commit's fdatasync free of file-size updates. Once nobody
// (this process or another sharing the file) has committed for
// truncateIdle, the checkpointer copies the rest and truncates the file
// to nothing (wal_checkpoint(TRUNCATE)), so a burst does not leave a
// large file behind.
const (
	checkpointEvery = 100 * time.Millisecond
	checkpointIdle  = 20 * time.Millisecond
	truncateIdle    = 5 * time.Second
	// walBackstopPages is the writer's wal_autocheckpoint (pages of 4 KiB:
	// 256 MiB). journalSizeLimit -1: SQLite never truncates the WAL on
	// its own (see above).
	walBackstopPages = 65536
	journalSizeLimit = -1
)

type checkpointer struct {
	db *sql.DB // one connection, used only for checkpoints
	// quiet is how long without a commit before the WAL is truncated
	// (truncateIdle, shorter in tests).
	quiet time.Duration
	log   *slog.Logger
	kick  chan struct{} // capacity 1: kicks while busy collapse into one

	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func startCheckpointer(db *sql.DB, quiet time.Duration, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, quiet: quiet, log: log, kick: make(chan struct{}, 1),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer new frames are in the WAL. It never
// blocks: the writer calls it after every commit.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.stopped
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
		}
		// Commits are coming: copy at most every checkpointEvery while
		// they last (spacing lets each copy many transactions' pages with
		// one fsync of the database file), and once more when none came
		// for checkpointIdle, which completes the copy.
		c.copyWhileBusy(timer)
		// Quiet: give the file back unless commits resume first.
		if c.waitQuiet(timer) {
			c.truncate()
		}
	}
}

// waitQuiet waits until no commit has come for c.quiet, ours or another
// process's (a dashboard and serve share the file, and a TRUNCATE holds
// the write lock while it works), and reports true. On stop, or when our
// writer commits first, it reports false (the kick is kept for the next
// busy spell).
func (c *checkpointer) waitQuiet(timer *time.Timer) bool {
	seen, err := c.dataVersion()
	for {
		timer.Reset(c.quiet)
		select {
		case <-c.quit:
			return false
		case <-c.kick:
			timer.Stop()
			c.committed() // this kick starts the next busy spell
			return false
		case <-timer.C:
		}
		now, nerr := c.dataVersion()
		if err == nil && nerr == nil && now == seen {
			return true
		}
		seen, err = now, nerr // another process committed meanwhile: wait again
	}
}

// dataVersion is PRAGMA data_version on the checkpointer's connection,
// which changes whenever any other connection commits.
func (c *checkpointer) dataVersion() (int64, error) {
	var v int64
	err := c.db.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v)
	return v, err
}

// copyWhileBusy checkpoints every checkpointEvery while commits keep
// coming, and once more when none came for checkpointIdle, which
// completes the copy. It returns on that idle checkpoint (or on stop).
func (c *checkpointer) copyWhileBusy(timer *time.Timer) {
	busySince := time.Now()
	for idle := false; !idle; {
		timer.Reset(checkpointIdle)
		select {
		case <-c.quit:
			return
		case <-c.kick:
			timer.Stop() // Go ≥ 1.23: no stale tick is left to drain
			if time.Since(busySince) < checkpointEvery {
				continue
			}
		case <-timer.C:
			idle = true
		}
		_, _, _ = c.checkpoint() // a failure is logged; the next commit kicks again
		busySince = time.Now()
	}
}

// truncate copies what is left of the WAL and truncates the file to zero
// bytes. TRUNCATE waits for readers and takes the write lock, so it runs
// only after truncateIdle without a commit; a write arriving meanwhile
// waits for it under busy_timeout.
func (c *checkpointer) truncate() {
	var busy, frames, copied int
	err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
	if err != nil {
		c.log.Warn("store: truncating the WAL after a quiet spell failed", "err", err)
		return
	}
	c.log.Debug("store: WAL truncated", "busy", busy)
}

// checkpoint copies what it can and reports the WAL's size in frames and
// how many of them are now in the database file.
func (c *checkpointer) checkpoint() (walFrames, copied int, err error) {
	var busy int
	err = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walFrames, &copied)
	if err != nil {
		// Not fatal: the writer's backstop checkpoint still bounds the WAL.
		c.log.Warn("store: background WAL checkpoint failed", "err", err)
		return 0, 0, err
	}
	c.log.Debug("store: WAL checkpoint", "wal_frames", walFrames, "copied", copied)
	return walFrames, copied, nil
}
