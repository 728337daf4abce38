package odoo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

// pausingClient holds the first request-model write (or upsert) it sees
// until released: a syncer stopped between its read of the request and
// its write to Odoo, the window of issue 11 §2.
type pausingClient struct {
	odoo.Client
	methods []string // default: the request model's write and upsert
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func newPausingClient(c odoo.Client) *pausingClient {
	return &pausingClient{Client: c, reached: make(chan struct{}), release: make(chan struct{})}
}

func (p *pausingClient) Call(ctx context.Context, model, method string, ids []int64, args []odoo.Arg, out any) error {
	match := model == reqModel && (method == "write" || method == odoo.UpsertMethod)
	if p.methods != nil {
		match = slices.Contains(p.methods, method)
	}
	if match {
		first := false
		p.once.Do(func() { first = true })
		if first {
			close(p.reached)
			select {
			case <-p.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return p.Client.Call(ctx, model, method, ids, args, out)
}

// twoHandles opens one database file twice, as `serve` and `influencegen
// sync now` do from two processes.
func twoHandles(t *testing.T, clock app.Clock) (*store.DB, *store.DB, *store.ImageFiles) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "influencegen.db")
	open := func() *store.DB {
		st, err := store.Open(context.Background(), path, store.Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	return open(), open(), store.NewImageFiles(filepath.Join(dir, "images"))
}

// completeWithImage moves a processing request to completed with one
// image, as the ingest of a success callback does.
func completeWithImage(t *testing.T, st *store.DB, files *store.ImageFiles, id string) {
	t.Helper()
	ctx := context.Background()
	dID, _, err := st.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k-" + id, RequestID: id, Body: []byte(`{}`), Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sf, err := files.Save(ctx, bytes.NewReader(testPNG(t, 99, 8)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CompleteDelivery(ctx, app.IngestResult{DeliveryID: dID, RequestID: id, To: app.StatusCompleted,
		ExecutionID: "exec-race",
		Images: []app.Image{{RequestID: id, Sequence: 1, SHA256: sf.SHA256, Path: sf.Path, MimeType: sf.MimeType,
			Width: sf.Width, Height: sf.Height, Bytes: sf.Bytes, Source: "base64"}}}); err != nil {
		t.Fatal(err)
	}
}

// raceTwoSyncers plays issue 11 §2: syncer A reads the request as
// processing and stops before its write; the request completes; syncer B
// (another process on the same file) syncs; then A's write lands. It
// returns the state Odoo holds at the end, after both syncers drained.
// wrap (optional) wraps both syncers' stores.
func raceTwoSyncers(t *testing.T, wrap func(app.Store) app.Store, tweak func(*odoo.SyncOptions)) (string, *store.DB, *odootest.Server, app.Request) {
	t.Helper()
	ctx := context.Background()
	clock := newFakeClock()
	stA, stB, files := twoHandles(t, clock)
	fake := odootest.New(t, odootest.Config{})
	req := seed(t, stA, files, clock, 1, false, 0)[0]
	syncA := newSyncer(t, stA, fake, clock, odoo.ProtocolJSON2, tweak)
	drain(t, syncA, 5) // Odoo: queued
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to, CountAttempt: to == app.StatusSending}); err != nil {
			t.Fatal(err)
		}
	}

	var storeA, storeB app.Store = stA, stB
	if wrap != nil {
		storeA, storeB = wrap(stA), wrap(stB)
	}
	paused := newPausingClient(newClient(t, fake, odoo.ProtocolJSON2))
	racerA := newSyncer(t, storeA, fake, clock, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) {
		o.Client = paused
		if tweak != nil {
			tweak(o)
		}
	})
	doneA := make(chan error, 1)
	go func() { _, err := racerA.RunOnce(ctx); doneA <- err }()
	<-paused.reached // A has read "processing" and is about to write it

	completeWithImage(t, stB, files, req.ID)
	syncB := newSyncer(t, storeB, fake, clock, odoo.ProtocolJSON2, tweak)
	repB, errB := syncB.RunOnce(ctx)
	t.Logf("syncer B while A is paused: %+v, err %v", repB, errB)
	if _, lease := storeB.(app.Leases); lease && app.ErrorReason(errB) != app.ReasonLeaseHeld {
		t.Fatalf("syncer B ran while A held the lease: %+v, %v", repB, errB)
	}

	close(paused.release)
	if err := <-doneA; err != nil {
		t.Fatalf("syncer A: %v", err)
	}
	drain(t, syncB, 5)
	drain(t, newSyncer(t, storeA, fake, clock, odoo.ProtocolJSON2, tweak), 5)
	recs := fake.Records(reqModel)
	if len(recs) != 1 {
		t.Fatalf("Odoo holds %d records, want 1", len(recs))
	}
	state, _ := recs[0]["state"].(string)
	return state, stA, fake, req
}

func TestTwoSyncersOnOneFileLeaveOdooWithTheNewestState(t *testing.T) {
	state, st, fake, req := raceTwoSyncers(t, nil, func(o *odoo.SyncOptions) { o.LeaseWait = -1 })
	if state != string(app.StatusCompleted) {
		t.Fatalf("Odoo holds %q after the race, want completed (the local state)", state)
	}
	checkSynced(t, st, fake, []app.Request{req})
}

