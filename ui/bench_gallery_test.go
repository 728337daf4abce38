package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/store"
)

// galleryBenchStore fills a store with n completed requests of one
// picture each: the demo simulator's 512×512 PNGs (20 drawings, each file
// made unique by bytes after IEND, which decoders ignore, so every one is
// its own sha256 and is decoded on its own).
func galleryBenchStore(b *testing.B, n, side int) *store.DB {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "gallery.db"), store.Options{Clock: fixedClock{testNow}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	var bases [][]byte
	for i := range 20 {
		bases = append(bases, n8n.SimImage("a fox in the snow", int64(i), 0, side, side))
	}
	reqs := make([]app.Request, n)
	for i := range reqs {
		at := testNow.Add(-time.Duration(n-i) * time.Second)
		reqs[i] = app.Request{ID: testID(i + 1), Params: params(fmt.Sprintf("fox %d", i), "sdxl", int64(i)), RequestedBy: "bench", CreatedAt: at, UpdatedAt: at}
	}
	if err := db.CreateRequests(ctx, reqs); err != nil {
		b.Fatal(err)
	}
	for i, r := range reqs {
		data := append(append([]byte(nil), bases[i%len(bases)]...), fmt.Sprintf("unique-%d", i)...)
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		path := filepath.Join(dir, sha+".png")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		move(b, db, r.ID, app.Change{}, app.StatusSending, app.StatusProcessing)
		did, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "cb-" + r.ID, RequestID: r.ID, Body: json.RawMessage(`{}`), Source: "127.0.0.1", ReceivedAt: testNow})
		if err != nil {
			b.Fatal(err)
		}
		seed := int64(i)
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
			Images: []app.Image{{Sequence: 1, SHA256: sha, Path: path, MimeType: "image/png", Width: side, Height: side, Bytes: int64(len(data)), Seed: &seed, Source: "base64"}}}); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// galleryLoop plays Bubble Tea's loop: Cmds run on their own goroutines
// and their messages come back one at a time through Update, each
// followed by a View. frame times Update+View of one message.
type galleryLoop struct {
	b      *testing.B
	m      Model
	msgs   chan tea.Msg
	frames []time.Duration
	cpu    []time.Duration // the same frames in thread CPU time
}

func (l *galleryLoop) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				l.run(c)
			}
			return
		}
		if msg != nil {
			l.msgs <- msg
		}
	}()
}

func (l *galleryLoop) frame(msg tea.Msg) {
	c0 := threadCPU()
	t0 := time.Now()
	next, cmd := l.m.Update(msg)
	l.m = next.(Model)
	_ = l.m.View()
	l.frames = append(l.frames, time.Since(t0))
	l.cpu = append(l.cpu, threadCPU()-c0)
	l.run(cmd)
}

// drain handles every message already waiting, without blocking.
func (l *galleryLoop) drain() {
	for {
		select {
		case msg := <-l.msgs:
			l.frame(msg)
		default:
			return
		}
	}
}

// visibleCached says every thumbnail on screen is rendered.
func (l *galleryLoop) visibleCached() bool {
	g := l.m.cur.gallery
	if !g.loaded {
		return false
	}
	lay := g.layout()
	from, to := g.visible()
	for _, it := range g.items[from:to] {
		if _, ok := l.m.cur.thumbs.get(l.m.thumbKey(it.img.SHA256, lay.thumbCols, lay.thumbRows)); !ok {
			return false
		}
	}
	return true
}

// BenchmarkGalleryScroll opens the gallery of 1,000 pictures at 160×48,
// measures the time to the first thumbnail and to a full first screen,
// then scrolls the whole gallery down and back up with ↓ at key-repeat
// rate (30/s), twice: cold (thumbnails decoding in the background while
// it scrolls) and warm (all in the 64 MB cache). Every Update+View is a
// frame. Run with -benchtime=1x.
func BenchmarkGalleryScroll(b *testing.B) {
	const n = 1000
	db := galleryBenchStore(b, n, 512)
	runtime.LockOSThread() // thread CPU time per frame needs one thread
	defer runtime.UnlockOSThread()
	for b.Loop() {
		m := benchModel(b, db, 160, 48)
		l := &galleryLoop{b: b, m: m, msgs: make(chan tea.Msg, 1024)}
		start := time.Now()
		l.frame(keyMsg("v"))
		var firstThumb, firstScreen time.Duration
		deadline := time.After(60 * time.Second)
		for firstScreen == 0 {
			select {
			case msg := <-l.msgs:
				l.frame(msg)
				if _, ok := msg.(thumbRenderedMsg); ok && firstThumb == 0 {
					firstThumb = time.Since(start)
				}
				if l.visibleCached() {
					firstScreen = time.Since(start)
				}
			case <-deadline:
				b.Fatal("the first screen of thumbnails never completed")
			}
		}
		if got := len(l.m.cur.gallery.items); got != n {
			b.Fatalf("gallery holds %d pictures, want %d", got, n)
		}
		rows := (n + l.m.cur.gallery.layout().cols - 1) / l.m.cur.gallery.layout().cols
		for pass, name := range []string{"cold", "warm"} {
			l.frames, l.cpu = l.frames[:0], l.cpu[:0]
			tick := time.NewTicker(time.Second / 30)
			for i := range 2 * rows {
				<-tick.C // key repeat: the load model, not a wait for a result
				l.drain()
				k := "down"
				if i >= rows {
					k = "up"
				}
				l.frame(keyMsg(k))
			}
			tick.Stop()
			l.drain()
			b.ReportMetric(float64(percentile(l.frames, 0.99).Microseconds())/1000, name+"-frame-p99-ms")
			b.ReportMetric(float64(percentile(l.frames, 0.5).Microseconds())/1000, name+"-frame-median-ms")
			b.ReportMetric(float64(percentile(l.cpu, 0.99).Microseconds())/1000, name+"-frame-cpu-p99-ms")
			if pass == 0 {
				b.ReportMetric(float64(len(l.frames)), "cold-frames")
			}
		}
		b.ReportMetric(float64(firstThumb.Microseconds())/1000, "first-thumb-ms")
		b.ReportMetric(float64(firstScreen.Microseconds())/1000, "first-screen-ms")
		b.ReportMetric(float64(l.m.cur.thumbs.usedBytes())/(1<<20), "cache-MiB")
	}
}
