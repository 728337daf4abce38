package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/iterm2"
	"github.com/charmbracelet/x/ansi/kitty"
	"github.com/charmbracelet/x/ansi/sixel"
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

// graphicsEnv is what the dashboard knows about the terminal's pictures.
// It starts from the environment (detectGraphics) and is refined by the
// terminal's own answers (termprobe.go); the environment stays the fallback
// for terminals, and multiplexers, that answer nothing.
type graphicsEnv struct {
	proto graphicsProtocol // what is drawn now: resolve() keeps it current
	tmux  bool             // wrap sequences in tmux passthrough

	forced   bool             // INFLUENCEGEN_GRAPHICS chose envProto; answers don't change it
	noAPC    bool             // the Linux console prints APC sequences instead of ignoring them
	envProto graphicsProtocol // what the environment suggests

	// Answers from the terminal; zero until (unless) it answers.
	version      string // XTVERSION, e.g. "kitty(0.36.4)", "foot(1.18.1)"
	kittyOK      bool   // it answered the kitty graphics query with OK
	sixelOK      bool   // DA1 lists attribute 4 (sixel)
	cellW, cellH int    // one cell in pixels (XTWINOPS 16, or 14 ÷ the window size)
}

// detectGraphics picks the richest protocol the environment declares. An
// explicit INFLUENCEGEN_GRAPHICS (kitty|iterm2|sixel|halfblocks) wins over
// everything, including the terminal's answers.
func detectGraphics(getenv func(string) string) graphicsEnv {
	g := graphicsEnv{tmux: getenv("TMUX") != "", noAPC: getenv("TERM") == "linux"}
	g.forced = true
	switch strings.ToLower(getenv("INFLUENCEGEN_GRAPHICS")) {
	case "kitty":
		g.envProto = protoKitty
	case "iterm2", "iterm":
		g.envProto = protoITerm2
	case "sixel":
		g.envProto = protoSixel
	case "halfblocks", "half-blocks", "blocks":
		g.envProto = protoHalfBlocks
	default:
		g.forced = false
		g.envProto = protocolFromEnv(getenv, g.tmux)
	}
	g.resolve()
	return g
}

func protocolFromEnv(getenv func(string) string, tmux bool) graphicsProtocol {
	term := strings.ToLower(getenv("TERM"))
	prog := strings.ToLower(getenv("TERM_PROGRAM"))
	if tmux {
		// Inside tmux TERM is tmux's own; the outer terminal shows through
		// LC_TERMINAL (iTerm2) or variables tmux copies from the client.
		prog = strings.ToLower(firstNonEmpty(getenv("LC_TERMINAL"), prog))
	}
	switch {
	case getenv("KITTY_WINDOW_ID") != "" || strings.Contains(term, "kitty") || prog == "ghostty" || strings.Contains(term, "ghostty"):
		return protoKitty
	case prog == "iterm.app" || prog == "iterm2" || prog == "wezterm" || getenv("ITERM_SESSION_ID") != "" || strings.Contains(prog, "mintty"):
		return protoITerm2
	case strings.Contains(term, "foot") || strings.Contains(term, "mlterm") || strings.Contains(term, "sixel") || prog == "contour":
		return protoSixel
	}
	return protoHalfBlocks
}

// protocolFromVersion maps an XTVERSION answer to the protocol that
// terminal draws best; half-blocks means "no opinion".
func protocolFromVersion(version string) graphicsProtocol {
	v := strings.ToLower(version)
	switch {
	case strings.HasPrefix(v, "kitty"), strings.HasPrefix(v, "ghostty"):
		return protoKitty
	case strings.HasPrefix(v, "iterm2"), strings.HasPrefix(v, "wezterm"), strings.HasPrefix(v, "mintty"):
		return protoITerm2
	case strings.HasPrefix(v, "foot"), strings.HasPrefix(v, "mlterm"), strings.HasPrefix(v, "contour"):
		return protoSixel
	}
	return protoHalfBlocks
}

// resolve sets proto from what is known, best evidence first: the user's
// choice, the terminal's name, its answers to the kitty query and DA1, and
// last the environment. Inside tmux the answers are tmux's own, not the
// outer terminal's, so only the environment speaks for the outer one.
// Sixel addresses pixels, so it waits for the terminal's cell size and
// draws half-blocks until then (or for ever, if it never says).
func (g *graphicsEnv) resolve() {
	p := g.envProto
	if !g.forced && !g.tmux {
		switch {
		case protocolFromVersion(g.version) != protoHalfBlocks:
			p = protocolFromVersion(g.version)
		case g.kittyOK:
			p = protoKitty
		case g.sixelOK:
			p = protoSixel
		}
	}
	if p == protoSixel && (g.cellW <= 0 || g.cellH <= 0) {
		p = protoHalfBlocks
	}
	g.proto = p
}

