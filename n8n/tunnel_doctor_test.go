package n8n

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// noDNS makes every lookup fail at once: tests never touch real DNS.
var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS in tests")
}}

// noTunnels points the tunnel probe at a port where nothing listens.
var noTunnels = TunnelProbe{NgrokAPI: "http://127.0.0.1:1", CloudflaredMetrics: []string{}}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func doctorConfig(listen, publicURL, webhook string) app.Config {
	cfg := app.DefaultConfig()
	cfg.Callback.Listen, cfg.Callback.PublicURL, cfg.N8N.WebhookURL = listen, publicURL, webhook
	return cfg
}

func byName(checks []app.Check) map[string]app.Check {
	m := map[string]app.Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

// fakeN8N answers like n8n 2.8.4 for the given behaviour.
func fakeN8N(t *testing.T, tlsOn bool, status int, body string) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == 403 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Webhook"`)
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	srv := httptest.NewUnstartedServer(h)
	// The TLS tests refuse the test certificate on purpose; keep the
	// server's handshake complaints out of the test output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestDoctorNetworkChecksAllGreen(t *testing.T) {
	t.Run("against the simulated n8n on loopback", func(t *testing.T) {
		sim := NewSimulator(SimulatorOptions{APIKey: func() string { return "k" }, FailRate: -1})
		if err := sim.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Close() })
		listen := freeAddr(t)
		checks := DoctorChecks(context.Background(), DoctorOptions{Config: doctorConfig(listen, "http://"+listen, sim.URL()), Tunnels: noTunnels, Resolver: noDNS})
		assertAllOK(t, checks, "listen port", "public URL", "n8n can reach callback", "n8n TCP", "n8n webhook")
		if sim.Stats().Accepted != 0 {
			t.Error("the probe started a generation")
		}
	})
	t.Run("against an https n8n behind ngrok", func(t *testing.T) {
		n8n := fakeN8N(t, true, 403, "Authorization data is wrong!")
		listen := freeAddr(t)
		_, port, _ := net.SplitHostPort(listen)
		// The fake ngrok's public URL is the listen address itself, so the
		// self-check really travels to the stand-in /healthz.
		ngrok := fakeNgrok(t, `{"tunnels":[{"public_url":"https://x.ngrok.app","proto":"https","config":{"addr":"http://localhost:`+port+`"}}]}`)
		probe := TunnelProbe{NgrokAPI: ngrok}
		checks := DoctorChecks(context.Background(), DoctorOptions{Config: doctorConfig(listen, "", n8n.URL+"/webhook/influence-gen/generate"),
			Tunnels: probe, Client: rewriteClient(n8n.Client(), "x.ngrok.app", listen), Resolver: noDNS,
			RootCAs: n8n.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})
		assertAllOK(t, checks, "listen port", "public URL", "n8n can reach callback", "n8n TCP", "n8n TLS", "n8n webhook")
		if d := byName(checks)["public URL"].Detail; !strings.Contains(d, "ngrok") {
			t.Errorf("public URL detail does not name the tunnel: %q", d)
		}
	})
}

