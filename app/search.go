package app

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Search is a parsed list search: free text on the prompt plus qualifiers in
// the style of gh-dash ("red car model:sdxl is:failed by:mia"). Every field
// narrows the result (AND); several is:STATE words widen the states (OR).
// The store compiles it to one WHERE with bound parameters and the
// dashboard matches rows it already holds with Matches, so both agree.
type Search struct {
	Text     string   // prompt substring, case-insensitive ("" = any)
	Model    string   // model:NAME, exact ("" = any)
	Seed     *int64   // seed:N
	Statuses []Status // is:STATE, any of them
	By       string   // by:NAME, the requester
	Batch    string   // batch:ID, or a unique start of it
	Fav      bool     // is:fav
	Approval Approval // is:approved / is:rejected / is:undecided ("" = any)
	After    *time.Time
	Before   *time.Time
}

// Qualifiers lists the search keys, for help and error messages.
var Qualifiers = []string{"model:", "seed:", "is:", "by:", "batch:", "after:", "before:"}

// Empty reports whether s selects everything.
func (s Search) Empty() bool {
	return s.Text == "" && s.Model == "" && s.Seed == nil && len(s.Statuses) == 0 && s.By == "" &&
		s.Batch == "" && !s.Fav && s.Approval == "" && s.After == nil && s.Before == nil
}

// NeedsImages reports whether the search reads the images' curation
// columns (favourite, approval), which a Request does not carry.
func (s Search) NeedsImages() bool { return s.Fav || s.Approval != "" }

// ParseSearchQuery parses what a person typed in the search bar or passed to
// `status --search`. Words are split on spaces; "double quotes" keep a phrase
// (and a colon) as free text. A word NAME:VALUE whose NAME is letters only
// is a qualifier and must be a known one, so a typo such as mdl:sdxl is
// reported instead of silently searching the prompt for it.
func ParseSearchQuery(in string) (Search, error) {
	var (
		s    Search
		text []string
	)
	words, err := searchWords(in)
	if err != nil {
		return Search{}, err
	}
	for _, w := range words {
		if w.quoted {
			text = append(text, w.text)
			continue
		}
		name, value, ok := strings.Cut(w.text, ":")
		if !ok || name == "" || !isLetters(name) {
			text = append(text, w.text)
			continue
		}
		if err := s.apply(strings.ToLower(name), value); err != nil {
			return Search{}, err
		}
	}
	s.Text = strings.Join(text, " ")
	if s.After != nil && s.Before != nil && !s.After.Before(*s.Before) {
		return Search{}, Errorf(EINVALID, "search: after:%s is not before before:%s, so nothing can match",
			s.After.Format(time.DateOnly), s.Before.Format(time.DateOnly))
	}
	return s, nil
}

func (s *Search) apply(name, value string) error {
	if value == "" {
		return Errorf(EINVALID, "search: %s: needs a value, e.g. %s", name, qualifierExample(name))
	}
	switch name {
	case "model":
		s.Model = value
	case "seed":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || n > MaxSeed {
			return Errorf(EINVALID, "search: seed:%s: a seed is a whole number from 0 to %d", value, int64(MaxSeed))
		}
		s.Seed = &n
	case "is":
		return s.applyIs(strings.ToLower(value))
	case "by":
		s.By = value
	case "batch":
		s.Batch = value
	case "after", "before":
		t, err := parseSearchDate(value)
		if err != nil {
			return Errorf(EINVALID, "search: %s:%s: write a date as YYYY-MM-DD (UTC), e.g. %s:2026-11-01", name, value, name)
		}
		if name == "after" {
			s.After = &t
		} else {
			s.Before = &t
		}
	default:
		return Errorf(EINVALID, "search: unknown qualifier %q: use %s, or put the word in \"double quotes\" to search the prompt for it",
			name+":", strings.Join(Qualifiers, " "))
	}
	return nil
}

