package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// fillRequests stores n requests, newest with the largest id.
func fillRequests(t testing.TB, db *store.DB, n int) {
	t.Helper()
	const batch = 2000
	for start := 0; start < n; start += batch {
		reqs := make([]app.Request, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			at := testNow.Add(-time.Duration(n-i) * time.Second)
			reqs = append(reqs, app.Request{ID: testID(i + 1), Params: params(fmt.Sprintf("request number %d, a fox", i+1), "sdxl", int64(i)), RequestedBy: "bench", CreatedAt: at, UpdatedAt: at})
		}
		if err := db.CreateRequests(context.Background(), reqs); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
}

func TestNumberKeysFilterByState(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m, msgs := do(t, m, keyMsg("5"))
	if !hasMsg(msgs, "ui.pageWantedMsg") {
		t.Fatalf("5 produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if len(m.list.rows) != 1 || m.list.rows[0].Status != app.StatusFailed {
		t.Fatalf("filter failed: %d rows", len(m.list.rows))
	}
	m = press(t, m, "0")
	if len(m.list.rows) != 8 {
		t.Fatalf("0 should show all, got %d", len(m.list.rows))
	}
	m = press(t, m, "]")
	if m.list.filter != 1 || len(m.list.rows) != 1 || m.list.rows[0].Status != app.StatusQueued {
		t.Fatalf("] should move to the queued tab: filter %d rows %d", m.list.filter, len(m.list.rows))
	}
}

func TestSlashSearchesPrompts(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "/")
	m = typeText(t, m, "ramen")
	m = press(t, m, "enter")
	if len(m.list.rows) != 1 || m.list.rows[0].ID != testID(2) {
		t.Fatalf("search: %d rows", len(m.list.rows))
	}
	m = press(t, m, "/", "esc")
	if len(m.list.rows) != 8 || m.list.search != "" {
		t.Fatalf("esc should clear the search: %d rows, search %q", len(m.list.rows), m.list.search)
	}
}

func TestMovingFollowsTheSelectionIntoTheDetail(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m, msgs := do(t, m, keyMsg("j"))
	if !hasMsg(msgs, "ui.detailLoadedMsg") {
		t.Fatalf("j produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if m.detail.req.ID != testID(7) {
		t.Fatalf("detail shows %s", m.detail.req.ID)
	}
	m = press(t, m, "down", "up", "k")
	if m.list.cursor != 0 {
		t.Fatalf("cursor %d", m.list.cursor)
	}
}

func TestTheMouseWheelScrollsAndAClickSelects(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = step(t, m, tea.MouseWheelMsg{X: 5, Y: 5, Button: tea.MouseWheelDown})
	if m.list.cursor != 3 {
		t.Fatalf("wheel down: cursor %d, want 3", m.list.cursor)
	}
	// row 5 (0-based) is drawn on screen line header(2) + tabs(1) + headings(1) + 5
	m = click(t, m, 10, headerHeight+2+5)
	if m.list.cursor != 5 || m.detail.req.ID != testID(3) {
		t.Fatalf("click: cursor %d detail %s", m.list.cursor, m.detail.req.ID)
	}
}

// manyRows is how many requests the scrolling tests store: more than a
// window holds, fewer under the race detector.
func manyRows() int {
	if raceEnabled {
		return windowMax + pageSize/2
	}
	return 5000
}

func TestScrollingReadsWindowsByKeysetAndGJumpsToTheEnds(t *testing.T) {
	r := newRig(t, false)
	n := manyRows()
	fillRequests(t, r.db, n)
	m := r.model(t, 100, 30)
	if len(m.list.rows) != pageSize || !m.list.hasOlder {
		t.Fatalf("first window: %d rows, hasOlder %v", len(m.list.rows), m.list.hasOlder)
	}
	for range 10 {
		m = press(t, m, "pgdown")
	}
	if len(m.list.rows) <= pageSize {
		t.Fatalf("paging down should read the next window, have %d rows", len(m.list.rows))
	}
	m = press(t, m, "G")
	last, _ := m.list.selected()
	if last.ID != testID(1) || m.list.hasOlder {
		t.Fatalf("G should select the oldest request, got %s", last.ID)
	}
	for range 5 {
		m = press(t, m, "pgup")
	}
	if sel, _ := m.list.selected(); sel.ID <= testID(1) {
		t.Fatal("paging up from the bottom should move to newer rows")
	}
	m = press(t, m, "g")
	first, _ := m.list.selected()
	if first.ID != testID(n) || m.list.hasNewer {
		t.Fatalf("g should select the newest request, got %s", first.ID)
	}
	if len(m.list.rows) > windowMax {
		t.Fatalf("the window holds %d rows, more than %d", len(m.list.rows), windowMax)
	}
}

func TestAWindowNeverGrowsPastItsLimit(t *testing.T) {
	r := newRig(t, false)
	n := manyRows()
	fillRequests(t, r.db, n)
	m := r.model(t, 100, 30)
	for range n/25 + 5 {
		m = press(t, m, "pgdown")
	}
	if len(m.list.rows) > windowMax || !m.list.hasNewer {
		t.Fatalf("%d rows, hasNewer %v", len(m.list.rows), m.list.hasNewer)
	}
	sel, _ := m.list.selected()
	if sel.ID >= testID(n-2*pageSize) {
		t.Fatalf("after paging far down, selected %s", sel.ID)
	}
}

func TestRelativeAgeIsShort(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{2 * time.Second, "now"}, {42 * time.Second, "42s"}, {5 * time.Minute, "5m"}, {3 * time.Hour, "3h"}, {50 * time.Hour, "2d"}, {30 * 24 * time.Hour, "4w"}, {800 * 24 * time.Hour, "2y"}} {
		if got := relativeAge(testNow, testNow.Add(-tc.d)); got != tc.want {
			t.Errorf("%v ago = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// The tab counts follow the search (and the mine filter): with "fox"
// searched, only the fox request counts, and an event that adds a
// matching request or moves one between states moves the counts with it.
func TestTabCountsFollowTheSearch(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "/")
	m = typeText(t, m, "fox")
	m = press(t, m, "enter")
	completed := 1 + slices.Index(app.Statuses, app.StatusCompleted)
	queued := 1 + slices.Index(app.Statuses, app.StatusQueued)
	if len(m.list.rows) != 1 || m.list.tabCount(0) != 1 || m.list.tabCount(completed) != 1 || m.list.tabCount(queued) != 0 {
		t.Fatalf("searching fox: %d rows, tab counts all %d completed %d queued %d, want 1 1 1 0",
			len(m.list.rows), m.list.tabCount(0), m.list.tabCount(completed), m.list.tabCount(queued))
	}
	if !strings.Contains(screenText(m), "row 1 of 1") {
		t.Fatalf("a searched list knows its total:\n%s", screenText(m))
	}

	// another fox arrives (from the CLI, say): the row and the counts move together
	fox := app.Request{ID: testID(9), Params: params("a fox cub asleep", "sdxl", 7), RequestedBy: "alice", CreatedAt: testNow, UpdatedAt: testNow}
	if err := r.db.CreateRequests(context.Background(), []app.Request{fox}); err != nil {
		t.Fatal(err)
	}
	m = step(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: fox.ID}})
	if len(m.list.rows) != 2 || m.list.tabCount(0) != 2 || m.list.tabCount(queued) != 1 {
		t.Fatalf("after a new fox: %d rows, tab counts all %d queued %d, want 2 2 1", len(m.list.rows), m.list.tabCount(0), m.list.tabCount(queued))
	}
}
