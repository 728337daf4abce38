package app

import (
	"context"
	"testing"
	"time"
)

func TestBusDeliversToEverySubscriber(t *testing.T) {
	bus := NewBus()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := bus.Subscribe(ctx, 4), bus.Subscribe(ctx, 4)
	bus.Publish(Event{Kind: EventRequest, RequestID: "X"})
	for _, s := range []*Subscription{a, b} {
		if ev := <-s.C; ev.RequestID != "X" {
			t.Fatalf("got %+v", ev)
		}
	}
}

func TestAFullSubscriberNeverBlocksThePublisherAndIsMarkedForResync(t *testing.T) {
	bus := NewBus()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := bus.Subscribe(ctx, 1)
	done := make(chan struct{})
	go func() {
		for range 100 {
			bus.Publish(Event{Kind: EventRequest})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a full subscriber")
	}
	if !s.Resync() {
		t.Fatal("dropped events must mark the subscriber for resync")
	}
	if s.Resync() {
		t.Fatal("Resync clears the mark")
	}
}

func TestCancellingTheContextEndsTheSubscription(t *testing.T) {
	bus := NewBus()
	ctx, cancel := context.WithCancel(context.Background())
	s := bus.Subscribe(ctx, 1)
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.C:
			if !ok {
				bus.Publish(Event{}) // must not panic on a closed channel
				return
			}
		case <-deadline:
			t.Fatal("channel not closed after cancel")
		}
	}
}

func TestPublishOnANilBusIsANoOp(t *testing.T) {
	var bus *Bus
	bus.Publish(Event{Kind: EventRequest})
}
