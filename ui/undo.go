package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Delete and cancel act at once and offer an undo (u) for app.UndoWindow
// instead of asking first (issue 14 §6): the footer says
// "deleted 1 request · u undo (9 s)" until the window closes.

// undoOffer is the last delete or cancel, while it can be undone.
type undoOffer struct {
	action string // actionCancel | actionDelete
	id     string
	at     time.Time // when the action took effect (the dashboard's clock)
}

// undoLeft is how much of the undo window remains (0 when there is none).
func (m Model) undoLeft() time.Duration {
	if m.undo == nil {
		return 0
	}
	return max(app.UndoWindow-m.b.Clock.Now().Sub(m.undo.at), 0)
}

// undoStatus is the footer's line for an open undo window, "" otherwise.
func (m Model) undoStatus() string {
	left := m.undoLeft()
	if left <= 0 {
		return ""
	}
	done := "deleted 1 request"
	if m.undo.action == actionCancel {
		done = "cancelled 1 request"
	}
	secs := int((left + time.Second - 1) / time.Second) // 9.2 s left reads "10 s": never promise less than there is
	return fmt.Sprintf("%s · u undo (%d s)", done, secs)
}

// offerUndo opens the window after a delete or cancel succeeded. A cancel
// made while the request was sending cannot be undone (the store refuses:
// n8n may or may not have its POST), so none is offered.
func (m Model) offerUndo(msg actionDoneMsg) Model {
	if msg.action == actionCancel && msg.req.CancelledFrom == app.StatusSending {
		m.undo = nil
		m.flash, m.flashErr = "cancelled "+shortID(msg.id)+" (it was being sent, so this cannot be undone)", false
		return m
	}
	m.undo = &undoOffer{action: msg.action, id: msg.id, at: m.b.Clock.Now()}
	m.flash = "" // the undo line says what happened
	return m
}

// startUndo runs the undo of the open offer.
func (m Model) startUndo() (Model, tea.Cmd) {
	if m.undoLeft() <= 0 {
		m.undo = nil
		return m, nil
	}
	u := *m.undo
	m.undo = nil
	m.flash, m.flashErr = "undoing the "+u.action+" of "+shortID(u.id)+"…", false
	return m, undoCmd(m.ctx, m.b.Service, u.action, u.id)
}

func (m Model) handleUndone(msg undoneMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = "undo "+msg.action+" "+shortID(msg.id)+": "+errText(msg.err), true
		return m, nil
	}
	m.headerDirty = true
	if msg.action == actionDelete {
		m.flash, m.flashErr = fmt.Sprintf("restored %s (%s)", shortID(msg.id), statusLabel(msg.req.Status)), false
	} else {
		m.flash, m.flashErr = fmt.Sprintf("%s is %s again", shortID(msg.id), statusLabel(msg.req.Status)), false
		m.list, _, _ = m.list.patch(msg.req)
	}
	return m, tea.Batch(m.list.load(loadRefresh), m.spinCmd())
}
