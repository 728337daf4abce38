package n8n

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// DoctorOptions configure doctor's network checks. Zero values take the
// real defaults; tests point them at fakes.
type DoctorOptions struct {
	Config   app.Config
	Tunnels  TunnelProbe    // default DefaultTunnelProbe()
	Client   *http.Client   // default: 10 s timeout
	Resolver *net.Resolver  // default net.DefaultResolver
	Timeout  time.Duration  // per probe; default 10 s
	RootCAs  *x509.CertPool // TLS roots for the handshake check; nil = system
}

// DoctorChecks runs the checks that touch the network, in order: the listen
// port, the public URL (through the tunnel, proving it reaches this
// program), whether n8n can reach that URL at all, and the n8n webhook
// (DNS, TCP, TLS, HTTP) — without ever starting a generation.
func DoctorChecks(ctx context.Context, o DoctorOptions) []app.Check {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Tunnels.NgrokAPI == "" && o.Tunnels.CloudflaredMetrics == nil {
		o.Tunnels = DefaultTunnelProbe()
	}
	cfg := o.Config
	listenCheck, expect, serve := probeListen(ctx, o.Client, cfg.Callback.Listen)
	checks := []app.Check{listenCheck}
	if serve != nil {
		// Nothing runs on the port: answer /healthz there for the length of
		// the self-check, so the tunnel is proven to reach this machine's
		// callback.listen even before `serve` is started.
		defer serve()
	}
	tunnel := ResolvePublicURL(ctx, cfg.Callback, o.Tunnels)
	checks = append(checks, publicURLCheck(ctx, o.Client, tunnel, expect, cfg.N8N.WebhookURL))
	checks = append(checks, reachabilityCheck(tunnel, cfg.N8N.WebhookURL))
	checks = append(checks, WebhookChecks(ctx, o, cfg.N8N.WebhookURL)...)
	return checks
}

// probeListen reports whether callback.listen is free or held by an
// influencegen listener, and returns how to tell that listener's identity
// probe answer (nil when the port is someone else's). When free it starts
// a stand-in /healthz there, with its own probe key, and a stop func.
func probeListen(ctx context.Context, client *http.Client, listen string) (app.Check, ProbeExpect, func()) {
	const name = "listen port"
	if listen == "" {
		listen = app.DefaultConfig().Callback.Listen
	}
	ln, err := net.Listen("tcp", listen)
	if err == nil {
		key := randomKey()
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			writeHealthz(w, r, key, nil)
		})}
		go func() { _ = srv.Serve(ln) }()
		stop := func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}
		expect := func(_ context.Context, nonce string) (string, error) { return probeAnswer(key, nonce), nil }
		return app.NewCheck(name, app.CheckOK, listen+" is free", ""), expect, stop
	}
	// A running listener's key is its own: ask it for the answer to the
	// same nonce, then the public URL must give the same one.
	base := "http://" + dialable(listen)
	expect := func(ctx context.Context, nonce string) (string, error) { return fetchProbe(ctx, client, base, nonce) }
	if _, herr := expect(ctx, newProbeNonce()); herr == nil {
		return app.NewCheck(name, app.CheckOK, listen+" is served by influencegen: `serve` or the dashboard is running", ""), expect, nil
	}
	return app.NewCheck(name, app.CheckFail, fmt.Sprintf("%s is taken by another program (%v)", listen, errors.Unwrap(err)),
		"stop that program, or choose a free address: influencegen config set callback.listen 127.0.0.1:8788"), nil, nil
}

// dialable turns a wildcard listen address into one a client can dial.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// fetchProbe asks the listener at base for its answer to nonce.
func fetchProbe(ctx context.Context, client *http.Client, base, nonce string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz?probe="+nonce, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var h healthDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil || h.Status != "ok" || h.Probe == "" {
		return "", errors.New("not an influencegen health document")
	}
	return h.Probe, nil
}

