package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// imageJob is one image outbox item on its way to Odoo.
type imageJob struct {
	item        app.OutboxItem
	img         app.Image
	odooRequest int64
}

// syncImages attaches each image to its request's record, idempotent on
// (request, sha256): a search first skips what Odoo has (so its bytes are
// not sent again), then influencegen_attach stores the rest. That method
// makes the attachment and the generated_image row in one transaction
// under a lock on the request, so two syncers racing on one image leave
// one attachment, never a second one without its row.
// itemImage is the image an outbox item names, or false when the item
// cannot go now: its request's record failed (the image waits with it,
// its result set), the request is gone, or the image is (a deleted image
// drops the item quietly; any other error is its result).
func (b *batch) itemImage(it app.OutboxItem, reqs map[string]app.Request, reqErrs map[string]error) (app.Image, bool) {
	if err := reqErrs[it.RequestID]; err != nil {
		b.results[it.ID] = err
		return app.Image{}, false
	}
	if _, ok := reqs[it.RequestID]; !ok {
		return app.Image{}, false
	}
	imageID, err := parseImagePayload(it.Payload)
	if err != nil {
		b.results[it.ID] = err
		return app.Image{}, false
	}
	if b.imagesErr != nil {
		b.results[it.ID] = b.imagesErr
		return app.Image{}, false
	}
	img, ok := b.images[imageID]
	return img, ok // a deleted image drops the item quietly
}

// loadImages reads the images items name in one query; an item whose
// payload does not parse gets its own error from itemImage.
func (b *batch) loadImages(ctx context.Context, items []app.OutboxItem) (map[int64]app.Image, error) {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		if id, err := parseImagePayload(it.Payload); err == nil {
			ids = append(ids, id)
		}
	}
	return b.s.opts.Store.GetImagesByID(ctx, ids)
}

func (b *batch) syncImages(ctx context.Context, items []app.OutboxItem, reqs map[string]app.Request, odooIDs map[string]int64, reqErrs map[string]error) {
	var jobs []*imageJob
	for _, it := range items {
		img, ok := b.itemImage(it, reqs, reqErrs)
		if !ok {
			continue
		}
		jobs = append(jobs, &imageJob{item: it, img: img, odooRequest: odooIDs[it.RequestID]})
	}
	if len(jobs) == 0 {
		return
	}
	have, err := b.existingImages(ctx, jobs)
	if err != nil {
		for _, j := range jobs {
			b.results[j.item.ID] = err
		}
		return
	}
	var todo []*imageJob
	for _, j := range jobs {
		if !have[imageKey(j.odooRequest, j.img.SHA256)] {
			todo = append(todo, j)
		}
	}
	for _, chunk := range b.byteChunks(todo) {
		b.attach(ctx, chunk)
	}
}

func imageKey(odooRequest int64, sha string) string {
	return strconv.FormatInt(odooRequest, 10) + "/" + sha
}

func (b *batch) existingImages(ctx context.Context, jobs []*imageJob) (map[string]bool, error) {
	have := map[string]bool{}
	var reqIDs []int64
	seen := map[int64]bool{}
	for _, j := range jobs {
		if !seen[j.odooRequest] {
			seen[j.odooRequest] = true
			reqIDs = append(reqIDs, j.odooRequest)
		}
	}
	size := searchChunk
	if b.s.opts.NoBatching {
		size = 1
	}
	for _, chunk := range chunks(reqIDs, size) {
		var recs []Record
		if err := SearchRead(ctx, b.s.client, b.s.opts.Odoo.ImageModel,
			[]any{[]any{"request_id", "in", chunk}}, []string{"request_id", "sha256"}, 0, &recs); err != nil {
			return nil, err
		}
		for _, r := range recs {
			have[imageKey(r.Many2oneID("request_id"), r.String("sha256"))] = true
		}
	}
	return have, nil
}

