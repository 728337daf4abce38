package odoo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/influencegen/influencegen/app"
)

// odooTime is how Odoo writes datetimes over RPC: UTC, no zone.
const odooTime = "2006-01-02 15:04:05"

// requestVals is the whole record as Odoo should hold it, stamped with
// the request's updated_at. Sending the current state (not a delta) makes
// every upsert idempotent, and the stamp lets Odoo refuse an older one.
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
		"app_updated_at":   r.UpdatedAt.UTC().Format(appTime),
	}
	if r.CompletedAt != nil {
		v["completed_at"] = r.CompletedAt.UTC().Format(odooTime)
	}
	// Only a batch's requests carry batch_ref (addon 19.0.1.3.0): a
	// single request still syncs to an addon that predates the field.
	if r.BatchID != "" {
		v["batch_ref"] = r.BatchID
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

// AddonVersion is the addon version this app expects: the guarded
// methods below (since 19.0.1.1.0), the request queue (19.0.1.2.0:
// ClaimMethod, PublishMethod) and curation (19.0.1.3.0: DecideMethod,
// batch_ref, the Gallery).
const AddonVersion = "19.0.1.3.0"

// UpsertMethod and AttachMethod are the addon's guarded entry points
// (19.0.1.1.0): influencegen_upsert locks the record and writes only a
// newer app_updated_at; influencegen_attach stores an image and its
// attachment once per (request, sha256). They make a stale write
// impossible even from syncers on two machines.
const (
	UpsertMethod = "influencegen_upsert"
	AttachMethod = "influencegen_attach"
)

// The request queue (19.0.1.2.0, issue 15): ClaimMethod on the request
// model takes queued Odoo requests for one host (FOR UPDATE SKIP LOCKED);
// PublishMethod on ModelModel offers the host's generation models in
// Odoo's form.
const (
	ClaimMethod   = "influence_gen_claim"
	PublishMethod = "influencegen_publish"
	ModelModel    = "influence_gen.ai_model"
)

// appTime is the store's own updated_at layout: fixed-width UTC with
// nanoseconds, so the addon compares the strings as times.
const appTime = "2006-01-02T15:04:05.000000000Z"

// upsertResult is one answer of influencegen_upsert.
type upsertResult struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
	Created    bool   `json:"created"`
	Written    bool   `json:"written"`
}

// upsertRequests makes sure each request has its Odoo record with the
// current values: one influencegen_upsert per chunk. Odoo decides per
// record whether our values are newer than what it holds, so a syncer
// that read the request earlier cannot undo a later one's write. It
// returns the Odoo id of every request it could sync and the error of
// every other.
func (b *batch) upsertRequests(ctx context.Context, reqs []app.Request) (map[string]int64, map[string]error) {
	ids := map[string]int64{}
	errs := map[string]error{}
	for _, chunk := range chunks(reqs, b.s.opts.CallRecords) {
		b.upsertChunk(ctx, chunk, ids, errs)
	}
	b.rememberOdooIDs(ctx, reqs, ids, errs)
	return ids, errs
}

// odooIDWriters bounds the concurrent SetOdooID calls of one batch.
const odooIDWriters = 64

// rememberOdooIDs stores each new Odoo id locally (webhook payloads carry
// it later). The calls run concurrently so the store's group commit puts
// many in one transaction: one at a time, 1,000 new records cost 1,000
// fsyncs, most of a batch's time.
func (b *batch) rememberOdooIDs(ctx context.Context, reqs []app.Request, ids map[string]int64, errs map[string]error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		slot = make(chan struct{}, odooIDWriters)
	)
	type change struct {
		requestID string
		odooID    int64
	}
	var todo []change
	for _, r := range reqs {
		if id, ok := ids[r.ID]; ok && r.OdooID != id {
			todo = append(todo, change{r.ID, id})
		}
	}
	failed := map[string]error{}
	for _, c := range todo {
		slot <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slot; wg.Done() }()
			if err := b.s.opts.Store.SetOdooID(ctx, c.requestID, c.odooID); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
				mu.Lock()
				failed[c.requestID] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for id, err := range failed {
		errs[id] = err
		delete(ids, id)
	}
}

// upsertChunk sends one chunk; a permanent failure of a multi-record call
// is retried record by record so only the bad one parks.
func (b *batch) upsertChunk(ctx context.Context, chunk []app.Request, ids map[string]int64, errs map[string]error) {
	vals := make([]map[string]any, len(chunk))
	for i, r := range chunk {
		vals[i] = requestVals(r)
	}
	var res []upsertResult
	err := b.s.client.Call(ctx, b.s.opts.Odoo.RequestModel, UpsertMethod, nil, []Arg{Pos("vals_list", vals)}, &res)
	if err == nil && len(res) != len(chunk) {
		err = app.Errorf(app.EINTERNAL, "Odoo %s answered %d results for %d requests", UpsertMethod, len(res), len(chunk))
	}
	if err == nil {
		for i, r := range chunk {
			if res[i].ExternalID != r.ID || res[i].ID <= 0 {
				errs[r.ID] = app.Errorf(app.EINTERNAL, "Odoo %s answered %+v for request %s", UpsertMethod, res[i], r.ID)
				continue
			}
			ids[r.ID] = res[i].ID
		}
		return
	}
	err = outdatedAddon(err, b.s.opts.Odoo.RequestModel, UpsertMethod)
	if Transient(err) || len(chunk) == 1 || app.ErrorReason(err) == app.ReasonOdooAddonOutdated {
		for _, r := range chunk {
			errs[r.ID] = err
		}
		return
	}
	for _, r := range chunk {
		b.upsertChunk(ctx, []app.Request{r}, ids, errs)
	}
}

// outdatedAddon turns "no such method" into the fix: an addon installed
// before the guarded methods existed must be upgraded.
func outdatedAddon(err error, model, method string) error {
	var se *ServerError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	m := strings.ToLower(se.Message)
	if !strings.Contains(m, strings.ToLower(method)) || !strings.Contains(m, "does not exist") {
		return err
	}
	return &app.Error{Code: app.ENOTCONFIGURED, Reason: app.ReasonOdooAddonOutdated, Err: err, Message: fmt.Sprintf(
		"the Odoo addon influence_gen_ai_integration is older than %s (%s has no method %s): upgrade it "+
			"(odoo-bin -u influence_gen_ai_integration, or Apps → Upgrade), then run `influencegen sync retry`",
		AddonVersion, model, method)}
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
