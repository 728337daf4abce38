package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/ui/cli"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI runs one command in-process, as the binary would.
func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
	env.Stdout, env.Stderr, env.Stdin = &out, &errOut, strings.NewReader("")
	root := cli.NewRoot(env, nil)
	root.SetArgs(args)
	code = cli.Execute(ctx, root, env)
	return code, out.String(), errOut.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func pngBytes(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestServeReceivesTheCallbackOfAGeneratedRequest is issue 4's "done when":
// serve runs; generate sends to a fake n8n that calls back with the token
// and a base64 PNG; status shows it completed with that image; the same
// callback again is a duplicate; a wrong token is refused and writes nothing.
func TestServeReceivesTheCallbackOfAGeneratedRequest(t *testing.T) {
	const token = "e2e-callback-token"
	fake := n8ntest.New(t, n8ntest.Options{})
	listen := freeAddr(t)
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", token)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.WebhookURL)
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", listen)

	pic := pngBytes(t)
	sum := sha256.Sum256(pic)
	var lastBody []byte
	var mu sync.Mutex
	callbackStatus := make(chan int, 1)
	fake.CallbackFirst(token, func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "success",
			"image_base64": base64.StdEncoding.EncodeToString(pic), "image_format": "png", "seed": 7})
		mu.Lock()
		lastBody = b
		mu.Unlock()
		return b
	}, func(status int, err error) { callbackStatus <- status })

	ctx, cancel := context.WithCancel(context.Background())
	serveDone := make(chan int, 1)
	var serveOut syncBuffer
	go func() {
		env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
		var serveErr syncBuffer
		env.Stdout, env.Stderr = &serveOut, &serveErr
		root := cli.NewRoot(env, nil)
		root.SetArgs([]string{"serve"})
		serveDone <- cli.Execute(ctx, root, env)
	}()
	defer func() {
		cancel()
		select {
		case code := <-serveDone:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s of its context ending")
		}
	}()
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(serveOut.String(), "callback URL") })
	wantURL := "http://" + listen + app.CallbackPath
	if !strings.Contains(serveOut.String(), wantURL) {
		t.Fatalf("serve printed %q, want the callback URL %s", serveOut.String(), wantURL)
	}

	code, out, errOut := runCLI(context.Background(), "generate", "--prompt", "a red fox", "--json")
	if code != 0 {
		t.Fatalf("generate exited %d: %s %s", code, out, errOut)
	}
	if st := <-callbackStatus; st != http.StatusOK {
		t.Fatalf("the fake's callback got %d, want 200", st)
	}
	var sent []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &sent); err != nil || len(sent) != 1 {
		t.Fatalf("generate --json printed %q: %v", out, err)
	}
	id := sent[0].ID

	var detail struct {
		Request app.Request `json:"request"`
		Images  []app.Image `json:"images"`
	}
	waitFor(t, 20*time.Second, func() bool {
		code, out, _ := runCLI(context.Background(), "status", id, "--json")
		return code == 0 && json.Unmarshal([]byte(out), &detail) == nil && detail.Request.Status == app.StatusCompleted
	})
	if len(detail.Images) != 1 || detail.Images[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("status shows images %+v, want one with sha256 %x", detail.Images, sum)
	}

	post := func(tok string) (int, map[string]any) {
		mu.Lock()
		body := lastBody
		mu.Unlock()
		req, _ := http.NewRequest(http.MethodPost, wantURL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-callback-token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var reply map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&reply)
		return resp.StatusCode, reply
	}
	if status, reply := post(token); status != 200 || reply["duplicate"] != true {
		t.Fatalf("the same callback again: %d %v, want 200 duplicate", status, reply)
	}
	if status, _ := post("wrong-token"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", status)
	}
	_, out, _ = runCLI(context.Background(), "status", id, "--json")
	if err := json.Unmarshal([]byte(out), &detail); err != nil || len(detail.Images) != 1 {
		t.Fatalf("after the duplicate and the forgery: %d images (%v), want still 1", len(detail.Images), err)
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGenerateWaitRunsAListenerWhenNoneIsRunning: without serve, generate
// --wait receives the callback itself and prints the final state.
func TestGenerateWaitRunsAListenerWhenNoneIsRunning(t *testing.T) {
	const token = "e2e-callback-token"
	fake := n8ntest.New(t, n8ntest.Options{})
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", token)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.WebhookURL)
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", freeAddr(t))
	pic := pngBytes(t)
	fake.CallbackFirst(token, func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "success",
			"image_base64": base64.StdEncoding.EncodeToString(pic)})
		return b
	}, nil)

	code, out, errOut := runCLI(context.Background(), "generate", "--prompt", "a red fox", "--count", "2", "--wait", "--json")
	if code != 0 {
		t.Fatalf("generate --wait exited %d: %s %s", code, out, errOut)
	}
	var got []struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 || got[0].Status != "completed" || got[1].Status != "completed" {
		t.Fatalf("generate --wait printed %q (%v), want 2 completed", out, err)
	}
	if !strings.Contains(errOut, "waiting: 2/2 done") {
		t.Fatalf("stderr %q shows no progress", errOut)
	}
}
