package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// timingStore notes when each request reaches processing, to measure
// submit→processing latency without polling.
type timingStore struct {
	app.Store
	mu   sync.Mutex
	at   map[string]time.Time
	done chan struct{}
	want int
}

func (s *timingStore) Transition(ctx context.Context, c app.Change) (app.Request, error) {
	r, err := s.Store.Transition(ctx, c)
	if err == nil && c.To == app.StatusProcessing {
		s.mu.Lock()
		s.at[c.ID] = time.Now()
		if len(s.at) == s.want {
			close(s.done)
		}
		s.mu.Unlock()
	}
	return r, err
}

type sendRun struct {
	perSecond  float64
	p50, p99   time.Duration
	allocsPerR float64
}

// sendThousand submits 1,000 requests in batches of 16 to a running sender
// with the given concurrency, against the real store and a loopback fake
// n8n answering after latency, and waits until all are processing.
func sendThousand(b *testing.B, concurrency int, latency time.Duration) sendRun {
	const total, batch = 1000, 16
	db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fake := n8ntest.New(b, n8ntest.Options{})
	if latency > 0 {
		fake.SetSlow(latency)
		fake.SetFault(n8ntest.Slow)
	}
	ts := &timingStore{Store: db, at: make(map[string]time.Time, total), done: make(chan struct{}), want: total}
	svc := &app.Service{
		Config: app.DefaultConfig(), Store: ts, Clock: app.SystemClock{}, Log: slog.New(slog.DiscardHandler), User: "bench",
		Workflow: n8n.NewClient(n8n.ClientOptions{URL: fake.WebhookURL,
			APIKey: func(context.Context) (string, error) { return "test-api-key", nil }, Version: "bench"}),
		CallbackURL: func() string { return "http://127.0.0.1:8787" + app.CallbackPath },
	}
	ctx, cancel := context.WithCancel(b.Context())
	sender := &app.Sender{Service: svc, Concurrency: concurrency}
	stopped := make(chan struct{})
	go func() { _ = sender.Run(ctx); close(stopped) }()

	submitted := make(map[string]time.Time, total)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for n := 0; n < total; n += batch {
		t0 := time.Now()
		reqs, err := svc.Submit(ctx, app.ParamsInput{Prompt: "a red fox in the snow", Count: min(batch, total-n)})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			submitted[r.ID] = t0
		}
	}
	select {
	case <-ts.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d requests reached processing", len(ts.at), total)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms1)
	cancel()
	<-stopped

	lat := make([]time.Duration, 0, total)
	ts.mu.Lock()
	for id, t := range ts.at {
		lat = append(lat, t.Sub(submitted[id]))
	}
	ts.mu.Unlock()
	slices.Sort(lat)
	if fake.Count() != total {
		b.Fatalf("n8n received %d requests, want %d", fake.Count(), total)
	}
	return sendRun{
		perSecond:  float64(total) / elapsed.Seconds(),
		p50:        lat[len(lat)/2],
		p99:        lat[len(lat)*99/100],
		allocsPerR: float64(ms1.Mallocs-ms0.Mallocs) / total,
	}
}

// BenchmarkSendThousand measures the whole path (Submit → store → sender →
// HTTP → fake n8n → ack → store) for 1,000 requests, and compares, in the
// same run, the default bounded concurrency (4) with sending one at a time
// against a webhook that takes 10 ms to answer (real n8n answers its 202 in
// a few to tens of ms): the ratio survives a noisy machine, absolute figures
// do not. Allocations count everything in the process, the fake n8n server
// included.
func BenchmarkSendThousand(b *testing.B) {
	var instant, four, one sendRun
	for b.Loop() {
		instant = sendThousand(b, 4, 0)
		four = sendThousand(b, 4, 10*time.Millisecond)
		one = sendThousand(b, 1, 10*time.Millisecond)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(instant.perSecond, "req/s")
	b.ReportMetric(instant.allocsPerR, "allocs/req")
	b.ReportMetric(ms(instant.p50), "p50-ms")
	b.ReportMetric(ms(instant.p99), "p99-ms")
	b.ReportMetric(four.perSecond, "10ms-c4-req/s")
	b.ReportMetric(ms(four.p99), "10ms-c4-p99-ms")
	b.ReportMetric(one.perSecond, "10ms-c1-req/s")
	b.ReportMetric(ms(one.p99), "10ms-c1-p99-ms")
	b.ReportMetric(four.perSecond/one.perSecond, "c4/c1-x")
}
