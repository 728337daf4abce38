package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// The composer's life: open (fresh, remixed or the kept draft), submit,
// and what the list shows afterwards.

// openComposer brings back the kept draft, or a fresh form.
func (m Model) openComposer() (Model, tea.Cmd) {
	if !m.composer.hasDraft() {
		m.composer.reset(app.ParamsInput{})
	}
	m.screen = screenComposer
	return m, tea.Batch(m.composer.setFocus(m.composer.focus), loadHistoryCmd(m.ctx, m.b.Store))
}

// openComposerWith pre-fills the form (remix, reuse seed): a new start.
func (m Model) openComposerWith(in app.ParamsInput) (Model, tea.Cmd) {
	m.composer.reset(in)
	m.screen = screenComposer
	return m, tea.Batch(m.composer.prompt.Focus(), loadHistoryCmd(m.ctx, m.b.Store))
}

func (m Model) handleComposerKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if m.composer.picker != nil {
		return m.handlePresetPickerKey(msg)
	}
	switch {
	case key.Matches(msg, m.composer.keys.Preset) && !m.composer.submitting:
		return m.openPresetPicker()
	case key.Matches(msg, m.composer.keys.Close):
		m.screen = screenMain
		return m, nil
	case key.Matches(msg, m.composer.keys.Submit):
		in, verr := m.composer.validate()
		if verr != nil {
			*m.composer = m.composer.failed(verr)
			return m, nil
		}
		m.composer.submitting, m.composer.errs, m.composer.failure = true, nil, ""
		m.typedAhead, m.heldKeys = true, 0
		return m, submitCmd(m.ctx, m.b.Service, in)
	}
	var cmd tea.Cmd
	*m.composer, cmd = m.composer.Update(msg)
	return m, cmd
}

func (m Model) handleSubmitted(msg submittedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		// the form stays: what follows is typed into it on purpose
		m.typedAhead = false
		*m.composer = m.composer.failed(msg.err)
		return m, nil
	}
	m.composer.submitting = false
	m.composer.reset(app.ParamsInput{}) // sent: the draft is done with
	m.batches.add(msg.reqs)
	m.screen, m.focus = screenMain, focusList
	var reload tea.Cmd
	if m.list.hasNewer {
		// scrolled away: back to the newest rows, filter and search kept
		reload = m.list.load(loadTop)
	}
	m.list = m.list.prepend(msg.reqs)
	m.headerDirty = true
	m.flash, m.flashErr = fmt.Sprintf("submitted %s", plural(len(msg.reqs), "request")), false
	if len(msg.reqs) > 0 && !m.list.matches(msg.reqs[0]) {
		m.flash += " — hidden by the current filter or search (0 shows all states)"
	}
	m, sel := m.followSelection()
	return m, tea.Batch(reload, sel, m.spinCmd(), m.batchSummariesCmd(msg.reqs))
}
