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
	// Numeric host forms (0x7f000001, 127.1) are addresses, never names
	// to look up: the resolver would read them so, and so do we.
	hostAddr, isIP := hostIP(host)
	allowedHost := f.policy.allowed("", host, port)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowedHost {
		// The Control func sees the address the socket really connects
		// to; an allowance is for exactly that address and port.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &BlockedAddressError{Addr: address, Reason: "not an IP address"}
			}
			ip := ap.Addr().Unmap()
			if why := forbiddenIP(ip); why != "" && !f.policy.allowed("", ip.String(), port) {
				return &BlockedAddressError{Addr: ip.String(), Reason: why}
			}
			return nil
		}
	}
	var ips []netip.Addr
	if isIP {
		ips = []netip.Addr{hostAddr}
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
		return false, fmt.Errorf("image URL is invalid: %w", err)
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
