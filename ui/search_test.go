package ui

import (
	"strings"
	"testing"
)

// The list follows the search while it is typed, qualifiers included, and
// a qualifier that does not parse is reported on the search line while the
// last good rows stay.
func TestSearchAppliesAsYouTypeAndShowsErrorsInline(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "/")
	m = typeText(t, m, "model:flux-dev")
	if len(m.list.rows) != 2 {
		t.Fatalf("model:flux-dev typed (no enter): %d rows, want the 2 flux-dev requests\n%s", len(m.list.rows), screenText(m))
	}
	m = typeText(t, m, " is:failed")
	if len(m.list.rows) != 1 || !strings.Contains(m.list.rows[0].Params.Prompt, "Failed: isometric") {
		t.Fatalf("model:flux-dev is:failed: %d rows, want the failed flux-dev one\n%s", len(m.list.rows), screenText(m))
	}
	m = typeText(t, m, " seed:x")
	screen := screenText(m)
	if !strings.Contains(screen, "seed:x: a seed is a whole number") {
		t.Fatalf("a bad seed is not reported on the search line:\n%s", screen)
	}
	// "seed" alone was free text a moment ago: that is the last good search.
	if m.list.search != "model:flux-dev is:failed seed" {
		t.Fatalf("a bad search replaced the applied one: %q", m.list.search)
	}
	m = press(t, m, "enter") // refused: the line still says what is wrong
	if !m.list.searching {
		t.Fatal("enter on a search that does not parse closed the search line")
	}
	for range len(" seed:x") {
		m = press(t, m, "backspace")
	}
	m = press(t, m, "enter")
	if m.list.searching || m.list.search != "model:flux-dev is:failed" || len(m.list.rows) != 1 {
		t.Fatalf("after fixing: searching %v, search %q, %d rows", m.list.searching, m.list.search, len(m.list.rows))
	}
	if strings.Contains(screenText(m), "a seed is") {
		t.Fatalf("the fixed search still shows the error:\n%s", screenText(m))
	}
	m = press(t, m, "/", "esc")
	if m.list.search != "" || len(m.list.rows) != 8 {
		t.Fatalf("esc in search: search %q, %d rows, want all 8", m.list.search, len(m.list.rows))
	}
}
