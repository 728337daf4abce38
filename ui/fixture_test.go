package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

var testNow = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                       { return c.t }
func (c fixedClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// testID makes valid, time-sortable ids: a larger n is a newer request.
func testID(n int) string { return fmt.Sprintf("01JDX3V6Q6T7ZP3Y6N4B%06d", n) }

func openStore(t testing.TB, clock app.Clock) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "influencegen.db"), store.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeTestPNG writes a 64×48 gradient and returns its path and sha256.
func writeTestPNG(t testing.TB, dir string) (string, string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: 160, A: 255})
		}
	}
	var data bytes.Buffer
	if err := png.Encode(&data, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data.Bytes())
	hash := hex.EncodeToString(sum[:])
	// Named by its hash, as the image folder names every file.
	path := filepath.Join(dir, hash+".png")
	if err := os.WriteFile(path, data.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, hash
}

func params(prompt, model string, seed int64) app.GenerationParams {
	return app.GenerationParams{Prompt: prompt, Model: model, Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: seed, NumImages: 1}
}

func move(t testing.TB, db *store.DB, id string, c app.Change, to ...app.Status) {
	t.Helper()
	for _, st := range to {
		c.ID, c.To = id, st
		if _, err := db.Transition(context.Background(), c); err != nil {
			t.Fatalf("move %s to %s: %v", id, st, err)
		}
	}
}

// completeWithImage plays a callback: a delivery recorded, then processed
// with one image, as the listener and ingest do.
func completeWithImage(t testing.TB, db *store.DB, id, path, sha string) {
	t.Helper()
	ctx := context.Background()
	did, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "cb-" + id, RequestID: id,
		Body: json.RawMessage(`{"status":"success"}`), Source: "127.0.0.1", ReceivedAt: testNow})
	if err != nil {
		t.Fatalf("record delivery: %v", err)
	}
	seed := int64(7)
	_, err = db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: id, To: app.StatusCompleted,
		ExecutionID: "4711",
		Images:      []app.Image{{Sequence: 1, SHA256: sha, Path: path, MimeType: "image/png", Width: 64, Height: 48, Bytes: 1000, Seed: &seed, Source: "base64"}},
		Activities: []app.Activity{
			{Kind: app.ActivityCallback, Level: app.LevelInfo, Message: "callback received from 127.0.0.1"},
			{Kind: app.ActivityImageStored, Level: app.LevelInfo, Message: "image 64x48 png stored"},
			{Kind: app.ActivityCompleted, Level: app.LevelInfo, Message: "completed with 1 image"},
		}})
	if err != nil {
		t.Fatalf("complete delivery: %v", err)
	}
}

// seedRequests fills the store with one request in each interesting state;
// the newest (selected first) is the completed one with an image.
func seedRequests(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path, sha := writeTestPNG(t, dir)
	prompts := []struct {
		prompt, model string
	}{
		{"Cancelled: a lighthouse in a storm", "sdxl"},
		{"Queued: a bowl of ramen, top-down food photography", "flux-dev"},
		{"Timed out: portrait of an astronaut in a sunflower field", "sdxl"},
		{"Init failed: product shot of a perfume bottle on wet slate", "sd3.5-large"},
		{"Failed: isometric city at night, neon", "flux-dev"},
		{"Sending: watercolour map of Lisbon", "sdxl"},
		{"Processing: a cosy reading nook with a cat, golden hour, 35mm", "sd3.5-large"},
		{"A red fox in fresh snow at dawn, cinematic light, shallow depth of field", "sdxl"},
	}
	reqs := make([]app.Request, len(prompts))
	for i, p := range prompts {
		at := testNow.Add(-time.Duration(len(prompts)-i) * 7 * time.Minute)
		reqs[i] = app.Request{ID: testID(i + 1), Params: params(p.prompt, p.model, int64(1000+i)), RequestedBy: "alice", CreatedAt: at, UpdatedAt: at}
	}
	if err := db.CreateRequests(ctx, reqs); err != nil {
		t.Fatalf("create: %v", err)
	}
	move(t, db, testID(1), app.Change{}, app.StatusCancelled)
	move(t, db, testID(3), app.Change{}, app.StatusSending, app.StatusProcessing, app.StatusTimedOut)
	move(t, db, testID(4), app.Change{}, app.StatusSending)
	move(t, db, testID(4), app.Change{ErrorCode: "n8n_auth", ErrorMessage: "n8n answered 403 Authorization data is wrong!"}, app.StatusInitiationFailed)
	move(t, db, testID(5), app.Change{}, app.StatusSending, app.StatusProcessing)
	move(t, db, testID(5), app.Change{ErrorCode: "image_unavailable", ErrorMessage: "the image URL answered 404"}, app.StatusFailed)
	move(t, db, testID(6), app.Change{}, app.StatusSending)
	move(t, db, testID(7), app.Change{}, app.StatusSending, app.StatusProcessing)
	move(t, db, testID(8), app.Change{}, app.StatusSending, app.StatusProcessing)
	completeWithImage(t, db, testID(8), path, sha)
	if err := db.AppendActivity(ctx,
		app.Activity{Kind: app.ActivityCallbackRejected, Level: app.LevelWarn, Message: "callback rejected: invalid token from 203.0.113.9", CreatedAt: testNow.Add(-time.Minute)},
		app.Activity{Kind: app.ActivitySyncError, Level: app.LevelError, Message: "Odoo sync: odoo_auth: the API key was rejected", CreatedAt: testNow.Add(-30 * time.Second)},
	); err != nil {
		t.Fatalf("append activity: %v", err)
	}
}

