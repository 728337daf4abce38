package odootest

import (
	"fmt"
	"regexp"
)

// The addon's guarded sync methods (19.0.1.1.0), with the semantics of
// odoo/addon/.../models: influencegen_upsert writes a request only when
// its app_updated_at is newer than the stored one; influencegen_attach
// stores an image and its attachment once per (request, sha256). The
// fake serves one call at a time under its lock, which is what the
// addon's row lock (SELECT ... FOR UPDATE) and Odoo's retry of a
// concurrent create amount to. A failing call stores nothing.
const (
	upsertMethod = "influencegen_upsert"
	attachMethod = "influencegen_attach"
)

// appTime is the addon's APP_TIME: fixed-width UTC with nanoseconds.
var appTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$`)

// guardedMethodOn reports whether method is one of the addon's and model
// defines it; an old addon (Config.OldAddon) has neither.
func (s *Server) guardedMethodOn(model, method string) (guarded, defined bool) {
	switch method {
	case upsertMethod:
		return true, !s.cfg.OldAddon && model == s.cfg.RequestModel
	case attachMethod:
		return true, !s.cfg.OldAddon && model == s.cfg.ImageModel
	case decideMethod:
		return true, !s.cfg.OldAddon && !s.cfg.NoCuration && model == s.cfg.ImageModel
	case claimMethod:
		return true, !s.cfg.OldAddon && !s.cfg.NoQueue && model == s.cfg.RequestModel
	case publishMethod:
		return true, !s.cfg.OldAddon && !s.cfg.NoQueue && model == aiModelModel
	}
	return false, false
}

// missingMethod is what Odoo 19 answers for a method a model lacks
// (checked on a real server): JSON-2 a 404 NotFound, JSON-RPC the
// AttributeError behind it.
func missingMethod(protocol, model, method string) *odooError {
	name := "werkzeug.exceptions.NotFound"
	if protocol == "jsonrpc" {
		name = "builtins.AttributeError"
	}
	return &odooError{name: name, message: fmt.Sprintf("The method '%s.%s' does not exist", model, method), status: 404}
}

// upsert is influencegen_upsert: validate everything, then apply in order.
func (s *Server) upsert(t *table, raw any) (any, *odooError) {
	list, oerr := valsList(raw, upsertMethod)
	if oerr != nil {
		return nil, oerr
	}
	byExt := map[string]map[string]any{}
	for _, r := range t.rows {
		if ext, _ := r["external_id"].(string); ext != "" {
			byExt[ext] = r
		}
	}
	for _, vals := range list {
		ext, _ := vals["external_id"].(string)
		at, _ := vals["app_updated_at"].(string)
		if ext == "" {
			return nil, validationError("influencegen_upsert: every value needs an external_id")
		}
		if !appTime.MatchString(at) {
			return nil, validationError(fmt.Sprintf("influencegen_upsert: %s: app_updated_at %#v is not YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", ext, vals["app_updated_at"]))
		}
		if oerr := t.checkVals(vals); oerr != nil {
			return nil, oerr
		}
		if oerr := s.refused(vals); oerr != nil {
			return nil, oerr
		}
		if byExt[ext] == nil {
			if oerr := t.checkRequired(normVals(vals)); oerr != nil {
				return nil, oerr
			}
		}
	}
	out := make([]any, 0, len(list))
	for _, vals := range list {
		ext := vals["external_id"].(string)
		at := vals["app_updated_at"].(string)
		if s.conflictExt[ext] && byExt[ext] == nil {
			// Another writer's create lands first; the addon's retry then
			// takes the update path below.
			delete(s.conflictExt, ext)
			other := normVals(vals)
			s.insert(t, other)
			byExt[ext] = other
		}
		row := byExt[ext]
		if row == nil {
			row = normVals(vals)
			s.insert(t, row)
			byExt[ext] = row
			out = append(out, map[string]any{"id": row["id"], "external_id": ext, "created": true, "written": true})
			continue
		}
		stored, _ := row["app_updated_at"].(string)
		written := stored == "" || at > stored
		if written {
			for k, v := range normVals(vals) {
				row[k] = v
			}
			s.touch(t, row)
		}
		out = append(out, map[string]any{"id": row["id"], "external_id": ext, "created": false, "written": written})
	}
	return out, nil
}

// attach is influencegen_attach.
func (s *Server) attach(t *table, raw any) (any, *odooError) {
	list, oerr := valsList(raw, attachMethod)
	if oerr != nil {
		return nil, oerr
	}
	reqs := s.tables[s.cfg.RequestModel]
	atts := s.tables["ir.attachment"]
	type pending struct {
		row, att map[string]any
		blob     []byte
		existing map[string]any
	}
	idx := t.index()
	plan := make([]pending, 0, len(list))
	for _, vals := range list {
		reqID := num(vals["request_id"])
		sha, _ := vals["sha256"].(string)
		if reqID == 0 || sha == "" || vals["datas"] == nil {
			return nil, validationError("influencegen_attach: every value needs request_id, sha256 and datas")
		}
		if reqs.find(reqID) == nil {
			return nil, validationError(fmt.Sprintf("influencegen_attach: request record %d does not exist", reqID))
		}
		row := map[string]any{}
		for k, v := range vals {
			if k != "datas" {
				row[k] = v
			}
		}
		if oerr := t.checkVals(row); oerr != nil {
			return nil, oerr
		}
		row = normVals(row)
		if !s.cfg.NoCuration && !s.cfg.OldAddon {
			// The addon's defaults (19.0.1.3.0).
			if _, ok := row["approval_state"]; !ok {
				row["approval_state"] = "undecided"
			}
			if _, ok := row["favorite"]; !ok {
				row["favorite"] = false
			}
		}
		if id, ok := idx[uniqueKey(t.model.Unique[0], row)]; ok {
			// Stored already (or earlier in this call): no new attachment.
			var existing map[string]any
			if id != 0 {
				existing = t.find(id)
			}
			plan = append(plan, pending{existing: existing, row: row})
			continue
		}
		name, _ := vals["name"].(string)
		if name == "" {
			name = sha
		}
		att, blob, oerr := attachmentRow(map[string]any{"name": name, "datas": vals["datas"], "mimetype": vals["mimetype"],
			"res_model": s.cfg.RequestModel, "res_id": reqID}, true)
		if oerr != nil {
			return nil, oerr
		}
		idx[uniqueKey(t.model.Unique[0], row)] = 0
		plan = append(plan, pending{row: row, att: att, blob: blob})
	}
	out := make([]any, 0, len(plan))
	made := map[string]map[string]any{}
	for _, p := range plan {
		key := uniqueKey(t.model.Unique[0], p.row)
		if p.att == nil {
			ex := p.existing
			if ex == nil {
				ex = made[key]
			}
			out = append(out, map[string]any{"id": ex["id"], "attachment_id": num(ex["attachment_id"]), "created": false})
			continue
		}
		attID := s.insert(atts, p.att)
		s.blobs[attID] = p.blob
		p.row["attachment_id"] = attID
		s.insert(t, p.row)
		made[key] = p.row
		out = append(out, map[string]any{"id": p.row["id"], "attachment_id": attID, "created": true})
	}
	return out, nil
}

func valsList(raw any, method string) ([]map[string]any, *odooError) {
	items, ok := raw.([]any)
	if !ok {
		return nil, &odooError{name: "werkzeug.exceptions.UnprocessableEntity", message: "missing a required argument: 'vals_list'", status: 422}
	}
	list := make([]map[string]any, 0, len(items))
	for _, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, validationError(method + " expects a list of values")
		}
		list = append(list, m)
	}
	return list, nil
}
