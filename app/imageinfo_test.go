package app

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIF inserts a large APP1 segment after the JPEG's SOI marker, as
// cameras and editors do; the frame header then starts 60 KB in.
func withEXIF(jpg []byte) []byte {
	seg := make([]byte, 60000)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func webpHeader(chunk string, payload []byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBP" + chunk)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	for len(b) < 30 {
		b = append(b, 0)
	}
	return b
}

func TestSniffImageReadsTypeAndSizeFromTheHeader(t *testing.T) {
	pngEnc := func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }
	jpgEnc := func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }
	gifEnc := func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }
	vp8l := []byte{0x2f}
	vp8l = binary.LittleEndian.AppendUint32(vp8l, uint32(640-1)|uint32(480-1)<<14)
	vp8x := []byte{0, 0, 0, 0, 0x7f, 0x07, 0x00, 0x37, 0x04, 0x00}   // 1920×1080
	vp8 := []byte{0, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0x04, 0x00, 0x03} // 1024×768
	tests := []struct {
		name       string
		data       []byte
		mime       string
		w, h       int
		wantReason string
	}{
		{"a PNG gives its IHDR size", encoded(t, pngEnc, 300, 200), "image/png", 300, 200, ""},
		{"a JPEG gives its frame size", encoded(t, jpgEnc, 64, 48), "image/jpeg", 64, 48, ""},
		{"a JPEG with a big EXIF segment still gives its size", withEXIF(encoded(t, jpgEnc, 64, 48)), "image/jpeg", 64, 48, ""},
		{"a GIF gives its screen size", encoded(t, gifEnc, 10, 12), "image/gif", 10, 12, ""},
		{"a lossless WebP gives its size", webpHeader("VP8L", vp8l), "image/webp", 640, 480, ""},
		{"an extended WebP gives its canvas size", webpHeader("VP8X", vp8x), "image/webp", 1920, 1080, ""},
		{"a lossy WebP gives its frame size", webpHeader("VP8 ", vp8), "image/webp", 1024, 768, ""},
		{"HTML is not an image", []byte("<!doctype html><p>hi"), "", 0, 0, ReasonImageUnsupported},
		{"a PNG cut inside its header is truncated", encoded(t, pngEnc, 3, 3)[:20], "", 0, 0, ReasonImageTruncated},
		{"a JPEG cut before its frame header is truncated", withEXIF(encoded(t, jpgEnc, 8, 8))[:1000], "", 0, 0, ReasonImageTruncated},
		{"a PNG claiming 100000×100000 is too large", pngClaim(100000, 100000), "", 0, 0, ReasonImageTooLarge},
		{"a PNG claiming 0×10 is refused", pngClaim(0, 10), "", 0, 0, ReasonImageUnsupported},
		{"8192×8192 is exactly within 64 megapixels", pngClaim(8192, 8192), "image/png", 8192, 8192, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := SniffImage(tt.data)
			if tt.wantReason != "" {
				if ErrorReason(err) != tt.wantReason {
					t.Fatalf("SniffImage = %+v, %v; want reason %s", info, err, tt.wantReason)
				}
				return
			}
			if err != nil || info.MimeType != tt.mime || info.Width != tt.w || info.Height != tt.h {
				t.Fatalf("SniffImage = %+v, %v; want %s %d×%d", info, err, tt.mime, tt.w, tt.h)
			}
			if ImageExt(info.MimeType) != info.Ext {
				t.Fatalf("ext %q does not match %s", info.Ext, info.MimeType)
			}
		})
	}
}

func pngClaim(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = binary.BigEndian.AppendUint32(b, w)
	b = binary.BigEndian.AppendUint32(b, h)
	return append(b, 8, 6, 0, 0, 0, 0, 0, 0, 0)
}

func FuzzSniffImage(f *testing.F) {
	f.Add(pngClaim(1, 1))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10})
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := SniffImage(b)
		if err == nil && (info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > MaxImagePixels) {
			t.Fatalf("accepted %+v", info)
		}
	})
}
