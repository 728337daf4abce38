package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// loadMode says how a freshly read window relates to the one on screen.
type loadMode int

const (
	loadTop     loadMode = iota // newest rows; the selection resets to the top
	loadRefresh                 // same window re-read; the selection stays on its id
	loadOlder                   // the next rows down, appended
	loadNewer                   // the rows just above, prepended
	loadOldest                  // the very last rows (G)
)

const (
	pageSize  = 200 // rows per keyset read
	windowMax = 600 // rows kept in memory; the far end is dropped beyond this
	prefetch  = 40  // read the next page when the cursor gets this close to an edge
)

// listModel is the virtualized request list. It never holds more than
// windowMax rows: scrolling reads the next window by keyset (ids are
// time-sortable), so 100,000 requests cost the same as 100.
type listModel struct {
	keys       listKeys
	searchKeys searchKeys
	width      int
	height     int

	odooOff bool // no sync marks: nothing is synced while odoo.url is empty

	rows     []app.Request
	cursor   int // index into rows
	offset   int // first visible row
	hasOlder bool
	hasNewer bool
	loading  bool
	loaded   bool
	seq      int
	err      error

	filter    int    // 0 = all, i = app.Statuses[i-1]
	me        string // the team member's name on a shared host ("" = local)
	mine      bool   // only me's requests (m)
	search    string
	searching bool
	searchErr error // the typed search does not parse (shown on the search line)
	input     textinput.Model
	table     table.Model // draws the visible window (listtable.go)
	frame     int
	counts    map[app.Status]int

	// Batch entries (batchlist.go): a batch is one row, expanded in place.
	batches map[string]app.Batch     // summaries of the batch entries loaded
	open    map[string][]app.Request // expanded batches: their requests
	kid     []bool                   // parallel to rows: an expanded batch's request
	entries int                      // entries the tab's query matches ("row N of M")
}

func newListModel(keys listKeys, search searchKeys) listModel {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "search prompts, or model:sdxl seed:123 is:failed by:alice after:2026-11-01"
	in.CharLimit = 200
	return listModel{keys: keys, searchKeys: search, input: in, table: newRequestTable()}
}

func (l *listModel) SetSize(w, h int) {
	l.width, l.height = w, max(h, 1)
	l.input.SetWidth(max(w-4, 10))
	l.clampOffset()
}

// visibleRows is how many request rows fit under the tab line, the
// column headings (and the search line when it shows).
func (l listModel) visibleRows() int {
	return max(l.height-l.rowsTop(), 1)
}

// rowsTop is the line within the list view where the first row is drawn.
func (l listModel) rowsTop() int {
	if l.searching || l.search != "" || l.mine {
		return 3
	}
	return 2
}

func (l listModel) selected() (app.Request, bool) {
	if l.cursor < 0 || l.cursor >= len(l.rows) {
		return app.Request{}, false
	}
	return l.rows[l.cursor], true
}

// row finds a loaded request by id.
func (l listModel) row(id string) (app.Request, bool) {
	for _, r := range l.rows {
		if r.ID == id {
			return r, true
		}
	}
	return app.Request{}, false
}

func (l listModel) query() app.ListQuery {
	q := app.ListQuery{Search: l.search, Limit: pageSize, GroupBatches: true}
	if l.mine {
		q.RequestedBy = l.me
	}
	if l.filter > 0 {
		q.Statuses = []app.Status{app.Statuses[l.filter-1]}
	}
	return q
}

// load asks the root for a keyset read (the list holds no store); a newer
// load supersedes any in flight.
func (l *listModel) load(mode loadMode) tea.Cmd {
	q := l.query()
	switch mode {
	case loadOlder:
		if len(l.rows) == 0 {
			return nil
		}
		q.Before = l.lastEntryID()
	case loadNewer:
		if len(l.rows) == 0 {
			return nil
		}
		q.After = l.rows[0].ID
	case loadOldest:
		// "ids above the smallest possible id" read from the low end:
		// the keyset page-up of the very bottom.
		q.After = "0"
	case loadRefresh:
		if l.hasNewer && len(l.rows) > 0 {
			// "~" sorts after every ULID character, so the first row itself
			// is included and the window stays where it is.
			q.Before = l.rows[0].ID + "~" // the first row is always an entry
		}
		q.Limit = min(max(len(l.rows)-l.kids(), pageSize), 1000)
	}
	l.seq++
	l.loading = true
	return wantPageCmd(pageWantedMsg{seq: l.seq, mode: mode, q: q})
}

