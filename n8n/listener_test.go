package n8n

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Issue 10 §14: /healthz told anyone behind the tunnel the version and
// instance id.
func TestHealthzTellsStrangersOnlyThatItIsUp(t *testing.T) {
	h := newHarness(t)
	get := func(path string, token string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.base+path, nil)
		if token != "" {
			req.Header.Set("X-Callback-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, got
	}
	if code, got := get("/healthz", ""); code != 200 || got["status"] != "ok" || len(got) != 1 {
		t.Fatalf("unauthenticated healthz = %d %v, want only {\"status\":\"ok\"}", code, got)
	}
	if code, got := get("/healthz", "wrong-token"); code != 200 || len(got) != 1 {
		t.Fatalf("healthz with a wrong token = %d %v, want only the status", code, got)
	}
	if code, got := get("/healthz", testToken); code != 200 || got["version"] != "test" || got["instance"] != InstanceID() {
		t.Fatalf("healthz with the token = %d %v, want version and instance", code, got)
	}
	// The self-check's probe: only this process's answer matches.
	nonce := newProbeNonce()
	if _, got := get("/healthz?probe="+nonce, ""); got["probe"] == "" || got["probe"] != probeAnswer(instanceKey, nonce) || len(got) != 2 {
		t.Fatalf("probe answer = %v", got)
	}
	if err := SelfCheck(context.Background(), nil, h.base, ThisProcess()); err != nil {
		t.Fatalf("SelfCheck of our own listener: %v", err)
	}
	if err := SelfCheck(context.Background(), nil, h.base, expectKey("another process")); app.ErrorReason(err) != "public_url_not_us" {
		t.Fatalf("SelfCheck expecting another process = %v, want public_url_not_us", err)
	}
}

func TestABusyPortFailsAtOnceNamingTheAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	h := newHarness(t)
	cfg := app.DefaultConfig().Callback
	cfg.Listen = taken.Addr().String()
	_, err = OpenListener(ListenerOptions{Config: cfg, Store: h.db, Secrets: h.secrets})
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("OpenListener on a busy port = %v, want an error naming %s", err, taken.Addr())
	}
}

func TestClosingDrainsInFlightRequestsAndRefusesNewOnes(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusOK)
	})
	cfg := app.DefaultConfig().Callback
	cfg.Listen = "127.0.0.1:0"
	l, err := OpenListener(ListenerOptions{Config: cfg, Handler: slow, DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// A request already being served finishes; one that reaches the
	// handler after Close began gets 503 + Retry-After.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	first := make(chan int, 1)
	go func() {
		resp, err := client.Post("http://"+l.Addr()+"/x", "application/json", strings.NewReader("{}"))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	deadline := time.Now().Add(5 * time.Second)
	for !l.draining.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	rec := &recorder{header: http.Header{}}
	l.srv.Handler.ServeHTTP(rec, httptestRequest())
	if rec.status != http.StatusServiceUnavailable || rec.header.Get("Retry-After") == "" {
		t.Fatalf("while draining: %d, Retry-After %q; want 503 with Retry-After", rec.status, rec.header.Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("the request in flight got %d, want 200", code)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

type recorder struct {
	header http.Header
	status int
	mu     sync.Mutex
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.mu.Lock(); r.status = s; r.mu.Unlock() }

func httptestRequest() *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader("{}"))
	return r
}

// TestLoadEveryResultStoredExactlyOnce sends 1,000 callbacks from 64
// goroutines plus 200 duplicates of them.
func TestLoadEveryResultStoredExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	start := time.Now()
	h := newHarness(t)
	const n, dups, workers = 1000, 200, 64
	reqs := make([]app.Request, n)
	batch := make([]app.Request, n)
	for i := range batch {
		batch[i] = app.Request{ID: app.NewID(h.clock.Now()), Params: app.GenerationParams{Prompt: "load", Model: "sdxl", Width: 64, Height: 64, AspectRatio: "1:1", NumImages: 1},
			Status: app.StatusQueued, RequestedBy: "load", CreatedAt: h.clock.Now()}
	}
	ctx := context.Background()
	if err := h.db.CreateRequests(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Concurrent moves share the store's group commits.
	var setup sync.WaitGroup
	for w := range workers {
		setup.Add(1)
		go func() {
			defer setup.Done()
			for i := w; i < n; i += workers {
				// sending is enough: a callback may beat n8n's 202 (DESIGN §3).
				var err error
				if reqs[i], err = h.db.Transition(ctx, app.Change{ID: batch[i].ID, To: app.StatusSending}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	setup.Wait()
	t.Logf("setup done %v", time.Since(start))
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = mustJSON(t, successBody(reqs[i].ID, testPNG(t, 4, 4, byte(i))))
	}
	jobs := make(chan int)
	var mu sync.Mutex
	statuses := map[int]int{}
	duplicates := 0
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r, _ := http.NewRequest(http.MethodPost, h.base+app.CallbackPath, strings.NewReader(string(bodies[i%n])))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Callback-Token", testToken)
				resp, err := client.Do(r)
				code := 0
				var reply map[string]any
				if err == nil {
					_ = json.NewDecoder(resp.Body).Decode(&reply)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				statuses[code]++
				if reply["duplicate"] == true {
					duplicates++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n + dups {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if statuses[200] != n+dups || duplicates != dups {
		t.Fatalf("statuses %v, %d duplicates; want %d × 200 with %d duplicates", statuses, duplicates, n+dups, dups)
	}
	t.Logf("posted %v", time.Since(start))
	h.process()
	t.Logf("ingested %v", time.Since(start))
	if d, i := h.count("deliveries"), h.count("images"); d != n || i != n {
		t.Fatalf("%d deliveries, %d images; want %d each", d, i, n)
	}
	counts, err := h.db.CountByStatus(ctx)
	if err != nil || counts[app.StatusCompleted] != n {
		t.Fatalf("completed = %d (%v), want %d", counts[app.StatusCompleted], err, n)
	}
}
