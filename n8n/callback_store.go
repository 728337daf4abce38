package n8n

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// What a delivery row holds (issue 17): the bytes n8n sent, so the ack
// makes no copy and ingest parses them once. A body carrying bytes that
// are not kept is stored normalised instead (encodeDelivery): metadata
// over MaxMetadataBytes (replaced by a note, issue 10 item 8) or members
// nobody reads making up more than slackBytes. Rows written before issue
// 17 hold the normalised form too; ingest reads both with ParseCallback.

// slackBytes is how much of a body may be members the callback does not
// use before it is stored normalised instead of as received.
const slackBytes = 64 << 10

// deliveryBody returns what to store for body, parsed as cb.
func deliveryBody(cb Callback, body []byte) ([]byte, error) {
	if !cb.metadataDropped && len(body) <= cb.payloadBytes()+slackBytes {
		return body, nil
	}
	return encodeDelivery(cb)
}

// payloadBytes is the size of what the callback carries that is kept.
func (cb Callback) payloadBytes() int {
	n := len(cb.Metadata) + len(cb.ErrorMessage)
	for _, img := range cb.Images {
		n += len(img.Base64) + len(img.URL)
	}
	return n
}

// encodeDelivery is json.Marshal(cb) in one allocation of the exact size:
// json.Marshal grows its buffer by doubling and then copies it out, three
// times the base64 it carries. Inline data is written as is when it needs
// no escaping (base64 never does), else through json.Marshal.
func encodeDelivery(cb Callback) ([]byte, error) {
	images := cb.Images
	cb.Images = nil
	head, err := json.Marshal(cb)
	if err != nil {
		return nil, err
	}
	type part struct{ meta, data []byte }
	parts := make([]part, len(images))
	size := len(head)
	if len(images) > 0 {
		size += len(`,"images":[]`) + len(images) - 1 // the brackets and the commas between images
	}
	for i, img := range images {
		data := img.Base64
		img.Base64 = ""
		if parts[i].meta, err = json.Marshal(img); err != nil {
			return nil, err
		}
		if data != "" {
			if jsonSafe(data) {
				parts[i].data = unsafe.Slice(unsafe.StringData(data), len(data))
			} else if quoted, err := json.Marshal(data); err == nil {
				parts[i].data = quoted[1 : len(quoted)-1]
			} else {
				return nil, err
			}
		}
		size += len(parts[i].meta)
		if parts[i].data != nil {
			size += len(`,"base64":""`) + len(parts[i].data)
		}
	}
	out := make([]byte, 0, size)
	out = append(out, head[:len(head)-1]...)
	if len(parts) > 0 {
		out = append(out, `,"images":[`...)
		for i, p := range parts {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, p.meta[:len(p.meta)-1]...)
			if p.data != nil {
				out = append(out, `,"base64":"`...)
				out = append(out, p.data...)
				out = append(out, '"')
			}
			out = append(out, '}')
		}
		out = append(out, ']')
	}
	return append(out, '}'), nil
}

// jsonSafe reports whether s can go between JSON quotes as it is.
func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

// MaxMetadataBytes caps the free-form metadata kept with a delivery. It is
// the caller's, not ours: a larger one is replaced by a note saying so,
// instead of refusing the result it came with (n8n makes one attempt).
const MaxMetadataBytes = 16 << 10

func capMetadata(raw []byte) (json.RawMessage, bool) {
	if len(raw) <= MaxMetadataBytes {
		return append(json.RawMessage(nil), raw...), false
	}
	return json.RawMessage(fmt.Sprintf(`{"dropped":"metadata of %d bytes is over the %d KiB limit"}`, len(raw), MaxMetadataBytes>>10)), true
}
