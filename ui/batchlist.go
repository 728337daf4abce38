package ui

import (
	"slices"

	"github.com/influencegen/influencegen/app"
)

// Batches in the list: the requests of one submit of several images are
// one row, expanded in place to their requests.
//
// Paging is over list entries, done in SQL (ListQuery.GroupBatches): a
// batch is the one entry of its newest matching request, which is also its
// place in the order and its keyset cursor. So a page never splits a
// batch, every batch shows exactly once however the pages fall, "row N of
// M" counts entries (CountRequests with GroupBatches), and a page costs one
// list query plus one Batches query for the summaries of its batches.
// Collapsing within a fetched window instead would let a batch straddle
// two pages (shown twice, or with the wrong newest row) and make the
// counts lie.
//
// In memory, l.rows holds the entries with an expanded batch's requests
// inserted after its entry (l.kid marks them). Every change of the window
// strips those rows, works on entries exactly as before, and inserts them
// again (rebuild), so the keyset logic never sees them.

// batchesLoadedMsg carries fresh summaries of some batch entries.
type batchesLoadedMsg struct {
	batches map[string]app.Batch
	err     error
}

// batchOpenedMsg carries the requests of a batch being expanded.
type batchOpenedMsg struct {
	id   string
	reqs []app.Request
	err  error
}

func (l listModel) isKid(i int) bool { return i >= 0 && i < len(l.kid) && l.kid[i] }

// kids is how many rows are an expanded batch's requests.
func (l listModel) kids() int {
	n := 0
	for _, k := range l.kid {
		if k {
			n++
		}
	}
	return n
}

// lastEntryID is the oldest entry's id: the keyset cursor downwards.
func (l listModel) lastEntryID() string {
	for i := len(l.rows) - 1; i >= 0; i-- {
		if !l.isKid(i) {
			return l.rows[i].ID
		}
	}
	return ""
}

// batchAt is the batch of row i when that row is a batch entry.
func (l listModel) batchAt(i int) (string, bool) {
	if i < 0 || i >= len(l.rows) || l.isKid(i) || l.rows[i].BatchID == "" {
		return "", false
	}
	return l.rows[i].BatchID, true
}

// selectedBatch is the batch whose entry row is selected.
func (l listModel) selectedBatch() (string, bool) { return l.batchAt(l.cursor) }

// expandedAt is the batch of row i when that batch is expanded (row i is
// its entry or one of its requests): what ← collapses.
func (l listModel) expandedAt(i int) (string, bool) {
	if i < 0 || i >= len(l.rows) {
		return "", false
	}
	id := l.rows[i].BatchID
	_, open := l.open[id]
	return id, id != "" && open
}

func (l listModel) batchInFlight(i int) bool {
	id, ok := l.batchAt(i)
	return ok && l.batches[id].InFlight > 0
}

// strip leaves only the entries, the cursor and offset on the same entry;
// it returns the id of the batch request that was selected ("" for none).
func (l listModel) strip() (listModel, string) {
	if l.kids() == 0 {
		l.kid = nil
		return l, ""
	}
	keep := ""
	if l.isKid(l.cursor) {
		keep = l.rows[l.cursor].ID
	}
	rows := make([]app.Request, 0, len(l.rows))
	cursor, offset := 0, 0
	for i, r := range l.rows {
		if l.isKid(i) {
			continue
		}
		if i <= l.cursor {
			cursor = len(rows)
		}
		if i <= l.offset {
			offset = len(rows)
		}
		rows = append(rows, r)
	}
	l.rows, l.kid, l.cursor, l.offset = rows, nil, cursor, offset
	return l, keep
}

// rebuild inserts the requests of the expanded batches after their entries
// and forgets expansions whose entry left the window; keep is the batch
// request to select again.
func (l listModel) rebuild(keep string) listModel {
	if len(l.open) == 0 {
		l.kid = nil
		l.clampOffset()
		return l
	}
	rows := make([]app.Request, 0, len(l.rows))
	kid := make([]bool, 0, len(l.rows))
	open := make(map[string][]app.Request, len(l.open))
	cursor, offset := l.cursor, l.offset
	for i, r := range l.rows {
		if i == l.cursor {
			cursor = len(rows)
		}
		if i == l.offset {
			offset = len(rows)
		}
		rows, kid = append(rows, r), append(kid, false)
		reqs, ok := l.open[r.BatchID]
		if r.BatchID == "" || !ok {
			continue
		}
		open[r.BatchID] = reqs
		for _, k := range reqs {
			if i == l.cursor && k.ID == keep {
				cursor = len(rows)
			}
			rows, kid = append(rows, k), append(kid, true)
		}
	}
	l.rows, l.kid, l.open, l.cursor, l.offset = rows, kid, open, cursor, offset
	l.clampOffset()
	return l
}