// fakeService records what the dashboard asked and acts on the store like
// the real service, with predictable ids.
type fakeService struct {
	db    *store.DB
	mu    sync.Mutex
	calls []string
	next  int
	err   error
}

func (f *fakeService) record(c string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.err
}

func (f *fakeService) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeService) Submit(ctx context.Context, in app.ParamsInput) ([]app.Request, error) {
	if err := f.record("submit"); err != nil {
		return nil, err
	}
	ps, err := app.Validate(in, app.DefaultConfig().Defaults(), func() uint32 { return 42 })
	if err != nil {
		return nil, err
	}
	out := make([]app.Request, len(ps))
	f.mu.Lock()
	for i, p := range ps {
		f.next++
		out[i] = app.Request{ID: testID(9000 + f.next), Params: p, RequestedBy: "alice"}
	}
	f.mu.Unlock()
	if err := f.db.CreateRequests(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakeService) Retry(ctx context.Context, id string) (app.Request, error) {
	if err := f.record("retry " + id); err != nil {
		return app.Request{}, err
	}
	return f.db.Transition(ctx, app.Change{ID: id, To: app.StatusQueued})
}

func (f *fakeService) Cancel(ctx context.Context, id string) (app.Request, error) {
	if err := f.record("cancel " + id); err != nil {
		return app.Request{}, err
	}
	return f.db.Transition(ctx, app.Change{ID: id, To: app.StatusCancelled})
}

func (f *fakeService) Delete(ctx context.Context, id string) error {
	if err := f.record("delete " + id); err != nil {
		return err
	}
	return f.db.SoftDeleteRequest(ctx, id)
}

func (f *fakeService) UndoDelete(ctx context.Context, id string) (app.Request, error) {
	if err := f.record("undo delete " + id); err != nil {
		return app.Request{}, err
	}
	return f.db.RestoreRequest(ctx, id, testNow.Add(-app.UndoWindow), app.Activity{Kind: app.ActivityRestored, Level: app.LevelInfo, Message: "delete undone"})
}

func (f *fakeService) UndoCancel(ctx context.Context, id string) (app.Request, error) {
	if err := f.record("undo cancel " + id); err != nil {
		return app.Request{}, err
	}
	return f.db.UndoCancel(ctx, id, testNow.Add(-app.UndoWindow), app.Activity{Kind: app.ActivityUncancelled, Level: app.LevelInfo, Message: "cancel undone"})
}

func (f *fakeService) Remix(ctx context.Context, id string) (app.ParamsInput, error) {
	if err := f.record("remix " + id); err != nil {
		return app.ParamsInput{}, err
	}
	r, err := f.db.GetRequest(ctx, id)
	p := r.Params
	return app.ParamsInput{Prompt: p.Prompt, NegativePrompt: p.NegativePrompt, Model: p.Model, Resolution: p.Resolution(), AspectRatio: p.AspectRatio, Count: 1}, err
}

func (f *fakeService) ReuseSeed(ctx context.Context, id string) (app.ParamsInput, error) {
	in, err := f.Remix(ctx, id)
	r, _ := f.db.GetRequest(ctx, id)
	seed := r.Params.Seed
	in.Seed = &seed
	return in, err
}

// fakeSecrets answers like the keyring store, without a keyring.
type fakeSecrets struct {
	mu      sync.Mutex
	values  map[string]string
	expires time.Time
	rotated int
}

func newFakeSecrets() *fakeSecrets {
	return &fakeSecrets{values: map[string]string{app.SecretN8NAPIKey: "n8n-key", app.SecretCallbackToken: "old-token"}}
}

func (f *fakeSecrets) Get(_ context.Context, name string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[name]
	if !ok {
		return "", "", app.ReasonErrorf(app.ENOTFOUND, "secret_missing", "%s is not set", name)
	}
	return v, app.SourceKeyring, nil
}

func (f *fakeSecrets) Set(_ context.Context, name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[name] = value
	return nil
}

func (f *fakeSecrets) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.values, name)
	return nil
}

func (f *fakeSecrets) Status(context.Context) ([]app.SecretStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []app.SecretStatus
	for _, n := range app.SecretNames {
		st := app.SecretStatus{Name: n, Source: app.SourceMissing}
		if v, ok := f.values[n]; ok {
			st.Source, st.Fingerprint = app.SourceKeyring, app.Fingerprint(v)
		}
		if n == app.SecretCallbackTokenPrevious && !f.expires.IsZero() {
			e := f.expires
			st.ExpiresAt = &e
		}
		out = append(out, st)
	}
	return out, nil
}

