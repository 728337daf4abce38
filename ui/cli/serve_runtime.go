package cli

import (
	"net"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// RuntimeOptions choose what StartRuntime runs besides the listener and
// the ingest worker.
type RuntimeOptions struct {
	// Workers also runs the sender, the timeout sweeper and the Odoo sync
	// (serve, the dashboard). generate --wait runs without them: it sends
	// its own requests and only needs to receive their results.
	Workers bool
}

// Runtime is the running background part of the program.
type Runtime interface {
	// ListenAddr is the address the callback listener is bound to.
	ListenAddr() string
	// CallbackURL is the full URL n8n must post results to.
	CallbackURL() string
	// ListenerStatus says which public URL is used, whether the self-check
	// reached us through it, and warns when n8n cannot reach it.
	ListenerStatus() app.ListenerStatus
	// Close stops everything StartRuntime started, in reverse order.
	Close() error
}

// PublicCallbackURL is the callback URL for a listener bound to
// listenAddr: callback.public_url if set, else http://<listen address>. An
// unspecified bind address (0.0.0.0, [::]) is shown as loopback, the one
// address of it that is certain to work from this machine.
func PublicCallbackURL(cfg app.Config, listenAddr string) string {
	base := strings.TrimRight(cfg.Callback.PublicURL, "/")
	if base == "" {
		host, port, err := net.SplitHostPort(listenAddr)
		if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
			listenAddr = net.JoinHostPort("127.0.0.1", port)
		}
		base = "http://" + listenAddr
	}
	return base + app.CallbackPath
}
