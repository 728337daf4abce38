package odootest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Field types the fake knows; they decide what search_read writes for an
// empty value (Odoo writes false for empty Char/Many2one, 0 for numbers).
const (
	Char     = "char"
	Text     = "text"
	Int      = "integer"
	Float    = "float"
	Bool     = "boolean"
	Datetime = "datetime"
	Select   = "selection"
	Many2one = "many2one"
	One2many = "one2many"
	Binary   = "binary"
)

// Field is one column of a fake model.
type Field struct {
	Type     string
	Required bool
	Comodel  string // many2one / one2many target
	Inverse  string // one2many: the many2one on Comodel pointing back
}

// Model is a fake model's schema.
type Model struct {
	Name   string
	Fields map[string]Field
	// Unique lists field sets that must be unique together, with Odoo's
	// message (the addon's models.Constraint).
	Unique []Unique
}

// Unique is a unique constraint.
type Unique struct {
	Fields  []string
	Message string
}

// Default models: the addon's (DESIGN §6), plus the Odoo ones sync uses.
func DefaultModels(requestModel, imageModel string) []Model {
	return []Model{
		{Name: requestModel, Fields: map[string]Field{
			"name": {Type: Char, Required: true}, "external_id": {Type: Char, Required: true},
			"prompt": {Type: Text, Required: true}, "negative_prompt": {Type: Text},
			"ai_model": {Type: Char}, "resolution": {Type: Char}, "width": {Type: Int}, "height": {Type: Int},
			"aspect_ratio": {Type: Char}, "seed": {Type: Char}, "num_images": {Type: Int},
			"state": {Type: Select}, "error_code": {Type: Char}, "error_message": {Type: Text},
			"requested_by": {Type: Char}, "requested_at": {Type: Datetime}, "completed_at": {Type: Datetime},
			"n8n_execution_id":    {Type: Char},
			"app_updated_at":      {Type: Char},
			"generated_image_ids": {Type: One2many, Comodel: imageModel, Inverse: "request_id"},
			"write_date":          {Type: Datetime},
			// The queue (addon 19.0.1.2.0).
			"origin": {Type: Select}, "claimed_by": {Type: Char}, "claimed_at": {Type: Datetime},
			"cancel_requested": {Type: Bool}, "image_count": {Type: Int}, // computed: see render
			// Curation (addon 19.0.1.3.0).
			"batch_ref": {Type: Char},
		}, Unique: []Unique{{Fields: []string{"external_id"}, Message: "external_id must be unique"}}},
		{Name: aiModelModel, Fields: map[string]Field{
			"name": {Type: Char, Required: true}, "sequence": {Type: Int}, "is_default": {Type: Bool},
			"active": {Type: Bool},
		}, Unique: []Unique{{Fields: []string{"name"}, Message: "model names are unique"}}},
		{Name: imageModel, Fields: map[string]Field{
			"request_id":    {Type: Many2one, Required: true, Comodel: requestModel},
			"attachment_id": {Type: Many2one, Comodel: "ir.attachment"},
			"sha256":        {Type: Char, Required: true}, "mimetype": {Type: Char}, "width": {Type: Int},
			"height": {Type: Int}, "file_size": {Type: Int}, "seed": {Type: Char}, "sequence": {Type: Int},
			"name": {Type: Char},
			// Curation (addon 19.0.1.3.0).
			"favorite": {Type: Bool}, "approval_state": {Type: Select}, "approved_by": {Type: Char},
			"approved_at": {Type: Datetime}, "app_decided_at": {Type: Char},
		}, Unique: []Unique{{Fields: []string{"request_id", "sha256"}, Message: "sha256 must be unique per request"}}},
		{Name: "ir.attachment", Fields: map[string]Field{
			"name": {Type: Char, Required: true}, "datas": {Type: Binary}, "mimetype": {Type: Char},
			"res_model": {Type: Char}, "res_id": {Type: Int}, "checksum": {Type: Char}, "file_size": {Type: Int},
		}},
		{Name: "ir.config_parameter", Fields: map[string]Field{"key": {Type: Char, Required: true}, "value": {Type: Text}},
			Unique: []Unique{{Fields: []string{"key"}, Message: "Key must be unique."}}},
		{Name: "res.users", Fields: map[string]Field{"name": {Type: Char}, "login": {Type: Char}}},
	}
}

