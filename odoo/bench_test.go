package odoo_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

// BenchmarkSync1000 syncs 1,000 completed requests (one image each) to
// the fake Odoo answering every call after 35 ms (about a real Odoo 19
// write), batched and with batching off (one record per search, create and
// write), in the same run. Both start from the same copied database.
//
//	go test ./odoo -run '^$' -bench Sync1000 -benchtime 1x -timeout 20m
func BenchmarkSync1000(b *testing.B) {
	const n = 1000
	clock := newFakeClock()
	seedDir := b.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(seedDir, "influencegen.db"), store.Options{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	seed(b, st, store.NewImageFiles(filepath.Join(seedDir, "images")), clock, n, true, 64)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	run := func(noBatching bool) (time.Duration, int) {
		dir := b.TempDir()
		copyDir(b, seedDir, dir)
		// Image paths in the database are absolute, into seedDir: the copy
		// shares the files, which the sync only reads.
		st, err := store.Open(context.Background(), filepath.Join(dir, "influencegen.db"), store.Options{Clock: clock})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		fake := odootest.Start(odootest.Config{})
		defer fake.Close()
		fake.SetLatency(35 * time.Millisecond)
		s := newSyncer(b, st, fake, clock, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) { o.NoBatching = noBatching })
		start := time.Now()
		drain(b, s, 50)
		elapsed := time.Since(start)
		if got := len(fake.Records("influence_gen.generated_image")); got != n {
			b.Fatalf("synced %d images, want %d", got, n)
		}
		return elapsed, fake.RPCs()
	}
	var batched, unbatched time.Duration
	var batchedRPCs, unbatchedRPCs int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batched, batchedRPCs = run(false)
		unbatched, unbatchedRPCs = run(true)
	}
	b.StopTimer()
	b.ReportMetric(batched.Seconds(), "batched-s")
	b.ReportMetric(float64(batchedRPCs), "batched-rpcs")
	b.ReportMetric(unbatched.Seconds(), "unbatched-s")
	b.ReportMetric(float64(unbatchedRPCs), "unbatched-rpcs")
	b.ReportMetric(unbatched.Seconds()/batched.Seconds(), "speedup-x")
	b.ReportMetric(float64(n)/batched.Seconds(), "batched-results/s")
}

func copyDir(b *testing.B, from, to string) {
	b.Helper()
	for _, name := range []string{"influencegen.db", "influencegen.db-wal", "influencegen.db-shm"} {
		src, err := os.Open(filepath.Join(from, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(to, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

var _ app.Clock = (*fakeClock)(nil)
