package n8n

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"net/http"
	"os"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// pngChunk is one PNG chunk with its CRC.
func pngChunk(kind string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(kind)
	b.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	return b.Bytes()
}

// pngClaiming16Bit is a well-formed PNG (IHDR, IEND) claiming a 16-bit
// RGBA w×h picture: 8 bytes a pixel once decoded.
func pngClaiming16Bit(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:4], w)
	binary.BigEndian.PutUint32(ihdr[4:8], h)
	ihdr[8], ihdr[9] = 16, 6
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	return append(out, pngChunk("IEND", nil)...)
}

// gifClaiming is a 35-byte GIF whose screen and one frame say w×h: whole
// in structure (it ends with its trailer), with far too little image data.
func gifClaiming(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0, 0, 0)          // no colour table
	b = append(b, 0x21, 0xFE, 0)    // an empty comment extension
	b = append(b, 0x2C, 0, 0, 0, 0) // image descriptor at 0,0 …
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0)                         // … no local colour table
	b = append(b, 2, 5, 0x4C, 1, 2, 3, 4, 0) // LZW size 2, one 5-byte block, terminator
	return append(b, 0x3B)                   // trailer
}

func testJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testGIF(t *testing.T) []byte {
	img := image.NewPaletted(image.Rect(0, 0, 10, 6), color.Palette{color.Black, color.White})
	img.Pix[3] = 1
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Issue 10 item 10: images were checked by their header only. Each of
// these was `completed`; now each fails the request as image_corrupt or
// image_too_large and leaves no file, while real images of every format
// are stored byte for byte.
func TestImagesAreVerifiedToDecodeAndEndWhereTheySay(t *testing.T) {
	webpPic, err := os.ReadFile("testdata/images/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	pngPic := testPNG(t, 8, 8, 3)
	refused := []struct {
		name string
		data []byte
		why  string // in the request's error message
	}{
		{"a 24-byte PNG header with no data", pngHeaderClaiming(64, 64), "PNG ends without an IEND chunk"},
		{"a 35-byte GIF claiming 8000×8000", gifClaiming(8000, 8000), "gif does not decode"},
		{"a PNG with HTML appended", append(append([]byte{}, pngPic...), "<html><script>alert(1)</script></html>"...), "38 bytes after its IEND marker"},
		{"a JPEG with bytes after EOI", append(testJPEG(t), "PK\x03\x04 a zip"...), "10 bytes after its EOI marker"},
		{"a GIF with bytes after its trailer", append(testGIF(t), "junk"...), "4 bytes after its trailer marker"},
		{"a WebP with bytes after its RIFF container", append(append([]byte{}, webpPic...), "junk"...), "4 bytes after its RIFF marker"},
		{"a PNG whose chunks stop before IEND", pngPic[:len(pngPic)-12], "PNG ends without an IEND chunk"},
		{"a 16-bit 8192×8192 PNG, 512 MiB once decoded", pngClaiming16Bit(8192, 8192), "512 MiB to decode, over the 256 MiB budget"},
	}
	for _, tt := range refused {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			wantStatus(t, h.callback(successBody(req.ID, tt.data)), http.StatusOK)
			h.process()
			r := h.get(req.ID)
			if r.Status != app.StatusFailed || r.ImageCount != 0 {
				t.Fatalf("request %s with %d images (%s: %s), want failed with none", r.Status, r.ImageCount, r.ErrorCode, r.ErrorMessage)
			}
			if r.ErrorCode != app.ReasonImageUnavailable || !bytes.Contains([]byte(r.ErrorMessage), []byte(tt.why)) {
				t.Fatalf("error %s %q, want image_unavailable saying %q", r.ErrorCode, r.ErrorMessage, tt.why)
			}
			if h.count("images") != 0 {
				t.Fatal("an image row was written")
			}
			wantNoImageFiles(t, h)
		})
	}
	stored := []struct {
		name string
		data []byte
	}{{"PNG", pngPic}, {"JPEG", testJPEG(t)}, {"GIF", testGIF(t)}, {"WebP", webpPic}}
	for _, tt := range stored {
		t.Run("a real "+tt.name+" is stored byte for byte", func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			wantStatus(t, h.callback(successBody(req.ID, tt.data)), http.StatusOK)
			h.process()
			imgs, err := h.db.Images(context.Background(), req.ID)
			if r := h.get(req.ID); r.Status != app.StatusCompleted || err != nil || len(imgs) != 1 {
				t.Fatalf("request %s (%s), %d images (%v); want completed with 1", r.Status, r.ErrorMessage, len(imgs), err)
			}
			got, err := os.ReadFile(imgs[0].Path)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("stored file differs from what was sent (%v)", err)
			}
		})
	}
}
