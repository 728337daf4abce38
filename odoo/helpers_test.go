package odoo_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

// fakeClock moves only when told; After fires when Advance passes it.
type fakeClock = apptest.Clock

func newFakeClock() *fakeClock {
	return apptest.NewClock(time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC))
}

// staticKey is a KeyFunc returning key.
func staticKey(key string) odoo.KeyFunc {
	return func(context.Context) (string, error) { return key, nil }
}

// newClient returns a client of protocol for the fake, with short
// timeouts so fault tests stay fast.
func newClient(t testing.TB, fake *odootest.Server, protocol string) odoo.Client {
	t.Helper()
	c, err := odoo.New(odoo.Options{
		URL: fake.URL, Database: fake.Database(), Username: fake.Login(), Protocol: protocol,
		Key: staticKey(fake.Key()), HTTP: &http.Client{Timeout: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openStore opens a real SQLite store in a temp dir.
func openStore(t testing.TB, clock app.Clock) (*store.DB, *store.ImageFiles) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "influencegen.db"), store.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, store.NewImageFiles(filepath.Join(dir, "images"))
}

// testPNG is a small PNG, width×4 pixels (width×width when small), whose
// pixels depend on n, so every request's image has its own sha256.
func testPNG(t testing.TB, n int, width int) []byte {
	t.Helper()
	side := width
	height := min(width, 4)
	img := image.NewRGBA(image.Rect(0, 0, side, height))
	for y := 0; y < height; y++ {
		for x := 0; x < side; x++ {
			img.Set(x, y, color.RGBA{uint8(n), uint8(n >> 8), uint8(x * y), 255})
		}
	}
	img.Set(0, 0, color.RGBA{uint8(n >> 16), 1, 2, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seed creates n requests; with completed, each is sent and completed by
// a callback carrying one image of side×side pixels, as ingest would.
func seed(t testing.TB, st *store.DB, files *store.ImageFiles, clock app.Clock, n int, completed bool, side int) []app.Request {
	t.Helper()
	ctx := context.Background()
	reqs := make([]app.Request, n)
	for i := range reqs {
		reqs[i] = app.Request{
			ID: app.NewID(clock.Now()),
			Params: app.GenerationParams{Prompt: fmt.Sprintf("a red cube number %d", i), Model: "sdxl",
				Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: 4294967295 - int64(i), NumImages: 1},
			Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: clock.Now(), UpdatedAt: clock.Now(),
		}
	}
	if err := st.CreateRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	if !completed {
		return reqs
	}
	for i, r := range reqs {
		if _, err := st.Transition(ctx, app.Change{ID: r.ID, To: app.StatusSending, CountAttempt: true}); err != nil {
			t.Fatal(err)
		}
		dID, _, err := st.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k-" + r.ID, RequestID: r.ID, Body: []byte(`{}`), Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		sf, err := files.Save(ctx, bytes.NewReader(testPNG(t, i, side)))
		if err != nil {
			t.Fatal(err)
		}
		seedVal := int64(7 + i)
		if _, err := st.CompleteDelivery(ctx, app.IngestResult{DeliveryID: dID, RequestID: r.ID, To: app.StatusCompleted,
			ExecutionID: fmt.Sprintf("exec-%d", i),
			Images: []app.Image{{RequestID: r.ID, Sequence: 0, SHA256: sf.SHA256, Path: sf.Path, MimeType: sf.MimeType,
				Width: sf.Width, Height: sf.Height, Bytes: sf.Bytes, Seed: &seedVal, Source: "base64"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return reqs
}

// newSyncer builds a syncer over the store and the fake.
func newSyncer(t testing.TB, st app.Store, fake *odootest.Server, clock app.Clock, protocol string, tweak func(*odoo.SyncOptions)) *odoo.Syncer {
	t.Helper()
	opts := odoo.SyncOptions{Client: newClient(t, fake, protocol), Store: st, Clock: clock,
		Jitter: func() float64 { return 1 }}
	if tweak != nil {
		tweak(&opts)
	}
	return odoo.NewSyncer(opts)
}

// drain runs batches until nothing is due or limit batches ran.
func drain(t testing.TB, s *odoo.Syncer, limit int) app.SyncReport {
	t.Helper()
	var total app.SyncReport
	for i := 0; i < limit; i++ {
		rep, err := s.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total.Items += rep.Items
		total.Done += rep.Done
		total.Retry += rep.Retry
		total.Parked += rep.Parked
		total.RPCs += rep.RPCs
		if rep.LastError != "" {
			total.LastError = rep.LastError
		}
		if rep.Items == 0 {
			return total
		}
	}
	return total
}
