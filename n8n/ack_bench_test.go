package n8n

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// The callback ack path of issue 17, measured the way the issue's
// instrument does it: 64 keep-alive connections, ~13 KB JSON bodies holding
// a 10 KB base64 PNG, every callback for its own request (a request takes
// one result), against a bare net/http handler (read the body, answer 200)
// on its own listener in the same run, so the ratio survives a noisy box.
//
//	go test ./n8n -run '^$' -bench 'BenchmarkCallbackAck$|BenchmarkIngestThroughput' -benchtime 3000x -count 3

// ackPicture is the ~10 KB PNG of the issue's ~13 KB bodies (56×56 random pixels
// do not compress), base64-quoted once.
func ackPicture(tb testing.TB) string {
	return strconv.Quote(b64(noisePNG(tb, 56, 56)))
}

// ackBody is one callback for request id: the picture inline, as n8n's
// HTTP Request node sends a top-level image.
func ackBody(id, quotedPic string, i int) []byte {
	out := make([]byte, 0, len(quotedPic)+200)
	out = append(out, `{"ai_generation_request_id":"`...)
	out = append(out, id...)
	out = append(out, `","status":"success","image_base64":`...)
	out = append(out, quotedPic...)
	out = append(out, `,"image_format":"png","width":56,"height":56,"seed":7,"execution_id":"`...)
	out = strconv.AppendInt(out, int64(i), 10)
	return append(out, `"}`...)
}

// bareListener is the ceiling: the same server stack (listener, timeouts,
// drain guard) with a handler that only reads the body and answers 200.
func bareListener(tb testing.TB) *Listener {
	cfg := app.DefaultConfig().Callback
	cfg.Listen = "127.0.0.1:0"
	reply := []byte(`{"status":"success"}`)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, int64(cfg.MaxBody)))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	})
	l, err := OpenListener(ListenerOptions{Config: cfg, Handler: bare})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	return l
}

// processingRequests creates n requests in one transaction, each in the
// state a callback normally finds it: processing (n8n answered the
// webhook). A queued request accepts a result too, but through the
// late-result path (an extra warning activity per callback), which is not
// what a load of callbacks looks like.
func (h *harness) processingRequests(n int) []string {
	h.t.Helper()
	reqs := make([]app.Request, n)
	ids := make([]string, n)
	now := h.clock.Now()
	for i := range reqs {
		reqs[i] = app.Request{
			ID: app.NewID(now),
			Params: app.GenerationParams{Prompt: "a red fox", Model: "sdxl", Width: 1024, Height: 1024,
				AspectRatio: "1:1", Seed: 42, NumImages: 1},
			Status: app.StatusProcessing, RequestedBy: "bench", CreatedAt: now,
		}
		ids[i] = reqs[i].ID
	}
	if err := h.db.CreateRequests(context.Background(), reqs); err != nil {
		h.t.Fatalf("CreateRequests: %v", err)
	}
	return ids
}

// BenchmarkCallbackAck posts b.N callbacks to the bare handler, then b.N
// to the real listener and store (token, one validating parse, image
// checks, a committed delivery before each 200), and reports both rates
// and their ratio. The ingest worker is not running: this is the ack path.
func BenchmarkCallbackAck(b *testing.B) {
	h := newHarness(b)
	bare := bareListener(b)
	ids := h.processingRequests(b.N)
	pic := ackPicture(b)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = ackBody(ids[i], pic, i)
	}
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	bareRun := closedLoop(b, "http://"+bare.Addr()+app.CallbackPath, bodies, benchConns)
	ackRun := closedLoop(b, h.base+app.CallbackPath, bodies, benchConns)
	b.StopTimer()
	if n := h.count("deliveries"); n != b.N {
		b.Fatalf("%d deliveries committed for %d acks", n, b.N)
	}
	b.ReportMetric(ackRun.rate, "acks/s")
	b.ReportMetric(ackRun.p50, "p50-ms")
	b.ReportMetric(ackRun.p99, "p99-ms")
	b.ReportMetric(bareRun.rate, "bare-acks/s")
	b.ReportMetric(ackRun.rate/bareRun.rate, "ratio-to-bare")
}

// BenchmarkIngestThroughput records b.N callbacks through the listener,
// then times the ingest worker storing them all (image decoded, verified
// and written, request completed, outbox rows): deliveries/s.
func BenchmarkIngestThroughput(b *testing.B) {
	h := newHarness(b)
	ids := h.processingRequests(b.N)
	pic := ackPicture(b)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = ackBody(ids[i], pic, i)
	}
	closedLoop(b, h.base+app.CallbackPath, bodies, benchConns)
	b.ResetTimer()
	start := time.Now()
	n, err := h.ingest.ProcessPending(context.Background())
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("ProcessPending: %d of %d (%v)", n, b.N, err)
	}
	if got := h.count("images"); got != b.N {
		b.Fatalf("%d image rows for %d deliveries", got, b.N)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
}

// loadRun is one closed-loop phase's result.
type loadRun struct {
	rate, p50, p99 float64
}

// closedLoop posts every body once over conns keep-alive connections, each
// connection sending its next body as soon as the last was answered, and
// fails unless every answer is 200.
func closedLoop(tb testing.TB, url string, bodies [][]byte, conns int) loadRun {
	tb.Helper()
	res := runClosedLoop(url, testToken, bodies, conns)
	if res.err != nil {
		tb.Fatal(res.err)
	}
	return loadRun{rate: res.rate, p50: res.percentile(0.50), p99: res.percentile(0.99)}
}

func (r closedResult) String() string {
	return fmt.Sprintf("%.0f/s p50 %.1f ms p99 %.1f ms", r.rate, r.percentile(0.5), r.percentile(0.99))
}
