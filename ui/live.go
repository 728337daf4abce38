package ui

import (
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Live data: the bus says what changed, the store says what it is now.

func (m Model) handlePageLoaded(msg pageLoadedMsg) (Model, tea.Cmd) {
	before := statusByID(m.list.rows)
	m.list = m.list.applyPage(msg)
	if msg.seq == m.list.seq && msg.err == nil && msg.totals != nil {
		m.header.counts = msg.totals // read with these rows
	}
	var cmds []tea.Cmd
	if msg.seq == m.list.seq && msg.err == nil && msg.mode == loadRefresh {
		var done []app.Request
		for _, r := range m.list.rows {
			if prev, ok := before[r.ID]; ok && settled(prev, r.Status) {
				done = append(done, r)
			}
		}
		cmds = append(cmds, m.notifySettled(done), m.reopenBatchesCmd())
	}
	m, sel := m.followSelection()
	if r, ok := m.list.selected(); ok && sel == nil && msg.mode == loadRefresh {
		// the same row is selected but may have changed: re-read its images
		sel = loadDetailCmd(m.ctx, m.b.Store, r.ID)
	}
	return m, tea.Batch(append(cmds, sel, m.spinCmd())...)
}

func statusByID(rows []app.Request) map[string]app.Status {
	out := make(map[string]app.Status, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out
}

func (m Model) handleRequestReloaded(msg requestReloadedMsg) (Model, tea.Cmd) {
	if q := m.list.query(); msg.counts != nil && msg.search == q.Search && msg.mine == q.RequestedBy {
		m.list.counts = msg.counts
	}
	if msg.totals != nil {
		m.header.counts = msg.totals // read with this row
	}
	if msg.err != nil {
		if app.ErrorCode(msg.err) == app.ENOTFOUND {
			m.list = m.list.remove(msg.req.ID)
			m, sel := m.followSelection()
			return m, sel
		}
		return m, nil // logged by the Cmd; the next event or poll tries again
	}
	var cmds []tea.Cmd
	list, prev, found := m.list.patch(msg.req)
	m.list = list
	if found && !m.list.matches(msg.req) && m.list.filter > 0 {
		// it left the state the filter shows (processing → completed)
		m.list = m.list.remove(msg.req.ID)
	}
	switch {
	case found && settled(prev, msg.req.Status):
		cmds = append(cmds, m.notifySettled([]app.Request{msg.req}))
	case !found && !m.list.hasNewer && m.list.matches(msg.req) && (len(m.list.rows) == 0 || msg.req.ID > m.list.rows[0].ID):
		// a request made elsewhere (CLI, another window) lands on top
		keep := m.list.cursor
		m.list = m.list.prepend([]app.Request{msg.req})
		if len(m.list.rows) > 1 {
			m.list.cursor = min(keep+1, len(m.list.rows)-1)
			m.list.clampOffset()
		}
	}
	if m.detail.has && m.detail.req.ID == msg.req.ID {
		m.detail = m.detail.show(msg.req)
		cmds = append(cmds, loadDetailCmd(m.ctx, m.b.Store, msg.req.ID))
	}
	cmds = append(cmds, m.batchSummariesCmd([]app.Request{msg.req})) // its batch row's progress
	return m, tea.Batch(append(cmds, m.spinCmd())...)
}

func (m Model) handleDetailLoaded(msg detailLoadedMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.detail, cmd = m.detail.Update(msg)
	m, explain := m.explainSelected()
	return m, tea.Batch(cmd, m.previewCmd(), explain)
}

// previewCmd asks for the selected image at the current pane size, or
// takes it from the cache.
func (m *Model) previewCmd() tea.Cmd {
	img, ok := m.detail.firstImage()
	if !ok || m.noColor || m.width == 0 {
		return nil
	}
	cols, rows := m.detail.previewBox(m.detail.previewLine(m.styles, m.b.Clock.Now()))
	k := m.gfx.previewKey(img.SHA256, cols, rows)
	if m.detail.preview != nil && m.detail.preview.key == k {
		return nil
	}
	if cached, ok := m.previews.get(k); ok {
		m.detail.preview = &cached
		return m.previewPlaceCmd()
	}
	m.detail.preview = nil
	m.detail.previewWant = k
	return renderPreviewCmd(m.ctx, m.previews, img, k)
}

func (m Model) handlePreviewRendered(msg previewRenderedMsg) (Model, tea.Cmd) {
	if msg.err == nil {
		m.previews.put(msg)
	}
	if m.team.previewWant == msg.key {
		m.team.preview = &msg // a team request's image, fetched from Odoo
	}
	if img, ok := m.detail.firstImage(); ok && img.SHA256 == msg.key.sha && m.detail.previewWant == msg.key {
		m.detail.preview = &msg
		return m, m.previewPlaceCmd()
	}
	return m, nil
}

// previewPlaceCmd draws a kitty/iTerm2/sixel image over the blank block the
// detail view reserved. Half-blocks need nothing: they are the view itself.
func (m Model) previewPlaceCmd() tea.Cmd {
	p := m.detail.preview
	if !m.detail.inlineImages || p == nil || p.inline == "" {
		return nil
	}
	visible := m.screen == screenDetail || (m.screen == screenMain && m.wide())
	if !visible {
		return nil
	}
	line := m.detail.previewLine(m.styles, m.b.Clock.Now()) - m.detail.vp.YOffset()
	if line < 0 || line >= m.detail.vp.Height() {
		return nil
	}
	x, y := 0, headerHeight+line
	if m.screen == screenMain {
		x, y = m.listWidth()+1, y+1 // inside the pane's border
	}
	return placeImageCmd(m.gfx, p.inline, x, y)
}

// inlineImageShown is the picture a terminal-graphics protocol drew, or ""
// when none is on screen.
func (m Model) inlineImageShown() string {
	p := m.detail.preview
	if !m.detail.inlineImages || p == nil || p.inline == "" || !m.detail.has {
		return ""
	}
	if m.screen == screenDetail || (m.screen == screenMain && m.wide()) {
		return m.detail.req.ID
	}
	return ""
}

// clearStaleImage removes a kitty/iTerm2/sixel picture that is no longer
// wanted: those live outside the cell grid, so the renderer, which only
// redraws cells that changed, would leave them behind.
func (m Model) clearStaleImage(next Model) tea.Cmd {
	before := m.inlineImageShown()
	if before == "" || before == next.inlineImageShown() && m.width == next.width && m.height == next.height {
		return nil
	}
	return tea.Sequence(append(wipeImageCmds(m.gfx), next.previewPlaceCmd())...)
}

func (m Model) handleHeaderLoaded(msg headerLoadedMsg) (Model, tea.Cmd) {
	m.header = m.header.apply(msg)
	m.admin.listener = msg.listener
	return m, nil
}

// handleBusEvent turns a hint into reloads and re-arms the wait.
func (m Model) handleBusEvent(msg busEventMsg) (Model, tea.Cmd) {
	if msg.closed {
		return m, nil
	}
	cmds := []tea.Cmd{waitForEventCmd(m.sub)}
	if msg.resync {
		m.headerDirty = true
		return m, tea.Batch(append(cmds, m.reloadAll()...)...)
	}
	ev := msg.ev
	switch ev.Kind {
	case app.EventRequest:
		m.headerDirty = true
		if ev.RequestID != "" {
			cmds = append(cmds, reloadRequestCmd(m.ctx, m.b.Store, ev.RequestID, m.list.query()))
		} else {
			cmds = append(cmds, m.list.load(loadRefresh))
		}
	case app.EventActivity:
		m.headerDirty = true // n8n errors show in the header
		if m.screen == screenActivity {
			cmds = append(cmds, loadActivityCmd(m.ctx, m.b.Store))
		}
		if ev.RequestID != "" && m.detail.has && m.detail.req.ID == ev.RequestID {
			cmds = append(cmds, loadDetailCmd(m.ctx, m.b.Store, ev.RequestID))
		}
	case app.EventSync:
		m.headerDirty = true
		if ev.RequestID != "" {
			cmds = append(cmds, reloadRequestCmd(m.ctx, m.b.Store, ev.RequestID, m.list.query()))
		}
	case app.EventListener:
		// the header re-reads the listener immediately: it is in memory
		cmds = append(cmds, loadHeaderCmd(m.ctx, m.b))
	case app.EventSecrets:
		if m.screen == screenAdmin {
			cmds = append(cmds, loadSecretsCmd(m.ctx, m.b.Secrets))
		}
	}
	return m, tea.Batch(cmds...)
}

// reloadAll re-reads everything on screen: after dropped events or a write
// by another process.
func (m *Model) reloadAll() []tea.Cmd {
	cmds := []tea.Cmd{m.list.load(loadRefresh), loadHeaderCmd(m.ctx, m.b)}
	m.headerDirty = false
	if m.screen == screenActivity {
		cmds = append(cmds, loadActivityCmd(m.ctx, m.b.Store))
	}
	if m.screen == screenAdmin {
		cmds = append(cmds, loadSecretsCmd(m.ctx, m.b.Secrets))
	}
	return cmds
}

// handlePollTicked checks the data version (another process may have
// written) and refreshes the header if events marked it stale. Header reads
// are coalesced here so a burst of events costs one query per 250 ms.
func (m Model) handlePollTicked() (Model, tea.Cmd) {
	cmds := []tea.Cmd{checkDataVersionCmd(m.ctx, m.b.Store)}
	if m.flash != "" && !m.flashBox && m.b.Clock.Now().Sub(m.flashAt) > flashFor {
		m.flash = "" // a status line is news, not a permanent label
	}
	if m.headerDirty {
		m.headerDirty = false
		cmds = append(cmds, loadHeaderCmd(m.ctx, m.b))
	}
	return m, tea.Batch(cmds...)
}

func (m Model) handleDataVersion(msg dataVersionCheckedMsg) (Model, tea.Cmd) {
	next := m.pollTickCmd()
	if msg.err != nil {
		return m, next // logged by the Cmd
	}
	changed := m.dataVersion != 0 && msg.version != m.dataVersion
	m.dataVersion = msg.version
	if !changed {
		return m, next
	}
	return m, tea.Batch(append(m.reloadAll(), next)...)
}

// handleSpinnerTicked advances the one spinner; with no active request on
// screen the tick is dropped, which ends the loop until spinCmd restarts it.
func (m Model) handleSpinnerTicked(msg spinner.TickMsg) (Model, tea.Cmd) {
	if !m.spinnerVisible() {
		m.spinning = false
		return m, nil
	}
	next, cmd := m.spinner.Update(msg)
	if cmd == nil {
		return m, nil // a tick of a loop that was replaced
	}
	m.spinner = next
	m.list.frame++
	m.detail.frame = m.list.frame
	if m.noTicks {
		cmd = nil
	}
	return m, cmd
}

// spinnerVisible reports whether a spinner is on screen: an active row, or
// the detail of an active request.
func (m Model) spinnerVisible() bool {
	detailShown := m.screen == screenDetail || m.screen == screenMain && m.wide()
	st := m.detail.req.Status
	return m.list.anyActiveVisible() || detailShown && m.detail.has && (st == app.StatusSending || st == app.StatusProcessing)
}

// spinCmd starts the spinner loop when an active row becomes visible; the
// loop stops itself when none is left.
func (m *Model) spinCmd() tea.Cmd {
	if m.spinning || !m.spinnerVisible() {
		return nil
	}
	m.spinning = true
	return m.spinnerTickCmd()
}

func (m Model) handleWheel(msg tea.MouseWheelMsg) (Model, tea.Cmd) {
	switch m.screen {
	case screenActivity:
		var cmd tea.Cmd
		m.activity, cmd = m.activity.Update(msg)
		return m, cmd
	case screenDetail:
		var cmd tea.Cmd
		m.detail = m.detail.measure(m.styles, m.b.Clock.Now())
		m.detail, cmd = m.detail.Update(msg)
		return m, cmd
	case screenMain:
		if m.wide() && msg.Mouse().X >= m.listWidth() {
			var cmd tea.Cmd
			m.detail = m.detail.measure(m.styles, m.b.Clock.Now())
			m.detail, cmd = m.detail.Update(msg)
			return m, cmd
		}
		return m.updateList(msg)
	}
	return m, nil
}

func (m Model) openImage() (Model, tea.Cmd) {
	img, ok := m.detail.firstImage()
	if !ok || !m.detail.has {
		m.flash, m.flashErr = "no image to open: select a completed request", true
		return m, nil
	}
	return m, openImageCmd(m.ctx, m.b.OpenImage, img.Path)
}

func (m Model) copyImagePath() (Model, tea.Cmd) {
	img, ok := m.detail.firstImage()
	if !ok || !m.detail.has {
		m.flash, m.flashErr = "no image path to copy: select a completed request", true
		return m, nil
	}
	m.flash, m.flashErr = "copied "+img.Path+" (OSC 52)", false
	return m, copyCmd(img.Path)
}

func (m Model) handleImageOpened(msg imageOpenedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = errText(msg.err), true
		return m, nil
	}
	m.flash, m.flashErr = "opened "+msg.path, false
	return m, nil
}
