package sshd

import (
	"context"
	"time"

	"github.com/influencegen/influencegen/app"
)

// hostFeed is the one subscriber to the host's bus on behalf of every
// session. Every outside event reaches every session, so at 20 callbacks/s
// 16 dashboards would each reload a row, the header and the activity per
// event, each at its own moment. The feed passes the first event of a burst
// at once, then gathers the rest for a window and publishes them
// deduplicated, or, past burst request events, as a single "reload the
// list" hint, on one bus all the sessions' dashboards subscribe to. Events
// are hints (a dashboard reloads from the store), so merging them loses
// nothing but repeated reads.
//
// Before it publishes, it starts a new epoch of the shared reads, so every
// session reacting to the same events reads the same fresh data once
// between them (see sharedReads). Between events it samples the database's
// data version, which a write by another process (the CLI, a second serve)
// changes; the sessions' dashboards poll that sampled version, as they poll
// the real one on a laptop.
type hostFeed struct {
	bus   *app.Bus
	reads *sharedReads
}

// newHostFeed starts the feed; it stops when ctx ends.
func newHostFeed(ctx context.Context, host *app.Bus, reads *sharedReads, window time.Duration, burst int, sample time.Duration) *hostFeed {
	f := &hostFeed{bus: app.NewBus(), reads: reads}
	var sub *app.Subscription
	if host != nil {
		sub = host.Subscribe(ctx, 1024)
	}
	go f.run(ctx, sub, window, burst, sample)
	return f
}

func (f *hostFeed) run(ctx context.Context, sub *app.Subscription, window time.Duration, burst int, sample time.Duration) {
	var (
		pending []app.Event
		seen    = map[app.Event]bool{}
		timer   <-chan time.Time
		events  <-chan app.Event
	)
	if sub != nil {
		events = sub.C
	}
	poll := time.NewTicker(sample)
	defer poll.Stop()
	flush := func() {
		requests := 0
		for _, ev := range pending {
			if ev.Kind == app.EventRequest {
				requests++
			}
		}
		merged := requests > burst
		f.reads.advance(ctx)
		for _, ev := range pending {
			if merged && (ev.Kind == app.EventRequest || ev.Kind == app.EventActivity) {
				continue
			}
			f.bus.Publish(ev)
		}
		if merged {
			f.bus.Publish(app.Event{Kind: app.EventRequest})  // "" = reload the list page
			f.bus.Publish(app.Event{Kind: app.EventActivity}) // and the activity screen if open
		}
		pending = pending[:0]
		clear(seen)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			f.reads.sample(ctx)
		case ev, ok := <-events:
			if !ok {
				return
			}
			if sub.Resync() {
				// The host bus dropped events for us: ask for a full reload.
				ev = app.Event{Kind: app.EventRequest}
			}
			if timer == nil {
				pending = append(pending, ev) // the first of a burst goes at once
				flush()
				timer = time.After(window)
				continue
			}
			if !seen[ev] {
				seen[ev] = true
				pending = append(pending, ev)
			}
		case <-timer:
			if len(pending) > 0 {
				flush()
			}
			timer = nil
		}
	}
}