func publicURLCheck(ctx context.Context, client *http.Client, t Tunnel, expect ProbeExpect, webhookURL string) app.Check {
	const name = "public URL"
	via := map[string]string{TunnelConfigured: "callback.public_url", TunnelNone: "no tunnel: the listen address"}[t.Kind]
	if via == "" {
		via = t.Kind + " tunnel"
	}
	if expect == nil {
		return app.NewCheck(name, app.CheckSkip, t.PublicURL+" ("+via+"): not self-checked, the listen port is not ours", "")
	}
	if err := SelfCheck(ctx, client, t.PublicURL, expect); err != nil {
		return app.NewCheck(name, app.CheckFail, ErrorText(err), tunnelRemedy(t))
	}
	detail := fmt.Sprintf("%s (%s) reaches this program", t.PublicURL, via)
	if t.Kind == TunnelNone && !webhookIsLocal(webhookURL) {
		listen := strings.TrimPrefix(t.PublicURL, "http://")
		_, port, _ := net.SplitHostPort(listen)
		return app.NewCheck(name, app.CheckWarn, detail+"; only this machine and its network can call back",
			fmt.Sprintf("for a cloud n8n: ngrok http %s, or cloudflared tunnel --url http://%s, or set callback.public_url", port, listen))
	}
	return app.NewCheck(name, app.CheckOK, detail, "")
}

// ErrorText is the human message of an error for a doctor line.
func ErrorText(err error) string { return app.ErrorMessage(err) }

func tunnelRemedy(t Tunnel) string {
	switch t.Kind {
	case TunnelConfigured:
		return "make callback.public_url forward to callback.listen, or clear it to detect ngrok/cloudflared: influencegen config set callback.public_url \"\""
	case TunnelNgrok:
		return "restart ngrok for this port: ngrok http <callback.listen port>"
	case TunnelCloudflared:
		return "the quick tunnel forwards elsewhere: cloudflared tunnel --url http://<callback.listen>"
	}
	return "check callback.listen"
}

func reachabilityCheck(t Tunnel, webhookURL string) app.Check {
	const name = "n8n can reach callback"
	if webhookURL == "" {
		return app.NewCheck(name, app.CheckSkip, "n8n.webhook_url is not set", "")
	}
	if w := ReachabilityWarning(t.CallbackURL(), webhookURL); w != "" {
		return app.NewCheck(name, app.CheckFail, w, "ngrok http <port> or cloudflared tunnel --url http://<callback.listen>, then run doctor again")
	}
	return app.NewCheck(name, app.CheckOK, t.CallbackURL(), "")
}

// WebhookChecks probes the n8n webhook step by step: DNS, TCP, TLS and an
// HTTP answer. The HTTP probe is a POST without the API key and with a body
// that is not JSON, so no workflow can run whatever n8n checks first: a 403
// proves the webhook exists behind Header Auth, a 404 "not registered"
// means the workflow is inactive.
func WebhookChecks(ctx context.Context, o DoctorOptions, webhookURL string) []app.Check {
	if webhookURL == "" {
		return []app.Check{app.NewCheck("n8n webhook", app.CheckFail, "n8n.webhook_url is not set",
			"copy the Webhook node's Production URL: influencegen config set n8n.webhook_url https://n8n.example.com/webhook/influence-gen/generate")}
	}
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []app.Check{app.NewCheck("n8n webhook", app.CheckFail, fmt.Sprintf("n8n.webhook_url = %q is not an http(s) URL", webhookURL),
			"influencegen config set n8n.webhook_url https://n8n.example.com/webhook/influence-gen/generate")}
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var out []app.Check

	// DNS
	if net.ParseIP(host) == nil {
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		a, err := o.Resolver.LookupHost(dctx, host)
		cancel()
		if err != nil {
			return append(out, app.NewCheck("n8n DNS", app.CheckFail, fmt.Sprintf("%s does not resolve: %v", host, err),
				"check the host name in n8n.webhook_url and your DNS / VPN"))
		}
		out = append(out, app.NewCheck("n8n DNS", app.CheckOK, host+" → "+strings.Join(a, ", "), ""))
	}

	// TCP
	dialer := &net.Dialer{Timeout: o.Timeout}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return append(out, app.NewCheck("n8n TCP", app.CheckFail, fmt.Sprintf("cannot connect to %s:%s: %v", host, port, errors.Unwrap(err)),
			"start n8n, or check the port in n8n.webhook_url and any firewall"))
	}
	_ = conn.Close()
	out = append(out, app.NewCheck("n8n TCP", app.CheckOK, "connected to "+net.JoinHostPort(host, port), ""))

	// TLS
	if u.Scheme == "https" {
		tctx, cancel := context.WithTimeout(ctx, o.Timeout)
		td := &tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs}}
		tc, err := td.DialContext(tctx, "tcp", net.JoinHostPort(host, port))
		cancel()
		if err != nil {
			return append(out, app.NewCheck("n8n TLS", app.CheckFail, fmt.Sprintf("TLS with %s failed: %v", host, err),
				"fix n8n's certificate (it must be valid for "+host+" and not expired), or use the URL its certificate names"))
		}
		state := tc.(*tls.Conn).ConnectionState()
		_ = tc.Close()
		detail := "handshake ok"
		if len(state.PeerCertificates) > 0 {
			detail = "certificate valid until " + state.PeerCertificates[0].NotAfter.Format("2006-01-02")
		}
		out = append(out, app.NewCheck("n8n TLS", app.CheckOK, detail, ""))
	}
	return append(out, probeWebhookHTTP(ctx, o.Client, u))
}

