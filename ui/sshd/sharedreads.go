package sshd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// sharedReads is the store as the host's sessions see it. Sessions looking
// at the same page ask the same questions at the same moments (the feed
// hands them the same events at once): the page of requests, the tab
// counts, the header's newest n8n outcome. Each distinct read is answered
// once per epoch and shared; concurrent identical reads wait for the one in
// flight instead of running 16 identical queries.
//
// An epoch ends whenever the feed publishes events (after their commits) or
// the sampled data version moves, so a session reacting to an event never
// gets an answer read before that event's commit. A read made between a
// commit and the feed's next epoch may see the state just before it; the
// event that follows makes every session read again. Writes and every
// other method go straight to the store.
type sharedReads struct {
	app.Store
	timeout time.Duration

	mu      sync.Mutex
	version int64 // the data version sampled when this epoch began
	reads   map[string]*sharedRead
}

type sharedRead struct {
	done chan struct{}
	val  any
	err  error
}

func newSharedReads(st app.Store) *sharedReads {
	s := &sharedReads{Store: st, timeout: 5 * time.Second, reads: map[string]*sharedRead{}}
	s.sample(context.Background())
	return s
}

// advance starts a new epoch: every later read goes to the store again.
func (s *sharedReads) advance(ctx context.Context) {
	v, err := s.realVersion(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.version = v
	}
	s.reads = map[string]*sharedRead{}
}

// sample starts a new epoch if the data version moved (a write by another
// process, or one of ours whose event is still on its way).
func (s *sharedReads) sample(ctx context.Context) {
	v, err := s.realVersion(ctx)
	if err != nil {
		return // the dashboards poll again; a failed read changes nothing
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v != s.version {
		s.version = v
		s.reads = map[string]*sharedRead{}
	}
}

func (s *sharedReads) realVersion(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.Store.DataVersion(ctx)
}

// DataVersion is the version sampled at the start of this epoch: the
// dashboards' polls see a change exactly when the shared answers renew.
func (s *sharedReads) DataVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, nil
}

// read answers key from this epoch's shared read, running load once. The
// load runs on its own deadline, not the first caller's context: a session
// that ends must not fail the others waiting on the same read.
func (s *sharedReads) read(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	s.mu.Lock()
	r, ok := s.reads[key]
	if !ok {
		r = &sharedRead{done: make(chan struct{})}
		s.reads[key] = r
		reads := s.reads
		s.mu.Unlock()
		go func() {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
			defer cancel()
			r.val, r.err = load(lctx)
			if r.err != nil {
				s.mu.Lock()
				if reads[key] == r {
					delete(reads, key) // the next caller tries again
				}
				s.mu.Unlock()
			}
			close(r.done)
		}()
	} else {
		s.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Each answer is copied for its caller: dashboards patch their rows in place.

func (s *sharedReads) ListRequests(ctx context.Context, q app.ListQuery) (app.Page, error) {
	v, err := s.read(ctx, fmt.Sprintf("list %#v", q), func(ctx context.Context) (any, error) { return s.Store.ListRequests(ctx, q) })
	if err != nil {
		return app.Page{}, err
	}
	p := v.(app.Page)
	p.Requests = slices.Clone(p.Requests)
	return p, nil
}

func (s *sharedReads) CountByStatusMatching(ctx context.Context, q app.ListQuery) (map[app.Status]int, error) {
	v, err := s.read(ctx, fmt.Sprintf("count %q %q", q.Search, q.RequestedBy), func(ctx context.Context) (any, error) { return s.Store.CountByStatusMatching(ctx, q) })
	if err != nil {
		return nil, err
	}
	return maps.Clone(v.(map[app.Status]int)), nil
}

func (s *sharedReads) CountByStatus(ctx context.Context) (map[app.Status]int, error) {
	v, err := s.read(ctx, "count all", func(ctx context.Context) (any, error) { return s.Store.CountByStatus(ctx) })
	if err != nil {
		return nil, err
	}
	return maps.Clone(v.(map[app.Status]int)), nil
}

func (s *sharedReads) GetRequest(ctx context.Context, id string) (app.Request, error) {
	v, err := s.read(ctx, "request "+id, func(ctx context.Context) (any, error) { return s.Store.GetRequest(ctx, id) })
	if err != nil {
		return app.Request{}, err
	}
	return v.(app.Request), nil
}

func (s *sharedReads) Images(ctx context.Context, requestID string) ([]app.Image, error) {
	v, err := s.read(ctx, "images "+requestID, func(ctx context.Context) (any, error) { return s.Store.Images(ctx, requestID) })
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]app.Image)), nil
}

func (s *sharedReads) ListActivity(ctx context.Context, q app.ActivityQuery) ([]app.Activity, error) {
	v, err := s.read(ctx, fmt.Sprintf("activity %#v", q), func(ctx context.Context) (any, error) { return s.Store.ListActivity(ctx, q) })
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]app.Activity)), nil
}

func (s *sharedReads) NewestN8NOutcome(ctx context.Context) (app.Activity, bool, error) {
	v, err := s.read(ctx, "n8n outcome", func(ctx context.Context) (any, error) {
		a, ok, err := s.Store.NewestN8NOutcome(ctx)
		return n8nOutcome{a, ok}, err
	})
	if err != nil {
		return app.Activity{}, false, err
	}
	o := v.(n8nOutcome)
	return o.a, o.ok, nil
}

// n8nOutcome is NewestN8NOutcome's answer as one shared value.
type n8nOutcome struct {
	a  app.Activity
	ok bool
}

func (s *sharedReads) OutboxStats(ctx context.Context) (app.OutboxStats, error) {
	v, err := s.read(ctx, "outbox", func(ctx context.Context) (any, error) { return s.Store.OutboxStats(ctx) })
	if err != nil {
		return app.OutboxStats{}, err
	}
	return v.(app.OutboxStats), nil
}

func (s *sharedReads) CountCuration(ctx context.Context, q app.ListQuery) (app.CurationCounts, error) {
	v, err := s.read(ctx, fmt.Sprintf("curation %#v", q), func(ctx context.Context) (any, error) { return s.Store.CountCuration(ctx, q) })
	if err != nil {
		return app.CurationCounts{}, err
	}
	return v.(app.CurationCounts), nil
}

func (s *sharedReads) CountRequests(ctx context.Context, q app.ListQuery) (int, error) {
	q.Before, q.After = "", "" // a count ignores the cursor: one answer for every window
	v, err := s.read(ctx, fmt.Sprintf("count requests %#v", q), func(ctx context.Context) (any, error) { return s.Store.CountRequests(ctx, q) })
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// Batches is shared per second as well as per epoch: the ETA in each
// summary moves with the clock even when nothing is written.
func (s *sharedReads) Batches(ctx context.Context, ids []string, now time.Time) (map[string]app.Batch, error) {
	v, err := s.read(ctx, fmt.Sprintf("batches %q %d", ids, now.Unix()), func(ctx context.Context) (any, error) { return s.Store.Batches(ctx, ids, now) })
	if err != nil {
		return nil, err
	}
	return maps.Clone(v.(map[string]app.Batch)), nil
}
