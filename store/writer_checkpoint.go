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
// once the WAL is fsynced (synchronous=FULL), whoever checkpoints it later.
const (
	checkpointEvery = 100 * time.Millisecond
	checkpointIdle  = 20 * time.Millisecond
	// walBackstopPages is the writer's wal_autocheckpoint (pages of 4 KiB:
	// 256 MiB); journalSizeLimit truncates the WAL back to 32 MiB when it
	// restarts, so one burst does not keep a large file for ever.
	walBackstopPages = 65536
	journalSizeLimit = 32 << 20
)

type checkpointer struct {
	db   *sql.DB // one connection, used only for checkpoints
	log  *slog.Logger
	kick chan struct{} // capacity 1: kicks while busy collapse into one

	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1),
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
