package n8n_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// The -update flag may already be defined by another test file of this
// package or by x/exp/golden; define it only if nobody did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "update golden files")
	}
}

func updateGoldenFiles() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// sampleRequest is the request of peer exchange 01.
func sampleRequest() app.Request {
	return app.Request{
		ID: "01JDX3V6Q6T7ZP3Y6N4B1K9S2E",
		Params: app.GenerationParams{Prompt: "a cat in a hat", NegativePrompt: "blurry", Model: "sdxl",
			Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: 123456789, NumImages: 1},
		Status: app.StatusSending, RequestedBy: "alice",
		CreatedAt: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC),
	}
}

const sampleCallback = "http://127.0.0.1:18069/influence_gen/ai/callback/image_result"

// recordingSleeper records the delays the client asks for instead of waiting.
type recordingSleeper struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *recordingSleeper) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return nil
}

func (s *recordingSleeper) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

func staticKey(k string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return k, nil }
}

func newTestClient(url, key string, sl *recordingSleeper, log *slog.Logger) *n8n.Client {
	return n8n.NewClient(n8n.ClientOptions{
		URL: url, APIKeyHeader: "X-API-Key", APIKey: staticKey(key), Timeout: 2 * time.Second,
		Version: "0.0.0", Log: log, Sleep: sl.Sleep, Rand: func() float64 { return 0.5 },
	})
}

func TestPayloadMatchesTheGoldenFileAndPeerExchange(t *testing.T) {
	body, err := n8n.Payload(sampleRequest(), sampleCallback, "0.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	golden := filepath.Join("testdata", "payload.golden.json")
	if updateGoldenFiles() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./n8n -run Golden -update to create it)", err)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("payload differs from %s:\n got %s\nwant %s", golden, indented.Bytes(), want)
	}

	// The same request as recorded against real n8n: identical keys, order and values.
	peer := loadN8NPeer(t, "01-generate-accepted.json")
	var peerBody bytes.Buffer
	if err := json.Compact(&peerBody, peer.Request.Body); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, peerBody.Bytes()) {
		t.Errorf("payload differs from peer 01:\n got %s\nwant %s", body, peerBody.Bytes())
	}
}

func TestPayloadCarriesTheOdooIDOnceSynced(t *testing.T) {
	req := sampleRequest()
	req.OdooID = 37450
	body, err := n8n.Payload(req, sampleCallback, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`"ai_generation_request_model_id":37450`)) || !bytes.Contains(body, []byte(`"client":"influencegen/1.0.0"`)) {
		t.Errorf("payload = %s", body)
	}
}

func TestSendPostsTheDesignPayloadAndHeaders(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	fake.SetAckBody([]byte(`{"status":"accepted","executionId":4711}`))
	c := newTestClient(fake.WebhookURL, "test-api-key", &recordingSleeper{}, nil)
	ack, err := c.Send(t.Context(), sampleRequest(), sampleCallback)
	if err != nil {
		t.Fatal(err)
	}
	if ack.StatusCode != 202 || ack.ExecutionID != "4711" {
		t.Errorf("ack = %+v, want 202 with execution id 4711", ack)
	}
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(got))
	}
	r := got[0]
	want := map[string]string{
		"Content-Type": "application/json", "X-Api-Key": "test-api-key",
		"Idempotency-Key": "01JDX3V6Q6T7ZP3Y6N4B1K9S2E", "User-Agent": "influencegen/0.0.0",
	}
	for k, v := range want {
		if r.Header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, r.Header.Get(k), v)
		}
	}
	wantBody, _ := n8n.Payload(sampleRequest(), sampleCallback, "0.0.0")
	if r.Method != "POST" || r.Path != n8ntest.DefaultPath || !bytes.Equal(r.Body, wantBody) {
		t.Errorf("got %s %s %s", r.Method, r.Path, r.Body)
	}
}

func TestSendAcceptsAnAckThatIsNotJSON(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	fake.SetAckBody([]byte("Workflow was started"))
	ack, err := newTestClient(fake.WebhookURL, "test-api-key", &recordingSleeper{}, nil).Send(t.Context(), sampleRequest(), sampleCallback)
	if err != nil || ack.StatusCode != 202 || ack.ExecutionID != "" {
		t.Errorf("ack = %+v, err = %v", ack, err)
	}
}

