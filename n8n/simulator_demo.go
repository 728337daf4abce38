package n8n

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// DemoBackendOptions configure StartDemoBackend. Store, Secrets and Files
// are the real ones (the demo profile's); the simulator options tune speed
// and failures (tests use short delays).
type DemoBackendOptions struct {
	Config    app.Config // callback.listen may be 127.0.0.1:0; n8n.* is replaced
	Store     app.Store
	Secrets   app.Secrets
	Files     app.ImageFiles
	Bus       *app.Bus
	Clock     app.Clock
	Log       *slog.Logger
	Version   string
	Simulator SimulatorOptions // secret funcs default to reading Secrets
}

// DemoBackend is the whole program minus the dashboard: the simulated n8n,
// the real callback listener with its auth, the ingest worker, and the
// sender and sweeper behind the request service.
type DemoBackend struct {
	Service   *app.Service
	Simulator *Simulator
	Listener  *Listener
	Config    app.Config // as running: webhook at the simulator, public URL at the listener

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// StartDemoBackend starts everything `demo --headless` needs and returns
// once the listener is bound; Close stops it in reverse order.
func StartDemoBackend(ctx context.Context, o DemoBackendOptions) (*DemoBackend, error) {
	if o.Store == nil || o.Secrets == nil || o.Files == nil {
		return nil, app.Errorf(app.EINTERNAL, "demo backend needs a store, secrets and an image folder")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = app.SystemClock{}
	}
	read := func(name string) func() string {
		return func() string {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, _, err := o.Secrets.Get(rctx, name)
			if err != nil {
				return ""
			}
			return v
		}
	}
	so := o.Simulator
	if so.APIKey == nil {
		so.APIKey = read(app.SecretN8NAPIKey)
	}
	if so.CallbackToken == nil {
		so.CallbackToken = read(app.SecretCallbackToken)
	}
	if so.WebhookSecret == nil {
		so.WebhookSecret = read(app.SecretWebhookSecret)
	}
	if so.Log == nil {
		so.Log = o.Log
	}
	sim := NewSimulator(so)
	if err := sim.Start(); err != nil {
		return nil, err
	}
	cfg := o.Config
	cfg.N8N.WebhookURL, cfg.N8N.APIKeyHeader = sim.URL(), sim.opts.APIKeyHeader

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &DemoBackend{Simulator: sim, cancel: cancel}
	ingester := NewIngester(IngestOptions{Store: o.Store, Files: o.Files, Bus: o.Bus, Clock: o.Clock, Log: o.Log,
		Fetcher: NewFetcher(NewImagePolicy(sim.URL(), cfg.Callback.AllowImageHosts), o.Clock, "influencegen/"+o.Version)})
	l, err := OpenListener(ListenerOptions{Config: cfg.Callback, N8NWebhookURL: sim.URL(), Version: o.Version,
		Store: o.Store, Secrets: o.Secrets, Bus: o.Bus, Clock: o.Clock, Log: o.Log, Committed: ingester.Notify})
	if err != nil {
		cancel()
		_ = sim.Close()
		return nil, err
	}
	b.Listener = l
	cfg.Callback.Listen = l.Addr()
	cfg.Callback.PublicURL = "http://" + l.Addr()
	b.Config = cfg
	b.Service = &app.Service{Config: cfg, Store: o.Store, Bus: o.Bus, Clock: o.Clock, Log: o.Log, User: "demo", Files: o.Files,
		Workflow:    NewWorkflow(cfg, o.Secrets, o.Log, o.Version),
		CallbackURL: func() string { return cfg.Callback.PublicURL + app.CallbackPath }}
	sender := &app.Sender{Service: b.Service}
	sweeper := &app.Sweeper{Service: b.Service}
	b.wg.Add(3)
	go func() { defer b.wg.Done(); ingester.Run(runCtx) }()
	go func() { defer b.wg.Done(); _ = sender.Run(runCtx) }()
	go func() { defer b.wg.Done(); _ = sweeper.Run(runCtx) }()
	o.Log.Info("demo backend started", "webhook", sim.URL(), "listener", l.Addr())
	return b, nil
}

// Close stops accepting callbacks, then the workers, then the simulator.
func (b *DemoBackend) Close() error {
	var err error
	b.once.Do(func() {
		// The simulator goes first: no new callbacks are started while the
		// listener drains the ones in flight.
		simErr := b.Simulator.Close()
		lErr := b.Listener.Close()
		b.cancel()
		b.wg.Wait()
		err = errors.Join(simErr, lErr)
	})
	return err
}
