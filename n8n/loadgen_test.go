package n8n

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator shared by the ack benchmarks and the load command
// (load_test.go): keep-alive connections posting prepared bodies, with the
// latency of each callback kept for percentiles. The bodies are built
// before the clock starts, so the generator costs little next to the
// server it measures.

// closedResult is one phase's outcome.
type closedResult struct {
	rate      float64         // answered callbacks per second of wall time
	latencies []time.Duration // sorted
	err       error           // the first non-200 or transport error
}

func (r closedResult) percentile(p float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(len(r.latencies)-1, int(float64(len(r.latencies))*p))
	return float64(r.latencies[i].Microseconds()) / 1000
}

// loadClient keeps exactly conns connections open to one server.
func loadClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
}

// postCallback sends one callback and reads the whole answer (so the connection
// is reused); anything but 200 is an error naming the answer.
func postCallback(client *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Callback-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered %d: %s", resp.StatusCode, answer)
	}
	return nil
}

// runClosedLoop posts every body once over conns connections, each sending
// its next body as soon as the last is answered (saturation).
func runClosedLoop(url, token string, bodies [][]byte, conns int) closedResult {
	client := loadClient(conns)
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      = make([]time.Duration, 0, len(bodies))
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			mine := make([]time.Duration, 0, len(bodies)/conns+1)
			var err error
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					break
				}
				t0 := time.Now()
				if err = postCallback(client, url, token, bodies[i]); err != nil {
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	return closedResult{rate: float64(len(all)) / elapsed.Seconds(), latencies: all, err: firstErr}
}
