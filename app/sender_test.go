package app_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func TestSubmittedRequestsAreSentAndBecomeProcessing(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.fake.SetAckBody([]byte(`{"execution_id":"exec-9"}`))
	r.runSender(t)
	reqs := r.submit(t, 3)
	for _, q := range reqs {
		waitFor(t, q.ID+" processing", func() bool { return r.get(t, q.ID).Status == app.StatusProcessing })
		got := r.get(t, q.ID)
		if got.SentAt == nil || got.ExecutionID != "exec-9" || got.SendAttempts != 1 {
			t.Errorf("%s: sent_at %v, execution %q, attempts %d", q.ID, got.SentAt, got.ExecutionID, got.SendAttempts)
		}
		if k := r.kinds(t, q.ID); !slices.Equal(k, []string{app.ActivityCreated, app.ActivitySent, app.ActivityAccepted}) {
			t.Errorf("%s activity = %v", q.ID, k)
		}
	}
	var keys []string
	for _, rec := range r.fake.Requests() {
		keys = append(keys, rec.Header.Get("Idempotency-Key"))
		if rec.JSON()["callback_url"] != "http://127.0.0.1:8787"+app.CallbackPath {
			t.Errorf("callback_url = %v", rec.JSON()["callback_url"])
		}
	}
	slices.Sort(keys)
	if len(keys) != 3 || keys[0] != reqs[0].ID || keys[2] != reqs[2].ID {
		t.Errorf("n8n received idempotency keys %v, want the three ids", keys)
	}
}

func TestSendingIsCommittedBeforeThePostLeaves(t *testing.T) {
	r := newRig(t, "test-api-key")
	seen := make(chan app.Request, 1)
	r.fake.BeforeAck(func(rec n8ntest.Received) {
		req, err := r.db.GetRequest(context.Background(), rec.Header.Get("Idempotency-Key"))
		if err != nil {
			t.Error(err)
		}
		seen <- req
	})
	reqs := r.submit(t, 1)
	if _, err := r.sender.SendRequests(t.Context(), []string{reqs[0].ID}); err != nil {
		t.Fatal(err)
	}
	atPost := <-seen
	if atPost.Status != app.StatusSending || atPost.SendAttempts != 1 {
		t.Errorf("while n8n held the POST the request was %s with %d attempts, want sending with 1", atPost.Status, atPost.SendAttempts)
	}
}

// Real n8n calls back 20–50 ms after its 202, often before the client read
// it. The fake's hook completes the request (what the callback ingest does)
// before the 202 is written; the late ack must not move it back.
func TestACallbackBeforeTheAckKeepsTheRequestCompleted(t *testing.T) {
	for _, final := range []app.Status{app.StatusCompleted, app.StatusFailed, app.StatusCancelled} {
		t.Run("a request "+string(final)+" before the ack stays "+string(final), func(t *testing.T) {
			r := newRig(t, "test-api-key")
			r.fake.BeforeAck(func(rec n8ntest.Received) {
				c := app.Change{ID: rec.Header.Get("Idempotency-Key"), To: final}
				if final == app.StatusFailed {
					c.ErrorCode, c.ErrorMessage = "generation_failed", "boom"
				}
				if _, err := r.db.Transition(context.Background(), c); err != nil {
					t.Errorf("callback: %v", err)
				}
			})
			reqs := r.submit(t, 1)
			out, err := r.sender.SendRequests(t.Context(), []string{reqs[0].ID})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Status != final {
				t.Errorf("after the late ack the request is %s, want %s", out[0].Status, final)
			}
			if slices.Contains(r.kinds(t, reqs[0].ID), app.ActivityAccepted) {
				t.Error("the refused ack still wrote an accepted activity")
			}
		})
	}
}

