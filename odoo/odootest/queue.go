package odootest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The addon's request queue (19.0.1.2.0), with the semantics of
// models/request_queue.py: influence_gen_claim releases claims still
// queued after timeout seconds, then hands queued Odoo-origin requests
// (unclaimed, or this host's own with their first claimed_at) to one host,
// oldest first, only for the host's models when it names them; the
// fake's lock stands in for FOR UPDATE SKIP LOCKED.
const (
	claimMethod   = "influence_gen_claim"
	publishMethod = "influencegen_publish"
	aiModelModel  = "influence_gen.ai_model"
	odooTime      = "2006-01-02 15:04:05"
)

// claimFields are the addon's CLAIM_FIELDS.
var claimFields = []string{"external_id", "name", "prompt", "negative_prompt", "ai_model", "width", "height",
	"resolution", "aspect_ratio", "seed", "num_images", "requested_by", "requested_at", "claimed_by", "claimed_at"}

var finished = []string{"completed", "failed", "initiation_failed", "timed_out", "cancelled"}

func (s *Server) claim(t *table, kw map[string]any) (any, *odooError) {
	host, _ := kw["host"].(string)
	limit := int(num(kw["limit"]))
	timeout := num(kw["timeout"])
	if _, ok := kw["limit"]; !ok {
		limit = 10
	}
	if _, ok := kw["timeout"]; !ok {
		timeout = 600
	}
	if strings.TrimSpace(host) == "" || len(host) > 128 {
		return nil, validationError("influence_gen_claim: host must be a name of 1 to 128 characters")
	}
	if limit < 1 || limit > 100 {
		return nil, validationError("influence_gen_claim: limit must be 1 to 100")
	}
	if timeout <= 0 {
		return nil, validationError("influence_gen_claim: timeout must be a positive number of seconds")
	}
	var models []string
	for _, m := range asList(kw["models"]) {
		if name, ok := m.(string); ok {
			models = append(models, name)
		}
	}
	now := s.cfg.Now().UTC()
	cutoff := now.Add(-time.Duration(timeout) * time.Second).Format(odooTime)
	// Its own claims first (read, not written), then unclaimed ones.
	var own, free []map[string]any
	for _, r := range t.rows {
		if r["origin"] != "odoo" || r["state"] != "queued" {
			continue
		}
		by, _ := r["claimed_by"].(string)
		at, _ := r["claimed_at"].(string)
		if by != "" && at < cutoff {
			r["claimed_by"], r["claimed_at"], by = nil, nil, ""
		}
		model, _ := r["ai_model"].(string)
		if r["cancel_requested"] == true || (len(models) > 0 && !slices.Contains(models, model)) {
			continue
		}
		switch by {
		case host:
			own = append(own, r)
		case "":
			free = append(free, r)
		}
	}
	byAge := func(a, b map[string]any) int {
		if c := strings.Compare(fmt.Sprint(a["requested_at"]), fmt.Sprint(b["requested_at"])); c != 0 {
			return c
		}
		return cmpInt(num(a["id"]), num(b["id"]))
	}
	slices.SortStableFunc(own, byAge)
	slices.SortStableFunc(free, byAge)
	picked := append(own[:min(limit, len(own)):min(limit, len(own))], free[:min(limit-min(limit, len(own)), len(free))]...)
	slices.SortStableFunc(picked, byAge)
	out := []any{}
	for _, r := range picked {
		if by, _ := r["claimed_by"].(string); by != host {
			r["claimed_at"] = now.Format(odooTime)
			r["claimed_by"] = host
			s.touch(t, r)
		}
		out = append(out, s.render(t, r, claimFields))
	}
	cancel := []any{}
	for _, r := range t.rows {
		state, _ := r["state"].(string)
		if r["cancel_requested"] == true && !slices.Contains(finished, state) &&
			(r["claimed_by"] == host || r["origin"] != "odoo") {
			if ext, _ := r["external_id"].(string); ext != "" {
				cancel = append(cancel, ext)
			}
		}
	}
	return map[string]any{"requests": out, "cancel": cancel}, nil
}

func (s *Server) publish(t *table, kw map[string]any) (any, *odooError) {
	var names []string
	for _, v := range asList(kw["names"]) {
		n, _ := v.(string)
		if strings.TrimSpace(n) == "" {
			return nil, validationError("influencegen_publish expects a list of model names")
		}
		if !slices.Contains(names, strings.TrimSpace(n)) {
			names = append(names, strings.TrimSpace(n))
		}
	}
	def, _ := kw["default_model"].(string)
	byName := map[string]map[string]any{}
	for _, r := range t.rows {
		n, _ := r["name"].(string)
		byName[n] = r
		r["active"], r["is_default"] = false, false
	}
	for i, n := range names {
		r := byName[n]
		if r == nil {
			r = map[string]any{"name": n}
			s.insert(t, r)
		}
		r["sequence"], r["active"], r["is_default"] = float64(i), true, n == def
	}
	if res, _ := kw["default_resolution"].(string); res != "" {
		s.params["influence_gen.default_resolution"] = res
	}
	return len(names), nil
}

// Generate stores a request as a person's Generate button in Odoo leaves
// it (origin odoo, queued, a fresh ULID, requested_by the user) and
// returns its external id.
func (s *Server) Generate(prompt, user string, extra map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ext := newULID(s.cfg.Now())
	row := map[string]any{"name": prompt, "prompt": prompt, "external_id": ext, "origin": "odoo", "state": "queued",
		"requested_by": user, "requested_at": s.cfg.Now().UTC().Format(odooTime), "ai_model": "sdxl",
		"resolution": "1024x1024", "width": float64(1024), "height": float64(1024), "aspect_ratio": "1:1",
		"seed": "7", "num_images": float64(1), "write_date": s.cfg.Now().UTC().Format(odooTime)}
	for k, v := range normVals(extra) {
		row[k] = v
	}
	s.insert(s.tables[s.cfg.RequestModel], row)
	return ext
}

// CancelInOdoo is a person's Cancel on a request: a queued Odoo request no
// host claimed ends at once; any other unfinished one gets cancel_requested.
func (s *Server) CancelInOdoo(externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.tables[s.cfg.RequestModel].rows {
		if r["external_id"] != externalID {
			continue
		}
		if r["origin"] == "odoo" && r["state"] == "queued" && r["claimed_by"] == nil {
			r["state"] = "cancelled"
		} else {
			r["cancel_requested"] = true
		}
		s.touch(s.tables[s.cfg.RequestModel], r)
	}
}

// newULID is the addon's new_ulid.
func newULID(now time.Time) string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:])
	out := make([]byte, 26)
	var acc uint64
	bits := 0
	pos := 25
	for i := 15; i >= 0; i-- {
		acc |= uint64(b[i]) << bits
		bits += 8
		for bits >= 5 && pos >= 0 {
			out[pos] = crockford[acc&31]
			acc >>= 5
			bits -= 5
			pos--
		}
	}
	if pos == 0 {
		out[0] = crockford[acc&31]
	}
	return string(out)
}