// applyPage takes a keyset read: the window of entries changes as before,
// the page's batch summaries are kept, and expanded batches stay expanded.
func (l listModel) applyPage(msg pageLoadedMsg) listModel {
	if msg.seq != l.seq {
		return l // superseded by a newer read
	}
	l, keep := l.strip()
	l = l.applyEntryPage(msg)
	if msg.err == nil {
		l.entries = msg.entries
		switch msg.mode {
		case loadOlder, loadNewer:
			l = l.withBatches(msg.batches)
		default:
			l.batches = msg.batches
		}
	}
	return l.rebuild(keep)
}

// withBatches merges fresh summaries into a copy of the list's.
func (l listModel) withBatches(sums map[string]app.Batch) listModel {
	out := make(map[string]app.Batch, len(l.batches)+len(sums))
	for k, v := range l.batches {
		out[k] = v
	}
	for k, v := range sums {
		out[k] = v
	}
	l.batches = out
	return l
}

// prepend shows freshly submitted rows at the top: a batch as one entry
// (its newest request), none for a batch already shown.
func (l listModel) prepend(reqs []app.Request) listModel {
	shown := make(map[string]bool)
	for _, r := range l.rows {
		if r.BatchID != "" {
			shown[r.BatchID] = true
		}
	}
	var add []app.Request
	for i := len(reqs) - 1; i >= 0; i-- { // newest first: the batch's entry
		r := reqs[i]
		if r.BatchID != "" {
			if shown[r.BatchID] {
				continue
			}
			shown[r.BatchID] = true
		}
		add = append(add, r)
	}
	slices.Reverse(add) // prependEntries takes them oldest first
	l, keep := l.strip()
	n := len(l.rows)
	l = l.prependEntries(add)
	l.entries += len(l.rows) - n
	return l.rebuild(keep)
}

// patch replaces every copy of a request: its entry and its row in an
// expanded batch; it reports the previous status.
func (l listModel) patch(r app.Request) (listModel, app.Status, bool) {
	l, keep := l.strip()
	l, prev, found := l.patchEntry(r)
	if reqs, ok := l.open[r.BatchID]; ok {
		open := make(map[string][]app.Request, len(l.open))
		for k, v := range l.open {
			open[k] = v
		}
		reqs = append([]app.Request(nil), reqs...)
		for i := range reqs {
			if reqs[i].ID == r.ID {
				if !found {
					prev, found = reqs[i].Status, true
				}
				reqs[i] = r
			}
		}
		open[r.BatchID] = reqs
		l.open = open
	}
	return l.rebuild(keep), prev, found
}

// remove drops a request: its entry (a batch's entry comes back with the
// next read, keyed by its next newest request) and its expanded row.
func (l listModel) remove(id string) listModel {
	l, keep := l.strip()
	n := len(l.rows)
	l = l.removeEntry(id)
	l.entries = max(l.entries-(n-len(l.rows)), 0)
	if len(l.open) > 0 {
		open := make(map[string][]app.Request, len(l.open))
		for b, reqs := range l.open {
			kept := make([]app.Request, 0, len(reqs))
			for _, r := range reqs {
				if r.ID != id {
					kept = append(kept, r)
				}
			}
			open[b] = kept
		}
		l.open = open
	}
	return l.rebuild(keep)
}

// canExpand reports whether the selected row is a collapsed batch.
func (l listModel) canExpand() bool {
	id, ok := l.selectedBatch()
	_, open := l.open[id]
	return ok && !open
}

// collapse folds the batch of the selected row back into its entry, the
// cursor on the entry.
func (l listModel) collapse() listModel {
	id, ok := l.expandedAt(l.cursor)
	if !ok {
		return l
	}
	l, _ = l.strip()
	open := make(map[string][]app.Request, len(l.open))
	for k, v := range l.open {
		if k != id {
			open[k] = v
		}
	}
	l.open = open
	return l.rebuild("")
}

// opened shows a batch's requests under its entry, if it is still there.
func (l listModel) opened(msg batchOpenedMsg) listModel {
	if msg.err != nil || len(msg.reqs) == 0 {
		return l
	}
	l, keep := l.strip()
	found := false
	for _, r := range l.rows {
		found = found || r.BatchID == msg.id
	}
	if !found {
		return l.rebuild(keep)
	}
	open := make(map[string][]app.Request, len(l.open)+1)
	for k, v := range l.open {
		open[k] = v
	}
	// newest first, like the list
	reqs := append([]app.Request(nil), msg.reqs...)
	slices.Reverse(reqs)
	open[msg.id] = reqs
	l.open = open
	return l.rebuild(keep)
}

// pageBatchIDs are the distinct batches of a page's entries.
func pageBatchIDs(reqs []app.Request) []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.BatchID != "" && !seen[r.BatchID] {
			seen[r.BatchID] = true
			ids = append(ids, r.BatchID)
		}
	}
	return ids
}