func probeWebhookHTTP(ctx context.Context, client *http.Client, u *url.URL) app.Check {
	const name = "n8n webhook"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(`{"influencegen_doctor_probe":`))
	if err != nil {
		return app.NewCheck(name, app.CheckFail, err.Error(), "check n8n.webhook_url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "influencegen-doctor")
	resp, err := client.Do(req)
	if err != nil {
		return app.NewCheck(name, app.CheckFail, fmt.Sprintf("no HTTP answer from %s: %v", u.Host, err), "check that n8n is running at n8n.webhook_url")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	said := n8nMessage(body)
	test := strings.Contains(u.Path, "/webhook-test/")
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		detail := fmt.Sprintf("registered and protected: HTTP %d without the API key (%s)", resp.StatusCode, said)
		if test {
			return app.NewCheck(name, app.CheckWarn, detail+"; this is a TEST URL, alive only while n8n listens for a test event",
				"activate the workflow and use its Production URL (/webhook/…)")
		}
		return app.NewCheck(name, app.CheckOK, detail, "")
	case resp.StatusCode == http.StatusNotFound && strings.Contains(said, "not registered"):
		remedy := "activate the workflow in n8n (toggle at the top right), then run doctor again"
		if test {
			remedy = "click \"Listen for test event\" on the Webhook node, or use the Production URL (/webhook/…) of the active workflow"
		}
		return app.NewCheck(name, app.CheckFail, "workflow inactive or path wrong: n8n says "+said, remedy)
	case resp.StatusCode == http.StatusNotFound:
		return app.NewCheck(name, app.CheckFail, fmt.Sprintf("HTTP 404 from %s: nothing there (%s)", u.Host, said),
			"copy the Production URL from the Webhook node into n8n.webhook_url")
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		return app.NewCheck(name, app.CheckOK, fmt.Sprintf("registered: n8n refused the malformed probe with HTTP %d before running anything", resp.StatusCode), "")
	case resp.StatusCode/100 == 2:
		return app.NewCheck(name, app.CheckFail, fmt.Sprintf("the webhook accepted a call WITHOUT the API key (HTTP %d)", resp.StatusCode),
			"set Authentication = Header Auth on the Webhook node with the \"InfluenceGen n8n API key\" credential")
	}
	return app.NewCheck(name, app.CheckFail, fmt.Sprintf("HTTP %d from %s (%s)", resp.StatusCode, u.Host, said), "check n8n's logs")
}

// n8nMessage extracts n8n's message from a JSON or text error body.
func n8nMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "empty body"
	}
	return s
}

// webhookIsLocal reports an n8n on this machine or network, which needs no tunnel.
func webhookIsLocal(webhookURL string) bool {
	u, err := url.Parse(webhookURL)
	return err == nil && u.Hostname() != "" && hostIsLocal(u.Hostname())
}