func TestARejectedSendIsInitiationFailedWithReasonAndRemedy(t *testing.T) {
	r := newRig(t, "wrong-api-key")
	reqs := r.submit(t, 1)
	out, err := r.sender.SendRequests(t.Context(), []string{reqs[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	got := out[0]
	if got.Status != app.StatusInitiationFailed || got.ErrorCode != "n8n_auth" || !strings.Contains(got.ErrorMessage, "influencegen secrets set n8n-api-key") {
		t.Errorf("got %s %s %q", got.Status, got.ErrorCode, got.ErrorMessage)
	}
	if k := r.kinds(t, got.ID); k[len(k)-1] != app.ActivityInitiationFailed {
		t.Errorf("activity = %v", k)
	}
}

func TestSenderSendsAtMostConcurrencyRequestsAtOnce(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.sender.Concurrency = 2
	var inFlight, most atomic.Int64
	gate := make(chan struct{})
	r.fake.BeforeAck(func(n8ntest.Received) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-gate
		inFlight.Add(-1)
	})
	reqs := r.submit(t, 6)
	ids := make([]string, len(reqs))
	for i, q := range reqs {
		ids[i] = q.ID
	}
	done := make(chan []app.Request, 1)
	go func() {
		out, _ := r.sender.SendRequests(t.Context(), ids)
		done <- out
	}()
	for released := 0; released < 6; released++ {
		want := min(released+2, 6)
		waitFor(t, "requests in flight", func() bool { return r.fake.Count() >= want })
		gate <- struct{}{}
	}
	out := <-done
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d requests were in flight, want 2", m)
	}
	for _, q := range out {
		if q.Status != app.StatusProcessing {
			t.Errorf("%s is %s", q.ID, q.Status)
		}
	}
}

func TestStartupRecoveryReSendsAStaleSendingRequestOnceWithTheSameID(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 2)
	crashed, fresh := reqs[0].ID, reqs[1].ID
	// A crashed process claimed the first request and died with the POST in flight.
	if _, err := r.db.Transition(t.Context(), app.Change{ID: crashed, To: app.StatusSending, CountAttempt: true}); err != nil {
		t.Fatal(err)
	}
	r.runSender(t)
	// The first pass sends the fresh request and notes the crashed one's
	// lease; only a lease that stands still for LeaseTTL is recovered.
	waitFor(t, "the fresh request processing", func() bool { return r.get(t, fresh).Status == app.StatusProcessing })
	if s := r.get(t, crashed).Status; s != app.StatusSending {
		t.Fatalf("the crashed send was recovered before its lease stood still for a lease period: %s", s)
	}
	r.clock.Advance(app.DefaultLeaseTTL)
	r.svc.Wake()
	waitFor(t, "the crashed request processing", func() bool { return r.get(t, crashed).Status == app.StatusProcessing })
	got := r.get(t, crashed)
	if got.SendAttempts != 2 {
		t.Errorf("send attempts = %d, want 2 (the lost one and the re-send)", got.SendAttempts)
	}
	if k := r.kinds(t, crashed); !slices.Equal(k, []string{app.ActivityCreated, app.ActivityRecovered, app.ActivitySent, app.ActivityAccepted}) {
		t.Errorf("activity = %v", k)
	}
	sends := 0
	for _, rec := range r.fake.Requests() {
		if rec.Header.Get("Idempotency-Key") == crashed {
			sends++
		}
	}
	if sends != 1 {
		t.Errorf("the recovered request was posted %d times, want once", sends)
	}
}

func TestRecoveryLeavesALiveSendOfAnotherProcessAlone(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 1)
	if _, err := r.db.Transition(t.Context(), app.Change{ID: reqs[0].ID, To: app.StatusSending, CountAttempt: true}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(30 * time.Second) // well within one send
	n, err := r.sender.Recover(t.Context())
	if err != nil || n != 0 || r.get(t, reqs[0].ID).Status != app.StatusSending {
		t.Errorf("recovered %d (%v); state %s, want the live send left alone", n, err, r.get(t, reqs[0].ID).Status)
	}
}

func TestStoppingTheSenderRequeuesAnInterruptedSend(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.fake.SetFault(n8ntest.Slow)
	stop := r.runSender(t)
	reqs := r.submit(t, 1)
	waitFor(t, "the POST to reach n8n", func() bool { return r.fake.Count() == 1 })
	stop() // returns only after the interrupted send recorded its outcome
	got := r.get(t, reqs[0].ID)
	if got.Status != app.StatusQueued {
		t.Errorf("after shutdown the request is %s, want queued for a re-send", got.Status)
	}
	if k := r.kinds(t, got.ID); k[len(k)-1] != app.ActivityRecovered {
		t.Errorf("activity = %v", k)
	}
}

func TestThePeriodicScanPicksUpRequestsQueuedElsewhere(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.sender.ScanEvery = time.Minute
	r.runSender(t)
	// Another process stored a request: no wake-up reaches this sender.
	other := app.Request{Params: app.GenerationParams{Prompt: "elsewhere", Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: 5, NumImages: 1}}
	reqs := []app.Request{other}
	if err := r.db.CreateRequests(t.Context(), reqs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sender to wait for its next scan", func() bool { return r.clock.Pending() > 0 })
	r.clock.Advance(time.Minute)
	waitFor(t, "the scan to send it", func() bool { return r.get(t, reqs[0].ID).Status == app.StatusProcessing })
}
