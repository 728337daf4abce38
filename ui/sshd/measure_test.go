package sshd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// TestMeasureSixteenSessionsUnderCallbacks is the documented load run of
// issue 16, not a check: INFLUENCEGEN_SSH_MEASURE=1 go test ./ui/sshd -run Measure -v
//
// The real binary runs serve --ssh; 16 members each hold a 160×48 session
// (x/crypto/ssh clients in this process); n8n callbacks (failure results,
// so no image fetch) reach the real callback listener at 20/s, each one
// committed, published and redrawn in every session. It reports the host
// process's CPU and RSS per session, and per session the p99 time from a
// key to the frame showing its effect on the client's screen (modelled by
// vtScreen), each session keying once per 100 ms; then the median and range
// of those p99s, and the load average, since the machine may be shared.
func TestMeasureSixteenSessionsUnderCallbacks(t *testing.T) {
	if os.Getenv("INFLUENCEGEN_SSH_MEASURE") == "" {
		t.Skip("set INFLUENCEGEN_SSH_MEASURE=1 to run the load measurement")
	}
	const sessions, width, height, callbacksPerSecond = 16, 160, 48, 20
	bin := os.Getenv("INFLUENCEGEN_SSH_MEASURE_BIN") // a prebuilt binary (e.g. one serving pprof); default: build this tree
	if bin == "" {
		bin = buildBinary(t)
	}
	home := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("[callback]\nlisten = \"127.0.0.1:0\"\n\n[ssh]\nlisten = \"127.0.0.1:%d\"\nmax_per_user = 4\n", port)
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Requests waiting for their callback, made before the host starts.
	db, err := store.Open(context.Background(), filepath.Join(home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var waiting []app.Request
	now := time.Now().UTC()
	for i := range 2000 {
		at := now.Add(time.Duration(i) * time.Millisecond)
		waiting = append(waiting, app.Request{ID: app.NewID(at), Status: app.StatusProcessing, RequestedBy: "bench", CreatedAt: at, UpdatedAt: at,
			Params: app.GenerationParams{Prompt: fmt.Sprintf("benchmark prompt %d", i), Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: int64(i), NumImages: 1}})
	}
	if err := db.CreateRequests(context.Background(), waiting); err != nil {
		t.Fatal(err)
	}
	db.Close()
	teamFile := filepath.Join(home, "team.toml")
	signers := make([]gossh.Signer, sessions)
	for i := range signers {
		signers[i] = newSigner(t)
		if err := store.AddTeamUser(teamFile, app.TeamUser{Name: fmt.Sprintf("user%02d", i), Role: app.RoleStaff, Keys: []string{authorizedLine(signers[i], "bench")}}); err != nil {
			t.Fatal(err)
		}
	}

	serve := exec.Command(bin, "serve", "--ssh")
	serve.Env = append(os.Environ(), "INFLUENCEGEN_HOME="+home, "INFLUENCEGEN_N8N_API_KEY=k", "INFLUENCEGEN_CALLBACK_TOKEN=bench-token", "INFLUENCEGEN_LOG_LEVEL=warn")
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Signal(syscall.SIGTERM); _ = serve.Wait() })
	var callbackURL string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "callback URL"); ok {
			callbackURL = strings.TrimSpace(u)
		}
		if strings.HasPrefix(sc.Text(), "ssh host key") {
			break
		}
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(io_Discard{}) }()
	pid := serve.Process.Pid
	rss0 := procRSSKiB(t, pid)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	terms := make([]*terminal, sessions)
	for i, s := range signers {
		c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(s)}, HostKeyCallback: gossh.InsecureIgnoreHostKey()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		terms[i] = openScreen(t, c, width, height)
	}
	for i, tm := range terms {
		if !tm.waitScreen(func(s *vtScreen) bool { return s.contains("benchmark prompt 1999") }, 30*time.Second) {
			t.Fatalf("session %d shows no list within 30s; its screen:\n%s", i, tm.screenText())
		}
	}
	rssIdle := procRSSKiB(t, pid)
	profiles := startProfiles(t, "idle", 5)
	cpuIdle0, idleStart := procCPUTicks(t, pid), time.Now()
	time.Sleep(5 * time.Second) // a measurement window, not a wait for a condition
	idleCPU := cpuPercent(procCPUTicks(t, pid)-cpuIdle0, time.Since(idleStart))
	profiles.Wait()

	const rounds = 50
	loadBefore := loadAverage()
	every := 100 * time.Millisecond
	if v := os.Getenv("INFLUENCEGEN_SSH_MEASURE_KEY_EVERY"); v != "" {
		if every, err = time.ParseDuration(v); err != nil {
			t.Fatalf("INFLUENCEGEN_SSH_MEASURE_KEY_EVERY: %v", err)
		}
	}
	quietCPU0, quietStart := procCPUTicks(t, pid), time.Now()
	quietP99s, quietMissed := keyToFrame(t, terms, rounds, every)
	quietElapsed := time.Since(quietStart)
	quietCPU := cpuPercent(procCPUTicks(t, pid)-quietCPU0, quietElapsed)

	// Callbacks at 20/s for the whole keyed run.
	stop := make(chan struct{})
	var (
		cbMu            sync.Mutex
		sent, accepted  int
		callbackLatency []time.Duration
		cbDone          sync.WaitGroup
	)
	cbDone.Add(1)
	go func() {
		defer cbDone.Done()
		tick := time.NewTicker(time.Second / callbacksPerSecond)
		defer tick.Stop()
		client := &http.Client{Timeout: 10 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// Each on its own goroutine: the rate stays 20/s however long one takes.
			cbDone.Add(1)
			go func() {
				defer cbDone.Done()
				body := fmt.Sprintf(`{"ai_generation_request_id":%q,"status":"failed","error_message":"benchmark result %d"}`, waiting[len(waiting)-1-i%len(waiting)].ID, i)
				req, _ := http.NewRequest(http.MethodPost, callbackURL, bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-callback-token", "bench-token")
				at := time.Now()
				resp, err := client.Do(req)
				cbMu.Lock()
				defer cbMu.Unlock()
				sent++
				if err == nil {
					if resp.StatusCode == http.StatusOK {
						accepted++
						callbackLatency = append(callbackLatency, time.Since(at))
					}
					resp.Body.Close()
				}
			}()
		}
	}()
	cpu0, selfBusy0, start := procCPUTicks(t, pid), procCPUTicks(t, os.Getpid()), time.Now()
	bytes0 := screenBytes(terms)
	profiles = startProfiles(t, "busy", 8)
	busyP99s, busyMissed := keyToFrame(t, terms, rounds, every)
	elapsed := time.Since(start)
	busyCPU := cpuPercent(procCPUTicks(t, pid)-cpu0, elapsed)
	clientCPU := cpuPercent(procCPUTicks(t, os.Getpid())-selfBusy0, elapsed)
	outBytes := screenBytes(terms) - bytes0
	close(stop)
	cbDone.Wait()
	rssBusy := procRSSKiB(t, pid)
	profiles.Wait()

	t.Logf("host: %d sessions at %dx%d, %d callbacks sent (%d answered 200) at %d/s over %v",
		sessions, width, height, sent, accepted, callbacksPerSecond, elapsed.Round(time.Millisecond))
	slices.Sort(callbackLatency)
	if n := len(callbackLatency); n > 0 {
		t.Logf("callback answered (committed) in: median %v, p99 %v", callbackLatency[n/2].Round(time.Millisecond), callbackLatency[(n*99+99)/100-1].Round(time.Millisecond))
	}
	t.Logf("host CPU: %.1f%% of one core with sessions idle, %.1f%% while keying (%.1f s), %.1f%% under callbacks and keys (%.1f s; %.2f%% per session)",
		idleCPU, quietCPU, quietElapsed.Seconds(), busyCPU, elapsed.Seconds(), busyCPU/sessions)
	keys := float64(sessions * 2 * rounds)
	t.Logf("host CPU per key (everything the host did while keying, divided by the keys): %.1f ms without callbacks, %.1f ms with them",
		quietCPU/100*quietElapsed.Seconds()*1000/keys, busyCPU/100*elapsed.Seconds()*1000/keys)
	t.Logf("output to each client under callbacks and keys: %.1f KiB/s; the clients (this process: 16 SSH clients and screen models) used %.1f%% of one core",
		float64(outBytes)/1024/float64(sessions)/elapsed.Seconds(), clientCPU)
	t.Logf("host RSS: %d KiB before sessions, %d KiB with %d idle sessions (%d KiB per session), %d KiB after the run",
		rss0, rssIdle, sessions, (rssIdle-rss0)/sessions, rssBusy)
	for _, phase := range []struct {
		name   string
		p99s   []time.Duration
		missed int
	}{{"no callbacks", quietP99s, quietMissed}, {"callbacks at 20/s", busyP99s, busyMissed}} {
		t.Logf("key-to-frame p99 per session, %s: %s; per session (ms): %s; %d keys per session, one per %v at most, %d missed (counted as %v)",
			phase.name, spread(phase.p99s), msList(phase.p99s), 2*rounds, every, phase.missed, keyLimit)
	}
	t.Logf("machine load average (shared with other jobs): %s before the keyed runs, %s after", loadBefore, loadAverage())
}

