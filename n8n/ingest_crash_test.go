package n8n

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

const crashChildEnv = "INFLUENCEGEN_TEST_CRASH_CHILD_DIR"

// TestCrashChild is the child half of TestAckedCallbackSurvivesKill9: it
// serves callbacks without an ingest worker and waits to be killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestAckedCallbackSurvivesKill9")
	}
	h := newHarnessAt(t, dir)
	req := h.request(app.StatusProcessing)
	ready := filepath.Join(dir, "ready")
	if err := os.WriteFile(ready+".tmp", []byte(h.base+" "+req.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ready+".tmp", ready); err != nil {
		t.Fatal(err)
	}
	select {} // until SIGKILL
}

func TestAckedCallbackSurvivesKill9(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), crashChildEnv+"="+dir)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	}()

	var base, id string
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "ready"))
		if err == nil {
			base, id, _ = strings.Cut(string(b), " ")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not start its listener")
		}
		time.Sleep(20 * time.Millisecond)
	}

	pic := testPNG(t, 10, 10, 42)
	body := mustJSON(t, successBody(id, pic))
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, base+app.CallbackPath, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Callback-Token", testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST to child: %v", err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("child answered %d, want 200", resp.StatusCode)
	}
	// The ack came after the commit; the child never ran ingest. Kill -9.
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed = true

	h := newHarnessAt(t, dir)
	if d, i := h.count("deliveries"), h.count("images"); d != 1 || i != 0 {
		t.Fatalf("after the kill: %d deliveries, %d images; want 1 pending delivery and no image", d, i)
	}
	if n := h.process(); n != 1 {
		t.Fatalf("restart processed %d deliveries, want 1", n)
	}
	h.process()
	r := h.get(id)
	imgs, err := h.db.Images(t.Context(), id)
	if err != nil || r.Status != app.StatusCompleted || len(imgs) != 1 || imgs[0].SHA256 != sha(pic) {
		t.Fatalf("after restart: %s with %d images (%v); want completed with the image exactly once", r.Status, len(imgs), err)
	}
	got := h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken}, body)
	wantStatus(t, got, http.StatusOK)
	if got.body["duplicate"] != true || h.count("images") != 1 {
		t.Fatalf("re-sent callback: %s, %d images; want duplicate and still 1 image", got.raw, h.count("images"))
	}
}
