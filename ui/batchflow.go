package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// The root's side of batch rows (batchlist.go): their keys, and what the
// request keys may do on them.

// handleBatchKey expands or collapses the selected batch row.
func (m Model) handleBatchKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.listKeys.Expand):
		id, ok := m.list.selectedBatch()
		if !ok {
			return m, nil, false
		}
		return m, openBatchCmd(m.ctx, m.b.Store, id), true
	case key.Matches(msg, m.listKeys.Collapse):
		m.list = m.list.collapse()
		m, sel := m.followSelection()
		return m, sel, true
	}
	return m, nil, false
}

// refreshBatchKeys enables → on a collapsed batch row and ← on an expanded
// one or its requests. On a batch row retry, cancel and delete are off:
// they act on one request, and the row stands for all of them (expand it
// to act on one); remix, reuse seed and the image keys act on the newest
// request the row shows, like on any row.
func (m Model) refreshBatchKeys() Model {
	_, canCollapse := m.list.expandedAt(m.list.cursor)
	m.listKeys.Expand.SetEnabled(m.list.canExpand())
	m.listKeys.Collapse.SetEnabled(canCollapse)
	if _, ok := m.list.selectedBatch(); ok {
		for _, k := range []*requestKeys{&m.listKeys.requestKeys, &m.detailKeys.requestKeys} {
			k.Retry.SetEnabled(false)
			k.Cancel.SetEnabled(false)
			k.Delete.SetEnabled(false)
		}
	}
	return m
}

// batchSummariesCmd re-reads, in one query, the summaries of the batches
// of reqs that the list shows as rows: after a submit or a request's
// change, so their progress moves.
func (m Model) batchSummariesCmd(reqs []app.Request) tea.Cmd {
	shown := make(map[string]bool)
	for i := range m.list.rows {
		if id, ok := m.list.batchAt(i); ok {
			shown[id] = true
		}
	}
	var ids []string
	for _, id := range pageBatchIDs(reqs) {
		if shown[id] {
			ids = append(ids, id)
		}
	}
	return loadBatchesCmd(m.ctx, m.b.Store, m.b.Clock, ids)
}

// reopenBatchesCmd re-reads the requests of the expanded batches with a
// refresh of the window, so their rows follow changes no event announced.
func (m Model) reopenBatchesCmd() tea.Cmd {
	var cmds []tea.Cmd
	for id := range m.list.open {
		cmds = append(cmds, openBatchCmd(m.ctx, m.b.Store, id))
	}
	return tea.Batch(cmds...)
}
