package n8n

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// base64Payload strips a data: URI prefix and picks the alphabet n8n's
// expressions may have produced: standard or URL-safe, padded or not.
func base64Payload(s string) (string, *base64.Encoding) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ","); i >= 0 {
			s = s[i+1:]
		}
	}
	// Counted, not copied: a replacer built per call cost 7 KB per image.
	urlSafe := strings.IndexByte(s, '-') >= 0 || strings.IndexByte(s, '_') >= 0
	padded := strings.HasSuffix(s, "=") || (len(s)-strings.Count(s, "\r")-strings.Count(s, "\n"))%4 == 0
	switch {
	case urlSafe && padded:
		return s, base64.URLEncoding
	case urlSafe:
		return s, base64.RawURLEncoding
	case padded:
		return s, base64.StdEncoding
	}
	return s, base64.RawStdEncoding
}

// base64Reader streams inline image data (the ingest worker).
func base64Reader(s string) io.Reader {
	payload, enc := base64Payload(s)
	return base64.NewDecoder(enc, strings.NewReader(payload))
}

// base64DecodedLen bounds the decoded size without decoding.
func base64DecodedLen(s string) int64 { return int64(len(s)) / 4 * 3 }

// inlineSniffPrefix is how much decoded data the pre-ack check keeps to
// read an image header (JPEG frame headers can follow EXIF/ICC segments);
// the same as the image store's.
const inlineSniffPrefix = 1 << 20

// checkInlineImage validates inline data before the ack without decoding
// it all into memory (issue 10 §7): the size bound from the encoded length,
// the header from the first MiB, and the rest of the base64 streamed to
// nowhere so a corrupt tail is still a 400. Data of up to
// inlineSniffPrefix decodes in one call into a pooled buffer (a 10 KB
// picture allocates nothing).
func checkInlineImage(img CallbackImage) error {
	if base64DecodedLen(img.Base64) > app.MaxImageBytes {
		return fieldErr(img.DataField(), "image is larger than %d MiB", app.MaxImageBytes>>20)
	}
	payload, enc := base64Payload(img.Base64)
	if enc.DecodedLen(len(payload)) <= inlineSniffPrefix {
		buf := getScratch(enc.DecodedLen(len(payload)))
		defer putScratch(buf)
		n, err := enc.Decode(*buf, aliasBytes(payload))
		if err != nil {
			return fieldErr(img.DataField(), "is not valid base64: %v", err)
		}
		if _, err := app.SniffImage((*buf)[:n]); err != nil {
			return fieldErr(img.DataField(), "%s", app.ErrorMessage(err))
		}
		return nil
	}
	r := base64.NewDecoder(enc, strings.NewReader(payload))
	head := make([]byte, inlineSniffPrefix)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fieldErr(img.DataField(), "is not valid base64: %v", err)
	}
	if _, err := app.SniffImage(head[:n]); err != nil {
		return fieldErr(img.DataField(), "%s", app.ErrorMessage(err))
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fieldErr(img.DataField(), "is not valid base64: %v", err)
	}
	return nil
}
