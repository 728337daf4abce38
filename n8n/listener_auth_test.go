package n8n

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestCallbackTokenIsChecked(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"a callback without any token is refused", map[string]string{}, http.StatusUnauthorized},
		{"a callback with a wrong token is refused", map[string]string{"X-Callback-Token": "guess"}, http.StatusUnauthorized},
		{"a wrong bearer token is refused", map[string]string{"Authorization": "Bearer guess"}, http.StatusUnauthorized},
		{"a token in the wrong scheme is refused", map[string]string{"Authorization": "Basic " + testToken}, http.StatusUnauthorized},
		{"the token in lower-case x-callback-token is accepted", map[string]string{"x-callback-token": testToken}, http.StatusOK},
		{"the token as a bearer token is accepted", map[string]string{"Authorization": "bearer " + testToken}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			got := h.post(app.CallbackPath, tt.headers, mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1))))
			wantStatus(t, got, tt.want)
			if tt.want != http.StatusOK {
				h.wantNothingWritten()
				if got.body["message"] != "invalid or missing callback credentials" {
					t.Errorf("401 body %q must not say which check failed", got.raw)
				}
				return
			}
			if n := h.count("deliveries"); n != 1 {
				t.Fatalf("deliveries = %d, want 1", n)
			}
		})
	}
}

func TestPreviousTokenWorksOnlyDuringGrace(t *testing.T) {
	t.Run("the previous token inside the grace window is accepted", func(t *testing.T) {
		h := newHarness(t)
		if _, _, err := h.secrets.RotateCallbackToken(context.Background(), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(14 * time.Minute)
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 1))), http.StatusOK)
		if n := h.count("deliveries"); n != 1 {
			t.Fatalf("deliveries = %d, want 1", n)
		}
	})
	t.Run("the previous token after its expiry is refused", func(t *testing.T) {
		h := newHarness(t)
		if _, _, err := h.secrets.RotateCallbackToken(context.Background(), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(16 * time.Minute)
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 1))), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
}

func TestRepeatedAuthFailuresAreRateLimited(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
	for i := range authFailureLimit + 1 {
		wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "guess" + strconv.Itoa(i)}, body), http.StatusUnauthorized)
	}
	got := h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "one-guess-too-many"}, body)
	wantStatus(t, got, http.StatusTooManyRequests)
	if got.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	h.wantNothingWritten()

	h.clock.Advance(authFailureWindow + time.Second)
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "guess-after-the-window"}, body), http.StatusUnauthorized)
}

// Issue 10 §1: 21 bad guesses a minute from one address locked the real
// n8n out (its single attempt got 429 and the result was lost).
func TestAValidTokenIsNeverRefusedByTheFailureLimiter(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
	for i := range 3 * authFailureLimit {
		h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "guess" + strconv.Itoa(i)}, body)
	}
	if d := h.count("deliveries"); d != 0 {
		t.Fatalf("%d deliveries written by bad guesses", d)
	}
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": testToken}, body), http.StatusOK)
	if d := h.count("deliveries"); d != 1 {
		t.Fatalf("the real callback wrote %d deliveries, want 1", d)
	}
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "still-guessing"}, body), http.StatusTooManyRequests)
}

func TestBehindATunnelEachForwardedClientHasItsOwnLimit(t *testing.T) {
	h := newHarness(t)
	h.lis.TrustLoopbackProxy(true)
	req := h.request(app.StatusProcessing)
	body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
	attacker := map[string]string{"X-Callback-Token": "guess", "X-Forwarded-For": "203.0.113.66"}
	for range authFailureLimit + 1 {
		h.post(app.CallbackPath, attacker, body)
	}
	wantStatus(t, h.post(app.CallbackPath, attacker, body), http.StatusTooManyRequests)
	// Another client of the same tunnel mistyping its token is not blocked
	// by the attacker's failures: it has its own count.
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "typo", "X-Forwarded-For": "198.51.100.7"}, body), http.StatusUnauthorized)
	h.wantNothingWritten()

	h.lis.TrustLoopbackProxy(false)
	// Without the tunnel, the loopback peer itself is the source.
	wantStatus(t, h.post(app.CallbackPath, map[string]string{"X-Callback-Token": "typo", "X-Forwarded-For": "198.51.100.8"}, body), http.StatusUnauthorized)
}

