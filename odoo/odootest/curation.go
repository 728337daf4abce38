package odootest

import (
	"fmt"
	"time"
)

// decideMethod is the addon's influencegen_decide (19.0.1.3.0): it writes
// an image's favourite and approval, found by (request, sha256), only when
// the decision's app_decided_at is newer than the stored one (last writer
// wins by time), and notes the change in the request's chatter.
const decideMethod = "influencegen_decide"

// decisionFields are what influencegen_decide copies onto the image.
var decisionFields = []string{"favorite", "approval_state", "approved_by", "approved_at", "app_decided_at"}

var approvalStates = map[string]bool{"undecided": true, "approved": true, "rejected": true}

// decide is influencegen_decide: validate everything, then apply in order.
// It answers one {"id", "found", "written"} per vals; a missing image is
// not an error (found=false: the app attaches it first and tries again).
func (s *Server) decide(t *table, raw any) (any, *odooError) {
	list, oerr := valsList(raw, decideMethod)
	if oerr != nil {
		return nil, oerr
	}
	for _, vals := range list {
		at, _ := vals["app_decided_at"].(string)
		if num(vals["request_id"]) == 0 || vals["sha256"] == nil {
			return nil, validationError("influencegen_decide: every value needs request_id and sha256")
		}
		if !appTime.MatchString(at) {
			return nil, validationError(fmt.Sprintf("influencegen_decide: app_decided_at %#v is not YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", vals["app_decided_at"]))
		}
		if st, _ := vals["approval_state"].(string); !approvalStates[st] {
			return nil, validationError(fmt.Sprintf("influencegen_decide: approval_state %#v is not undecided, approved or rejected", vals["approval_state"]))
		}
	}
	idx := t.index()
	out := make([]any, 0, len(list))
	for _, vals := range list {
		key := uniqueKey(t.model.Unique[0], normVals(map[string]any{"request_id": vals["request_id"], "sha256": vals["sha256"]}))
		id, ok := idx[key]
		if !ok {
			out = append(out, map[string]any{"id": false, "found": false, "written": false})
			continue
		}
		row := t.find(id)
		stored, _ := row["app_decided_at"].(string)
		at := vals["app_decided_at"].(string)
		written := stored == "" || at > stored
		if written {
			before := fmt.Sprintf("%v/%v", row["approval_state"], row["favorite"])
			for _, f := range decisionFields {
				if v, ok := vals[f]; ok {
					row[f] = normVals(map[string]any{f: v})[f]
				}
			}
			s.touch(t, row)
			if after := fmt.Sprintf("%v/%v", row["approval_state"], row["favorite"]); after != before {
				s.chatter = append(s.chatter, ChatterNote{RequestID: num(row["request_id"]), ImageID: id,
					Body: fmt.Sprintf("image %v: approval %v, favourite %v (by %v)", row["name"], row["approval_state"], row["favorite"], vals["decided_by"]),
					At:   s.cfg.Now()})
			}
		}
		out = append(out, map[string]any{"id": id, "found": true, "written": written})
	}
	return out, nil
}

// ChatterNote is a message the addon posts on a request's chatter when
// one of its images' decision changes.
type ChatterNote struct {
	RequestID int64
	ImageID   int64
	Body      string
	At        time.Time
}

// Chatter returns the notes posted so far, oldest first.
func (s *Server) Chatter() []ChatterNote {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatterNote(nil), s.chatter...)
}

// UpgradeCuration turns a fake started with NoCuration into the addon
// 19.0.1.3.0, as `odoo-bin -u` does: influencegen_decide appears and the
// images already stored get the new fields' defaults.
func (s *Server) UpgradeCuration() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.NoCuration = false
	for _, r := range s.tables[s.cfg.ImageModel].rows {
		if _, ok := r["approval_state"]; !ok {
			r["approval_state"] = "undecided"
		}
		if _, ok := r["favorite"]; !ok {
			r["favorite"] = false
		}
	}
}
