package sshd

import (
	"context"
	"time"

	"github.com/influencegen/influencegen/app"
)

// relayBus gives one session its own bus fed from the host's. Every event
// reaches every session, so at 20 callbacks/s 16 dashboards each reload a
// row, the header and the activity per event; the relay passes the first
// event of a burst at once, then gathers the rest for a window and
// publishes them deduplicated, or, past burst request events, as a single
// "reload the list" hint. Events are hints (the dashboard reloads from the
// store), so merging them loses nothing but repeated reads.
func relayBus(ctx context.Context, host *app.Bus, window time.Duration, burst int) *app.Bus {
	if host == nil {
		return nil
	}
	out := app.NewBus()
	sub := host.Subscribe(ctx, 1024)
	go func() {
		var (
			pending []app.Event
			seen    = map[app.Event]bool{}
			timer   <-chan time.Time
		)
		flush := func() {
			requests := 0
			for _, ev := range pending {
				if ev.Kind == app.EventRequest {
					requests++
				}
			}
			merged := requests > burst
			for _, ev := range pending {
				if merged && (ev.Kind == app.EventRequest || ev.Kind == app.EventActivity) {
					continue
				}
				out.Publish(ev)
			}
			if merged {
				out.Publish(app.Event{Kind: app.EventRequest})  // "" = reload the list page
				out.Publish(app.Event{Kind: app.EventActivity}) // and the activity screen if open
			}
			pending = pending[:0]
			clear(seen)
		}
		for {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					return
				}
				if sub.Resync() {
					// The host bus dropped events for us: ask for a full reload.
					ev = app.Event{Kind: app.EventRequest}
				}
				if timer == nil {
					out.Publish(ev) // the first of a burst goes at once
					timer = time.After(window)
					continue
				}
				if !seen[ev] {
					seen[ev] = true
					pending = append(pending, ev)
				}
			case <-timer:
				flush()
				timer = nil
			}
		}
	}()
	return out
}
