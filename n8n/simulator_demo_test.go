package n8n

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// The demo smoke test: the demo backend below (simulated n8n, real
// listener with token auth, ingest, sender) on a real SQLite file. Five
// requests must each end completed or failed within 30 s, with the images
// of the completed ones on disk.
func TestDemoBackendTakesFiveRequestsToAFinalStateWithImagesOnDisk(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	secrets := store.NewSecrets("demo", db, store.SecretsOptions{Memory: true, Getenv: func(string) string { return "" }})
	for name, v := range map[string]string{app.SecretN8NAPIKey: "demo-api-key", app.SecretCallbackToken: "demo-callback-token"} {
		if err := secrets.Set(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	cfg := app.DefaultConfig()
	cfg.Callback.Listen = "127.0.0.1:0"
	backend, err := StartDemoBackend(ctx, DemoBackendOptions{
		Config: cfg, Store: db, Secrets: secrets, Files: store.NewImageFiles(filepath.Join(home, "images")),
		Bus: app.NewBus(), Version: "test",
		Simulator: SimulatorOptions{Delay: func() time.Duration { return 20 * time.Millisecond }, RandSeed: 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = backend.Close() })

	var ids []string
	for _, prompt := range []string{"a red fox", "a blue whale", "this one should FAIL", "a green field"} {
		count := 1
		if prompt == "a green field" {
			count = 2 // a batch: each request is its own webhook call
		}
		reqs, err := backend.Service.Submit(ctx, app.ParamsInput{Prompt: prompt, Resolution: "256x192", Count: count})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("submitted %d requests, want 5", len(ids))
	}

	deadline := time.Now().Add(30 * time.Second)
	final := map[string]app.Request{}
	for len(final) < len(ids) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 5 requests finished within 30 s: %+v (simulator %+v)", len(final), final, backend.Simulator.Stats())
		}
		for _, id := range ids {
			r, err := db.GetRequest(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == app.StatusCompleted || r.Status == app.StatusFailed {
				final[id] = r
			}
		}
		time.Sleep(20 * time.Millisecond) // polling the store with a deadline
	}

	t.Logf("all final after %s", time.Since(deadline.Add(-30*time.Second)))
	sources := map[string]bool{}
	completed := 0
	for _, r := range final {
		if r.Status == app.StatusFailed {
			if r.ErrorMessage == "" {
				t.Errorf("%s failed without a message", r.ID)
			}
			continue
		}
		completed++
		imgs, err := db.Images(ctx, r.ID)
		if err != nil || len(imgs) == 0 {
			t.Fatalf("%s completed without images (%v)", r.ID, err)
		}
		for _, img := range imgs {
			fi, err := os.Stat(img.Path)
			if err != nil || fi.Size() != img.Bytes || img.Width != 256 || img.Height != 192 {
				t.Errorf("image %s: %+v on disk %v, %v", img.SHA256, img, fi, err)
			}
			sources[img.Source] = true
		}
	}
	for _, r := range final {
		if strings.Contains(r.Params.Prompt, "FAIL") && (r.Status != app.StatusFailed || !strings.Contains(r.ErrorMessage, "FAIL")) {
			t.Errorf("the FAIL prompt ended %s (%q)", r.Status, r.ErrorMessage)
		}
	}
	if completed < 3 {
		t.Fatalf("only %d completed; the simulator should fail just the FAIL prompt with this seed", completed)
	}
	if !sources["base64"] || !sources["url"] {
		t.Errorf("images came only as %v; the simulator alternates base64 and a URL it serves", sources)
	}
}

// The demo smoke test's backend: the simulated n8n with the real listener,
// auth, ingest, sender and sweeper on a real store, and no dashboard. The
// binary assembles the same parts in main's startRuntime (which package n8n
// cannot import); this fixture keeps the smoke test inside the package.

// DemoBackendOptions configure StartDemoBackend. Store, Secrets and Files
// are the real ones (the demo profile's); the simulator options tune speed
// and failures (tests use short delays).
type DemoBackendOptions struct {
	Config    app.Config // callback.listen may be 127.0.0.1:0; n8n.* is replaced
	Store     app.Store
	Secrets   app.Secrets
	Files     app.ImageFiles
	Bus       *app.Bus
	Clock     app.Clock
	Log       *slog.Logger
	Version   string
	Simulator SimulatorOptions // secret funcs default to reading Secrets
}

// DemoBackend is the whole program minus the dashboard: the simulated n8n,
// the real callback listener with its auth, the ingest worker, and the
// sender and sweeper behind the request service.
type DemoBackend struct {
	Service   *app.Service
	Simulator *Simulator
	Listener  *Listener
	Config    app.Config // as running: webhook at the simulator, public URL at the listener

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// StartDemoBackend starts the backend and returns once the listener is
// bound; Close stops it in reverse order.
func StartDemoBackend(ctx context.Context, o DemoBackendOptions) (*DemoBackend, error) {
	if o.Store == nil || o.Secrets == nil || o.Files == nil {
		return nil, app.Errorf(app.EINTERNAL, "demo backend needs a store, secrets and an image folder")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = app.SystemClock{}
	}
	read := func(name string) func() string {
		return func() string {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, _, err := o.Secrets.Get(rctx, name)
			if err != nil {
				return ""
			}
			return v
		}
	}
	so := o.Simulator
	if so.APIKey == nil {
		so.APIKey = read(app.SecretN8NAPIKey)
	}
	if so.CallbackToken == nil {
		so.CallbackToken = read(app.SecretCallbackToken)
	}
	if so.WebhookSecret == nil {
		so.WebhookSecret = read(app.SecretWebhookSecret)
	}
	if so.Log == nil {
		so.Log = o.Log
	}
	sim := NewSimulator(so)
	if err := sim.Start(); err != nil {
		return nil, err
	}
	cfg := o.Config
	cfg.N8N.WebhookURL, cfg.N8N.APIKeyHeader = sim.URL(), sim.opts.APIKeyHeader

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &DemoBackend{Simulator: sim, cancel: cancel}
	ingester := NewIngester(IngestOptions{Store: o.Store, Files: o.Files, Bus: o.Bus, Clock: o.Clock, Log: o.Log,
		Fetcher: NewFetcher(NewImagePolicy(sim.URL(), cfg.Callback.AllowImageHosts), o.Clock, "influencegen/"+o.Version)})
	l, err := OpenListener(ListenerOptions{Config: cfg.Callback, N8NWebhookURL: sim.URL(), Version: o.Version,
		Store: o.Store, Secrets: o.Secrets, Bus: o.Bus, Clock: o.Clock, Log: o.Log, Committed: ingester.Notify})
	if err != nil {
		cancel()
		_ = sim.Close()
		return nil, err
	}
	b.Listener = l
	cfg.Callback.Listen = l.Addr()
	cfg.Callback.PublicURL = "http://" + l.Addr()
	b.Config = cfg
	b.Service = &app.Service{Config: cfg, Store: o.Store, Bus: o.Bus, Clock: o.Clock, Log: o.Log, User: "demo",
		Workflow:    NewWorkflow(cfg, o.Secrets, o.Log, o.Version),
		CallbackURL: func() string { return cfg.Callback.PublicURL + app.CallbackPath }}
	sender := &app.Sender{Service: b.Service}
	sweeper := &app.Sweeper{Service: b.Service}
	b.wg.Add(3)
	go func() { defer b.wg.Done(); ingester.Run(runCtx) }()
	go func() { defer b.wg.Done(); _ = sender.Run(runCtx) }()
	go func() { defer b.wg.Done(); _ = sweeper.Run(runCtx) }()
	o.Log.Info("demo backend started", "webhook", sim.URL(), "listener", l.Addr())
	return b, nil
}

// Close stops accepting callbacks, then the workers, then the simulator.
func (b *DemoBackend) Close() error {
	var err error
	b.once.Do(func() {
		// The simulator goes first: no new callbacks are started while the
		// listener drains the ones in flight.
		simErr := b.Simulator.Close()
		lErr := b.Listener.Close()
		b.cancel()
		b.wg.Wait()
		err = errors.Join(simErr, lErr)
	})
	return err
}
