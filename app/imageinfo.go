package app

import (
	"bytes"
	"encoding/binary"
)

// Image limits (DESIGN §5). They are checked from the file header before
// anything is decoded, so a small file that claims to be enormous (a
// "decompression bomb") is refused without allocating its pixels.
const (
	MaxImageBytes      = 25 << 20 // per image, enforced while streaming
	MaxImagePixels     = 64 << 20 // 64 megapixels (8192×8192 fits)
	MaxImagesPerResult = 16       // per callback
)

// ImageInfo is what the header of an image file says about it.
type ImageInfo struct {
	MimeType string // image/png, image/jpeg, image/webp, image/gif
	Ext      string // png, jpg, webp, gif (the stored file's extension)
	Width    int
	Height   int
}

// Reasons of image errors, stored on a failed request and listed in the README.
const (
	ReasonImageUnsupported = "image_unsupported" // not PNG, JPEG, WebP or GIF
	ReasonImageTooLarge    = "image_too_large"   // bytes or pixels over the limit
	ReasonImageTruncated   = "image_truncated"   // header incomplete
	ReasonImageCorrupt     = "image_corrupt"     // does not decode, or has data after its end marker
	ReasonImageUnavailable = "image_unavailable" // could not be fetched or stored
)

// SniffImage identifies an image by its magic bytes and reads its size from
// the header. head is the start of the file: the whole file, or a prefix
// (for JPEG the frame header may sit after large EXIF/ICC segments, so give
// it as much as is at hand). It never decodes pixels.
func SniffImage(head []byte) (ImageInfo, error) {
	var info ImageInfo
	var err error
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		info, err = sniffPNG(head)
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		info, err = sniffJPEG(head)
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		info, err = sniffWebP(head)
	case bytes.HasPrefix(head, []byte("GIF87a")) || bytes.HasPrefix(head, []byte("GIF89a")):
		info, err = sniffGIF(head)
	default:
		return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "not a PNG, JPEG, WebP or GIF image (unknown magic bytes)")
	}
	if err != nil {
		return ImageInfo{}, err
	}
	if info.Width <= 0 || info.Height <= 0 {
		return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "%s header gives an empty size %d×%d", info.Ext, info.Width, info.Height)
	}
	if int64(info.Width)*int64(info.Height) > MaxImagePixels {
		return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageTooLarge, "%s header claims %d×%d pixels, over the limit of 64 megapixels", info.Ext, info.Width, info.Height)
	}
	return info, nil
}

func truncated(kind string) error {
	return ReasonErrorf(EINVALID, ReasonImageTruncated, "%s header is truncated", kind)
}

func sniffPNG(b []byte) (ImageInfo, error) {
	// Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
	if len(b) < 24 {
		return ImageInfo{}, truncated("PNG")
	}
	if string(b[12:16]) != "IHDR" {
		return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "PNG does not start with an IHDR chunk")
	}
	w, h := binary.BigEndian.Uint32(b[16:20]), binary.BigEndian.Uint32(b[20:24])
	return ImageInfo{MimeType: "image/png", Ext: "png", Width: clampDim(w), Height: clampDim(h)}, nil
}

func sniffGIF(b []byte) (ImageInfo, error) {
	if len(b) < 10 {
		return ImageInfo{}, truncated("GIF")
	}
	w, h := binary.LittleEndian.Uint16(b[6:8]), binary.LittleEndian.Uint16(b[8:10])
	return ImageInfo{MimeType: "image/gif", Ext: "gif", Width: int(w), Height: int(h)}, nil
}

func sniffWebP(b []byte) (ImageInfo, error) {
	if len(b) < 30 {
		return ImageInfo{}, truncated("WebP")
	}
	info := ImageInfo{MimeType: "image/webp", Ext: "webp"}
	switch string(b[12:16]) {
	case "VP8 ": // lossy: frame tag (3), start code 9d 01 2a, 14-bit sizes
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "WebP VP8 frame has no start code")
		}
		info.Width = int(binary.LittleEndian.Uint16(b[26:28]) & 0x3fff)
		info.Height = int(binary.LittleEndian.Uint16(b[28:30]) & 0x3fff)
	case "VP8L": // lossless: signature 0x2f, then 14-bit width-1 and height-1
		if b[20] != 0x2f {
			return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "WebP VP8L has no signature byte")
		}
		bits := binary.LittleEndian.Uint32(b[21:25])
		info.Width = int(bits&0x3fff) + 1
		info.Height = int((bits>>14)&0x3fff) + 1
	case "VP8X": // extended: 24-bit canvas width-1 and height-1
		info.Width = int(uint32(b[24])|uint32(b[25])<<8|uint32(b[26])<<16) + 1
		info.Height = int(uint32(b[27])|uint32(b[28])<<8|uint32(b[29])<<16) + 1
	default:
		return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "WebP chunk %q is unknown", b[12:16])
	}
	return info, nil
}

// sniffJPEG walks the marker segments to the first start-of-frame marker,
// which holds the size. Segments before it (EXIF, ICC profiles) are skipped
// by their length, never parsed.
func sniffJPEG(b []byte) (ImageInfo, error) {
	i := 2
	for {
		// Fill bytes (0xFF) may pad before a marker.
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return ImageInfo{}, truncated("JPEG")
		}
		if b[i-1] != 0xFF {
			return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "JPEG marker expected at byte %d", i)
		}
		marker := b[i]
		i++
		switch {
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			continue // markers without a length
		case marker == 0xD9 || marker == 0xDA:
			return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "JPEG has no frame header before its image data")
		}
		if i+2 > len(b) {
			return ImageInfo{}, truncated("JPEG")
		}
		segLen := int(binary.BigEndian.Uint16(b[i : i+2]))
		if segLen < 2 {
			return ImageInfo{}, ReasonErrorf(EINVALID, ReasonImageUnsupported, "JPEG segment length %d is invalid", segLen)
		}
		isSOF := marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
		if isSOF {
			// length (2), precision (1), height (2), width (2)
			if i+7 > len(b) {
				return ImageInfo{}, truncated("JPEG")
			}
			h := binary.BigEndian.Uint16(b[i+3 : i+5])
			w := binary.BigEndian.Uint16(b[i+5 : i+7])
			return ImageInfo{MimeType: "image/jpeg", Ext: "jpg", Width: int(w), Height: int(h)}, nil
		}
		i += segLen
	}
}

// clampDim keeps a 32-bit header dimension inside int on every platform;
// anything that large fails the pixel limit anyway.
func clampDim(v uint32) int {
	if v > 1<<30 {
		return 1 << 30
	}
	return int(v)
}

// ImageExt returns the stored file extension for a MIME type, or "".
func ImageExt(mime string) string {
	switch mime {
	case "image/png":
		return "png"
	case "image/jpeg":
		return "jpg"
	case "image/webp":
		return "webp"
	case "image/gif":
		return "gif"
	}
	return ""
}
