package store

import (
	"strings"

	"github.com/influencegen/influencegen/app"
)

// searchConds compiles a parsed search to WHERE conditions on requests
// (t is the table's name or alias with its dot: "requests.", "n."). The
// SQL text depends only on which qualifiers are present (and how many
// states); every value typed by a person travels as a bound parameter.
func searchConds(s app.Search, t string) ([]string, []any) {
	var (
		conds []string
		args  []any
	)
	if s.Text != "" {
		// prompt_fold is lowered by Go (Unicode-aware) on insert; instr is a
		// plain substring test, so % and _ in the search mean themselves.
		conds = append(conds, "instr("+t+"prompt_fold, ?) > 0")
		args = append(args, strings.ToLower(s.Text))
	}
	if s.Model != "" {
		conds = append(conds, t+"model = ?")
		args = append(args, s.Model)
	}
	if s.Seed != nil {
		conds = append(conds, t+"seed = ?")
		args = append(args, *s.Seed)
	}
	if len(s.Statuses) > 0 {
		ph := make([]string, len(s.Statuses))
		for i, st := range s.Statuses {
			ph[i] = "?"
			args = append(args, string(st))
		}
		conds = append(conds, t+"status IN ("+strings.Join(ph, ", ")+")")
	}
	if s.By != "" {
		conds = append(conds, t+"requested_by = ?")
		args = append(args, s.By)
	}
	if s.After != nil {
		conds = append(conds, t+"created_at >= ?")
		args = append(args, fmtTime(*s.After))
	}
	if s.Before != nil {
		conds = append(conds, t+"created_at < ?")
		args = append(args, fmtTime(*s.Before))
	}
	cc, ca := curationConds(s, t)
	return append(conds, cc...), append(args, ca...)
}

// curationConds covers is:fav, is:approved/rejected/undecided (a request
// with at least one such image; the partial indexes images_favorite and
// images_approval serve them) and batch: (the id or its start, a range on
// the requests_batch index).
func curationConds(s app.Search, t string) ([]string, []any) {
	var (
		conds []string
		args  []any
	)
	if s.Fav {
		conds = append(conds, "EXISTS (SELECT 1 FROM images i WHERE i.request_id = "+t+"id AND i.favorite = 1)")
	}
	if s.Approval != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM images i WHERE i.request_id = "+t+"id AND i.approval = ?)")
		args = append(args, string(s.Approval))
	}
	if s.Batch != "" {
		// Batch ids are ULIDs (upper-case Crockford): a prefix is a range.
		conds = append(conds, t+"batch_id >= ? AND "+t+"batch_id < ? || '~'")
		prefix := strings.ToUpper(s.Batch)
		args = append(args, prefix, prefix)
	}
	return conds, args
}
