package ui

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for the formats callbacks may carry
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// previewKey identifies one rendering: the same picture at the same box
// size, for the same protocol and cell size, is decoded and scaled once.
type previewKey struct {
	sha          string
	cols, rows   int
	proto        graphicsProtocol
	tmux         bool // the sequences are wrapped for tmux
	cellW, cellH int  // pixels per cell, when the protocol draws pixels
	kittyID      int  // the kitty image id; 0 is the detail's one (kittyImageID)
}

const (
	// maxPreviewFileBytes bounds the file the preview will read; the
	// listener already refuses bigger images, this guards files put there
	// by hand.
	maxPreviewFileBytes = 64 << 20
	// maxPreviewDecodeBytes bounds what one decode may allocate: declared
	// pixels × bytes per pixel, read from the header before decoding. A
	// 4096×4096 16-bit PNG (128 MiB) fits; an 8192×8192 one (512 MiB, from a
	// 510 KB file) does not.
	maxPreviewDecodeBytes = 128 << 20
	// maxInlinePixels caps the long side of a kitty/iTerm2 picture when the
	// terminal did not say how big its cells are: the terminal scales it to
	// the cells anyway, so more pixels would only cost bytes.
	maxInlinePixels = 1024
)

// previewTooLargeError is shown in place of the picture.
type previewTooLargeError struct {
	width, height, bytesPerPixel int
	format                       string
	decoded, limit               int64
}

func (e previewTooLargeError) Error() string {
	return fmt.Sprintf("too large to preview: %d×%d %s at %d bytes a pixel is %s decoded (limit %s); press o to open it",
		e.width, e.height, strings.ToUpper(e.format), e.bytesPerPixel,
		mebibytes(e.decoded), mebibytes(e.limit))
}

func mebibytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// bytesPerPixel is what the standard decoders allocate per pixel for a
// colour model; unknown models count as the widest (16-bit RGBA).
func bytesPerPixel(m color.Model) int {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at most
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	return 8
}

// checkDecodeBudget reads only the header of r and refuses images whose
// decoded pixels would exceed limit bytes.
func checkDecodeBudget(r io.Reader, limit int64) (image.Config, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10) // a short file is simply all of it
	cfg, format, err := image.DecodeConfig(br)
	if err != nil {
		return cfg, format, fmt.Errorf("not a PNG, JPEG, GIF or WebP image: %w", err)
	}
	bpp := bytesPerPixel(cfg.ColorModel)
	if format == "jpeg" && jpegProgressive(head) {
		// image/jpeg keeps every progressive coefficient until the last
		// scan: a [64]int32 block per 8×8 pixels and component, 4 bytes a
		// pixel for each of up to 3 full-resolution components.
		bpp += 12
	}
	decoded := int64(cfg.Width) * int64(cfg.Height) * int64(bpp)
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, format, fmt.Errorf("%s image declares %d×%d pixels", format, cfg.Width, cfg.Height)
	}
	if decoded > limit {
		return cfg, format, previewTooLargeError{width: cfg.Width, height: cfg.Height, bytesPerPixel: bpp,
			format: format, decoded: decoded, limit: limit}
	}
	return cfg, format, nil
}

// jpegProgressive walks the JPEG segments up to the first start-of-frame
// and says whether it is a progressive one (SOF2, SOF6, SOF10, SOF14).
func jpegProgressive(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return false
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			return marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE
		}
		i += 2 + int(b[i+2])<<8 + int(b[i+3])
	}
	return false
}

// renderPreview produces the half-block cells and, for kitty/iTerm2/sixel,
// the escape payload of one picture. Scaled images are cached by sha256 and
// pixel size, so another box of the same picture does not decode again.
func renderPreview(ctx context.Context, cache *previewCache, path string, k previewKey) previewRenderedMsg {
	out := previewRenderedMsg{key: k}
	src := sourceLoader(ctx, cache, path)
	cfg, err := src.config()
	if err != nil {
		out.err = err
		return out
	}
	out.cols, out.rows, out.cells, out.inline, out.err = encodePreview(ctx, cache, k, cfg.Width, cfg.Height, src.image)
	return out
}

// encodePreview fits a w×h picture into k's box and draws it: half-block
// cells always, and the inline payload for kitty/iTerm2/sixel. load is
// called only when a scaled size is not in the cache.
func encodePreview(ctx context.Context, cache *previewCache, k previewKey, w, h int, load func() (image.Image, error)) (cols, rows int, cells, inline string, err error) {
	cols, rows = fitCells(w, h, k.cols, k.rows)
	if k.proto != protoHalfBlocks && k.cellW > 0 && k.cellH > 0 {
		cols, rows = fitBox(w, h, k.cols, k.rows, k.cellW, k.cellH)
	}
	blocks, err := cache.scaled(ctx, k.sha, cols, rows*2, load)
	if err != nil {
		return cols, rows, "", "", err
	}
	cells = halfBlocks(blocks)
	if k.proto == protoHalfBlocks {
		return cols, rows, cells, "", nil
	}
	pw, ph := inlinePixels(w, h, cols, rows, k.cellW, k.cellH)
	pixels, err := cache.scaled(ctx, k.sha, pw, ph, load)
	if err != nil {
		return cols, rows, cells, "", err
	}
	g := graphicsEnv{proto: k.proto, tmux: k.tmux}
	switch k.proto {
	case protoKitty:
		id := k.kittyID
		if id == 0 {
			id = kittyImageID
		}
		inline, err = kittySequenceID(g, pixels, cols, rows, id)
	case protoITerm2:
		inline, err = iterm2Sequence(g, pixels, cols, rows)
	case protoSixel:
		inline, err = sixelSequence(g, pixels)
	}
	return cols, rows, cells, inline, err
}

