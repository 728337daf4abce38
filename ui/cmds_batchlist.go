package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// readEntries counts the list entries the tab's query matches (a batch is
// one) and summarises the page's batches in one query (batchlist.go).
func readEntries(ctx context.Context, st app.Store, now time.Time, q app.ListQuery, page app.Page) (int, map[string]app.Batch, error) {
	n, err := st.CountRequests(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	ids := pageBatchIDs(page.Requests)
	if len(ids) == 0 {
		return n, nil, nil
	}
	sums, err := st.Batches(ctx, ids, now)
	return n, sums, err
}

// loadBatchesCmd re-reads the summaries of batch entries on screen after
// one of their requests changed.
func loadBatchesCmd(ctx context.Context, st app.Store, clock app.Clock, ids []string) tea.Cmd {
	if len(ids) == 0 {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		sums, err := st.Batches(ctx, ids, clock.Now())
		if err != nil {
			logFrom(ctx).Warn("dashboard: batch summaries", "error", err)
		}
		return batchesLoadedMsg{batches: sums, err: err}
	}
}

// openBatchCmd reads the requests of a batch being expanded.
func openBatchCmd(ctx context.Context, st app.Store, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		reqs, err := st.BatchRequests(ctx, id)
		if err != nil {
			logFrom(ctx).Warn("dashboard: batch requests", "batch_id", id, "error", err)
		}
		return batchOpenedMsg{id: id, reqs: reqs, err: err}
	}
}