func (f *fakeSecrets) RotateCallbackToken(_ context.Context, grace time.Duration) (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotated++
	f.values[app.SecretCallbackTokenPrevious] = f.values[app.SecretCallbackToken]
	tok := fmt.Sprintf("new-token-%d-AbCdEfGhIjKlMnOpQrStUvWxYz012345", f.rotated)
	f.values[app.SecretCallbackToken] = tok
	f.expires = testNow.Add(grace)
	return tok, f.expires, nil
}

func (f *fakeSecrets) ValidateCallbackToken(_ context.Context, presented string) (bool, error) {
	return false, errors.New("not used by the dashboard")
}

type fakeERP struct{ err error }

func (f fakeERP) Check(context.Context) (app.ERPCheck, error) {
	return app.ERPCheck{URL: "https://odoo.example.com", Version: "19.0", Protocol: "json2", User: "admin",
		Items: []app.ERPCheckItem{{Name: "reachable", OK: true, Detail: "HTTP 200"}, {Name: "login", OK: true, Detail: "key accepted"}}}, f.err
}

// rig is a dashboard on a real store with fakes around it.
type rig struct {
	db      *store.DB
	svc     *fakeService
	secrets *fakeSecrets
	b       Backend
}

func newRig(t testing.TB, seeded bool) *rig {
	t.Helper()
	clock := fixedClock{testNow}
	db := openStore(t, clock)
	if seeded {
		seedRequests(t, db)
	}
	cfg := app.DefaultConfig()
	cfg.Odoo.URL = "https://odoo.example.com"
	r := &rig{db: db, svc: &fakeService{db: db}, secrets: newFakeSecrets()}
	r.b = Backend{
		Store: db, Service: r.svc, Secrets: r.secrets, Config: cfg, Profile: "default", Clock: clock,
		Listener: func() ListenerStatus {
			return ListenerStatus{Address: "127.0.0.1:8787", PublicURL: "https://fox.trycloudflare.com", Tunnel: "cloudflared", Checked: true}
		},
		ERP:    fakeERP{},
		Getenv: func(k string) string { return map[string]string{"TERM": "xterm-256color"}[k] },
	}
	return r
}

// model builds a dashboard at w×h with the first page, header and detail
// loaded, exactly as Init and the first resize would.
func (r *rig) model(t testing.TB, w, h int) Model {
	t.Helper()
	m := New(context.Background(), r.b)
	m.noTicks = true
	m = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return settle(t, m, m.Init())
}

// step applies one message and settles what it started.
func step(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	next, cmd := m.Update(msg)
	return settle(t, next.(Model), cmd)
}

func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m = step(t, m, keyMsg(k))
	}
	return m
}

// keyMsg builds the KeyPressMsg a terminal sends for k ("n", "ctrl+s",
// "enter", "tab", "esc", …).
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	if len(k) > 5 && k[:5] == "ctrl+" {
		return tea.KeyPressMsg{Code: rune(k[5]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	if r >= 'A' && r <= 'Z' {
		return tea.KeyPressMsg{Code: r + 32, ShiftedCode: r, Mod: tea.ModShift, Text: k}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		if r == ' ' {
			m = step(t, m, keyMsg("space"))
			continue
		}
		m = step(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// settle runs cmd and feeds every message it produces back into Update,
// until nothing is left (a few rounds at most).
func settle(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	for round := 0; cmd != nil && round < 10; round++ {
		var next []tea.Cmd
		for _, msg := range runCmd(t, cmd) {
			var c tea.Cmd
			mm, c := m.Update(msg)
			m = mm.(Model)
			next = append(next, c)
		}
		cmd = tea.Batch(next...)
	}
	return m
}

// runCmd executes cmd, flattening batches, and returns the messages.
// Leaves run concurrently with a deadline: a Cmd that blocks (a bus wait
// with nothing published) is dropped rather than hanging the test.
func runCmd(t testing.TB, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	ch := make(chan []tea.Msg, 1)
	go func() { ch <- []tea.Msg{cmd()} }()
	var first []tea.Msg
	select {
	case first = <-ch:
	case <-time.After(3 * time.Second):
		return nil
	}
	var out []tea.Msg
	for _, msg := range first {
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			var wg sync.WaitGroup
			parts := make([][]tea.Msg, len(msg))
			for i, c := range msg {
				wg.Add(1)
				go func() { defer wg.Done(); parts[i] = runCmd(t, c) }()
			}
			wg.Wait()
			for _, p := range parts {
				out = append(out, p...)
			}
		default:
			out = append(out, msg)
		}
	}
	return out
}

// msgTypes names the messages a Cmd produced, for assertions.
func msgTypes(msgs []tea.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprintf("%T", m)
	}
	return out
}

// openStoreAt opens a second connection to db's file: another process.
func openStoreAt(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	other, err := store.Open(context.Background(), db.Path(), store.Options{Clock: fixedClock{testNow}})
	if err != nil {
		t.Fatalf("open second store: %v", err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}
