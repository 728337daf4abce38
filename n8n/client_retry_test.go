package n8n_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func TestSendMapsEachFailureToItsReasonAndRemedy(t *testing.T) {
	tests := []struct {
		name         string
		path         string // webhook path the client is configured with
		key          string
		fault        n8ntest.Fault
		wantReason   string
		wantMessage  []string
		wantRequests int
	}{
		{"a wrong key is n8n_auth with the exact remedy and no retry", "", "wrong-api-key", n8ntest.Accept, "n8n_auth",
			[]string{"n8n rejected the API key (HTTP 403). Set it with `influencegen secrets set n8n-api-key`, and check that the Header Auth credential's header name equals n8n.api_key_header (now X-API-Key)."}, 1},
		{"an inactive production workflow says to activate it", "", "test-api-key", n8ntest.NotRegistered, "n8n_webhook_not_registered",
			[]string{`The requested webhook "POST influence-gen/generate" is not registered.`, "Activate the workflow"}, 1},
		{"an unarmed test webhook says to listen for a test event", "/webhook-test/influence-gen/generate", "test-api-key", n8ntest.Accept, "n8n_webhook_not_registered",
			[]string{`"Listen for test event"`}, 1},
		{"a rejected body quotes n8n's own message", "", "test-api-key", n8ntest.Unprocessable, "n8n_rejected_payload",
			[]string{"HTTP 422", "Failed to parse request body"}, 1},
		{"a too large body is n8n_payload_too_large", "", "test-api-key", n8ntest.TooLarge, "n8n_payload_too_large",
			[]string{"HTTP 413", "N8N_PAYLOAD_SIZE_MAX"}, 1},
		{"a lasting 500 is n8n_http_500 after four attempts", "", "test-api-key", n8ntest.ServerError, "n8n_http_500",
			[]string{"HTTP 500", "Error in workflow", "after 4 attempts"}, 4},
		{"a lasting 429 is n8n_http_429 after four attempts", "", "test-api-key", n8ntest.RateLimited, "n8n_http_429",
			[]string{"HTTP 429"}, 4},
		{"a connection closed without answer is n8n_unreachable after four attempts", "", "test-api-key", n8ntest.CloseConnection, "n8n_unreachable",
			[]string{"cannot reach n8n at 127.0.0.1:", "closed before n8n answered", "after 4 attempts"}, 4},
		{"a slow webhook times out as n8n_unreachable", "", "test-api-key", n8ntest.Slow, "n8n_unreachable",
			[]string{"no answer within 100ms (n8n.timeout)"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := n8ntest.New(t, n8ntest.Options{})
			fake.SetFault(tt.fault)
			url := fake.WebhookURL
			if tt.path != "" {
				url = fake.URL + tt.path
			}
			sl := &recordingSleeper{}
			c := n8n.NewClient(n8n.ClientOptions{URL: url, APIKey: staticKey(tt.key), Timeout: 100 * time.Millisecond,
				Version: "0.0.0", Sleep: sl.Sleep, Rand: func() float64 { return 0.5 }})
			_, err := c.Send(t.Context(), sampleRequest(), sampleCallback)
			if got := app.ErrorReason(err); got != tt.wantReason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tt.wantReason)
			}
			for _, w := range tt.wantMessage {
				if !strings.Contains(app.ErrorMessage(err), w) {
					t.Errorf("message %q lacks %q", app.ErrorMessage(err), w)
				}
			}
			if n := fake.Count(); n != tt.wantRequests {
				t.Errorf("fake received %d requests, want %d", n, tt.wantRequests)
			}
			if n := len(sl.got()); n != tt.wantRequests-1 {
				t.Errorf("slept %d times, want %d", n, tt.wantRequests-1)
			}
		})
	}
}

