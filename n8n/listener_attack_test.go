//go:build attack

// The attack run of issue 10 ("Done when"). It is a test behind a build
// tag because it is heavy (2 GiB over loopback) and reads this process's
// RSS; run it alone:
//
//	go test -tags attack -run Attack -v ./n8n/
//
// The figures it logs are in BENCHMARKS.md ("Callback listener under
// attack").
package n8n

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// TestAttackBadTokensDoNotLockOutN8N: 1,000 bad-token requests from one
// source (behind a tunnel, so the source is the forwarded address) as fast
// as they go (far more than 1,000 a minute) while the real token's
// callbacks keep arriving from the same source: every real one is
// answered 200 and applied.
func TestAttackBadTokensDoNotLockOutN8N(t *testing.T) {
	h := newHarness(t)
	h.lis.TrustLoopbackProxy(true)
	const bad, real = 1000, 50
	const source = "203.0.113.66"
	reqs := make([]app.Request, real)
	for i := range reqs {
		reqs[i] = h.request(app.StatusProcessing)
	}
	pic := testPNG(t, 8, 8, 3)
	var statuses sync.Map // status code → *atomic.Int64
	count := func(code int) {
		v, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	post := func(token string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, h.base+app.CallbackPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Callback-Token", token)
		req.Header.Set("X-Forwarded-For", source)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	start := time.Now()
	var wg sync.WaitGroup
	badBody := mustJSON(t, successBody(reqs[0].ID, pic))
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				count(post("guess-"+strconv.Itoa(i), badBody))
			}
		}()
	}
	realCodes := make([]int, real)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, r := range reqs {
			realCodes[i] = post(testToken, mustJSON(t, successBody(r.ID, testPNG(t, 8, 8, byte(i)))))
		}
	}()
	for i := range bad {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	for i, code := range realCodes {
		if code != http.StatusOK {
			t.Errorf("real callback %d answered %d, want 200", i, code)
		}
	}
	for h.process() > 0 {
	}
	applied := 0
	for _, r := range reqs {
		if h.get(r.ID).Status == app.StatusCompleted {
			applied++
		}
	}
	if applied != real {
		t.Errorf("%d of %d real callbacks applied", applied, real)
	}
	if d := h.count("deliveries"); d != real {
		t.Errorf("%d deliveries, want %d (bad tokens wrote some)", d, real)
	}
	var summary []string
	statuses.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%d×%d", v.(*atomic.Int64).Load(), k))
		return true
	})
	t.Logf("attack run 1: %d bad-token requests + %d real callbacks from one source in %s (%.0f bad/min); bad answered %v; real: %d/%d answered 200, %d/%d applied",
		bad, real, elapsed.Round(time.Millisecond), float64(bad)/elapsed.Minutes(), summary, countOK(realCodes), real, applied, real)
}

func countOK(codes []int) int {
	n := 0
	for _, c := range codes {
		if c == http.StatusOK {
			n++
		}
	}
	return n
}

// rssKiB reads VmRSS or VmHWM (peak) of this process.
func rssKiB(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	t.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux ≥ 4.0).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// attackRSSBoundMiB is the documented bound: peak RSS growth while 64
// unauthenticated 32 MiB uploads hit a signature-mode listener. The
// unauthenticated budget is 2 × max_body = 64 MiB; the rest is the GC's
// headroom (GOGC=100 lets the heap reach twice what is live) and the
// connections' buffers.
const attackRSSBoundMiB = 256

// TestAttackUnauthenticatedUploadsStayBounded: 64 unauthenticated 32 MiB
// uploads at once in signature mode. RSS growth stays under the bound, and
// a real signed callback sent during the flood is still accepted.
func TestAttackUnauthenticatedUploadsStayBounded(t *testing.T) {
	h, secret := signedHarness(t, app.AuthSignature)
	const uploads, size = 64, 32 << 20
	runtime.GC()
	before := rssKiB(t, "VmRSS")
	resetPeakRSS()

	filler := bytes.Repeat([]byte("A"), 1<<20)
	var refused503, refused401, cut atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := io.MultiReader(strings.NewReader(`{"a":"`), io.LimitReader(repeatReader(filler), size-8), strings.NewReader(`"}`))
			req, _ := http.NewRequest(http.MethodPost, h.base+app.CallbackPath, body)
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			for k, v := range signed(t, secret, "msg_attack_"+strconv.Itoa(i), h.clock.Now(), []byte("not this body")) {
				req.Header.Set(k, v)
			}
			client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(req)
			if err != nil {
				cut.Add(1) // refused early: the server answered 503 and closed while we were still sending
				return
			}
			_ = resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusServiceUnavailable:
				refused503.Add(1)
			case http.StatusUnauthorized, http.StatusTooManyRequests:
				refused401.Add(1)
			default:
				t.Errorf("upload answered %d", resp.StatusCode)
			}
		}()
	}
	// A real callback during the flood.
	req := h.request(app.StatusProcessing)
	realBody := mustJSON(t, urlBody(req.ID, "https://images.example.com/a.png"))
	realStatus := h.post(app.CallbackPath, signed(t, secret, "msg_real", h.clock.Now(), realBody), realBody).status
	wg.Wait()
	elapsed := time.Since(start)
	peak := rssKiB(t, "VmHWM")
	growthMiB := float64(peak-before) / 1024
	if realStatus != http.StatusOK {
		t.Errorf("the real signed callback during the flood answered %d, want 200", realStatus)
	}
	if d := h.count("deliveries"); d != 1 {
		t.Errorf("%d deliveries, want only the real one", d)
	}
	if growthMiB > attackRSSBoundMiB {
		t.Errorf("peak RSS grew %.0f MiB, over the documented bound of %d MiB", growthMiB, attackRSSBoundMiB)
	}
	t.Logf("attack run 2: %d unauthenticated %d MiB uploads in %s: %d refused 503, %d read and refused 401, %d refused while still sending; RSS %d MiB before, peak %d MiB (+%.0f MiB, bound %d MiB); real signed callback during the flood: %d",
		uploads, size>>20, elapsed.Round(time.Millisecond), refused503.Load(), refused401.Load(), cut.Load(), before/1024, peak/1024, growthMiB, attackRSSBoundMiB, realStatus)
}

// repeatReader repeats b forever.
type repeatReader []byte

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}