func TestWhichTunnelsMakeLoopbackATrustedProxy(t *testing.T) {
	tests := []struct {
		name   string
		tunnel Tunnel
		listen string
		want   bool
	}{
		{"an ngrok agent forwards from loopback", Tunnel{Kind: TunnelNgrok, PublicURL: "https://a.ngrok-free.app"}, "127.0.0.1:8787", true},
		{"a cloudflared quick tunnel forwards from loopback", Tunnel{Kind: TunnelCloudflared, PublicURL: "https://a.trycloudflare.com"}, "127.0.0.1:8787", true},
		{"a configured public URL in front of a loopback listener is a tunnel", Tunnel{Kind: TunnelConfigured, PublicURL: "https://cb.example.com"}, "127.0.0.1:8787", true},
		{"a configured public URL on an open listener needs trusted_proxies", Tunnel{Kind: TunnelConfigured, PublicURL: "https://cb.example.com"}, "0.0.0.0:8787", false},
		{"a configured loopback URL is no tunnel", Tunnel{Kind: TunnelConfigured, PublicURL: "http://127.0.0.1:8787"}, "127.0.0.1:8787", false},
		{"no tunnel trusts nobody", Tunnel{Kind: TunnelNone, PublicURL: "http://127.0.0.1:8787"}, "127.0.0.1:8787", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TunnelForwardsFromLoopback(tt.tunnel, tt.listen); got != tt.want {
				t.Fatalf("TunnelForwardsFromLoopback = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		peer    string
		xff     string
		want    string
	}{
		{"an untrusted peer is the source whatever it forwards", nil, "203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},
		{"a trusted proxy's client is the source", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "198.51.100.7", "198.51.100.7"},
		{"a spoofed left-most hop is ignored behind two proxies", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"a malformed chain falls back to the peer", []string{"10.0.0.1"}, "10.0.0.1:5000", "not-an-ip", "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSourceResolver(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := http.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.peer
			r.Header.Set("X-Forwarded-For", tt.xff)
			if got := s.source(r); got != tt.want {
				t.Fatalf("source = %q, want %q", got, tt.want)
			}
		})
	}
}

// signed builds Standard Webhooks headers for body.
func signed(t testing.TB, secret, id string, ts time.Time, body []byte) map[string]string {
	t.Helper()
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"webhook-id": id, "webhook-timestamp": strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature": "v1,bm90LXRoaXMtb25l " + SignWebhook(key, id, ts.Unix(), body),
	}
}

func signatureHarness(t *testing.T, mode string) (*harness, string) {
	h := newHarness(t, func(o *ListenerOptions) { o.Config.Auth = mode })
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := h.secrets.Set(context.Background(), app.SecretWebhookSecret, secret); err != nil {
		t.Fatal(err)
	}
	return h, secret
}

func TestSignedCallbacks(t *testing.T) {
	t.Run("a correctly signed callback is accepted and a replay of it is a duplicate", func(t *testing.T) {
		h, secret := signatureHarness(t, app.AuthSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		headers := signed(t, secret, "msg_1", h.clock.Now(), body)
		wantStatus(t, h.post(app.CallbackPath, headers, body), http.StatusOK)
		replay := h.post(app.CallbackPath, headers, body)
		wantStatus(t, replay, http.StatusOK)
		if replay.body["duplicate"] != true {
			t.Fatalf("replay answered %s, want duplicate:true", replay.raw)
		}
		if n := h.count("deliveries"); n != 1 {
			t.Fatalf("deliveries = %d, want 1", n)
		}
	})
	t.Run("a replayed webhook-id with a different body is refused", func(t *testing.T) {
		h, secret := signatureHarness(t, app.AuthSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		headers := signed(t, secret, "msg_1", h.clock.Now(), body)
		forged := mustJSON(t, map[string]any{"ai_generation_request_id": req.ID, "status": "failed", "error": "forged"})
		wantStatus(t, h.post(app.CallbackPath, headers, forged), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
	t.Run("a bad signature is refused", func(t *testing.T) {
		h, _ := signatureHarness(t, app.AuthSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret entirely"))
		wantStatus(t, h.post(app.CallbackPath, signed(t, other, "msg_1", h.clock.Now(), body), body), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
	t.Run("a stale timestamp is refused even with a valid signature", func(t *testing.T) {
		h, secret := signatureHarness(t, app.AuthSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_1", h.clock.Now().Add(-6*time.Minute), body), body), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
	t.Run("token+signature refuses a signature without the token", func(t *testing.T) {
		h, secret := signatureHarness(t, app.AuthTokenSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		wantStatus(t, h.post(app.CallbackPath, signed(t, secret, "msg_1", h.clock.Now(), body), body), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
	t.Run("token+signature refuses the token without a signature", func(t *testing.T) {
		h, _ := signatureHarness(t, app.AuthTokenSignature)
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 1))), http.StatusUnauthorized)
		h.wantNothingWritten()
	})
	t.Run("token+signature accepts both", func(t *testing.T) {
		h, secret := signatureHarness(t, app.AuthTokenSignature)
		req := h.request(app.StatusProcessing)
		body := mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1)))
		headers := signed(t, secret, "msg_1", h.clock.Now(), body)
		headers["X-Callback-Token"] = testToken
		wantStatus(t, h.post(app.CallbackPath, headers, body), http.StatusOK)
	})
}

func TestVerifySignatureRules(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"a":1}`)
	good := SignWebhook(key, "id1", now.Unix(), body)
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name        string
		id, ts, sig string
		body        []byte
		want        error
	}{
		{"a matching signature passes", "id1", ts, good, body, nil},
		{"one matching signature among several passes", "id1", ts, "v1,AAAA " + good + " v1a,xyz", body, nil},
		{"a changed body fails", "id1", ts, good, []byte(`{"a":2}`), ErrSignatureMismatch},
		{"a changed id fails", "id2", ts, good, body, ErrSignatureMismatch},
		{"a timestamp 6 minutes in the future fails", "id1", strconv.FormatInt(now.Unix()+360, 10), good, body, ErrSignatureTimestamp},
		{"a non-numeric timestamp fails", "id1", "yesterday", good, body, ErrSignatureTimestamp},
		{"a missing signature header fails", "id1", ts, "", body, ErrSignatureMissing},
		{"an unversioned signature fails", "id1", ts, good[3:], body, ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifySignature(key, tt.id, tt.ts, tt.sig, tt.body, now); !errors.Is(err, tt.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}
