package n8n

import (
	"sync"
	"time"
)

// authFailureLimit is how many failed authentications one source may make
// per window before it is answered 429 without checking anything.
const (
	authFailureLimit  = 20
	authFailureWindow = time.Minute
	maxTrackedSources = 10000
)

// failureLimiter counts authentication failures per source in a fixed
// window. It bounds its memory: a flood from many addresses evicts the
// oldest windows instead of growing without limit.
type failureLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	limit   int
	window  time.Duration
	sources map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

func newFailureLimiter(now func() time.Time) *failureLimiter {
	return &failureLimiter{now: now, limit: authFailureLimit, window: authFailureWindow, sources: map[string]*failureWindow{}}
}

// Blocked reports whether source is over the limit and, if so, when it
// may try again.
func (l *failureLimiter) Blocked(source string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.sources[source]
	if w == nil {
		return false, 0
	}
	now := l.now()
	end := w.start.Add(l.window)
	if !now.Before(end) {
		delete(l.sources, source)
		return false, 0
	}
	if w.count > l.limit {
		return true, end.Sub(now)
	}
	return false, 0
}

// Fail records one failure of source.
func (l *failureLimiter) Fail(source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.sources[source]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		if w == nil && len(l.sources) >= maxTrackedSources {
			l.evictLocked(now)
		}
		w = &failureWindow{start: now}
		l.sources[source] = w
	}
	w.count++
}

// evictLocked drops expired windows, and if none expired, the oldest one.
func (l *failureLimiter) evictLocked(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, w := range l.sources {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.sources, k)
			continue
		}
		if oldestKey == "" || w.start.Before(oldest) {
			oldestKey, oldest = k, w.start
		}
	}
	if len(l.sources) >= maxTrackedSources && oldestKey != "" {
		delete(l.sources, oldestKey)
	}
}
