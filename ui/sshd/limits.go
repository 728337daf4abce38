package sshd

import (
	"fmt"
	"sync"
)

// sessionLimits caps the sessions of the host and of each member: every
// session holds a dashboard (a model, a store subscription, a renderer), so
// an unbounded number would let one client exhaust the host.
type sessionLimits struct {
	maxTotal, maxPerUser int

	mu      sync.Mutex
	total   int
	perUser map[string]int
}

func newSessionLimits(total, perUser int) *sessionLimits {
	return &sessionLimits{maxTotal: total, maxPerUser: perUser, perUser: map[string]int{}}
}

// acquire takes a slot for user, or says why there is none.
func (l *sessionLimits) acquire(user string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal {
		return nil, fmt.Errorf("the host is full (%d sessions, ssh.max_sessions): try again later", l.maxTotal)
	}
	if l.perUser[user] >= l.maxPerUser {
		return nil, fmt.Errorf("%s already has %d sessions open (ssh.max_per_user): close one first", user, l.maxPerUser)
	}
	l.total++
	l.perUser[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.perUser[user]--; l.perUser[user] <= 0 {
				delete(l.perUser, user)
			}
		})
	}, nil
}

func (l *sessionLimits) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
