package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// The request list is drawn by bubbles/table: it lays out the headings and
// the columns. It is handed only the rows on screen — the keyset window
// (list.go) decides which those are — so it never holds more than a screen
// and never pages by itself.

// Column order of the request table. Hidden columns get width 0, which
// bubbles/table skips in the headings and in every row.
const (
	colState = iota
	colAge
	colModel
	colSeed
	colSize
	colPrompt
	colSync
	colCount
)

// Each width includes the one cell of air after the column, so cells are
// drawn without padding and a selected row's background runs unbroken.
const (
	stateColWidth = 1 + badgeWidth + 1 // cursor mark, badge, air
	ageColWidth   = 4 + 1
	modelColWidth = 12 + 1
	seedColWidth  = 10 + 1
	sizeColWidth  = 9 + 1
	syncColWidth  = 1
)

// newRequestTable is the list's table: not focused, because the list's own
// keys move the selection and read the next window. It is kept zero rows
// high (one line, the headings) so that each frame renders its rows once:
// the table re-renders on every setter, and with no height SetRows and
// SetCursor render nothing until SetHeight does it once.
func newRequestTable() table.Model {
	return table.New(table.WithFocused(false), table.WithStyles(table.Styles{}), table.WithHeight(1))
}

// tableStyles is the theme of the request table. Header and cells take no
// padding (the widths hold the air). Selected is plain: the selected row's
// cells arrive styled one by one, because one style around a whole row is
// cut short by the first reset inside it (the state's colour).
func tableStyles(s *styles) table.Styles {
	base := lipgloss.NewStyle()
	return table.Styles{Header: s.muted, Cell: base, Selected: base}
}

// promptWidth is what the prompt gets: the rest of the width.
func (l listModel) promptWidth() int {
	w := l.width - rowFixedWidth
	if l.showSeedSize() {
		w -= seedSizeWidth
	}
	return max(w, 1)
}

// columns sizes the table to the list's width; seed and size show only
// when the prompt keeps at least 20 cells beside them.
func (l listModel) columns(position string) []table.Column {
	cols := make([]table.Column, colCount)
	cols[colState] = table.Column{Title: " STATE", Width: stateColWidth}
	cols[colAge] = table.Column{Title: " AGE", Width: ageColWidth}
	cols[colModel] = table.Column{Title: "MODEL", Width: modelColWidth}
	cols[colSeed] = table.Column{Title: "SEED"}
	cols[colSize] = table.Column{Title: "SIZE"}
	if l.showSeedSize() {
		cols[colSeed].Width, cols[colSize].Width = seedColWidth, sizeColWidth
	}
	pw := l.promptWidth() + 1
	cols[colPrompt] = table.Column{Title: promptTitle(position, pw), Width: pw}
	cols[colSync] = table.Column{Title: "", Width: syncColWidth}
	return cols
}

// promptTitle puts "row N of M" at the right end of the prompt heading,
// or leaves it out when both do not fit.
func promptTitle(position string, w int) string {
	const title = "PROMPT"
	gap := w - len(title) - ansi.StringWidth(position)
	if position == "" || gap < 1 {
		return title
	}
	return title + strings.Repeat(" ", gap) + position
}

// position says where the cursor is among the rows of the active tab.
func (l listModel) position() string {
	if len(l.rows) == 0 || l.hasNewer { // a window below the newest has no exact position
		return ""
	}
	if l.entries > 0 || len(l.kid) > 0 {
		return l.entryPosition()
	}
	if total := l.tabCount(l.filter); total >= len(l.rows) {
		return fmt.Sprintf("row %d of %d", l.cursor+1, total)
	}
	return ""
}

// visibleTable is the table for this frame: the headings and the visible
// window of rows, with the table's cursor on the list's selection.
func (l listModel) visibleTable(s *styles, focused bool, now time.Time) table.Model {
	t := l.table // no rows, no height: the setters below render nothing
	vis := l.visibleRows()
	t.SetColumns(l.columns(l.position()))
	t.SetWidth(l.width)
	end := min(l.offset+vis, len(l.rows))
	rows := make([]table.Row, 0, max(end-l.offset, 0))
	for i := l.offset; i < end; i++ {
		if b, ok := l.batchRowAt(i); ok {
			rows = append(rows, l.batchTableRow(s, l.rows[i], b, now, i == l.cursor, focused))
			continue
		}
		rows = append(rows, l.tableRow(s, l.rows[i], now, i == l.cursor, focused, l.isKid(i)))
	}
	t.SetRows(rows)
	t.SetCursor(l.cursor - l.offset)
	t.SetHeight(vis + 1) // the headings take one line; this renders the rows
	return t
}

// tableRow is one request's cells, each exactly its column's width. Plain
// parts are measured before styling, never after; the styled pieces that
// repeat (badges, sync marks) come ready-made from styles.
// A kid is a request of an expanded batch: its prompt is indented.
func (l listModel) tableRow(s *styles, r app.Request, now time.Time, selected, focused, kid bool) table.Row {
	row := make(table.Row, colCount)
	age := fmt.Sprintf("%4s ", relativeAge(now, r.CreatedAt))
	model := padRight(ansi.Truncate(safe(r.Params.Model), 12, "…"), 12) + " "
	seed, size := "", ""
	if l.showSeedSize() {
		seed = padRight(fmt.Sprint(r.Params.Seed), 10) + " "
		size = padRight(ansi.Truncate(r.Params.Resolution(), 9, "…"), 9) + " "
	}
	indent := ""
	if kid {
		indent = kidIndent
	}
	prompt := fitText(indent+oneLine(safe(r.Params.Prompt)), l.promptWidth()) + " "
	if selected && focused {
		// every cell carries the selection's background; the state keeps
		// its colour on top of it
		sel := s.selected
		row[colState] = sel.Render("▌") + s.status[r.Status].Inherit(sel).Render(statusIcon(r.Status, l.frame)+" "+padRight(statusLabel(r.Status), badgeWidth-2)) + sel.Render(" ")
		row[colAge], row[colModel], row[colPrompt], row[colSync] = sel.Render(age), sel.Render(model), sel.Render(prompt), sel.Render(l.syncMark(r.SyncState))
		if seed != "" {
			row[colSeed], row[colSize] = sel.Render(seed), sel.Render(size)
		}
		return row
	}
	cursor := " "
	if selected {
		cursor = "▌"
	}
	row[colState] = cursor + s.badge(r.Status, l.frame) + " "
	row[colAge], row[colModel] = s.muted.Render(age), s.muted.Render(model)
	if seed != "" {
		row[colSeed], row[colSize] = s.muted.Render(seed), s.muted.Render(size)
	}
	row[colPrompt] = prompt
	row[colSync] = l.styledSyncMark(s, r.SyncState)
	return row
}
