package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Batches made elsewhere (the CLI's generate --count, another dashboard):
// their requests ring once, when the last one settles, like the batches
// this dashboard submitted (notify.go); and a batch request's detail says
// how far its batch is.

// batchCheckedMsg carries one batch's summary, read after one of its
// requests settled.
type batchCheckedMsg struct {
	batch app.Batch
	found bool
	err   error
}

func (m Model) handleBatchChecked(msg batchCheckedMsg) (Model, tea.Cmd) {
	b := msg.batch
	if msg.err != nil || !msg.found || !b.Done() || m.cur.rung[b.ID] {
		return m, nil
	}
	m.cur.rung[b.ID] = true // shared by the root's copies, changed only here
	if !m.b.Config.UI.Notify || b.Cancelled == b.Total {
		return m, nil
	}
	return m, notifyCmd("InfluenceGen: " + batchSummary(b))
}

// batchSummary is "batch of 4 done: 3 completed, 1 failed — prompt".
func batchSummary(b app.Batch) string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{b.Completed, "completed"}, {b.Failed, "failed"}, {b.Cancelled, "cancelled"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	return fmt.Sprintf("batch of %d done: %s — %s", b.Total, strings.Join(parts, ", "), clipRunes(oneLine(b.Prompt), 60))
}

// batchLine is the detail's "Batch" field: progress and the grid key.
func (d detailModel) batchLine(s *styles) string {
	if d.batch == nil {
		return ""
	}
	return s.text.Render(d.batch.Progress()) + s.muted.Render(fmt.Sprintf("  (%s · v grid)", plural(d.batch.Images, "picture")))
}
