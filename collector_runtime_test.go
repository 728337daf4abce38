package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/ui/cli"
)

// Issue 11, item 3: serve runs the collector at start: a file a crash left
// between an ingest's Save and its commit (no row references it), older
// than the grace period, is gone soon after serve starts; a young one stays.
func TestServeCollectsOldUnreferencedImageFilesAtStart(t *testing.T) {
	home := t.TempDir()
	fake := n8ntest.New(t, n8ntest.Options{})
	t.Setenv("INFLUENCEGEN_HOME", home)
	t.Setenv("INFLUENCEGEN_PROFILE", "collect")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", "collect-token")
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.WebhookURL)
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", freeAddr(t))

	sub := filepath.Join(home, "images", "ab")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	leftOld, leftYoung := filepath.Join(sub, "ab01.png"), filepath.Join(sub, "ab02.png")
	for _, p := range []string{leftOld, leftYoung} {
		if err := os.WriteFile(p, pngBytes(t), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(leftOld, old, old); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	serveDone := make(chan int, 1)
	go func() {
		env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
		var out, errOut syncBuffer
		env.Stdout, env.Stderr = &out, &errOut
		root := cli.NewRoot(env, nil)
		root.SetArgs([]string{"serve"})
		serveDone <- cli.Execute(ctx, root, env)
	}()
	defer func() {
		cancel()
		if code := <-serveDone; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	waitFor(t, 20*time.Second, func() bool {
		_, err := os.Stat(leftOld)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(leftYoung); err != nil {
		t.Errorf("the young unreferenced file was removed: %v", err)
	}
}
