package n8n

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/influencegen/influencegen/app"
)

// imageConcurrency bounds the downloads of one delivery: its images are
// fetched side by side, so one slow host costs the delivery the slowest
// image, not the sum of all.
const imageConcurrency = 4

// imageOutcome is what became of one image of a callback.
type imageOutcome struct {
	stored   app.StoredFile
	source   string
	unsynced bool // written without fsync: the delivery body holds it
	err      error
}

// storeImages saves every image of a success callback, concurrently and
// under one deadline for them all (callback.image_deadline). It returns the
// stored images numbered 1…n in the callback's order and, if any could not
// be obtained, the first such error. An EINTERNAL error (disk,
// permissions), or shutdown, aborts: the delivery is retried.
func (in *Ingester) storeImages(ctx context.Context, requestID string, cb Callback) ([]app.Image, error) {
	fetchCtx, cancel := context.WithTimeout(ctx, in.opts.ImageDeadline)
	defer cancel()
	outcomes := make([]imageOutcome, len(cb.Images))
	sem := make(chan struct{}, imageConcurrency)
	var wg sync.WaitGroup
	for i, ci := range cb.Images {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-fetchCtx.Done():
				outcomes[i] = imageOutcome{err: fetchCtx.Err()}
				return
			}
			defer func() { <-sem }()
			outcomes[i] = in.storeImage(fetchCtx, ci)
			if outcomes[i].err != nil && ctx.Err() == nil && fetchCtx.Err() != nil {
				outcomes[i].err = fetchCtx.Err() // cut off by the deadline, whatever the symptom
			}
		})
	}
	wg.Wait()

	var images []app.Image
	var firstErr error
	seen := map[string]bool{}
	for i, out := range outcomes {
		ci := cb.Images[i]
		if err := out.err; err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable,
					"not obtained within callback.image_deadline (%s) for all images of the callback", in.opts.ImageDeadline)
			}
			if ctx.Err() != nil || app.ErrorCode(err) == app.EINTERNAL {
				return nil, app.Errorf(app.EINTERNAL, "%s: %w", ci.Field, errors.Join(err, ctx.Err()))
			}
			in.opts.Log.Warn("ingest: image unobtainable", "request", requestID, "image", ci.Field, "err", app.OutsideLine(err.Error()))
			if firstErr == nil {
				firstErr = app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "%s: %s", ci.Field, app.ErrorMessage(err))
			}
			continue
		}
		if seen[out.stored.SHA256] {
			continue // the same picture twice in one result is one image
		}
		seen[out.stored.SHA256] = true
		st := out.stored
		images = append(images, app.Image{
			// Numbered 1…n in the callback's order: stable, and never 0,
			// which the store would read as "next free".
			RequestID: requestID, Sequence: len(images) + 1, SHA256: st.SHA256, Path: st.Path, MimeType: st.MimeType,
			Width: st.Width, Height: st.Height, Bytes: st.Bytes, Seed: ci.Seed,
			Source: out.source, SourceURL: app.OutsideLine(ci.URL), Unsynced: out.unsynced,
		})
	}
	return images, firstErr
}

// storeImage saves one image, from its inline data or its URL.
func (in *Ingester) storeImage(ctx context.Context, ci CallbackImage) imageOutcome {
	if ci.Base64 != "" {
		// Inline data is all CPU (decode, hash, verify, write): it takes
		// one of the ingestWorkers slots, so ingest never has more than
		// that many cores' worth of work competing with the acks.
		select {
		case in.cpu <- struct{}{}:
		case <-ctx.Done():
			return imageOutcome{source: "base64", err: ctx.Err()}
		}
		defer func() { <-in.cpu }()
		// The delivery body holds these bytes durably: the file needs no
		// fsync of its own (ingest_recover.go).
		if files, ok := in.opts.Files.(recoverableFiles); ok {
			stored, err := files.SaveUnsynced(ctx, base64Reader(ci.Base64))
			return imageOutcome{stored: stored, source: "base64", unsynced: err == nil, err: err}
		}
		stored, err := in.opts.Files.Save(ctx, base64Reader(ci.Base64))
		return imageOutcome{stored: stored, source: "base64", err: err}
	}
	out := imageOutcome{source: "url"}
	if in.opts.Fetcher == nil {
		out.err = app.ReasonErrorf(app.EUNAVAILABLE, app.ReasonImageUnavailable, "image URLs cannot be fetched here")
		return out
	}
	out.err = in.opts.Fetcher.Fetch(ctx, ci.URL, func(r io.Reader) error {
		var err error
		out.stored, err = in.opts.Files.Save(ctx, r)
		return err
	})
	return out
}
