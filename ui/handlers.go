package ui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

const (
	actionRetry  = "retry"
	actionCancel = "cancel"
	actionDelete = "delete"
)

func (m Model) handleResize(msg tea.WindowSizeMsg) (Model, tea.Cmd) {
	m.width, m.height = msg.Width, msg.Height
	m.layout()
	return m, tea.Batch(m.previewCmd(), m.thumbCmds())
}

// layout hands every child its size; it runs on each resize and whenever
// the arrangement (wide/narrow) may have changed.
func (m *Model) layout() {
	body := max(m.bodyHeight(), 1)
	m.header.SetSize(m.width)
	m.team.SetSize(m.width, body)
	m.help.SetWidth(m.width)
	if m.wide() {
		m.list.SetSize(m.listWidth()-1, body) // one column of air before the pane
	} else {
		m.list.SetSize(m.width, body)
	}
	if m.wide() {
		frame := m.styles.pane.GetHorizontalFrameSize()
		m.detail.SetSize(m.width-m.listWidth()-frame, body-m.styles.pane.GetVerticalFrameSize())
		if m.screen == screenDetail {
			m.screen, m.focus = screenMain, focusDetail
		}
	} else {
		m.detail.SetSize(m.width, body)
		if m.screen == screenMain && m.focus == focusDetail {
			m.screen = screenDetail
		}
	}
	m.helpVP.SetWidth(m.width)
	m.helpVP.SetHeight(body)
	if m.screen == screenHelp {
		m.helpVP.SetContent(m.helpContent())
	}
	m.composer.SetSize(m.width, body)
	m.admin.SetSize(m.width, body)
	m.activity.SetSize(m.width, body)
	m.cur.gallery.SetSize(m.width, body)
}

func (m Model) handleBackground(msg tea.BackgroundColorMsg) (Model, tea.Cmd) {
	m.styles = newStyles(msg.IsDark(), m.noColor)
	m.applyTheme()
	return m, nil
}

// applyTheme hands the one theme to every bubble: their own defaults assume
// a dark terminal.
func (m *Model) applyTheme() {
	s := m.styles
	m.help.Styles = s.help
	m.composer.setStyles(s)
	m.admin.input.SetStyles(s.textinput)
	m.list.input.SetStyles(s.textinput)
	m.list.table.SetStyles(s.table)
	m.activity.setStyles(s)
	if m.confirm != nil {
		m.confirm.input.SetStyles(s.textinput)
	}
	if m.screen == screenHelp {
		m.helpVP.SetContent(m.helpContent())
	}
}

// typeaheadGap separates bursts of typing: keys closer together than this
// belong to what the user was typing before, not to a new decision.
const typeaheadGap = 500 * time.Millisecond

func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if msg.String() == "ctrl+c" {
		return m.handleInterrupt()
	}
	m.quitArmed = false
	m, held := m.holdTypedAhead(msg)
	if held {
		return m, nil
	}
	if m.flashBox {
		m.flash, m.flashBox = "", false // the key closes the box, nothing more
		return m, nil
	}
	m.flash = ""
	switch {
	case m.confirm != nil:
		return m.handleConfirmKey(msg)
	case m.screen == screenComposer:
		return m.handleComposerKey(msg)
	case m.screen == screenAdmin:
		return m.handleAdminKey(msg)
	case m.screen == screenActivity:
		return m.handleActivityKey(msg)
	case m.screen == screenHelp:
		return m.handleHelpKey(msg)
	case m.screen == screenTeam:
		return m.handleTeamKey(msg)
	case m.curationScreen():
		return m.handleCurationKey(msg)
	}
	return m.handleMainKey(msg)
}