func (s *Search) applyIs(value string) error {
	switch value {
	case "fav", "favorite", "favourite":
		s.Fav = true
	case string(ApprovalApproved), string(ApprovalRejected), string(ApprovalUndecided):
		s.Approval = Approval(value)
	default:
		st := Status(value)
		if !st.Valid() {
			return Errorf(EINVALID, "search: is:%s: use a state (queued, sending, processing, completed, failed, initiation_failed, timed_out, cancelled), fav, approved, rejected or undecided", value)
		}
		for _, have := range s.Statuses {
			if have == st {
				return nil
			}
		}
		s.Statuses = append(s.Statuses, st)
	}
	return nil
}

// parseSearchDate reads a day (YYYY-MM-DD, UTC midnight) or an RFC 3339 time.
func parseSearchDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), err
}

func qualifierExample(name string) string {
	switch name {
	case "model":
		return "model:sdxl"
	case "seed":
		return "seed:123"
	case "is":
		return "is:failed"
	case "by":
		return "by:alice"
	case "batch":
		return "batch:01JDX3V6"
	case "after", "before":
		return name + ":2026-11-01"
	}
	return name + ":VALUE"
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

type searchWord struct {
	text   string
	quoted bool
}

// searchWords splits on white space, keeping "quoted phrases" whole.
func searchWords(in string) ([]searchWord, error) {
	var (
		out []searchWord
		cur strings.Builder
	)
	rs := []rune(in)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '"':
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if rs[j] == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return nil, Errorf(EINVALID, "search: a \" has no closing \"")
			}
			if cur.Len() > 0 {
				out = append(out, searchWord{text: cur.String()})
				cur.Reset()
			}
			if phrase := strings.TrimSpace(string(rs[i+1 : end])); phrase != "" {
				out = append(out, searchWord{text: phrase, quoted: true})
			}
			i = end
		case unicode.IsSpace(r):
			if cur.Len() > 0 {
				out = append(out, searchWord{text: cur.String()})
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, searchWord{text: cur.String()})
	}
	return out, nil
}

// Matches reports whether r is selected by the search, for rows the
// dashboard already holds (a fresh submit shown before the reload). The
// favourite and approval qualifiers need image rows the Request does not
// carry: a search using them matches nothing here, and the reload brings
// the right rows.
func (s Search) Matches(r Request) bool {
	if s.NeedsImages() {
		return false
	}
	if s.Batch != "" && !strings.HasPrefix(r.BatchID, strings.ToUpper(s.Batch)) {
		return false
	}
	if s.Text != "" && !strings.Contains(strings.ToLower(r.Params.Prompt), strings.ToLower(s.Text)) {
		return false
	}
	if s.Model != "" && r.Params.Model != s.Model {
		return false
	}
	if s.Seed != nil && r.Params.Seed != *s.Seed {
		return false
	}
	if len(s.Statuses) > 0 && !containsStatus(s.Statuses, r.Status) {
		return false
	}
	if s.By != "" && r.RequestedBy != s.By {
		return false
	}
	if s.After != nil && r.CreatedAt.Before(*s.After) {
		return false
	}
	if s.Before != nil && !r.CreatedAt.Before(*s.Before) {
		return false
	}
	return true
}

func containsStatus(list []Status, st Status) bool {
	for _, s := range list {
		if s == st {
			return true
		}
	}
	return false
}

// String renders the search back in its own syntax (normalised), for logs
// and for the CLI's echo of what it searched.
func (s Search) String() string {
	var parts []string
	if s.Text != "" {
		parts = append(parts, `"`+s.Text+`"`)
	}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+":"+v)
		}
	}
	add("model", s.Model)
	if s.Seed != nil {
		add("seed", strconv.FormatInt(*s.Seed, 10))
	}
	for _, st := range s.Statuses {
		add("is", string(st))
	}
	if s.Fav {
		add("is", "fav")
	}
	add("is", string(s.Approval))
	add("by", s.By)
	add("batch", s.Batch)
	if s.After != nil {
		add("after", s.After.Format(time.RFC3339))
	}
	if s.Before != nil {
		add("before", s.Before.Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}
