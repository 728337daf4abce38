package n8n

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Image URL fetching limits (DESIGN §5).
const (
	fetchTotalTimeout = 60 * time.Second
	fetchMaxRedirects = 5
	fetchAttempts     = 4 // the first try and 3 retries
	fetchBackoff      = 500 * time.Millisecond
)

// ImagePolicy decides which image URLs may be fetched. A URL from a
// callback is attacker-controlled input: without it, a forged or
// compromised workflow could make us read cloud metadata (169.254.169.254)
// or services on our own loopback and store the answer as an "image".
type ImagePolicy struct {
	hosts    map[string]bool // allowed host names and IP literals, lower case
	prefixes []netip.Prefix  // allowed networks (allow_image_hosts may list CIDRs)
	// lookup resolves names, for the pre-ack check and the dialer; tests
	// swap it to point names at loopback.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// precheckLookupTimeout bounds the DNS lookup made before an ack: a slow
// resolver must not make n8n's single 10 s attempt time out.
const precheckLookupTimeout = 2 * time.Second

// NewImagePolicy allows private addresses only for the n8n webhook's own
// host (n8n often serves images itself, e.g. on 127.0.0.1:5678) and the
// hosts or networks in allow_image_hosts.
func NewImagePolicy(n8nWebhookURL string, allowHosts []string) *ImagePolicy {
	p := &ImagePolicy{hosts: map[string]bool{}, lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	if u, err := url.Parse(n8nWebhookURL); err == nil && u.Hostname() != "" {
		p.hosts[strings.ToLower(u.Hostname())] = true
	}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if pfx, err := netip.ParsePrefix(h); err == nil {
			p.prefixes = append(p.prefixes, pfx.Masked())
			continue
		}
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if h != "" {
			p.hosts[h] = true
		}
	}
	return p
}

func (p *ImagePolicy) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if p.hosts[host] {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.ipAllowed(ip)
	}
	return false
}

func (p *ImagePolicy) ipAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if p.hosts[ip.String()] {
		return true
	}
	for _, pfx := range p.prefixes {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

var cgnatPrefix = netip.MustParsePrefix("100.64.0.0/10")

// forbiddenIP names why an address must not be fetched from, or "".
func forbiddenIP(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	case ip.IsPrivate():
		return "a private address"
	case cgnatPrefix.Contains(ip):
		return "a carrier-grade NAT address"
	case ip.Is4() && ip.As4()[0] == 0: // 0.0.0.0/8 reaches this host on Linux
		return "an unspecified address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a broadcast address"
	}
	return ""
}

// SetLookup replaces name resolution (tests).
func (p *ImagePolicy) SetLookup(lookup func(ctx context.Context, host string) ([]netip.Addr, error)) {
	p.lookup = lookup
}

// CheckURLResolved is the check made before a callback is acked: CheckURL,
// then the name is resolved and refused if any of its addresses is
// forbidden. A lookup that fails or times out is not a refusal (DNS may be
// briefly down); the dialer checks again, by the address it really
// connects to, when the ingest worker fetches.
func (p *ImagePolicy) CheckURLResolved(ctx context.Context, raw string) error {
	if err := p.CheckURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(strings.TrimSpace(raw))
	host := u.Hostname()
	if p.hostAllowed(host) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil // a literal was checked by CheckURL
	}
	ctx, cancel := context.WithTimeout(ctx, precheckLookupTimeout)
	defer cancel()
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if why := forbiddenIP(ip); why != "" && !p.ipAllowed(ip) {
			return fmt.Errorf("host %s resolves to %s, %s: add it to callback.allow_image_hosts if images really come from there", clipText(host, 60), ip.Unmap(), why)
		}
	}
	return nil
}

// CheckURL checks scheme and host without DNS: the part of the policy that
// needs no network. Redirects are checked with it too.
func (p *ImagePolicy) CheckURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("is not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return fmt.Errorf("has no scheme: use an http:// or https:// URL")
	default:
		return fmt.Errorf("scheme %q is not allowed: use http or https", clipText(u.Scheme, 20))
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("has no host")
	}
	if p.hostAllowed(host) {
		return nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return fmt.Errorf("host %s is a loopback name: add it to callback.allow_image_hosts if images really come from there", clipText(host, 60))
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := forbiddenIP(ip); why != "" {
			return fmt.Errorf("host %s is %s: add it to callback.allow_image_hosts if images really come from there", ip, why)
		}
	}
	return nil
}

