package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"
	"github.com/charmbracelet/x/ansi/sixel"
)

func TestGraphicsProtocolDetectionFromTheEnvironment(t *testing.T) {
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
			if g.envProto != tt.want || g.tmux != tt.wantTmux {
				t.Fatalf("got %s tmux=%v, want %s tmux=%v", g.envProto, g.tmux, tt.want, tt.wantTmux)
			}
		})
	}
}

func TestSixelWaitsForTheTerminalsCellSize(t *testing.T) {
	g := detectGraphics(func(k string) string { return map[string]string{"TERM": "foot"}[k] })
	if g.proto != protoHalfBlocks {
		t.Fatalf("without a cell size sixel cannot be fitted to the box: got %s, want half-blocks", g.proto)
	}
	g.cellW, g.cellH = 9, 19
	g.resolve()
	if g.proto != protoSixel {
		t.Fatalf("with the cell size known: got %s, want sixel", g.proto)
	}
}

// gradient has more than 256 colours, so the sixel palette must quantise.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / max(w-1, 1)), G: uint8(y * 255 / max(h-1, 1)), B: uint8((x + y) * 2), A: 255})
		}
	}
	return img
}

// meanAndMaxError compares two images channel by channel (0…255).
func meanAndMaxError(t *testing.T, want, got image.Image) (mean float64, worst int) {
	t.Helper()
	if want.Bounds().Size() != got.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	var sum, n int
	b := want.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			r1, g1, b1, _ := want.At(b.Min.X+x, b.Min.Y+y).RGBA()
			r2, g2, b2, _ := got.At(got.Bounds().Min.X+x, got.Bounds().Min.Y+y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				d = max(d, -d)
				sum += d
				worst = max(worst, d)
				n++
			}
		}
	}
	return float64(sum) / float64(n), worst
}

var sixelRepeat = regexp.MustCompile(`![0-9]+[?-~]`)

func decodeSixel(t *testing.T, seq string) image.Image {
	t.Helper()
	body, ok := strings.CutPrefix(seq, "\x1bP0;1q")
	if !ok || !strings.HasSuffix(body, "\x1b\\") {
		t.Fatalf("not a DCS sixel sequence: %q", seq[:min(40, len(seq))])
	}
	// x/ansi v0.11.9's decoder reads every sixel byte after "!n" into the
	// repeat and keeps only the first ("!4?@??" loses "@??"), though our
	// encoder's output is valid DEC sixel; a space, which sixel ignores,
	// ends each repeat where the format does.
	body = sixelRepeat.ReplaceAllString(strings.TrimSuffix(body, "\x1b\\"), "$0 ")
	img, err := (&sixel.Decoder{}).Decode(strings.NewReader(body))
	if err != nil {
		t.Fatalf("x/ansi/sixel cannot decode what we sent: %v", err)
	}
	return img
}

func TestSixelDecodesBackToTheSourceImage(t *testing.T) {
	t.Run("a few colours off the old 6×6×6 cube come back exactly (within sixel's percent steps)", func(t *testing.T) {
		img := image.NewRGBA(image.Rect(0, 0, 30, 18))
		cols := []color.RGBA{{10, 200, 77, 255}, {250, 128, 3, 255}, {33, 33, 140, 255}}
		for y := range 18 {
			for x := range 30 {
				img.Set(x, y, cols[(x/10+y/6)%3])
			}
		}
		seq, err := sixelSequence(graphicsEnv{}, img)
		if err != nil {
			t.Fatal(err)
		}
		mean, worst := meanAndMaxError(t, img, decodeSixel(t, seq))
		if worst > 3 {
			t.Fatalf("palette built from the image should keep each colour: mean %.2f, worst %d", mean, worst)
		}
	})
	t.Run("a gradient of 3,072 colours is quantised to 256 with a small error", func(t *testing.T) {
		img := gradient(64, 48)
		seq, err := sixelSequence(graphicsEnv{}, img)
		if err != nil {
			t.Fatal(err)
		}
		mean, worst := meanAndMaxError(t, img, decodeSixel(t, seq))
		t.Logf("gradient: mean error %.2f, worst %d (of 255)", mean, worst)
		if mean > 6 || worst > 48 {
			t.Fatalf("too far from the source: mean %.2f, worst %d", mean, worst)
		}
	})
}