func TestSendWithoutSettingsFailsAtOnceWithoutNetwork(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	missingKey := func(context.Context) (string, error) {
		return "", app.ReasonErrorf(app.ENOTFOUND, "secret_missing", "n8n-api-key is not set")
	}
	tests := []struct {
		name string
		opts n8n.ClientOptions
		want string
	}{
		{"a missing webhook URL names the config command", n8n.ClientOptions{APIKey: staticKey("k")}, "influencegen config set n8n.webhook_url URL"},
		{"a missing API key names the secrets command", n8n.ClientOptions{URL: fake.WebhookURL, APIKey: missingKey}, "influencegen secrets set n8n-api-key"},
		{"no key source at all names the secrets command", n8n.ClientOptions{URL: fake.WebhookURL}, "influencegen secrets set n8n-api-key"},
		{"an empty API key names the secrets command", n8n.ClientOptions{URL: fake.WebhookURL, APIKey: staticKey("")}, "influencegen secrets set n8n-api-key"},
		{"a webhook URL without scheme names the config command", n8n.ClientOptions{URL: "n8n.local/webhook/x", APIKey: staticKey("k")}, "influencegen config set n8n.webhook_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := n8n.NewClient(tt.opts).Send(t.Context(), sampleRequest(), sampleCallback)
			if app.ErrorReason(err) != "not_configured" || app.ErrorCode(err) != app.ENOTCONFIGURED {
				t.Fatalf("err = %v (reason %q), want not_configured", err, app.ErrorReason(err))
			}
			if !strings.Contains(app.ErrorMessage(err), tt.want) {
				t.Errorf("message %q does not name %q", app.ErrorMessage(err), tt.want)
			}
		})
	}
	if n := fake.Count(); n != 0 {
		t.Errorf("fake received %d requests, want none", n)
	}
}

func TestSendLogsEachAttemptWithoutTheKey(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{APIKey: "sup3r-secret-key-value"})
	var buf bytes.Buffer
	// the program's own masking handler: the fingerprint it logs must be
	// the one `secrets status` and the admin screen show, not a fingerprint
	// of a fingerprint
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: app.MaskSecretAttr}))
	req := sampleRequest()
	req.Params.Prompt = strings.Repeat("a very long prompt about foxes ", 20)
	fake.FailNext(n8ntest.ServerError)
	c := newTestClient(fake.WebhookURL, "sup3r-secret-key-value", &recordingSleeper{}, log)
	if _, err := c.Send(t.Context(), req, sampleCallback); err != nil {
		t.Fatal(err)
	}
	// A wrong key must not be logged either.
	if _, err := newTestClient(fake.WebhookURL, "wr0ng-secret-key-value", &recordingSleeper{}, log).Send(t.Context(), req, sampleCallback); err == nil {
		t.Fatal("a wrong key was accepted")
	}
	out := buf.String()
	for _, secret := range []string{"sup3r-secret-key-value", "wr0ng-secret-key-value"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains the API key %q:\n%s", secret, out)
		}
	}
	if strings.Contains(out, req.Params.Prompt) {
		t.Error("log contains the whole prompt; it must be truncated")
	}
	for _, want := range []string{"method=POST", "host=" + strings.TrimPrefix(fake.URL, "http://"), "status=500", "status=202", "status=403", "duration=", "key_fingerprint=" + app.Fingerprint("sup3r-secret-key-value")} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TLS against a self-signed server: the cause must say TLS.
func TestSendReportsATLSFailureAsUnreachable(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	t.Cleanup(srv.Close)
	sl := &recordingSleeper{}
	_, err := newTestClient(srv.URL+n8ntest.DefaultPath, "k", sl, nil).Send(t.Context(), sampleRequest(), sampleCallback)
	if app.ErrorReason(err) != "n8n_unreachable" || !strings.Contains(app.ErrorMessage(err), "TLS") {
		t.Errorf("err = %v (%s), want n8n_unreachable naming TLS", err, app.ErrorReason(err))
	}
	if !strings.Contains(app.ErrorMessage(err), strings.TrimPrefix(srv.URL, "https://")) {
		t.Errorf("message %q does not name the host", app.ErrorMessage(err))
	}
}

func TestPayloadAsksForADryRunOnlyWhenTheRequestIsOne(t *testing.T) {
	req := sampleRequest()
	body, _ := n8n.Payload(req, sampleCallback, "1.0.0")
	req.Params.DryRun = true
	dry, _ := n8n.Payload(req, sampleCallback, "1.0.0")
	if bytes.Contains(body, []byte("dry_run")) || !bytes.Contains(dry, []byte(`"num_images":1,"dry_run":true}`)) {
		t.Errorf("payloads = %s / %s", body, dry)
	}
}
