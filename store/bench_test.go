package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// groupCommitsPerSec carries the first sub-benchmark's figure to the
// second, so one run reports the ratio (absolute rates depend on the disk;
// the ratio survives a noisy machine).
var groupCommitsPerSec float64

// BenchmarkStoreCommit: 64 goroutines each commit one small row (an
// activity entry) until b.N rows are committed, through the group-commit
// writer and, in the same run, with one BEGIN/COMMIT per write on a
// connection pool waiting on busy_timeout. Both use WAL and
// synchronous=FULL, so a commit is an fsync.
//
//	go test -run '^$' -bench BenchmarkStoreCommit -benchtime 3000x ./store/
func BenchmarkStoreCommit(b *testing.B) {
	const writers = 64
	b.Run("group", func(b *testing.B) {
		db, _ := openTest(b)
		ctx := context.Background()
		rate := runWriters(b, writers, func() error {
			return db.AppendActivity(ctx, app.Activity{Kind: "bench", Message: "one small row"})
		})
		groupCommitsPerSec = rate
		b.ReportMetric(rate, "commits/s")
		b.ReportMetric(float64(b.N)/float64(max(db.commits.Load(), 1)), "rows/tx")
	})
	b.Run("tx-per-write", func(b *testing.B) {
		db, _ := openTest(b)
		ctx := context.Background()
		pool, err := sql.Open("sqlite", db.Path()+"?_txlock=immediate"+pragmas(false, DefaultBusyTimeout))
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		pool.SetMaxOpenConns(writers)
		pool.SetMaxIdleConns(writers)
		now := fmtTime(time.Now())
		rate := runWriters(b, writers, func() error {
			tx, err := pool.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			if _, err := tx.ExecContext(ctx, `INSERT INTO activity (kind, level, message, created_at)
				VALUES ('bench', 'info', 'one small row', ?)`, now); err != nil {
				return err
			}
			return tx.Commit()
		})
		b.ReportMetric(rate, "commits/s")
		if groupCommitsPerSec > 0 {
			b.ReportMetric(groupCommitsPerSec/rate, "group-speedup-x")
		}
	})
}

// runWriters runs b.N commits spread over n goroutines and returns the
// committed rows per second.
func runWriters(b *testing.B, n int, commit func() error) float64 {
	b.Helper()
	var (
		left     atomic.Int64
		wg       sync.WaitGroup
		failOnce sync.Once
		failed   error
	)
	left.Store(int64(b.N))
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			for left.Add(-1) >= 0 {
				if err := commit(); err != nil {
					failOnce.Do(func() { failed = err })
					return
				}
			}
		})
	}
	b.ResetTimer()
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	if failed != nil {
		b.Fatalf("commit failed: %v", failed)
	}
	return float64(b.N) / elapsed.Seconds()
}
