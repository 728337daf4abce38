//go:build load

package n8n

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// The load command of issue 17 (README "Development", BENCHMARKS.md
// "Callback ack path (#17)"):
//
//	go test -tags load ./n8n -run TestLoad -v -timeout 30m
//
// The real listener, store and ingest worker (running, bounded, not
// switched off) in this process against a bare net/http handler (read the
// body, answer 200) in a separate process started from this test binary;
// the generator in a third (load_generator_test.go): 64 keep-alive
// connections, ~13 KB JSON bodies holding a 10 KB base64 PNG, each callback
// for its own request. The picture is the same in every callback, so
// ingest writes its file once; LOAD_DISTINCT_PICTURES=1 gives each its own,
// and ingest writes every file. Phases, each run LOAD_ROUNDS times
// (default 3):
//
//   - saturation, closed loop: once the last round's deliveries are
//     ingested, LOAD_SAT_N callbacks (default 10,000) to the bare handler,
//     then as many to the listener (ingest running): acks/s and the ratio;
//   - open loop at LOAD_OPEN_RATE/s (default 1,000) for LOAD_OPEN_SECONDS
//     (default 10): p50/p99 from each callback's scheduled send time;
//
// then once, sustained end to end: LOAD_OPEN_RATE/s for LOAD_SUSTAIN_SECONDS
// (default 30): deliveries/s ingested (image stored, request completed,
// outbox written) over that window, and the acks' p99. At the end every
// ack must have become a stored image. The figures the targets
// name are printed as one summary.

func loadEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// TestLoadBareServer is the bare handler's process: it runs only when
// started by TestLoad, prints its address and serves until stdin closes.
func TestLoadBareServer(t *testing.T) {
	if os.Getenv("INFLUENCEGEN_LOAD_BARE_CHILD") != "1" {
		t.Skip("started by TestLoad")
	}
	l := bareListener(t)
	fmt.Printf("BARE-ADDR %s\n", l.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startBareProcess runs the bare handler in a child process.
func startBareProcess(t *testing.T) string {
	addr, _, out := startChild(t, "TestLoadBareServer", "BARE-ADDR ", "INFLUENCEGEN_LOAD_BARE_CHILD=1")
	go func() {
		for out.Scan() { // the child's test-framework lines, until it exits
		}
	}()
	return addr
}

// startChild runs test, a Test function of this binary, in a child process
// with env added, and waits for the line it prints starting with ready. It
// returns the rest of that line, the child's stdin (the child stops when
// it closes, at the end of t) and its stdout after that line.
func startChild(t *testing.T, test, ready string, env ...string) (rest string, stdin io.Writer, out *bufio.Scanner) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	out = bufio.NewScanner(stdout)
	out.Buffer(make([]byte, 0, 64<<10), 256<<20) // the generator answers a phase in one line
	for out.Scan() {
		if rest, ok := strings.CutPrefix(out.Text(), ready); ok {
			return rest, in, out
		}
	}
	t.Fatalf("the child process %s did not start", test)
	return "", nil, nil
}

type loadFigures struct{ values []float64 }

func (f *loadFigures) add(v float64) { f.values = append(f.values, v) }

func (f loadFigures) String() string {
	if len(f.values) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(f.values))
	return fmt.Sprintf("median %s (range %s–%s)", num(s[len(s)/2]), num(s[0]), num(s[len(s)-1]))
}

