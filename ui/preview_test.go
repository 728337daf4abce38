package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// craftedPNG is a PNG whose header declares w×h pixels of the given bit
// depth and colour type, with no pixel data at all: a few dozen bytes that
// would decode to hundreds of MiB.
func craftedPNG(t *testing.T, w, h uint32, depth, colourType byte) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colourType, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	path := filepath.Join(t.TempDir(), "crafted.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPreviewBudgetCountsDeclaredPixelsTimesBytesPerPixel(t *testing.T) {
	tests := []struct {
		name              string
		w, h              uint32
		depth, colourType byte
		wantRefused       bool
		wantSize          string
	}{
		{"16-bit RGBA 8192×8192 is 512 MiB decoded", 8192, 8192, 16, 6, true, "512 MiB"},
		{"8-bit RGBA 8192×8192 is 256 MiB decoded", 8192, 8192, 8, 6, true, "256 MiB"},
		{"16-bit RGBA 4096×4096 is exactly the 128 MiB budget", 4096, 4096, 16, 6, false, ""},
		{"8-bit grey 8192×8192 is 64 MiB decoded", 8192, 8192, 8, 0, false, ""},
		{"16-bit grey 10000×10000 is 190.7 MiB decoded", 10000, 10000, 16, 0, true, "190.7 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(craftedPNG(t, tt.w, tt.h, tt.depth, tt.colourType))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, _, err = checkDecodeBudget(f, maxPreviewDecodeBytes)
			var tooLarge previewTooLargeError
			if refused := errors.As(err, &tooLarge); refused != tt.wantRefused {
				t.Fatalf("refused=%v (%v), want %v", refused, err, tt.wantRefused)
			}
			if tt.wantRefused && !strings.Contains(err.Error(), tt.wantSize) {
				t.Fatalf("the message should give the decoded size %s: %q", tt.wantSize, err)
			}
		})
	}
}

// craftedJPEG is SOI and a start-of-frame declaring w×h with three
// full-resolution components: enough for DecodeConfig, nothing to decode.
func craftedJPEG(t *testing.T, sof byte, w, h uint16) string {
	t.Helper()
	// SOI, then a JFIF APP0 (DecodeConfig stops at the frame only after one).
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xFF, sof, 0x00, 0x11, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 3,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0)
	path := filepath.Join(t.TempDir(), "crafted.jpg")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProgressiveJPEGsCountTheCoefficientsTheDecoderKeeps(t *testing.T) {
	for _, tc := range []struct {
		name        string
		sof         byte
		wantRefused bool
	}{
		{"baseline 4096×4096 is 48 MiB decoded", 0xC0, false},
		{"progressive 4096×4096 is 240 MiB while decoding", 0xC2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(craftedJPEG(t, tc.sof, 4096, 4096))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, format, err := checkDecodeBudget(f, maxPreviewDecodeBytes)
			var tooLarge previewTooLargeError
			if refused := errors.As(err, &tooLarge); format != "jpeg" || refused != tc.wantRefused || !refused && err != nil {
				t.Fatalf("format %q, err %v; want refused=%v", format, err, tc.wantRefused)
			}
			if tc.wantRefused && !strings.Contains(err.Error(), "240 MiB") {
				t.Fatalf("message: %v", err)
			}
		})
	}
}

func TestAHugeDeclaredPictureShowsTooLargeInsteadOfBeingDecoded(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 48)
	path := craftedPNG(t, 8192, 8192, 16, 6)
	img := app.Image{Sequence: 1, SHA256: "crafted-8192", Path: path, MimeType: "image/png", Width: 8192, Height: 8192, Bytes: 57}
	m = step(t, m, detailLoadedMsg{id: m.detail.req.ID, images: []app.Image{img}})
	view := ansi.Strip(m.View().Content)
	// The file has no pixel data: had it been decoded, the error would be
	// a decode error, not the budget's.
	if !strings.Contains(view, "too large to preview") || !strings.Contains(view, "8192×8192") {
		t.Fatalf("the detail should say the picture is too large to preview, with its size:\n%s", view)
	}
	if m.previews.usedBytes() > previewCacheBytes {
		t.Fatalf("cache holds %d bytes, over its %d budget", m.previews.usedBytes(), previewCacheBytes)
	}
}

