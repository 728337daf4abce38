package n8n

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// signedHarness is signatureHarness with listener options.
func signedHarness(t *testing.T, mode string, opts ...harnessOpt) (*harness, string) {
	t.Helper()
	h := newHarness(t, append([]harnessOpt{func(o *ListenerOptions) { o.Config.Auth = mode }}, opts...)...)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := h.secrets.Set(context.Background(), app.SecretWebhookSecret, secret); err != nil {
		t.Fatal(err)
	}
	return h, secret
}

// pollUntil waits for cond with a deadline (never a fixed sleep).
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// openUpload starts a POST claiming contentLength and sends the first
// sent bytes of its body, then holds the connection open.
func openUpload(t testing.TB, addr string, contentLength, sent int, headers map[string]string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", app.CallbackPath, contentLength)
	for k, v := range headers {
		fmt.Fprintf(&hdr, "%s: %s\r\n", k, v)
	}
	hdr.WriteString("\r\n")
	if _, err := conn.Write([]byte(hdr.String())); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(append([]byte(`{"a":"`), bytes.Repeat([]byte("A"), sent-6)...)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readReply reads one HTTP response from conn; the deadline only keeps a
// broken server from hanging the test.
func readReply(t testing.TB, conn net.Conn) *http.Response {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no HTTP reply: %v", err)
	}
	_ = resp.Body.Close()
	return resp
}

// Issue 10 §3: in signature mode 16 unauthenticated connections claiming
// 32 MiB each took RSS from 63 MB to 543 MB (buffers pre-sized from
// Content-Length, connections uncapped).
func TestUnauthenticatedBodiesShareOneSmallBudget(t *testing.T) {
	const maxBody = 1 << 20
	h, secret := signedHarness(t, app.AuthSignature, func(o *ListenerOptions) { o.Config.MaxBody = maxBody })
	budget := h.lis.handler.unauthBodies
	if budget.limit != 2*maxBody {
		t.Fatalf("unauthenticated budget = %d, want 2 × max_body", budget.limit)
	}
	// A Content-Length claim alone reserves nothing.
	openUpload(t, h.lis.Addr(), maxBody, 16, nil)
	// Two uploads of 900 KiB each (of a claimed 1 MiB) fill most of it...
	for i := 1; i <= 2; i++ {
		openUpload(t, h.lis.Addr(), maxBody, 900<<10, nil)
		pollUntil(t, fmt.Sprintf("upload %d is held", i), func() bool { return budget.Used() >= int64(i)*(900<<10) })
	}
	// ...so the third is answered 503 with Retry-After at once.
	third := openUpload(t, h.lis.Addr(), maxBody, 900<<10, nil)
	resp := readReply(t, third)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third upload: %s Retry-After=%q, want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	// Nothing else is affected: a real signed callback still gets through,
	// and the health check answers.
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, urlBody(req.ID, "https://images.example.com/a.png"))
	wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_real", h.clock.Now(), body), body), http.StatusOK)
	health, err := http.Get(h.base + "/healthz")
	if err != nil || health.StatusCode != http.StatusOK {
		t.Fatalf("healthz during the flood: %v %v", health, err)
	}
	_ = health.Body.Close()
	if d := h.count("deliveries"); d != 1 {
		t.Fatalf("%d deliveries, want only the real one", d)
	}
	if used := h.lis.handler.inFlight.Used(); used > 4*maxBody {
		t.Fatalf("%d bytes in flight for three uploads of 900 KiB, want at most %d", used, 4*maxBody)
	}
}

func TestConnectionsOverTheCapGet503AndOthersCarryOn(t *testing.T) {
	h := newHarness(t, func(o *ListenerOptions) { o.MaxConns = 3 })
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", h.lis.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		held = append(held, c)
	}
	pollUntil(t, "three connections are accepted", func() bool { return h.lis.conns.Active() == 3 })
	extra, err := net.Dial("tcp", h.lis.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	resp := readReply(t, extra)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth connection: %s Retry-After=%q, want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	// The held connections still work.
	fmt.Fprintf(held[0], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp := readReply(t, held[0]); resp.StatusCode != http.StatusOK {
		t.Fatalf("held connection: %s, want 200", resp.Status)
	}
	// Closing one frees its slot.
	_ = held[1].Close()
	pollUntil(t, "the closed connection is released", func() bool { return h.lis.conns.Active() == 2 })
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken}, []byte(`{}`)), http.StatusBadRequest)
}

