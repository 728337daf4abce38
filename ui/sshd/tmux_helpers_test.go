package sshd

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives a real terminal (the same harness as ui's tmux test).
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
	deadline := time.Now().Add(30 * time.Second)
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
		time.Sleep(20 * time.Millisecond) // polling a pane: tmux has no change notification
	}
}

// buildBinary builds influencegen from the module root, or skips.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "influencegen")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("the influencegen binary does not build: %v\n%s", err, out)
	}
	return bin
}