func loadAverage() string {
	la, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(la))[:3], " ")
}

// screenBytes is the output all sessions' screens have received so far.
func screenBytes(terms []*terminal) int {
	n := 0
	for _, tm := range terms {
		tm.screenMu.Lock()
		n += tm.vt.frameBytes
		tm.screenMu.Unlock()
	}
	return n
}

// The two screens a round moves between. The help's title line is what
// '?' brings; the list's rows coming back (and the title gone) is what the
// second '?' brings. Both are read off the client's screen model.
func helpShown(s *vtScreen) bool { return s.contains("(esc, q or ? closes this)") }
func listShown(s *vtScreen) bool {
	return !s.contains("closes this)") && s.contains("benchmark prompt")
}

// keyLimit is how long one key may take to show before it counts as
// missed; a missed key counts as keyLimit in the p99s (not left out).
const keyLimit = 5 * time.Second

// keyToFrame has every session open the help (?) and close it (? again)
// rounds times, all sessions starting together, timing each key from its
// write to the arrival of the output that puts its effect on the client's
// screen; it returns each session's p99, sorted. Each session keys to a
// rhythm, one key every every (a person navigating fast), but never before
// the previous key's frame has arrived, so a slow frame delays the next key
// and shows in the figures. With every = 0 each key follows the previous
// frame at once: 16 clients that never pause measure the host's throughput
// (latency = sessions ÷ frames per second), not what a person waits.
// A session that misses three keys in a row stops keying (the rest of its
// rounds count as missed), so a broken run ends.
func keyToFrame(t *testing.T, terms []*terminal, rounds int, every time.Duration) (p99s []time.Duration, missed int) {
	latencies := make([][]time.Duration, len(terms))
	var missedMu sync.Mutex
	var keyed sync.WaitGroup
	for i, tm := range terms {
		keyed.Add(1)
		go func() {
			defer keyed.Done()
			inRow := 0
			next := time.Now()
			for k := range 2 * rounds {
				if every > 0 {
					time.Sleep(time.Until(next)) // the rhythm is the input under test
					next = next.Add(every)
				}
				shows, what := helpShown, "the help"
				if k%2 == 1 {
					shows, what = listShown, "the list"
				}
				took, ok := keyLimit, false
				if inRow < 3 {
					took, ok = tm.screenShows("?", shows, keyLimit)
				}
				latencies[i] = append(latencies[i], took)
				if ok {
					inRow = 0
					continue
				}
				inRow++
				missedMu.Lock()
				if missed == 0 {
					t.Logf("first missed key (session %d, key %d, waiting for %s); the client's screen:\n%s", i, k, what, tm.screenText())
				}
				missed++
				missedMu.Unlock()
				if !tm.waitScreen(shows, keyLimit) { // get back in step, or give up
					inRow = 3
				}
			}
		}()
	}
	keyed.Wait()
	for _, l := range latencies {
		slices.Sort(l)
		p99s = append(p99s, l[(len(l)*99+99)/100-1])
	}
	slices.Sort(p99s)
	return p99s, missed
}

