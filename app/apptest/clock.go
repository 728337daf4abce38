// Package apptest holds test doubles of app's small interfaces for the tests
// of every package, as net/http/httptest does for net/http. It imports only
// app's own package and the standard library, and non-test code never
// imports it.
package apptest

import (
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Clock is an app.Clock that moves only when told: Advance moves it and
// fires the After channels it passes, so tests of timeouts, grace windows
// and backoff never sleep.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

var _ app.Clock = (*Clock)(nil)

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock has been advanced by d.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock by d and fires every After it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// Pending counts the After channels that have not fired yet.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitingWithin reports whether an After that has not fired yet fires
// in [from, to]: for a worker whose wake-up may be clipped a few ns early.
func (c *Clock) WaitingWithin(from, to time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if !w.at.Before(from) && !w.at.After(to) {
			return true
		}
	}
	return false
}

// WaitingUntil reports whether an After that has not fired yet fires
// exactly at at: a test learns that a worker armed its timer for a given
// deadline before it moves the clock there.
func (c *Clock) WaitingUntil(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if w.at.Equal(at) {
			return true
		}
	}
	return false
}
