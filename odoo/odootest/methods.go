package odootest

import (
	"fmt"
	"slices"
	"strings"
)

var errUnknownModel = &odooError{name: "unknown model"}

// dispatch runs model.method with named arguments, under the lock, as one
// transaction: a failing create stores nothing.
func (s *Server) dispatch(protocol, service, model, method string, ids []int64, kw map[string]any) (any, *odooError) {
	odooCtx, _ := kw["context"].(map[string]any)
	c := Call{Protocol: protocol, Service: service, Model: model, Method: method, Context: odooCtx}
	switch method {
	case "create", upsertMethod, attachMethod:
		c.Records = len(asList(kw["vals_list"]))
	case "write":
		c.Records = len(ids)
	}
	s.record(c)

	s.mu.Lock()
	defer s.mu.Unlock()
	if k := model + "/" + method; s.failCalls[k] > 0 {
		s.failCalls[k]--
		return nil, &odooError{name: "psycopg2.OperationalError", message: "could not serialize access due to concurrent update", status: 500}
	}
	t := s.tables[model]
	if t == nil {
		return nil, errUnknownModel
	}
	if _, ok := signatures[method]; !ok {
		return nil, missingMethod(protocol, model, method)
	}
	if guarded, defined := s.guardedMethodOn(model, method); guarded && !defined {
		return nil, missingMethod(protocol, model, method)
	}
	switch method {
	case upsertMethod:
		if !s.allowed(model, "write") {
			return nil, s.accessError(model, "write")
		}
		return s.upsert(t, kw["vals_list"])
	case attachMethod:
		if !s.allowed(model, "create") {
			return nil, s.accessError(model, "create")
		}
		return s.attach(t, kw["vals_list"])
	case decideMethod:
		if !s.allowed(model, "write") {
			return nil, s.accessError(model, "write")
		}
		return s.decide(t, kw["vals_list"])
	case claimMethod:
		if !s.allowed(model, "write") {
			return nil, s.accessError(model, "write")
		}
		return s.claim(t, kw)
	case publishMethod:
		if !s.allowed(model, "write") {
			return nil, s.accessError(model, "write")
		}
		return s.publish(t, kw)
	case "context_get":
		return map[string]any{"lang": "en_US", "tz": false, "uid": UID}, nil
	case "has_access":
		op, _ := kw["operation"].(string)
		return s.allowed(model, op), nil
	case "check_access_rights":
		op, _ := kw["operation"].(string)
		if !s.allowed(model, op) && kw["raise_exception"] != false {
			return nil, s.accessError(model, op)
		}
		return s.allowed(model, op), nil
	case "set_param", "get_param":
		return s.param(method, kw)
	case "search_read", "search", "search_count":
		return s.search(t, method, kw)
	case "read":
		fields := stringList(kw["fields"])
		var out []any
		for _, id := range ids {
			if r := t.find(id); r != nil {
				out = append(out, s.render(t, r, fields))
			}
		}
		return out, nil
	case "create":
		if !s.allowed(model, "create") {
			return nil, s.accessError(model, "create")
		}
		return s.create(t, kw["vals_list"], odooCtx)
	case "write":
		if !s.allowed(model, "write") {
			return nil, s.accessError(model, "write")
		}
		return s.write(t, ids, kw["vals"])
	}
	return nil, &odooError{name: "builtins.NotImplementedError", message: method, status: 500}
}

func (s *Server) allowed(model, op string) bool {
	if model == "ir.config_parameter" {
		return s.admin
	}
	return op == "read" || !s.readOnly
}

func (s *Server) accessError(model, op string) *odooError {
	return &odooError{name: "odoo.exceptions.AccessError", status: 403, message: fmt.Sprintf(
		"You are not allowed to %s '%s' (%s) records.\n\nThis operation is allowed for the following groups:\n\t- Role / Administrator", op, model, model)}
}

func (s *Server) param(method string, kw map[string]any) (any, *odooError) {
	key, _ := kw["key"].(string)
	if method == "get_param" {
		if v, ok := s.params[key]; ok {
			return v, nil
		}
		if d, ok := kw["default"]; ok {
			return d, nil
		}
		return false, nil
	}
	if !s.admin {
		return nil, s.accessError("ir.config_parameter", "write")
	}
	s.params[key] = fmt.Sprint(kw["value"])
	return true, nil
}

