package n8n

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"runtime"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// largeCallbackBody is a success callback of about size bytes: one real
// PNG header followed by filler, so the pre-ack checks pass.
func largeCallbackBody(t testing.TB, id string, size int) []byte {
	t.Helper()
	pic := testPNG(t, 16, 16, 9)
	raw := make([]byte, size/4*3)
	copy(raw, pic)
	var b bytes.Buffer
	b.Grow(size + 200)
	b.WriteString(`{"ai_generation_request_id":"` + id + `","status":"success","image_format":"png","image_base64":"`)
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	_, _ = enc.Write(raw)
	_ = enc.Close()
	b.WriteString(`"}`)
	return b.Bytes()
}

// allocatedDuring returns the bytes allocated on the Go heap while fn ran
// (client and server share the process; the client side sends from the
// caller's slice and allocates little).
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Issue 10 §7: a token holder's 30 MiB callback cost ~225 MB in flight
// (body, decoded base64, re-encoded JSON, database string copies).
func TestALargeCallbackAllocatesAFewTimesItsBody(t *testing.T) {
	if testing.Short() {
		t.Skip("posts a 24 MiB callback")
	}
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	body := largeCallbackBody(t, req.ID, 24<<20)
	var got response
	alloc := allocatedDuring(func() {
		got = h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken}, body)
	})
	wantStatus(t, got, http.StatusOK)
	ratio := float64(alloc) / float64(len(body))
	t.Logf("a %d MiB callback allocated %.1f MiB: %.2f× the body", len(body)>>20, float64(alloc)/(1<<20), ratio)
	// Reading joins chunks once (2×), the delivery row is one encoded copy
	// (1×) and the store's string for the driver one more (1×).
	if ratio > 4.5 {
		t.Fatalf("a large callback allocated %.2f× its body, want at most 4.5×", ratio)
	}
}
