package odoo

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// imageJob is one image outbox item on its way to Odoo.
type imageJob struct {
	item         app.OutboxItem
	img          app.Image
	odooRequest  int64
	attachmentID int64
}

// noPostprocess stops ir.attachment from shrinking images above 1920×1920:
// originals must reach Odoo byte for byte.
var noPostprocess = map[string]any{"image_no_postprocess": true}

// syncImages attaches each image to its request's record and creates the
// generated_image row, idempotent on (request, sha256): a search first
// finds what an earlier (maybe crashed) run already made, including a
// bare attachment whose generated_image create never happened.
func (b *batch) syncImages(ctx context.Context, items []app.OutboxItem, reqs map[string]app.Request, odooIDs map[string]int64, reqErrs map[string]error) {
	var jobs []*imageJob
	for _, it := range items {
		if err := reqErrs[it.RequestID]; err != nil {
			b.results[it.ID] = err // the record is not there: the image waits with it
			continue
		}
		if _, ok := reqs[it.RequestID]; !ok {
			continue // request deleted, or already failed while loading
		}
		imageID, err := parseImagePayload(it.Payload)
		if err != nil {
			b.results[it.ID] = err
			continue
		}
		img, err := b.s.opts.Store.GetImage(ctx, imageID)
		if err != nil {
			if app.ErrorCode(err) != app.ENOTFOUND {
				b.results[it.ID] = err
			}
			continue
		}
		jobs = append(jobs, &imageJob{item: it, img: img, odooRequest: odooIDs[it.RequestID]})
	}
	if len(jobs) == 0 {
		return
	}
	fail := func(js []*imageJob, err error) {
		for _, j := range js {
			b.results[j.item.ID] = err
		}
	}
	// 1. Which (request, sha256) pairs exist already?
	have, err := b.existingImages(ctx, jobs)
	if err != nil {
		fail(jobs, err)
		return
	}
	var todo []*imageJob
	for _, j := range jobs {
		if !have[imageKey(j.odooRequest, j.img.SHA256)] {
			todo = append(todo, j)
		}
	}
	if len(todo) == 0 {
		return
	}
	// 2. Reuse attachments a crashed run left behind (same record, same
	// SHA-1 checksum), then create the rest, capped in bytes per call.
	if err := b.reuseAttachments(ctx, todo); err != nil {
		fail(todo, err)
		return
	}
	var upload []*imageJob
	for _, j := range todo {
		if j.attachmentID == 0 {
			upload = append(upload, j)
		}
	}
	for _, chunk := range b.byteChunks(upload) {
		b.createAttachments(ctx, chunk)
	}
	// 3. The generated_image rows, for every image with an attachment.
	var ready []*imageJob
	for _, j := range todo {
		if j.attachmentID != 0 {
			ready = append(ready, j)
		}
	}
	for _, chunk := range chunks(ready, b.s.opts.CallRecords) {
		b.createImageRecords(ctx, chunk, 0)
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

// reuseAttachments finds attachments already on the request records and
// matches them by checksum. The SHA-1 of a local file is computed only
// when its record has attachments at all, so the common case reads no file.
func (b *batch) reuseAttachments(ctx context.Context, jobs []*imageJob) error {
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
	byRecord := map[int64]map[string]int64{} // res_id → checksum → attachment id
	for _, chunk := range chunks(reqIDs, size) {
		var recs []Record
		domain := []any{[]any{"res_model", "=", b.s.opts.Odoo.RequestModel}, []any{"res_id", "in", chunk}}
		if err := SearchRead(ctx, b.s.client, "ir.attachment", domain, []string{"res_id", "checksum"}, 0, &recs); err != nil {
			return err
		}
		for _, r := range recs {
			resID := asInt(r["res_id"])
			if byRecord[resID] == nil {
				byRecord[resID] = map[string]int64{}
			}
			byRecord[resID][r.String("checksum")] = r.ID()
		}
	}
	for _, j := range jobs {
		sums := byRecord[j.odooRequest]
		if len(sums) == 0 {
			continue
		}
		sum, err := fileSHA1(j.img.Path)
		if err != nil {
			continue // the upload step reports the unreadable file
		}
		if id, ok := sums[sum]; ok {
			j.attachmentID = id
		}
	}
	return nil
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

// createAttachments uploads one chunk. Files are read now, one chunk at a
// time, so memory stays bounded by the per-call cap; each file is checked
// against its recorded sha256 on the way.
func (b *batch) createAttachments(ctx context.Context, chunk []*imageJob) {
	var vals []map[string]any
	var sent []*imageJob
	for _, j := range chunk {
		data, err := readVerified(j.img)
		if err != nil {
			b.results[j.item.ID] = err
			continue
		}
		vals = append(vals, map[string]any{
			"name":      attachmentName(j.img),
			"datas":     base64.StdEncoding.EncodeToString(data),
			"mimetype":  j.img.MimeType,
			"res_model": b.s.opts.Odoo.RequestModel,
			"res_id":    j.odooRequest,
		})
		sent = append(sent, j)
	}
	if len(vals) == 0 {
		return
	}
	ids, err := Create(ctx, b.s.client, "ir.attachment", vals, noPostprocess)
	if err == nil && len(ids) == len(sent) {
		for i, j := range sent {
			j.attachmentID = ids[i]
		}
		return
	}
	if err == nil {
		err = app.Errorf(app.EINTERNAL, "Odoo created %d attachments for %d images", len(ids), len(sent))
	}
	if !Transient(err) && len(sent) > 1 {
		for _, j := range sent {
			b.createAttachments(ctx, []*imageJob{j})
		}
		return
	}
	for _, j := range sent {
		b.results[j.item.ID] = err
	}
}

func (b *batch) createImageRecords(ctx context.Context, chunk []*imageJob, depth int) {
	vals := make([]map[string]any, len(chunk))
	for i, j := range chunk {
		v := map[string]any{
			"name":          attachmentName(j.img),
			"request_id":    j.odooRequest,
			"attachment_id": j.attachmentID,
			"sha256":        j.img.SHA256,
			"mimetype":      j.img.MimeType,
			"width":         j.img.Width,
			"height":        j.img.Height,
			"file_size":     j.img.Bytes,
			"sequence":      j.img.Sequence,
			"seed":          false,
		}
		if j.img.Seed != nil {
			v["seed"] = strconv.FormatInt(*j.img.Seed, 10)
		}
		vals[i] = v
	}
	_, err := Create(ctx, b.s.client, b.s.opts.Odoo.ImageModel, vals, nil)
	switch {
	case err == nil:
		return
	case Transient(err) || depth > 0:
		if uniqueConflict(err) {
			return // one record, already there: done
		}
		for _, j := range chunk {
			b.results[j.item.ID] = err
		}
	default:
		// A conflict (or one bad record) in a multi-record create: retry
		// each alone; a single conflict means it already exists.
		for _, j := range chunk {
			b.createImageRecords(ctx, []*imageJob{j}, depth+1)
		}
	}
}

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

func fileSHA1(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
