package odoo

import (
	"context"

	"github.com/influencegen/influencegen/app"
)

// DecideMethod is the addon's guarded entry point for an image's
// favourite and approval (19.0.1.3.0): influencegen_decide finds the
// image by (request, sha256) and writes only a decision newer than the
// one it holds (app_decided_at), so of two machines' decisions the later
// one by time wins whatever order they arrive in.
const DecideMethod = "influencegen_decide"

// decideResult is one answer of influencegen_decide.
type decideResult struct {
	ID      any  `json:"id"` // false when not found
	Found   bool `json:"found"`
	Written bool `json:"written"`
}

type decisionJob struct {
	item        app.OutboxItem
	img         app.Image
	odooRequest int64
}

// syncDecisions sends the current favourite and approval of each image
// with an image_decision item. The values are read now, not when the
// decision was queued: several decisions on one image send its latest
// state, and Odoo's time guard drops whatever is older than what it holds.
func (b *batch) syncDecisions(ctx context.Context, items []app.OutboxItem, reqs map[string]app.Request, odooIDs map[string]int64, reqErrs map[string]error) {
	var jobs []decisionJob
	for _, it := range items {
		img, ok := b.itemImage(it, reqs, reqErrs)
		if !ok {
			continue
		}
		jobs = append(jobs, decisionJob{item: it, img: img, odooRequest: odooIDs[it.RequestID]})
	}
	for _, chunk := range chunks(jobs, b.s.opts.CallRecords) {
		b.decide(ctx, chunk)
	}
}

func decisionVals(j decisionJob) map[string]any {
	im := j.img
	v := map[string]any{
		"request_id":     j.odooRequest,
		"sha256":         im.SHA256,
		"favorite":       im.Favorite,
		"approval_state": string(im.Approval),
		"approved_by":    orFalse(im.ApprovedBy),
		"approved_at":    false,
		"app_decided_at": false,
	}
	if im.Approval == "" {
		v["approval_state"] = string(app.ApprovalUndecided)
	}
	if im.ApprovedAt != nil {
		v["approved_at"] = im.ApprovedAt.UTC().Format(odooTime)
	}
	if im.DecidedAt != nil {
		v["app_decided_at"] = im.DecidedAt.UTC().Format(appTime)
	}
	// Not a field: who made the latest decision, for the chatter note.
	v["decided_by"] = orFalse(im.ApprovedBy)
	if im.FavoriteAt != nil && im.DecidedAt != nil && im.FavoriteAt.Equal(*im.DecidedAt) {
		v["decided_by"] = orFalse(im.FavoriteBy)
	}
	return v
}

func (b *batch) decide(ctx context.Context, chunk []decisionJob) {
	vals := make([]map[string]any, len(chunk))
	for i, j := range chunk {
		vals[i] = decisionVals(j)
	}
	var res []decideResult
	err := b.s.client.Call(ctx, b.s.opts.Odoo.ImageModel, DecideMethod, nil, []Arg{Pos("vals_list", vals)}, &res)
	if err == nil && len(res) != len(chunk) {
		err = app.Errorf(app.EINTERNAL, "Odoo %s answered %d results for %d images", DecideMethod, len(res), len(chunk))
	}
	if err != nil {
		err = outdatedAddon(err, b.s.opts.Odoo.ImageModel, DecideMethod)
		if !Transient(err) && len(chunk) > 1 && app.ErrorReason(err) != app.ReasonOdooAddonOutdated {
			for _, j := range chunk {
				b.decide(ctx, []decisionJob{j})
			}
			return
		}
		for _, j := range chunk {
			b.results[j.item.ID] = err
		}
		return
	}
	for i, j := range chunk {
		if !res[i].Found {
			// Its upload is still queued or failed: the image item comes
			// first in the outbox, so a later round finds it.
			b.results[j.item.ID] = app.ReasonErrorf(app.EUNAVAILABLE, "image_not_in_odoo",
				"image %d (%s…) of request %s is not in Odoo yet: its decision waits for the upload", j.img.ID, shortHash(j.img.SHA256), j.img.RequestID)
		}
	}
}