// rewriteClient sends requests for fakeHost to addr over plain HTTP, as a
// tunnel would, and keeps base's TLS roots for everything else.
func rewriteClient(base *http.Client, fakeHost, addr string) *http.Client {
	tr := base.Transport.(*http.Transport).Clone()
	return &http.Client{Timeout: 5 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() == fakeHost {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host = "http", addr
		}
		return tr.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func assertAllOK(t *testing.T, checks []app.Check, want ...string) {
	t.Helper()
	got := byName(checks)
	for _, name := range want {
		c, ok := got[name]
		if !ok || c.State != app.CheckOK {
			t.Errorf("%s: %+v, want ok (all: %+v)", name, c, checks)
		}
	}
}

func TestDoctorNetworkChecksRed(t *testing.T) {
	otherProgram := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(otherProgram.Close)
	otherInstance := fakeListener(t, "someone-else")
	ours := fakeListener(t, "ours")
	oursAddr := strings.TrimPrefix(ours, "http://")

	tests := []struct {
		name      string
		cfg       func(t *testing.T) app.Config
		client    func() *http.Client
		failing   string
		remedyHas string
	}{
		{"an unset webhook URL fails and says which key to set", func(t *testing.T) app.Config {
			return doctorConfig(freeAddr(t), "", "")
		}, nil, "n8n webhook", "config set n8n.webhook_url"},
		{"an inactive workflow fails with n8n's 404", func(t *testing.T) app.Config {
			srv := fakeN8N(t, false, 404, `{"code":404,"message":"The requested webhook \"POST influence-gen/generate\" is not registered.","hint":"The workflow must be active for a production URL to run successfully."}`)
			return doctorConfig(freeAddr(t), "", srv.URL+"/webhook/influence-gen/generate")
		}, nil, "n8n webhook", "activate the workflow"},
		{"a test URL that is not listening says to click listen", func(t *testing.T) app.Config {
			srv := fakeN8N(t, false, 404, `{"code":404,"message":"The requested webhook \"influence-gen/generate\" is not registered."}`)
			return doctorConfig(freeAddr(t), "", srv.URL+"/webhook-test/influence-gen/generate")
		}, nil, "n8n webhook", "Listen for test event"},
		{"a webhook without Header Auth fails", func(t *testing.T) app.Config {
			srv := fakeN8N(t, false, 200, `{"message":"Workflow was started"}`)
			return doctorConfig(freeAddr(t), "", srv.URL+"/webhook/influence-gen/generate")
		}, nil, "n8n webhook", "Header Auth"},
		{"a refused connection fails at TCP", func(t *testing.T) app.Config {
			return doctorConfig(freeAddr(t), "", "http://127.0.0.1:1/webhook/influence-gen/generate")
		}, nil, "n8n TCP", "start n8n"},
		{"an unresolvable host fails at DNS", func(t *testing.T) app.Config {
			return doctorConfig(freeAddr(t), "", "https://n8n.example.com/webhook/influence-gen/generate")
		}, nil, "n8n DNS", "host name"},
		{"an untrusted certificate fails at TLS", func(t *testing.T) app.Config {
			srv := fakeN8N(t, true, 403, "Authorization data is wrong!")
			return doctorConfig(freeAddr(t), "", srv.URL+"/webhook/influence-gen/generate")
		}, nil, "n8n TLS", "certificate"},
		{"a listen port held by another program fails", func(t *testing.T) app.Config {
			return doctorConfig(strings.TrimPrefix(otherProgram.URL, "http://"), "", "")
		}, nil, "listen port", "callback.listen"},
		{"a public URL reaching another instance fails the self-check", func(t *testing.T) app.Config {
			return doctorConfig(oursAddr, otherInstance, "")
		}, nil, "public URL", "callback.public_url"},
		{"a loopback callback with a public n8n fails reachability", func(t *testing.T) app.Config {
			return doctorConfig(freeAddr(t), "", "https://n8n.example.com/webhook/influence-gen/generate")
		}, nil, "n8n can reach callback", "tunnel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := DoctorChecks(context.Background(), DoctorOptions{Config: tc.cfg(t), Tunnels: noTunnels, Resolver: noDNS, Timeout: 2 * time.Second})
			c, ok := byName(checks)[tc.failing]
			if !ok || c.State != app.CheckFail || c.OK {
				t.Fatalf("%s = %+v, want fail (all: %+v)", tc.failing, c, checks)
			}
			if !strings.Contains(c.Remedy, tc.remedyHas) {
				t.Errorf("remedy %q does not mention %q", c.Remedy, tc.remedyHas)
			}
		})
	}
}

func TestDoctorSeesAListenerOfOursOnThePort(t *testing.T) {
	ours := fakeListener(t, "ours")
	addr := strings.TrimPrefix(ours, "http://")
	checks := DoctorChecks(context.Background(), DoctorOptions{Config: doctorConfig(addr, ours, ""), Tunnels: noTunnels, Resolver: noDNS})
	got := byName(checks)
	if c := got["listen port"]; c.State != app.CheckOK || !strings.Contains(c.Detail, "served by influencegen") {
		t.Errorf("listen port = %+v", c)
	}
	if c := got["public URL"]; c.State != app.CheckOK && c.State != app.CheckWarn {
		t.Errorf("public URL = %+v", c)
	}
}
