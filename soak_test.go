//go:build soak

package main

// The soak of issue 11 ("Done when"): two serve processes' runtimes and a
// reader on one home, 1,000 requests through a fake n8n that calls back in
// 0–3 s (some twice, some out of order, some before its 202), and a fake
// Odoo behind a proxy that adds 0–300 ms of latency and answers 5 % of
// calls with a 502, synced from both serves. Run it with
//
//	go test -tags soak -run TestSoak -timeout 30m -v .
//
// Figures go to BENCHMARKS.md ("Soak: two serves, one home").

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui/cli"
)

const (
	soakRequests   = 1000
	soakToken      = "soak-callback-token"
	soakAPIKey     = "soak-api-key"
	soakDistinct   = 40 // distinct pictures: many requests share a file
	soakFinalLimit = 10 * time.Minute
)

func soakPNG(k int) []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = byte(i*k + k)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// soakN8N answers the webhook like n8n with a workflow that calls back.
type soakN8N struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts map[string]int
	rng   *rand.Rand

	early, twice, failures, callbacks atomic.Int64
	callbackStatus                    sync.Map // status code → *atomic.Int64
}

func newSoakN8N(t *testing.T) *soakN8N {
	n := &soakN8N{posts: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2))}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *soakN8N) roll() float64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rng.Float64()
}

func (n *soakN8N) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != soakAPIKey {
		http.Error(w, "Authorization data is wrong!", http.StatusForbidden)
		return
	}
	var body struct {
		ID          string `json:"ai_generation_request_id"`
		CallbackURL string `json:"callback_url"`
		Params      struct {
			Seed int64 `json:"seed"`
		} `json:"generation_params"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusUnprocessableEntity)
		return
	}
	n.mu.Lock()
	n.posts[body.ID]++
	n.mu.Unlock()
	result := n.result(body.ID, body.Params.Seed)
	if n.roll() < 0.1 { // the workflow's callback before its own 202
		n.early.Add(1)
		n.callback(body.CallbackURL, result)
	} else {
		delay := time.Duration(n.roll() * float64(3*time.Second))
		time.AfterFunc(delay, func() { n.callback(body.CallbackURL, result) })
	}
	if n.roll() < 0.1 { // a second, identical delivery
		n.twice.Add(1)
		delay := time.Duration(n.roll() * float64(3*time.Second))
		time.AfterFunc(delay, func() { n.callback(body.CallbackURL, result) })
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"accepted"}`)
}

func (n *soakN8N) result(id string, seed int64) []byte {
	if n.roll() < 0.1 {
		n.failures.Add(1)
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "failed", "error_message": "model crashed"})
		return b
	}
	pic := soakPNG(int(seed%soakDistinct) + 1)
	b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "success",
		"image_base64": base64.StdEncoding.EncodeToString(pic), "image_format": "png", "seed": seed})
	return b
}

