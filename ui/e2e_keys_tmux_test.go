package ui

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startDemo runs `influencegen demo` (the simulated n8n, secrets in
// memory) in a detached tmux pane of w×h. With light set, the pane's
// background is white before the binary starts, so tmux answers the
// dashboard's background-colour query with white.
func startDemo(t *testing.T, w, h int, light bool) tmuxSession {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	if err := os.WriteFile(home+"/config.toml", []byte("[ui]\nnotify = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := tmuxSession{t: t, name: fmt.Sprintf("ig-keys-%d-%d", os.Getpid(), time.Now().UnixNano())}
	s.run("new-session", "-d", "-s", s.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "cat")
	s.run("set-option", "-t", s.name, "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.name, "kill-server").Run() })
	if light {
		s.run("select-pane", "-t", s.name, "-P", "bg=#ffffff,fg=#000000")
	}
	s.run("respawn-pane", "-k", "-t", s.name,
		"env", "INFLUENCEGEN_HOME="+home, "TERM=xterm-256color", "COLORTERM=truecolor", bin, "demo")
	s.waitFor("the first frame", "InfluenceGen", "DEMO")
	return s
}

// styledScreen is the pane with its colours as SGR sequences.
func (s tmuxSession) styledScreen() string { return s.run("capture-pane", "-e", "-p", "-t", s.name) }

var callbackPrint = regexp.MustCompile(`callback-token\s+\S+\s+([0-9a-f]{8})`)

func (s tmuxSession) callbackFingerprint() string {
	s.t.Helper()
	scr := s.waitFor("the admin screen", "Secrets", "callback-token ")
	m := callbackPrint.FindStringSubmatch(scr)
	if m == nil {
		s.t.Fatalf("no callback-token fingerprint on the admin screen:\n%s", scr)
	}
	return m[1]
}

// TestKeysTypedAfterSubmitNeverReachAnotherScreen is issue 12's first
// finding, replayed on the real binary: keep typing after ctrl+s, at 20 ms
// a key, and nothing but the composer may see those keys.
func TestKeysTypedAfterSubmitNeverReachAnotherScreen(t *testing.T) {
	s := startDemo(t, 100, 30, false)
	s.keys("a")
	before := s.callbackFingerprint()
	s.keys("Escape")
	s.waitFor("the list", "No requests yet")

	s.keys("n")
	s.waitFor("the composer", "New request")
	s.keys("-l", "a red fox in fresh snow")
	s.keys("C-s")
	for _, k := range "zzzz?ae" {
		// the rhythm of someone still typing: this pacing is the input under
		// test, not a wait for the program
		time.Sleep(20 * time.Millisecond)
		s.keys("-l", string(k))
		scr := s.screen()
		if strings.Contains(scr, "Keys  (esc") || strings.Contains(scr, "values are never shown") {
			t.Fatalf("after %q another screen opened:\n%s", k, scr)
		}
	}
	scr := s.waitFor("the list with the new request", "a red fox in fresh snow", "0 All")
	if strings.Contains(scr, "New request") {
		t.Fatalf("the composer is still open:\n%s", scr)
	}
	// a named key is deliberate and ends the hold (not Escape: ESC then a
	// letter reads as alt+letter)
	s.keys("Up")
	s.keys("a")
	if after := s.callbackFingerprint(); after != before {
		t.Fatalf("the callback token changed: %s → %s", before, after)
	}
}

func TestAt80ColumnsTheFooterKeepsHelpAndQuitAndTab8IsShown(t *testing.T) {
	s := startDemo(t, 80, 24, false)
	scr := s.waitFor("the list", "No requests yet")
	lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	if footer := lines[len(lines)-1]; !strings.Contains(footer, "? help") || !strings.Contains(footer, "q quit") {
		t.Fatalf("footer %q", footer)
	}
	s.keys("8")
	s.waitFor("the cancelled tab", "8 Cancel")
	if st, _ := styleAt(s.styledScreen(), "Cancel"); !st.underline {
		t.Fatalf("the Cancelled tab is not highlighted (underlined):\n%q", s.styledScreen())
	}
}

// cellStyle is what SGR sequences set for one character.
type cellStyle struct {
	underline    bool
	fg, bg       [3]int
	fgSet, bgSet bool
	bgBlack      bool // ANSI 40 or 256-colour 0/16
}

var sgrSeq = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// styleAt follows the SGR sequences tmux emits before the first
// character of word and returns the style it is drawn in.
func styleAt(styled, word string) (cellStyle, bool) {
	at := strings.Index(styled, word)
	if at < 0 {
		return cellStyle{}, false
	}
	var st cellStyle
	num := func(s string) int {
		n := 0
		fmt.Sscan(s, &n)
		return n
	}
	for _, m := range sgrSeq.FindAllStringSubmatch(styled[:at], -1) {
		p := strings.Split(m[1], ";")
		for i := 0; i < len(p); i++ {
			switch p[i] {
			case "", "0":
				st = cellStyle{}
			case "4":
				st.underline = true
			case "24":
				st.underline = false
			case "39":
				st.fgSet = false
			case "49":
				st.bgSet, st.bgBlack = false, false
			case "40":
				st.bgSet, st.bgBlack = true, true
			case "38", "48", "58":
				which := p[i]
				var rgb [3]int
				black := false
				switch {
				case i+4 < len(p) && p[i+1] == "2":
					rgb = [3]int{num(p[i+2]), num(p[i+3]), num(p[i+4])}
					black = rgb == [3]int{}
					i += 4
				case i+2 < len(p) && p[i+1] == "5":
					black = p[i+2] == "0" || p[i+2] == "16"
					i += 2
				}
				switch which {
				case "38":
					st.fg, st.fgSet = rgb, true
				case "48":
					st.bg, st.bgSet, st.bgBlack = rgb, true, black
				}
			}
		}
	}
	return st, true
}

func TestInALightTerminalTheTypedPromptIsDarkOnLight(t *testing.T) {
	s := startDemo(t, 100, 30, true)
	s.keys("n")
	s.waitFor("the composer", "New request")
	s.keys("-l", "quokka")
	s.waitFor("the typed text", "quokka")
	st, ok := styleAt(s.styledScreen(), "quokka")
	if !ok || !st.fgSet {
		t.Fatalf("the typed text has no explicit colour:\n%q", s.styledScreen())
	}
	if sum := st.fg[0] + st.fg[1] + st.fg[2]; sum > 3*100 {
		t.Fatalf("typed text is light %v in a light terminal", st.fg)
	}
	if st.bgBlack || st.bgSet && st.bg[0]+st.bg[1]+st.bg[2] < 3*180 {
		t.Fatalf("typed text sits on a dark background %v", st.bg)
	}
}

func TestQuestionMarkThenQReturnsToTheList(t *testing.T) {
	s := startDemo(t, 80, 24, false)
	s.waitFor("the list", "No requests yet")
	s.keys("?")
	s.waitFor("the help", "Keys")
	s.keys("q")
	scr := s.waitFor("the list again", "No requests yet")
	if strings.Contains(scr, "Keys  (esc") {
		t.Fatalf("help still open:\n%s", scr)
	}
	if !strings.Contains(scr, "? help") {
		t.Fatalf("the list's footer is not back:\n%s", scr)
	}
}
