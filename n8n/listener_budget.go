package n8n

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Front-door limits (issue 10 §3, §7). A body is read in chunks, each
// reserved from a byte budget before it is allocated, so memory follows
// the bytes that really arrived, never what Content-Length claims.
const (
	// freeBodyPrefix is read without touching the budgets: a real
	// callback with image URLs is well under it, so a flood that fills the
	// budgets never turns it away. Connections are capped, so the free
	// prefix is bounded too (maxConns × freeBodyPrefix).
	freeBodyPrefix = 64 << 10
	maxBodyChunk   = 1 << 20
	// defaultMaxConns caps concurrent connections; over it a connection
	// gets a canned 503 and is closed.
	defaultMaxConns = 256
	retryAfterBusy  = "5"
	busyMessage     = "too many callbacks in flight: retry in a few seconds"
)

// byteBudget is a counter of reserved bytes with a hard limit. Reserving
// never blocks: over the limit the caller answers 503 at once, so a slow
// attacker cannot make a real callback wait in a queue.
type byteBudget struct {
	mu    sync.Mutex
	used  int64
	limit int64
}

func newByteBudget(limit int64) *byteBudget { return &byteBudget{limit: limit} }

func (b *byteBudget) take(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) give(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// Used reports the bytes reserved now (tests and the attack run).
func (b *byteBudget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservation is what one body holds in the budgets until the handler is
// done with it.
type reservation struct {
	global, unauth   *byteBudget
	held, heldUnauth int64
	pooled           *[]byte // the body's buffer when it fit the free prefix
}

func (r *reservation) take(n int64) bool {
	if !r.global.take(n) {
		return false
	}
	if r.unauth != nil && !r.unauth.take(n) {
		r.global.give(n)
		return false
	}
	r.held += n
	if r.unauth != nil {
		r.heldUnauth += n
	}
	return true
}

func (r *reservation) give(n int64) {
	r.global.give(n)
	r.held -= n
	if r.unauth != nil {
		u := min(n, r.heldUnauth)
		r.unauth.give(u)
		r.heldUnauth -= u
	}
}

// authenticated moves the body out of the unauthenticated budget: a
// verified sender is limited by the global budget only.
func (r *reservation) authenticated() {
	if r.unauth != nil {
		r.unauth.give(r.heldUnauth)
		r.heldUnauth, r.unauth = 0, nil
	}
}

// release returns everything, the pooled body buffer included; call it
// once nothing refers to the body any more (nor to strings aliasing it).
func (r *reservation) release() {
	r.authenticated()
	r.global.give(r.held)
	r.held = 0
	if r.pooled != nil {
		putScratch(r.pooled)
		r.pooled = nil
	}
}

// errBudget is a body refused because the budgets are full.
var errBudget = errors.New("in-flight budget exhausted")

// readBudgeted reads at most maxBody bytes of body in chunks, reserving
// each chunk before it is allocated (past the free prefix), and returns
// the body as one slice. The free prefix is read into a pooled buffer
// that res holds until release: a callback of that size (nearly all)
// allocates nothing for its body. A body bigger than the prefix is joined
// once at the end, so the peak is about twice its size, briefly.
func readBudgeted(body io.Reader, maxBody int64, res *reservation) ([]byte, error) {
	first := getScratch(freeBodyPrefix)
	n, err := io.ReadFull(body, *first)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		res.pooled = first
		return (*first)[:n], nil
	}
	if err != nil {
		putScratch(first)
		return nil, err
	}
	defer putScratch(first) // copied into the joined body below
	chunks := [][]byte{*first}
	total := int64(n)
	size := int64(freeBodyPrefix)
	for {
		if total > maxBody {
			break
		}
		if !res.take(size) {
			return nil, errBudget
		}
		chunk := make([]byte, size)
		n, err := io.ReadFull(body, chunk)
		chunk = chunk[:n]
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, chunk)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(size*2, maxBodyChunk)
	}
	if total > maxBody {
		return nil, &http.MaxBytesError{Limit: maxBody}
	}
	if !res.take(total) {
		return nil, errBudget
	}
	joined := make([]byte, 0, total)
	for i, c := range chunks {
		joined = append(joined, c...)
		chunks[i] = nil
	}
	// The chunks are garbage now: hand their reservation back, keep the
	// joined copy's.
	res.give(max(0, res.held-total))
	return joined, nil
}

// readBody reads the callback body under the budgets: over max_body is
// 413, a full budget is 503 with Retry-After, a body that stops arriving
// (slow drip past the read timeout) is 408.
func (h *callbackHandler) readBody(w http.ResponseWriter, r *http.Request, res *reservation) ([]byte, int, string) {
	tooLarge := "body: larger than callback.max_body (" + app.ByteSize(h.maxBody).String() + "): send image URLs instead of base64, or raise callback.max_body"
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := readBudgeted(http.MaxBytesReader(w, r.Body, h.maxBody), h.maxBody, res)
	if err != nil {
		var maxErr *http.MaxBytesError
		switch {
		case errors.Is(err, errBudget):
			w.Header().Set("Retry-After", retryAfterBusy)
			w.Header().Set("Connection", "close")
			return nil, http.StatusServiceUnavailable, busyMessage
		case errors.As(err, &maxErr):
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, http.StatusRequestTimeout, "body: not received within the read timeout"
		default:
			return nil, http.StatusBadRequest, "body: could not be read completely"
		}
	}
	return body, 0, ""
}

// connLimitListener caps concurrent connections. Over the cap it does not
// make the caller wait in the accept queue (that would stall n8n's single
// 10 s attempt behind an attacker): it answers a canned 503 with
// Retry-After and closes, and everything already connected carries on.
type connLimitListener struct {
	net.Listener
	max    int64
	active atomic.Int64
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			go refuseBusy(c)
			continue
		}
		return &countedConn{Conn: c, done: func() { l.active.Add(-1) }}, nil
	}
}

// Active reports the connections open now (tests).
func (l *connLimitListener) Active() int64 { return l.active.Load() }

var busyResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: " + retryAfterBusy +
	"\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(busyBody)) + "\r\n\r\n" + busyBody)

const busyBody = `{"status":"error","message":"` + busyMessage + `"}`

func refuseBusy(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.Write(busyResponse)
	_ = c.Close()
}

type countedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}
