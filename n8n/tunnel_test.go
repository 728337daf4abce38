package n8n

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// fakeNgrok answers /api/tunnels like ngrok v3's agent API.
func fakeNgrok(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/tunnels" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fakeCloudflared answers /quicktunnel and /ready like cloudflared's metrics
// server; /ready says 503 until readyAfter calls have been made.
func fakeCloudflared(t *testing.T, hostname string, readyAfter int32) string {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/quicktunnel":
			_, _ = io.WriteString(w, `{"hostname":"`+hostname+`"}`)
		case "/ready":
			if calls.Add(1) <= readyAfter {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"status":503,"readyConnections":0,"connectorId":"7c1f"}`)
				return
			}
			_, _ = io.WriteString(w, `{"status":200,"readyConnections":4,"connectorId":"7c1f"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const ngrokTwoTunnels = `{"tunnels":[
 {"name":"other","uri":"/api/tunnels/other","public_url":"https://other.ngrok-free.app","proto":"https","config":{"addr":"http://localhost:9999","inspect":true}},
 {"name":"plain","uri":"/api/tunnels/plain","public_url":"http://plain.ngrok-free.app","proto":"http","config":{"addr":"http://localhost:8787","inspect":true}},
 {"name":"ours","uri":"/api/tunnels/ours","public_url":"https://ours.ngrok-free.app","proto":"https","config":{"addr":"http://localhost:8787","inspect":true}}],
 "uri":"/api/tunnels"}`

func TestTunnelDetection(t *testing.T) {
	deadPort := "http://127.0.0.1:1" // nothing listens on port 1
	tests := []struct {
		name     string
		probe    func(t *testing.T) TunnelProbe
		wantKind string
		wantURL  string
	}{
		{"ngrok picks the https tunnel that forwards to our port", func(t *testing.T) TunnelProbe {
			return TunnelProbe{NgrokAPI: fakeNgrok(t, ngrokTwoTunnels)}
		}, TunnelNgrok, "https://ours.ngrok-free.app"},
		{"ngrok with a bare port in config.addr still matches", func(t *testing.T) TunnelProbe {
			return TunnelProbe{NgrokAPI: fakeNgrok(t, `{"tunnels":[{"public_url":"https://p.ngrok.app","proto":"https","config":{"addr":"8787"}}]}`)}
		}, TunnelNgrok, "https://p.ngrok.app"},
		{"ngrok forwarding elsewhere falls through to cloudflared", func(t *testing.T) TunnelProbe {
			return TunnelProbe{NgrokAPI: fakeNgrok(t, `{"tunnels":[{"public_url":"https://x.ngrok.app","proto":"https","config":{"addr":"localhost:9999"}}]}`),
				CloudflaredMetrics: []string{deadPort, fakeCloudflared(t, "quick-fox.trycloudflare.com", 0)}}
		}, TunnelCloudflared, "https://quick-fox.trycloudflare.com"},
		{"cloudflared is used once /ready turns 200", func(t *testing.T) TunnelProbe {
			return TunnelProbe{CloudflaredMetrics: []string{fakeCloudflared(t, "slow.trycloudflare.com", 2)}, Poll: time.Millisecond}
		}, TunnelCloudflared, "https://slow.trycloudflare.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.probe(t).Detect(context.Background(), "127.0.0.1:8787")
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.wantKind || got.PublicURL != tc.wantURL {
				t.Errorf("got %+v, want %s %s", got, tc.wantKind, tc.wantURL)
			}
		})
	}
}

func TestTunnelDetectionFailsWhenNothingUsableRuns(t *testing.T) {
	tests := []struct {
		name  string
		probe func(t *testing.T) TunnelProbe
	}{
		{"no agents at all", func(t *testing.T) TunnelProbe {
			return TunnelProbe{NgrokAPI: "http://127.0.0.1:1", CloudflaredMetrics: []string{"127.0.0.1:1"}}
		}},
		{"cloudflared never becomes ready", func(t *testing.T) TunnelProbe {
			return TunnelProbe{CloudflaredMetrics: []string{fakeCloudflared(t, "never.trycloudflare.com", 1<<30)}, ReadyWait: 20 * time.Millisecond, Poll: time.Millisecond}
		}},
		{"ngrok only has plain http tunnels", func(t *testing.T) TunnelProbe {
			return TunnelProbe{NgrokAPI: fakeNgrok(t, `{"tunnels":[{"public_url":"http://x.ngrok.app","proto":"http","config":{"addr":"localhost:8787"}}]}`)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.probe(t).Detect(context.Background(), "127.0.0.1:8787"); err == nil {
				t.Errorf("detected %+v, want an error", got)
			}
		})
	}
}

func TestResolvePublicURLPrefersConfigThenTunnelThenListen(t *testing.T) {
	none := TunnelProbe{NgrokAPI: "http://127.0.0.1:1"}
	if got := ResolvePublicURL(context.Background(), app.CallbackConfig{Listen: "127.0.0.1:8787", PublicURL: "https://cb.example.com/"}, none); got.Kind != TunnelConfigured || got.PublicURL != "https://cb.example.com" {
		t.Errorf("configured: %+v", got)
	}
	got := ResolvePublicURL(context.Background(), app.CallbackConfig{Listen: "127.0.0.1:8787"}, TunnelProbe{NgrokAPI: fakeNgrok(t, ngrokTwoTunnels)})
	if got.Kind != TunnelNgrok || got.CallbackURL() != "https://ours.ngrok-free.app/influence_gen/ai/callback/image_result" {
		t.Errorf("ngrok: %+v", got)
	}
	if got := ResolvePublicURL(context.Background(), app.CallbackConfig{Listen: "127.0.0.1:8787"}, none); got.Kind != TunnelNone || got.PublicURL != "http://127.0.0.1:8787" {
		t.Errorf("fallback: %+v", got)
	}
}

func fakeHealthz(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fakeListener answers /healthz probes with key, as a listener of another
// process would.
func fakeListener(t *testing.T, key string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		writeHealthz(w, r, []byte(key), nil)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func expectKey(key string) ProbeExpect {
	return func(_ context.Context, nonce string) (string, error) { return probeAnswer([]byte(key), nonce), nil }
}

func TestSelfCheck(t *testing.T) {
	tests := []struct {
		name       string
		url        func(t *testing.T) string
		wantReason string
	}{
		{"passes when healthz answers our probe", func(t *testing.T) string { return fakeListener(t, "key-ours") }, ""},
		{"fails when another process answers", func(t *testing.T) string { return fakeListener(t, "key-old") }, "public_url_not_us"},
		{"fails when an old-style health document answers", func(t *testing.T) string {
			return fakeHealthz(t, 200, `{"status":"ok","version":"1.0.0","instance":"inst-ours"}`)
		}, "public_url_not_us"},
		{"fails when a different program answers", func(t *testing.T) string { return fakeHealthz(t, 200, `<html>hello</html>`) }, "public_url_not_us"},
		{"fails when the tunnel answers 502", func(t *testing.T) string { return fakeHealthz(t, 502, `bad gateway`) }, "public_url_unreachable"},
		{"fails when nothing listens", func(t *testing.T) string { return "http://127.0.0.1:1" }, "public_url_unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := SelfCheck(context.Background(), nil, tc.url(t), expectKey("key-ours"))
			if got := app.ErrorReason(err); (err == nil) != (tc.wantReason == "") || (err != nil && got != tc.wantReason) {
				t.Errorf("err = %v (reason %q), want reason %q", err, got, tc.wantReason)
			}
		})
	}
}

func TestReachabilityWarning(t *testing.T) {
	tests := []struct {
		name, callback, webhook string
		warn                    bool
	}{
		{"loopback callback with a cloud n8n warns", "http://127.0.0.1:8787/cb", "https://acme.app.n8n.cloud/webhook/x", true},
		{"private callback with a cloud n8n warns", "http://192.168.1.20:8787/cb", "https://n8n.example.com/webhook/x", true},
		{"localhost callback with a cloud n8n warns", "http://localhost:8787/cb", "https://n8n.example.com/webhook/x", true},
		{"loopback callback with a local n8n is fine", "http://127.0.0.1:8787/cb", "http://localhost:5678/webhook/x", false},
		{"tunnel callback with a cloud n8n is fine", "https://ours.ngrok-free.app/cb", "https://n8n.example.com/webhook/x", false},
		{"private callback with n8n on the same LAN is fine", "http://10.0.0.5:8787/cb", "http://10.0.0.9:5678/webhook/x", false},
		{"docker host name for n8n is local", "http://127.0.0.1:8787/cb", "http://n8n:5678/webhook/x", false},
		{"no webhook configured gives no warning", "http://127.0.0.1:8787/cb", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ReachabilityWarning(tc.callback, tc.webhook)
			if (got != "") != tc.warn {
				t.Errorf("warning = %q, want warn=%v", got, tc.warn)
			}
			if tc.warn && !strings.Contains(got, "cannot reach") {
				t.Errorf("warning does not say what is wrong: %q", got)
			}
		})
	}
}

func TestCheckReachabilitySelfChecksTheResolvedURLAndWarns(t *testing.T) {
	ours := fakeListener(t, "me")
	cfg := app.DefaultConfig()
	cfg.Callback.PublicURL = ours
	cfg.N8N.WebhookURL = "http://127.0.0.1:5678/webhook/influence-gen/generate"
	r := CheckReachability(context.Background(), cfg, TunnelProbe{}, nil, expectKey("me"))
	if !r.Checked || r.SelfCheck != nil || r.Warning != "" || r.Tunnel.Kind != TunnelConfigured {
		t.Errorf("local n8n, good tunnel: %+v", r)
	}
	cfg.Callback.PublicURL = ""
	cfg.Callback.Listen = "0.0.0.0:1"
	cfg.N8N.WebhookURL = "https://acme.app.n8n.cloud/webhook/influence-gen/generate"
	r = CheckReachability(context.Background(), cfg, TunnelProbe{NgrokAPI: "http://127.0.0.1:1"}, nil, expectKey("me"))
	if r.Tunnel.PublicURL != "http://127.0.0.1:1" || r.SelfCheck == nil || r.Warning == "" {
		t.Errorf("cloud n8n, no tunnel: %+v", r)
	}
}
