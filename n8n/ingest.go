package n8n

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Ingest worker tuning.
const (
	ingestBatch        = 64
	ingestConcurrency  = 8               // URL downloads overlap; SQLite writes are grouped by the store anyway
	ingestPoll         = 5 * time.Second // also the retry spacing when recording a failure fails
	errorCodeN8NFailed = "generation_failed"
)

// IngestOptions configure the ingest worker.
type IngestOptions struct {
	Store   app.Store
	Files   app.ImageFiles
	Fetcher *Fetcher
	Bus     *app.Bus
	Clock   app.Clock
	Log     *slog.Logger
}

// Ingester processes the durable callback inbox after the ack: it stores
// the images by content and moves the request to its final state, images,
// state, activity and Odoo outbox in one transaction. Because it reads
// from the inbox, a delivery acked just before a crash is processed at the
// next start. The backoff after a processing error is kept by the store
// (DeliveryFailed), which leaves such deliveries out of PendingDeliveries
// until they are due: failing deliveries never crowd out newer ones.
type Ingester struct {
	opts IngestOptions
	wake chan struct{}

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
	return &Ingester{opts: opts, wake: make(chan struct{}, 1), inFlight: map[int64]bool{}}
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
func (in *Ingester) Run(ctx context.Context) {
	for {
		if _, err := in.ProcessPending(ctx); err != nil && ctx.Err() == nil {
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

// ProcessPending handles every due pending delivery, and returns how many
// it completed. It reads page after page while pages come back full and
// the last one made progress: each processed delivery leaves the pending
// set, and each failed one whose failure was recorded is not due again
// for a while. A page of deliveries that could not even record their
// failure (the database refusing writes) ends the pass; the next poll
// tries again.
func (in *Ingester) ProcessPending(ctx context.Context) (int, error) {
	total := 0
	for {
		pending, err := in.opts.Store.PendingDeliveries(ctx, ingestBatch)
		if err != nil {
			return total, err
		}
		todo := in.claim(pending)
		if len(todo) == 0 {
			return total, nil
		}
		var wg sync.WaitGroup
		var done sync.Mutex
		progress := false
		sem := make(chan struct{}, ingestConcurrency)
		for _, d := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func(d app.Delivery) {
				defer wg.Done()
				defer func() { <-sem }()
				out := in.process(ctx, d)
				in.release(d)
				done.Lock()
				if out == outcomeProcessed {
					total++
				}
				progress = progress || out != outcomeStuck
				done.Unlock()
			}(d)
		}
		wg.Wait()
		if ctx.Err() != nil || len(pending) < ingestBatch || !progress {
			return total, ctx.Err()
		}
	}
}

func (in *Ingester) claim(pending []app.Delivery) []app.Delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	var todo []app.Delivery
	for _, d := range pending {
		if in.inFlight[d.ID] {
			continue
		}
		in.inFlight[d.ID] = true
		todo = append(todo, d)
	}
	return todo
}

func (in *Ingester) release(d app.Delivery) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.inFlight, d.ID)
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
	var cb Callback
	if err := json.Unmarshal(d.Body, &cb); err != nil {
		return in.failed(ctx, log, d, fmt.Errorf("delivery body is not a callback: %w", err))
	}
	req, err := in.opts.Store.GetRequest(ctx, d.RequestID)
	if err != nil {
		return in.failed(ctx, log, d, fmt.Errorf("load request: %w", err))
	}

	var images []app.Image
	var imageErr error
	if cb.Status == CallbackSuccess && !finishedElsewhere(req.Status) {
		images, imageErr = in.storeImages(ctx, req.ID, cb)
		if imageErr != nil && app.ErrorCode(imageErr) == app.EINTERNAL {
			return in.failed(ctx, log, d, imageErr)
		}
	}
	for attempt := 0; ; attempt++ {
		result := decide(d, req, cb, images, imageErr, in.opts.Clock.Now())
		updated, err := in.opts.Store.CompleteDelivery(ctx, result)
		if err == nil {
			log.Info("callback processed", "status", updated.Status, "images", len(result.Images))
			in.opts.Bus.Publish(app.Event{Kind: app.EventRequest, RequestID: req.ID})
			in.opts.Bus.Publish(app.Event{Kind: app.EventActivity, RequestID: req.ID})
			if updated.OdooID != 0 || len(result.Images) > 0 || result.To != "" {
				in.opts.Bus.Publish(app.Event{Kind: app.EventSync, RequestID: req.ID})
			}
			return outcomeProcessed
		}
		// The state moved under us (the user cancelled, or another delivery
		// finished it): decide again on the fresh state, once.
		if app.ErrorCode(err) != app.ECONFLICT || attempt > 0 {
			return in.failed(ctx, log, d, fmt.Errorf("complete delivery: %w", err))
		}
		if req, err = in.opts.Store.GetRequest(ctx, d.RequestID); err != nil {
			return in.failed(ctx, log, d, fmt.Errorf("reload request: %w", err))
		}
	}
}