func TestSyncNowWaitsBrieflyThenSaysWhichProcessHoldsTheLease(t *testing.T) {
	ctx := context.Background()
	st, files := openStore(t, app.SystemClock{})
	seed(t, st, files, app.SystemClock{}, 1, false, 0)
	holder := app.LeaseOwner{Token: "serve-token", PID: 4242, Host: "studio-laptop"}
	if _, err := st.TryLease(ctx, app.LeaseOdooSync, holder, time.Hour); err != nil {
		t.Fatal(err)
	}
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, app.SystemClock{}, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) { o.LeaseWait = 300 * time.Millisecond })
	rep, err := s.RunOnce(ctx)
	if app.ErrorReason(err) != app.ReasonLeaseHeld || app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("RunOnce while serve holds the lease: %+v, %v; want %s", rep, err, app.ReasonLeaseHeld)
	}
	for _, want := range []string{"another influencegen process is syncing", "pid 4242 on studio-laptop since"} {
		if !strings.Contains(app.ErrorMessage(err), want) {
			t.Fatalf("message %q does not say %q", app.ErrorMessage(err), want)
		}
	}
	if fake.RPCs() != 0 {
		t.Fatalf("%d RPCs without the lease, want none", fake.RPCs())
	}
	// Once the holder lets go, the same call syncs.
	if err := st.ReleaseLease(ctx, app.LeaseOdooSync, holder.Token); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.RunOnce(ctx); err != nil || rep.Done != 1 {
		t.Fatalf("RunOnce after release: %+v, %v; want the item done", rep, err)
	}
}

// noLease hides the store's leases: a syncer on another machine (or any
// writer the lease cannot see) racing this one. Only Odoo's guard is left.
type noLease struct{ app.Store }

func TestAStaleWriteCannotWinInOdooEvenWithoutTheLease(t *testing.T) {
	state, st, fake, req := raceTwoSyncers(t, func(s app.Store) app.Store { return noLease{s} }, nil)
	if state != string(app.StatusCompleted) {
		t.Fatalf("Odoo holds %q after the race without a lease, want completed: the addon must refuse the older write", state)
	}
	checkSynced(t, st, fake, []app.Request{req})
}

func TestTwoSyncersAttachingOneImageLeaveOneAttachment(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	stA, stB, files := twoHandles(t, clock)
	fake := odootest.New(t, odootest.Config{})
	req := seed(t, stA, files, clock, 1, false, 0)[0]
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	completeWithImage(t, stA, files, req.ID)
	// A searched for the image, found none, and stops before uploading it.
	paused := newPausingClient(newClient(t, fake, odoo.ProtocolJSONRPC))
	paused.methods = []string{odoo.AttachMethod, "create"}
	syncA := newSyncer(t, noLease{stA}, fake, clock, odoo.ProtocolJSONRPC, func(o *odoo.SyncOptions) { o.Client = paused })
	doneA := make(chan error, 1)
	go func() { _, err := syncA.RunOnce(ctx); doneA <- err }()
	<-paused.reached
	drain(t, newSyncer(t, noLease{stB}, fake, clock, odoo.ProtocolJSONRPC, nil), 5)
	close(paused.release)
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Records("ir.attachment")); n != 1 {
		t.Fatalf("%d attachments for one image after two syncers uploaded it, want 1", n)
	}
	checkSynced(t, stA, fake, []app.Request{req})
}

func TestAnAddonWithoutTheGuardedMethodsParksWithTheUpgradeCommand(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			clock := newFakeClock()
			st, files := openStore(t, clock)
			seed(t, st, files, clock, 3, true, 8)
			fake := odootest.New(t, odootest.Config{OldAddon: true})
			rep := drain(t, newSyncer(t, st, fake, clock, protocol, nil), 5)
			if rep.Done != 0 || rep.Parked == 0 || rep.Retry != 0 {
				t.Fatalf("report %+v, want everything parked", rep)
			}
			for _, want := range []string{app.ReasonOdooAddonOutdated, "-u influence_gen_ai_integration", odoo.AddonVersion} {
				if !strings.Contains(rep.LastError, want) {
					t.Fatalf("last error %q does not say %q", rep.LastError, want)
				}
			}
			if n := len(fake.Records(reqModel)); n != 0 {
				t.Fatalf("%d records written unguarded to an old addon, want none", n)
			}
		})
	}
}

func TestASyncerThatLostItsLeaseMidBatchRecordsNothing(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	stA, stB, files := twoHandles(t, clock)
	fake := odootest.New(t, odootest.Config{})
	req := seed(t, stA, files, clock, 1, false, 0)[0]
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	completeWithImage(t, stA, files, req.ID)
	paused := newPausingClient(newClient(t, fake, odoo.ProtocolJSON2))
	syncA := newSyncer(t, stA, fake, clock, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) { o.Client = paused })
	doneA := make(chan error, 1)
	go func() { _, err := syncA.RunOnce(ctx); doneA <- err }()
	<-paused.reached
	// A hangs past its lease (a suspended laptop); another process takes it.
	clock.Advance(odoo.DefaultLeaseTTL + time.Second)
	other := app.LeaseOwner{Token: "other", PID: 7, Host: "h"}
	if _, err := stB.TryLease(ctx, app.LeaseOdooSync, other, time.Hour); err != nil {
		t.Fatal(err)
	}
	close(paused.release)
	if err := <-doneA; app.ErrorReason(err) != app.ReasonLeaseHeld {
		t.Fatalf("A after losing its lease: %v, want %s", err, app.ReasonLeaseHeld)
	}
	stats, err := stA.OutboxStats(ctx)
	if err != nil || stats.Pending == 0 || stats.Parked != 0 {
		t.Fatalf("outbox after A lost the lease: %+v, %v; want its items still due", stats, err)
	}
	if n := len(fake.Records(imgModel)); n != 0 {
		t.Fatalf("A went on to upload %d images without the lease, want it to stop", n)
	}
}
