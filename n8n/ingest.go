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
	ingestConcurrency  = 8 // URL downloads overlap; SQLite writes are grouped by the store anyway
	ingestPoll         = 5 * time.Second
	ingestRetryBase    = 2 * time.Second
	ingestRetryMax     = 5 * time.Minute
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
// next start.
type Ingester struct {
	opts IngestOptions
	wake chan struct{}

	mu       sync.Mutex
	inFlight map[int64]bool
	notUntil map[int64]time.Time // backoff after a processing error
}

// NewIngester returns a worker; call Run to start it.
func NewIngester(opts IngestOptions) *Ingester {
	if opts.Clock == nil {
		opts.Clock = app.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Ingester{opts: opts, wake: make(chan struct{}, 1), inFlight: map[int64]bool{}, notUntil: map[int64]time.Time{}}
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

// ProcessPending handles every pending delivery that is not backing off,
// and returns how many it completed.
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
		sem := make(chan struct{}, ingestConcurrency)
		for _, d := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func(d app.Delivery) {
				defer wg.Done()
				defer func() { <-sem }()
				ok := in.process(ctx, d)
				in.release(d, ok)
				if ok {
					done.Lock()
					total++
					done.Unlock()
				}
			}(d)
		}
		wg.Wait()
		if ctx.Err() != nil || len(pending) < ingestBatch {
			return total, ctx.Err()
		}
	}
}

func (in *Ingester) claim(pending []app.Delivery) []app.Delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.opts.Clock.Now()
	var todo []app.Delivery
	for _, d := range pending {
		if in.inFlight[d.ID] || now.Before(in.notUntil[d.ID]) {
			continue
		}
		in.inFlight[d.ID] = true
		todo = append(todo, d)
	}
	return todo
}

func (in *Ingester) release(d app.Delivery, ok bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.inFlight, d.ID)
	if ok {
		delete(in.notUntil, d.ID)
		return
	}
	delay := ingestRetryBase << min(d.Attempts, 10)
	in.notUntil[d.ID] = in.opts.Clock.Now().Add(min(delay, ingestRetryMax))
}

// process handles one delivery and reports whether it is done. A failure
// that may pass (disk, database) is recorded on the delivery, which stays
// pending; a result that cannot be obtained (bad image, dead URL) is final
// and fails the request instead.
func (in *Ingester) process(ctx context.Context, d app.Delivery) bool {
	log := in.opts.Log.With("delivery", d.ID, "request", d.RequestID)
	var cb Callback
	if err := json.Unmarshal(d.Body, &cb); err != nil {
		in.failed(ctx, log, d, fmt.Errorf("delivery body is not a callback: %w", err))
		return false
	}
	req, err := in.opts.Store.GetRequest(ctx, d.RequestID)
	if err != nil {
		in.failed(ctx, log, d, fmt.Errorf("load request: %w", err))
		return false
	}

	var images []app.Image
	var imageErr error
	if cb.Status == CallbackSuccess && !finishedElsewhere(req.Status) {
		images, imageErr = in.storeImages(ctx, req.ID, cb)
		if imageErr != nil && app.ErrorCode(imageErr) == app.EINTERNAL {
			in.failed(ctx, log, d, imageErr)
			return false
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
			return true
		}
		// The state moved under us (the user cancelled, or another delivery
		// finished it): decide again on the fresh state, once.
		if app.ErrorCode(err) != app.ECONFLICT || attempt > 0 {
			in.failed(ctx, log, d, fmt.Errorf("complete delivery: %w", err))
			return false
		}
		if req, err = in.opts.Store.GetRequest(ctx, d.RequestID); err != nil {
			in.failed(ctx, log, d, fmt.Errorf("reload request: %w", err))
			return false
		}
	}
}

func finishedElsewhere(s app.Status) bool { return s == app.StatusCompleted || s == app.StatusFailed }

func (in *Ingester) failed(ctx context.Context, log *slog.Logger, d app.Delivery, err error) {
	if ctx.Err() != nil {
		return // shutting down: the delivery stays pending for the next start
	}
	log.Error("ingest: delivery will be retried", "attempts", d.Attempts+1, "err", err)
	if ferr := in.opts.Store.DeliveryFailed(ctx, d.ID, clipText(err.Error(), 500)); ferr != nil {
		log.Error("ingest: recording the failure failed", "err", ferr)
	}
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