// spread is "median M (range A–B)" of sorted durations.
func spread(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	return fmt.Sprintf("median %s (range %s–%s)", ms(median(d)), ms(d[0]), ms(d[len(d)-1]))
}

func ms(x time.Duration) string { return fmt.Sprintf("%.0f ms", float64(x)/float64(time.Millisecond)) }

func median(d []time.Duration) time.Duration {
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// msList is the durations in whole milliseconds, space-separated.
func msList(d []time.Duration) string {
	parts := make([]string, len(d))
	for i, x := range d {
		parts[i] = strconv.Itoa(int(x.Round(time.Millisecond) / time.Millisecond))
	}
	return strings.Join(parts, " ")
}

type io_Discard struct{}

func (io_Discard) Write(p []byte) (int, error) { return len(p), nil }

func procRSSKiB(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// procCPUTicks is utime+stime of pid in clock ticks (100 per second).
func procCPUTicks(t *testing.T, pid int) int {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

func cpuPercent(ticks int, over time.Duration) float64 {
	return float64(ticks) / 100 / over.Seconds() * 100
}

// startProfiles fetches a CPU profile and an execution trace of the host
// for the next seconds when INFLUENCEGEN_SSH_MEASURE_PPROF names the
// address of a net/http/pprof server in the measured binary (see
// INFLUENCEGEN_SSH_MEASURE_BIN); they are written to the working directory
// as ssh-<phase>.cpu.pprof and ssh-<phase>.trace.
func startProfiles(t *testing.T, phase string, seconds int) *sync.WaitGroup {
	var wg sync.WaitGroup
	addr := os.Getenv("INFLUENCEGEN_SSH_MEASURE_PPROF")
	if addr == "" {
		return &wg
	}
	for _, p := range []struct{ path, file string }{
		{fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds), "ssh-" + phase + ".cpu.pprof"},
		{"/debug/pprof/trace?seconds=2", "ssh-" + phase + ".trace"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := (&http.Client{Timeout: time.Duration(seconds+30) * time.Second}).Get("http://" + addr + p.path)
			if err != nil {
				t.Logf("profile %s: %v", p.file, err)
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			if err := os.WriteFile(p.file, buf.Bytes(), 0o600); err != nil {
				t.Logf("profile %s: %v", p.file, err)
			}
		}()
	}
	return &wg
}