// holdTypedAhead keeps the keys of a submitted prompt's typing burst from
// acting anywhere: while the submit is in flight the composer owns the
// keyboard, and afterwards the burst is dropped until a pause in typing.
func (m Model) holdTypedAhead(msg tea.KeyPressMsg) (Model, bool) {
	now := m.b.Clock.Now()
	gap := now.Sub(m.lastKeyAt)
	m.lastKeyAt = now
	if m.screen == screenComposer && m.composer.submitting {
		m.heldKeys++
		return m, true
	}
	if !m.typedAhead {
		return m, false
	}
	// a stray burst is text: a named key (esc, enter, an arrow, a ctrl
	// chord) is a deliberate act and ends the hold at once
	if gap < typeaheadGap && msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
		m.heldKeys++
		m.flash, m.flashErr = fmt.Sprintf("ignored %s typed while submitting", plural(m.heldKeys, "key")), false
		return m, true
	}
	m.typedAhead, m.heldKeys = false, 0
	return m, false
}

// handleHelpKey scrolls the help; esc, q and ? close it.
func (m Model) handleHelpKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.helpKeys.Close) {
		m.screen = m.back
		return m, nil
	}
	var cmd tea.Cmd
	m.helpVP, cmd = m.helpVP.Update(msg)
	return m, cmd
}

func (m Model) openHelp() (Model, tea.Cmd) {
	m.back, m.screen = m.screen, screenHelp
	m.helpVP.SetContent(m.helpContent())
	m.helpVP.GotoTop()
	return m, nil
}

func (m Model) handleMainKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if m.list.searching {
		return m.updateList(msg)
	}
	g := m.globalKeys
	switch {
	case key.Matches(msg, g.Quit):
		return m, quitCmd()
	case key.Matches(msg, g.Help):
		return m.openHelp()
	case key.Matches(msg, g.Compose):
		return m.openComposer()
	case key.Matches(msg, g.Admin):
		return m.openAdmin()
	case key.Matches(msg, g.Activity):
		m.screen = screenActivity
		return m, loadActivityCmd(m.ctx, m.b.Store)
	case key.Matches(msg, g.Team):
		return m.openTeam()
	case key.Matches(msg, m.listKeys.Focus):
		if m.focus == focusDetail {
			return m.leaveDetail(), nil
		}
		return m.enterDetail()
	}
	if m.focus == focusDetail {
		return m.handleDetailKey(msg)
	}
	return m.handleListKey(msg)
}

func (m Model) handleListKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.listKeys.Detail) {
		return m.enterDetail()
	}
	if key.Matches(msg, m.listKeys.Gallery) {
		return m.openGallery("", "")
	}
	if next, cmd, ok := m.handleBatchKey(msg); ok {
		return next, cmd
	}
	if next, cmd, ok := m.handleRequestKey(msg, m.listKeys.requestKeys); ok {
		return next, cmd
	}
	return m.updateList(msg)
}

func (m Model) handleDetailKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.detailKeys.Back) {
		return m.leaveDetail(), nil
	}
	if key.Matches(msg, m.detailKeys.Grid) {
		return m.openGallery(m.detail.req.ID, m.detail.req.BatchID)
	}
	if next, cmd, ok := m.handleRequestKey(msg, m.detailKeys.requestKeys); ok {
		return next, cmd
	}
	var cmd tea.Cmd
	m.detail = m.detail.measure(m.styles, m.b.Clock.Now())
	m.detail, cmd = m.detail.Update(msg)
	return m, tea.Batch(cmd, m.previewPlaceCmd())
}

// handleRequestKey runs the keys that act on the selected request, the
// same from the list and the detail; disabled ones do not match.
func (m Model) handleRequestKey(msg tea.KeyPressMsg, k requestKeys) (Model, tea.Cmd, bool) {
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Retry):
		m, cmd = m.startAction(actionRetry)
	case key.Matches(msg, k.Cancel):
		m, cmd = m.startAction(actionCancel) // at once: u undoes it (undo.go)
	case key.Matches(msg, k.Delete):
		m, cmd = m.startAction(actionDelete)
	case key.Matches(msg, k.Undo):
		m, cmd = m.startUndo()
	case key.Matches(msg, k.Remix):
		m, cmd = m.remix(false)
	case key.Matches(msg, k.ReuseSeed):
		m, cmd = m.remix(true)
	case key.Matches(msg, k.Open):
		m, cmd = m.openImage()
	case key.Matches(msg, k.CopyPath):
		m, cmd = m.copyImagePath()
	default:
		return m, nil, false
	}
	return m, cmd, true
}

