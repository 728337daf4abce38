package ui

import (
	"fmt"
	"strings"

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
	return m, m.previewCmd()
}

// layout hands every child its size; it runs on each resize and whenever
// the arrangement (wide/narrow) may have changed.
func (m *Model) layout() {
	body := max(m.bodyHeight(), 1)
	m.header.SetSize(m.width)
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
	m.composer.SetSize(m.width, body)
	m.admin.SetSize(m.width, body)
	m.activity.SetSize(m.width, body)
}

func (m Model) handleBackground(msg tea.BackgroundColorMsg) (Model, tea.Cmd) {
	m.styles = newStyles(msg.IsDark(), m.noColor)
	m.help.Styles = m.styles.help
	return m, nil
}

func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	m.flash = ""
	if m.confirm != nil {
		return m.handleConfirmKey(msg)
	}
	switch m.screen {
	case screenComposer:
		return m.handleComposerKey(msg)
	case screenAdmin:
		return m.handleAdminKey(msg)
	case screenActivity:
		return m.handleActivityKey(msg)
	case screenHelp:
		return m.handleHelpKey(msg)
	}
	return m.handleMainKey(msg)
}

// handleHelpKey scrolls the help with j/k; any other key closes it.
func (m Model) handleHelpKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch msg.String() {
	case "j", "down", "pgdown", "space":
		m.helpScroll++
		return m, nil
	case "k", "up", "pgup":
		m.helpScroll = max(m.helpScroll-1, 0)
		return m, nil
	case "q":
		if m.back != screenComposer {
			return m, tea.Quit
		}
	}
	m.screen, m.helpScroll = m.back, 0
	return m, nil
}

func (m Model) handleMainKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if m.list.searching {
		return m.updateList(msg)
	}
	k := m.listKeys
	switch {
	case key.Matches(msg, m.globalKeys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.globalKeys.Help):
		m.back, m.screen, m.helpScroll = m.screen, screenHelp, 0
		return m, nil
	case key.Matches(msg, m.globalKeys.Compose):
		return m.openComposer(app.ParamsInput{})
	case key.Matches(msg, m.globalKeys.Admin):
		return m.openAdmin()
	case key.Matches(msg, m.globalKeys.Activity):
		m.screen = screenActivity
		return m, loadActivityCmd(m.ctx, m.b.Store)
	case key.Matches(msg, m.globalKeys.Back):
		return m.leaveDetail(), nil
	case key.Matches(msg, k.Detail):
		return m.enterDetail()
	case key.Matches(msg, k.Focus):
		if m.focus == focusDetail {
			return m.leaveDetail(), nil
		}
		return m.enterDetail()
	case key.Matches(msg, k.Retry):
		return m.startAction(actionRetry)
	case key.Matches(msg, k.Cancel):
		return m.askConfirm(actionCancel, "Cancel request %s? n8n may still finish it; the result would be kept but the state stays cancelled.")
	case key.Matches(msg, k.Delete):
		return m.askConfirm(actionDelete, "Delete request %s, its images and its history? This cannot be undone.")
	case key.Matches(msg, k.Remix):
		return m.remix(false)
	case key.Matches(msg, k.ReuseSeed):
		return m.remix(true)
	case key.Matches(msg, k.Open):
		return m.openImage()
	case key.Matches(msg, k.CopyPath):
		return m.copyImagePath()
	}
	if m.focus == focusDetail {
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		return m, tea.Batch(cmd, m.previewPlaceCmd())
	}
	return m.updateList(msg)
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

func (m Model) askConfirm(action, prompt string) (Model, tea.Cmd) {
	r, ok := m.list.selected()
	if !ok {
		return m, nil
	}
	if action == actionCancel && r.Status.Final() {
		m.flash, m.flashErr = fmt.Sprintf("request %s is already %s; nothing to cancel", shortID(r.ID), r.Status), true
		return m, nil
	}
	m.confirm = &confirmation{action: action, id: r.ID, prompt: fmt.Sprintf(prompt, shortID(r.ID))}
	return m, nil
}

