package n8n

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ImagePolicy decides which image URLs may be fetched. A URL from a
// callback is attacker-controlled input: without it, a forged or
// compromised workflow could make us read cloud metadata (169.254.169.254)
// or services on our own loopback and store the answer as an "image".
type ImagePolicy struct {
	// allow are the exact endpoints that may be private: the n8n
	// webhook's scheme, host and port, and allow_image_hosts entries.
	allow    []endpointAllowance
	prefixes []netip.Prefix // allowed networks (allow_image_hosts may list CIDRs), any port
	// lookup resolves names, for the pre-ack check and the dialer; tests
	// swap it to point names at loopback.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// endpointAllowance is one allowed endpoint. An empty scheme or port
// matches any; host is a lower-case name or a canonical IP.
type endpointAllowance struct {
	scheme, host, port string
}

// precheckLookupTimeout bounds the DNS lookup made before an ack: a slow
// resolver must not make n8n's single 10 s attempt time out.
const precheckLookupTimeout = 2 * time.Second

// NewImagePolicy allows private addresses only for exactly the n8n
// webhook's scheme, host and port (n8n often serves images itself, e.g. on
// 127.0.0.1:5678) and the entries of allow_image_hosts: a host (any port),
// host:port, [v6]:port, scheme://host[:port] or a CIDR range. Allowing
// n8n's host must not open every other service on it (issue 10 §13).
func NewImagePolicy(n8nWebhookURL string, allowHosts []string) *ImagePolicy {
	p := &ImagePolicy{lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	if u, err := url.Parse(n8nWebhookURL); err == nil && u.Hostname() != "" {
		p.allow = append(p.allow, endpointAllowance{scheme: strings.ToLower(u.Scheme), host: canonicalHost(u.Hostname()), port: urlPort(u)})
	}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(h); err == nil {
			p.prefixes = append(p.prefixes, pfx.Masked())
			continue
		}
		if strings.Contains(h, "://") {
			if u, err := url.Parse(h); err == nil && u.Hostname() != "" {
				p.allow = append(p.allow, endpointAllowance{scheme: u.Scheme, host: canonicalHost(u.Hostname()), port: urlPort(u)})
			}
			continue
		}
		if host, port, err := net.SplitHostPort(h); err == nil {
			p.allow = append(p.allow, endpointAllowance{host: canonicalHost(host), port: port})
			continue
		}
		p.allow = append(p.allow, endpointAllowance{host: canonicalHost(h)})
	}
	return p
}

// urlPort is the port a URL really connects to.
func urlPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// canonicalHost lower-cases a name and drops its trailing dot and
// brackets; any IP form the resolver would accept becomes its canonical
// address, so 0x7f000001, 127.1 and [::ffff:127.0.0.1] all read 127.0.0.1.
func canonicalHost(host string) string {
	if ip, ok := hostIP(host); ok {
		return ip.String()
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

// allowed reports whether the endpoint is allowed although private.
// scheme "" is the dialer, which checks host and port only.
func (p *ImagePolicy) allowed(scheme, host, port string) bool {
	ch := canonicalHost(host)
	for _, a := range p.allow {
		if a.host == ch && (a.port == "" || a.port == port) && (a.scheme == "" || scheme == "" || a.scheme == scheme) {
			return true
		}
	}
	if ip, ok := hostIP(host); ok {
		for _, pfx := range p.prefixes {
			if pfx.Contains(ip) {
				return true
			}
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
	host, port := u.Hostname(), urlPort(u)
	if p.allowed(strings.ToLower(u.Scheme), host, port) {
		return nil
	}
	if _, ok := hostIP(host); ok {
		return nil // an address in any form was checked by CheckURL, without DNS
	}
	ctx, cancel := context.WithTimeout(ctx, precheckLookupTimeout)
	defer cancel()
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if why := forbiddenIP(ip); why != "" && !p.allowed("", ip.Unmap().String(), port) {
			return fmt.Errorf("host %s resolves to %s, %s: add it to callback.allow_image_hosts if images really come from there", clipText(host, 60), ip.Unmap(), why)
		}
	}
	return nil
}

// CheckURL checks scheme, credentials, host and port without DNS: the part
// of the policy that needs no network. Redirects are checked with it too.
func (p *ImagePolicy) CheckURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("is not a valid URL")
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
	case "":
		return fmt.Errorf("has no scheme: use an http:// or https:// URL")
	default:
		return fmt.Errorf("scheme %q is not allowed: use http or https", clipText(u.Scheme, 20))
	}
	if u.User != nil {
		// Userinfo would be sent as Basic auth to whatever host the
		// sender chose, and stored with the URL: refused, never kept.
		return fmt.Errorf("must not contain a user name or password (user:password@host)")
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("has no host")
	}
	if p.allowed(scheme, host, urlPort(u)) {
		return nil
	}
	ip, isIP := hostIP(host)
	if !isIP && looksNumeric(host) {
		// The resolver would try to read it as an address; we cannot be
		// sure which, so it is refused rather than looked up.
		return fmt.Errorf("host %s is neither a valid IP address nor a name", clipText(host, 60))
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return fmt.Errorf("host %s is a loopback name: add it to callback.allow_image_hosts if images really come from there", clipText(host, 60))
	}
	if isIP {
		if why := forbiddenIP(ip); why != "" {
			shown := clipText(host, 60)
			if shown != ip.String() {
				shown += " (" + ip.String() + ")"
			}
			return fmt.Errorf("host %s is %s: add it to callback.allow_image_hosts if images really come from there", shown, why)
		}
	}
	return nil
}