// odooError is an Odoo exception raised by the fake ORM; the protocol
// layer renders it in JSON-2 or JSON-RPC shape.
type odooError struct {
	name    string // e.g. odoo.exceptions.ValidationError
	message string
	status  int // JSON-2 HTTP status (UserError 422, AccessError 403, MissingError 404)
}

func (e *odooError) Error() string { return e.name + ": " + e.message }

func validationError(msg string) *odooError {
	return &odooError{name: "odoo.exceptions.ValidationError", message: "The operation cannot be completed: " + msg, status: 422}
}

// table holds one model's records in id order.
type table struct {
	model Model
	rows  []map[string]any
}

func (t *table) find(id int64) map[string]any {
	i, ok := slices.BinarySearchFunc(t.rows, id, func(r map[string]any, id int64) int { return cmpInt(num(r["id"]), id) })
	if !ok {
		return nil
	}
	return t.rows[i]
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkVals rejects unknown fields the way Odoo does (ValueError, a 500).
func (t *table) checkVals(vals map[string]any) *odooError {
	for k := range vals {
		if _, ok := t.model.Fields[k]; !ok {
			return &odooError{name: "builtins.ValueError", message: fmt.Sprintf("Invalid field '%s' in '%s'", k, t.model.Name), status: 500}
		}
	}
	return nil
}

func (t *table) checkRequired(vals map[string]any) *odooError {
	for name, f := range t.model.Fields {
		if !f.Required {
			continue
		}
		if v, ok := vals[name]; !ok || v == nil || v == false || v == "" {
			return validationError(fmt.Sprintf("Missing required value for the field '%s' (%s).\nModel: '%s' (%s)\n- create/update: a mandatory field is not set\n",
				name, name, t.model.Name, t.model.Name))
		}
	}
	return nil
}

// uniqueIndex holds the keys of every unique constraint over the stored
// rows (and those of the create call so far), so a create of many records
// checks each in O(1) instead of against every row.
type uniqueIndex map[string]int64 // constraint#key → row id (0 = pending)

func uniqueKey(u Unique, row map[string]any) string {
	key := strings.Join(u.Fields, ",") + "#"
	for _, f := range u.Fields {
		key += fmt.Sprint(norm(row[f])) + "\x00"
	}
	return key
}

func (t *table) index() uniqueIndex {
	idx := uniqueIndex{}
	for _, r := range t.rows {
		for _, u := range t.model.Unique {
			idx[uniqueKey(u, r)] = num(r["id"])
		}
	}
	return idx
}

// checkUnique fails if row collides with another row in idx; add records
// row's keys for the rows that follow in the same call.
func (t *table) checkUnique(idx uniqueIndex, row map[string]any, add bool) *odooError {
	for _, u := range t.model.Unique {
		if id, ok := idx[uniqueKey(u, row)]; ok && (id == 0 || id != num(row["id"])) {
			return validationError(u.Message)
		}
	}
	if add {
		for _, u := range t.model.Unique {
			idx[uniqueKey(u, row)] = num(row["id"])
		}
	}
	return nil
}

// render returns a row as search_read would: requested fields (all when
// none), empty values as Odoo writes them.
func (s *Server) render(t *table, row map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		for name, f := range t.model.Fields {
			if f.Type != Binary {
				fields = append(fields, name)
			}
		}
	}
	out := map[string]any{"id": num(row["id"])}
	for _, name := range fields {
		f, ok := t.model.Fields[name]
		if !ok {
			continue
		}
		v, set := row[name]
		if name == "image_count" && t.model.Name == s.cfg.RequestModel {
			// The addon computes it from the images; so does the fake.
			n := int64(0)
			for _, img := range s.tables[s.cfg.ImageModel].rows {
				if num(img["request_id"]) == num(row["id"]) {
					n++
				}
			}
			out[name] = n
			continue
		}
		switch f.Type {
		case Int:
			out[name] = num(v)
		case Float:
			fv, _ := v.(float64)
			out[name] = fv
		case Bool:
			out[name] = v == true
		case Many2one:
			id := num(v)
			if id == 0 {
				out[name] = false
			} else {
				out[name] = []any{id, s.displayName(f.Comodel, id)}
			}
		case One2many:
			ids := []int64{}
			if ct := s.tables[f.Comodel]; ct != nil {
				for _, r := range ct.rows {
					if num(r[f.Inverse]) == num(row["id"]) {
						ids = append(ids, num(r["id"]))
					}
				}
			}
			out[name] = ids
		case Binary:
			// Odoo reads an attachment's datas as base64 of the stored bytes.
			if b, ok := s.blobs[num(row["id"])]; ok && name == "datas" {
				out[name] = base64.StdEncoding.EncodeToString(b)
			} else {
				out[name] = false
			}
		default:
			if !set || v == nil || v == "" {
				out[name] = false
			} else {
				out[name] = v
			}
		}
	}
	return out
}