// Issue 10 §6: webhook-id was a global key, so a success for request B
// carrying A's webhook-id was answered "duplicate" and dropped.
func TestAWebhookIDIsKeyedPerRequest(t *testing.T) {
	h, secret := signedHarness(t, app.AuthSignature)
	a, b := h.request(app.StatusProcessing), h.request(app.StatusProcessing)
	bodyA := mustJSON(t, urlBody(a.ID, "https://images.example.com/a.png"))
	bodyB := mustJSON(t, urlBody(b.ID, "https://images.example.com/b.png"))
	wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_shared", h.clock.Now(), bodyA), bodyA), http.StatusOK)

	got := h.post(app.CallbackPath, signed(t, secret, "msg_shared", h.clock.Now(), bodyB), bodyB)
	wantStatus(t, got, http.StatusConflict)
	msg, _ := got.body["message"].(string)
	if !strings.Contains(msg, a.ID) || !strings.Contains(msg, b.ID) || !strings.Contains(msg, "msg_shared") {
		t.Fatalf("message %q does not name the webhook-id and both requests", msg)
	}
	var forB int
	if err := h.raw.QueryRow("SELECT count(*) FROM deliveries WHERE request_id = ?", b.ID).Scan(&forB); err != nil || forB != 0 {
		t.Fatalf("%d deliveries for B (%v), want none", forB, err)
	}
	// A re-send of A's callback is still a harmless duplicate.
	dup := h.post(app.CallbackPath, signed(t, secret, "msg_shared", h.clock.Now(), bodyA), bodyA)
	wantStatus(t, dup, http.StatusOK)
	if dup.body["duplicate"] != true {
		t.Fatalf("re-send of A = %s, want a duplicate", dup.raw)
	}
	// B with its own webhook-id is accepted.
	wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_b", h.clock.Now(), bodyB), bodyB), http.StatusOK)
	if d := h.count("deliveries"); d != 2 {
		t.Fatalf("%d deliveries, want A's and B's", d)
	}
}

func TestAValidSignatureIsNeverRefusedByTheFailureLimiter(t *testing.T) {
	h, secret := signedHarness(t, app.AuthSignature)
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, urlBody(req.ID, "https://images.example.com/a.png"))
	for i := range 2 * authFailureLimit {
		h.post(app.CallbackPath, signed(t, "whsec_"+base64.StdEncoding.EncodeToString([]byte("a wrong secret of 32 bytes......")), fmt.Sprintf("msg_%d", i), h.clock.Now(), body), body)
	}
	wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_real", h.clock.Now(), body), body), http.StatusOK)
	if d := h.count("deliveries"); d != 1 {
		t.Fatalf("%d deliveries, want the real one", d)
	}
}

// Issue 10 §7: one global budget bounds every body in flight, token
// holders' too.
func TestAuthenticatedBodiesShareTheGlobalBudget(t *testing.T) {
	const maxBody = 1 << 20
	h := newHarness(t, func(o *ListenerOptions) { o.Config.MaxBody, o.Config.MaxInFlight = maxBody, 2*maxBody })
	budget := h.lis.handler.inFlight
	token := map[string]string{"X-Callback-Token": testToken}
	for i := 1; i <= 2; i++ {
		openUpload(t, h.lis.Addr(), maxBody, 900<<10, token)
		pollUntil(t, fmt.Sprintf("upload %d is held", i), func() bool { return budget.Used() >= int64(i)*(900<<10) })
	}
	third := openUpload(t, h.lis.Addr(), maxBody, 900<<10, token)
	if resp := readReply(t, third); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third upload: %s, want 503 with Retry-After", resp.Status)
	}
	req := h.request(app.StatusProcessing)
	wantStatus(t, h.callback(urlBody(req.ID, "https://images.example.com/a.png")), http.StatusOK)
}
