package n8n

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// The demo smoke test: the headless demo backend (simulated n8n, real
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
