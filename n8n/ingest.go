package n8n

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Ingest worker tuning.
const (
	ingestBatch = 64
	// ingestMaxInFlight bounds the deliveries processed at once. It is
	// below ingestBatch so that a page of pending deliveries always holds
	// new work when the in-flight ones are slow to fetch.
	ingestMaxInFlight = 32
	// ingestWorkers bounds the CPU-bound part of ingest (storing inline
	// images) on a machine whose cores also serve the acks (issue 17).
	// Downloads are not counted: they wait on the network.
	ingestWorkers      = 2
	ingestPoll         = 5 * time.Second // also the retry spacing when recording a failure fails
	errorCodeN8NFailed = "generation_failed"
	// An error code and an execution id are short tokens; anything longer
	// is clipped, not stored whole.
	maxErrorCode   = 128
	maxExecutionID = 256
)

// IngestOptions configure the ingest worker.
type IngestOptions struct {
	Store   app.Store
	Files   app.ImageFiles
	Fetcher *Fetcher
	Bus     *app.Bus
	Clock   app.Clock
	Log     *slog.Logger
	// ImageDeadline bounds the fetching of all images of one delivery
	// (callback.image_deadline); zero means the default.
	ImageDeadline time.Duration
}

// Ingester processes the durable callback inbox after the ack: it stores
// the images by content and moves the request to its final state, images,
// state, activity and Odoo outbox in one transaction. Because it reads
// from the inbox, a delivery acked just before a crash is processed at the
// next start. The backoff after a processing error is kept by the store
// (DeliveryFailed), which leaves such deliveries out of PendingDeliveries
// until they are due: failing deliveries never crowd out newer ones.
//
// Deliveries never wait for each other: each is processed on its own
// goroutine (up to ingestMaxInFlight at once) with its own deadline for
// its images, and a new delivery starts as soon as it is committed, even
// while an older one is still downloading from a slow host.
type Ingester struct {
	opts IngestOptions
	wake chan struct{}
	cpu  chan struct{} // ingestWorkers slots for inline images

	mu       sync.Mutex
	inFlight map[int64]bool
}

// NewIngester returns a worker; call Run to start it.
func NewIngester(opts IngestOptions) *Ingester {
	if opts.Clock == nil {
		opts.Clock = app.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.ImageDeadline <= 0 {
		opts.ImageDeadline = time.Duration(app.DefaultConfig().Callback.ImageDeadline)
	}
	return &Ingester{opts: opts, wake: make(chan struct{}, 1), cpu: make(chan struct{}, ingestWorkers), inFlight: map[int64]bool{}}
}

// Notify wakes the worker after a delivery commits. It never blocks.
func (in *Ingester) Notify() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// Run processes pending deliveries until ctx ends: at once (crash
// recovery), whenever Notify is called, and every few seconds for retries.
// It starts deliveries and goes back to waiting without waiting for them;
// each one that ends wakes it again to take the next. On return every
// delivery it started has finished.
func (in *Ingester) Run(ctx context.Context) {
	var running sync.WaitGroup
	defer running.Wait()
	// Before anything new is written: image files a crash may have lost
	// (written without fsync) are re-created from their callbacks.
	if n, err := in.RecoverImages(ctx); err != nil {
		in.opts.Log.Error("ingest: checking image files written without fsync failed", "err", err)
	} else if n > 0 {
		in.opts.Log.Warn("ingest: image files re-created after a crash", "count", n)
	}
	if parked, ok := in.opts.Store.(app.ParkedDeliveries); ok {
		// A restart is the moment a person has fixed the cause (disk,
		// permissions): each parked callback gets one more attempt.
		if n, err := parked.RetryParkedDeliveries(ctx); err != nil {
			in.opts.Log.Error("ingest: retrying parked callbacks failed", "err", err)
		} else if n > 0 {
			in.opts.Log.Warn("ingest: retrying parked callbacks once", "count", n)
		}
	}
	for {
		if err := in.dispatch(ctx, &running); err != nil && ctx.Err() == nil {
			in.opts.Log.Error("ingest: reading pending deliveries failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		case <-in.opts.Clock.After(ingestPoll):
		}
	}
}

// dispatch starts every due delivery that is not already in flight, up to
// ingestMaxInFlight in all.
func (in *Ingester) dispatch(ctx context.Context, running *sync.WaitGroup) error {
	room := in.room()
	if room == 0 {
		return nil // a delivery that ends calls Notify
	}
	todo, err := in.take(ctx, room)
	for _, d := range todo {
		running.Go(func() {
			out := in.process(ctx, d)
			in.release(d.ID)
			if out != outcomeStuck {
				in.Notify() // a slot is free; a stuck one waits for the poll
			}
		})
	}
	return err
}

// take claims up to limit due deliveries that are not in flight and loads
// them. It runs after every commit while most of the pending page is in
// flight, so it reads the page's ids from the index and the bodies of
// only the deliveries it claims.
func (in *Ingester) take(ctx context.Context, limit int) ([]app.Delivery, error) {
	ids, err := in.opts.Store.PendingDeliveryIDs(ctx, ingestBatch)
	if err != nil {
		return nil, err
	}
	claimed := in.claim(ids, limit)
	if len(claimed) == 0 {
		return nil, nil
	}
	todo, err := in.opts.Store.LoadDeliveries(ctx, claimed)
	if err != nil {
		for _, id := range claimed {
			in.release(id)
		}
		return nil, err
	}
	// A claimed delivery that is gone (deleted with its request) is not
	// in flight.
	loaded := make(map[int64]bool, len(todo))
	for _, d := range todo {
		loaded[d.ID] = true
	}
	for _, id := range claimed {
		if !loaded[id] {
			in.release(id)
		}
	}
	return todo, nil
}

// ProcessPending handles every due pending delivery and returns how many
// it completed, waiting for them all (tests and one-shot commands; the
// worker uses Run). It reads page after page while pages come back full
// and the last one made progress: each processed delivery leaves the
// pending set, and each failed one whose failure was recorded is not due
// again for a while. A page of deliveries that could not even record their
// failure (the database refusing writes) ends the pass; the next poll
// tries again.
func (in *Ingester) ProcessPending(ctx context.Context) (int, error) {
	total := 0
	for {
		todo, err := in.take(ctx, ingestBatch)
		if err != nil {
			return total, err
		}
		if len(todo) == 0 {
			return total, nil
		}
		var wg sync.WaitGroup
		var done sync.Mutex
		progress := false
		sem := make(chan struct{}, ingestMaxInFlight)
		for _, d := range todo {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				out := in.process(ctx, d)
				in.release(d.ID)
				done.Lock()
				if out == outcomeProcessed {
					total++
				}
				progress = progress || out != outcomeStuck
				done.Unlock()
			})
		}
		wg.Wait()
		if ctx.Err() != nil || len(todo) < ingestBatch || !progress {
			return total, ctx.Err()
		}
	}
}

