//go:build load

package n8n

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The load command's generator runs in a process of its own, as n8n does
// against `serve` and as the instrument did: in the listener's
// process its 64 connections' goroutines took the same two Go processors
// as the writer, whose runnable waits then had a p99 of 10–17 ms (the
// Go scheduler has no priorities; between processes the kernel's does its
// time-slicing), and its 1.2 GB of prepared bodies were the listener's
// heap. TestLoad starts it, hands it the request ids in a file, and sends
// it one phase at a time as a JSON line; it answers with the phase's
// figures as one JSON line.

// genPhase is one phase for the generator: bodies [From, From+N) to URL,
// closed loop over Conns connections, or open loop at Rate per second.
type genPhase struct {
	URL     string
	From, N int
	Conns   int
	Rate    float64 // 0: closed loop
}

// genResult is a closedResult on the wire.
type genResult struct {
	Rate      float64
	Latencies []time.Duration // sorted
	Err       string
}

// TestLoadGeneratorProcess is the generator's process: it runs only when
// started by TestLoad.
func TestLoadGeneratorProcess(t *testing.T) {
	if os.Getenv("INFLUENCEGEN_LOAD_GEN_CHILD") != "1" {
		t.Skip("started by TestLoad")
	}
	raw, err := os.ReadFile(os.Getenv("INFLUENCEGEN_LOAD_GEN_IDS"))
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(string(raw))
	pic := ackPicture(t)
	distinct := os.Getenv("LOAD_DISTINCT_PICTURES") == "1"
	bodies := make([][]byte, len(ids))
	for i, id := range ids {
		if distinct {
			pic = strconv.Quote(b64(seededNoisePNG(t, 56, 56, uint64(i)+2)))
		}
		bodies[i] = ackBody(id, pic, i)
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	fmt.Println("GEN-READY", len(bodies[0])) // the body size, for the summary
	for in.Scan() {
		var p genPhase
		if err := json.Unmarshal(in.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		batch := bodies[p.From : p.From+p.N]
		var r closedResult
		if p.Rate > 0 {
			r = runOpenLoop(p.URL, testToken, batch, p.Rate, p.Conns)
		} else {
			r = runClosedLoop(p.URL, testToken, batch, p.Conns)
		}
		reply := genResult{Rate: r.rate, Latencies: r.latencies}
		if r.err != nil {
			reply.Err = r.err.Error()
		}
		if err := out.Encode(reply); err != nil {
			t.Fatal(err)
		}
	}
}

// generator is TestLoad's handle on the generator's process.
type generator struct {
	in        io.Writer
	out       *bufio.Scanner
	bodyBytes int // its first body's size (with distinct pictures the others differ by a few bytes)
}

// startGenerator starts the generator's process with a body for each of
// ids and waits until it has built them.
func startGenerator(t *testing.T, ids []string) *generator {
	idsFile := t.TempDir() + "/ids"
	if err := os.WriteFile(idsFile, []byte(strings.Join(ids, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	size, in, out := startChild(t, "TestLoadGeneratorProcess", "GEN-READY ",
		"INFLUENCEGEN_LOAD_GEN_CHILD=1", "INFLUENCEGEN_LOAD_GEN_IDS="+idsFile)
	n, err := strconv.Atoi(size)
	if err != nil {
		t.Fatalf("the generator's process printed %q for its body size", size)
	}
	return &generator{in: in, out: out, bodyBytes: n}
}

// run sends one phase and waits for its figures.
func (g *generator) run(p genPhase) closedResult {
	line, err := json.Marshal(p)
	if err == nil {
		_, err = g.in.Write(append(line, '\n'))
	}
	if err != nil {
		return closedResult{err: err}
	}
	for g.out.Scan() {
		var r genResult
		if json.Unmarshal(g.out.Bytes(), &r) != nil {
			continue // the test framework's own lines
		}
		res := closedResult{rate: r.Rate, latencies: r.Latencies}
		if r.Err != "" {
			res.err = errors.New(r.Err)
		}
		return res
	}
	return closedResult{err: fmt.Errorf("the generator's process stopped: %w", g.out.Err())}
}
