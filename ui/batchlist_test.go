package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// batchOfFour stores a batch of four newer than the seeded rows: one
// completed, one failed, two processing.
func batchOfFour(t *testing.T, r *rig) []app.Request {
	t.Helper()
	batch := testID(7100)
	var reqs []app.Request
	for i := range 4 {
		at := testNow.Add(-time.Minute + time.Duration(i)*time.Millisecond)
		reqs = append(reqs, app.Request{ID: testID(7101 + i), Params: params("four teapots on a shelf", "sdxl", int64(41+i)),
			RequestedBy: "alice", BatchID: batch, CreatedAt: at, UpdatedAt: at})
	}
	if err := r.db.CreateRequests(t.Context(), reqs); err != nil {
		t.Fatal(err)
	}
	move(t, r.db, reqs[0].ID, app.Change{}, app.StatusSending, app.StatusProcessing, app.StatusCompleted)
	move(t, r.db, reqs[1].ID, app.Change{}, app.StatusSending, app.StatusProcessing)
	move(t, r.db, reqs[1].ID, app.Change{ErrorCode: "provider_error", ErrorMessage: "quota"}, app.StatusFailed)
	for _, q := range reqs[2:] {
		move(t, r.db, q.ID, app.Change{}, app.StatusSending, app.StatusProcessing)
	}
	return reqs
}

func TestABatchIsOneRowThatExpandsInPlaceAndCollapses(t *testing.T) {
	r := newRig(t, true)
	reqs := batchOfFour(t, r)
	m := r.model(t, 140, 40)
	if n := len(m.list.rows); n != 9 {
		t.Fatalf("%d rows, want 9: 8 single requests and one batch", n)
	}
	screen := screenText(m)
	for _, want := range []string{"▸ 2/4 · 1 failed  f", "4 seeds", "row 1 of 9"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the batch row lacks %q:\n%s", want, screen)
		}
	}
	if strings.Count(strings.Join(strings.Split(screen, "│")[0:1], ""), "four") > 1 {
		t.Fatalf("the batch shows more than once:\n%s", screen)
	}
	if !m.listKeys.Expand.Enabled() || m.listKeys.Collapse.Enabled() {
		t.Fatal("a collapsed batch row should offer → and not ←")
	}
	if m.listKeys.Retry.Enabled() || m.listKeys.Cancel.Enabled() || m.listKeys.Delete.Enabled() {
		t.Fatal("retry, cancel and delete act on one request: off on a batch row")
	}
	if foot := lastLine(screen); strings.Contains(foot, "collapse") || !strings.Contains(foot, "expand") {
		t.Fatalf("footer on a collapsed batch row: %q", foot)
	}

	m = press(t, m, "right")
	if n := len(m.list.rows); n != 13 || m.list.kids() != 4 || m.list.cursor != 0 {
		t.Fatalf("expanded: %d rows, %d of them the batch's, cursor %d; want 13, 4, 0", n, m.list.kids(), m.list.cursor)
	}
	screen = screenText(m)
	if !strings.Contains(screen, "▾ 2/4") || strings.Count(screen, "└ four teapots") != 4 {
		t.Fatalf("the expanded batch should show its four requests indented:\n%s", screen)
	}
	// newest first, like the list; the requests keep their own keys
	m = press(t, m, "down")
	if sel, _ := m.list.selected(); sel.ID != reqs[3].ID || !strings.Contains(screenText(m), "request 1 of 4") {
		t.Fatalf("first request row = %s, want %s (newest)\n%s", sel.ID, reqs[3].ID, screenText(m))
	}
	if !m.listKeys.Cancel.Enabled() || !m.listKeys.Collapse.Enabled() || m.listKeys.Expand.Enabled() {
		t.Fatal("a request of an expanded batch: cancel and ← on, → off")
	}
	m = press(t, m, "down", "down", "down")
	if m.list.entryPosition() != "request 4 of 4" {
		t.Fatalf("position on the last request: %q", m.list.entryPosition())
	}
	m = press(t, m, "down")
	if sel, _ := m.list.selected(); sel.BatchID != "" || m.list.entryPosition() != "row 2 of 9" {
		t.Fatalf("below the batch: %+v at %q, want the next single at row 2 of 9", sel.ID, m.list.entryPosition())
	}
	m = press(t, m, "up", "left")
	if n := len(m.list.rows); n != 9 || m.list.cursor != 0 {
		t.Fatalf("collapsed from a request: %d rows, cursor %d; want 9, 0", n, m.list.cursor)
	}
	m = press(t, m, "space")
	if m.list.kids() != 4 {
		t.Fatal("space does not expand the batch")
	}
	m = press(t, m, "left")
	if m.list.kids() != 0 {
		t.Fatal("← on the expanded batch's own row does not collapse it")
	}
}

