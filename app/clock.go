package app

import "time"

// Clock is injected wherever time decides behaviour (timeouts, grace
// windows, backoff), so tests can move time instead of sleeping.
type Clock interface {
	Now() time.Time
	// After waits like time.After; fakes fire it when time is advanced.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time                         { return time.Now() }
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