func finishedElsewhere(s app.Status) bool { return s == app.StatusCompleted || s == app.StatusFailed }

// failed records a processing error on the delivery; the store then keeps
// it out of PendingDeliveries until its retry time.
func (in *Ingester) failed(ctx context.Context, log *slog.Logger, d app.Delivery, err error) outcome {
	if ctx.Err() != nil {
		return outcomeStuck // shutting down: the delivery stays pending for the next start
	}
	log.Error("ingest: delivery will be retried", "attempts", d.Attempts+1, "err", err)
	if ferr := in.opts.Store.DeliveryFailed(ctx, d.ID, clipText(err.Error(), 500)); ferr != nil {
		log.Error("ingest: recording the failure failed", "err", ferr)
		return outcomeStuck
	}
	return outcomeRetrying
}

// storeImages saves every image of a success callback. It returns the
// stored images and, if any could not be obtained, the first such error.
// An EINTERNAL error (disk, permissions) aborts: the delivery is retried.
func (in *Ingester) storeImages(ctx context.Context, requestID string, cb Callback) ([]app.Image, error) {
	var images []app.Image
	var firstErr error
	seen := map[string]bool{}
	for i, ci := range cb.Images {
		var stored app.StoredFile
		var err error
		source := "base64"
		if ci.Base64 != "" {
			stored, err = in.opts.Files.Save(ctx, base64Reader(ci.Base64))
		} else {
			source = "url"
			if in.opts.Fetcher == nil {
				err = app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "image URLs cannot be fetched here")
			} else {
				err = in.opts.Fetcher.Fetch(ctx, ci.URL, func(r io.Reader) error {
					var serr error
					stored, serr = in.opts.Files.Save(ctx, r)
					return serr
				})
			}
		}
		if err != nil {
			if app.ErrorCode(err) == app.EINTERNAL || ctx.Err() != nil {
				return nil, app.Errorf(app.EINTERNAL, "%s: %w", ci.Field, errors.Join(err, ctx.Err()))
			}
			in.opts.Log.Warn("ingest: image unobtainable", "request", requestID, "image", ci.Field, "err", err)
			if firstErr == nil {
				firstErr = app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "%s: %s", ci.Field, app.ErrorMessage(err))
			}
			continue
		}
		if seen[stored.SHA256] {
			continue // the same picture twice in one result is one image
		}
		seen[stored.SHA256] = true
		images = append(images, app.Image{
			RequestID: requestID, Sequence: i, SHA256: stored.SHA256, Path: stored.Path, MimeType: stored.MimeType,
			Width: stored.Width, Height: stored.Height, Bytes: stored.Bytes, Seed: ci.Seed,
			Source: source, SourceURL: ci.URL,
		})
	}
	return images, firstErr
}

// decide turns a callback and the request's current state into the one
// transaction that records it (DESIGN §3).
func decide(d app.Delivery, req app.Request, cb Callback, images []app.Image, imageErr error, now time.Time) app.IngestResult {
	res := app.IngestResult{DeliveryID: d.ID, RequestID: req.ID, ExecutionID: cb.ExecutionID}
	act := func(kind, level, format string, args ...any) {
		res.Activities = append(res.Activities, app.Activity{RequestID: req.ID, Kind: kind, Level: level, Message: fmt.Sprintf(format, args...), CreatedAt: now})
	}
	act(app.ActivityCallback, app.LevelInfo, "callback received: %s%s", cb.Status, imageCount(len(cb.Images)))

	switch {
	case finishedElsewhere(req.Status):
		act(app.ActivityCallbackRejected, app.LevelWarn, "callback ignored: the request is already %s", req.Status)
		return res
	case req.Status == app.StatusCancelled:
		// The user's decision stands; the pictures are kept in case they
		// are wanted after all.
		res.Images = images
		act(app.ActivityLateResult, app.LevelInfo, "late result for a cancelled request: %s%s kept, state stays cancelled", cb.Status, imageCount(len(images)))
		return res
	case req.Status == app.StatusTimedOut:
		act(app.ActivityLateResult, app.LevelInfo, "late result after the request had timed out")
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