func TestTheDetailOfABatchRowShowsItsRequests(t *testing.T) {
	r := newRig(t, true)
	reqs := batchOfFour(t, r)
	m := press(t, r.model(t, 140, 50), "enter")
	screen := screenText(m)
	for _, want := range []string{"Requests (4)", "2/4 · 1 failed", "v grid", "seed 41", "seed 44", reqs[0].ID} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the detail of the batch row lacks %q:\n%s", want, screen)
		}
	}
	if !m.detailKeys.Grid.Enabled() || m.detailKeys.Retry.Enabled() {
		t.Fatal("the batch's detail should offer v and not retry")
	}
	// a request of the expanded batch shows itself, not the batch
	m = press(t, m, "esc", "right", "down", "enter")
	if screen := screenText(m); strings.Contains(screen, "Requests (4)") || !strings.Contains(screen, "Request "+reqs[3].ID) {
		t.Fatalf("the detail of one request of the batch:\n%s", screen)
	}
}

func TestAStateTabShowsTheBatchOfAMatchingRequestWithAllItsCounts(t *testing.T) {
	r := newRig(t, true)
	batchOfFour(t, r)
	m := r.model(t, 140, 40)
	tab := 0
	for i, st := range app.Statuses {
		if st == app.StatusFailed {
			tab = i + 1
		}
	}
	m = press(t, m, fmt.Sprint(tab))
	screen := screenText(m)
	// the seeded failed request and the batch with one failed request
	if n := len(m.list.rows); n != 2 || !strings.Contains(screen, "2/4 · 1 failed") || !strings.Contains(screen, "row 1 of 2") {
		t.Fatalf("failed tab: %d rows, want 2 with the whole batch's counts:\n%s", n, screen)
	}
	m = press(t, m, "right")
	if m.list.kids() != 4 {
		t.Fatalf("expanding in the failed tab shows %d requests, want all 4", m.list.kids())
	}
}

func TestPagingDownFromAnExpandedBatchUsesItsEntry(t *testing.T) {
	l := newListModel(newListKeys(newGlobalKeys()), newSearchKeys())
	l.rows = []app.Request{{ID: testID(9), BatchID: "b"}, {ID: testID(9), BatchID: "b"}, {ID: testID(3), BatchID: "b"}}
	l.kid = []bool{false, true, true}
	l.open = map[string][]app.Request{"b": l.rows[1:]}
	cmd := l.load(loadOlder)
	msg, ok := cmd().(pageWantedMsg)
	if !ok || msg.q.Before != testID(9) || !msg.q.GroupBatches {
		t.Fatalf("older page asked with %+v, want before the batch's entry %s, grouped", msg.q, testID(9))
	}
}

func TestABatchRowsProgressFollowsItsRequests(t *testing.T) {
	r := newRig(t, true)
	reqs := batchOfFour(t, r)
	m := r.model(t, 140, 40)
	m = press(t, m, "right")
	move(t, r.db, reqs[2].ID, app.Change{}, app.StatusCompleted)
	m, _ = reloadAndCollect(t, m, r, reqs[2].ID)
	screen := screenText(m)
	if !strings.Contains(screen, "▾ 3/4 · 1 failed") {
		t.Fatalf("after one more request completed the batch row should read 3/4:\n%s", screen)
	}
	if m.list.kids() != 4 || m.list.rows[2].ID != reqs[2].ID || m.list.rows[2].Status != app.StatusCompleted {
		t.Fatalf("the expanded request row was not patched: %+v", m.list.rows[2])
	}
}

func TestARefreshRereadsTheRequestsOfAnExpandedBatch(t *testing.T) {
	r := newRig(t, true)
	reqs := batchOfFour(t, r)
	m := press(t, r.model(t, 140, 40), "right", "down")
	move(t, r.db, reqs[3].ID, app.Change{}, app.StatusCompleted) // no event: only a refresh sees it
	m = step(t, m, pollTickedMsg{})
	m = settle(t, m, m.list.load(loadRefresh))
	if sel, _ := m.list.selected(); m.list.kids() != 4 || sel.ID != reqs[3].ID || sel.Status != app.StatusCompleted {
		t.Fatalf("after a refresh the selected request row is %s %s, want %s completed (%d rows of the batch)", sel.ID, sel.Status, reqs[3].ID, m.list.kids())
	}
	if !strings.Contains(screenText(m), "▾ 3/4") {
		t.Fatalf("the batch row did not follow the refresh:\n%s", screenText(m))
	}
}
