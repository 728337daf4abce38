package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/influencegen/influencegen/app"
)

// requestFields are the request model's fields the sync writes, and reads
// back to skip writes that would change nothing.
var requestFields = []string{"name", "external_id", "prompt", "negative_prompt", "ai_model", "resolution",
	"width", "height", "aspect_ratio", "seed", "num_images", "state", "error_code", "error_message",
	"requested_by", "requested_at", "completed_at", "n8n_execution_id"}

// odooTime is how Odoo writes datetimes over RPC: UTC, no zone.
const odooTime = "2006-01-02 15:04:05"

// requestVals is the whole record as Odoo should hold it. Sending the
// current state (not a delta) makes every upsert idempotent: a replayed
// or out-of-date outbox row converges on the same record.
func requestVals(r app.Request) map[string]any {
	p := r.Params
	v := map[string]any{
		"name":             recordName(r),
		"external_id":      r.ID,
		"prompt":           p.Prompt,
		"negative_prompt":  orFalse(p.NegativePrompt),
		"ai_model":         orFalse(p.Model),
		"resolution":       p.Resolution(),
		"width":            p.Width,
		"height":           p.Height,
		"aspect_ratio":     orFalse(p.AspectRatio),
		"seed":             strconv.FormatInt(p.Seed, 10), // Char: Odoo's Integer is 32-bit signed
		"num_images":       p.NumImages,
		"state":            string(r.Status),
		"error_code":       orFalse(r.ErrorCode),
		"error_message":    orFalse(r.ErrorMessage),
		"requested_by":     orFalse(r.RequestedBy),
		"requested_at":     r.CreatedAt.UTC().Format(odooTime),
		"completed_at":     false,
		"n8n_execution_id": orFalse(r.ExecutionID),
	}
	if r.CompletedAt != nil {
		v["completed_at"] = r.CompletedAt.UTC().Format(odooTime)
	}
	return v
}

// recordName is the record's display name: the start of the prompt, which
// is what people recognise a request by in Odoo's lists.
func recordName(r app.Request) string {
	name := r.Params.Prompt
	if utf8.RuneCountInString(name) > 60 {
		name = string([]rune(name)[:59]) + "…"
	}
	if name == "" {
		name = r.ID
	}
	return name
}

// orFalse writes an empty text as false, which is how Odoo stores and
// returns an empty Char, so the read-back comparison sees no change.
func orFalse(s string) any {
	if s == "" {
		return false
	}
	return s
}

// changed returns the vals that differ from what Odoo holds.
func changed(want map[string]any, have Record) map[string]any {
	diff := map[string]any{}
	for k, v := range want {
		if !sameValue(v, have[k]) {
			diff[k] = v
		}
	}
	return diff
}

func sameValue(a, b any) bool {
	return fmt.Sprint(canon(a)) == fmt.Sprint(canon(b))
}

func canon(v any) any {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		if x == "" {
			return false
		}
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}

// upsertRequests makes sure each request has its Odoo record with the
// current values: one search for all, one create per chunk of missing
// ones, one write per group of identical changes. It returns the Odoo id
// of every request it could sync and the error of every other.
func (b *batch) upsertRequests(ctx context.Context, reqs []app.Request) (map[string]int64, map[string]error) {
	ids := map[string]int64{}
	errs := map[string]error{}
	if len(reqs) == 0 {
		return ids, errs
	}
	model := b.s.opts.Odoo.RequestModel
	byExt := make(map[string]app.Request, len(reqs))
	exts := make([]string, 0, len(reqs))
	for _, r := range reqs {
		byExt[r.ID] = r
		exts = append(exts, r.ID)
	}
	existing, err := b.findRequests(ctx, exts)
	if err != nil {
		for _, r := range reqs {
			errs[r.ID] = err
		}
		return ids, errs
	}
	var missing []app.Request
	for _, r := range reqs {
		if _, ok := existing[r.ID]; !ok {
			missing = append(missing, r)
		}
	}
	b.createRequests(ctx, missing, existing, errs, 0)

	// Write what changed, grouped by identical values: a batch of requests
	// that all moved to the same state costs one write.
	groups := map[string][]int64{}
	groupVals := map[string]map[string]any{}
	owner := map[int64]string{}
	for _, ext := range exts {
		rec, ok := existing[ext]
		if !ok {
			continue
		}
		ids[ext] = rec.ID()
		owner[rec.ID()] = ext
		if rec["_created"] == true {
			continue
		}
		diff := changed(requestVals(byExt[ext]), rec)
		if len(diff) == 0 {
			continue
		}
		k, _ := json.Marshal(diff) // map keys marshal sorted: equal diffs give equal keys
		groups[string(k)] = append(groups[string(k)], rec.ID())
		groupVals[string(k)] = diff
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic call order for tests and logs
	for _, k := range keys {
		for _, chunk := range chunks(groups[k], b.s.opts.CallRecords) {
			if err := b.writeIsolating(ctx, model, chunk, groupVals[k]); err != nil {
				for id, e := range err {
					errs[owner[id]] = e
					delete(ids, owner[id])
				}
			}
		}
	}
	// Remember the Odoo id locally: webhook payloads carry it later.
	for _, ext := range exts {
		id, ok := ids[ext]
		if !ok || byExt[ext].OdooID == id {
			continue
		}
		if err := b.s.opts.Store.SetOdooID(ctx, ext, id); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			errs[ext] = err
			delete(ids, ext)
		}
	}
	return ids, errs
}

