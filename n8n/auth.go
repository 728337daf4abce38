package n8n

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
)

// HeaderCallbackToken carries the shared callback token. Go canonicalises
// header names, so n8n's lower-case x-callback-token matches too.
const HeaderCallbackToken = "X-Callback-Token"

// authenticator checks a callback's credentials according to
// callback.auth. It never says which check failed: the reason goes to the
// log only, so a prober learns nothing.
type authenticator struct {
	mode    string
	secrets app.Secrets
	now     func() time.Time
}

var (
	errNoToken    = errors.New("no callback token presented")
	errWrongToken = errors.New("callback token does not match")
)

func (a *authenticator) needsToken() bool {
	return a.mode == app.AuthToken || a.mode == app.AuthTokenSignature || a.mode == ""
}

func (a *authenticator) needsSignature() bool {
	return a.mode == app.AuthSignature || a.mode == app.AuthTokenSignature
}

// presentedToken takes the token from X-Callback-Token or a Bearer
// Authorization header.
func presentedToken(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get(HeaderCallbackToken)); t != "" {
		return t
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// checkToken returns nil when the token is valid, an auth error when it is
// not, and any other error when the secret store failed (500, not 401).
func (a *authenticator) checkToken(ctx context.Context, r *http.Request) (authErr, err error) {
	token := presentedToken(r)
	if token == "" {
		return errNoToken, nil
	}
	ok, err := a.secrets.ValidateCallbackToken(ctx, token)
	if err != nil {
		if code := app.ErrorCode(err); code == app.ENOTCONFIGURED || code == app.ENOTFOUND {
			return err, nil // no token set: every caller is unauthenticated, and the log says how to fix it
		}
		return nil, err
	}
	if !ok {
		return errWrongToken, nil
	}
	return nil, nil
}

// checkSignature verifies the Standard Webhooks headers over the raw body.
func (a *authenticator) checkSignature(ctx context.Context, r *http.Request, body []byte) (authErr, err error) {
	secret, _, err := a.secrets.Get(ctx, app.SecretWebhookSecret)
	if err != nil {
		if code := app.ErrorCode(err); code == app.ENOTFOUND || code == app.ENOTCONFIGURED {
			return errors.New("webhook-secret is not set: run `influencegen secrets set webhook-secret`"), nil
		}
		return nil, err
	}
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		return err, nil
	}
	return VerifySignature(key, r.Header.Get(HeaderWebhookID), r.Header.Get(HeaderWebhookTimestamp),
		r.Header.Get(HeaderWebhookSignature), body, a.now()), nil
}

// sourceResolver finds who is really calling, for logs and rate limits.
type sourceResolver struct {
	trusted []netip.Prefix
	// trustLoopback believes loopback peers too: a tunnel agent on this
	// machine (see Listener.TrustLoopbackProxy).
	trustLoopback atomic.Bool
}

func newSourceResolver(trustedProxies []string) (*sourceResolver, error) {
	s := &sourceResolver{}
	for _, p := range trustedProxies {
		p = strings.TrimSpace(p)
		if pfx, err := netip.ParsePrefix(p); err == nil {
			s.trusted = append(s.trusted, pfx.Masked())
			continue
		}
		ip, err := netip.ParseAddr(p)
		if err != nil {
			return nil, app.Errorf(app.EINVALID, "callback.trusted_proxies: %q is not an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)", p)
		}
		s.trusted = append(s.trusted, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return s, nil
}

func (s *sourceResolver) isTrusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() && s.trustLoopback.Load() {
		return true
	}
	for _, p := range s.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// source is the peer address, or, when the peer is a trusted proxy, the
// first X-Forwarded-For hop from the right that is not itself trusted:
// the left-most entries are whatever the client chose to write.
func (s *sourceResolver) source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.isTrusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String() // a malformed chain is not believed
		}
		if !s.isTrusted(hop) {
			return hop.Unmap().String()
		}
	}
	return peer.String()
}
