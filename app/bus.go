package app

import (
	"context"
	"sync"
	"sync/atomic"
)

// Event is a hint that something changed: subscribers reload what they show
// from the store, so a dropped event only delays a refresh.
type Event struct {
	Kind      string // EventRequest, EventActivity, EventSync, EventListener, EventSecrets
	RequestID string // the request concerned, if any
}

// Event kinds.
const (
	EventRequest  = "request"  // a request's state, images or sync changed
	EventActivity = "activity" // an activity row was appended
	EventSync     = "sync"     // the Odoo outbox changed
	EventListener = "listener" // the listener's address or self-check changed
	EventSecrets  = "secrets"  // a secret was set, rotated or deleted
)

// Bus fans events out to subscribers without ever blocking the publisher:
// an HTTP handler or worker must not wait on a slow terminal.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscription receives events on C until its context ends, when C is closed.
type Subscription struct {
	C      <-chan Event
	ch     chan Event
	resync atomic.Bool
}

// Resync reports (and clears) whether events were dropped since the last
// call; the subscriber should then reload everything it shows.
func (s *Subscription) Resync() bool { return s.resync.Swap(false) }

// Subscribe registers a subscriber with a buffer of size events.
func (b *Bus) Subscribe(ctx context.Context, size int) *Subscription {
	if size < 1 {
		size = 1
	}
	ch := make(chan Event, size)
	s := &Subscription{C: ch, ch: ch}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, s)
		close(s.ch)
		b.mu.Unlock()
	})
	return s
}

// Publish delivers ev to every subscriber that has room and marks the
// others for resync. It never blocks.
func (b *Bus) Publish(ev Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.ch <- ev:
		default:
			s.resync.Store(true)
		}
	}
}