// findRequests searches records by external_id, in chunks.
func (b *batch) findRequests(ctx context.Context, exts []string) (map[string]Record, error) {
	found := map[string]Record{}
	size := searchChunk
	if b.s.opts.NoBatching {
		size = 1
	}
	for _, chunk := range chunks(exts, size) {
		var recs []Record
		if err := SearchRead(ctx, b.s.client, b.s.opts.Odoo.RequestModel,
			[]any{[]any{"external_id", "in", chunk}}, append([]string{"id"}, requestFields...), 0, &recs); err != nil {
			return nil, err
		}
		for _, r := range recs {
			found[r.String("external_id")] = r
		}
	}
	return found, nil
}

// createRequests creates missing records chunk by chunk. A unique conflict
// means another writer (a crashed earlier run, a second device) created
// some of them: search again and create only what is still missing. Any
// other permanent error on a chunk is retried record by record so one bad
// record parks alone.
func (b *batch) createRequests(ctx context.Context, missing []app.Request, existing map[string]Record, errs map[string]error, depth int) {
	model := b.s.opts.Odoo.RequestModel
	for _, chunk := range chunks(missing, b.s.opts.CallRecords) {
		vals := make([]map[string]any, len(chunk))
		for i, r := range chunk {
			vals[i] = requestVals(r)
		}
		created, err := Create(ctx, b.s.client, model, vals, nil)
		if err == nil && len(created) == len(chunk) {
			for i, r := range chunk {
				existing[r.ID] = Record{"id": float64(created[i]), "external_id": r.ID, "_created": true}
			}
			continue
		}
		if err == nil {
			err = app.Errorf(app.EINTERNAL, "Odoo created %d records for %d values", len(created), len(chunk))
		}
		switch {
		case Transient(err) || depth > 1:
			for _, r := range chunk {
				errs[r.ID] = err
			}
		case uniqueConflict(err):
			exts := make([]string, len(chunk))
			for i, r := range chunk {
				exts[i] = r.ID
			}
			again, serr := b.findRequests(ctx, exts)
			if serr != nil {
				for _, r := range chunk {
					errs[r.ID] = serr
				}
				continue
			}
			var still []app.Request
			for _, r := range chunk {
				if rec, ok := again[r.ID]; ok {
					existing[r.ID] = rec
				} else {
					still = append(still, r)
				}
			}
			b.createRequests(ctx, still, existing, errs, depth+1)
		case len(chunk) > 1:
			for _, r := range chunk {
				b.createRequests(ctx, []app.Request{r}, existing, errs, depth+1)
			}
		default:
			errs[chunk[0].ID] = err
		}
	}
}

// writeIsolating writes vals to ids; a permanent failure of a multi-record
// write is retried per record so only the bad one fails.
func (b *batch) writeIsolating(ctx context.Context, model string, ids []int64, vals map[string]any) map[int64]error {
	err := Write(ctx, b.s.client, model, ids, vals)
	if err == nil {
		return nil
	}
	out := map[int64]error{}
	if Transient(err) || len(ids) == 1 {
		for _, id := range ids {
			out[id] = err
		}
		return out
	}
	for _, id := range ids {
		if e := Write(ctx, b.s.client, model, []int64{id}, vals); e != nil {
			out[id] = e
		}
	}
	return out
}

func chunks[T any](s []T, n int) [][]T {
	if n <= 0 {
		n = len(s)
	}
	var out [][]T
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}
