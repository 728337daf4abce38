package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
)

// recheckEvery is how often the public URL is resolved and self-checked
// again: a tunnel restarted with a new URL is picked up within a minute.
const recheckEvery = time.Minute

// reachability keeps the listener's public URL and self-check result. The
// sender reads the callback URL from it for every webhook call, and the
// dashboard reads the status from a background goroutine, so it is guarded.
type reachability struct {
	cfg app.Config // Callback.Listen set to the bound address
	// trustProxy tells the listener whether loopback peers are a tunnel
	// agent whose X-Forwarded-For names the real caller.
	trustProxy func(bool)
	bus        *app.Bus
	log        *slog.Logger
	probe      n8n.TunnelProbe

	mu     sync.Mutex
	status app.ListenerStatus
}

func newReachability(cfg app.Config, boundAddr string, bus *app.Bus, log *slog.Logger) *reachability {
	cfg.Callback.Listen = boundAddr
	return &reachability{cfg: cfg, bus: bus, log: log, probe: n8n.DefaultTunnelProbe(),
		status: app.ListenerStatus{Address: boundAddr, Exposed: app.ExposedBindWarning(boundAddr)}}
}

// resolve picks the public URL (configured, else ngrok, else a cloudflared
// quick tunnel, else the listen address). It only talks to loopback agents,
// so it runs before the first webhook is sent: a request must never carry
// the loopback URL when a tunnel is there.
func (r *reachability) resolve(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t := n8n.ResolvePublicURL(ctx, r.cfg.Callback, r.probe)
	if r.trustProxy != nil {
		r.trustProxy(n8n.TunnelForwardsFromLoopback(t, r.cfg.Callback.Listen))
	}
	r.update(func(s *app.ListenerStatus) {
		s.PublicURL, s.Tunnel = t.PublicURL, t.Kind
		s.Warning = n8n.ReachabilityWarning(t.CallbackURL(), r.cfg.N8N.WebhookURL)
	})
}

// selfCheck asks <public URL>/healthz for the answer only this process
// can give to a fresh nonce. It may go out
// through a tunnel, so it runs in the background.
func (r *reachability) selfCheck(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := n8n.SelfCheck(ctx, nil, r.Status().PublicURL, n8n.ThisProcess())
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down
	}
	r.update(func(s *app.ListenerStatus) { s.Checked, s.SelfCheck = true, err })
}

// run re-resolves and re-checks until ctx ends.
func (r *reachability) run(ctx context.Context) {
	r.selfCheck(ctx)
	tick := time.NewTicker(recheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.resolve(ctx)
			r.selfCheck(ctx)
		}
	}
}

// update applies fn and, when anything visible changed, logs it and tells
// the dashboard.
func (r *reachability) update(fn func(*app.ListenerStatus)) {
	r.mu.Lock()
	before := r.status
	fn(&r.status)
	after := r.status
	r.mu.Unlock()
	if sameStatus(before, after) {
		return
	}
	if after.Warning != "" {
		r.log.Warn("callback unreachable for n8n", "warning", after.Warning)
	}
	if after.Checked && after.SelfCheck != nil {
		r.log.Warn("callback self-check failed", "public_url", after.PublicURL, "err", after.SelfCheck)
	} else {
		r.log.Info("callback reachability", "public_url", after.PublicURL, "tunnel", after.Tunnel, "checked", after.Checked)
	}
	r.bus.Publish(app.Event{Kind: app.EventListener})
}

func sameStatus(a, b app.ListenerStatus) bool {
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	return a.Address == b.Address && a.Exposed == b.Exposed && a.PublicURL == b.PublicURL && a.Tunnel == b.Tunnel &&
		a.Checked == b.Checked && a.Warning == b.Warning && errText(a.SelfCheck) == errText(b.SelfCheck)
}

// Status returns a copy of the current status.
func (r *reachability) Status() app.ListenerStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// CallbackURL is the full URL n8n must post results to.
func (r *reachability) CallbackURL() string { return r.Status().PublicURL + app.CallbackPath }
