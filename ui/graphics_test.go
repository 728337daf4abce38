package ui

import (
	"context"
	"image"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestGraphicsProtocolDetection(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		want     graphicsProtocol
		wantTmux bool
	}{
		{"a plain xterm gets half-blocks", map[string]string{"TERM": "xterm-256color"}, protoHalfBlocks, false},
		{"kitty is recognised by its window id", map[string]string{"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}, protoKitty, false},
		{"ghostty speaks kitty graphics", map[string]string{"TERM_PROGRAM": "ghostty"}, protoKitty, false},
		{"iTerm2 gets inline images", map[string]string{"TERM_PROGRAM": "iTerm.app"}, protoITerm2, false},
		{"WezTerm gets inline images", map[string]string{"TERM_PROGRAM": "WezTerm"}, protoITerm2, false},
		{"foot gets sixel", map[string]string{"TERM": "foot"}, protoSixel, false},
		{"iTerm2 inside tmux is seen through LC_TERMINAL", map[string]string{"TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0", "LC_TERMINAL": "iTerm2"}, protoITerm2, true},
		{"tmux alone gets half-blocks", map[string]string{"TERM": "tmux-256color", "TMUX": "/tmp/x"}, protoHalfBlocks, true},
		{"INFLUENCEGEN_GRAPHICS overrides detection", map[string]string{"TERM_PROGRAM": "iTerm.app", "INFLUENCEGEN_GRAPHICS": "halfblocks"}, protoHalfBlocks, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := detectGraphics(func(k string) string { return tt.env[k] })
			if g.proto != tt.want || g.tmux != tt.wantTmux {
				t.Fatalf("got %s tmux=%v, want %s tmux=%v", g.proto, g.tmux, tt.want, tt.wantTmux)
			}
		})
	}
}

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x * 10), G: uint8(y * 10), B: 200, A: 255})
		}
	}
	return img
}

func TestHalfBlocksDrawTwoPixelsPerCell(t *testing.T) {
	out := halfBlocks(testImage(4, 4))
	lines := strings.Split(out, "\n")
	if len(lines) != 2 || strings.Count(lines[0], "▀") != 4 {
		t.Fatalf("got %q", out)
	}
	if !strings.Contains(lines[0], "\x1b[38;2;0;0;200;48;2;0;10;200m▀") {
		t.Fatalf("first cell should be top (0,0,200) over bottom (0,10,200): %q", lines[0])
	}
}

func TestFitCellsKeepsTheAspectRatio(t *testing.T) {
	for _, tc := range []struct{ w, h, mc, mr, wc, wr int }{
		{1024, 1024, 60, 20, 40, 20},
		{1920, 1080, 60, 20, 60, 17},
		{768, 1344, 60, 20, 23, 20},
	} {
		c, r := fitCells(tc.w, tc.h, tc.mc, tc.mr)
		if c != tc.wc || r != tc.wr {
			t.Errorf("%dx%d in %dx%d: got %dx%d, want %dx%d", tc.w, tc.h, tc.mc, tc.mr, c, r, tc.wc, tc.wr)
		}
	}
}

func TestInlineProtocolsProduceTheirSequences(t *testing.T) {
	img := testImage(20, 12)
	kitty, err := encodeInline(protoKitty, img, 10, 5)
	if err != nil || !strings.HasPrefix(kitty, "\x1b_Ga=d") || !strings.Contains(kitty, "a=T,f=100") || !strings.HasSuffix(kitty, "\x1b\\") {
		t.Fatalf("kitty: %v %q", err, kitty[:min(60, len(kitty))])
	}
	iterm, err := encodeInline(protoITerm2, img, 10, 5)
	if err != nil || !strings.HasPrefix(iterm, "\x1b]1337;File=inline=1;") || !strings.Contains(iterm, "width=10;height=5") {
		t.Fatalf("iterm2: %v %q", err, iterm[:min(60, len(iterm))])
	}
	six, err := encodeInline(protoSixel, img, 2, 1)
	if err != nil || !strings.HasPrefix(six, "\x1bP0;1q\"1;1;20;20") || !strings.HasSuffix(six, "\x1b\\") {
		t.Fatalf("sixel: %v %q", err, six[:min(60, len(six))])
	}
}

func TestInsideTmuxImagesArePassedThrough(t *testing.T) {
	out := placeImage(graphicsEnv{proto: protoKitty, tmux: true}, "\x1b_Ga=T;AAAA\x1b\\", 3, 4)
	if !strings.Contains(out, "\x1bPtmux;\x1b\x1b_Ga=T;AAAA\x1b\x1b\\\x1b\\") {
		t.Fatalf("not wrapped for tmux: %q", out)
	}
	if !strings.Contains(out, "\x1b[5;4H") {
		t.Fatalf("not positioned at row 5 col 4: %q", out)
	}
}

func TestNotificationTextCannotEscapeItsSequence(t *testing.T) {
	if got := sanitizeOSC("done\x07\x1b]52;c;evil\x1b\\"); strings.ContainsAny(got, "\x07\x1b") {
		t.Fatalf("control characters kept: %q", got)
	}
}

func TestKittyPicturesArePlacedOverABlankBlockAndRemovedWhenHidden(t *testing.T) {
	r := newRig(t, true)
	r.b.Getenv = func(k string) string {
		return map[string]string{"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "3"}[k]
	}
	m := New(context.Background(), r.b)
	m.noTicks = true
	m = step(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	var placed string
	for round, c := 0, m.Init(); c != nil && round < 10; round++ {
		var more []tea.Cmd
		for _, msg := range runCmd(t, c) {
			if raw, ok := msg.(tea.RawMsg); ok {
				placed += raw.Msg.(string)
			}
			nm, nc := m.Update(msg)
			m = nm.(Model)
			more = append(more, nc)
		}
		c = tea.Batch(more...)
	}
	if !strings.Contains(placed, "\x1b_Ga=T,f=100,i=4242") {
		t.Fatalf("the picture was not sent with the kitty protocol: %q", placed[:min(len(placed), 80)])
	}
	if strings.Contains(ansi.Strip(m.View().Content), "▀") {
		t.Fatal("with kitty graphics the view must hold a blank block, not half-blocks")
	}
	_, msgs := do(t, m, keyMsg("n"))
	if !hasMsg(msgs, "tea.sequenceMsg") {
		t.Fatalf("leaving the picture should delete it and repaint, got %v", msgTypes(msgs))
	}
}
