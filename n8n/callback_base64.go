package n8n

import (
	"encoding/base64"
	"io"
	"strings"
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
	urlSafe := strings.ContainsAny(s, "-_")
	padded := strings.HasSuffix(s, "=") || len(strings.NewReplacer("\r", "", "\n", "").Replace(s))%4 == 0
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

// decodeBase64 decodes inline image data (the pre-ack check).
func decodeBase64(s string) ([]byte, error) {
	payload, enc := base64Payload(s)
	return enc.DecodeString(payload)
}

// base64Reader streams inline image data (the ingest worker).
func base64Reader(s string) io.Reader {
	payload, enc := base64Payload(s)
	return base64.NewDecoder(enc, strings.NewReader(payload))
}

// base64DecodedLen bounds the decoded size without decoding.
func base64DecodedLen(s string) int64 { return int64(len(s)) / 4 * 3 }
