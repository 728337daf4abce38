package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestSearchQueryParsesTextAndQualifiers(t *testing.T) {
	day := func(s string) *time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	seed := int64(123)
	tests := []struct {
		name string
		in   string
		want app.Search
	}{
		{"plain words are one prompt phrase", "red car", app.Search{Text: "red car"}},
		{"words around qualifiers join into the phrase", "red model:sdxl car", app.Search{Text: "red car", Model: "sdxl"}},
		{"by names the requester", "by:mia red car", app.Search{Text: "red car", By: "mia"}},
		{"seed is a number", "seed:123", app.Search{Seed: &seed}},
		{"is takes a state name", "is:failed", app.Search{Statuses: []app.Status{app.StatusFailed}}},
		{"several states widen", "is:failed is:timed_out is:failed", app.Search{Statuses: []app.Status{app.StatusFailed, app.StatusTimedOut}}},
		{"is:fav and approval", "is:fav is:approved", app.Search{Fav: true, Approval: app.ApprovalApproved}},
		{"qualifier names ignore case", "MODEL:flux-dev IS:Completed", app.Search{Model: "flux-dev", Statuses: []app.Status{app.StatusCompleted}}},
		{"batch keeps its id", "batch:01JDX", app.Search{Batch: "01JDX"}},
		{"dates are UTC days", "after:2026-11-01 before:2026-11-05", app.Search{After: day("2026-11-01"), Before: day("2026-11-05")}},
		{"a colon after digits is text", "ratio 16:9", app.Search{Text: "ratio 16:9"}},
		{"quotes keep a qualifier-like phrase as text", `"style:anime" girl`, app.Search{Text: "style:anime girl"}},
		{"spaces only is empty", "   ", app.Search{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := app.ParseSearchQuery(tt.in)
			if err != nil {
				t.Fatalf("ParseSearchQuery(%q): %v", tt.in, err)
			}
			if got.String() != tt.want.String() {
				t.Errorf("ParseSearchQuery(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSearchQueryErrorsNameTheWordAndTheFix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mdl:sdxl", `unknown qualifier "mdl:"`},
		{"see https://x", `unknown qualifier "https:"`},
		{"seed:abc", "seed:abc: a seed is a whole number"},
		{"seed:4294967296", "from 0 to 4294967295"},
		{"is:done", "is:done: use a state"},
		{"after:2026-13-01", "after:2026-13-01: write a date as YYYY-MM-DD"},
		{"before:yesterday", "before:yesterday"},
		{"by:", "by: needs a value, e.g. by:alice"},
		{`"open quote`, "has no closing"},
		{"after:2026-11-05 before:2026-11-01", "nothing can match"},
	}
	for _, tt := range tests {
		_, err := app.ParseSearchQuery(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSearchQuery(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
		if app.ErrorCode(err) != app.EINVALID {
			t.Errorf("ParseSearchQuery(%q) code = %q, want invalid", tt.in, app.ErrorCode(err))
		}
	}
}

func TestSearchMatchesTheRowsTheStoreWouldSelect(t *testing.T) {
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	r := app.Request{Params: app.GenerationParams{Prompt: "Red Car at dusk", Model: "sdxl", Seed: 7},
		Status: app.StatusFailed, RequestedBy: "mia", CreatedAt: at}
	tests := []struct {
		in   string
		want bool
	}{
		{"red car", true},
		{"blue", false},
		{"model:sdxl seed:7", true},
		{"seed:8", false},
		{"is:completed is:failed", true},
		{"is:completed", false},
		{"by:mia", true},
		{"by:ola", false},
		{"after:2026-11-03 before:2026-11-04", true},
		{"after:2026-11-04", false},
		{"before:2026-11-03", false},
		{"is:fav", false}, // needs image rows: the reload decides
	}
	for _, tt := range tests {
		s, err := app.ParseSearchQuery(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if got := s.Matches(r); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseSearchQuery: any input parses or gives an invalid error, never a
// panic, and a parsed search renders to a form that parses to the same.
func FuzzParseSearchQuery(f *testing.F) {
	for _, s := range []string{"red car", "model:sdxl is:failed", `"a:b" by:mia`, "after:2026-11-01", "seed:-1", `"`, "is:", "::", "é:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := app.ParseSearchQuery(in)
		if err != nil {
			if app.ErrorCode(err) != app.EINVALID {
				t.Fatalf("ParseSearchQuery(%q) error code %q: %v", in, app.ErrorCode(err), err)
			}
			return
		}
		if strings.Contains(s.Text, `"`) {
			return // a phrase holding a quote has no quoted rendering to round-trip
		}
		again, err := app.ParseSearchQuery(s.String())
		if err != nil {
			t.Fatalf("rendered %q of %q does not parse: %v", s.String(), in, err)
		}
		if again.String() != s.String() {
			t.Fatalf("round trip of %q: %q then %q", in, s.String(), again.String())
		}
	})
}
