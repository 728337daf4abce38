package n8n

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

const testToken = "test-callback-token"

// settableClock tells the time tests choose; After uses real time so
// workers still wake (tests shorten the durations instead).
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func newSettableClock() *settableClock {
	return &settableClock{now: time.Now().UTC().Truncate(time.Second)}
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a real store on a temp dir, real secrets (memory keyring)
// and the real listener on 127.0.0.1:0.
type harness struct {
	t       testing.TB
	dir     string
	db      *store.DB
	raw     *sql.DB
	secrets *store.Secrets
	clock   *settableClock
	files   *store.ImageFiles
	lis     *Listener
	ingest  *Ingester
	fetcher *Fetcher
	policy  *ImagePolicy
	base    string
	bus     *app.Bus
}

type harnessOpt func(*ListenerOptions)

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessAt(t, t.TempDir(), opts...)
}

func newHarnessAt(t testing.TB, dir string, opts ...harnessOpt) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, dir: dir, clock: newSettableClock(), bus: app.NewBus()}
	var err error
	dbPath := filepath.Join(dir, "influencegen.db")
	h.db, err = store.Open(ctx, dbPath, store.Options{Clock: h.clock})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = h.db.Close() })
	h.raw, err = sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.raw.Close() })
	h.secrets = store.NewSecrets("test", h.db, store.SecretsOptions{
		Clock: h.clock, Memory: true, Getenv: func(string) string { return "" }, CacheTTL: time.Nanosecond,
	})
	if err := h.secrets.Set(ctx, app.SecretCallbackToken, testToken); err != nil {
		t.Fatalf("set token: %v", err)
	}
	h.files = store.NewImageFiles(filepath.Join(dir, "images"))
	cfg := app.DefaultConfig().Callback
	cfg.Listen = "127.0.0.1:0"
	lo := ListenerOptions{
		Config: cfg, N8NWebhookURL: "http://n8n.example.test:5678/webhook/influence-gen/generate",
		Version: "test", Store: h.db, Secrets: h.secrets, Bus: h.bus, Clock: h.clock,
	}
	for _, o := range opts {
		o(&lo)
	}
	h.policy = NewImagePolicy(lo.N8NWebhookURL, lo.Config.AllowImageHosts)
	// No test may depend on real DNS: unknown names do not resolve.
	h.policy.SetLookup(lookupTable(nil))
	lo.Policy = h.policy
	h.fetcher = NewFetcher(h.policy, h.clock, "influencegen/test")
	h.fetcher.Backoff = time.Millisecond
	h.ingest = NewIngester(IngestOptions{Store: h.db, Files: h.files, Fetcher: h.fetcher, Bus: h.bus, Clock: h.clock})
	if lo.Committed == nil {
		lo.Committed = func() {} // tests run the ingest worker by hand
	}
	h.lis, err = OpenListener(lo)
	if err != nil {
		t.Fatalf("OpenListener: %v", err)
	}
	t.Cleanup(func() { _ = h.lis.Close() })
	h.base = "http://" + h.lis.Addr()
	return h
}

// request creates a request and moves it to st along allowed transitions.
func (h *harness) request(st app.Status) app.Request {
	h.t.Helper()
	ctx := context.Background()
	r := app.Request{
		ID: app.NewID(h.clock.Now()),
		Params: app.GenerationParams{Prompt: "a red fox", Model: "sdxl", Width: 1024, Height: 1024,
			AspectRatio: "1:1", Seed: 42, NumImages: 1},
		Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: h.clock.Now(),
	}
	if err := h.db.CreateRequests(ctx, []app.Request{r}); err != nil {
		h.t.Fatalf("CreateRequests: %v", err)
	}
	path := map[app.Status][]app.Status{
		app.StatusQueued:           nil,
		app.StatusSending:          {app.StatusSending},
		app.StatusProcessing:       {app.StatusSending, app.StatusProcessing},
		app.StatusTimedOut:         {app.StatusSending, app.StatusProcessing, app.StatusTimedOut},
		app.StatusCancelled:        {app.StatusSending, app.StatusProcessing, app.StatusCancelled},
		app.StatusCompleted:        {app.StatusSending, app.StatusProcessing, app.StatusCompleted},
		app.StatusFailed:           {app.StatusSending, app.StatusProcessing, app.StatusFailed},
		app.StatusInitiationFailed: {app.StatusSending, app.StatusInitiationFailed},
	}[st]
	for _, to := range path {
		var err error
		if r, err = h.db.Transition(ctx, app.Change{ID: r.ID, To: to}); err != nil {
			h.t.Fatalf("Transition to %s: %v", to, err)
		}
	}
	return r
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (h *harness) post(path string, headers map[string]string, body []byte) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// callback posts body with the valid token to the main route.
func (h *harness) callback(body any) response {
	h.t.Helper()
	return h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken}, mustJSON(h.t, body))
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.raw.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		h.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// wantNothingWritten fails if any delivery or image row exists.
func (h *harness) wantNothingWritten() {
	h.t.Helper()
	if d, i := h.count("deliveries"), h.count("images"); d != 0 || i != 0 {
		h.t.Fatalf("rows written: %d deliveries, %d images; want none", d, i)
	}
}

func (h *harness) process() int {
	h.t.Helper()
	n, err := h.ingest.ProcessPending(context.Background())
	if err != nil {
		h.t.Fatalf("ProcessPending: %v", err)
	}
	return n
}

func (h *harness) get(id string) app.Request {
	h.t.Helper()
	r, err := h.db.GetRequest(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testPNG encodes a real w×h PNG whose pixels depend on salt.
func testPNG(t testing.TB, w, hgt int, salt byte) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, hgt))
	for y := range hgt {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: byte(x) ^ salt, G: byte(y) + salt, B: salt, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func successBody(id string, pngBytes []byte) map[string]any {
	return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": b64(pngBytes), "image_format": "png"}
}

func wantStatus(t testing.TB, got response, want int) {
	t.Helper()
	if got.status != want {
		t.Fatalf("status = %d (%s), want %d", got.status, strings.TrimSpace(got.raw), want)
	}
}
