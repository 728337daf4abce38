package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// tmuxSession drives the real binary in a detached tmux window: the only
// harness with a real TTY (p.Run without one fails with "error opening TTY").
type tmuxSession struct {
	t    *testing.T
	name string
}

func (s tmuxSession) run(args ...string) string {
	s.t.Helper()
	// Each session has its own tmux server (-L): tests in other packages run
	// at the same time, and a shared server that exits when another test
	// kills its last session would fail this one's next command.
	out, err := exec.Command("tmux", append([]string{"-L", s.name}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

func (s tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", s.name) }

// waitFor polls the pane until it contains every want.
func (s tmuxSession) waitFor(what string, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// built is the binary, built once per test run for every tmux test.
var built struct {
	sync.Mutex
	dir, bin string
	out      []byte
	err      error
}

// buildBinary builds influencegen from the module root once, or skips.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if built.bin == "" && built.err == nil {
		built.dir, built.err = os.MkdirTemp("", "influencegen-ui-e2e-")
		if built.err == nil {
			bin := filepath.Join(built.dir, "influencegen")
			cmd := exec.Command("go", "build", "-o", bin, ".")
			cmd.Dir = ".."
			if built.out, built.err = cmd.CombinedOutput(); built.err == nil {
				built.bin = bin
			}
		}
	}
	if built.err != nil {
		t.Skipf("the influencegen binary does not build yet: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// TestTheRealBinaryComposesAndShowsTheResultInTmux is the "done when" of
// the dashboard: start influencegen, press n, type a prompt, submit; a
// fake n8n receives it; its result is written by another process (this
// test) and the dashboard shows completed and the picture within seconds.
func TestTheRealBinaryComposesAndShowsTheResultInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	fake := n8ntest.New(t, n8ntest.Options{APIKey: "e2e-key"})
	cfg := fmt.Sprintf("[n8n]\nwebhook_url = %q\n\n[callback]\nlisten = \"127.0.0.1:0\"\n\n[ui]\nnotify = false\n", fake.WebhookURL)
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := tmuxSession{t: t, name: fmt.Sprintf("ig-e2e-%d", os.Getpid())}
	start := time.Now()
	s.run("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40",
		"env", "INFLUENCEGEN_HOME="+home, "INFLUENCEGEN_N8N_API_KEY=e2e-key", "INFLUENCEGEN_CALLBACK_TOKEN=e2e-token",
		"TERM=xterm-256color", "COLORTERM=truecolor", bin)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.name, "kill-server").Run() })
	s.waitFor("the first frame", "InfluenceGen", "No requests yet")
	t.Logf("first frame visible after %v (tmux start, process start, store open, first page)", time.Since(start).Round(time.Millisecond))

	s.keys("n")
	s.waitFor("the composer", "New request")
	s.keys("-l", "a red fox in fresh snow")
	s.keys("C-s")
	deadline := time.Now().Add(15 * time.Second)
	for fake.Count() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the fake n8n never received the webhook; screen:\n%s", s.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	id, _ := fake.Requests()[0].JSON()["ai_generation_request_id"].(string)
	s.waitFor("the row to be processing", "processing", "a red fox in fresh snow")

	// The result, written by another process (as `serve` would): the
	// dashboard notices through PRAGMA data_version.
	db, err := store.Open(context.Background(), filepath.Join(home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatalf("open the binary's database: %v", err)
	}
	defer db.Close()
	path, sha := writeTestPNG(t, t.TempDir())
	written := time.Now()
	completeWithImage(t, db, id, path, sha)
	s.keys("Enter") // show the detail full screen (narrow) or focus it (wide)
	scr := s.waitFor("the completed row and its picture", "completed", "▀")
	t.Logf("callback written → completed row and picture on screen in %v", time.Since(written).Round(time.Millisecond))
	if r, _ := db.GetRequest(context.Background(), id); r.Status != app.StatusCompleted {
		t.Fatalf("request is %s", r.Status)
	}

	pid := strings.TrimSpace(s.run("display-message", "-p", "-t", s.name, "#{pane_pid}"))
	if status, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Logf("dashboard %s", strings.Join(strings.Fields(line), " "))
			}
		}
	}
	s.keys("q")
	_ = scr
}

// TestMeasureTheDashboardOver100kRows is a documented load run, not a
// check: INFLUENCEGEN_UI_MEASURE=1 go test ./ui -run Measure -v
// It starts the real binary on a database of 100,000 requests, scrolls to
// both ends and reports the first-frame time and the resident memory.
func TestMeasureTheDashboardOver100kRows(t *testing.T) {
	if os.Getenv("INFLUENCEGEN_UI_MEASURE") == "" {
		t.Skip("set INFLUENCEGEN_UI_MEASURE=1 to run the load measurement")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillRequests(t, db, 100_000)
	db.Close()
	s := tmuxSession{t: t, name: fmt.Sprintf("ig-measure-%d", os.Getpid())}
	start := time.Now()
	s.run("new-session", "-d", "-s", s.name, "-x", "160", "-y", "48",
		"env", "INFLUENCEGEN_HOME="+home, "INFLUENCEGEN_N8N_API_KEY=k", "TERM=xterm-256color", "COLORTERM=truecolor", bin)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.name, "kill-server").Run() })
	s.waitFor("the first frame", "request number 100000")
	t.Logf("first frame with 100,000 requests after %v", time.Since(start).Round(time.Millisecond))
	rss := func(when string) {
		pid := strings.TrimSpace(s.run("display-message", "-p", "-t", s.name, "#{pane_pid}"))
		status, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Logf("%s: %s", when, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	rss("after the first frame")
	s.keys("G")
	s.waitFor("the oldest request", "request number 1,")
	for range 20 {
		s.keys("PageUp")
	}
	s.keys("g")
	s.waitFor("the newest request again", "request number 100000")
	rss("after scrolling to both ends")
	s.keys("q")
}
