package sshd

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
)

// authenticator maps a public key to a team member, reading team.toml on
// every attempt so edits apply to the next connection without a restart.
type authenticator struct {
	team    func() (app.Team, error)
	parse   func(line string) (gossh.PublicKey, error)
	log     *slog.Logger
	limiter *failureLimiter
}

// lookup returns the member owning key. A team file that does not parse
// refuses everyone: guessing with a half-read file could admit a removed key.
func (a *authenticator) lookup(key gossh.PublicKey) (app.Actor, bool) {
	team, err := a.team()
	if err != nil {
		a.log.Error("team.toml is invalid: refusing every SSH login until it is fixed", "err", err)
		return app.Actor{}, false
	}
	want := key.Marshal()
	for _, u := range team.Users {
		for _, line := range u.Keys {
			pub, err := a.parse(line)
			if err == nil && bytes.Equal(pub.Marshal(), want) {
				return app.Actor{Name: u.Name, Role: u.Role}, true
			}
		}
	}
	return app.Actor{}, false
}

// allow is the public-key check. Failures count against the source
// address; past the limit every key from it is refused until the window
// passes. Logs carry the fingerprint, never the key.
func (a *authenticator) allow(remote net.Addr, key gossh.PublicKey) bool {
	source := hostOf(remote)
	if !a.limiter.allowed(source) {
		return false
	}
	if actor, ok := a.lookup(key); ok {
		return actor.Name != ""
	}
	if a.limiter.fail(source) {
		a.log.Warn("ssh: too many failed logins; refusing this source for a while", "source", source, "window", a.limiter.window)
	}
	a.log.Info("ssh: unknown key refused", "source", source, "key_type", key.Type(), "fingerprint", gossh.FingerprintSHA256(key))
	return false
}

func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// failureLimiter counts failed authentications per source address in a
// fixed window. Its map is bounded: old windows are dropped when it grows.
type failureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	sources map[string]*failures
}

type failures struct {
	count int
	since time.Time
}

const maxTrackedSources = 4096

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: time.Now, sources: map[string]*failures{}}
}

func (l *failureLimiter) allowed(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.sources[source]
	return f == nil || l.now().Sub(f.since) >= l.window || f.count < l.max
}

// fail records one failure and reports whether the source just reached
// the limit.
func (l *failureLimiter) fail(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.sources) >= maxTrackedSources {
		for s, f := range l.sources {
			if now.Sub(f.since) >= l.window {
				delete(l.sources, s)
			}
		}
		if len(l.sources) >= maxTrackedSources {
			clear(l.sources) // under a flood, forget rather than grow
		}
	}
	f := l.sources[source]
	if f == nil || now.Sub(f.since) >= l.window {
		f = &failures{since: now}
		l.sources[source] = f
	}
	f.count++
	return f.count == l.max
}