func (s *Server) search(t *table, method string, kw map[string]any) (any, *odooError) {
	domain := asList(kw["domain"])
	if _, ok := kw["domain"]; !ok && method != "search_read" {
		return nil, &odooError{name: "werkzeug.exceptions.UnprocessableEntity", message: "missing a required argument: 'domain'", status: 422}
	}
	limit := int(num(kw["limit"]))
	offset := int(num(kw["offset"]))
	order, _ := kw["order"].(string)
	var rows []map[string]any
	match := compile(domain)
	for _, r := range t.rows {
		if match(r) {
			rows = append(rows, r)
		}
	}
	if strings.HasSuffix(strings.TrimSpace(strings.ToLower(order)), "desc") {
		slices.Reverse(rows)
	}
	if method == "search_count" {
		return len(rows), nil
	}
	if offset > 0 {
		rows = rows[min(offset, len(rows)):]
	}
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	if method == "search" {
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, num(r["id"]))
		}
		return ids, nil
	}
	fields := stringList(kw["fields"])
	for _, f := range fields {
		if _, ok := t.model.Fields[f]; !ok && f != "id" {
			return nil, &odooError{name: "builtins.ValueError", message: fmt.Sprintf("Invalid field '%s' on model '%s'", f, t.model.Name), status: 500}
		}
	}
	out := make([]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.render(t, r, fields))
	}
	return out, nil
}

// create stores every vals or none. A list returns a list of ids, a single
// dict one id, as Odoo's model_create_multi does.
func (s *Server) create(t *table, raw any, odooCtx map[string]any) (any, *odooError) {
	single := false
	var list []map[string]any
	switch v := raw.(type) {
	case map[string]any:
		single, list = true, []map[string]any{v}
	case []any:
		for _, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, &odooError{name: "builtins.TypeError", message: "create() expects dicts", status: 500}
			}
			list = append(list, m)
		}
	default:
		return nil, &odooError{name: "werkzeug.exceptions.UnprocessableEntity", message: "missing a required argument: 'vals_list'", status: 422}
	}
	noPostprocess := odooCtx["image_no_postprocess"] == true
	idx := t.index()
	rows := make([]map[string]any, 0, len(list))
	blobs := make([][]byte, len(list))
	for i, vals := range list {
		if oerr := t.checkVals(vals); oerr != nil {
			return nil, oerr
		}
		row := normVals(vals)
		if t.model.Name == "ir.attachment" {
			var oerr *odooError
			if row, blobs[i], oerr = attachmentRow(row, noPostprocess); oerr != nil {
				return nil, oerr
			}
		}
		if oerr := t.checkRequired(row); oerr != nil {
			return nil, oerr
		}
		if oerr := s.refused(row); oerr != nil {
			return nil, oerr
		}
		if ext, _ := row["external_id"].(string); ext != "" && s.conflictExt[ext] {
			// Another writer wins the race: its record lands first.
			delete(s.conflictExt, ext)
			other := normVals(row)
			s.insert(t, other)
			_ = t.checkUnique(idx, other, true)
		}
		if oerr := t.checkUnique(idx, row, true); oerr != nil {
			return nil, oerr
		}
		rows = append(rows, row)
	}
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = s.insert(t, row)
		if blobs[i] != nil {
			s.blobs[ids[i]] = blobs[i]
		}
	}
	if single {
		return ids[0], nil
	}
	return ids, nil
}

func (s *Server) write(t *table, ids []int64, raw any) (any, *odooError) {
	vals, ok := raw.(map[string]any)
	if !ok {
		return nil, &odooError{name: "werkzeug.exceptions.UnprocessableEntity", message: "missing a required argument: 'vals'", status: 422}
	}
	if oerr := t.checkVals(vals); oerr != nil {
		return nil, oerr
	}
	vals = normVals(vals)
	if oerr := s.refused(vals); oerr != nil {
		return nil, oerr
	}
	updated := make([]map[string]any, 0, len(ids))
	idx := t.index()
	for _, id := range ids {
		r := t.find(id)
		if r == nil {
			return nil, &odooError{name: "odoo.exceptions.MissingError", status: 404, message: fmt.Sprintf(
				"Record does not exist or has been deleted.\n(Record: %s(%d,), User: %d)", t.model.Name, id, UID)}
		}
		next := make(map[string]any, len(r)+len(vals))
		for k, v := range r {
			next[k] = v
		}
		for k, v := range vals {
			next[k] = v
		}
		if oerr := t.checkUnique(idx, next, false); oerr != nil {
			return nil, oerr
		}
		updated = append(updated, next)
	}
	for _, next := range updated {
		r := t.find(num(next["id"]))
		for k, v := range next {
			r[k] = v
		}
		s.touch(t, r)
	}
	return true, nil
}

func stringList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
