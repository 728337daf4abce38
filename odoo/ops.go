package odoo

import (
	"context"
	"encoding/json"
)

// The typed helpers below are the only shapes the sync uses; each maps to
// one RPC and to the argument forms both protocols accept (recorded in
// /shared/peers/odoo: create takes a positional vals list in JSON-RPC and
// vals_list in JSON-2).

// SearchRead runs search_read(domain, fields) and decodes the records.
func SearchRead(ctx context.Context, c Client, model string, domain []any, fields []string, limit int, out any) error {
	args := []Arg{Pos("domain", domain), KW("fields", fields)}
	if limit > 0 {
		args = append(args, KW("limit", limit))
	}
	return c.Call(ctx, model, "search_read", nil, args, out)
}

// Create creates one record per vals in one call and returns their ids in
// the same order.
func Create(ctx context.Context, c Client, model string, vals []map[string]any, odooContext map[string]any) ([]int64, error) {
	args := []Arg{Pos("vals_list", vals)}
	if odooContext != nil {
		args = append(args, KW("context", odooContext))
	}
	var ids []int64
	if err := c.Call(ctx, model, "create", nil, args, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// Write sets the same vals on every id in one call.
func Write(ctx context.Context, c Client, model string, ids []int64, vals map[string]any) error {
	var ok json.RawMessage
	return c.Call(ctx, model, "write", ids, []Arg{Pos("vals", vals)}, &ok)
}

// Record is one search_read row. Odoo writes empty Char fields as false and
// many2one fields as [id, name], so values stay loosely typed.
type Record map[string]any

// ID returns the record id.
func (r Record) ID() int64 { return asInt(r["id"]) }

// String returns a Char field, "" for Odoo's false.
func (r Record) String(field string) string {
	s, _ := r[field].(string)
	return s
}

// Many2oneID returns the id of a many2one ([id, name] or false).
func (r Record) Many2oneID(field string) int64 {
	switch v := r[field].(type) {
	case []any:
		if len(v) > 0 {
			return asInt(v[0])
		}
	case float64:
		return int64(v)
	}
	return 0
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}
