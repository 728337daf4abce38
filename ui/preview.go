package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	_ "image/gif" // decoders for the formats callbacks may carry
	_ "image/jpeg"
	"image/png"
	"os"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/influencegen/influencegen/app"
)

// previewKey identifies one rendering: the same picture at the same box
// size is decoded and scaled once.
type previewKey struct {
	sha        string
	cols, rows int
	proto      graphicsProtocol
}

// previewCache keeps recent renderings; it is shared by value copies of
// the model, so it guards itself. Only Update writes to it.
type previewCache struct {
	mu    sync.Mutex
	items map[previewKey]previewRenderedMsg
	order []previewKey
	max   int
}

func newPreviewCache(n int) *previewCache {
	return &previewCache{items: map[previewKey]previewRenderedMsg{}, max: n}
}

func (c *previewCache) get(k previewKey) (previewRenderedMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[k]
	return v, ok
}

func (c *previewCache) put(v previewRenderedMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[v.key]; !ok {
		c.order = append(c.order, v.key)
	}
	c.items[v.key] = v
	for len(c.order) > c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

// maxPreviewBytes bounds what the preview will decode; the listener already
// refuses bigger images, this guards files put there by hand.
const maxPreviewBytes = 64 << 20

// renderPreviewCmd decodes and scales an image off the UI goroutine.
func renderPreviewCmd(ctx context.Context, img app.Image, k previewKey) tea.Cmd {
	return func() tea.Msg {
		cells, inline, cols, rows, err := renderPreview(ctx, img.Path, k)
		return previewRenderedMsg{key: k, cols: cols, rows: rows, cells: cells, inline: inline, err: err}
	}
}

func renderPreview(ctx context.Context, path string, k previewKey) (cells, inline string, cols, rows int, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", 0, 0, fmt.Errorf("image file %s: %w", path, err)
	}
	if fi.Size() > maxPreviewBytes {
		return "", "", 0, 0, fmt.Errorf("image file %s is %d bytes, too big to preview; press o to open it", path, fi.Size())
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", 0, 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return "", "", 0, 0, fmt.Errorf("image file %s: not a PNG, JPEG, GIF or WebP image: %w", path, err)
	}
	if cfg.Width*cfg.Height > 64<<20 {
		return "", "", 0, 0, fmt.Errorf("image %dx%d is too large to preview; press o to open it", cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return "", "", 0, 0, err
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return "", "", 0, 0, fmt.Errorf("decode %s: %w", path, err)
	}
	if ctx.Err() != nil {
		return "", "", 0, 0, ctx.Err()
	}
	w, h := fitCells(src.Bounds().Dx(), src.Bounds().Dy(), k.cols, k.rows)
	scaled := image.NewRGBA(image.Rect(0, 0, w, h*2))
	draw.ApproxBiLinear.Scale(scaled, scaled.Bounds(), src, src.Bounds(), draw.Src, nil)
	cells = halfBlocks(scaled)
	if k.proto != protoHalfBlocks {
		inline, err = encodeInline(k.proto, src, w, h)
	}
	return cells, inline, w, h, err
}

// fitCells returns the largest cols×rows box (a cell is two pixels tall in
// half-block mode) that keeps the image's aspect ratio inside maxCols×maxRows.
func fitCells(imgW, imgH, maxCols, maxRows int) (cols, rows int) {
	if imgW <= 0 || imgH <= 0 || maxCols <= 0 || maxRows <= 0 {
		return 1, 1
	}
	scale := min(float64(maxCols)/float64(imgW), float64(maxRows*2)/float64(imgH))
	cols = max(int(float64(imgW)*scale+0.5), 1)
	rows = max(int(float64(imgH)*scale/2+0.5), 1)
	return min(cols, maxCols), min(rows, maxRows)
}

// halfBlocks draws two pixels per cell: "▀" with the upper pixel as the
// foreground and the lower one as the background, in 24-bit colour. It
// works in every terminal with true colour, and in tmux.
func halfBlocks(img *image.RGBA) string {
	b := img.Bounds()
	var sb strings.Builder
	sb.Grow(b.Dx() * b.Dy() / 2 * 40)
	for y := b.Min.Y; y+1 < b.Max.Y; y += 2 {
		if y > b.Min.Y {
			sb.WriteByte('\n')
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			top := img.RGBAAt(x, y)
			bot := img.RGBAAt(x, y+1)
			fmt.Fprintf(&sb, "\x1b[38;2;%d;%d;%d;48;2;%d;%d;%dm▀", top.R, top.G, top.B, bot.R, bot.G, bot.B)
		}
		sb.WriteString("\x1b[0m")
	}
	return sb.String()
}

// encodeInline produces the terminal-graphics payload for the chosen
// protocol, sized to cols×rows cells.
func encodeInline(p graphicsProtocol, src image.Image, cols, rows int) (string, error) {
	switch p {
	case protoKitty:
		var buf bytes.Buffer
		if err := png.Encode(&buf, src); err != nil {
			return "", err
		}
		return kittySequence(buf.Bytes(), cols, rows), nil
	case protoITerm2:
		var buf bytes.Buffer
		if err := png.Encode(&buf, src); err != nil {
			return "", err
		}
		return fmt.Sprintf("\x1b]1337;File=inline=1;size=%d;width=%d;height=%d;preserveAspectRatio=1:%s\a",
			buf.Len(), cols, rows, base64.StdEncoding.EncodeToString(buf.Bytes())), nil
	case protoSixel:
		// Sixel addresses pixels, not cells: assume the common 10×20 cell.
		dst := image.NewRGBA(image.Rect(0, 0, cols*10, rows*20))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		return sixelSequence(dst)
	}
	return "", nil
}

// placeholderBlock is the empty area a terminal-graphics image is drawn
// over: the renderer keeps those cells blank, so the image stays visible.
func placeholderBlock(cols, rows int) string {
	line := strings.Repeat(" ", cols)
	out := make([]string, rows)
	for i := range out {
		out[i] = line
	}
	return strings.Join(out, "\n")
}
