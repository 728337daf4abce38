package sshd

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
)

// TestVTScreenFollowsTheRenderer checks the load harness's client-side
// screen against Bubble Tea's own renderer: each frame goes through
// ultraviolet's TerminalRenderer (with the optimisations a session gets:
// scroll regions, insert/delete, erases, tabs, and REP where the terminal
// type allows it) and the screen must then read exactly as the frame.
func TestVTScreenFollowsTheRenderer(t *testing.T) {
	const w, h = 160, 48
	list := func(first int, marker string) string {
		var b strings.Builder
		b.WriteString("InfluenceGen · default   processing 2000  ⠋ " + marker + "\n")
		b.WriteString(strings.Repeat("─", w) + "\n")
		for i := range h - 4 {
			fmt.Fprintf(&b, "  %-8s benchmark prompt %d\tsdxl  1024x1024  日本 %s\n", "01JDX"+fmt.Sprint(first+i), first+i, strings.Repeat("·", (first+i)%40))
		}
		b.WriteString(strings.Repeat(" ", w-10) + "end\n")
		b.WriteString("? help  q quit")
		return b.String()
	}
	help := "Keys  (esc, q or ? closes this)\n\nRequests\n" + strings.Repeat("j/k  move        n  new request\n", 30)
	frames := []string{
		list(0, "a"), help, list(0, "b"), list(3, "b"), list(1, "c"),
		strings.Replace(list(1, "c"), "benchmark", "benchmarks", 7), list(1, "c"), "", list(40, "d"),
	}
	for _, term := range []string{"xterm-256color", "tmux-256color"} {
		t.Run(term, func(t *testing.T) {
			var out bytes.Buffer
			r := uv.NewTerminalRenderer(&out, []string{"TERM=" + term})
			r.SetMapNewline(true)
			r.SetScrollOptim(true)
			r.SetTabStops(w)
			r.Resize(w, h)
			r.EnterAltScreen()
			buf := uv.NewScreenBuffer(w, h)
			vt := newVTScreen(w, h)
			for i, frame := range frames {
				buf.Clear()
				uv.NewStyledString(frame).Draw(buf, buf.Bounds())
				r.Render(buf.RenderBuffer)
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				// The SSH session's emulated pty turns \n into \r\n.
				vt.feed(bytes.ReplaceAll(out.Bytes(), []byte("\n"), []byte("\r\n")))
				out.Reset()
				if got, want := vt.text(), screenText(buf, h); got != want {
					t.Fatalf("frame %d: the screen reads\n%s\nwant\n%s", i, got, want)
				}
			}
			if len(vt.unhandled) > 0 {
				t.Errorf("sequences the screen does not model: %v", vt.unhandled)
			}
		})
	}
}

// screenText is what buf shows, in vtScreen.text's form.
func screenText(buf uv.ScreenBuffer, h int) string {
	var b strings.Builder
	for y := range h {
		var line strings.Builder
		for x := range buf.Width() {
			if c := buf.CellAt(x, y); c != nil && c.Width > 0 {
				line.WriteString(c.Content) // a wide character's second cell has width 0
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
