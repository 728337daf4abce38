package n8n

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Server limits (issue 4 §1). Read and write timeouts bound a slow-drip
// client; the body itself is capped by callback.max_body.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
	defaultWriteTimeout      = 90 * time.Second
	defaultIdleTimeout       = 120 * time.Second
	defaultDrainTimeout      = 10 * time.Second
	maxHeaderBytes           = 64 << 10
	retryAfterDraining       = "5"
)

// instanceID tells one running process from another on /healthz, so a
// client can see that the listener it reached was restarted.
var instanceID = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// InstanceID returns this process's random listener instance id.
func InstanceID() string { return instanceID }

// ListenerOptions configure the callback listener.
type ListenerOptions struct {
	Config        app.CallbackConfig
	N8NWebhookURL string // its host may serve images from a private address
	// Policy decides which image URLs are acceptable; nil builds one from
	// N8NWebhookURL and Config.AllowImageHosts. Share it with the Fetcher.
	Policy  *ImagePolicy
	Version string
	Store   app.Store
	Secrets app.Secrets
	Bus     *app.Bus
	Clock   app.Clock
	Log     *slog.Logger
	// Committed is called after a delivery commits, to wake the ingest
	// worker; it must not block.
	Committed func()

	// MaxConns caps concurrent connections (0 = 256).
	MaxConns int

	// Zero values take the defaults; tests shorten them.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, DrainTimeout time.Duration

	// Handler replaces the callback routes (benchmarks of the bare server
	// stack); nil serves the real ones.
	Handler http.Handler
}

// Listener is the embedded HTTP server n8n posts results to.
type Listener struct {
	ln       net.Listener
	srv      *http.Server
	log      *slog.Logger
	drain    time.Duration
	draining atomic.Bool
	served   chan error
	rejected *rejectionLog // nil with a custom Handler
	conns    *connLimitListener
	handler  *callbackHandler // nil with a custom Handler
	once     sync.Once
	closeErr error
}

// OpenListener binds callback.listen and starts serving. Binding comes
// first, so a busy port fails at once with the address in the message,
// before any worker starts.
func OpenListener(opts ListenerOptions) (*Listener, error) {
	if opts.Clock == nil {
		opts.Clock = app.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	addr := opts.Config.Listen
	if addr == "" {
		addr = app.DefaultConfig().Callback.Listen
	}
	var (
		handler  http.Handler
		rejected *rejectionLog
		callback *callbackHandler
	)
	if opts.Handler != nil {
		handler = opts.Handler
	} else {
		h, err := newCallbackHandler(opts)
		if err != nil {
			return nil, err
		}
		handler, rejected, callback = h.routes(), h.rejected, h
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, app.Errorf(app.EUNAVAILABLE, "callback listener cannot listen on %s: %v (is another influencegen serve running? change callback.listen or stop it)", addr, errors.Unwrap(err))
	}
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns
	}
	conns := &connLimitListener{Listener: ln, max: int64(maxConns)}
	l := &Listener{ln: ln, log: opts.Log, drain: pick(opts.DrainTimeout, defaultDrainTimeout), served: make(chan error, 1),
		rejected: rejected, conns: conns, handler: callback}
	l.srv = &http.Server{
		Handler:           l.drainGuard(handler),
		ReadHeaderTimeout: pick(opts.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       pick(opts.ReadTimeout, defaultReadTimeout),
		WriteTimeout:      pick(opts.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:       pick(opts.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		// The listener never writes to the terminal: the TUI owns it.
		ErrorLog: slog.NewLogLogger(opts.Log.Handler(), slog.LevelWarn),
	}
	go func() { l.served <- l.srv.Serve(conns) }()
	opts.Log.Info("callback listener started", "addr", ln.Addr().String(), "instance", instanceID)
	return l, nil
}

func pick(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// TrustLoopbackProxy makes loopback peers trusted proxies (their
// X-Forwarded-For names the source), on top of callback.trusted_proxies.
// The runtime turns it on while the public URL is a tunnel whose agent
// connects from loopback (ngrok, cloudflared, or a configured public URL
// in front of a loopback listener): without it every caller would share
// 127.0.0.1 and one guesser would rate-limit them all.
func (l *Listener) TrustLoopbackProxy(on bool) {
	if l.handler != nil {
		l.handler.sources.trustLoopback.Store(on)
	}
}

// Addr is the bound address (useful with port 0).
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// drainGuard answers 503 with Retry-After once Close has begun, so n8n (or a
// proxy) retries against the next instance instead of hanging.
func (l *Listener) drainGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.draining.Load() {
			w.Header().Set("Retry-After", retryAfterDraining)
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "error", "message": "shutting down: retry in a few seconds"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Close stops accepting, lets requests in flight finish for up to the drain
// timeout (10 s), then cuts the rest.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.draining.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), l.drain)
		defer cancel()
		err := l.srv.Shutdown(ctx)
		if err != nil {
			l.log.Warn("callback listener did not drain in time; closing connections", "err", err)
			_ = l.srv.Close()
		}
		if serveErr := <-l.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		if l.rejected != nil {
			l.rejected.wait() // the store closes after us: let refusal rows land first
		}
		l.log.Info("callback listener stopped", "addr", l.Addr())
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			l.closeErr = fmt.Errorf("stop callback listener: %w", err)
		}
	})
	return l.closeErr
}
