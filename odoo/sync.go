package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Sync defaults (issue 5 §2).
const (
	DefaultBatchItems   = 1000     // outbox items per RunOnce (the store's cap)
	DefaultCallRecords  = 1000     // records per create/write call (Odoo inserts in batches of 100 itself)
	DefaultCallBytes    = 32 << 20 // base64 attachment bytes per call
	DefaultPollInterval = time.Second
	backoffBase         = time.Second
	backoffCap          = 5 * time.Minute
	searchChunk         = 1000 // ids per "in" domain

	// DefaultLeaseTTL is how long the sync lease lasts unless renewed. It
	// is renewed before an RPC once a quarter of it has passed, and one
	// RPC is bounded by CallTimeout (60 s), so a live syncer never lets it
	// run out; a killed one blocks others for at most this long.
	DefaultLeaseTTL = 2 * time.Minute
	// DefaultLeaseWait is how long RunOnce (`influencegen sync now`) waits
	// for another process's batch to end before saying who holds the lease.
	DefaultLeaseWait = 10 * time.Second
	leasePoll        = 250 * time.Millisecond
)

// SyncOptions configure a Syncer.
type SyncOptions struct {
	Client Client
	Store  app.Store
	Odoo   app.OdooConfig // RequestModel, ImageModel
	Clock  app.Clock
	Log    *slog.Logger
	Bus    *app.Bus // optional: EventSync after each batch that changed something

	BatchItems   int           // default DefaultBatchItems
	CallRecords  int           // default DefaultCallRecords
	CallBytes    int           // default DefaultCallBytes
	PollInterval time.Duration // default DefaultPollInterval
	// NoBatching makes every search, create and write carry one record:
	// the benchmark's baseline, never useful in production.
	NoBatching bool
	// Jitter returns a factor in [0.5, 1.5) applied to backoff delays;
	// tests fix it. Default: random.
	Jitter func() float64

	// Leases make one syncer per database file at a time, across
	// processes. Default: Store, when it implements app.Leases (the SQLite
	// store does); nil there means no lease (a store without one).
	Leases    app.Leases
	LeaseTTL  time.Duration // default DefaultLeaseTTL
	LeaseWait time.Duration // RunOnce only; default DefaultLeaseWait, <0 = do not wait
}

// Syncer drains the Odoo outbox (app.Syncer).
type Syncer struct {
	opts   SyncOptions
	client *countingClient
	kick   chan struct{}
	runMu  sync.Mutex // one batch at a time in this process; the lease does it across processes
	owner  app.LeaseOwner

	// Set under runMu for the batch that holds the lease.
	leaseRenewed time.Time
	leaseErr     error // the renewal that failed: the batch must not commit
}

var _ app.Syncer = (*Syncer)(nil)

// NewSyncer returns a syncer; nothing runs until Run or RunOnce.
func NewSyncer(opts SyncOptions) *Syncer {
	if opts.Clock == nil {
		opts.Clock = app.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.BatchItems <= 0 {
		opts.BatchItems = DefaultBatchItems
	}
	if opts.CallRecords <= 0 {
		opts.CallRecords = DefaultCallRecords
	}
	if opts.CallBytes <= 0 {
		opts.CallBytes = DefaultCallBytes
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.NoBatching {
		opts.CallRecords = 1
	}
	if opts.Jitter == nil {
		opts.Jitter = func() float64 { return 0.5 + rand.Float64() }
	}
	if opts.Leases == nil {
		opts.Leases, _ = opts.Store.(app.Leases)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.LeaseWait == 0 {
		opts.LeaseWait = DefaultLeaseWait
	}
	def := app.DefaultConfig().Odoo
	if opts.Odoo.RequestModel == "" {
		opts.Odoo.RequestModel = def.RequestModel
	}
	if opts.Odoo.ImageModel == "" {
		opts.Odoo.ImageModel = def.ImageModel
	}
	s := &Syncer{opts: opts, kick: make(chan struct{}, 1), owner: app.NewLeaseOwner(opts.Clock.Now())}
	s.client = &countingClient{Client: opts.Client, before: s.renewLease}
	return s
}

// Kick asks Run to look at the outbox now. It never blocks.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run syncs until ctx ends. A request event on the bus (a state change, an
// image) or a Kick starts a batch at once; otherwise the outbox is polled.
// While Odoo fails transiently it waits until the earliest rescheduled
// item is due instead of trying every new item at once: offline is normal
// and must not cost a timeout per change.
func (s *Syncer) Run(ctx context.Context) error {
	var events <-chan app.Event
	if s.opts.Bus != nil {
		events = s.opts.Bus.Subscribe(ctx, 64).C
	}
	for {
		rep, err := s.runOnce(ctx, 0)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // stopping: the round's error is the cancellation itself
		}
		wait := s.opts.PollInterval
		switch {
		case app.ErrorReason(err) == app.ReasonLeaseHeld:
			// Another process is syncing this file; it drains the same
			// outbox, so look again after the poll interval.
			s.opts.Log.Debug("odoo sync: another process holds the sync lease", "err", err)
		case err != nil:
			s.opts.Log.Warn("odoo sync: reading the outbox failed", "err", err)
		case rep.Retry > 0:
			if d := rep.NextDue.Sub(s.opts.Clock.Now()); d > wait {
				wait = d
			}
			// A kick must not cut an outage backoff short.
			select {
			case <-ctx.Done():
				return nil
			case <-s.opts.Clock.After(wait):
			}
			continue
		case rep.Items >= s.opts.BatchItems:
			continue // more is due: no pause between full batches
		}
		timer := s.opts.Clock.After(wait)
	waiting:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-s.kick:
				break waiting
			case <-timer:
				break waiting
			case ev, ok := <-events:
				if !ok {
					return nil
				}
				if ev.Kind == app.EventRequest {
					break waiting
				}
			}
		}
	}
}

