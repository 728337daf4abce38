package n8n

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Where a public callback URL came from.
const (
	TunnelConfigured  = "configured"  // callback.public_url / --public-url, used as given
	TunnelNgrok       = "ngrok"       // found through ngrok's local agent API
	TunnelCloudflared = "cloudflared" // a cloudflared quick tunnel's metrics server
	TunnelNone        = "none"        // no tunnel: http://<listen>, reachable only nearby
)

// Tunnel is the resolved public base URL of the callback listener.
type Tunnel struct {
	Kind      string `json:"kind"`
	PublicURL string `json:"public_url"` // base URL without a trailing slash
	Note      string `json:"note,omitempty"`
}

// CallbackURL is the full URL n8n posts results to.
func (t Tunnel) CallbackURL() string { return t.PublicURL + app.CallbackPath }

// TunnelProbe finds a running ngrok agent or cloudflared quick tunnel. The
// base URLs are fields so tests can point them at httptest fakes.
type TunnelProbe struct {
	// NgrokAPI is ngrok's local agent API (default http://127.0.0.1:4040).
	NgrokAPI string
	// CloudflaredMetrics are the metrics servers a quick tunnel may use
	// (default 127.0.0.1:20241…20245, cloudflared's own search range).
	CloudflaredMetrics []string
	// ReadyWait bounds how long to wait for cloudflared's /ready (default 5 s).
	ReadyWait time.Duration
	// Poll is the pause between /ready attempts (default 250 ms).
	Poll   time.Duration
	Client *http.Client
}