func TestSendRetriesAfterOneThreeAndNineSecondsWithJitter(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{"the lowest jitter is 20 % early", 0, []time.Duration{800 * time.Millisecond, 2400 * time.Millisecond, 7200 * time.Millisecond}},
		{"the middle jitter is on time", 0.5, []time.Duration{time.Second, 3 * time.Second, 9 * time.Second}},
		{"the highest jitter is 20 % late", 1, []time.Duration{1200 * time.Millisecond, 3600 * time.Millisecond, 10800 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := n8ntest.New(t, n8ntest.Options{})
			fake.SetFault(n8ntest.ServerError)
			fake.SetRetryAfter("")
			sl := &recordingSleeper{}
			c := n8n.NewClient(n8n.ClientOptions{URL: fake.WebhookURL, APIKey: staticKey("test-api-key"),
				Sleep: sl.Sleep, Rand: func() float64 { return tt.rand }})
			if _, err := c.Send(t.Context(), sampleRequest(), sampleCallback); err == nil {
				t.Fatal("a lasting 500 succeeded")
			}
			got := sl.got()
			if len(got) != len(tt.want) {
				t.Fatalf("delays = %v, want %v", got, tt.want)
			}
			for i := range got {
				if d := got[i] - tt.want[i]; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("delay %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSendHonoursRetryAfterUpToAMinute(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"Retry-After 7 waits seven seconds", "7", 7 * time.Second},
		{"Retry-After 120 is capped at sixty seconds", "120", 60 * time.Second},
		{"an HTTP date in the future waits until then", time.Now().Add(30 * time.Second).UTC().Format(http1123), 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := n8ntest.New(t, n8ntest.Options{})
			fake.SetRetryAfter(tt.retryAfter)
			fake.FailNext(n8ntest.RateLimited)
			sl := &recordingSleeper{}
			ack, err := newTestClient(fake.WebhookURL, "test-api-key", sl, nil).Send(t.Context(), sampleRequest(), sampleCallback)
			if err != nil || ack.StatusCode != 202 {
				t.Fatalf("ack = %+v, err = %v; want 202 after one retry", ack, err)
			}
			got := sl.got()
			if len(got) != 1 || got[0] > tt.want || got[0] < tt.want-2*time.Second {
				t.Errorf("delays = %v, want [%v]", got, tt.want)
			}
		})
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestSendNeverRetriesOtherClientErrors(t *testing.T) {
	for _, fault := range []n8ntest.Fault{n8ntest.NotRegistered, n8ntest.Unprocessable, n8ntest.TooLarge} {
		fake := n8ntest.New(t, n8ntest.Options{})
		fake.SetFault(fault)
		sl := &recordingSleeper{}
		if _, err := newTestClient(fake.WebhookURL, "test-api-key", sl, nil).Send(t.Context(), sampleRequest(), sampleCallback); err == nil {
			t.Fatalf("fault %d succeeded", fault)
		}
		if fake.Count() != 1 || len(sl.got()) != 0 {
			t.Errorf("fault %d: %d requests and %d sleeps, want 1 and 0", fault, fake.Count(), len(sl.got()))
		}
	}
}

func TestSendRecoversWhenATransientFailurePasses(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	fake.FailNext(n8ntest.ServerError, n8ntest.CloseConnection)
	sl := &recordingSleeper{}
	ack, err := newTestClient(fake.WebhookURL, "test-api-key", sl, nil).Send(t.Context(), sampleRequest(), sampleCallback)
	if err != nil || ack.StatusCode != 202 {
		t.Fatalf("ack = %+v, err = %v", ack, err)
	}
	if fake.Count() != 3 {
		t.Errorf("fake received %d requests, want 3", fake.Count())
	}
}

func TestSendToAWebhookThatIsDownRetriesThreeTimesThenReportsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	sl := &recordingSleeper{}
	_, err = newTestClient("http://"+addr+n8ntest.DefaultPath, "k", sl, nil).Send(t.Context(), sampleRequest(), sampleCallback)
	if app.ErrorReason(err) != "n8n_unreachable" {
		t.Fatalf("reason = %q (%v)", app.ErrorReason(err), err)
	}
	msg := app.ErrorMessage(err)
	if !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "after 4 attempts") {
		t.Errorf("message %q should name %s, the refusal and the attempts", msg, addr)
	}
	if len(sl.got()) != 3 {
		t.Errorf("retried %d times, want 3", len(sl.got()))
	}
}

func TestSendStopsRetryingWhenCancelled(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	fake.SetFault(n8ntest.ServerError)
	ctx, cancel := context.WithCancel(t.Context())
	c := n8n.NewClient(n8n.ClientOptions{URL: fake.WebhookURL, APIKey: staticKey("test-api-key"),
		Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }})
	_, err := c.Send(ctx, sampleRequest(), sampleCallback)
	if app.ErrorReason(err) != "cancelled" || fake.Count() != 1 {
		t.Errorf("err = %v (%s) after %d requests, want cancelled after 1", err, app.ErrorReason(err), fake.Count())
	}
}

func TestUnreachableNamesTheCause(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a DNS failure names DNS", &net.DNSError{Name: "n8n.example", Err: "no such host", IsNotFound: true}, `"n8n.example" does not resolve (DNS)`},
		{"a refusal names it", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{"a deadline names the timeout", context.DeadlineExceeded, "no answer within 15s"},
		{"a reset names the closed connection", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "closed before n8n answered"},
		{"anything else keeps its text", errors.New("weird"), "network error: weird"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := n8n.Unreachable("n8n.example:443", tt.err, 15*time.Second)
			if e.Reason != "n8n_unreachable" || !strings.Contains(e.Message, "cannot reach n8n at n8n.example:443: ") || !strings.Contains(e.Message, tt.want) {
				t.Errorf("got %s: %q, want it to contain %q", e.Reason, e.Message, tt.want)
			}
		})
	}
}

// n8nPeer is one recorded exchange of /work/shared/peers.
type n8nPeer struct {
	Description string `json:"description"`
	Request     struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func loadN8NPeer(t *testing.T, name string) n8nPeer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n8ntest.PeersDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var p n8nPeer
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}
