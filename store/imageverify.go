package store

import (
	"bufio"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/influencegen/influencegen/app"
)

// A header is only a claim: a 24-byte PNG header with no pixels, or a
// 35-byte GIF that says 8000×8000, passes SniffImage. Before a file is
// stored it is therefore walked to its end marker (nothing may follow
// it: a PNG with HTML appended is not an image) and decoded once, within a
// memory budget that is checked from the header before decoding.

// maxDecodeBytes is the most one verification may allocate for pixels:
// 64 megapixels at 4 bytes each. A 16-bit RGBA 8192×8192 PNG (512 MiB once
// decoded) is refused before decoding.
const maxDecodeBytes = app.MaxImagePixels * 4

// decodeSlots lets one image be decoded at a time, so concurrent
// deliveries cannot multiply the budget.
var decodeSlots = make(chan struct{}, 1)

// verifyImage checks that the size bytes of r (sniffed as info) are one
// whole image: its structure ends exactly at the end of the data, and it
// decodes within maxDecodeBytes. It reads; it never changes a byte.
func verifyImage(r io.ReaderAt, size int64, info app.ImageInfo) error {
	var (
		bpp float64
		err error
	)
	switch info.Ext {
	case "png":
		bpp, err = pngEnd(r, size)
	case "jpg":
		bpp, err = jpegEnd(r, size)
	case "gif":
		bpp, err = 1, gifEnd(r, size)
	case "webp":
		bpp, err = 4, webpEnd(r, size)
	default:
		return app.ReasonErrorf(app.EINVALID, app.ReasonImageUnsupported, "no verifier for %s images", info.Ext)
	}
	if err != nil {
		return err
	}
	if need := float64(info.Width) * float64(info.Height) * bpp; need > maxDecodeBytes {
		return app.ReasonErrorf(app.EINVALID, app.ReasonImageTooLarge,
			"%s of %d×%d would take %.0f MiB to decode, over the %d MiB budget", info.Ext, info.Width, info.Height, need/(1<<20), maxDecodeBytes>>20)
	}
	decodeSlots <- struct{}{}
	defer func() { <-decodeSlots }()
	// A small picture gets a buffer of its own size, not 64 KiB to zero.
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), int(min(size+1, 64<<10)))
	var img image.Image
	switch info.Ext {
	case "png":
		img, err = png.Decode(br)
	case "jpg":
		img, err = jpeg.Decode(br)
	case "gif":
		img, err = gif.Decode(br)
	case "webp":
		img, err = webp.Decode(br)
	}
	if err != nil {
		return corrupt("%s does not decode: %v", info.Ext, err)
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return corrupt("%s decodes to %d×%d but its header says %d×%d", info.Ext, b.Dx(), b.Dy(), info.Width, info.Height)
	}
	return nil
}

func corrupt(format string, args ...any) error {
	return app.ReasonErrorf(app.EINVALID, app.ReasonImageCorrupt, format, args...)
}

func trailing(kind, marker string, end, size int64) error {
	if end == size {
		return nil
	}
	return corrupt("%s has %d bytes after its %s marker: not a plain image", kind, size-end, marker)
}

