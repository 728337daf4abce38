package n8n

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// benchConns is the number of concurrent connections (issue 4, Benchmark).
const benchConns = 64

// bareAcksPerSec remembers the bare handler's rate so the durable
// benchmark, run after it in the same `go test -bench`, reports the ratio.
var bareAcksPerSec atomic.Value // float64

// noisePNG is a w×h PNG of random pixels: incompressible, so its size is
// predictable (44×44 gives ~7.8 KB, ~10 KB as base64).
func noisePNG(tb testing.TB, w, h int) []byte { return seededNoisePNG(tb, w, h, 1) }

// seededNoisePNG is noisePNG's picture for another seed: a different
// picture for each seed, the same one every time for a seed.
func seededNoisePNG(tb testing.TB, w, h int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// runCallbackLoad posts b.N callbacks over benchConns keep-alive
// connections and reports acks/s and latency percentiles.
func runCallbackLoad(b *testing.B, url string, body func(i int64) []byte) float64 {
	transport := &http.Transport{MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var failures atomic.Int64
	b.SetParallelism(max(1, benchConns/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := next.Add(1)
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body(i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Callback-Token", testToken)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				failures.Add(1)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				failures.Add(1)
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d callbacks were not acked with 200", f, b.N)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(float64(len(latencies))*p))].Microseconds()) / 1000
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "acks/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	return rate
}

// BenchmarkCallbackBareHandler is the ceiling: the same server stack
// (listener, timeouts, drain guard), a handler that only reads the body.
func BenchmarkCallbackBareHandler(b *testing.B) {
	cfg := app.DefaultConfig().Callback
	cfg.Listen = "127.0.0.1:0"
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, int64(cfg.MaxBody)))
		writeJSON(w, http.StatusOK, map[string]any{"status": "success"})
	})
	l, err := OpenListener(ListenerOptions{Config: cfg, Handler: bare})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	payload := []byte(fmt.Sprintf(`{"ai_generation_request_id":"01JDX3V6Q6T7ZP3Y6N4B1K9S2E","status":"success","image_base64":%q,"image_format":"png"}`,
		b64(noisePNG(b, 44, 44))))
	b.SetBytes(int64(len(payload)))
	rate := runCallbackLoad(b, "http://"+l.Addr()+app.CallbackPath, func(int64) []byte { return payload })
	bareAcksPerSec.Store(rate)
}

// BenchmarkCallbackDurableAck goes through the real handler and store:
// authentication, parsing, the image checks and a committed delivery row
// before each 200. Every callback is distinct (no duplicates).
func BenchmarkCallbackDurableAck(b *testing.B) {
	h := newHarness(b)
	// One request per callback: a request accepts one result (issue 10).
	ids := h.processingRequests(b.N)
	// The load generator must cost little next to the server: the picture
	// is quoted once (the bare benchmark reuses one constant body), and
	// each body is appended together from parts, not fmt'ed with %q.
	pic := strconv.Quote(b64(noisePNG(b, 44, 44)))
	body := func(i int64) []byte {
		out := make([]byte, 0, len(pic)+160)
		out = append(out, `{"ai_generation_request_id":"`...)
		out = append(out, ids[max(i-1, 0)]...) // i counts from 1
		out = append(out, `","status":"success","image_base64":`...)
		out = append(out, pic...)
		out = append(out, `,"image_format":"png","execution_id":"`...)
		out = strconv.AppendInt(out, i, 10)
		return append(out, `"}`...)
	}
	b.SetBytes(int64(len(body(0))))
	rate := runCallbackLoad(b, h.base+app.CallbackPath, body)
	if n := h.count("deliveries"); n != b.N {
		b.Fatalf("%d deliveries committed for %d acks", n, b.N)
	}
	if bare, ok := bareAcksPerSec.Load().(float64); ok && bare > 0 {
		b.ReportMetric(rate/bare, "ratio-to-bare")
	}
}
