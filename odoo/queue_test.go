package odoo_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

const queueModel = "influence_gen.ai_image_generation_request"

// wakeCounter is the sender's doorbell as the poller sees it, with the
// real Service's Cancel behind it.
type wakeCounter struct {
	*app.Service
	wakes atomic.Int32
}

func (w *wakeCounter) Wake() { w.wakes.Add(1) }

// queueHost is one host: its own store and poller on the shared fake.
type queueHost struct {
	st     *store.DB
	svc    *wakeCounter
	poller *odoo.Poller
}

func newQueueHost(t testing.TB, fake *odootest.Server, host string, clock app.Clock, limit int) *queueHost {
	t.Helper()
	st, _ := openStore(t, clock)
	cfg := app.DefaultConfig()
	svc := &wakeCounter{Service: &app.Service{Config: cfg, Store: st, Clock: clock, User: "tester"}}
	p := odoo.NewPoller(odoo.QueueOptions{Client: newClient(t, fake, "json2"), Store: st, Requests: svc, Config: cfg,
		Host: host, Clock: clock, Limit: limit})
	return &queueHost{st: st, svc: svc, poller: p}
}

func poll(t testing.TB, h *queueHost) odoo.QueueReport {
	t.Helper()
	rep, err := h.poller.PollOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func odooRow(t testing.TB, fake *odootest.Server, ext string) map[string]any {
	t.Helper()
	for _, r := range fake.Records(queueModel) {
		if r["external_id"] == ext {
			return r
		}
	}
	t.Fatalf("no Odoo record %s", ext)
	return nil
}

func TestPollerStoresClaimedRequestsUnderOdoosIDAndWakesTheSender(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	clock := newFakeClock()
	exts := []string{fake.Generate("a red cube", "Alice", nil),
		fake.Generate("a blue ball", "Bob", map[string]any{"resolution": "1152x896", "aspect_ratio": "", "seed": "4294967295",
			"num_images": 3})}
	h := newQueueHost(t, fake, "laptop/1", clock, 10)
	if rep := poll(t, h); rep.Claimed != 2 || rep.Stored != 2 {
		t.Fatalf("first poll %+v, want 2 claimed and stored", rep)
	}
	if h.svc.wakes.Load() != 1 {
		t.Errorf("sender woken %d times, want 1", h.svc.wakes.Load())
	}
	for i, ext := range exts {
		if !app.ValidID(ext) {
			t.Fatalf("fake Generate made %q, not a ULID", ext)
		}
		req, err := h.st.GetRequest(context.Background(), ext)
		if err != nil {
			t.Fatalf("request %s not stored under Odoo's id: %v", ext, err)
		}
		if req.Status != app.StatusQueued || req.OdooID != odooRow(t, fake, ext)["id"].(int64) {
			t.Errorf("%s: status %s odoo_id %d", ext, req.Status, req.OdooID)
		}
		if row := odooRow(t, fake, ext); row["claimed_by"] != "laptop/1" {
			t.Errorf("%s claimed_by %v", ext, row["claimed_by"])
		}
		want := []string{"Alice", "Bob"}[i]
		if req.RequestedBy != want {
			t.Errorf("%s requested_by %q, want %q", ext, req.RequestedBy, want)
		}
	}
	second, _ := h.st.GetRequest(context.Background(), exts[1])
	if p := second.Params; p.Width != 1152 || p.Height != 896 || p.Seed != 4294967295 || p.NumImages != 3 {
		t.Errorf("params %+v, want 1152x896 seed 4294967295 3 images", p)
	}
	// Its claims come back while Odoo still says queued; nothing is stored twice.
	if rep := poll(t, h); rep.Claimed != 2 || rep.Stored != 0 {
		t.Fatalf("second poll %+v, want the 2 own claims and nothing new", rep)
	}
	if h.svc.wakes.Load() != 1 {
		t.Errorf("sender woken %d times after an idle poll, want 1", h.svc.wakes.Load())
	}
	// The host published its models for Odoo's form, once.
	var names []any
	for _, m := range fake.Records("influence_gen.ai_model") {
		if m["active"] == true {
			names = append(names, m["name"])
		}
	}
	if fmt.Sprint(names) != fmt.Sprint([]any{"sdxl", "sd3.5-large", "flux-dev"}) {
		t.Errorf("published models %v", names)
	}
}

func TestAnIdlePollIsOneCall(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	h := newQueueHost(t, fake, "laptop/1", newFakeClock(), 10)
	poll(t, h) // publishes the models
	fake.ResetCounts()
	for range 5 {
		poll(t, h)
	}
	if n := fake.RPCs(); n != 5 {
		t.Errorf("5 idle polls cost %d RPCs, want 5", n)
	}
}

func TestTwoHostsPollingAtOnceTakeEachRequestOnce(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	want := map[string]bool{}
	for i := range 20 {
		want[fake.Generate(fmt.Sprintf("cube %d", i), "Alice", nil)] = true
	}
	clock := newFakeClock()
	hosts := []*queueHost{newQueueHost(t, fake, "host-a", clock, 3), newQueueHost(t, fake, "host-b", clock, 3)}
	var wg sync.WaitGroup
	for _, h := range hosts {
		// Each host holds at most its limit of unsent claims; it moves on as
		// its sender sends them and the sync tells Odoo ("sending").
		syncer := newSyncer(t, h.st, fake, clock, "json2", nil)
		wg.Go(func() {
			for range 20 {
				if _, err := h.poller.PollOnce(context.Background()); err != nil {
					t.Error(err)
					return
				}
				queued, err := h.st.RequestsInStatus(context.Background(), app.StatusQueued, time.Time{}, 100)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range queued {
					if _, err := h.st.Transition(context.Background(), app.Change{ID: r.ID, To: app.StatusSending}); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := syncer.RunOnce(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]string{}
	for i, h := range hosts {
		page, err := h.st.ListRequests(context.Background(), app.ListQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Requests {
			if other, dup := seen[r.ID]; dup {
				t.Errorf("%s stored by %s and host %d", r.ID, other, i)
			}
			seen[r.ID] = fmt.Sprint("host ", i)
			if row := odooRow(t, fake, r.ID); row["claimed_by"] != []string{"host-a", "host-b"}[i] {
				t.Errorf("%s stored by host %d but claimed_by %v", r.ID, i, row["claimed_by"])
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d of %d requests taken", len(seen), len(want))
	}
}

func TestAClaimWithoutProgressGoesToAnotherHostAfterTheTimeout(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC).UnixNano())
	fake := odootest.New(t, odootest.Config{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	ext := fake.Generate("a red cube", "Alice", nil)
	clock := newFakeClock()
	a, b := newQueueHost(t, fake, "host-a", clock, 10), newQueueHost(t, fake, "host-b", clock, 10)
	if rep := poll(t, a); rep.Stored != 1 {
		t.Fatalf("host-a %+v", rep)
	}
	now.Add(int64(9 * time.Minute))
	if rep := poll(t, b); rep.Claimed != 0 {
		t.Fatalf("host-b took a fresh claim: %+v", rep)
	}
	// host-a died before sending: after claim_timeout (10 min) it is released.
	now.Add(int64(2 * time.Minute))
	if rep := poll(t, b); rep.Stored != 1 {
		t.Fatalf("host-b after the timeout %+v, want the request", rep)
	}
	if by := odooRow(t, fake, ext)["claimed_by"]; by != "host-b" {
		t.Errorf("claimed_by %v, want host-b", by)
	}
	// A claim that made progress (the sync wrote "sending") is never released.
	ext2 := fake.Generate("a green cone", "Alice", nil)
	poll(t, a)
	syncer := newSyncer(t, a.st, fake, clock, "json2", nil)
	if _, err := a.st.Transition(context.Background(), app.Change{ID: ext2, To: app.StatusSending}); err != nil {
		t.Fatal(err)
	}
	if _, err := syncer.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(time.Hour))
	if rep := poll(t, b); rep.Claimed != 1 || rep.Stored != 0 {
		t.Errorf("host-b %+v: want only its own earlier claim back", rep)
	}
	if row := odooRow(t, fake, ext2); row["claimed_by"] != "host-a" || row["state"] != "sending" {
		t.Errorf("request in progress: %v %v", row["claimed_by"], row["state"])
	}
}

func TestAHostResumesItsClaimsAfterARestart(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	exts := []string{fake.Generate("one", "Alice", nil), fake.Generate("two", "Alice", nil)}
	// The process claimed, then died before storing anything.
	var lost any
	if err := newClient(t, fake, "json2").Call(context.Background(), queueModel, odoo.ClaimMethod, nil,
		[]odoo.Arg{odoo.Pos("host", "laptop/1"), odoo.Pos("limit", 10), odoo.Pos("timeout", 600)}, &lost); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	other := newQueueHost(t, fake, "laptop/2", clock, 10)
	if rep := poll(t, other); rep.Claimed != 0 {
		t.Fatalf("another host took claimed requests: %+v", rep)
	}
	restarted := newQueueHost(t, fake, "laptop/1", clock, 10)
	if rep := poll(t, restarted); rep.Stored != 2 {
		t.Fatalf("restarted host %+v, want its 2 claims stored", rep)
	}
	for _, ext := range exts {
		if _, err := restarted.st.GetRequest(context.Background(), ext); err != nil {
			t.Errorf("%s: %v", ext, err)
		}
	}
}

func TestCancelInOdooCancelsTheHostsRequestAndSyncsBack(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	clock := newFakeClock()
	h := newQueueHost(t, fake, "host-a", clock, 10)
	ext := fake.Generate("a red cube", "Alice", nil)
	poll(t, h)
	fake.CancelInOdoo(ext)
	if rep := poll(t, h); rep.Cancelled != 1 {
		t.Fatalf("poll after Cancel %+v, want 1 cancelled", rep)
	}
	req, _ := h.st.GetRequest(context.Background(), ext)
	if req.Status != app.StatusCancelled {
		t.Fatalf("local status %s, want cancelled", req.Status)
	}
	if _, err := newSyncer(t, h.st, fake, clock, "json2", nil).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if row := odooRow(t, fake, ext); row["state"] != "cancelled" {
		t.Errorf("Odoo state %v, want cancelled", row["state"])
	}
	if n := len(fake.Records(queueModel)); n != 1 {
		t.Errorf("%d Odoo records, want the one (the sync updated it by external_id)", n)
	}
	if rep := poll(t, h); rep.Cancelled != 0 {
		t.Errorf("a finished request was cancelled again: %+v", rep)
	}
}

func TestAHostClaimsOnlyItsModelsAndStoresWhatItCannotRunAsFailed(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	h := newQueueHost(t, fake, "host-a", newFakeClock(), 10)
	elsewhere := fake.Generate("a red cube", "Alice", map[string]any{"ai_model": "only-elsewhere"})
	if rep := poll(t, h); rep.Claimed != 0 {
		t.Fatalf("host-a claimed a request for a model it does not offer: %+v", rep)
	}
	if by := odooRow(t, fake, elsewhere)["claimed_by"]; by != nil {
		t.Errorf("claimed_by %v, want it left for a host that offers the model", by)
	}
	// Odoo checked it, but this host's rules refuse it (changed since, or
	// made past Generate): it fails visibly instead of bouncing between hosts.
	ext := fake.Generate("a red cube", "Alice", map[string]any{"resolution": "1000x1001", "aspect_ratio": ""})
	if rep := poll(t, h); rep.Stored != 1 {
		t.Fatalf("%+v", rep)
	}
	req, _ := h.st.GetRequest(context.Background(), ext)
	if req.Status != app.StatusFailed || req.ErrorCode != "invalid_params" {
		t.Errorf("status %s code %q, want failed invalid_params", req.Status, req.ErrorCode)
	}
}

func TestARecordThatCannotBeStoredDoesNotStopThePoller(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	h := newQueueHost(t, fake, "host-a", newFakeClock(), 10)
	fake.Generate("   ", "Alice", nil) // queued past Generate, with no prompt
	good := fake.Generate("a red cube", "Alice", nil)
	rep := poll(t, h)
	if rep.Claimed != 2 || rep.Stored != 1 {
		t.Fatalf("%+v: want both claimed, the good one stored", rep)
	}
	if _, err := h.st.GetRequest(context.Background(), good); err != nil {
		t.Error(err)
	}
}

func TestPollingAnAddonWithoutTheQueueSaysUpgrade(t *testing.T) {
	fake := odootest.New(t, odootest.Config{NoQueue: true})
	h := newQueueHost(t, fake, "host-a", newFakeClock(), 10)
	_, err := h.poller.PollOnce(context.Background())
	if app.ErrorReason(err) != app.ReasonOdooAddonOutdated {
		t.Fatalf("err %v (reason %s), want %s", err, app.ErrorReason(err), app.ReasonOdooAddonOutdated)
	}
}

func TestRunPollsAtOnceOnStart(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	clock := newFakeClock()
	h := newQueueHost(t, fake, "host-a", clock, 10)
	ext := fake.Generate("a red cube", "Alice", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.poller.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := h.st.GetRequest(ctx, ext); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not poll at once on start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDoctorShowsTheQueueWhenAcceptingRequests(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	fake.Generate("one", "Alice", nil)
	fake.Generate("two", "Alice", nil)
	fake.Generate("three", "Alice", nil)
	h := newQueueHost(t, fake, "host-a", newFakeClock(), 1)
	poll(t, h)
	accepting := func(c *app.Config) { c.Odoo.AcceptRequests = true }
	res, err := newERP(t, fake, accepting).Check(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("check %+v, %v", res, err)
	}
	last := res.Items[len(res.Items)-1]
	if last.Name != "queue" || !strings.Contains(last.Detail, "2 waiting, 1 claimed") {
		t.Errorf("last check %+v, want the queue with 2 waiting and 1 claimed", last)
	}
	res, _ = newERP(t, fake, nil).Check(context.Background())
	if res.Items[len(res.Items)-1].Name == "queue" {
		t.Error("the queue check runs with odoo.accept_requests off")
	}
	var models []odootest.Model
	for _, m := range odootest.DefaultModels(queueModel, "influence_gen.generated_image") {
		if m.Name != odoo.ModelModel {
			models = append(models, m)
		}
	}
	old := odootest.New(t, odootest.Config{NoQueue: true, Models: models})
	res, _ = newERP(t, old, accepting).Check(context.Background())
	if last := res.Items[len(res.Items)-1]; last.Name != "queue" || last.OK || last.Reason != app.ReasonOdooAddonOutdated {
		t.Errorf("old addon: last check %+v, want queue failing with %s", last, app.ReasonOdooAddonOutdated)
	}
}