// pngEnd walks the chunks to IEND and returns the bytes per pixel the
// decoder will allocate (from IHDR's bit depth and colour type).
func pngEnd(r io.ReaderAt, size int64) (float64, error) {
	var ihdr [2]byte
	if _, err := r.ReadAt(ihdr[:], 24); err != nil {
		return 0, corrupt("PNG IHDR is truncated")
	}
	depth, colour := ihdr[0], ihdr[1]
	bpp := map[byte]float64{0: 1, 2: 4, 3: 1, 4: 4, 6: 4}[colour]
	if bpp == 0 {
		return 0, corrupt("PNG colour type %d is invalid", colour)
	}
	if depth == 16 {
		bpp *= 2
	}
	pos := int64(8)
	var hdr [8]byte
	for {
		if _, err := r.ReadAt(hdr[:], pos); err != nil {
			return 0, corrupt("PNG ends without an IEND chunk")
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		pos += 12 + n
		if pos > size {
			return 0, corrupt("PNG chunk %q runs past the end of the file", hdr[4:8])
		}
		if string(hdr[4:8]) == "IEND" {
			return bpp, trailing("PNG", "IEND", pos, size)
		}
	}
}

// jpegEnd walks the segments and entropy-coded data to EOI and returns
// the bytes per pixel (components of the frame).
func jpegEnd(r io.ReaderAt, size int64) (float64, error) {
	// A small picture gets a buffer of its own size, not 64 KiB to zero.
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), int(min(size+1, 64<<10)))
	pos := int64(0)
	next := func() (byte, error) {
		b, err := br.ReadByte()
		pos++
		return b, err
	}
	skip := func(n int64) error {
		d, err := br.Discard(int(n))
		pos += int64(d)
		return err
	}
	if err := skip(2); err != nil { // SOI
		return 0, corrupt("JPEG is truncated")
	}
	components := 0
	atMarker := false // the entropy scan stopped just past a marker's 0xFF
	for {
		if !atMarker {
			b, err := next()
			if err != nil {
				return 0, corrupt("JPEG ends without an EOI marker")
			}
			if b != 0xFF {
				return 0, corrupt("JPEG marker expected at byte %d", pos-1)
			}
		}
		atMarker = false
		var err error
		m := byte(0xFF)
		for m == 0xFF {
			if m, err = next(); err != nil {
				return 0, corrupt("JPEG ends without an EOI marker")
			}
		}
		switch {
		case m == 0xD9:
			return float64(max(components, 1)), trailing("JPEG", "EOI", pos, size)
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue
		}
		var lb [2]byte
		if lb[0], err = next(); err == nil {
			lb[1], err = next()
		}
		if err != nil {
			return 0, corrupt("JPEG ends inside a segment header")
		}
		n := int64(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return 0, corrupt("JPEG segment length is invalid")
		}
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && n >= 6 {
			head, err := br.Peek(6)
			if err != nil {
				return 0, corrupt("JPEG frame header is truncated")
			}
			components = int(head[5])
		}
		if err := skip(n); err != nil {
			return 0, corrupt("JPEG segment runs past the end of the file")
		}
		if m != 0xDA {
			continue
		}
		// Entropy-coded data: runs to the next marker that is neither a
		// stuffed 0xFF00 nor a restart marker.
		for {
			b, err := next()
			if err != nil {
				return 0, corrupt("JPEG ends inside its image data, without an EOI marker")
			}
			if b != 0xFF {
				continue
			}
			peek, err := br.Peek(1)
			if err != nil {
				return 0, corrupt("JPEG ends inside its image data, without an EOI marker")
			}
			if peek[0] == 0x00 || (peek[0] >= 0xD0 && peek[0] <= 0xD7) || peek[0] == 0xFF {
				continue
			}
			atMarker = true
			break
		}
	}
}

// gifEnd walks the blocks to the trailer.
func gifEnd(r io.ReaderAt, size int64) error {
	// A small picture gets a buffer of its own size, not 64 KiB to zero.
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), int(min(size+1, 64<<10)))
	pos := int64(0)
	read := func(n int) ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		pos += int64(n)
		return b, err
	}
	subBlocks := func() error {
		for {
			n, err := br.ReadByte()
			pos++
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			d, err := br.Discard(int(n))
			pos += int64(d)
			if err != nil {
				return err
			}
		}
	}
	head, err := read(13)
	if err != nil {
		return corrupt("GIF header is truncated")
	}
	if head[10]&0x80 != 0 {
		if _, err := read(3 << ((head[10] & 7) + 1)); err != nil {
			return corrupt("GIF colour table is truncated")
		}
	}
	for {
		b, err := br.ReadByte()
		pos++
		if err != nil {
			return corrupt("GIF ends without its trailer")
		}
		switch b {
		case 0x3B:
			return trailing("GIF", "trailer", pos, size)
		case 0x21:
			if _, err := read(1); err != nil || subBlocks() != nil {
				return corrupt("GIF extension is truncated")
			}
		case 0x2C:
			desc, err := read(9)
			if err != nil {
				return corrupt("GIF image descriptor is truncated")
			}
			if desc[8]&0x80 != 0 {
				if _, err := read(3 << ((desc[8] & 7) + 1)); err != nil {
					return corrupt("GIF colour table is truncated")
				}
			}
			if _, err := read(1); err != nil || subBlocks() != nil {
				return corrupt("GIF image data is truncated")
			}
		default:
			return corrupt("GIF block 0x%02x at byte %d is unknown", b, pos-1)
		}
	}
}

// webpEnd checks the RIFF size against the data: what lies past the RIFF
// container is not part of the image.
func webpEnd(r io.ReaderAt, size int64) error {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return corrupt("WebP header is truncated")
	}
	end := int64(binary.LittleEndian.Uint32(hdr[4:8])) + 8
	if end > size {
		return corrupt("WebP RIFF size %d runs past the end of the file (%d bytes)", end, size)
	}
	return trailing("WebP", "RIFF", end, size)
}