// DefaultTunnelProbe looks where ngrok and cloudflared listen by default.
func DefaultTunnelProbe() TunnelProbe {
	p := TunnelProbe{NgrokAPI: "http://127.0.0.1:4040"}
	for port := 20241; port <= 20245; port++ {
		p.CloudflaredMetrics = append(p.CloudflaredMetrics, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	return p
}

func (p TunnelProbe) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	// Both agents are on loopback: a slow answer means nothing is there.
	return &http.Client{Timeout: 2 * time.Second}
}

// ResolvePublicURL decides the callback base URL: the configured one as
// given, else a detected tunnel forwarding to listen, else http://<listen>.
func ResolvePublicURL(ctx context.Context, cfg app.CallbackConfig, probe TunnelProbe) Tunnel {
	if u := strings.TrimRight(strings.TrimSpace(cfg.PublicURL), "/"); u != "" {
		return Tunnel{Kind: TunnelConfigured, PublicURL: u}
	}
	if t, err := probe.Detect(ctx, cfg.Listen); err == nil {
		return t
	}
	return Tunnel{Kind: TunnelNone, PublicURL: "http://" + dialable(cfg.Listen),
		Note: "no callback.public_url and no ngrok or cloudflared tunnel found: only this machine can reach the callback"}
}

// Detect tries ngrok first (it says which local port it forwards), then a
// cloudflared quick tunnel.
func (p TunnelProbe) Detect(ctx context.Context, listen string) (Tunnel, error) {
	ngrokErr := error(app.Errorf(app.ENOTFOUND, "ngrok: not probed"))
	if p.NgrokAPI != "" {
		t, err := p.detectNgrok(ctx, listen)
		if err == nil {
			return t, nil
		}
		ngrokErr = err
	}
	for _, base := range p.CloudflaredMetrics {
		if t, err := p.detectCloudflared(ctx, base); err == nil {
			return t, nil
		}
	}
	return Tunnel{}, app.Errorf(app.ENOTFOUND, "no tunnel found (%v; no cloudflared quick tunnel on its metrics ports)", ngrokErr)
}

type ngrokTunnels struct {
	Tunnels []struct {
		PublicURL string `json:"public_url"`
		Proto     string `json:"proto"`
		Config    struct {
			Addr string `json:"addr"`
		} `json:"config"`
	} `json:"tunnels"`
}

func (p TunnelProbe) detectNgrok(ctx context.Context, listen string) (Tunnel, error) {
	var doc ngrokTunnels
	if err := p.getJSON(ctx, strings.TrimRight(p.NgrokAPI, "/")+"/api/tunnels", &doc); err != nil {
		return Tunnel{}, app.Errorf(app.ENOTFOUND, "ngrok agent API not answering: %w", err)
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return Tunnel{}, app.Errorf(app.EINVALID, "callback.listen = %q: want host:port", listen)
	}
	for _, t := range doc.Tunnels {
		if strings.HasPrefix(t.PublicURL, "https://") && ngrokForwardsTo(t.Config.Addr, port) {
			return Tunnel{Kind: TunnelNgrok, PublicURL: strings.TrimRight(t.PublicURL, "/")}, nil
		}
	}
	return Tunnel{}, app.Errorf(app.ENOTFOUND, "ngrok runs but no https tunnel forwards to port %s: run `ngrok http %s`", port, port)
}

// ngrokForwardsTo matches the forms ngrok writes in config.addr:
// "http://localhost:8787", "localhost:8787", "127.0.0.1:8787" or "8787".
func ngrokForwardsTo(addr, port string) bool {
	if addr == port {
		return true
	}
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	_, p, err := net.SplitHostPort(addr)
	return err == nil && p == port
}

func (p TunnelProbe) detectCloudflared(ctx context.Context, base string) (Tunnel, error) {
	base = strings.TrimRight(base, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	var doc struct {
		Hostname string `json:"hostname"`
	}
	if err := p.getJSON(ctx, base+"/quicktunnel", &doc); err != nil {
		return Tunnel{}, err
	}
	if doc.Hostname == "" {
		return Tunnel{}, app.Errorf(app.ENOTFOUND, "cloudflared at %s runs no quick tunnel", base)
	}
	// A quick tunnel's hostname exists before its connections are up; a
	// callback sent then would be lost, so wait for /ready.
	wait, poll := p.ReadyWait, p.Poll
	if wait <= 0 {
		wait = 5 * time.Second
	}
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for {
		if p.ready(ctx, base+"/ready") {
			return Tunnel{Kind: TunnelCloudflared, PublicURL: "https://" + doc.Hostname,
				Note: "cloudflared does not say which local port it forwards: the self-check confirms it reaches us"}, nil
		}
		if time.Now().After(deadline) {
			return Tunnel{}, app.Errorf(app.EUNAVAILABLE, "cloudflared quick tunnel %s is not ready after %s", doc.Hostname, wait)
		}
		select {
		case <-ctx.Done():
			return Tunnel{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func (p TunnelProbe) ready(ctx context.Context, u string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p TunnelProbe) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// SelfCheck fetches <publicURL>/healthz?probe=<nonce> and confirms the
// answer is the one expect gives for that nonce: only the listener this
// check means (this very process, or the one doctor found on the listen
// port) can give it, so a tunnel pointing at an old run or another machine
// fails here instead of losing callbacks later.
func SelfCheck(ctx context.Context, client *http.Client, publicURL string, expect ProbeExpect) error {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	nonce := newProbeNonce()
	u := strings.TrimRight(publicURL, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?probe="+nonce, nil)
	if err != nil {
		return app.Errorf(app.EINVALID, "public URL %q is not a URL: %v", publicURL, err)
	}
	// ngrok's free plan shows a browser warning page unless asked not to.
	req.Header.Set("ngrok-skip-browser-warning", "1")
	resp, err := client.Do(req)
	if err != nil {
		return app.ReasonErrorf(app.EUNAVAILABLE, "public_url_unreachable", "GET %s failed: %v; is the tunnel running and forwarding to callback.listen?", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return app.ReasonErrorf(app.EUNAVAILABLE, "public_url_unreachable", "GET %s answered HTTP %d instead of the listener's health document; the tunnel forwards somewhere else", u, resp.StatusCode)
	}
	var h healthDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil || h.Status != "ok" || h.Probe == "" {
		return app.ReasonErrorf(app.EUNAVAILABLE, "public_url_not_us", "GET %s did not answer with an influencegen health document; the tunnel forwards to another program", u)
	}
	want, err := expect(ctx, nonce)
	if err != nil {
		return app.ReasonErrorf(app.EUNAVAILABLE, "public_url_not_us", "cannot tell which influencegen %s reaches: %v", publicURL, err)
	}
	if !hmac.Equal([]byte(h.Probe), []byte(want)) {
		return app.ReasonErrorf(app.EUNAVAILABLE, "public_url_not_us", "%s reaches another influencegen process (its identity probe answer differs); point the tunnel at this one's callback.listen", publicURL)
	}
	return nil
}

// TunnelForwardsFromLoopback reports whether callers reach the listener
// through an agent on this machine: a detected ngrok or cloudflared
// tunnel, or a configured public URL that is not local in front of a
// loopback listener. Such an agent connects from 127.0.0.1 for everyone and
// names the real client in X-Forwarded-For (both ngrok and cloudflared
// set it), so the listener believes that header from loopback peers.
func TunnelForwardsFromLoopback(t Tunnel, listen string) bool {
	switch t.Kind {
	case TunnelNgrok, TunnelCloudflared:
		return true
	case TunnelConfigured:
		u, err := url.Parse(t.PublicURL)
		if err != nil || u.Hostname() == "" || hostIsLocal(u.Hostname()) {
			return false
		}
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	}
	return false
}

// Reachability is what the dashboard header, `serve` and the admin panel
// show about the callback URL.
type Reachability struct {
	Tunnel    Tunnel
	Checked   bool   // the self-check ran
	SelfCheck error  // nil when <public URL>/healthz answered our instance id
	Warning   string // ReachabilityWarning: n8n cannot possibly reach the callback
}

// CheckReachability resolves the public URL (configured, else a detected
// ngrok/cloudflared tunnel, else the listen address), self-checks it
// against expect (ThisProcess() for a running listener) and computes the loud warning. Call
// it after the listener is bound (cfg.Callback.Listen = the bound address),
// at start and whenever the person asks to re-check.
func CheckReachability(ctx context.Context, cfg app.Config, probe TunnelProbe, client *http.Client, expect ProbeExpect) Reachability {
	t := ResolvePublicURL(ctx, cfg.Callback, probe)
	err := SelfCheck(ctx, client, t.PublicURL, expect)
	return Reachability{Tunnel: t, Checked: true, SelfCheck: err, Warning: ReachabilityWarning(t.CallbackURL(), cfg.N8N.WebhookURL)}
}

// ReachabilityWarning returns a loud warning when n8n cannot possibly reach
// the callback URL: the callback is on loopback or a private network while
// the n8n webhook is on a public host. "" means no problem is visible.
func ReachabilityWarning(callbackURL, webhookURL string) string {
	cb, err1 := url.Parse(callbackURL)
	wh, err2 := url.Parse(webhookURL)
	if err1 != nil || err2 != nil || cb.Hostname() == "" || wh.Hostname() == "" {
		return ""
	}
	if hostIsLocal(cb.Hostname()) && !hostIsLocal(wh.Hostname()) {
		return fmt.Sprintf("WARNING: n8n at %s cannot reach the callback URL %s (a %s address). "+
			"Results will never arrive. Start a tunnel (ngrok http %s, or cloudflared tunnel --url http://%s) "+
			"or set callback.public_url to an address n8n can reach.",
			wh.Host, callbackURL, localKind(cb.Hostname()), cb.Port(), cb.Host)
	}
	return ""
}

// hostIsLocal reports loopback, private, link-local, CGNAT and
// single-label or .local/.internal names: nothing a cloud n8n can reach.
func hostIsLocal(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || cgnat.Contains(ip)
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || !strings.Contains(h, ".") ||
		strings.HasSuffix(h, ".local") || strings.HasSuffix(h, ".internal") || strings.HasSuffix(h, ".lan") ||
		strings.HasSuffix(h, ".home.arpa")
}

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

func localKind(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || strings.EqualFold(host, "localhost") {
		return "loopback"
	}
	return "private"
}