func num(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func TestLoad(t *testing.T) {
	rounds := loadEnv("LOAD_ROUNDS", 3)
	satN := loadEnv("LOAD_SAT_N", 10000)
	openRate := loadEnv("LOAD_OPEN_RATE", 1000)
	openSeconds := loadEnv("LOAD_OPEN_SECONDS", 10)
	sustainSeconds := loadEnv("LOAD_SUSTAIN_SECONDS", 30)
	loadStart := loadAverage()

	var ingester atomic.Pointer[Ingester]
	h := newHarness(t, func(lo *ListenerOptions) {
		lo.Committed = func() {
			if in := ingester.Load(); in != nil {
				in.Notify()
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	ingestDone := make(chan struct{})
	ingester.Store(h.ingest)
	go func() { defer close(ingestDone); h.ingest.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ingestDone })
	bareURL := "http://" + startBareProcess(t) + app.CallbackPath
	url := h.base + app.CallbackPath

	total := rounds*(satN+openRate*openSeconds) + openRate*sustainSeconds
	t.Logf("creating %d requests", total)
	ids := h.processingRequests(total)
	gen := startGenerator(t, ids)
	// next is the first body not yet sent to the listener: every body
	// before it was acked.
	next := 0
	send := func(to string, n int, rate float64) closedResult {
		return gen.run(genPhase{URL: to, From: next, N: n, Conns: benchConns, Rate: rate})
	}

	var bareRate, ackRate, ratio, satP99, openP50, openP99, openCommitP99 loadFigures
	var bareOpen closedResult
	for round := 1; round <= rounds; round++ {
		// The bare handler is measured on a quiet machine: with the last
		// round's backlog still being ingested beside it, it got half its
		// rate and every later ratio read twice as high.
		waitIngested(t, h, next, 10*time.Minute)
		bare := send(bareURL, satN, 0)
		if bare.err != nil {
			t.Fatal(bare.err)
		}
		if round == 1 {
			// The instrument's own floor, on the same quiet machine: the
			// open loop against the bare handler (which ignores the request
			// ids, so these bodies go to the listener later).
			bareOpen = send(bareURL, openRate*openSeconds, float64(openRate))
			if bareOpen.err != nil {
				t.Fatal(bareOpen.err)
			}
			t.Logf("bare handler, open loop %d/s: %s (load %s)", openRate, bareOpen, loadAverage())
		}
		stopProfile := profilePhase(t, round, "saturation")
		c0, s0 := h.db.CommitTimes(), readSchedWaits()
		listener := send(url, satN, 0)
		next += satN
		satCommits, satSched := h.db.CommitTimes().Sub(c0), readSchedWaits().sub(s0)
		stopProfile()
		if listener.err != nil {
			t.Fatal(listener.err)
		}
		bareRate.add(bare.rate)
		ackRate.add(listener.rate)
		ratio.add(listener.rate / bare.rate)
		satP99.add(listener.percentile(0.99))
		t.Logf("round %d saturation: bare %s | listener %s | ratio %.3f | %s | %s (load %s)", round, bare, listener, listener.rate/bare.rate, commitLine(satCommits), satSched, loadAverage())

		stopProfile = profilePhase(t, round, "open")
		c0, s0 = h.db.CommitTimes(), readSchedWaits()
		open := send(url, openRate*openSeconds, float64(openRate))
		next += openRate * openSeconds
		openCommits, openSched := h.db.CommitTimes().Sub(c0), readSchedWaits().sub(s0)
		stopProfile()
		if open.err != nil {
			t.Fatal(open.err)
		}
		openP50.add(open.percentile(0.50))
		openP99.add(open.percentile(0.99))
		openCommitP99.add(ms(openCommits.Quantile(0.99)))
		t.Logf("round %d open loop %d/s: %s | %s | %s (load %s)", round, openRate, open, commitLine(openCommits), openSched, loadAverage())
	}

	// Sustained: the backlog of the rounds is ingested first, so the
	// window measures ingest keeping up with the offered rate.
	waitIngested(t, h, next, 10*time.Minute)
	before := processedCount(t, h, next)
	start := time.Now()
	stopProfile := profilePhase(t, 1, "sustained")
	c0, s0, cpu0 := h.db.CommitTimes(), readSchedWaits(), processCPU()
	sustained := send(url, openRate*sustainSeconds, float64(openRate))
	next += openRate * sustainSeconds
	window := time.Since(start)
	sustainedCommits, sustainedSched := h.db.CommitTimes().Sub(c0), readSchedWaits().sub(s0)
	stopProfile()
	ingestedInWindow := processedCount(t, h, next) - before
	if sustained.err != nil {
		t.Fatal(sustained.err)
	}
	drainStart := time.Now()
	waitIngested(t, h, next, 10*time.Minute)
	drain := time.Since(drainStart)
	// Every callback of the phase is acked and ingested now: the CPU the
	// process used since its start is their whole cost.
	perCallback := cpuPerCallback(processCPU()-cpu0, openRate*sustainSeconds)
	t.Logf("sustained %d/s for %s: acks %s; ingested %d in the window, backlog drained %s later; CPU %s per callback | %s | %s (load %s)",
		openRate, window.Round(time.Millisecond), sustained, ingestedInWindow, drain.Round(time.Millisecond), perCallback, commitLine(sustainedCommits), sustainedSched, loadAverage())

	// Every ack became a stored image and a completed request.
	if n := h.count("images"); n != next {
		t.Fatalf("%d images stored for %d acked callbacks", n, next)
	}
	var completed int
	if err := h.raw.QueryRow("SELECT count(*) FROM requests WHERE status = 'completed'").Scan(&completed); err != nil || completed != next {
		t.Fatalf("%d requests completed for %d acked callbacks (%v)", completed, next, err)
	}

	fmt.Printf(`
== Callback load (issue 17): %d rounds, 64 keep-alive connections, %d-byte bodies (10 KB PNG), ingest running ==
saturation, closed loop (%d callbacks per round):
  bare handler (own process)  %s acks/s
  listener + store            %s acks/s, p99 %s ms
  ratio listener/bare         %s
open loop at %d/s for %d s, latency from scheduled send time:
  p50 %s ms
  p99 %s ms
  the writer's COMMIT p99     %s ms (the floor of the acks' tail)
  bare handler, round 1       p50 %.1f ms, p99 %.1f ms (the instrument's own floor)
sustained end to end, %d/s for %d s:
  ingested                    %.0f deliveries/s in the window (%d), backlog drained %s after it
  acks                        p50 %.1f ms, p99 %.1f ms
  process CPU per callback    %s (ack and ingest, user and system)
  the writer's COMMITs        %s
every ack became a stored image: %d of %d
load average: %s at start, %s at end
`, rounds, gen.bodyBytes, satN, bareRate, ackRate, satP99, ratio, openRate, openSeconds, openP50, openP99, openCommitP99,
		bareOpen.percentile(0.5), bareOpen.percentile(0.99),
		openRate, sustainSeconds, float64(ingestedInWindow)/window.Seconds(), ingestedInWindow, drain.Round(time.Millisecond),
		sustained.percentile(0.5), sustained.percentile(0.99), perCallback, commitLine(sustainedCommits), next, next, loadStart, loadAverage())
}

// commitLine reports the writer's COMMIT times over a phase: an ack waits
// for its own COMMIT and for the one in progress when it came, so their
// tail is the floor of the acks' tail. Each figure is a bucket's upper
// bound (store/writer_stats.go: within a factor of √2).
func commitLine(c store.CommitTimes) string {
	return fmt.Sprintf("%d commits, COMMIT p50 ≤ %s ms, p99 ≤ %s ms, max ≤ %s ms, %d over 8 ms, %d over 16 ms",
		c.Total(), num(ms(c.Quantile(0.5))), num(ms(c.Quantile(0.99))), num(ms(c.Max())), c.Over(8*time.Millisecond), c.Over(16*time.Millisecond))
}

// cpuPerCallback is cpu shared out over n callbacks, "n/a" where the
// process's CPU time is not read.
func cpuPerCallback(cpu time.Duration, n int) string {
	if cpu <= 0 || n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d µs", (cpu / time.Duration(n)).Microseconds())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// profilePhase writes a CPU profile of one phase of the first round to
// $LOAD_PROFILE_DIR/<phase>.prof when that is set: the whole run's profile
// mixes the phases with the waits between them.
func profilePhase(t *testing.T, round int, phase string) (stop func()) {
	dir := os.Getenv("LOAD_PROFILE_DIR")
	if dir == "" || round != 1 {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, phase+".prof"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

// processedCount is how many of the acked deliveries are ingested: the
// acked ones less those still waiting, counted on the small pending index
// (a count over the deliveries themselves walks every 13 KB row and cost
// a tenth of the run's CPU).
func processedCount(t *testing.T, h *harness, acked int) int {
	t.Helper()
	var pending int
	if err := h.raw.QueryRow("SELECT count(*) FROM deliveries WHERE processed_at IS NULL AND parked_at IS NULL").Scan(&pending); err != nil {
		t.Fatal(err)
	}
	return acked - pending
}

// waitIngested polls until every acked delivery is processed.
func waitIngested(t *testing.T, h *harness, acked int, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	for processedCount(t, h, acked) < acked {
		if time.Now().After(end) {
			t.Fatalf("only %d of %d deliveries ingested within %s", processedCount(t, h, acked), acked, deadline)
		}
		time.Sleep(50 * time.Millisecond) // polling the database, not waiting for a result to appear by itself
	}
}

// runOpenLoop sends body i at start + i/perSecond whether or not earlier
// ones were answered, over up to conns connections, and measures each
// latency from the scheduled send time: a server that falls behind shows
// its queueing delay instead of hiding it (no coordinated omission).
func runOpenLoop(url, token string, bodies [][]byte, perSecond float64, conns int) closedResult {
	lcs, err := dialAll(url, token, conns)
	if err != nil {
		return closedResult{err: err}
	}
	type shot struct {
		i   int
		due time.Time
	}
	queue := make(chan shot, len(bodies))
	var (
		mu       sync.Mutex
		all      = make([]time.Duration, 0, len(bodies))
		firstErr error
		wg       sync.WaitGroup
	)
	for _, lc := range lcs {
		wg.Go(func() {
			defer lc.close()
			for s := range queue {
				if wait := time.Until(s.due); wait > 0 {
					time.Sleep(wait) // pacing the sender, not waiting for a result
				}
				err := lc.post(bodies[s.i])
				lat := time.Since(s.due)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				all = append(all, lat)
				mu.Unlock()
			}
		})
	}
	start := time.Now().Add(20 * time.Millisecond)
	interval := time.Duration(float64(time.Second) / perSecond)
	for i := range bodies {
		queue <- shot{i: i, due: start.Add(time.Duration(i) * interval)}
	}
	close(queue)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	return closedResult{rate: float64(len(all)) / elapsed.Seconds(), latencies: all, err: firstErr}
}