// byteChunks groups uploads so one call carries at most CallBytes of
// base64 and CallRecords attachments; a bigger single image goes alone.
func (b *batch) byteChunks(jobs []*imageJob) [][]*imageJob {
	var out [][]*imageJob
	var cur []*imageJob
	size := 0
	for _, j := range jobs {
		enc := base64.StdEncoding.EncodedLen(int(j.img.Bytes))
		if len(cur) > 0 && (size+enc > b.s.opts.CallBytes || len(cur) >= b.s.opts.CallRecords) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, j)
		size += enc
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// attach uploads one chunk through influencegen_attach. Files are read
// now, one chunk at a time, so memory stays bounded by the per-call cap;
// each file is checked against its recorded sha256 on the way. A
// permanent failure of a multi-image call is retried image by image so
// only the bad one parks.
func (b *batch) attach(ctx context.Context, chunk []*imageJob) {
	var vals []map[string]any
	var sent []*imageJob
	for _, j := range chunk {
		data, err := readVerified(j.img)
		if err != nil {
			b.results[j.item.ID] = err
			continue
		}
		v := map[string]any{
			"name":       attachmentName(j.img),
			"request_id": j.odooRequest,
			"sha256":     j.img.SHA256,
			"mimetype":   j.img.MimeType,
			"width":      j.img.Width,
			"height":     j.img.Height,
			"file_size":  j.img.Bytes,
			"sequence":   j.img.Sequence,
			"seed":       false,
			"datas":      base64.StdEncoding.EncodeToString(data),
		}
		if j.img.Seed != nil {
			v["seed"] = strconv.FormatInt(*j.img.Seed, 10)
		}
		vals = append(vals, v)
		sent = append(sent, j)
	}
	if len(vals) == 0 {
		return
	}
	var res []attachResult
	// The context is for older addons' sake only: influencegen_attach sets
	// image_no_postprocess itself.
	err := b.s.client.Call(ctx, b.s.opts.Odoo.ImageModel, AttachMethod, nil,
		[]Arg{Pos("vals_list", vals), KW("context", noPostprocess)}, &res)
	if err == nil && len(res) != len(sent) {
		err = app.Errorf(app.EINTERNAL, "Odoo %s answered %d results for %d images", AttachMethod, len(res), len(sent))
	}
	if err == nil {
		return
	}
	err = outdatedAddon(err, b.s.opts.Odoo.ImageModel, AttachMethod)
	if !Transient(err) && len(sent) > 1 && app.ErrorReason(err) != app.ReasonOdooAddonOutdated {
		for _, j := range sent {
			b.attach(ctx, []*imageJob{j})
		}
		return
	}
	for _, j := range sent {
		b.results[j.item.ID] = err
	}
}

// attachResult is one answer of influencegen_attach.
type attachResult struct {
	ID           int64 `json:"id"`
	AttachmentID int64 `json:"attachment_id"`
	Created      bool  `json:"created"`
}

// noPostprocess stops ir.attachment from shrinking images above 1920×1920:
// originals must reach Odoo byte for byte.
var noPostprocess = map[string]any{"image_no_postprocess": true}

func attachmentName(img app.Image) string {
	ext := strings.TrimPrefix(filepath.Ext(img.Path), ".")
	if ext == "" {
		ext = strings.TrimPrefix(img.MimeType, "image/")
	}
	return fmt.Sprintf("%s-%d.%s", img.RequestID, img.Sequence, ext)
}

// readVerified reads an image file and checks it still hashes to the
// sha256 recorded at ingest: Odoo must get exactly what was received.
func readVerified(img app.Image) ([]byte, error) {
	data, err := os.ReadFile(img.Path)
	if err != nil {
		return nil, app.ReasonErrorf(app.ENOTFOUND, "image_file_missing",
			"image file %s of request %s cannot be read (%v): it was removed or moved outside influencegen", img.Path, img.RequestID, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != img.SHA256 {
		return nil, app.ReasonErrorf(app.EINVALID, "image_file_changed",
			"image file %s of request %s no longer matches its sha256 (%s…, recorded %s…): it was modified outside influencegen", img.Path, img.RequestID, got[:12], shortHash(img.SHA256))
	}
	return data, nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
