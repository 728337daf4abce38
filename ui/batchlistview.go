package ui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/table"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// Drawing of batch rows (batchlist.go): the entry of a batch shows the
// batch, its requests below it when expanded are indented.

const kidIndent = "  └ "

// batchRowAt is the summary of row i when it is a batch entry whose
// summary has been read (until then it draws as its newest request).
func (l listModel) batchRowAt(i int) (app.Batch, bool) {
	id, ok := l.batchAt(i)
	if !ok {
		return app.Batch{}, false
	}
	b, ok := l.batches[id]
	return b, ok
}

// batchState is the one state a batch row shows: in flight while any
// request is, else completed if any completed, else failed, else cancelled.
func batchState(b app.Batch) app.Status {
	switch {
	case b.InFlight > 0:
		return app.StatusProcessing
	case b.Completed > 0:
		return app.StatusCompleted
	case b.Failed > 0:
		return app.StatusFailed
	}
	return app.StatusCancelled
}

// batchTableRow is a batch entry's cells: its state, age and model, "N
// seeds", the size of its newest request, and ▸/▾ with the progress
// ("12/16 · 1 failed · ~20 s left") before the prompt.
func (l listModel) batchTableRow(s *styles, r app.Request, b app.Batch, now time.Time, selected, focused bool) table.Row {
	row := make(table.Row, colCount)
	st := batchState(b)
	age := fmt.Sprintf("%4s ", relativeAge(now, b.CreatedAt))
	model := padRight(ansi.Truncate(safe(b.Model), 12, "…"), 12) + " "
	seed, size := "", ""
	if l.showSeedSize() {
		seed = padRight(ansi.Truncate(plural(b.Total, "seed"), 10, "…"), 10) + " "
		size = padRight(ansi.Truncate(r.Params.Resolution(), 9, "…"), 9) + " "
	}
	mark := "▸ "
	if _, open := l.open[b.ID]; open {
		mark = "▾ "
	}
	// the progress first: in a narrow pane it is what the row is for
	prompt := fitText(mark+b.Progress()+"  "+oneLine(safe(b.Prompt)), l.promptWidth()) + " "
	if selected && focused {
		sel := s.selected
		row[colState] = sel.Render("▌") + s.status[st].Inherit(sel).Render(statusIcon(st, l.frame)+" "+padRight(statusLabel(st), badgeWidth-2)) + sel.Render(" ")
		row[colAge], row[colModel], row[colPrompt], row[colSync] = sel.Render(age), sel.Render(model), sel.Render(prompt), sel.Render(" ")
		if seed != "" {
			row[colSeed], row[colSize] = sel.Render(seed), sel.Render(size)
		}
		return row
	}
	cursor := " "
	if selected {
		cursor = "▌"
	}
	row[colState] = cursor + s.badge(st, l.frame) + " "
	row[colAge], row[colModel] = s.muted.Render(age), s.muted.Render(model)
	if seed != "" {
		row[colSeed], row[colSize] = s.muted.Render(seed), s.muted.Render(size)
	}
	row[colPrompt] = prompt
	row[colSync] = " "
	return row
}

// entryPosition counts entries, not rows: "row N of M" where a batch is
// one row however many of its requests show, and "request k of n" on the
// requests of an expanded batch.
func (l listModel) entryPosition() string {
	if l.isKid(l.cursor) {
		first := l.cursor
		for first > 0 && l.isKid(first-1) {
			first--
		}
		n := first
		for n < len(l.rows) && l.isKid(n) {
			n++
		}
		return fmt.Sprintf("request %d of %d", l.cursor-first+1, n-first)
	}
	entry := 0
	for i := 0; i <= l.cursor && i < len(l.rows); i++ {
		if !l.isKid(i) {
			entry++
		}
	}
	if total := l.entries; total >= len(l.rows)-l.kids() {
		return fmt.Sprintf("row %d of %d", entry, total)
	}
	return ""
}

// maxBatchLines bounds the detail's list of a batch's requests.
const maxBatchLines = 32

// batchRequestLines list a batch row's requests in the detail: state,
// seed and id, one line each (the v grid shows their pictures).
func (d detailModel) batchRequestLines(s *styles, w int) []string {
	if !d.asBatch || len(d.batchReqs) == 0 {
		return nil
	}
	out := []string{"", s.label.Render(fmt.Sprintf("Requests (%d)", len(d.batchReqs))) + s.muted.Render("  → in the list shows them")}
	for i, r := range d.batchReqs {
		if i == maxBatchLines {
			out = append(out, s.muted.Render(fmt.Sprintf("  … %d more", len(d.batchReqs)-i)))
			break
		}
		badge := s.status[r.Status].Render(statusIcon(r.Status, d.frame) + " " + padRight(statusLabel(r.Status), badgeWidth-2))
		line := fmt.Sprintf(" seed %-10d %s", r.Params.Seed, r.ID)
		out = append(out, "  "+badge+s.muted.Render(ansi.Truncate(line, max(w-2-badgeWidth, 1), "…")))
	}
	return out
}