func (l listModel) Update(msg tea.Msg) (listModel, tea.Cmd) {
	switch msg := msg.(type) {
	case pageLoadedMsg:
		return l.applyPage(msg), nil
	case tea.KeyPressMsg:
		if l.searching {
			return l.updateSearch(msg)
		}
		return l.handleKey(msg)
	case tea.MouseWheelMsg:
		if msg.Mouse().Button == tea.MouseWheelUp {
			return l.moveBy(-3)
		}
		return l.moveBy(3)
	}
	return l, nil
}

func (l listModel) handleKey(msg tea.KeyPressMsg) (listModel, tea.Cmd) {
	switch {
	case key.Matches(msg, l.keys.Up):
		return l.moveBy(-1)
	case key.Matches(msg, l.keys.Down):
		return l.moveBy(1)
	case key.Matches(msg, l.keys.PageUp):
		return l.moveBy(-l.visibleRows())
	case key.Matches(msg, l.keys.PageDown):
		return l.moveBy(l.visibleRows())
	case key.Matches(msg, l.keys.Top):
		if l.hasNewer {
			return l, l.load(loadTop)
		}
		l.cursor, l.offset = 0, 0
		return l, nil
	case key.Matches(msg, l.keys.Bottom):
		if l.hasOlder {
			return l, l.load(loadOldest)
		}
		l.cursor = max(len(l.rows)-1, 0)
		l.clampOffset()
		return l, nil
	case key.Matches(msg, l.keys.Filter):
		return l.setFilter(msg.String())
	case key.Matches(msg, l.keys.Mine):
		l.mine = !l.mine && l.me != ""
		return l, l.load(loadTop)
	case key.Matches(msg, l.keys.Search):
		l.searching = true
		l.input.SetValue(l.search)
		l.input.CursorEnd()
		return l, l.input.Focus()
	}
	return l, nil
}

func (l listModel) setFilter(k string) (listModel, tea.Cmd) {
	switch k {
	case "[":
		l.filter = (l.filter + len(app.Statuses)) % (len(app.Statuses) + 1)
	case "]":
		l.filter = (l.filter + 1) % (len(app.Statuses) + 1)
	default:
		l.filter = int(k[0] - '0')
	}
	return l, l.load(loadTop)
}

func (l listModel) updateSearch(msg tea.KeyPressMsg) (listModel, tea.Cmd) {
	switch {
	case key.Matches(msg, l.searchKeys.Apply):
		if l.searchErr != nil {
			return l, nil // the line says what is wrong; enter does not hide it
		}
		l.searching = false
		l.input.Blur()
		return l.searchTyped(nil)
	case key.Matches(msg, l.searchKeys.Clear):
		l.searching = false
		l.searchErr = nil
		l.input.Blur()
		if l.search == "" {
			return l, nil
		}
		l.search = ""
		return l, l.load(loadTop)
	}
	var cmd tea.Cmd
	l.input, cmd = l.input.Update(msg)
	return l.searchTyped(cmd)
}

// searchTyped applies the search line as it is typed: a search that parses
// reloads the list (a newer load supersedes one in flight), one that does
// not keeps the last good rows and shows its error on the line.
func (l listModel) searchTyped(cmd tea.Cmd) (listModel, tea.Cmd) {
	typed := strings.TrimSpace(l.input.Value())
	if _, err := app.ParseSearchQuery(typed); err != nil {
		l.searchErr = err
		return l, cmd
	}
	l.searchErr = nil
	if typed == l.search {
		return l, cmd
	}
	l.search = typed
	return l, tea.Batch(cmd, l.load(loadTop))
}

func (l listModel) moveBy(n int) (listModel, tea.Cmd) {
	if len(l.rows) == 0 {
		return l, nil
	}
	l.cursor = min(max(l.cursor+n, 0), len(l.rows)-1)
	l.clampOffset()
	if l.loading {
		return l, nil
	}
	if l.hasOlder && l.cursor >= len(l.rows)-prefetch {
		return l, l.load(loadOlder)
	}
	if l.hasNewer && l.cursor < prefetch {
		return l, l.load(loadNewer)
	}
	return l, nil
}

// selectRow moves the cursor to row i (a click).
func (l listModel) selectRow(i int) listModel {
	if i >= 0 && i < len(l.rows) {
		l.cursor = i
		l.clampOffset()
	}
	return l
}

// setFilterTo shows one state's tab (a click).
func (l listModel) setFilterTo(i int) (listModel, tea.Cmd) {
	l.filter = min(max(i, 0), len(app.Statuses))
	return l, l.load(loadTop)
}

func (l *listModel) clampOffset() {
	vis := l.visibleRows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+vis {
		l.offset = l.cursor - vis + 1
	}
	l.offset = max(min(l.offset, len(l.rows)-vis), 0)
}