func TestThePreviewIsDecodedInACmdNeverInUpdate(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 48)
	dir := t.TempDir()
	path := filepath.Join(dir, "fox.png")
	img := app.Image{Sequence: 1, SHA256: "later", Path: path, MimeType: "image/png", Width: 64, Height: 48, Bytes: 1000}
	// The file does not exist while Update runs: Update can only have
	// asked for the picture, not read it.
	next, cmd := m.Update(detailLoadedMsg{id: m.detail.req.ID, images: []app.Image{img}})
	m = next.(Model)
	if !strings.Contains(ansi.Strip(m.View().Content), "rendering preview…") {
		t.Fatalf("while the Cmd runs the detail should say so:\n%s", ansi.Strip(m.View().Content))
	}
	src, _ := writeTestPNG(t, t.TempDir())
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var rendered *previewRenderedMsg
	for _, msg := range runCmd(t, cmd) {
		if p, ok := msg.(previewRenderedMsg); ok {
			rendered = &p
		}
	}
	if rendered == nil || rendered.err != nil || !strings.Contains(rendered.cells, "▀") {
		t.Fatalf("the Cmd should decode the file written after Update returned: %+v", rendered)
	}
	m = step(t, m, *rendered)
	if !strings.Contains(m.View().Content, "▀") {
		t.Fatal("the rendered picture is not shown")
	}
}

func TestPreviewCacheKeepsScaledPicturesBySHAAndSizeWithinItsByteBudget(t *testing.T) {
	c := newPreviewCache(100 << 10) // 100 KiB: four 80×80 RGBA pictures (25,600 bytes each) fit, five do not
	loads := 0
	load := func() (image.Image, error) { loads++; return gradient(320, 320), nil }
	ctx := context.Background()
	for _, sha := range []string{"a", "b", "c", "d"} {
		if _, err := c.scaled(ctx, sha, 80, 80, load); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.scaled(ctx, "a", 80, 80, load); err != nil || loads != 4 {
		t.Fatalf("a cached size must not decode again: %d loads, %v", loads, err)
	}
	if _, err := c.scaled(ctx, "a", 40, 40, load); err != nil || loads != 5 {
		t.Fatalf("another size of the same picture is another entry: %d loads, %v", loads, err)
	}
	// "b" is now the least recently used: adding "e" evicts it, not "a".
	if _, err := c.scaled(ctx, "e", 80, 80, load); err != nil {
		t.Fatal(err)
	}
	if used := c.usedBytes(); used > 100<<10 {
		t.Fatalf("cache holds %d bytes, over its budget", used)
	}
	if _, ok := c.lookup(scaledKey{sha: "b", w: 80, h: 80}); ok {
		t.Fatal("the least recently used picture should have been evicted")
	}
	if _, ok := c.lookup(scaledKey{sha: "a", w: 80, h: 80}); !ok {
		t.Fatal("a recently used picture was evicted")
	}
	c.put(previewRenderedMsg{key: previewKey{sha: "huge"}, cells: strings.Repeat("x", 200<<10)})
	if _, ok := c.get(previewKey{sha: "huge"}); ok || c.usedBytes() > 100<<10 {
		t.Fatal("an entry larger than the whole budget must not be kept")
	}
}

func TestDecodesWaitForEachOtherAndForTheirContext(t *testing.T) {
	c := newPreviewCache(1 << 20)
	release, err := c.acquireDecode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.acquireDecode(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a second decode must wait for the first (and give up with its context): %v", err)
	}
	release()
	release2, err := c.acquireDecode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release2()
}

// keep tea imported for Update-level helpers used above.
var _ tea.Msg = previewRenderedMsg{}
