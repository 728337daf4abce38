package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// benchDBs caches filled databases per size for the whole test binary:
// filling 100,000 rows takes a while and every benchmark only reads them.
var benchDBs struct {
	sync.Mutex
	dir   string
	paths map[int]string
}

func TestMain(m *testing.M) {
	// the dashboard shows local time; goldens must not depend on where
	// they run
	time.Local = time.UTC
	code := m.Run()
	if benchDBs.dir != "" {
		os.RemoveAll(benchDBs.dir)
	}
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// benchStore opens a store holding n requests (plus the seeded ones with
// an image, newest, so the detail pane has a picture to draw).
func benchStore(b testing.TB, n int) *store.DB {
	b.Helper()
	benchDBs.Lock()
	defer benchDBs.Unlock()
	if benchDBs.paths == nil {
		dir, err := os.MkdirTemp("", "influencegen-ui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDBs.dir, benchDBs.paths = dir, map[int]string{}
	}
	path, ok := benchDBs.paths[n]
	if !ok {
		path = filepath.Join(benchDBs.dir, fmt.Sprintf("rows-%d.db", n))
		db, err := store.Open(context.Background(), path, store.Options{Clock: fixedClock{testNow}})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		fillRequests(b, db, n)
		seedRequestsAbove(b, db, n)
		b.Logf("filled %d requests in %v", n, time.Since(start).Round(time.Millisecond))
		db.Close()
		benchDBs.paths[n] = path
	}
	db, err := store.Open(context.Background(), path, store.Options{Clock: fixedClock{testNow}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// seedRequestsAbove adds one completed request with an image, newer than
// the n filled ones.
func seedRequestsAbove(b testing.TB, db *store.DB, n int) {
	id := testID(n + 1)
	if err := db.CreateRequests(context.Background(), []app.Request{{ID: id, Params: params("A red fox in fresh snow at dawn", "sdxl", 7), RequestedBy: "bench", CreatedAt: testNow, UpdatedAt: testNow}}); err != nil {
		b.Fatal(err)
	}
	move(b, db, id, app.Change{}, app.StatusSending, app.StatusProcessing)
	path, sha := writeTestPNG(b, benchDBs.dir)
	completeWithImage(b, db, id, path, sha)
}

func benchModel(b testing.TB, db *store.DB, w, h int) Model {
	cfg := app.DefaultConfig()
	bk := Backend{Store: db, Service: &fakeService{db: db}, Secrets: newFakeSecrets(), Config: cfg, Clock: fixedClock{testNow},
		Getenv: func(k string) string { return map[string]string{"TERM": "xterm-256color"}[k] }}
	m := New(context.Background(), bk)
	m.noTicks = true
	m = step(b, m, tea.WindowSizeMsg{Width: w, Height: h})
	return settle(b, m, m.Init())
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(int(float64(len(s))*p), len(s)-1)]
}

// BenchmarkView renders the main screen (list + detail with a half-block
// picture) over a store of 100,000 requests and over one of 100: equal
// times prove View only touches the cached window.
func BenchmarkView(b *testing.B) {
	medians := map[int]float64{}
	for _, n := range []int{100, 100_000} {
		for _, sz := range [][2]int{{160, 48}, {80, 24}} {
			b.Run(fmt.Sprintf("rows=%d/%dx%d", n, sz[0], sz[1]), func(b *testing.B) {
				db := benchStore(b, n)
				m := benchModel(b, db, sz[0], sz[1])
				if sz[0] >= wideWidth && m.detail.preview == nil {
					b.Fatal("the detail has no picture to draw")
				}
				samples := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for b.Loop() {
					t0 := time.Now()
					_ = m.View()
					samples = append(samples, time.Since(t0))
				}
				med := float64(percentile(samples, 0.5).Microseconds()) / 1000
				b.ReportMetric(med, "median-ms")
				b.ReportMetric(float64(percentile(samples, 0.99).Microseconds())/1000, "p99-ms")
				if sz[0] == 160 {
					medians[n] = med
				}
			})
		}
	}
	if medians[100] > 0 && medians[100_000] > 0 {
		b.Logf("View median 100k rows / 100 rows = %.2f (1.0 = independent of table size)", medians[100_000]/medians[100])
	}
}

// BenchmarkFirstFrame is New + Init's reads + the first View over 100,000
// requests: the in-process part of "start to first frame".
func BenchmarkFirstFrame(b *testing.B) {
	db := benchStore(b, 100_000)
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		m := benchModel(b, db, 120, 40)
		_ = m.View()
		samples = append(samples, time.Since(t0))
	}
	b.ReportMetric(float64(percentile(samples, 0.5).Microseconds())/1000, "median-ms")
}

// BenchmarkCallbackToRepaint measures a callback's way to the screen, two
// ways: the bus hint (same process: listener → ingest → publish → the
// dashboard reloads the row) and the data-version poll (another process
// wrote: the next 250 ms tick notices). Each sample starts when the
// callback's result is committed (the ingest after the HTTP ack) and ends
// when View has rendered the completed row.
func BenchmarkCallbackToRepaint(b *testing.B) {
	db := benchStore(b, 100_000)
	path, sha := writeTestPNG(b, b.TempDir())
	next := 200_000
	newProcessing := func() string {
		next++
		id := testID(next)
		if err := db.CreateRequests(context.Background(), []app.Request{{ID: id, Params: params("bench", "sdxl", 1), RequestedBy: "bench", CreatedAt: testNow, UpdatedAt: testNow}}); err != nil {
			b.Fatal(err)
		}
		move(b, db, id, app.Change{}, app.StatusSending, app.StatusProcessing)
		return id
	}
	rendered := func(m Model, id string) bool {
		for _, r := range m.list.rows {
			if r.ID == id {
				return r.Status == app.StatusCompleted
			}
		}
		return false
	}
	b.Run("bus", func(b *testing.B) {
		bus := app.NewBus()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		bk := Backend{Store: db, Service: &fakeService{db: db}, Bus: bus, Config: app.DefaultConfig(), Clock: fixedClock{testNow}}
		m := New(ctx, bk)
		m.noTicks = true
		m = step(b, m, tea.WindowSizeMsg{Width: 160, Height: 48})
		m = settle(b, m, loadPageCmd(ctx, db, app.SystemClock{}, 1, loadTop, m.list.query()))
		var samples []time.Duration
		for b.Loop() {
			b.StopTimer()
			id := newProcessing()
			m = step(b, m, pageLoadedMsg{seq: m.list.seq, mode: loadTop, page: mustPage(b, db)})
			b.StartTimer()
			t0 := time.Now()
			completeWithImage(b, db, id, path, sha)
			bus.Publish(app.Event{Kind: app.EventRequest, RequestID: id})
			ev := waitForEventCmd(m.sub)().(busEventMsg)
			// What the program loop does with the event: Update asks for
			// the row (and re-arms the wait, which the next iteration plays
			// by hand), the Cmd reads it, Update applies it, View draws it.
			mm, _ := m.Update(ev)
			m = mm.(Model)
			mm, _ = m.Update(reloadRequestCmd(ctx, db, ev.ev.RequestID, m.list.query())())
			m = mm.(Model)
			_ = m.View()
			if !rendered(m, id) {
				b.Fatal("the row did not turn completed")
			}
			samples = append(samples, time.Since(t0))
		}
		b.ReportMetric(float64(percentile(samples, 0.5).Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(percentile(samples, 0.99).Microseconds())/1000, "p99-ms")
	})
	b.Run("data_version_poll", func(b *testing.B) {
		other := openStoreAt(b, db) // the writer is another connection, like `serve`
		m := benchModel(b, db, 160, 48)
		var samples []time.Duration
		for b.Loop() {
			b.StopTimer()
			id := newProcessing()
			m = settle(b, m, m.list.load(loadTop))
			m = step(b, m, pollTickedMsg{}) // learn the current version
			b.StartTimer()
			t0 := time.Now()
			did, _, _ := other.RecordDelivery(context.Background(), app.Delivery{IdempotencyKey: "p-" + id, RequestID: id, Body: []byte(`{}`), Source: "x", ReceivedAt: testNow})
			if _, err := other.CompleteDelivery(context.Background(), app.IngestResult{DeliveryID: did, RequestID: id, To: app.StatusCompleted,
				Images: []app.Image{{SHA256: sha, Path: path, MimeType: "image/png", Width: 64, Height: 48, Source: "base64"}}}); err != nil {
				b.Fatal(err)
			}
			for !rendered(m, id) {
				<-time.After(pollInterval) // the real tick
				m = step(b, m, pollTickedMsg{})
			}
			_ = m.View()
			samples = append(samples, time.Since(t0))
		}
		b.ReportMetric(float64(percentile(samples, 0.5).Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(percentile(samples, 0.99).Microseconds())/1000, "p99-ms")
	})
}

func mustPage(b testing.TB, db *store.DB) app.Page {
	p, err := db.ListRequests(context.Background(), app.ListQuery{Limit: pageSize})
	if err != nil {
		b.Fatal(err)
	}
	return p
}
