package store

import (
	"strings"

	"github.com/influencegen/influencegen/app"
)

// searchConds compiles a parsed search to WHERE conditions on requests. The
// SQL text depends only on which qualifiers are present (and how many
// states); every value typed by a person travels as a bound parameter.
func searchConds(s app.Search) ([]string, []any, error) {
	var (
		conds []string
		args  []any
	)
	if s.Text != "" {
		// prompt_fold is lowered by Go (Unicode-aware) on insert; instr is a
		// plain substring test, so % and _ in the search mean themselves.
		conds = append(conds, "instr(prompt_fold, ?) > 0")
		args = append(args, strings.ToLower(s.Text))
	}
	if s.Model != "" {
		conds = append(conds, "model = ?")
		args = append(args, s.Model)
	}
	if s.Seed != nil {
		conds = append(conds, "seed = ?")
		args = append(args, *s.Seed)
	}
	if len(s.Statuses) > 0 {
		ph := make([]string, len(s.Statuses))
		for i, st := range s.Statuses {
			ph[i] = "?"
			args = append(args, string(st))
		}
		conds = append(conds, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if s.By != "" {
		conds = append(conds, "requested_by = ?")
		args = append(args, s.By)
	}
	if s.After != nil {
		conds = append(conds, "created_at >= ?")
		args = append(args, fmtTime(*s.After))
	}
	if s.Before != nil {
		conds = append(conds, "created_at < ?")
		args = append(args, fmtTime(*s.Before))
	}
	cc, ca, err := curationConds(s)
	if err != nil {
		return nil, nil, err
	}
	return append(conds, cc...), append(args, ca...), nil
}

// curationConds covers is:fav, is:approved/rejected/undecided and batch:,
// which read the favourite/approval columns of images and the batch id of
// requests.
func curationConds(s app.Search) ([]string, []any, error) {
	if !s.NeedsCuration() {
		return nil, nil, nil
	}
	return nil, nil, app.Errorf(app.EINVALID, "search: is:fav, is:approved, is:rejected, is:undecided and batch: are not available yet (favourites, approval and batches are not stored in this build)")
}