func (s *Server) displayName(model string, id int64) string {
	if t := s.tables[model]; t != nil {
		if r := t.find(id); r != nil {
			if n, ok := r["name"].(string); ok && n != "" {
				return n
			}
		}
	}
	return fmt.Sprintf("%s,%d", model, id)
}

// compile turns a domain (a list of [field, op, value] terms, all of which
// must hold: the implicit '&') into a predicate; "in" lists become sets
// once, not per row.
func compile(domain []any) func(row map[string]any) bool {
	type term struct {
		field, op string
		value     string
		set       map[string]bool
	}
	var terms []term
	for _, raw := range domain {
		t, ok := raw.([]any)
		if !ok || len(t) != 3 {
			continue // '&' operators: the fake supports conjunctions only
		}
		field, _ := t[0].(string)
		op, _ := t[1].(string)
		tm := term{field: field, op: op, value: fmt.Sprint(norm(t[2]))}
		if op == "in" || op == "not in" {
			tm.set = map[string]bool{}
			list, _ := t[2].([]any)
			for _, v := range list {
				tm.set[fmt.Sprint(norm(v))] = true
			}
		}
		terms = append(terms, tm)
	}
	return func(row map[string]any) bool {
		for _, t := range terms {
			got := fmt.Sprint(norm(row[t.field]))
			switch t.op {
			case "=":
				if got != t.value {
					return false
				}
			case "!=":
				if got == t.value {
					return false
				}
			case "in", "not in":
				if t.set[got] != (t.op == "in") {
					return false
				}
			case ">", ">=", "<", "<=":
				// Text order: right for Odoo's fixed-width datetimes, what
				// the team view compares (write_date).
				c := strings.Compare(got, t.value)
				if !(t.op == ">" && c > 0 || t.op == ">=" && c >= 0 || t.op == "<" && c < 0 || t.op == "<=" && c <= 0) {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
}

// norm makes stored and JSON-decoded values comparable: numbers as int64
// when whole, a many2one pair as its id, empty as false.
func norm(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case int:
		return int64(x)
	case []any:
		if len(x) == 2 {
			if _, ok := x[1].(string); ok {
				return norm(x[0])
			}
		}
	case nil:
		return false
	case string:
		if x == "" {
			return false
		}
	}
	return v
}

func num(v any) int64 {
	switch x := norm(v).(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// attachmentRow decodes datas like ir.attachment does: the bytes are kept,
// checksum (SHA-1) and file_size computed. Without image_no_postprocess,
// real Odoo shrinks images above 1920×1920; the fake marks every image it
// would have touched by keeping only half its bytes, so a test that forgot
// the context sees a hash mismatch.
func attachmentRow(vals map[string]any, noPostprocess bool) (map[string]any, []byte, *odooError) {
	raw, _ := vals["datas"].(string)
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, nil, &odooError{name: "binascii.Error", message: "Incorrect padding", status: 500}
	}
	mime, _ := vals["mimetype"].(string)
	if !noPostprocess && strings.HasPrefix(mime, "image/") && len(data) > 1 {
		data = data[:len(data)/2]
	}
	row := map[string]any{}
	for k, v := range vals {
		if k != "datas" {
			row[k] = v
		}
	}
	sum := sha1.Sum(data)
	row["checksum"] = hex.EncodeToString(sum[:])
	row["file_size"] = int64(len(data))
	return row, data, nil
}