// updateList forwards to the list and follows the selection.
func (m Model) updateList(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	m, sel := m.followSelection()
	return m, tea.Batch(cmd, sel, m.spinCmd())
}

// followSelection points the detail at the selected row and loads its
// images and timeline when it changed.
func (m Model) followSelection() (Model, tea.Cmd) {
	r, ok := m.list.selected()
	if !ok {
		m.detail.has = false
		return m, nil
	}
	changed := m.detail.req.ID != r.ID || !m.detail.has
	m.detail = m.detail.show(r)
	_, m.detail.asBatch = m.list.selectedBatch()
	if !changed {
		return m, nil
	}
	return m, loadDetailCmd(m.ctx, m.b.Store, r.ID)
}

func (m Model) enterDetail() (Model, tea.Cmd) {
	if _, ok := m.list.selected(); !ok {
		return m, nil
	}
	m.focus = focusDetail
	if !m.wide() {
		m.screen = screenDetail
	}
	m, cmd := m.followSelection()
	return m, tea.Batch(cmd, m.previewPlaceCmd())
}

func (m Model) leaveDetail() Model {
	m.focus = focusList
	if m.screen == screenDetail {
		m.screen = screenMain
	}
	return m
}

func (m Model) startAction(action string) (Model, tea.Cmd) {
	r, ok := m.list.selected()
	if !ok {
		return m, nil
	}
	m.flash, m.flashErr = action+" "+shortID(r.ID)+"…", false
	return m, actionCmd(m.ctx, m.b.Service, action, r.ID)
}

// remix asks the service for the selected request's parameters (R: fresh
// seed; s: seed locked); the composer opens pre-filled when they arrive.
func (m Model) remix(seedOnly bool) (Model, tea.Cmd) {
	r, ok := m.list.selected()
	if !ok {
		return m, nil
	}
	return m, remixCmd(m.ctx, m.b.Service, r.ID, seedOnly)
}

func (m Model) handleRemixLoaded(msg remixLoadedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = "remix: "+errText(msg.err), true
		return m, nil
	}
	return m.openComposerWith(msg.in)
}

func (m Model) handlePaste(msg tea.PasteMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case m.confirm != nil:
		*m.confirm, cmd = m.confirm.Update(msg)
	case m.screen == screenComposer && !m.composer.submitting:
		*m.composer, cmd = m.composer.Update(msg)
	case m.screen == screenAdmin:
		m.admin, cmd = m.admin.Update(msg)
	case m.list.searching:
		m.list.input, cmd = m.list.input.Update(msg)
		m.list, cmd = m.list.searchTyped(cmd)
	}
	return m, cmd
}

func (m Model) handleActionDone(msg actionDoneMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = msg.action+" "+shortID(msg.id)+": "+errText(msg.err), true
		return m, nil
	}
	m.headerDirty = true
	switch msg.action {
	case actionDelete:
		m.list = m.list.remove(msg.id)
		m = m.offerUndo(msg)
		m, sel := m.followSelection()
		return m, tea.Batch(sel, m.list.load(loadRefresh)) // the counts follow at once, bus or not
	case actionCancel:
		m = m.offerUndo(msg)
		m.list, _, _ = m.list.patch(msg.req)
		m, sel := m.followSelection()
		return m, tea.Batch(sel, m.spinCmd())
	case actionRetry:
		if msg.req.ID != "" && msg.req.ID != msg.id {
			// a retry that made a new request shows it on top
			m.list = m.list.prepend([]app.Request{msg.req})
		}
	}
	if msg.req.ID != "" {
		m.list, _, _ = m.list.patch(msg.req)
	}
	m.flash, m.flashErr = msg.action+" "+shortID(msg.id)+": done", false
	m, sel := m.followSelection()
	return m, tea.Batch(sel, m.spinCmd())
}

func (m Model) handleHistoryLoaded(msg historyLoadedMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	*m.composer, cmd = m.composer.Update(msg)
	return m, cmd
}

func shortID(id string) string {
	if len(id) > 10 {
		return "…" + id[len(id)-8:]
	}
	return id
}
