package app_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// gate holds the fake n8n's answer to the POSTs of chosen requests until
// released, so a test can act while a send is in flight.
type gate struct {
	mu      sync.Mutex
	held    map[string]bool
	release chan struct{}
	once    sync.Once
}

func holdPOSTs(t *testing.T, fake *n8ntest.Server, ids ...string) *gate {
	g := &gate{held: map[string]bool{}, release: make(chan struct{})}
	for _, id := range ids {
		g.held[id] = true
	}
	fake.BeforeAck(func(rec n8ntest.Received) {
		g.mu.Lock()
		hold := g.held[rec.Header.Get("Idempotency-Key")]
		g.mu.Unlock()
		if hold {
			<-g.release
		}
	})
	t.Cleanup(g.open) // never leave a handler blocked
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// postsOf counts the POSTs the fake n8n received for one request.
func postsOf(fake *n8ntest.Server, id string) int {
	n := 0
	for _, rec := range fake.Requests() {
		if rec.Header.Get("Idempotency-Key") == id {
			n++
		}
	}
	return n
}

// Issue 11, item 1, one process: the wall clock jumps far past any lease
// (a laptop suspended mid-send, or a very slow n8n) while a POST is open,
// and Wake() runs recovery: the request must not be POSTed a second time.
func TestAWallClockJumpDuringASlowPOSTNeverSendsTheRequestTwice(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.runSender(t)
	slow := r.submit(t, 1)[0].ID
	g := holdPOSTs(t, r.fake, slow)
	waitFor(t, "the POST to be open at n8n", func() bool { return postsOf(r.fake, slow) == 1 })

	// Two jumps, each followed by a full sender pass (a probe request sent
	// by that pass marks its end): the first pass notes the lease, the
	// second would recover it if the process took its own send for stale.
	for i := range 2 {
		r.clock.Advance(2 * time.Hour)
		probe := r.submit(t, 1)[0].ID // Submit rings Wake
		waitFor(t, "probe "+probe+" to be processing", func() bool { return r.get(t, probe).Status == app.StatusProcessing })
		if n := postsOf(r.fake, slow); n != 1 {
			t.Fatalf("after clock jump %d the slow request was POSTed %d times while its first POST was open, want 1", i+1, n)
		}
	}
	got := r.get(t, slow)
	if got.Status != app.StatusSending || got.SendAttempts != 1 || slices.Contains(r.kinds(t, slow), app.ActivityRecovered) {
		t.Errorf("slow request: %s, %d attempts, activity %v; want sending, 1 attempt, never recovered", got.Status, got.SendAttempts, r.kinds(t, slow))
	}
	g.open()
	waitFor(t, "the slow request to be accepted", func() bool { return r.get(t, slow).Status == app.StatusProcessing })
}

// Issue 11, item 1, two processes: B reads a stuck request for recovery;
// meanwhile A recovers it and claims it again with a live POST; B's move
// back to queued must then change nothing.
func TestRecoveryRacingAnotherProcessesClaimChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "influencegen.db")
	clock := newFakeClock()
	fake := n8ntest.New(t, n8ntest.Options{})
	a := newRigOn(t, path, clock, fake, "test-api-key")
	b := newRigOn(t, path, clock, fake, "test-api-key")
	id := a.submit(t, 1)[0].ID
	// A third process claimed it and was killed with its POST in flight.
	if _, err := a.db.Transition(t.Context(), app.Change{ID: id, To: app.StatusSending, CountAttempt: true, ClaimBy: "4242-crashed"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*app.Sender{a.sender, b.sender} { // both note the lease
		if n, err := s.Recover(t.Context()); err != nil || n != 0 {
			t.Fatalf("first look recovered %d (%v), want 0", n, err)
		}
	}
	clock.Advance(app.DefaultLeaseTTL)
	g := holdPOSTs(t, fake, id)

	aSent := make(chan []app.Request, 1)
	b.sender.SetRecoveryHook(func(stale []app.Request) {
		if len(stale) != 1 || stale[0].ID != id {
			t.Errorf("B found %v stale, want %s", stale, id)
			return
		}
		// Between B's read and B's compare-and-set: A recovers and re-sends.
		if n, err := a.sender.Recover(t.Context()); err != nil || n != 1 {
			t.Errorf("A recovered %d (%v), want 1", n, err)
		}
		go func() {
			out, _ := a.sender.SendRequests(t.Context(), []string{id})
			aSent <- out
		}()
		waitFor(t, "A's POST to be open", func() bool { return postsOf(fake, id) == 1 })
	})
	if n, err := b.sender.Recover(t.Context()); err != nil || n != 0 {
		t.Errorf("B recovered %d (%v) a request A had just claimed, want 0", n, err)
	}
	// B's sender runs too: nothing queued is left for it to send.
	if out, err := b.sender.SendRequests(t.Context(), []string{id}); err != nil || out[0].Status != app.StatusSending {
		t.Errorf("B's send: %v (%v)", out, err)
	}
	got := a.get(t, id)
	if got.Status != app.StatusSending || got.SendAttempts != 2 {
		t.Errorf("request is %s with %d attempts, want sending with 2 (the crashed one and A's)", got.Status, got.SendAttempts)
	}
	recovered := 0
	for _, k := range a.kinds(t, id) {
		if k == app.ActivityRecovered {
			recovered++
		}
	}
	if recovered != 1 || postsOf(fake, id) != 1 {
		t.Errorf("%d recovered activities and %d POSTs in flight, want 1 and 1", recovered, postsOf(fake, id))
	}
	g.open()
	if out := <-aSent; len(out) != 1 || out[0].Status != app.StatusProcessing {
		t.Errorf("A's send ended as %v, want processing", out)
	}
}

// A send whose POST stays open for many lease periods keeps renewing its
// lease, so another process never recovers it.
func TestALongSendKeepsItsLeaseAgainstAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "influencegen.db")
	clock := newFakeClock()
	fake := n8ntest.New(t, n8ntest.Options{})
	a := newRigOn(t, path, clock, fake, "test-api-key")
	b := newRigOn(t, path, clock, fake, "test-api-key")
	id := a.submit(t, 1)[0].ID
	g := holdPOSTs(t, fake, id)
	aSent := make(chan []app.Request, 1)
	go func() {
		out, _ := a.sender.SendRequests(t.Context(), []string{id})
		aSent <- out
	}()
	waitFor(t, "A's POST to be open", func() bool { return postsOf(fake, id) == 1 })
	beat := a.get(t, id).LeaseBeat
	for range 12 { // three lease periods, one heartbeat at a time
		if n, err := b.sender.Recover(t.Context()); err != nil || n != 0 {
			t.Fatalf("B recovered %d (%v) a live send", n, err)
		}
		next := clock.Now().Add(app.DefaultLeaseTTL / 4)
		waitFor(t, "A's heartbeat timer", func() bool { return clock.WaitingUntil(next) })
		clock.Advance(app.DefaultLeaseTTL / 4)
		waitFor(t, "A's heartbeat", func() bool { return a.get(t, id).LeaseBeat > beat })
		beat = a.get(t, id).LeaseBeat
	}
	if n, err := b.sender.Recover(t.Context()); err != nil || n != 0 {
		t.Fatalf("B recovered %d (%v) a live send", n, err)
	}
	g.open()
	if out := <-aSent; len(out) != 1 || out[0].Status != app.StatusProcessing || postsOf(fake, id) != 1 {
		t.Errorf("A's send ended as %v after %d POSTs, want processing after 1", out, postsOf(fake, id))
	}
}

// A sender that stood still past its lease (its heartbeat never ran) and
// was recovered by another process does not record its stale outcome over
// the new holder's send.
func TestASenderThatLostItsLeaseDoesNotRecordItsOutcome(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	if _, err := r.db.Transition(t.Context(), app.Change{ID: id, To: app.StatusSending, CountAttempt: true, ClaimBy: "old-holder"}); err != nil {
		t.Fatal(err)
	}
	_, err := r.db.Transition(t.Context(), app.Change{ID: id, To: app.StatusInitiationFailed, HeldBy: "not-the-holder",
		ErrorCode: "n8n_unreachable", ErrorMessage: "x"})
	if app.ErrorCode(err) != app.ECONFLICT || app.ErrorReason(err) != "send_lease_lost" {
		t.Errorf("outcome of a sender without the lease: %v, want a send_lease_lost conflict", err)
	}
	if got := r.get(t, id); got.Status != app.StatusSending || got.LeaseOwner != "old-holder" {
		t.Errorf("request is %s held by %q", got.Status, got.LeaseOwner)
	}
}