// callback posts once, like n8n's HTTP Request node (no retry).
func (n *soakN8N) callback(url string, body []byte) {
	n.callbacks.Add(1)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-callback-token", soakToken)
	client := &http.Client{Timeout: 10 * time.Second}
	code := 0
	if resp, err := client.Do(req); err == nil {
		code = resp.StatusCode
		_ = resp.Body.Close()
	}
	c, _ := n.callbackStatus.LoadOrStore(code, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

// flakyOdoo forwards to the fake Odoo with 0–300 ms of latency and a 502
// for 5 % of calls.
func flakyOdoo(t *testing.T, target string, injected *atomic.Int64) *httptest.Server {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(3, 4))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		delay, fail := time.Duration(rng.Float64()*float64(300*time.Millisecond)), rng.Float64() < 0.05
		mu.Unlock()
		time.Sleep(delay) // the injected latency itself
		if fail {
			injected.Add(1)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSoakTwoServesAndAReaderOnOneHome(t *testing.T) {
	home := t.TempDir()
	n8n := newSoakN8N(t)
	erp := odootest.New(t, odootest.Config{})
	var odoo5xx atomic.Int64
	odoo := flakyOdoo(t, erp.URL, &odoo5xx)
	t.Setenv("INFLUENCEGEN_HOME", home)
	t.Setenv("INFLUENCEGEN_PROFILE", "soak")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", soakToken)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", soakAPIKey)
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", n8n.srv.URL+"/webhook/influence-gen/generate")
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", "127.0.0.1:0") // each serve binds its own port
	t.Setenv("INFLUENCEGEN_ODOO_URL", odoo.URL)
	t.Setenv("INFLUENCEGEN_ODOO_DATABASE", erp.Database())
	t.Setenv("INFLUENCEGEN_ODOO_API_KEY", erp.Key())

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(home, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	submitter := &app.Service{Config: app.DefaultConfig(), Store: db, User: "soak"}
	submit := func(n int) {
		for i := range n {
			seed := int64(i)
			if _, err := submitter.Submit(ctx, app.ParamsInput{Prompt: fmt.Sprintf("soak %d", i), Seed: &seed, Count: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	submit(soakRequests * 4 / 5) // queued before the serves start: both race to claim them

	serveCtx, stopServes := context.WithCancel(ctx)
	var serves sync.WaitGroup
	for range 2 {
		serves.Go(func() {
			env := cli.DefaultEnv(cli.BuildInfo{Version: "soak"}, wiring())
			var out, errOut syncBuffer
			env.Stdout, env.Stderr = &out, &errOut
			root := cli.NewRoot(env, nil)
			root.SetArgs([]string{"serve"})
			if code := cli.Execute(serveCtx, root, env); code != 0 {
				t.Errorf("serve exited %d: %s", code, errOut.String())
			}
		})
	}
	// The reader: what the dashboard does, on its own connection.
	var reads, readErrs atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for serveCtx.Err() == nil {
			_, err1 := db.CountByStatus(ctx)
			_, err2 := db.ListRequests(ctx, app.ListQuery{Limit: 50})
			_, err3 := db.DataVersion(ctx)
			reads.Add(1)
			if err1 != nil || err2 != nil || err3 != nil {
				readErrs.Add(1)
			}
			time.Sleep(100 * time.Millisecond) // a dashboard's refresh pace
		}
	}()
	submit(soakRequests - soakRequests*4/5) // more while they run: found by the 30 s scan

	waitUntil(t, soakFinalLimit, "every request final", func() bool {
		c, err := db.CountByStatus(ctx)
		return err == nil && c[app.StatusCompleted]+c[app.StatusFailed] == soakRequests
	})
	allFinal := time.Since(start)
	waitUntil(t, soakFinalLimit, "the Odoo outbox drained", func() bool {
		s, err := db.OutboxStats(ctx)
		return err == nil && s.Pending == 0 && s.Parked == 0
	})
	synced := time.Since(start)
	stopServes()
	serves.Wait()
	<-readerDone

	// Every request final, exactly one POST per attempt.
	c, _ := db.CountByStatus(ctx)
	page, err := db.ListRequests(ctx, app.ListQuery{Limit: 1000})
	if err != nil || len(page.Requests) != soakRequests {
		t.Fatalf("listed %d (%v)", len(page.Requests), err)
	}
	n8n.mu.Lock()
	postMismatch, posts := 0, 0
	for _, r := range page.Requests {
		posts += n8n.posts[r.ID]
		if n8n.posts[r.ID] != r.SendAttempts || r.SendAttempts != 1 {
			postMismatch++
		}
	}
	n8n.mu.Unlock()
	pending, _ := db.PendingDeliveries(ctx, 100)

	// Odoo holds the local state of every request and one attachment per image.
	records := erp.Records("influence_gen.ai_image_generation_request")
	byExt := map[string][]map[string]any{}
	for _, rec := range records {
		ext, _ := rec["external_id"].(string)
		byExt[ext] = append(byExt[ext], rec)
	}
	odooRequestByID := map[float64]string{}
	stateMismatch, dupRecords := 0, 0
	localImages := 0
	for _, r := range page.Requests {
		recs := byExt[r.ID]
		if len(recs) != 1 {
			dupRecords++
			continue
		}
		if recs[0]["state"] != string(r.Status) {
			stateMismatch++
		}
		id, _ := recs[0]["id"].(float64)
		if id == 0 {
			if v, ok := recs[0]["id"].(int64); ok {
				id = float64(v)
			}
		}
		odooRequestByID[id] = r.ID
		localImages += r.ImageCount
	}
	odooImages := len(erp.Records("influence_gen.generated_image"))
	attachments := len(erp.Records("ir.attachment"))
	files, err := db.InspectFiles(ctx, store.NewImageFiles(filepath.Join(home, "images")))
	if err != nil {
		t.Fatal(err)
	}

	codes := map[int]int64{}
	n8n.callbackStatus.Range(func(k, v any) bool { codes[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("soak: %d requests (%d completed, %d failed) final after %s, Odoo drained after %s",
		soakRequests, c[app.StatusCompleted], c[app.StatusFailed], allFinal.Round(time.Millisecond), synced.Round(time.Millisecond))
	t.Logf("soak: %d POSTs, %d requests whose POSTs != send_attempts or != 1; callbacks %d (%d before the 202, %d sent twice), answers %v",
		posts, postMismatch, n8n.callbacks.Load(), n8n.early.Load(), n8n.twice.Load(), codes)
	t.Logf("soak: pending deliveries %d; Odoo: %d records (%d requests with != 1 record, %d state mismatches), %d image rows for %d local images, %d attachments; %d injected 502s",
		len(pending), len(records), dupRecords, stateMismatch, odooImages, localImages, attachments, odoo5xx.Load())
	t.Logf("soak: files: %d orphans, %d missing; reader: %d rounds, %d errors", files.Orphans, files.Missing, reads.Load(), readErrs.Load())

	if postMismatch != 0 {
		t.Errorf("%d requests were not POSTed exactly once per attempt", postMismatch)
	}
	if len(pending) != 0 {
		t.Errorf("%d deliveries still pending", len(pending))
	}
	if dupRecords != 0 || stateMismatch != 0 || odooImages != localImages || attachments != localImages {
		t.Errorf("Odoo differs from the local state: %d missing/duplicate records, %d states, %d/%d image rows, %d attachments",
			dupRecords, stateMismatch, odooImages, localImages, attachments)
	}
	if files.Orphans != 0 || files.Missing != 0 {
		t.Errorf("%d orphan and %d missing files", files.Orphans, files.Missing)
	}
	if readErrs.Load() != 0 {
		t.Errorf("the reader failed %d times", readErrs.Load())
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("soak: %s not reached within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
