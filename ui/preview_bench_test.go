package ui

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi/kitty"
)

// photoLike is a 1024×1024 picture with smooth gradients and grain, so
// zlib and the sixel palette see something like a generated image rather
// than flat colour.
func photoLike() *image.RGBA {
	const n = 1024
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	rng := rand.New(rand.NewPCG(3, 4))
	for y := range n {
		for x := range n {
			grain := int(rng.UintN(24)) - 12
			c := func(v int) uint8 { return uint8(min(max(v+grain, 0), 255)) }
			img.SetRGBA(x, y, color.RGBA{R: c(x / 4), G: c(y / 4), B: c((x + y) / 8), A: 255})
		}
	}
	return img
}

// BenchmarkPreviewEncode draws a decoded 1024×1024 picture into an 80×24
// cell box, as the detail does after decoding: scale, then encode, with an
// empty cache each time. Pixel protocols assume 10×20-pixel cells (the
// terminal reports the real size). go test ./ui -run '^$' -bench PreviewEncode -benchtime 20x
func BenchmarkPreviewEncode(b *testing.B) {
	src := photoLike()
	load := func() (image.Image, error) { return src, nil }
	for _, p := range []graphicsProtocol{protoHalfBlocks, protoKitty, protoITerm2, protoSixel} {
		b.Run(p.String(), func(b *testing.B) {
			k := previewKey{sha: "bench", cols: 80, rows: 24, proto: p}
			if p != protoHalfBlocks {
				k.cellW, k.cellH = 10, 20
			}
			var sent int
			for b.Loop() {
				cache := newPreviewCache(previewCacheBytes)
				_, _, cells, inline, err := encodePreview(context.Background(), cache, k, 1024, 1024, load)
				if err != nil {
					b.Fatal(err)
				}
				sent = len(cells)
				if p != protoHalfBlocks {
					sent = len(inline)
				}
			}
			b.ReportMetric(float64(sent)/1024, "KiB-sent")
		})
	}
}

// BenchmarkPreviewRender is the whole Cmd for a 1024×1024 PNG file in
// half-blocks: cold (read, budget check, decode, scale, encode) against
// warm (the scaled picture is cached by sha256 and size; only the header
// is read again). go test ./ui -run '^$' -bench PreviewRender -benchtime 20x
func BenchmarkPreviewRender(b *testing.B) {
	path := filepath.Join(b.TempDir(), "photo.png")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := png.Encode(f, photoLike()); err != nil {
		b.Fatal(err)
	}
	f.Close()
	k := previewKey{sha: "photo", cols: 80, rows: 24, proto: protoHalfBlocks}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if msg := renderPreview(context.Background(), newPreviewCache(previewCacheBytes), path, k); msg.err != nil {
				b.Fatal(msg.err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		cache := newPreviewCache(previewCacheBytes)
		for b.Loop() {
			if msg := renderPreview(context.Background(), cache, path, k); msg.err != nil {
				b.Fatal(msg.err)
			}
		}
	})
}

// BenchmarkKittyFormats compares the payloads x/ansi/kitty can send for
// one 480×480 preview (the 80×24-cell box at 10×20-pixel cells): raw RGBA
// or RGB through zlib, or PNG. go test ./ui -run '^$' -bench KittyFormats -benchtime 10x
func BenchmarkKittyFormats(b *testing.B) {
	src := scaleTo(photoLike(), 480, 480)
	for _, f := range []struct {
		name        string
		format      int
		compression byte
	}{{"rgba-zlib", kitty.RGBA, kitty.Zlib}, {"rgb-zlib", kitty.RGB, kitty.Zlib}, {"png", kitty.PNG, 0}} {
		b.Run(f.name, func(b *testing.B) {
			var sent int
			for b.Loop() {
				var sb strings.Builder
				o := kitty.Options{Action: kitty.TransmitAndPut, Transmission: kitty.Direct, Format: f.format,
					ImageWidth: 480, ImageHeight: 480, Compression: f.compression, Chunk: true}
				if err := kitty.EncodeGraphics(&sb, src, &o); err != nil {
					b.Fatal(err)
				}
				sent = sb.Len()
			}
			b.ReportMetric(float64(sent)/1024, "KiB-sent")
		})
	}
}
