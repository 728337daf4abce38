package n8n

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// pngHeaderClaiming is a PNG signature and IHDR chunk claiming w×h: a few
// bytes that would decode into gigabytes.
func pngHeaderClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:4], w)
	binary.BigEndian.PutUint32(ihdr[4:8], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

func TestHostileBodiesAreRefusedAndWriteNothing(t *testing.T) {
	tiny := testPNG(t, 4, 4, 7)
	seventeen := make([]map[string]any, 17)
	for i := range seventeen {
		seventeen[i] = map[string]any{"base64": b64(tiny)}
	}
	tests := []struct {
		name    string
		body    func(id string) any
		want    int
		message string // a substring of the reply's message
	}{
		{"a JSON array is refused", func(id string) any { return `[{"ai_generation_request_id":"` + id + `"}]` }, 400, "body: must be a JSON object, got an array"},
		{"malformed JSON is refused", func(id string) any { return `{"ai_generation_request_id":` }, 400, "body: is not valid JSON"},
		{"a status that is a number is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": 1, "image_base64": b64(tiny)}
		}, 400, "status: must be a string"},
		{"images that are not a list are refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "images": "x"}
		}, 400, "images: must be a list"},
		{"a width that is not a number is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": b64(tiny), "width": "wide"}
		}, 400, "width: must be a whole number"},
		{"an id that is an object is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": map[string]any{"id": id}, "status": "success"}
		}, 400, "ai_generation_request_id: must be a string or a number"},
		{"an unknown request id is not found", func(id string) any { return successBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2Z", tiny) }, 404, "no request"},
		{"an unknown Odoo record id is not found", func(id string) any {
			return map[string]any{"ai_generation_request_id": 424242, "status": "success", "image_base64": b64(tiny)}
		}, 404, "no request"},
		{"an unknown status is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "maybe", "image_base64": b64(tiny)}
		}, 400, `status: "maybe" is unknown`},
		{"a success without images is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success"}
		}, 400, "images: a success callback needs at least one image"},
		{"base64 garbage is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": "!!!not base64***"}
		}, 400, "image_base64: is not valid base64"},
		{"valid base64 of something that is not an image is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": b64([]byte("<html>hello</html>"))}
		}, 400, "image_base64: not a PNG, JPEG, WebP or GIF"},
		{"a PNG header claiming 100000×100000 is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": b64(pngHeaderClaiming(100000, 100000))}
		}, 400, "over the limit of 64 megapixels"},
		{"17 images are refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "images": seventeen}
		}, 400, "images: has 17 images, at most 16"},
		{"an image URL to cloud metadata is refused", func(id string) any { return urlBody(id, "http://169.254.169.254/latest/meta-data/") }, 400, "link-local"},
		{"an image URL to 127.0.0.1 is refused", func(id string) any { return urlBody(id, "http://127.0.0.1:8080/x.png") }, 400, "loopback"},
		{"an image URL to [::1] is refused", func(id string) any { return urlBody(id, "http://[::1]:8080/x.png") }, 400, "loopback"},
		{"an image URL to 10.0.0.1 is refused", func(id string) any { return urlBody(id, "http://10.0.0.1/x.png") }, 400, "private"},
		{"an image URL to 100.64.0.1 (CGNAT) is refused", func(id string) any { return urlBody(id, "http://100.64.0.1/x.png") }, 400, "carrier-grade NAT"},
		{"an image URL to localhost is refused", func(id string) any { return urlBody(id, "http://localhost:8080/x.png") }, 400, "loopback name"},
		{"a file:// image URL is refused", func(id string) any { return urlBody(id, "file:///etc/passwd") }, 400, `scheme "file" is not allowed`},
		{"a gopher:// image URL is refused", func(id string) any { return urlBody(id, "gopher://example.com/1") }, 400, `scheme "gopher" is not allowed`},
		// Issue 10 §12, §15: inputs that got through.
		{"an image URL to 0x7f000001 is refused", func(id string) any { return urlBody(id, "http://0x7f000001/x.png") }, 400, "loopback"},
		{"an image URL to 2130706433 is refused", func(id string) any { return urlBody(id, "http://2130706433/x.png") }, 400, "loopback"},
		{"an image URL to 127.1 is refused", func(id string) any { return urlBody(id, "http://127.1/x.png") }, 400, "loopback"},
		{"an image URL to 0 is refused", func(id string) any { return urlBody(id, "http://0/x.png") }, 400, "unspecified"},
		{"an image URL to 0177.0.0.1 is refused", func(id string) any { return urlBody(id, "http://0177.0.0.1/x.png") }, 400, "loopback"},
		{"an image URL to 127.0.0.1. is refused", func(id string) any { return urlBody(id, "http://127.0.0.1./x.png") }, 400, "loopback"},
		{"an image URL to [::ffff:127.0.0.1] is refused", func(id string) any { return urlBody(id, "http://[::ffff:127.0.0.1]:6379/") }, 400, "loopback"},
		{"an image URL with userinfo is refused", func(id string) any { return urlBody(id, "http://user:pw@images.example.com/a.png") }, 400, "user name or password"},
		{"a file:// URL beside inline data is refused", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": b64(tiny), "image_url": "file:///etc/passwd"}
		}, 400, `image_url: scheme "file" is not allowed`},
		{"a list image URL to a private address names its field", func(id string) any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "images": []any{map[string]any{"base64": b64(tiny)}, map[string]any{"url": "http://192.168.1.1/a.png"}}}
		}, 400, "images[1].url: host 192.168.1.1 is a private address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			got := h.callback(tt.body(req.ID))
			wantStatus(t, got, tt.want)
			msg, _ := got.body["message"].(string)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
			h.wantNothingWritten()
		})
	}
}

