package n8n

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// loadConn is one keep-alive HTTP/1.1 connection posting prepared
// callbacks: the request head is built once per connection and the answer
// is parsed only as far as its status and length. A net/http client spends
// about as much CPU per exchange as the server it measures, and on 2 cores
// that comes out of the server's share: with one, the bare handler reached
// 8,200/s here against the 15,400–17,900/s, and every ratio read
// high.
type loadConn struct {
	conn net.Conn
	r    *bufio.Reader
	head []byte // the request line and headers, up to "Content-Length: "
}

func dialLoad(rawURL, token string) (*loadConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nContent-Type: application/json\r\nX-Callback-Token: " + token + "\r\nContent-Length: "
	return &loadConn{conn: conn, r: bufio.NewReaderSize(conn, 4096), head: []byte(head)}, nil
}

func (lc *loadConn) close() { _ = lc.conn.Close() }

// post sends one callback and reads the whole answer, so the connection
// is ready for the next; anything but 200 is an error naming the answer.
func (lc *loadConn) post(body []byte) error {
	_ = lc.conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := append(strconv.AppendInt(lc.head, int64(len(body)), 10), "\r\n\r\n"...)
	lc.head = req[:len(lc.head)] // keep the grown buffer
	bufs := net.Buffers{req, body}
	if _, err := bufs.WriteTo(lc.conn); err != nil {
		return err
	}
	status, length, err := lc.readHead()
	if err != nil {
		return err
	}
	answer := make([]byte, 0, 512)
	if length >= 0 {
		answer, err = lc.readN(answer, length)
	} else {
		answer, err = lc.readChunked(answer)
	}
	if err != nil {
		return fmt.Errorf("answer body: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("callback answered %d: %s", status, answer)
	}
	return nil
}

// readN reads n bytes of the answer, keeping the first cap(answer).
func (lc *loadConn) readN(answer []byte, n int) ([]byte, error) {
	for n > 0 {
		chunk, err := lc.r.Peek(min(n, lc.r.Size()))
		if err != nil {
			return answer, err
		}
		answer = append(answer, chunk[:min(len(chunk), cap(answer)-len(answer))]...)
		d, _ := lc.r.Discard(len(chunk))
		n -= d
	}
	return answer, nil
}

// readChunked reads a chunked answer body (a server answering without a
// Content-Length).
func (lc *loadConn) readChunked(answer []byte) ([]byte, error) {
	for {
		line, err := lc.r.ReadSlice('\n')
		if err != nil {
			return answer, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil {
			return answer, fmt.Errorf("chunk size %q", size)
		}
		if answer, err = lc.readN(answer, int(n)); err != nil {
			return answer, err
		}
		if _, err := lc.r.Discard(2); err != nil { // the chunk's CRLF
			return answer, err
		}
		if n == 0 {
			return answer, nil // no trailers: net/http sends none unless asked
		}
	}
}

// readHead reads the status line and headers of one answer; length is
// -1 for a chunked body.
func (lc *loadConn) readHead() (status, length int, err error) {
	length = -1
	chunked := false
	for first := true; ; first = false {
		line, err := lc.r.ReadSlice('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("answer head: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case first:
			_, code, ok := bytes.Cut(line, []byte(" "))
			if !ok || len(code) < 3 {
				return 0, 0, fmt.Errorf("answer status line %q", line)
			}
			if status, err = strconv.Atoi(string(code[:3])); err != nil {
				return 0, 0, fmt.Errorf("answer status line %q", line)
			}
		case len(line) == 0:
			if length < 0 && !chunked {
				return 0, 0, fmt.Errorf("answer %d without a Content-Length", status)
			}
			return status, length, nil
		default:
			name, value, _ := bytes.Cut(line, []byte(":"))
			if bytes.EqualFold(name, []byte("Transfer-Encoding")) && bytes.EqualFold(bytes.TrimSpace(value), []byte("chunked")) {
				chunked = true
			}
			if bytes.EqualFold(name, []byte("Content-Length")) {
				if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
					return 0, 0, fmt.Errorf("answer Content-Length %q", value)
				}
			}
		}
	}
}

// runClosedLoop posts every body once over conns connections, each sending
// its next body as soon as the last is answered (saturation).
func runClosedLoop(url, token string, bodies [][]byte, conns int) closedResult {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      = make([]time.Duration, 0, len(bodies))
		firstErr error
		wg       sync.WaitGroup
	)
	lcs, err := dialAll(url, token, conns)
	if err != nil {
		return closedResult{err: err}
	}
	start := time.Now()
	for _, lc := range lcs {
		wg.Go(func() {
			defer lc.close()
			mine := make([]time.Duration, 0, len(bodies)/conns+1)
			var err error
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					break
				}
				t0 := time.Now()
				if err = lc.post(bodies[i]); err != nil {
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

// dialAll opens conns connections before the clock starts.
func dialAll(url, token string, conns int) ([]*loadConn, error) {
	lcs := make([]*loadConn, 0, conns)
	for range conns {
		lc, err := dialLoad(url, token)
		if err != nil {
			for _, lc := range lcs {
				lc.close()
			}
			return nil, err
		}
		lcs = append(lcs, lc)
	}
	return lcs, nil
}
