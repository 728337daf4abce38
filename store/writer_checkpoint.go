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
// The writer connection keeps a high wal_autocheckpoint as a backstop:
// under sustained writes a passive checkpoint rarely catches up with the
// last frame, and the WAL only restarts from its beginning after a
// checkpoint that did. The backstop then finishes the job with only the
// tail left to copy. Durability is unchanged: a commit is durable once
// the WAL is fsynced (synchronous=FULL), whoever checkpoints it later.
const (
	checkpointEvery = 100 * time.Millisecond
	// walBackstopPages is the writer's wal_autocheckpoint (pages of 4 KiB:
	// 32 MiB); journalSizeLimit truncates the WAL back to this size when it
	// restarts, so one burst does not keep a large file for ever.
	walBackstopPages = 8192
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
	pause := time.NewTimer(checkpointEvery)
	pause.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
		}
		_, _, _ = c.checkpoint() // a failure is logged; the next commit kicks again
		// Spacing the checkpoints lets each copy many transactions' pages
		// with one fsync of the database file.
		pause.Reset(checkpointEvery)
		select {
		case <-c.quit:
			return
		case <-pause.C:
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