func urlBody(id, url string) map[string]any {
	return map[string]any{"ai_generation_request_id": id, "status": "success", "image_url": url}
}

func TestOversizedAndNonJSONBodies(t *testing.T) {
	t.Run("a 40 MiB body is refused with 413", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		body := append([]byte(`{"ai_generation_request_id":"`+req.ID+`","status":"success","image_base64":"`), bytes.Repeat([]byte("A"), 40<<20)...)
		body = append(body, `"}`...)
		wantStatus(t, h.callback(body), http.StatusRequestEntityTooLarge)
		h.wantNothingWritten()
	})
	t.Run("a 40 MiB body without Content-Length is cut off at max_body", func(t *testing.T) {
		h := newHarness(t)
		r, _ := http.NewRequest(http.MethodPost, h.base+app.CallbackPath, io.MultiReader(strings.NewReader(`{"a":"`), io.LimitReader(zeroReader{}, 40<<20)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Callback-Token", testToken)
		resp, err := http.DefaultClient.Do(r)
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413", resp.StatusCode)
			}
		} // a reset connection after the 413 is also a refusal
		h.wantNothingWritten()
	})
	t.Run("text/plain is refused with 415", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		got := h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken, "Content-Type": "text/plain"},
			mustJSON(t, successBody(req.ID, testPNG(t, 4, 4, 1))))
		wantStatus(t, got, http.StatusUnsupportedMediaType)
		h.wantNothingWritten()
	})
	t.Run("a JSON body with a charset parameter is accepted", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		got := h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken, "Content-Type": "application/json; charset=utf-8"},
			mustJSON(t, successBody(req.ID, testPNG(t, 4, 4, 1))))
		wantStatus(t, got, http.StatusOK)
	})
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'A'
	}
	return len(b), nil
}

func TestSlowDripBodyIsCutOff(t *testing.T) {
	h := newHarness(t, func(o *ListenerOptions) { o.ReadTimeout = 300 * time.Millisecond })
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, successBody(req.ID, testPNG(t, 4, 4, 1)))
	conn, err := net.Dial("tcp", h.lis.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Callback-Token: %s\r\nContent-Length: %d\r\n\r\n",
		app.CallbackPath, testToken, len(body))
	// One byte every 50 ms: the whole body would take far longer than the
	// read timeout.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(body)-1; i++ {
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, _ := io.ReadAll(conn)
	_ = conn.Close()
	<-done
	if len(reply) > 0 && !bytes.HasPrefix(reply, []byte("HTTP/1.1 408")) {
		t.Fatalf("reply = %q, want 408 or a closed connection", firstLine(reply))
	}
	h.wantNothingWritten()
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
