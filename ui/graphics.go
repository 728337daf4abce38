package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// graphicsProtocol is how images reach the terminal.
type graphicsProtocol int

const (
	protoHalfBlocks graphicsProtocol = iota // Unicode ▀ in true colour: works everywhere
	protoKitty                              // kitty graphics protocol (kitty, WezTerm, Ghostty)
	protoITerm2                             // iTerm2 inline images (iTerm2, WezTerm, mintty)
	protoSixel                              // DEC sixel (foot, mlterm, xterm -ti vt340)
)

func (p graphicsProtocol) String() string {
	return [...]string{"half-blocks", "kitty", "iTerm2", "sixel"}[p]
}

// graphicsEnv is what detection looks at; it is the terminal's environment
// because asking the terminal (DA1/XTGETTCAP) races with key input.
type graphicsEnv struct {
	proto graphicsProtocol
	tmux  bool // wrap sequences in tmux passthrough
}

// detectGraphics picks the richest protocol the terminal declares. An
// explicit INFLUENCEGEN_GRAPHICS (kitty|iterm2|sixel|halfblocks) wins.
func detectGraphics(getenv func(string) string) graphicsEnv {
	g := graphicsEnv{tmux: getenv("TMUX") != ""}
	switch strings.ToLower(getenv("INFLUENCEGEN_GRAPHICS")) {
	case "kitty":
		g.proto = protoKitty
		return g
	case "iterm2", "iterm":
		g.proto = protoITerm2
		return g
	case "sixel":
		g.proto = protoSixel
		return g
	case "halfblocks", "half-blocks", "blocks":
		return g
	}
	term := strings.ToLower(getenv("TERM"))
	prog := strings.ToLower(getenv("TERM_PROGRAM"))
	if g.tmux {
		// Inside tmux TERM is tmux's own; the outer terminal shows through
		// LC_TERMINAL (iTerm2) or variables tmux copies from the client.
		prog = strings.ToLower(firstNonEmpty(getenv("LC_TERMINAL"), prog))
	}
	switch {
	case getenv("KITTY_WINDOW_ID") != "" || strings.Contains(term, "kitty") || prog == "ghostty" || strings.Contains(term, "ghostty"):
		g.proto = protoKitty
	case prog == "iterm.app" || prog == "iterm2" || prog == "wezterm" || getenv("ITERM_SESSION_ID") != "" || strings.Contains(prog, "mintty"):
		g.proto = protoITerm2
	case strings.Contains(term, "foot") || strings.Contains(term, "mlterm") || strings.Contains(term, "sixel") || prog == "contour":
		g.proto = protoSixel
	}
	return g
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// kittyImageID is fixed: one preview at a time, replaced in place.
const kittyImageID = 4242

// kittyDelete removes the preview picture and frees its memory.
func kittyDelete() string {
	return ansi.KittyGraphics(nil, "a=d", "d=I", fmt.Sprintf("i=%d", kittyImageID), "q=2")
}

// kittySequence transmits and shows a PNG over cols×rows cells, in chunks
// of 4096 base64 bytes as the protocol requires.
func kittySequence(pngData []byte, cols, rows int) string {
	enc := base64.StdEncoding.EncodeToString(pngData)
	var b strings.Builder
	b.WriteString(kittyDelete())
	for i := 0; i < len(enc); i += 4096 {
		end := min(i+4096, len(enc))
		more := "m=1"
		if end == len(enc) {
			more = "m=0"
		}
		if i == 0 {
			b.WriteString(ansi.KittyGraphics([]byte(enc[i:end]), "a=T", "f=100", fmt.Sprintf("i=%d", kittyImageID),
				fmt.Sprintf("c=%d", cols), fmt.Sprintf("r=%d", rows), "C=1", "q=2", more))
		} else {
			b.WriteString(ansi.KittyGraphics([]byte(enc[i:end]), more))
		}
	}
	return b.String()
}

// sixelSequence encodes img with a fixed 6×6×6 colour cube: plain, fast
// and good enough for a preview (the half-block fallback has fewer colours
// per cell anyway).
func sixelSequence(img image.Image) (string, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return "", fmt.Errorf("empty image")
	}
	idx := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			idx[y*w+x] = uint8((r>>8)*6/256*36 + (g>>8)*6/256*6 + (bl>>8)*6/256)
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "\"1;1;%d;%d", w, h)
	for i := 0; i < 216; i++ {
		fmt.Fprintf(&buf, "#%d;2;%d;%d;%d", i, i/36*100/5, i/6%6*100/5, i%6*100/5)
	}
	row := make([]byte, w)
	for band := 0; band < h; band += 6 {
		var used [216]bool
		for y := band; y < min(band+6, h); y++ {
			for x := 0; x < w; x++ {
				used[idx[y*w+x]] = true
			}
		}
		first := true
		for c := range 216 {
			if !used[c] {
				continue
			}
			for x := 0; x < w; x++ {
				var bits byte
				for dy := 0; dy < 6 && band+dy < h; dy++ {
					if idx[(band+dy)*w+x] == uint8(c) {
						bits |= 1 << dy
					}
				}
				row[x] = '?' + bits
			}
			if !first {
				buf.WriteByte('$')
			}
			first = false
			fmt.Fprintf(&buf, "#%d", c)
			writeSixelRLE(&buf, row)
		}
		buf.WriteByte('-')
	}
	return ansi.SixelGraphics(0, 1, 0, buf.Bytes()), nil
}

// writeSixelRLE writes a row of sixel characters with "!n" repeats.
func writeSixelRLE(buf *bytes.Buffer, row []byte) {
	for i := 0; i < len(row); {
		j := i
		for j < len(row) && row[j] == row[i] {
			j++
		}
		if n := j - i; n > 3 {
			fmt.Fprintf(buf, "!%d%c", n, row[i])
		} else {
			buf.Write(row[i:j])
		}
		i = j
	}
}

// placeImage draws payload with its top-left corner at cell (x, y),
// keeping the cursor where it was. Inside tmux each sequence is wrapped in
// passthrough (tmux needs `set -g allow-passthrough on`).
func placeImage(g graphicsEnv, payload string, x, y int) string {
	if payload == "" {
		return ""
	}
	if g.tmux {
		payload = ansi.TmuxPassthrough(payload)
	}
	return ansi.SaveCursor + ansi.CursorPosition(x+1, y+1) + payload + ansi.RestoreCursor
}