func (in *Ingester) room() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return max(ingestMaxInFlight-len(in.inFlight), 0)
}

// claim marks up to limit ids of pending as in flight and returns them;
// those already in flight are skipped.
func (in *Ingester) claim(pending []int64, limit int) []int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	var todo []int64
	for _, id := range pending {
		if len(todo) >= limit {
			break
		}
		if in.inFlight[id] {
			continue
		}
		in.inFlight[id] = true
		todo = append(todo, id)
	}
	return todo
}

func (in *Ingester) release(id int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.inFlight, id)
}

// outcome is what became of one delivery in one attempt.
type outcome int

const (
	outcomeProcessed outcome = iota // committed: it left the pending set
	outcomeRetrying                 // failed, failure recorded: not due for a while
	outcomeStuck                    // failed, and the failure could not be recorded
)

// process handles one delivery. A failure that may pass (disk, database)
// is recorded on the delivery, which stays pending and is retried after a
// backoff; a result that cannot be obtained (bad image, dead URL) is final
// and fails the request instead.
func (in *Ingester) process(ctx context.Context, d app.Delivery) outcome {
	log := in.opts.Log.With("delivery", d.ID, "request", d.RequestID)
	// The body is what n8n sent (or, in rows older than issue 17, the
	// normalised callback): one parse either way.
	cb, err := ParseCallback(d.Body)
	if err != nil {
		return in.failed(ctx, log, d, fmt.Errorf("delivery body is not a callback: %w", err))
	}
	// The request's state came with the delivery (one query for the
	// page); CompleteDelivery checks it again in its transaction.
	state := d.RequestStatus
	if state == "" {
		return in.failed(ctx, log, d, app.Errorf(app.ENOTFOUND, "request %s is gone", d.RequestID))
	}

	var images []app.Image
	var imageErr error
	if cb.Status == CallbackSuccess && !finishedElsewhere(state) {
		images, imageErr = in.storeImages(ctx, d.RequestID, cb)
		if imageErr != nil && app.ErrorCode(imageErr) == app.EINTERNAL {
			return in.failed(ctx, log, d, imageErr)
		}
	}
	for attempt := 0; ; attempt++ {
		result := decide(d, state, cb, images, imageErr, in.opts.Clock.Now())
		updated, err := in.opts.Store.CompleteDelivery(ctx, result)
		if err == nil {
			log.Info("callback processed", "status", updated.Status, "images", len(result.Images))
			in.opts.Bus.Publish(app.Event{Kind: app.EventRequest, RequestID: d.RequestID})
			in.opts.Bus.Publish(app.Event{Kind: app.EventActivity, RequestID: d.RequestID})
			if updated.OdooID != 0 || len(result.Images) > 0 || result.To != "" {
				in.opts.Bus.Publish(app.Event{Kind: app.EventSync, RequestID: d.RequestID})
			}
			return outcomeProcessed
		}
		// The state moved under us (the user cancelled, or another delivery
		// finished it): decide again on the fresh state, once.
		if app.ErrorCode(err) != app.ECONFLICT || attempt > 0 {
			return in.failed(ctx, log, d, fmt.Errorf("complete delivery: %w", err))
		}
		req, err := in.opts.Store.GetRequest(ctx, d.RequestID)
		if err != nil {
			return in.failed(ctx, log, d, fmt.Errorf("reload request: %w", err))
		}
		state = req.Status
	}
}