var apcChunk = regexp.MustCompile("\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\\\")

func TestKittyPayloadDecodesBackToTheImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	translucent := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for i := range translucent.Pix { // noise: zlib cannot shrink it into one chunk
		translucent.Pix[i] = uint8(rng.UintN(256))
	}
	for _, tc := range []struct {
		name       string
		img        *image.RGBA
		tmux       bool
		wantFormat int
	}{
		{"translucent, sent as RGBA", translucent, false, kitty.RGBA},
		{"translucent inside tmux", translucent, true, kitty.RGBA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq, err := kittySequence(graphicsEnv{proto: protoKitty, tmux: tc.tmux}, tc.img, 12, 5)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tmux {
				wrapped := strings.Count(seq, "\x1bPtmux;")
				if chunks := strings.Count(seq, "\x1b\x1b_G"); wrapped != chunks || wrapped < 3 {
					t.Fatalf("inside tmux every chunk is wrapped on its own: %d wrapped, %d chunks", wrapped, chunks)
				}
				seq = strings.NewReplacer("\x1bPtmux;", "", "\x1b\x1b", "\x1b").Replace(seq)
				seq = strings.ReplaceAll(seq, "\x1b\\\x1b\\", "\x1b\\")
			}
			parts := apcChunk.FindAllStringSubmatch(seq, -1)
			if len(parts) < 3 || !strings.Contains(parts[0][1], "a=d") {
				t.Fatalf("want a delete then at least two chunks, got %d sequences", len(parts))
			}
			var opts kitty.Options
			if err := opts.UnmarshalText([]byte(parts[1][1])); err != nil {
				t.Fatal(err)
			}
			if opts.Format == 0 {
				opts.Format = kitty.RGBA // f= omitted means 32-bit RGBA
			}
			if opts.Action != kitty.TransmitAndPut || opts.ID != kittyImageID || opts.Compression != kitty.Zlib || opts.Format != tc.wantFormat ||
				opts.Columns != 12 || opts.Rows != 5 || opts.ImageWidth != 64 || opts.ImageHeight != 40 {
				t.Fatalf("first chunk options: %q", parts[1][1])
			}
			var payload strings.Builder
			for i, p := range parts[1:] {
				if len(p[2]) > kitty.MaxChunkSize {
					t.Fatalf("chunk %d is %d bytes, over the protocol's 4096", i, len(p[2]))
				}
				last := i == len(parts)-2
				if more := strings.Contains(p[1], "m=1"); more == last {
					t.Fatalf("chunk %d: %q (last=%v)", i, p[1], last)
				}
				payload.WriteString(p[2])
			}
			raw, err := base64.StdEncoding.DecodeString(payload.String())
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&kitty.Decoder{Decompress: true, Format: opts.Format, Width: 64, Height: 40}).Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.(*image.RGBA).Pix, tc.img.Pix) {
				t.Fatal("the kitty payload does not decode to the image")
			}
		})
	}
}

func TestITerm2SequenceHoldsTheImageAsABase64File(t *testing.T) {
	img := gradient(20, 12)
	seq, err := iterm2Sequence(graphicsEnv{}, img, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("^\x1b]1337;File=([^:]*):([A-Za-z0-9+/=]+)\x07$").FindStringSubmatch(seq)
	if m == nil {
		t.Fatalf("not an OSC 1337 File sequence: %q", seq[:min(60, len(seq))])
	}
	args := map[string]string{}
	for _, kv := range strings.Split(m[1], ";") {
		k, v, _ := strings.Cut(kv, "=")
		args[k] = v
	}
	file, err := base64.StdEncoding.DecodeString(m[2])
	if err != nil {
		t.Fatal(err)
	}
	if args["inline"] != "1" || args["width"] != "10" || args["height"] != "5" || args["size"] != strconv.Itoa(len(file)) {
		t.Fatalf("arguments %v (file %d bytes)", args, len(file))
	}
	got, err := png.Decode(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if mean, worst := meanAndMaxError(t, img, got); worst != 0 {
		t.Fatalf("PNG should be lossless: mean %.2f worst %d", mean, worst)
	}
}

func TestHalfBlocksDrawTwoPixelsPerCell(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := range 4 {
			img.Set(x, y, color.RGBA{R: uint8(x * 10), G: uint8(y * 10), B: 200, A: 255})
		}
	}
	out := halfBlocks(img)
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
	// With the terminal's real cell (8×20 pixels), a square picture in a
	// 60×20 box is 20 rows of 20 px = 400 px tall, so 50 columns of 8 px.
	if c, r := fitBox(1024, 1024, 60, 20, 8, 20); c != 50 || r != 20 {
		t.Errorf("square in 60×20 cells of 8×20 px: got %dx%d, want 50x20", c, r)
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
	six, err := sixelSequence(graphicsEnv{proto: protoSixel, tmux: true}, gradient(6, 6))
	if err != nil {
		t.Fatal(err)
	}
	if again := placeImage(graphicsEnv{tmux: true}, six, 0, 0); strings.Count(again, "\x1bPtmux;") != 1 {
		t.Fatalf("an encoder's wrapped sequence must not be wrapped twice: %q", again[:min(60, len(again))])
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
	if !regexp.MustCompile("\x1b_G[^;]*i=4242[^;]*a=T").MatchString(placed) {
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
