package n8n

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Limits of the rejection log: forged or broken traffic must never become a
// write storm, so each (source, status) pair is recorded at most once per
// window, and at most rejectionBurst rows are written per window overall.
const (
	rejectionWindow = time.Minute
	rejectionBurst  = 30
	rejectionKeys   = 1024 // remembered pairs; older ones are forgotten first
)

// rejectionLog turns refused callbacks into activity rows, so the
// dashboard's activity view shows who was turned away and why. It records
// the reason and the source address only: never a token, header or body.
type rejectionLog struct {
	store app.ActivityStore
	bus   *app.Bus
	log   *slog.Logger
	now   func() time.Time

	mu          sync.Mutex
	last        map[string]time.Time
	windowStart time.Time
	written     int
	wg          sync.WaitGroup
}

func newRejectionLog(store app.ActivityStore, bus *app.Bus, log *slog.Logger, now func() time.Time) *rejectionLog {
	return &rejectionLog{store: store, bus: bus, log: log, now: now, last: map[string]time.Time{}}
}

// record notes one refused callback. It never blocks the reply: the write
// runs on its own goroutine, and throttled repeats are only counted in the
// log file.
func (r *rejectionLog) record(source string, status int, message string) {
	if !r.admit(source, status) {
		return
	}
	a := app.Activity{
		Kind:    app.ActivityCallbackRejected,
		Level:   app.LevelWarn,
		Message: fmt.Sprintf("callback from %s refused with HTTP %d: %s", source, status, message),
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.store.AppendActivity(ctx, a); err != nil {
			r.log.Debug("could not record a refused callback", "err", err)
			return
		}
		r.bus.Publish(app.Event{Kind: app.EventActivity})
	}()
}

// admit applies the per-pair and overall limits.
func (r *rejectionLog) admit(source string, status int) bool {
	now := r.now()
	key := fmt.Sprintf("%s|%d", source, status)
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.windowStart) >= rejectionWindow {
		r.windowStart, r.written = now, 0
	}
	if t, ok := r.last[key]; ok && now.Sub(t) < rejectionWindow {
		return false
	}
	if r.written >= rejectionBurst {
		return false
	}
	if len(r.last) >= rejectionKeys {
		for k, t := range r.last {
			if now.Sub(t) >= rejectionWindow {
				delete(r.last, k)
			}
		}
		if len(r.last) >= rejectionKeys {
			return false // every remembered pair is recent: an attack; the log file has it
		}
	}
	r.last[key] = now
	r.written++
	return true
}

// wait lets in-flight writes finish (the listener's Close, and tests).
func (r *rejectionLog) wait() { r.wg.Wait() }