// RunOnce syncs one batch of due outbox items. While another process
// holds the sync lease it waits up to LeaseWait for it, then fails with
// reason sync_lease_held naming the holder.
func (s *Syncer) RunOnce(ctx context.Context) (app.SyncReport, error) {
	return s.runOnce(ctx, max(s.opts.LeaseWait, 0))
}

func (s *Syncer) runOnce(ctx context.Context, leaseWait time.Duration) (app.SyncReport, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	release, err := s.takeLease(ctx, leaseWait)
	if err != nil {
		return app.SyncReport{Protocol: s.client.Protocol()}, err
	}
	defer release()
	start := s.client.n.Load()
	now := s.opts.Clock.Now()
	items, err := s.opts.Store.DueOutbox(ctx, now, s.opts.BatchItems)
	if err != nil || len(items) == 0 {
		return app.SyncReport{Protocol: s.client.Protocol()}, err
	}
	b := &batch{s: s, now: now, results: make(map[int64]error, len(items)), jitter: s.opts.Jitter()}
	b.run(ctx, items)
	if s.leaseErr != nil {
		// The lease was lost mid-batch (expired and taken, or the store
		// failed): another syncer may own these items now. Record
		// nothing; the items stay due, and replaying them is harmless.
		return app.SyncReport{Items: len(items), RPCs: int(s.client.n.Load() - start)}, s.leaseErr
	}
	if ctx.Err() != nil {
		// Shutting down: leave the items due; replaying them is harmless
		// because Odoo's upsert and attach skip what they already hold.
		return app.SyncReport{Items: len(items), RPCs: int(s.client.n.Load() - start)}, ctx.Err()
	}
	rep, err := b.commit(ctx, items)
	rep.RPCs = int(s.client.n.Load() - start)
	rep.Protocol = s.client.Protocol()
	if s.opts.Bus != nil {
		s.opts.Bus.Publish(app.Event{Kind: app.EventSync})
	}
	if rep.Parked > 0 || rep.Retry > 0 {
		s.opts.Log.Warn("odoo sync", "items", rep.Items, "done", rep.Done, "retry", rep.Retry, "parked", rep.Parked, "rpcs", rep.RPCs, "err", rep.LastError)
	} else {
		s.opts.Log.Info("odoo sync", "items", rep.Items, "done", rep.Done, "rpcs", rep.RPCs)
	}
	return rep, err
}

// batch is the work of one RunOnce: results maps each outbox item to nil
// (synced) or the error that stopped it.
type batch struct {
	s       *Syncer
	now     time.Time
	jitter  float64
	results map[int64]error
	// images are those the batch's image and decision items name, read
	// in one query (imagesErr if that read failed).
	images    map[int64]app.Image
	imagesErr error
}