func (m Model) handleConfirmKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	c := m.confirm
	switch {
	case key.Matches(msg, m.confirmKeys.Yes):
		m.confirm = nil
		m.flash, m.flashErr = c.action+" "+shortID(c.id)+"…", false
		return m, actionCmd(m.ctx, m.b.Service, c.action, c.id)
	case key.Matches(msg, m.confirmKeys.No):
		m.confirm = nil
		m.flash, m.flashErr = "kept "+shortID(c.id), false
	}
	return m, nil
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
		m.flash, m.flashErr = "remix: "+app.ErrorMessage(msg.err), true
		return m, nil
	}
	return m.openComposer(msg.in)
}

func (m Model) openComposer(in app.ParamsInput) (Model, tea.Cmd) {
	m.composer.reset(in)
	m.screen = screenComposer
	return m, tea.Batch(m.composer.prompt.Focus(), loadHistoryCmd(m.ctx, m.b.Store))
}

func (m Model) handleComposerKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.composer.keys.Close):
		m.screen = screenMain
		return m, nil
	case key.Matches(msg, m.composer.keys.Submit):
		if m.composer.submitting {
			return m, nil
		}
		in, verr := m.composer.params()
		if verr != nil {
			m.composer = m.composer.failed(verr)
			return m, nil
		}
		m.composer.submitting, m.composer.errs, m.composer.failure = true, nil, ""
		return m, submitCmd(m.ctx, m.b.Service, in)
	}
	var cmd tea.Cmd
	m.composer, cmd = m.composer.Update(msg)
	return m, cmd
}

func (m Model) handlePaste(msg tea.PasteMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case m.screen == screenComposer:
		m.composer, cmd = m.composer.Update(msg)
	case m.screen == screenAdmin:
		m.admin, cmd = m.admin.Update(msg)
	case m.list.searching:
		m.list.input, cmd = m.list.input.Update(msg)
	}
	return m, cmd
}

func (m Model) handleSubmitted(msg submittedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.composer = m.composer.failed(msg.err)
		return m, nil
	}
	m.composer.submitting = false
	m.screen, m.focus = screenMain, focusList
	var reload tea.Cmd
	if len(msg.reqs) > 0 && (m.list.hasNewer || !m.list.matches(msg.reqs[0])) {
		// scrolled away or filtered out: go back to everything, newest first,
		// so the new rows are where the user looks
		m.list.filter, m.list.search, m.list.hasNewer = 0, "", false
		m.list.rows, m.list.cursor, m.list.offset = nil, 0, 0
		reload = m.list.load(loadRefresh)
	}
	m.list = m.list.prepend(msg.reqs)
	m.headerDirty = true
	m.flash, m.flashErr = fmt.Sprintf("submitted %d request(s)", len(msg.reqs)), false
	m, sel := m.followSelection()
	return m, tea.Batch(reload, sel, m.spinCmd())
}

func (m Model) handleActionDone(msg actionDoneMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = msg.action+" "+shortID(msg.id)+": "+app.ErrorMessage(msg.err), true
		return m, nil
	}
	m.headerDirty = true
	switch msg.action {
	case actionDelete:
		m.list = m.list.remove(msg.id)
		m.flash, m.flashErr = "deleted "+shortID(msg.id), false
		m, sel := m.followSelection()
		return m, sel
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
	m.composer, cmd = m.composer.Update(msg)
	return m, cmd
}

func shortID(id string) string {
	if len(id) > 10 {
		return "…" + id[len(id)-8:]
	}
	return id
}

// finished reports whether a move from prev to next deserves a notification.
func finished(prev, next app.Status) bool {
	return prev != "" && !prev.Final() && next.Final() && next != app.StatusCancelled
}

func (m Model) notifyCmd(r app.Request) tea.Cmd {
	if !m.b.Config.UI.Notify {
		return nil
	}
	prompt := oneLine(r.Params.Prompt)
	if len([]rune(prompt)) > 60 {
		prompt = string([]rune(prompt)[:60]) + "…"
	}
	return notifyCmd(fmt.Sprintf("InfluenceGen: %s — %s", strings.ReplaceAll(string(r.Status), "_", " "), prompt))
}
