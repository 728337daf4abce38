package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui/cli"
)

// runtime is the background part of a running program: the callback
// listener and the workers around it.
type runtime struct {
	listener *n8n.Listener
	reach    *reachability
	stops    []func() error // in start order; Close runs them backwards
	once     sync.Once
	err      error
}

func (r *runtime) ListenAddr() string                 { return r.listener.Addr() }
func (r *runtime) CallbackURL() string                { return r.reach.CallbackURL() }
func (r *runtime) ListenerStatus() app.ListenerStatus { return r.reach.Status() }

// Close stops everything in reverse start order: the workers finish
// their current item first, and the listener, stopped last, keeps acking
// (durably) until then, so n8n's single attempt is never refused because
// we were half-way down.
func (r *runtime) Close() error {
	r.once.Do(func() {
		var errs []error
		for i := len(r.stops) - 1; i >= 0; i-- {
			errs = append(errs, r.stops[i]())
		}
		r.err = errors.Join(errs...)
	})
	return r.err
}

// worker runs fn on its own goroutine until its stop is called.
func worker(fn func(ctx context.Context)) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() error {
		cancel()
		<-done
		return nil
	}
}

// startRuntime implements cli.Wiring.StartRuntime: listener first (a busy
// port fails before any worker starts), then ingest (it resumes deliveries
// acked before a crash), then the sender and sweeper, then Odoo sync.
func startRuntime(ctx context.Context, env *cli.Env, svc *app.Service, opts cli.RuntimeOptions) (cli.Runtime, error) {
	p, err := env.Open(ctx)
	if err != nil {
		return nil, err
	}
	cfg, paths, log, st, secrets := p.Config, p.Paths, p.Log, p.Store, p.Secrets
	if svc.Bus == nil {
		svc.Bus = app.NewBus()
	}
	files := store.NewImageFiles(paths.ImagesDir)
	clock := app.SystemClock{}
	userAgent := "influencegen/" + env.Build.Version
	policy := n8n.NewImagePolicy(cfg.N8N.WebhookURL, cfg.Callback.AllowImageHosts)
	ingest := n8n.NewIngester(n8n.IngestOptions{
		Store: st, Files: files, Bus: svc.Bus, Clock: clock, Log: log.With("component", "ingest"),
		Fetcher: n8n.NewFetcher(policy, clock, userAgent), ImageDeadline: time.Duration(cfg.Callback.ImageDeadline),
	})
	listener, err := n8n.OpenListener(n8n.ListenerOptions{
		Config: cfg.Callback, N8NWebhookURL: cfg.N8N.WebhookURL, Policy: policy, Version: env.Build.Version,
		Store: st, Secrets: secrets, Bus: svc.Bus, Clock: clock, Log: log.With("component", "listener"),
		Committed: ingest.Notify,
	})
	if err != nil {
		return nil, err
	}
	rt := &runtime{listener: listener, reach: newReachability(cfg, listener.Addr(), svc.Bus, log.With("component", "tunnel"))}
	rt.reach.trustProxy = listener.TrustLoopbackProxy
	rt.reach.resolve(ctx)
	// The webhook body must name the port really bound (listen = …:0 in
	// tests) and the tunnel, if one forwards to it.
	svc.CallbackURL = rt.CallbackURL
	rt.stops = append(rt.stops, listener.Close)
	rt.stops = append(rt.stops, worker(rt.reach.run))
	rt.stops = append(rt.stops, worker(ingest.Run))
	if opts.Workers {
		rt.stops = append(rt.stops, worker(func(ctx context.Context) {
			if err := svc.RunWorkers(ctx); err != nil && ctx.Err() == nil {
				log.Error("sender/sweeper stopped", "err", err)
			}
		}))
		// The collector: unreferenced image files and old callback bodies,
		// at start and daily. Delete never unlinks; only this does.
		if db, ok := st.(*store.DB); ok {
			collect := store.CollectOptions{DeliveryRetention: cfg.Store.DeliveryRetention.D()}
			rt.stops = append(rt.stops, worker(func(ctx context.Context) {
				db.RunCollector(ctx, files, collect, store.DefaultCollectEvery)
			}))
		}
		// Odoo sync (issue 5), after the sender; off while odoo.url is empty.
		if stop := startOdooSync(cfg, secrets, st, svc.Bus, clock, log.With("component", "odoo"), userAgent); stop != nil {
			rt.stops = append(rt.stops, stop)
		}
		// The shared queue (issue 15), after the sender it wakes; off unless
		// odoo.accept_requests.
		if stop := startOdooQueue(cfg, secrets, st, svc, clock, log.With("component", "odoo-queue"), userAgent, paths.DataDir); stop != nil {
			rt.stops = append(rt.stops, stop)
		}
	}
	log.Info("runtime started", "listen", listener.Addr(), "callback_url", rt.CallbackURL(), "workers", opts.Workers)
	return rt, nil
}