func (l listModel) applyEntryPage(msg pageLoadedMsg) listModel {
	l.loading, l.loaded, l.err = false, true, msg.err
	if msg.err != nil {
		return l
	}
	l.counts = msg.counts
	got := msg.page.Requests
	switch msg.mode {
	case loadTop:
		l.rows, l.cursor, l.offset = got, 0, 0
		l.hasOlder, l.hasNewer = msg.page.HasMore, false
	case loadOldest:
		l.rows = got
		l.cursor = max(len(got)-1, 0)
		l.hasOlder, l.hasNewer = false, len(got) > 0
	case loadRefresh:
		keep := ""
		if r, ok := l.selected(); ok {
			keep = r.ID
		}
		got = newerOf(l.rows, got)
		l.rows = got
		l.hasOlder = msg.page.HasMore
		l.cursor = min(l.cursor, max(len(got)-1, 0))
		for i, r := range got {
			if r.ID == keep {
				l.cursor = i
				break
			}
		}
	case loadOlder:
		l.rows = append(l.rows[:len(l.rows):len(l.rows)], got...)
		l.hasOlder = msg.page.HasMore
		if drop := len(l.rows) - windowMax; drop > 0 {
			l.rows = l.rows[drop:]
			l.cursor, l.offset = l.cursor-drop, l.offset-drop
			l.hasNewer = true
		}
	case loadNewer:
		l.rows = append(append([]app.Request{}, got...), l.rows...)
		l.cursor += len(got)
		l.offset += len(got)
		l.hasNewer = msg.page.HasMore
		if len(l.rows) > windowMax {
			l.rows = l.rows[:windowMax]
			l.hasOlder = true
		}
	}
	l.cursor = min(max(l.cursor, 0), max(len(l.rows)-1, 0))
	l.clampOffset()
	return l
}

// newerOf keeps, for each row of a re-read page, the copy already on
// screen when it is newer: a page read before a callback committed can
// arrive after the row was patched from that callback.
func newerOf(current, page []app.Request) []app.Request {
	byID := make(map[string]app.Request, len(current))
	for _, r := range current {
		byID[r.ID] = r
	}
	out := page
	for i, r := range page {
		if c, ok := byID[r.ID]; ok && c.UpdatedAt.After(r.UpdatedAt) {
			if &out[0] == &page[0] {
				out = append([]app.Request(nil), page...)
			}
			out[i] = c
		}
	}
	return out
}

// matches reports whether r belongs in the current filter and search.
func (l listModel) matches(r app.Request) bool {
	if l.filter > 0 && r.Status != app.Statuses[l.filter-1] {
		return false
	}
	if l.mine && r.RequestedBy != l.me {
		return false
	}
	search, err := app.ParseSearchQuery(l.search)
	return err == nil && search.Matches(r)
}

// prependEntries shows freshly submitted rows at the top at once, before any
// event or reload confirms them.
func (l listModel) prependEntries(reqs []app.Request) listModel {
	if l.hasNewer {
		return l
	}
	seen := make(map[string]bool, len(l.rows))
	for _, r := range l.rows {
		seen[r.ID] = true
	}
	var add []app.Request
	for i := len(reqs) - 1; i >= 0; i-- { // newest first
		if !seen[reqs[i].ID] && l.matches(reqs[i]) {
			add = append(add, reqs[i])
		}
	}
	if len(add) == 0 {
		return l
	}
	l.rows = append(add, l.rows...)
	l.cursor, l.offset = 0, 0
	return l
}

// patchEntry replaces a row in place; it reports the previous status.
func (l listModel) patchEntry(r app.Request) (listModel, app.Status, bool) {
	for i := range l.rows {
		if l.rows[i].ID == r.ID {
			prev := l.rows[i].Status
			rows := append([]app.Request(nil), l.rows...)
			rows[i] = r
			l.rows = rows
			return l, prev, true
		}
	}
	return l, "", false
}

func (l listModel) removeEntry(id string) listModel {
	for i := range l.rows {
		if l.rows[i].ID == id {
			l.rows = append(append([]app.Request(nil), l.rows[:i]...), l.rows[i+1:]...)
			l.cursor = min(l.cursor, max(len(l.rows)-1, 0))
			l.clampOffset()
			break
		}
	}
	return l
}

// anyActiveVisible reports whether a spinner is on screen.
func (l listModel) anyActiveVisible() bool {
	end := min(l.offset+l.visibleRows(), len(l.rows))
	for i, r := range l.rows[l.offset:end] {
		if r.Status == app.StatusSending || r.Status == app.StatusProcessing || l.batchInFlight(l.offset+i) {
			return true
		}
	}
	return false
}
