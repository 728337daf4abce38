package n8n

import (
	"strconv"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	clock := newSettableClock()
	t.Run("twenty failures a minute are tolerated, the twenty-first blocks", func(t *testing.T) {
		l := newFailureLimiter(clock.Now)
		for range authFailureLimit {
			l.Fail("203.0.113.1")
		}
		if blocked, _ := l.Blocked("203.0.113.1"); blocked {
			t.Fatal("blocked after exactly the limit")
		}
		l.Fail("203.0.113.1")
		blocked, wait := l.Blocked("203.0.113.1")
		if !blocked || wait <= 0 || wait > authFailureWindow {
			t.Fatalf("Blocked = %v, %v; want blocked for up to a minute", blocked, wait)
		}
		if blocked, _ := l.Blocked("203.0.113.2"); blocked {
			t.Fatal("another source is blocked too")
		}
		clock.Advance(authFailureWindow)
		if blocked, _ := l.Blocked("203.0.113.1"); blocked {
			t.Fatal("still blocked after the window")
		}
	})
	t.Run("a flood from many addresses keeps memory bounded", func(t *testing.T) {
		l := newFailureLimiter(clock.Now)
		for i := range maxTrackedSources + 500 {
			l.Fail("src-" + strconv.Itoa(i))
			if i%1000 == 0 {
				clock.Advance(time.Millisecond)
			}
		}
		if n := len(l.sources); n > maxTrackedSources {
			t.Fatalf("tracking %d sources, limit %d", n, maxTrackedSources)
		}
	})
}