// inlinePixels is the pixel size sent for a cols×rows box: exactly the box
// when the cell size is known, else the picture itself capped at
// maxInlinePixels (the terminal scales it to the cells).
func inlinePixels(imgW, imgH, cols, rows, cellW, cellH int) (w, h int) {
	if cellW > 0 && cellH > 0 {
		return fitPixels(imgW, imgH, cols*cellW, rows*cellH)
	}
	return fitPixels(imgW, imgH, min(imgW, maxInlinePixels), min(imgH, maxInlinePixels))
}

// fitPixels is the largest w×h inside maxW×maxH with the image's aspect.
func fitPixels(imgW, imgH, maxW, maxH int) (w, h int) {
	scale := min(float64(maxW)/float64(imgW), float64(maxH)/float64(imgH))
	return max(int(float64(imgW)*scale+0.5), 1), max(int(float64(imgH)*scale+0.5), 1)
}

// source opens, checks and decodes a picture at most once, and only when
// a scaled size is not already cached.
type source struct {
	ctx     context.Context
	cache   *previewCache
	path    string
	cfg     image.Config
	cfgErr  error
	checked bool
	img     image.Image
}

func sourceLoader(ctx context.Context, cache *previewCache, path string) *source {
	return &source{ctx: ctx, cache: cache, path: path}
}

func (s *source) config() (image.Config, error) {
	if s.checked {
		return s.cfg, s.cfgErr
	}
	s.checked = true
	s.cfg, s.cfgErr = s.readConfig()
	return s.cfg, s.cfgErr
}

func (s *source) readConfig() (image.Config, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return image.Config{}, fmt.Errorf("image file: %w", err)
	}
	if fi.Size() > maxPreviewFileBytes {
		return image.Config{}, fmt.Errorf("image file is %s, too big to preview; press o to open it", mebibytes(fi.Size()))
	}
	f, err := os.Open(s.path)
	if err != nil {
		return image.Config{}, fmt.Errorf("image file: %w", err)
	}
	defer f.Close()
	cfg, _, err := checkDecodeBudget(f, s.cache.decodeLimit)
	return cfg, err
}

// image decodes the picture (once). Decodes are serialised by the cache so
// that at most one budget's worth of pixels is in memory at a time.
func (s *source) image() (image.Image, error) {
	if s.img != nil {
		return s.img, nil
	}
	if _, err := s.config(); err != nil {
		return nil, err
	}
	release, err := s.cache.acquireDecode(s.ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("image file: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	if got := img.Bounds(); got.Dx() != s.cfg.Width || got.Dy() != s.cfg.Height {
		return nil, fmt.Errorf("decode image: %d×%d pixels, but its header declared %d×%d", got.Dx(), got.Dy(), s.cfg.Width, s.cfg.Height)
	}
	s.img = img
	return img, nil
}

// scaleTo returns src scaled to w×h, starting at (0, 0).
func scaleTo(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// fitCells returns the largest cols×rows box (a cell is two pixels tall in
// half-block mode) that keeps the image's aspect ratio inside maxCols×maxRows.
func fitCells(imgW, imgH, maxCols, maxRows int) (cols, rows int) {
	return fitBox(imgW, imgH, maxCols, maxRows, 1, 2)
}

// fitBox is fitCells for cells of cellW×cellH pixels.
func fitBox(imgW, imgH, maxCols, maxRows, cellW, cellH int) (cols, rows int) {
	if imgW <= 0 || imgH <= 0 || maxCols <= 0 || maxRows <= 0 || cellW <= 0 || cellH <= 0 {
		return 1, 1
	}
	scale := min(float64(maxCols*cellW)/float64(imgW), float64(maxRows*cellH)/float64(imgH))
	cols = max(int(float64(imgW)*scale/float64(cellW)+0.5), 1)
	rows = max(int(float64(imgH)*scale/float64(cellH)+0.5), 1)
	return min(cols, maxCols), min(rows, maxRows)
}

// halfBlocks draws two pixels per cell: "▀" with the upper pixel as the
// foreground and the lower one as the background, in 24-bit colour. The
// renderer lowers the colours to what the terminal's profile allows
// (termprobe.go raises the profile inside tmux when the outer terminal
// has true colour).
func halfBlocks(img *image.RGBA) string {
	b := img.Bounds()
	var sb strings.Builder
	sb.Grow(b.Dx() * b.Dy() / 2 * 40)
	num := make([]byte, 0, 4)
	put := func(v uint8) {
		sb.Write(strconv.AppendUint(num[:0], uint64(v), 10))
	}
	for y := b.Min.Y; y+1 < b.Max.Y; y += 2 {
		if y > b.Min.Y {
			sb.WriteByte('\n')
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			top := img.RGBAAt(x, y)
			bot := img.RGBAAt(x, y+1)
			sb.WriteString("\x1b[38;2;")
			put(top.R)
			sb.WriteByte(';')
			put(top.G)
			sb.WriteByte(';')
			put(top.B)
			sb.WriteString(";48;2;")
			put(bot.R)
			sb.WriteByte(';')
			put(bot.G)
			sb.WriteByte(';')
			put(bot.B)
			sb.WriteString("m▀")
		}
		sb.WriteString("\x1b[0m")
	}
	return sb.String()
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
