package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// batchElsewhere stores two processing requests of one batch, as the
// CLI's generate --count 2 would.
func batchElsewhere(t *testing.T, r *rig) []app.Request {
	t.Helper()
	batch := testID(7000)
	reqs := []app.Request{
		{ID: testID(7001), Params: params("two lighthouses at dusk", "sdxl", 11), RequestedBy: "bob", BatchID: batch, CreatedAt: testNow, UpdatedAt: testNow},
		{ID: testID(7002), Params: params("two lighthouses at dusk", "sdxl", 12), RequestedBy: "bob", BatchID: batch, CreatedAt: testNow, UpdatedAt: testNow},
	}
	if err := r.db.CreateRequests(t.Context(), reqs); err != nil {
		t.Fatal(err)
	}
	for _, q := range reqs {
		move(t, r.db, q.ID, app.Change{}, app.StatusSending, app.StatusProcessing)
	}
	return reqs
}

// reloadAndCollect feeds a re-read of id through Update and returns the
// notifications its Cmds (and theirs) send.
func reloadAndCollect(t *testing.T, m Model, r *rig, id string) (Model, []string) {
	t.Helper()
	req, err := r.db.GetRequest(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	next, cmd := m.Update(requestReloadedMsg{req: req})
	m = next.(Model)
	for round := 0; cmd != nil && round < 5; round++ {
		var cmds []tea.Cmd
		for _, msg := range runCmd(t, cmd) {
			if raw, ok := msg.(tea.RawMsg); ok {
				notes = append(notes, fmt.Sprint(raw.Msg))
				continue
			}
			n, c := m.Update(msg)
			m = n.(Model)
			cmds = append(cmds, c)
		}
		cmd = tea.Batch(cmds...)
	}
	return m, notes
}

func TestABatchMadeElsewhereRingsOnceWhenItsLastRequestSettles(t *testing.T) {
	r := newRig(t, false)
	reqs := batchElsewhere(t, r)
	m := r.model(t, 120, 40)
	move(t, r.db, reqs[0].ID, app.Change{}, app.StatusCompleted)
	m, notes := reloadAndCollect(t, m, r, reqs[0].ID)
	if len(notes) != 0 {
		t.Fatalf("the first of two settled and it rang: %q", notes)
	}
	move(t, r.db, reqs[1].ID, app.Change{ErrorCode: "provider_error", ErrorMessage: "quota"}, app.StatusFailed)
	m, notes = reloadAndCollect(t, m, r, reqs[1].ID)
	if len(notes) != 1 || !strings.Contains(notes[0], "batch of 2 done: 1 completed, 1 failed — two lighthouses at dusk") {
		t.Fatalf("the batch's end rang %d times: %q", len(notes), notes)
	}
	_, notes = reloadAndCollect(t, m, r, reqs[1].ID)
	if len(notes) != 0 {
		t.Fatalf("the same batch rang again: %q", notes)
	}
}

func TestABatchRequestsDetailShowsItsBatchProgress(t *testing.T) {
	r := newRig(t, false)
	reqs := batchElsewhere(t, r)
	move(t, r.db, reqs[0].ID, app.Change{}, app.StatusCompleted)
	m := press(t, r.model(t, 120, 40), "enter")
	screen := screenText(m)
	if !strings.Contains(screen, "Batch") || !strings.Contains(screen, "1/2") || !strings.Contains(screen, "(0 pictures · v grid)") {
		t.Fatalf("the detail of a batch request lacks its progress:\n%s", screen)
	}
	if !m.detailKeys.Grid.Enabled() {
		t.Fatal("v is not offered on a batch request")
	}
}