func (b *batch) run(ctx context.Context, items []app.OutboxItem) {
	// Group by request in first-seen order; an image waits for its
	// request's record, so upserts run first for every request involved.
	var order []string
	seen := map[string]bool{}
	upsertItems := map[string][]int64{}
	var imageItems, decisionItems []app.OutboxItem
	for _, it := range items {
		if !seen[it.RequestID] {
			seen[it.RequestID] = true
			order = append(order, it.RequestID)
		}
		switch it.Kind {
		case app.OutboxUpsertRequest:
			upsertItems[it.RequestID] = append(upsertItems[it.RequestID], it.ID)
		case app.OutboxImage:
			imageItems = append(imageItems, it)
		case app.OutboxImageDecision:
			decisionItems = append(decisionItems, it)
		default:
			b.results[it.ID] = app.Errorf(app.EINVALID, "unknown outbox kind %q (written by a newer version?)", it.Kind)
		}
	}
	// One read for the batch's requests and one for its images.
	reqs, err := b.s.opts.Store.GetRequestsByID(ctx, order)
	if err != nil {
		// The database's error, not one request's: every item waits.
		for _, it := range items {
			if _, decided := b.results[it.ID]; !decided {
				b.results[it.ID] = err
			}
		}
		return
	}
	b.images, b.imagesErr = b.loadImages(ctx, append(slices.Clip(imageItems), decisionItems...))
	var toUpsert []app.Request
	for _, id := range order {
		r, ok := reqs[id]
		if !ok {
			continue // deleted: its outbox rows go with it
		}
		// Every request of the batch is upserted, image-only ones too: the
		// search costs no extra call, and it finds the record again if it
		// was deleted in Odoo after we stored its id.
		toUpsert = append(toUpsert, r)
	}
	odooIDs, reqErrs := b.upsertRequests(ctx, toUpsert)
	for id, err := range reqErrs {
		for _, itemID := range upsertItems[id] {
			b.results[itemID] = err
		}
	}
	for id, itemIDs := range upsertItems {
		if _, failed := reqErrs[id]; !failed {
			for _, itemID := range itemIDs {
				b.results[itemID] = nil
			}
		}
	}
	b.syncImages(ctx, imageItems, reqs, odooIDs, reqErrs)
	// After the uploads: a decision on an image attached in this batch
	// finds it in Odoo.
	b.syncDecisions(ctx, decisionItems, reqs, odooIDs, reqErrs)
}

// commit writes the outcome: done, rescheduled with backoff (grouped by
// next attempt), or parked (grouped by message) — a handful of store
// writes per batch, not one per item.
func (b *batch) commit(ctx context.Context, items []app.OutboxItem) (app.SyncReport, error) {
	rep := app.SyncReport{Items: len(items)}
	var done []int64
	type key struct {
		msg  string
		next time.Time
	}
	retry := map[key][]int64{}
	park := map[string][]int64{}
	var parkedActivity []app.Activity
	for _, it := range items {
		err, ok := b.results[it.ID]
		switch {
		case !ok || err == nil:
			done = append(done, it.ID)
		case Transient(err):
			k := key{msg: app.ErrorMessage(err), next: b.now.Add(b.backoff(it.Attempts))}
			retry[k] = append(retry[k], it.ID)
			if rep.NextDue.IsZero() || k.next.Before(rep.NextDue) {
				rep.NextDue = k.next
			}
			rep.LastError = k.msg
		default:
			msg := app.ErrorMessage(err)
			if r := app.ErrorReason(err); r != "" && r != app.ErrorCode(err) {
				msg = r + ": " + msg
			}
			park[msg] = append(park[msg], it.ID)
			parkedActivity = append(parkedActivity, app.Activity{RequestID: it.RequestID, Kind: app.ActivitySyncError,
				Level: app.LevelError, Message: "Odoo sync parked: " + msg, CreatedAt: b.now})
			rep.LastError = msg
		}
	}
	st := b.s.opts.Store
	var errs []error
	if len(done) > 0 {
		errs = append(errs, st.OutboxDone(ctx, done, b.now))
		rep.Done = len(done)
	}
	for k, ids := range retry {
		errs = append(errs, st.OutboxRetryLater(ctx, ids, k.msg, k.next))
		rep.Retry += len(ids)
	}
	for msg, ids := range park {
		errs = append(errs, st.OutboxPark(ctx, ids, msg, b.now))
		rep.Parked += len(ids)
	}
	if len(parkedActivity) > 0 {
		errs = append(errs, st.AppendActivity(ctx, parkedActivity...))
	}
	return rep, errors.Join(errs...)
}

// backoff is 1 s doubling per attempt up to 5 min, times the batch's
// jitter so many clients do not return to a recovering Odoo in lockstep.
func (b *batch) backoff(attempts int) time.Duration {
	d := backoffBase
	for i := 0; i < attempts && d < backoffCap; i++ {
		d *= 2
	}
	d = time.Duration(float64(min(d, backoffCap)) * b.jitter)
	return min(d, backoffCap)
}

// countingClient counts RPCs for the report and the benchmark, and runs
// before (the lease renewal) ahead of each one.
type countingClient struct {
	Client
	n      atomic.Int64
	before func(ctx context.Context) error
}

func (c *countingClient) Call(ctx context.Context, model, method string, ids []int64, args []Arg, out any) error {
	if c.before != nil {
		if err := c.before(ctx); err != nil {
			return err
		}
	}
	c.n.Add(1)
	return c.Client.Call(ctx, model, method, ids, args, out)
}

// imagePayload is the payload of an image outbox item.
type imagePayload struct {
	ImageID int64 `json:"image_id"`
}

func parseImagePayload(raw json.RawMessage) (int64, error) {
	var p imagePayload
	if err := json.Unmarshal(raw, &p); err != nil || p.ImageID <= 0 {
		return 0, app.Errorf(app.EINVALID, "image outbox item has payload %q, want {\"image_id\":N}", string(raw))
	}
	return p.ImageID, nil
}