// BlockedAddressError is a connection the dialer refused.
type BlockedAddressError struct {
	Addr   string
	Reason string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s (allow it in callback.allow_image_hosts)", e.Addr, e.Reason)
}

// Fetcher downloads images from URLs under an ImagePolicy.
type Fetcher struct {
	policy *ImagePolicy
	client *http.Client
	clock  app.Clock
	// Timeout bounds one Fetch, every retry and redirect included.
	Timeout time.Duration
	Backoff time.Duration
}

// NewFetcher returns a fetcher that refuses forbidden addresses at
// connect time, after DNS: a name that resolves to a private address (or
// is re-pointed there between check and use, "DNS rebinding") is refused
// where it matters, on the socket.
func NewFetcher(policy *ImagePolicy, clock app.Clock, userAgent string) *Fetcher {
	f := &Fetcher{policy: policy, clock: clock, Timeout: fetchTotalTimeout, Backoff: fetchBackoff}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us and bypass the address check
		DialContext:           f.dialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	f.client = &http.Client{
		Transport: userAgentTransport{transport, userAgent},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > fetchMaxRedirects {
				return fmt.Errorf("more than %d redirects", fetchMaxRedirects)
			}
			if err := policy.CheckURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirect to %s: URL %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
	return f
}

type userAgentTransport struct {
	base http.RoundTripper
	ua   string
}

func (t userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("User-Agent", t.ua)
	r.Header.Set("Accept", "image/png, image/jpeg, image/webp, image/gif")
	return t.base.RoundTrip(r)
}

func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	allowedHost := f.policy.hostAllowed(host)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowedHost {
		// The Control func sees the address the socket really connects to.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &BlockedAddressError{Addr: address, Reason: "not an IP address"}
			}
			if why := forbiddenIP(ap.Addr()); why != "" && !f.policy.ipAllowed(ap.Addr()) {
				return &BlockedAddressError{Addr: ap.Addr().String(), Reason: why}
			}
			return nil
		}
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = f.policy.lookup(ctx, host); err != nil {
		return nil, err
	}
	var firstErr error
	for _, ip := range ips {
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%s has no addresses", host)
	}
	return nil, firstErr
}

// Fetch downloads rawURL and hands the body to save while it streams.
// Network errors and 5xx answers are retried 3 times with backoff; a
// refused address, a 4xx or a body save rejects (not an image, too large)
// fails at once. Errors are ReasonImageUnavailable with the reason.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, save func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	if err := f.policy.CheckURL(rawURL); err != nil {
		return app.ReasonErrorf(app.EINVALID, app.ReasonImageUnavailable, "image URL %w", err)
	}
	var lastErr error
	for attempt := range fetchAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "image download gave up after %d attempts: %v", attempt, lastErr)
			case <-f.clock.After(f.Backoff << (attempt - 1)):
			}
		}
		retry, err := f.fetchOnce(ctx, rawURL, save)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	var appErr *app.Error
	if errors.As(lastErr, &appErr) && (appErr.Reason != "" || appErr.Code == app.EINTERNAL) {
		return lastErr
	}
	return app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "image download failed: %v", lastErr)
}

func (f *Fetcher) fetchOnce(ctx context.Context, rawURL string, save func(io.Reader) error) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return false, fmt.Errorf("image URL is invalid: %v", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var blocked *BlockedAddressError
		if errors.As(err, &blocked) {
			return false, blocked
		}
		var urlErr *url.Error
		if errors.As(err, &urlErr) && strings.Contains(urlErr.Err.Error(), "redirect") {
			return false, urlErr.Err
		}
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return true, fmt.Errorf("image server answered %s", app.ClipText(app.CleanLine(resp.Status), 200))
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("image server answered %s", app.ClipText(app.CleanLine(resp.Status), 200))
	case resp.ContentLength > app.MaxImageBytes:
		return false, app.ReasonErrorf(app.EINVALID, app.ReasonImageTooLarge, "image is %d bytes, over the limit of %d MiB", resp.ContentLength, app.MaxImageBytes>>20)
	}
	if err := save(resp.Body); err != nil {
		return app.ErrorCode(err) == app.EUNAVAILABLE && ctx.Err() == nil, err
	}
	return false, nil
}