func finishedElsewhere(s app.Status) bool { return s == app.StatusCompleted || s == app.StatusFailed }

// failed records a processing error on the delivery; the store then keeps
// it out of PendingDeliveries until its retry time.
func (in *Ingester) failed(ctx context.Context, log *slog.Logger, d app.Delivery, err error) outcome {
	if ctx.Err() != nil {
		return outcomeStuck // shutting down: the delivery stays pending for the next start
	}
	log.Error("ingest: delivery will be retried", "attempts", d.Attempts+1, "err", app.OutsideLine(err.Error()))
	if ferr := in.opts.Store.DeliveryFailed(ctx, d.ID, app.ClipText(app.CleanLine(err.Error()), 500)); ferr != nil {
		log.Error("ingest: recording the failure failed", "err", ferr)
		return outcomeStuck
	}
	return outcomeRetrying
}

// decide turns a callback and its request's current state into the one
// transaction that records it (DESIGN §3).
func decide(d app.Delivery, state app.Status, cb Callback, images []app.Image, imageErr error, now time.Time) app.IngestResult {
	// Everything n8n wrote is data: cleaned of control characters and
	// clipped before it is stored (app/text.go).
	cb.ErrorMessage = app.OutsideText(cb.ErrorMessage)
	cb.ErrorCode = app.ClipText(app.CleanLine(cb.ErrorCode), maxErrorCode)
	res := app.IngestResult{DeliveryID: d.ID, RequestID: d.RequestID, ExecutionID: app.ClipText(app.CleanLine(cb.ExecutionID), maxExecutionID)}
	act := func(kind, level, format string, args ...any) {
		res.Activities = append(res.Activities, app.Activity{RequestID: d.RequestID, Kind: kind, Level: level, Message: fmt.Sprintf(format, args...), CreatedAt: now})
	}
	act(app.ActivityCallback, app.LevelInfo, "callback received: %s%s", cb.Status, imageCount(len(cb.Images)))

	switch {
	case finishedElsewhere(state):
		act(app.ActivityCallbackRejected, app.LevelWarn, "callback ignored: the request is already %s", state)
		return res
	case state == app.StatusCancelled:
		// The user's decision stands; the pictures are kept in case they
		// are wanted after all.
		res.Images = images
		act(app.ActivityLateResult, app.LevelInfo, "late result for a cancelled request: %s%s kept, state stays cancelled", cb.Status, imageCount(len(images)))
		return res
	case state == app.StatusTimedOut:
		act(app.ActivityLateResult, app.LevelInfo, "late result after the request had timed out")
	case state == app.StatusQueued:
		act(app.ActivityLateResult, app.LevelWarn, "result arrived while the request was queued to be sent again: n8n had run it already; accepted, it is not sent again")
	case state == app.StatusInitiationFailed:
		act(app.ActivityLateResult, app.LevelWarn, "result arrived although the request was initiation_failed: n8n ran it even though the webhook call failed; accepted")
	case state == app.StatusSending:
		act(app.ActivityLateResult, app.LevelInfo, "result arrived while the request was sending, before n8n's answer to the webhook call was read; accepted")
	}

	if cb.Status == CallbackFailed {
		res.To = app.StatusFailed
		res.ErrorCode = cb.ErrorCode
		if res.ErrorCode == "" {
			res.ErrorCode = errorCodeN8NFailed
		}
		res.ErrorMessage = cb.ErrorMessage
		act(app.ActivityFailed, app.LevelError, "n8n reported a failure: %s", cb.ErrorMessage)
		return res
	}
	for _, img := range images {
		act(app.ActivityImageStored, app.LevelInfo, "image %d stored: %d×%d %s, %d bytes, sha256 %s", img.Sequence+1, img.Width, img.Height, img.MimeType, img.Bytes, img.SHA256[:12])
	}
	if len(images) == 0 {
		res.To = app.StatusFailed
		res.ErrorCode = app.ReasonImageUnavailable
		res.ErrorMessage = "no image could be obtained: " + app.ErrorMessage(imageErr)
		act(app.ActivityFailed, app.LevelError, "%s", res.ErrorMessage)
		return res
	}
	res.To = app.StatusCompleted
	res.Images = images
	if imageErr != nil {
		act(app.ActivityCallback, app.LevelWarn, "%d of %d images could not be obtained: %s", len(cb.Images)-len(images), len(cb.Images), app.ErrorMessage(imageErr))
	}
	act(app.ActivityCompleted, app.LevelInfo, "completed with %s", strings.TrimPrefix(imageCount(len(images)), ", "))
	return res
}

func imageCount(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", 1 image"
	}
	return fmt.Sprintf(", %d images", n)
}