// previewKey names the rendering of one picture for this terminal: the
// cell size is part of it because sixel and kitty pixels depend on it.
func (g graphicsEnv) previewKey(sha string, cols, rows int) previewKey {
	k := previewKey{sha: sha, cols: cols, rows: rows, proto: g.proto, tmux: g.tmux}
	if g.proto != protoHalfBlocks {
		k.cellW, k.cellH = g.cellW, g.cellH
	}
	return k
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

// kittyDelete removes the preview picture and frees its memory; placeImage
// wraps it for tmux.
func kittyDelete() string {
	o := kitty.Options{Action: kitty.Delete, Delete: kitty.DeleteID, DeleteResources: true, ID: kittyImageID, Quiet: 2}
	return ansi.KittyGraphics(nil, o.Options()...)
}

// passthrough wraps a whole sequence for tmux (which needs
// `set -g allow-passthrough on`); outside tmux it is the sequence itself.
func passthrough(g graphicsEnv, seq string) string {
	if g.tmux {
		return ansi.TmuxPassthrough(seq)
	}
	return seq
}

// kittySequence deletes the previous preview, then transmits and shows img
// over cols×rows cells: raw RGBA, zlib-compressed, in 4096-byte chunks, each
// chunk wrapped for tmux on its own (tmux forwards one sequence at a time).
func kittySequence(g graphicsEnv, img image.Image, cols, rows int) (string, error) {
	return kittySequenceID(g, img, cols, rows, kittyImageID)
}

// kittySequenceID is kittySequence for image id: the grid shows several
// pictures at once, each under its own id.
func kittySequenceID(g graphicsEnv, img image.Image, cols, rows int, id int) (string, error) {
	b := img.Bounds()
	o := kitty.Options{
		Action: kitty.TransmitAndPut,
		// Explicit: EncodeGraphics (x/ansi v0.11.9) sends no data at all
		// when Transmission is left zero, though Options calls zero Direct.
		Transmission:    kitty.Direct,
		ID:              id,
		Format:          kitty.RGBA,
		ImageWidth:      b.Dx(),
		ImageHeight:     b.Dy(),
		Compression:     kitty.Zlib,
		Columns:         cols,
		Rows:            rows,
		DoNotMoveCursor: true,
		Quiet:           2,
		Chunk:           true,
	}
	if g.tmux {
		o.ChunkFormatter = ansi.TmuxPassthrough
	}
	var buf strings.Builder
	del := kitty.Options{Action: kitty.Delete, Delete: kitty.DeleteID, DeleteResources: true, ID: id, Quiet: 2}
	buf.WriteString(passthrough(g, ansi.KittyGraphics(nil, del.Options()...)))
	if err := kitty.EncodeGraphics(&buf, img, &o); err != nil {
		return "", fmt.Errorf("kitty graphics: %w", err)
	}
	return buf.String(), nil
}

// iterm2Sequence sends img as an inline PNG file sized in cells.
func iterm2Sequence(g graphicsEnv, img image.Image, cols, rows int) (string, error) {
	var file bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&file, img); err != nil {
		return "", fmt.Errorf("iTerm2 image: %w", err)
	}
	content := make([]byte, base64.StdEncoding.EncodedLen(file.Len()))
	base64.StdEncoding.Encode(content, file.Bytes())
	return passthrough(g, ansi.ITerm2(iterm2.File{
		Size:            int64(file.Len()),
		Width:           iterm2.Cells(cols),
		Height:          iterm2.Cells(rows),
		Inline:          true,
		DoNotMoveCursor: true,
		Content:         content,
	})), nil
}

// sixelSequence encodes img with a palette of up to 256 colours built from
// the image itself (x/ansi/sixel). img must start at (0, 0).
func sixelSequence(g graphicsEnv, img image.Image) (string, error) {
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 || b.Min != (image.Point{}) {
		return "", fmt.Errorf("sixel: empty or offset image %v", b)
	}
	var payload bytes.Buffer
	if err := (&sixel.Encoder{}).Encode(&payload, img); err != nil {
		return "", fmt.Errorf("sixel: %w", err)
	}
	// P2=1: pixels not drawn keep the background instead of turning black.
	return passthrough(g, ansi.SixelGraphics(0, 1, 0, payload.Bytes())), nil
}

// placeImage draws payload with its top-left corner at cell (x, y),
// keeping the cursor where it was. The encoders above already wrap their
// output for tmux (kitty chunk by chunk); anything else is wrapped here.
func placeImage(g graphicsEnv, payload string, x, y int) string {
	if payload == "" {
		return ""
	}
	if !strings.HasPrefix(payload, "\x1bPtmux;") {
		payload = passthrough(g, payload)
	}
	return ansi.SaveCursor + ansi.CursorPosition(x+1, y+1) + payload + ansi.RestoreCursor
}
